/**
 * One plant: its fields (edited and deleted with the admin rank in the owner), its collectors
 * each with a dropdown of its batteries (seed 000: "click the dropdown of the collector, then
 * the BMS") linking to the pack pages, its remote collectors (added by serial number and claim
 * code or QR code: RemoteCollectors.tsx) and its visitors. A visitor sees it read-only.
 */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'wouter';
import { api, packPath, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import type {
  GatewayView,
  CollectorView,
  OrgView,
  PlantPatchBody,
  PlantView,
  VisitorView,
} from '@openbms/contract/api';
import { useFmt } from '../../i18n/format';
import { Badge, Card, Confirm, ErrorBox, Spinner } from '../../ui';
import { Field, FormErrorBox } from '../../ui/fields';
import { PlantForm, toBody } from './PlantForm';
import { RemoteCollectors } from './RemoteCollectors';
import './plants.css';

export default function PlantPage(props: { id: string }): ReactNode {
  const { t } = useTranslation('plants');
  const [, navigate] = useLocation();
  const base = `/plants/${encodeURIComponent(props.id)}`;
  const plant = useApi<PlantView>(base);
  const orgs = useApi<OrgView[]>('/orgs');
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [deleting, setDeleting] = useState(false);
  // A claimed or revoked remote collector changes the plant's collectors: load them again.
  const [collectorsTick, setCollectorsTick] = useState(0);
  const p = plant.data;

  if (plant.error?.status === 404)
    return (
      <div className="page">
        <p>{t('notFound')}</p>
        <Link href="/plants">{t('back')}</Link>
      </div>
    );
  if (!p)
    return (
      <div className="page">{plant.error ? <ErrorBox error={plant.error} /> : <Spinner />}</div>
    );
  const admin = p.access === 'admin';
  const owner = orgs.data?.find((o) => o.id === p.org_id);
  return (
    <div className="page" data-testid="plant" data-access={p.access}>
      <p>
        <Link href="/plants">{t('back')}</Link>
      </p>
      <h1>{p.name}</h1>
      {p.access === 'visitor' && (
        <p className="muted" data-testid="plant-read-only">
          {t('readOnly')}
        </p>
      )}
      {notice && (
        <p className="notice" role="status" data-testid="plant-notice">
          {notice}
        </p>
      )}
      {!editing && <ErrorBox error={error} />}
      <Card
        title={t('details')}
        testId="plant-details"
        actions={
          admin && !editing ? (
            <button type="button" data-testid="plant-edit" onClick={() => setEditing(true)}>
              {t('edit')}
            </button>
          ) : undefined
        }
      >
        {editing ? (
          <PlantForm
            initial={p}
            error={error}
            submitLabel={t('save')}
            extra={
              <button type="button" onClick={() => (setEditing(false), setError(undefined))}>
                {t('cancel')}
              </button>
            }
            onSubmit={async (d) => {
              setError(undefined);
              const b = toBody(d);
              const body: PlantPatchBody = { ...b };
              if (b.lat === undefined && b.lon === undefined && p.lat !== undefined) {
                body.lat = null;
                body.lon = null;
              }
              try {
                await api(base, { method: 'PATCH', body });
                setEditing(false);
                setNotice(t('saved'));
                plant.reload();
              } catch (e) {
                setError(e as ApiError);
              }
            }}
          />
        ) : (
          <dl className="plant-facts">
            <dt>{t('owner')}</dt>
            <dd data-testid="plant-owner-name">{owner?.name ?? p.org_id}</dd>
            <dt>{t('businessType')}</dt>
            <dd>{t(`businessTypes.${p.business_type}`)}</dd>
            <dt>{t('plantType')}</dt>
            <dd data-testid="plant-type">{t(`plantTypes.${p.plant_type}`)}</dd>
            <dt>{t('location')}</dt>
            <dd>{p.lat !== undefined && p.lon !== undefined ? `${p.lat}, ${p.lon}` : '—'}</dd>
            <dt>{t('timeZone')}</dt>
            <dd>{p.time_zone}</dd>
            <dt>{t('access')}</dt>
            <dd>{t(`accessLevels.${p.access}`)}</dd>
          </dl>
        )}
      </Card>
      <RemoteCollectors
        plantId={p.id}
        admin={admin}
        onChange={() => setCollectorsTick((n) => n + 1)}
      />
      <Collectors key={collectorsTick} base={base} admin={admin} />
      {p.access !== 'visitor' && <Visitors base={base} admin={admin} />}
      {admin && (
        <p>
          <button
            type="button"
            className="danger"
            data-testid="plant-delete"
            title={t('deleteHint')}
            onClick={() => setDeleting(true)}
          >
            {t('delete')}
          </button>
        </p>
      )}
      <Confirm
        open={deleting}
        title={t('deleteConfirm', { name: p.name })}
        confirmLabel={t('delete')}
        danger
        onCancel={() => setDeleting(false)}
        onConfirm={async () => {
          setDeleting(false);
          setError(undefined);
          try {
            await api(base, { method: 'DELETE' });
            navigate('/plants');
          } catch (e) {
            setError(e as ApiError);
          }
        }}
      >
        <p className="muted">{t('deleteHint')}</p>
      </Confirm>
    </div>
  );
}

function Collectors(props: { base: string; admin: boolean }): ReactNode {
  const { t } = useTranslation('plants');
  const path = `${props.base}/collectors`;
  const list = useApi<CollectorView[]>(path);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [detaching, setDetaching] = useState<CollectorView | undefined>(undefined);
  const label = (c: CollectorView) => c.name ?? c.serial ?? c.gateway_id;
  return (
    <Card title={t('collectors')} testId="collectors">
      <ErrorBox error={list.error} />
      {list.loading && !list.data && <Spinner />}
      {list.data && list.data.length === 0 && <p>{t('noCollectors')}</p>}
      {list.data && list.data.length > 0 && (
        <ul className="collector-list">
          {list.data.map((c) => (
            <li key={c.gateway_id} data-testid={`collector-${c.gateway_id}`}>
              <details>
                <summary>
                  <span className="collector-name">{label(c)}</span>{' '}
                  <Badge tone={c.online ? 'ok' : 'muted'}>
                    {c.online ? t('online') : t('offline')}
                  </Badge>{' '}
                  <span className="muted">{t('batteries', { count: c.packs.length })}</span>
                </summary>
                <p className="muted collector-meta">
                  {t('gateway')}: <code>{c.gateway_id}</code>
                  {c.serial !== undefined && (
                    <>
                      {' · '}
                      {t('serial')}: {c.serial}
                    </>
                  )}
                </p>
                {c.packs.length === 0 ? (
                  <p className="muted">{t('noBatteries')}</p>
                ) : (
                  <ul className="collector-packs" data-testid="collector-packs">
                    {c.packs.map((b) => (
                      <li key={b.id}>
                        <Link href={`${packPath(b.id)}/status`}>{b.name ?? b.id}</Link>{' '}
                        <span className="muted">
                          {[b.protocol, b.bus, b.address]
                            .filter((x) => x !== undefined)
                            .join(' · ')}
                        </span>{' '}
                        {!b.online && <Badge tone="muted">{t('offline')}</Badge>}
                      </li>
                    ))}
                  </ul>
                )}
                {props.admin && (
                  <button type="button" className="danger" onClick={() => setDetaching(c)}>
                    {t('detach')}
                  </button>
                )}
              </details>
            </li>
          ))}
        </ul>
      )}
      <ErrorBox error={error} />
      {props.admin && <AttachCollector path={path} onAttached={list.reload} />}
      <Confirm
        open={detaching !== undefined}
        title={detaching ? t('detachConfirm', { name: label(detaching) }) : ''}
        confirmLabel={t('detach')}
        danger
        onCancel={() => setDetaching(undefined)}
        onConfirm={async () => {
          const c = detaching;
          setDetaching(undefined);
          if (!c) return;
          setError(undefined);
          try {
            await api(`${path}/${encodeURIComponent(c.gateway_id)}`, { method: 'DELETE' });
            list.reload();
          } catch (e) {
            setError(e as ApiError);
          }
        }}
      />
    </Card>
  );
}

function AttachCollector(props: { path: string; onAttached: () => void }): ReactNode {
  const { t } = useTranslation('plants');
  const [gateway, setGateway] = useState('');
  const [name, setName] = useState('');
  const [serial, setSerial] = useState('');
  // The gateways I administer, offered as I type (GET /gateways); any id may still be typed.
  const gateways = useApi<GatewayView[]>('/gateways');
  const mine = (gateways.data ?? []).filter((g) => g.manage);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  return (
    <form
      className="plant-inline-form"
      data-testid="attach-collector"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        setDone(undefined);
        try {
          const c = await api<CollectorView>(props.path, {
            body: {
              gateway_id: gateway.trim(),
              ...(name.trim() ? { name: name.trim() } : {}),
              ...(serial.trim() ? { serial: serial.trim() } : {}),
            },
          });
          setDone(t('attached', { name: c.name ?? c.gateway_id }));
          setGateway('');
          setName('');
          setSerial('');
          props.onAttached();
        } catch (err) {
          setError(err as ApiError);
        }
      }}
    >
      <h3>{t('attach')}</h3>
      <Field
        label={t('gateway')}
        field="gateway_id"
        error={error}
        autoComplete="off"
        maxLength={64}
        list="plant-gateways"
        value={gateway}
        onChange={(e) => setGateway(e.target.value)}
        required
      />
      <datalist id="plant-gateways">
        {mine.map((g) => (
          <option key={g.id} value={g.id}>
            {g.sites.map((x) => x.name).join(', ')} ({t('packCount', { count: g.packs })})
          </option>
        ))}
      </datalist>
      <Field
        label={t('collectorName')}
        field="name"
        error={error}
        maxLength={100}
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <Field
        label={t('serial')}
        field="serial"
        error={error}
        maxLength={64}
        value={serial}
        onChange={(e) => setSerial(e.target.value)}
      />
      <FormErrorBox error={error} fields={['gateway_id', 'name', 'serial']} />
      {done && (
        <p className="notice" role="status">
          {done}
        </p>
      )}
      <button type="submit" className="primary" data-testid="attach-submit">
        {t('attachButton')}
      </button>
    </form>
  );
}

function Visitors(props: { base: string; admin: boolean }): ReactNode {
  const { t } = useTranslation('plants');
  const fmt = useFmt();
  const path = `${props.base}/visitors`;
  const list = useApi<VisitorView[]>(path);
  const [email, setEmail] = useState('');
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [removing, setRemoving] = useState<VisitorView | undefined>(undefined);
  const who = (v: VisitorView) => v.email ?? v.username;
  return (
    <Card title={t('visitors')} testId="visitors">
      <p className="muted">{t('visitorsIntro')}</p>
      <ErrorBox error={list.error} />
      {list.data && list.data.length === 0 && <p>{t('noVisitors')}</p>}
      {list.data && list.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>{t('user')}</th>
                <th>{t('email')}</th>
                <th>{t('since')}</th>
                {props.admin && <th />}
              </tr>
            </thead>
            <tbody>
              {list.data.map((v) => (
                <tr key={v.user_id} data-testid={`visitor-${v.username}`}>
                  <td>{v.username}</td>
                  <td>{v.email ?? ''}</td>
                  <td>{fmt.dateTime(v.created_at)}</td>
                  {props.admin && (
                    <td>
                      <button type="button" className="danger" onClick={() => setRemoving(v)}>
                        {t('remove')}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {notice && (
        <p className="notice" role="status" data-testid="visitor-notice">
          {notice}
        </p>
      )}
      {props.admin && (
        <form
          className="plant-inline-form"
          data-testid="share-plant"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(undefined);
            setNotice(undefined);
            try {
              const v = await api<VisitorView>(path, { body: { email: email.trim() } });
              setNotice(t('shared', { user: who(v) }));
              setEmail('');
              list.reload();
            } catch (err) {
              setError(err as ApiError);
            }
          }}
        >
          <Field
            label={t('email')}
            field="email"
            error={error}
            type="email"
            autoComplete="off"
            maxLength={254}
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
          />
          <FormErrorBox error={error} fields={['email']} />
          <button type="submit" className="primary" data-testid="share-submit">
            {t('share')}
          </button>
        </form>
      )}
      <Confirm
        open={removing !== undefined}
        title={removing ? t('removeConfirm', { user: who(removing) }) : ''}
        confirmLabel={t('remove')}
        danger
        onCancel={() => setRemoving(undefined)}
        onConfirm={async () => {
          const v = removing;
          setRemoving(undefined);
          if (!v) return;
          setError(undefined);
          try {
            await api(`${path}/${encodeURIComponent(v.user_id)}`, { method: 'DELETE' });
            list.reload();
          } catch (err) {
            setError(err as ApiError);
          }
        }}
      />
    </Card>
  );
}
