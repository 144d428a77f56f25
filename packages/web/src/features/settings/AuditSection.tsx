/** The audit log: who did what, when, on which pack, old -> new, and how it went. */
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'wouter';
import { packPath } from '../../api/client';
import { useApi } from '../../api/hooks';
import { usePacks } from '../../api/live';
import { useFmt } from '../../i18n/format';
import { Badge, Card, ErrorBox, Spinner } from '../../ui';
import type { AuditView } from '@openbms/contract/api';

/** A compact one-line view of an old/new value ({role: "viewer"} -> "role: viewer"). */
export function compact(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return v.map(compact).join(', ');
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${k}: ${typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x)}`)
    .join(', ');
}

const LIMITS = [50, 100, 500];
const LONG = 140;

/** An old/new value; a long one shows its start and opens to the whole. */
function Value(props: { v: unknown; className: string }): ReactNode {
  const text = compact(props.v);
  if (text.length <= LONG) return <span className={props.className}>{text}</span>;
  return (
    <details className={`${props.className} long-value`}>
      <summary>{`${text.slice(0, LONG)}…`}</summary>
      <span>{text}</span>
    </details>
  );
}

export function AuditSection(): ReactNode {
  const { t, i18n } = useTranslation('settings');
  const fmt = useFmt();
  const packs = usePacks();
  const [user, setUser] = useState('');
  const [pack, setPack] = useState('');
  const [limit, setLimit] = useState(100);
  const q = new URLSearchParams({ limit: String(limit) });
  if (user.trim()) q.set('user', user.trim());
  if (pack) q.set('pack', pack);
  const audit = useApi<AuditView[]>(`/audit?${q.toString()}`);
  const name = (id: string) => packs.find((p) => p.id === id)?.name ?? id;
  const actionLabel = (a: string) => {
    const key = `audit.actions.${a.replace(/\./g, '_')}`;
    return i18n.exists(`settings:${key}`) ? t(key) : a;
  };
  return (
    <div className="section-body" data-testid="section-audit">
      <Card
        title={t('audit.title')}
        actions={
          <button
            type="button"
            onClick={audit.reload}
            disabled={audit.loading}
            data-testid="audit-refresh"
          >
            {t('common:refresh')}
          </button>
        }
      >
        <p className="muted">{t('audit.intro')}</p>
        <div className="toolbar">
          <label className="field inline">
            <span>{t('audit.user')}</span>
            <input
              value={user}
              onChange={(e) => setUser(e.target.value)}
              data-testid="audit-user"
            />
          </label>
          <label className="field inline">
            <span>{t('audit.pack')}</span>
            <select value={pack} onChange={(e) => setPack(e.target.value)}>
              <option value="">{t('common:all')}</option>
              {packs.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
          <label className="field inline">
            <span>{t('audit.limit')}</span>
            <select value={limit} onChange={(e) => setLimit(Number(e.target.value))}>
              {LIMITS.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
          </label>
        </div>
        {audit.loading && !audit.data && <Spinner />}
        <ErrorBox error={audit.error} />
        {audit.data && audit.data.length === 0 && <p className="muted">{t('audit.empty')}</p>}
        {audit.data && audit.data.length > 0 && (
          <div className="table-wrap">
            <table data-testid="audit-table" className="audit-table stack-table">
              <thead>
                <tr>
                  <th>{t('audit.when')}</th>
                  <th>{t('audit.who')}</th>
                  <th>{t('audit.pack')}</th>
                  <th>{t('audit.action')}</th>
                  <th>{t('audit.change')}</th>
                  <th>{t('audit.result')}</th>
                </tr>
              </thead>
              <tbody>
                {audit.data.map((e) => (
                  <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                    <td data-label={t('audit.when')} className="nowrap">
                      {fmt.dateTime(e.at)}
                    </td>
                    <td data-label={t('audit.who')}>{e.user}</td>
                    <td data-label={t('audit.pack')}>
                      {e.pack_id ? <Link href={packPath(e.pack_id)}>{name(e.pack_id)}</Link> : ''}
                    </td>
                    <td data-label={t('audit.action')}>
                      {actionLabel(e.action)}
                      {actionLabel(e.action) !== e.action && (
                        <div className="muted small mono">{e.action}</div>
                      )}
                    </td>
                    <td data-label={t('audit.change')} className="change">
                      {e.old !== undefined && <Value v={e.old} className="old" />}
                      {e.old !== undefined && e.new !== undefined && (
                        <span aria-hidden="true"> → </span>
                      )}
                      {e.old !== undefined && e.new !== undefined && (
                        <span className="sr-only">{t('audit.to')}</span>
                      )}
                      {e.new !== undefined && <Value v={e.new} className="new" />}
                    </td>
                    <td data-label={t('audit.result')}>
                      <Badge
                        tone={e.result === 'ok' ? 'ok' : e.result === 'refused' ? 'warn' : 'bad'}
                      >
                        {t(`audit.results.${e.result}`)}
                      </Badge>
                      {e.detail && <div className="muted small">{e.detail}</div>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}
