/**
 * The device list (seed 002 EMS "Device / List", seed 003 "List"): filter tabs with their
 * counts, search by device no. or bar code (or scan it), one organisation's subtree, the
 * devices of lower-level organisations folded under them, keyset pages, import and export,
 * and per device (for a manager or administrator of its organisation): edit, bind, unbind;
 * selected devices are renewed (1 year, 2 years, lifetime) and each shows its renewals.
 */
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import type {
  Account,
  ApprovalView,
  DevicePageView,
  DeviceView,
  OrgView,
} from '@openbms/contract/api';
import { download } from '../../api/client';
import { useApi } from '../../api/hooks';
import { useFmt } from '../../i18n/format';
import { Badge, Card, ErrorBox, Spinner, Tabs } from '../../ui';
import { canManage, treeOrder } from './rights';
import { BindForm, EditForm, ImportForm, RegisterForm, UnbindForm } from './DeviceForms';
import { RenewForm, RenewalHistory } from './Renewals';
import { ScanButton } from './Scan';
import './devices.css';

const STATUSES = ['all', 'online', 'offline', 'expired', 'expiring', 'not_enabled'] as const;
type Status = (typeof STATUSES)[number];
const SIZES = [20, 50, 100] as const;

type Dialog =
  | { kind: 'register' | 'import' | 'renew' }
  | { kind: 'edit' | 'bind' | 'unbind' | 'renewals'; device: DeviceView }
  | undefined;

/** The query string of the list and the exports (without paging). */
export function filterQuery(status: Status, q: string, org: string): string {
  const p = new URLSearchParams({ status });
  if (q !== '') p.set('q', q);
  if (org !== '') p.set('org', org);
  return p.toString();
}

export default function DevicesPage(): ReactNode {
  const { t } = useTranslation('devices');
  const [status, setStatus] = useState<Status>('all');
  const [text, setText] = useState('');
  const [q, setQ] = useState('');
  const [org, setOrg] = useState('');
  const [limit, setLimit] = useState<number>(20);
  const [cursors, setCursors] = useState<string[]>([]);
  const [dialog, setDialog] = useState<Dialog>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const [lowerShown, setLowerShown] = useState(true);
  const [folded, setFolded] = useState<Set<string>>(new Set());
  /** The devices chosen for a renewal (kept across pages and filters until renewed). */
  const [selected, setSelected] = useState<Map<string, DeviceView>>(new Map());
  const select = (d: DeviceView, on: boolean) => {
    const next = new Map(selected);
    if (on) next.set(d.id, d);
    else next.delete(d.id);
    setSelected(next);
  };

  const filter = filterQuery(status, q, org);
  const cursor = cursors[cursors.length - 1];
  const list = useApi<DevicePageView>(
    `/devices?${filter}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
  );
  const orgs = useApi<OrgView[]>('/orgs');
  const account = useApi<Account>('/auth/account');
  const pending = useApi<ApprovalView[]>('/approvals?state=pending');

  const tree = useMemo(() => treeOrder(orgs.data ?? []), [orgs.data]);
  const manageable = tree.filter((o) => canManage(tree, account.data, o.id));
  const pendingIds = new Set((pending.data ?? []).map((a) => a.device_id));
  const own = new Set((account.data?.memberships ?? []).map((m) => m.org_id));

  const reload = () => {
    list.reload();
    pending.reload();
  };
  const restart = (f: () => void) => {
    f();
    setCursors([]);
  };
  const done = (msg: string) => {
    setDialog(undefined);
    setNotice(msg);
    reload();
  };

  // The page's devices, own organisations' first, then each lower organisation's, in tree order.
  const groups = useMemo(() => {
    const order = new Map(tree.map((o, i) => [o.id, i]));
    const byOrg = new Map<string, DeviceView[]>();
    for (const d of list.data?.devices ?? []) {
      const key = own.has(d.org_id) ? '' : d.org_id;
      byOrg.set(key, [...(byOrg.get(key) ?? []), d]);
    }
    return [...byOrg.entries()].sort(
      ([a], [b]) =>
        (a === '' ? -1 : (order.get(a) ?? 1e9)) - (b === '' ? -1 : (order.get(b) ?? 1e9)),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [list.data, tree, account.data]);

  const counts = list.data?.counts;
  return (
    <div className="page devices-page" data-testid="devices">
      <div className="page-head">
        <h1>{t('title')}</h1>
        <div className="toolbar">
          <Link href="/approvals">{t('inbox')}</Link>
          <Link href="/fleet-screen">{t('screen')}</Link>
        </div>
      </div>
      <p className="muted">{t('intro')}</p>
      <Tabs
        label={t('tabs.label')}
        value={status}
        onChange={(s) => restart(() => setStatus(s))}
        tabs={STATUSES.map((s) => ({
          id: s,
          label: (
            <span data-testid={`tab-${s}`}>
              {t(`tabs.${s}`)} <span className="tab-count">{counts ? counts[s] : ''}</span>
            </span>
          ),
        }))}
      />
      <form
        className="device-filter"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          restart(() => setQ(text.trim()));
        }}
      >
        <label className="field">
          <span className="sr-only">{t('search')}</span>
          <input
            type="search"
            name="q"
            placeholder={t('search')}
            aria-label={t('search')}
            maxLength={64}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        </label>
        <button type="submit" className="primary" data-testid="search">
          {t('searchButton')}
        </button>
        <ScanButton
          onCode={(c) => {
            setText(c);
            restart(() => setQ(c));
          }}
        />
        <button
          type="button"
          onClick={() =>
            restart(() => {
              setText('');
              setQ('');
              setOrg('');
              setStatus('all');
            })
          }
        >
          {t('reset')}
        </button>
        {tree.length > 1 && (
          <label className="field">
            <span className="sr-only">{t('org')}</span>
            <select
              aria-label={t('org')}
              value={org}
              onChange={(e) => restart(() => setOrg(e.target.value))}
              data-testid="org-filter"
            >
              <option value="">{t('allOrgs')}</option>
              {tree.map((o) => (
                <option key={o.id} value={o.id}>
                  {'\u00a0'.repeat(2 * (o.depth - (tree[0]?.depth ?? 0)))}
                  {o.name}
                </option>
              ))}
            </select>
          </label>
        )}
      </form>
      <div className="toolbar">
        {manageable.length > 0 && (
          <>
            <button
              type="button"
              className="primary"
              onClick={() => setDialog({ kind: 'register' })}
            >
              {t('register')}
            </button>
            <button
              type="button"
              onClick={() => setDialog({ kind: 'import' })}
              data-testid="import"
            >
              {t('import')}
            </button>
          </>
        )}
        {selected.size > 0 && (
          <button
            type="button"
            className="primary"
            onClick={() => setDialog({ kind: 'renew' })}
            data-testid="renew"
          >
            {t('renew.button', { count: selected.size })}
          </button>
        )}
        <button type="button" onClick={() => download(`/devices/export.csv?${filter}`)}>
          {t('exportCsv')}
        </button>
        <button type="button" onClick={() => download(`/devices/export.xlsx?${filter}`)}>
          {t('exportXlsx')}
        </button>
        {groups.some(([k]) => k !== '') && (
          <button
            type="button"
            aria-expanded={lowerShown}
            onClick={() => {
              setLowerShown(!lowerShown);
              setFolded(new Set());
            }}
            data-testid="fold-lower"
          >
            {lowerShown ? t('foldHide') : t('foldShow')}
          </button>
        )}
      </div>
      {notice && (
        <p className="notice" role="status" data-testid="device-notice">
          {notice}
        </p>
      )}
      <ErrorBox error={list.error} />
      {list.loading && !list.data && <Spinner />}
      {list.data && (
        <Card>
          {list.data.devices.length === 0 ? (
            <p data-testid="no-devices">{t('none')}</p>
          ) : (
            <div className="table-wrap">
              <table className="device-table">
                <thead>
                  <tr>
                    <th className="device-select">
                      <input
                        type="checkbox"
                        aria-label={t('selectPage')}
                        data-testid="select-page"
                        disabled={manageable.length === 0}
                        checked={
                          list.data.devices.length > 0 &&
                          list.data.devices.every((d) => selected.has(d.id))
                        }
                        onChange={(e) => {
                          const next = new Map(selected);
                          for (const d of list.data!.devices)
                            if (!e.target.checked) next.delete(d.id);
                            else if (canManage(tree, account.data, d.org_id)) next.set(d.id, d);
                          setSelected(next);
                        }}
                      />
                    </th>
                    <th>{t('col.serial')}</th>
                    <th>{t('col.nickname')}</th>
                    <th>{t('col.org')}</th>
                    <th>{t('col.activation')}</th>
                    <th>{t('col.run')}</th>
                    <th>{t('col.type')}</th>
                    <th>{t('col.model')}</th>
                    <th>{t('col.manufacturer')}</th>
                    <th>{t('col.produced')}</th>
                    <th>{t('col.joined')}</th>
                    <th>{t('col.creator')}</th>
                    <th>{t('col.actions')}</th>
                  </tr>
                </thead>
                {groups.map(([key, ds]) => {
                  const shown = key === '' || (lowerShown && !folded.has(key));
                  const name = ds[0]!.org_name;
                  return (
                    <tbody
                      key={key || 'own'}
                      data-testid={`group-${key ? ds[0]!.org_code : 'own'}`}
                    >
                      {key !== '' && (
                        <tr className="group-row">
                          <th colSpan={13} scope="rowgroup">
                            <button
                              type="button"
                              className="linkish"
                              aria-expanded={shown}
                              onClick={() => {
                                const next = new Set(folded);
                                if (!lowerShown) {
                                  setLowerShown(true);
                                  for (const [k] of groups) if (k !== key && k !== '') next.add(k);
                                  next.delete(key);
                                } else if (shown) next.add(key);
                                else next.delete(key);
                                setFolded(next);
                              }}
                            >
                              <span aria-hidden="true">{shown ? '▾' : '▸'}</span>{' '}
                              {t('groupOf', { name, count: ds.length })}
                            </button>
                          </th>
                        </tr>
                      )}
                      {shown &&
                        ds.map((d) => (
                          <DeviceRow
                            key={d.id}
                            d={d}
                            pending={pendingIds.has(d.id)}
                            manage={canManage(tree, account.data, d.org_id)}
                            selected={selected.has(d.id)}
                            onSelect={(on) => select(d, on)}
                            unbindable={
                              tree.find((o) => o.id === d.org_id)?.parent_id !== undefined
                            }
                            onDialog={setDialog}
                          />
                        ))}
                    </tbody>
                  );
                })}
              </table>
            </div>
          )}
          <div className="pager">
            <button
              type="button"
              disabled={cursors.length === 0}
              onClick={() => setCursors(cursors.slice(0, -1))}
            >
              {t('prev')}
            </button>
            <span data-testid="page-number">{t('pageOf', { page: cursors.length + 1 })}</span>
            <button
              type="button"
              disabled={list.data.next === undefined}
              onClick={() => setCursors([...cursors, list.data!.next!])}
              data-testid="next-page"
            >
              {t('next')}
            </button>
            <label className="field">
              <span>{t('perPage')}</span>
              <select
                value={limit}
                onChange={(e) => restart(() => setLimit(Number(e.target.value)))}
              >
                {SIZES.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
          </div>
        </Card>
      )}
      {dialog?.kind === 'register' && (
        <RegisterForm
          orgs={manageable}
          onClose={() => setDialog(undefined)}
          onDone={(d) => done(t('registered', { serial: d.serial }))}
        />
      )}
      {dialog?.kind === 'import' && (
        <ImportForm
          orgs={manageable}
          onClose={() => setDialog(undefined)}
          onDone={(n) => done(t('imported', { count: n }))}
        />
      )}
      {dialog?.kind === 'edit' && (
        <EditForm
          device={dialog.device}
          onClose={() => setDialog(undefined)}
          onDone={(d) => done(t('saved', { serial: d.serial }))}
        />
      )}
      {dialog?.kind === 'bind' && (
        <BindForm
          device={dialog.device}
          targets={manageable.filter((o) => o.id !== dialog.device.org_id)}
          onClose={() => setDialog(undefined)}
          onDone={(d) => done(t('bound', { serial: d.serial, org: d.org_name }))}
        />
      )}
      {dialog?.kind === 'renew' && (
        <RenewForm
          devices={[...selected.values()]}
          onClose={() => setDialog(undefined)}
          onDone={(r) => {
            setSelected(new Map());
            done(t('renew.done', { count: r.renewed.length }));
          }}
        />
      )}
      {dialog?.kind === 'renewals' && (
        <RenewalHistory device={dialog.device} onClose={() => setDialog(undefined)} />
      )}
      {dialog?.kind === 'unbind' && (
        <UnbindForm
          device={dialog.device}
          onClose={() => setDialog(undefined)}
          onDone={() => done(t('unbindAsked', { serial: dialog.device.serial }))}
        />
      )}
    </div>
  );
}

function DeviceRow(props: {
  d: DeviceView;
  pending: boolean;
  manage: boolean;
  unbindable: boolean;
  selected: boolean;
  onSelect: (on: boolean) => void;
  onDialog: (d: Dialog) => void;
}): ReactNode {
  const { t } = useTranslation('devices');
  const fmt = useFmt();
  const d = props.d;
  const col = (k: string) => ({ 'data-label': t(`col.${k}`) });
  return (
    <tr data-testid={`device-${d.serial}`}>
      <td className="device-select">
        {props.manage && (
          <input
            type="checkbox"
            aria-label={t('select', { serial: d.serial })}
            checked={props.selected}
            onChange={(e) => props.onSelect(e.target.checked)}
          />
        )}
      </td>
      <td {...col('serial')}>
        <code>{d.serial}</code>
        {d.type === 'tracker' && (
          <>
            {' '}
            <Link href={`/trackers/${encodeURIComponent(d.id)}`} data-testid="tracker-link">
              {t('trackers:mapLink')}
            </Link>
          </>
        )}
        {d.barcode && <div className="muted small">{d.barcode}</div>}
      </td>
      <td {...col('nickname')}>{d.nickname ?? ''}</td>
      <td {...col('org')} data-testid="device-org">
        {d.org_name}
      </td>
      <td {...col('activation')}>
        {d.expired ? (
          <Badge tone="bad">{t('activation.expired')}</Badge>
        ) : d.activation === 'enabled' ? (
          <Badge tone="ok">{t('activation.enabled')}</Badge>
        ) : (
          <Badge tone="muted">{t('activation.not_enabled')}</Badge>
        )}
        {d.expires_at !== undefined && !d.expired && (
          <div className="muted small">
            {t('activation.until', { date: fmt.date(d.expires_at) })}
          </div>
        )}
      </td>
      <td {...col('run')}>
        <Badge tone={d.online ? 'ok' : 'muted'}>{t(d.online ? 'run.online' : 'run.offline')}</Badge>
      </td>
      <td {...col('type')}>{t(`type.${d.type}`)}</td>
      <td {...col('model')}>{d.model ?? ''}</td>
      <td {...col('manufacturer')}>{d.manufacturer ?? ''}</td>
      <td {...col('produced')}>{d.produced_on ?? ''}</td>
      <td {...col('joined')}>{fmt.dateTime(d.joined_at)}</td>
      <td {...col('creator')}>{d.created_by}</td>
      <td {...col('actions')} className="device-actions">
        {props.pending && <Badge tone="warn">{t('pending')}</Badge>}
        <button type="button" onClick={() => props.onDialog({ kind: 'renewals', device: d })}>
          {t('renew.history')}
        </button>
        {props.manage && (
          <>
            <button type="button" onClick={() => props.onDialog({ kind: 'edit', device: d })}>
              {t('edit')}
            </button>
            {!props.pending && (
              <button type="button" onClick={() => props.onDialog({ kind: 'bind', device: d })}>
                {t('bind')}
              </button>
            )}
            {!props.pending && props.unbindable && (
              <button type="button" onClick={() => props.onDialog({ kind: 'unbind', device: d })}>
                {t('unbind')}
              </button>
            )}
          </>
        )}
      </td>
    </tr>
  );
}
