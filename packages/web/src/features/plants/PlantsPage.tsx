/**
 * The plants I see (GET /plants: my organisations' and those shared with me), with search and
 * a type filter, and a plant made where I have the admin rank (the server decides all the same).
 */
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import {
  plantTypeSchema,
  type Account,
  type OrgView,
  type PlantCreate,
  type PlantView,
} from '@openbms/contract/api';
import { Card, ErrorBox, Spinner } from '../../ui';
import { PlantForm, toBody, type PlantDraft } from './PlantForm';
import './plants.css';

export default function PlantsPage(): ReactNode {
  const { t } = useTranslation('plants');
  const plants = useApi<PlantView[]>('/plants');
  const orgs = useApi<OrgView[]>('/orgs');
  const account = useApi<Account>('/auth/account');
  const [q, setQ] = useState('');
  const [type, setType] = useState('');
  const orgName = useMemo(() => {
    const m = new Map((orgs.data ?? []).map((o) => [o.id, o.name]));
    return (id: string) => m.get(id) ?? '';
  }, [orgs.data]);
  const owners = manageable(orgs.data ?? [], account.data);
  const needle = q.trim().toLowerCase();
  const shown = (plants.data ?? []).filter(
    (p) =>
      (type === '' || p.plant_type === type) &&
      (needle === '' ||
        p.name.toLowerCase().includes(needle) ||
        orgName(p.org_id).toLowerCase().includes(needle)),
  );
  return (
    <div className="page" data-testid="plants">
      <h1>{t('title')}</h1>
      <p className="muted">{t('intro')}</p>
      <ErrorBox error={plants.error} />
      {plants.loading && !plants.data && <Spinner />}
      {plants.data && (
        <Card>
          <div className="plant-filters">
            <label className="field">
              <span>{t('search')}</span>
              <input
                type="search"
                data-testid="plant-search"
                placeholder={t('searchPlaceholder')}
                value={q}
                onChange={(e) => setQ(e.target.value)}
              />
            </label>
            <label className="field">
              <span>{t('plantType')}</span>
              <select
                data-testid="plant-type-filter"
                value={type}
                onChange={(e) => setType(e.target.value)}
              >
                <option value="">{t('common:all')}</option>
                {plantTypeSchema.enum.map((k) => (
                  <option key={k} value={k}>
                    {t(`plantTypes.${k}`)}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {plants.data.length === 0 ? (
            <p>{t('none')}</p>
          ) : shown.length === 0 ? (
            <p>{t('noMatch')}</p>
          ) : (
            <div className="table-wrap">
              <table className="plant-list">
                <thead>
                  <tr>
                    <th>{t('name')}</th>
                    <th>{t('owner')}</th>
                    <th>{t('businessType')}</th>
                    <th>{t('plantType')}</th>
                    <th>{t('timeZone')}</th>
                    <th>{t('access')}</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((p) => (
                    <tr key={p.id} data-testid={`plant-${p.name}`}>
                      <td>
                        <Link href={`/plants/${encodeURIComponent(p.id)}`}>{p.name}</Link>
                      </td>
                      <td>{orgName(p.org_id)}</td>
                      <td>{t(`businessTypes.${p.business_type}`)}</td>
                      <td>{t(`plantTypes.${p.plant_type}`)}</td>
                      <td>{p.time_zone}</td>
                      <td>{t(`accessLevels.${p.access}`)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
      )}
      {owners.length > 0 && <CreatePlant owners={owners} onCreated={plants.reload} />}
    </div>
  );
}

/**
 * The organisations where I have the admin rank (a manager or administrator of it or of one
 * above it), which may own a plant I create. The console only hides what the server would
 * refuse; the server decides (policy.ts).
 */
export function manageable(orgs: readonly OrgView[], account: Account | undefined): OrgView[] {
  if (!account) return [];
  const admin = new Set(
    account.memberships
      .filter((m) => m.role === 'manager' || m.role === 'administrator')
      .map((m) => m.org_id),
  );
  const byId = new Map(orgs.map((o) => [o.id, o]));
  const ranked = (o: OrgView | undefined): boolean =>
    o !== undefined && (admin.has(o.id) || (!!o.parent_id && ranked(byId.get(o.parent_id))));
  return orgs.filter((o) => ranked(o));
}

function CreatePlant(props: { owners: OrgView[]; onCreated: () => void }): ReactNode {
  const { t } = useTranslation('plants');
  // A customer holds plants: offer one first when I manage any.
  const first = props.owners.find((o) => o.kind === 'customer') ?? props.owners[0]!;
  const [orgId, setOrgId] = useState(first.id);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const [key, setKey] = useState(0);
  return (
    <Card title={t('create')} testId="create-plant">
      <PlantForm
        key={key}
        error={error}
        submitLabel={t('createButton')}
        owner={
          <label className="field">
            <span>{t('owner')}</span>
            <select
              name="org_id"
              data-testid="plant-owner"
              value={orgId}
              aria-invalid={error?.field === 'org_id' || undefined}
              onChange={(e) => setOrgId(e.target.value)}
            >
              {props.owners.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name} ({o.code})
                </option>
              ))}
            </select>
          </label>
        }
        onSubmit={async (d: PlantDraft) => {
          setError(undefined);
          setDone(undefined);
          try {
            const body: PlantCreate = { org_id: orgId, ...toBody(d) };
            const p = await api<PlantView>('/plants', { body });
            setDone(t('created', { name: p.name }));
            setKey((k) => k + 1);
            props.onCreated();
          } catch (e) {
            setError(e as ApiError);
          }
        }}
      />
      {done && (
        <p className="notice" role="status" data-testid="plant-created">
          {done}
        </p>
      )}
    </Card>
  );
}
