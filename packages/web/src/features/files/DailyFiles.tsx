/**
 * Seed 001's file manager: one CSV per pack and UTC day, shown a month at a time, with
 * download (any role) and delete (operator and up, as the API demands; the confirmation
 * names the pack and the day).
 */
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { useAction, useApi } from '../../api/hooks';
import { usePacks } from '../../api/live';
import { useAuth } from '../../app/auth';
import { useFmt } from '../../i18n/format';
import { Card, Confirm, ErrorBox, Spinner } from '../../ui';
import { DownloadLink } from './ExportCard';

export interface DailyFile {
  pack_id: string;
  date: string;
  samples: number;
  bytes: number;
  url: string;
}

const API_PREFIX = '/api/v1';

/** "12.3 kB" / "1.2 MB" in the reader's number format. */
export function sizeText(fmt: ReturnType<typeof useFmt>, bytes: number): string {
  if (bytes < 1000) return fmt.unit(bytes, 'B');
  if (bytes < 1e6) return fmt.unit(bytes / 1000, 'kB', 1);
  if (bytes < 1e9) return fmt.unit(bytes / 1e6, 'MB', 1);
  return fmt.unit(bytes / 1e9, 'GB', 2);
}

export function DailyFiles(): ReactNode {
  const { t } = useTranslation('files');
  const fmt = useFmt();
  const { can } = useAuth();
  const packs = usePacks();
  const list = useApi<DailyFile[]>('/exports/daily');
  const [packFilter, setPackFilter] = useState('');
  const [month, setMonth] = useState<string | undefined>(undefined);
  const [victim, setVictim] = useState<DailyFile | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const del = useAction((f: DailyFile) =>
    api<{ ok: boolean; deleted: number }>(f.url.slice(API_PREFIX.length), { method: 'DELETE' }),
  );

  const name = (id: string) => packs.find((p) => p.id === id)?.name ?? id;
  const files = useMemo(() => list.data ?? [], [list.data]);
  const months = useMemo(
    () => [...new Set(files.map((f) => f.date.slice(0, 7)))].sort().reverse(),
    [files],
  );
  const packIds = useMemo(
    () => [...new Set([...files.map((f) => f.pack_id), ...packs.map((p) => p.id)])].sort(),
    [files, packs],
  );
  // The newest month is shown first (as on the dongle); "all" lists every month.
  const shownMonth = month ?? months[0] ?? '';
  const shown = files
    .filter((f) => (packFilter === '' || f.pack_id === packFilter) && f.date.startsWith(shownMonth))
    .sort((a, b) => b.date.localeCompare(a.date) || name(a.pack_id).localeCompare(name(b.pack_id)));
  const total = shown.reduce((s, f) => s + f.bytes, 0);
  const monthName = (m: string) =>
    new Intl.DateTimeFormat(fmt.locale, { year: 'numeric', month: 'long', timeZone: 'UTC' }).format(
      Date.parse(`${m}-01T00:00:00Z`),
    );
  const label = (f: DailyFile) => ({ pack: name(f.pack_id), date: f.date });

  return (
    <Card
      title={t('daily.title')}
      testId="daily"
      actions={
        <button type="button" onClick={list.reload} disabled={list.loading}>
          {t('common:refresh')}
        </button>
      }
    >
      <p className="muted">{t('daily.help')}</p>
      <div className="f-row">
        <label className="field">
          <span>{t('daily.pack')}</span>
          <select
            data-testid="daily-pack"
            value={packFilter}
            onChange={(e) => setPackFilter(e.target.value)}
          >
            <option value="">{t('daily.allPacks')}</option>
            {packIds.map((id) => (
              <option key={id} value={id}>
                {name(id) === id ? id : `${name(id)} (${id})`}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t('daily.month')}</span>
          <select
            data-testid="daily-month"
            value={shownMonth}
            onChange={(e) => setMonth(e.target.value)}
          >
            <option value="">{t('daily.allMonths')}</option>
            {months.map((m) => (
              <option key={m} value={m}>
                {monthName(m)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={list.error} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {list.loading && !list.data ? (
        <Spinner />
      ) : shown.length === 0 ? (
        <p className="muted">{t('daily.none')}</p>
      ) : (
        <>
          <p className="muted" data-testid="daily-summary">
            {t('daily.summary', { n: fmt.num(shown.length), size: sizeText(fmt, total) })}
          </p>
          <div className="table-wrap">
            <table className="f-table">
              <thead>
                <tr>
                  <th scope="col">{t('daily.pack')}</th>
                  <th scope="col">{t('daily.date')}</th>
                  <th scope="col" className="num">
                    {t('daily.rows')}
                  </th>
                  <th scope="col" className="num">
                    {t('daily.size')}
                  </th>
                  <th scope="col">{t('daily.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((f) => (
                  <tr
                    key={`${f.pack_id}/${f.date}`}
                    data-testid="daily-row"
                    data-pack={f.pack_id}
                    data-date={f.date}
                  >
                    <td className="f-pack">
                      {name(f.pack_id)}
                      {name(f.pack_id) !== f.pack_id && (
                        <div className="muted f-id">{f.pack_id}</div>
                      )}
                    </td>
                    <td data-label={t('daily.date')}>{f.date}</td>
                    <td className="num" data-label={t('daily.rows')}>
                      {fmt.num(f.samples)}
                    </td>
                    <td className="num" data-label={t('daily.size')}>
                      {sizeText(fmt, f.bytes)}
                    </td>
                    <td className="f-actions-cell">
                      <div className="f-actions">
                        <DownloadLink
                          href={f.url}
                          testId="daily-download"
                          label={t('daily.downloadLabel', label(f))}
                        >
                          {t('common:download')}
                        </DownloadLink>
                        {can('operator') && (
                          <button
                            type="button"
                            className="f-delete"
                            data-testid="daily-delete"
                            aria-label={t('daily.deleteLabel', label(f))}
                            onClick={() => {
                              setNotice(undefined);
                              del.reset();
                              setVictim(f);
                            }}
                          >
                            {t('common:delete')}
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {!can('operator') && <p className="muted">{t('daily.viewerNote')}</p>}
        </>
      )}
      <ErrorBox error={del.error} />
      <Confirm
        open={victim !== undefined}
        danger
        title={t('daily.deleteTitle')}
        confirmLabel={t('common:delete')}
        onCancel={() => setVictim(undefined)}
        onConfirm={async () => {
          const f = victim;
          setVictim(undefined);
          if (!f) return;
          const r = await del.run(f);
          if (r) setNotice(t('daily.deleted', { ...label(f), n: fmt.num(r.deleted) }));
          list.reload();
        }}
      >
        {victim && (
          <p data-testid="delete-text">
            {t('daily.deleteBody', { ...label(victim), rows: fmt.num(victim.samples) })}
          </p>
        )}
      </Confirm>
    </Card>
  );
}
