/**
 * An organisation's point groups (seed 000 "Set of points"): per group its roles and, per
 * device model, the points it shows. Its manager saves them (PUT, whole); everyone else who
 * sees the organisation reads them. The server checks the rules and names the field it refuses.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { api, type ApiError } from '../../api/client';
import { useApi } from '../../api/hooks';
import {
  orgRoleSchema,
  type Account,
  type OrgView,
  type PointCatalogView,
  type PointGroupsBody,
  type PointGroupsView,
} from '@openbms/contract/api';
import { errorText } from '../../i18n/server-text';
import { Card, ErrorBox, Spinner } from '../../ui';
import './points.css';

type Group = PointGroupsBody['groups'][number];
type Role = Group['roles'][number];
const ANY = '*';

/** The points a group shows for a model: its own list, else the `*` list, else every point. */
export function shownFor(g: Group, model: string): string[] | undefined {
  return g.points[model] ?? (model !== ANY ? g.points[ANY] : undefined);
}

export default function PointGroupsPage(props: { id: string }): ReactNode {
  const { t, i18n } = useTranslation('points');
  const base = `/orgs/${encodeURIComponent(props.id)}`;
  const saved = useApi<PointGroupsView>(`${base}/point-groups`);
  const catalog = useApi<PointCatalogView>(`${base}/points`);
  const orgs = useApi<OrgView[]>('/orgs');
  const account = useApi<Account>('/auth/account');
  const [groups, setGroups] = useState<Group[] | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (saved.data)
      setGroups(
        saved.data.groups.map(({ name, kind, roles, points }) => ({ name, kind, roles, points })),
      );
  }, [saved.data]);
  // Only the organisation's own manager saves (the server decides all the same).
  const manager = !!account.data?.memberships.some(
    (m) => m.org_id === props.id && m.role === 'manager',
  );
  const org = orgs.data?.find((o) => o.id === props.id);
  const cat = catalog.data;

  const update = (i: number, g: Group) => {
    setNotice(undefined);
    setGroups((gs) => gs?.map((x, j) => (j === i ? g : x)));
  };
  const save = async () => {
    if (!groups) return;
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    try {
      const r = await api<PointGroupsView>(`${base}/point-groups`, {
        method: 'PUT',
        body: { groups },
      });
      setGroups(r.groups.map(({ name, kind, roles, points }) => ({ name, kind, roles, points })));
      setNotice(t('saved'));
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page" data-testid="point-groups" data-editable={manager || undefined}>
      <p>
        <Link href={base}>{t('back')}</Link>
      </p>
      <h1>{org ? t('title', { name: org.name }) : t('titleShort')}</h1>
      <p className="muted">{t('intro')}</p>
      {!manager && account.data && (
        <p className="muted" data-testid="points-read-only">
          {t('readOnly')}
        </p>
      )}
      <ErrorBox error={saved.error ?? catalog.error} />
      {(!groups || !cat) && !saved.error && !catalog.error && <Spinner />}
      {cat && cat.always_shown.length > 0 && (
        <p className="muted">{t('alwaysShown', { keys: cat.always_shown.join(', ') })}</p>
      )}
      {cat && cat.models.length === 0 && <p className="muted">{t('noPacks')}</p>}
      {groups &&
        cat &&
        groups.map((g, i) => (
          <GroupCard
            key={i}
            index={i}
            group={g}
            groups={groups}
            catalog={cat}
            editable={manager}
            onChange={(x) => update(i, x)}
            onRemove={() => setGroups(groups.filter((_, j) => j !== i))}
          />
        ))}
      {error && (
        <div className="error-box" role="alert" data-testid="points-error" data-field={error.field}>
          {error.field
            ? t('fieldError', { field: error.field, message: errorText(i18n, error) })
            : errorText(i18n, error)}
        </div>
      )}
      {notice && (
        <p className="notice" role="status" data-testid="points-notice">
          {notice}
        </p>
      )}
      {manager && groups && (
        <div className="point-actions">
          <button
            type="button"
            data-testid="add-group"
            disabled={groups.length >= 8}
            onClick={() =>
              setGroups([
                ...groups,
                {
                  name: `${t('newGroup')} ${groups.length}`,
                  kind: 'custom',
                  roles: [],
                  points: {},
                },
              ])
            }
          >
            {t('addGroup')}
          </button>
          <button
            type="button"
            className="primary"
            data-testid="save-points"
            disabled={busy}
            onClick={() => void save()}
          >
            {t('save')}
          </button>
        </div>
      )}
    </div>
  );
}

function GroupCard(props: {
  index: number;
  group: Group;
  groups: Group[];
  catalog: PointCatalogView;
  editable: boolean;
  onChange: (g: Group) => void;
  onRemove: () => void;
}): ReactNode {
  const { t } = useTranslation('points');
  const { t: to } = useTranslation('orgs');
  const g = props.group;
  const cat = props.catalog;
  const all = cat.points.map((p) => p.key);
  const { t: tf, i18n } = useTranslation('files');
  // The server's labels are English; in Chinese the export page's metric names where it has one.
  const zh = i18n.language.startsWith('zh');
  const label = new Map(
    cat.points.map((p) => {
      if (!zh || !i18n.exists(`files:metric.${p.key}`)) return [p.key, p.label];
      const name = tf(`metric.${p.key}`);
      return [p.key, p.unit ? `${name} (${p.unit})` : name];
    }),
  );
  const catModels = new Map(cat.models.map((m) => [m.model, m.points]));
  const models = [
    ANY,
    ...cat.models.map((m) => m.model).filter((m) => m !== ANY),
    ...Object.keys(g.points).filter((m) => m !== ANY && !catModels.has(m)),
  ];
  const taken = new Set(
    props.groups.filter((_, j) => j !== props.index).flatMap((x) => x.roles as Role[]),
  );
  const available = (model: string) => {
    const own = catModels.get(model);
    return own && model !== ANY ? all.filter((k) => own.includes(k)) : all;
  };
  const setList = (model: string, keys: Set<string>) => {
    const avail = new Set(available(model));
    // Points the list holds that this model's packs do not report are kept as they are.
    const kept = (shownFor(g, model) ?? []).filter((k) => !avail.has(k));
    const list = [...all.filter((k) => keys.has(k)), ...kept.filter((k) => !keys.has(k))];
    props.onChange({ ...g, points: { ...g.points, [model]: list } });
  };
  const groupId = `group-${props.index}`;
  return (
    <Card
      testId={groupId}
      title={
        props.editable && g.kind === 'custom' ? (
          <input
            aria-label={t('groupName')}
            data-testid={`${groupId}-name`}
            maxLength={50}
            value={g.name}
            onChange={(e) => props.onChange({ ...g, name: e.target.value })}
          />
        ) : (
          g.name
        )
      }
      actions={
        props.editable && g.kind === 'custom' ? (
          <button type="button" className="danger" onClick={props.onRemove}>
            {t('removeGroup')}
          </button>
        ) : undefined
      }
    >
      <fieldset className="point-model">
        <legend>{t('roles')}</legend>
        <div className="point-roles">
          {orgRoleSchema.enum
            .filter((r) => (g.kind === 'end_user' ? r === 'end_user' : r !== 'end_user'))
            .map((r) => (
              <label key={r}>
                <input
                  type="checkbox"
                  data-testid={`${groupId}-role-${r}`}
                  checked={(g.roles as Role[]).includes(r)}
                  disabled={!props.editable || g.kind === 'end_user' || taken.has(r)}
                  onChange={(e) =>
                    props.onChange({
                      ...g,
                      roles: e.target.checked
                        ? [...g.roles, r]
                        : (g.roles as Role[]).filter((x) => x !== r),
                    })
                  }
                />
                {to(`roles.${r}`)}
              </label>
            ))}
        </div>
      </fieldset>
      {models.map((m) => {
        const avail = available(m);
        const listed = shownFor(g, m);
        const shown = new Set(listed ?? avail);
        const count = avail.filter((k) => shown.has(k)).length;
        const mid = `${groupId}-model-${m === ANY ? 'any' : m}`;
        return (
          <fieldset key={m} className="point-model" data-testid={mid}>
            <legend>{m === ANY ? t('anyModel') : t('model', { model: m })}</legend>
            <div className="point-model-actions">
              <span className="muted" data-testid={`${mid}-count`}>
                {listed === undefined
                  ? t('allShown')
                  : t('assigned', { count, total: avail.length })}
              </span>
              {props.editable && (
                <>
                  <button
                    type="button"
                    data-testid={`${mid}-all`}
                    onClick={() => setList(m, new Set(avail))}
                  >
                    {t('selectAll')}
                  </button>
                  <button
                    type="button"
                    data-testid={`${mid}-none`}
                    onClick={() => setList(m, new Set())}
                  >
                    {t('selectNone')}
                  </button>
                </>
              )}
            </div>
            <div className="point-list">
              {avail.map((k) => (
                <label key={k}>
                  <input
                    type="checkbox"
                    data-testid={`${mid}-${k}`}
                    checked={shown.has(k)}
                    disabled={!props.editable}
                    onChange={(e) => {
                      const next = new Set(shown);
                      if (e.target.checked) next.add(k);
                      else next.delete(k);
                      setList(m, next);
                    }}
                  />
                  <span>
                    {label.get(k) ?? k} <code className="muted">{k}</code>
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
        );
      })}
    </Card>
  );
}
