/**
 * Seed 001's file manager: one CSV per pack and day of the site's time zone, shown a month at a time, with
 * download (any role) and delete (operator and up, as the API demands; the confirmation
 * names the pack and the day), the free space of the data disk, and the bulk actions on
 * what the filter shows: one zip of every file, and delete all (typed confirmation).
 */
import {
  ZIP_MAX_DAYS,
  type DailyFile,
  type DayDeleted,
  type DiskView,
} from '@openbms/contract/api';
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, apiPath } from '../../api/client';
import { useAction, useApi } from '../../api/hooks';
import { usePacks } from '../../api/live';
import { useAuth } from '../../app/auth';
import { useFmt } from '../../i18n/format';
import { Card, Confirm, ErrorBox, Spinner } from '../../ui';
import { deletePath, useBulkDelete, type BulkState } from './bulk';
import { DiskFree } from './DiskFree';
import { DownloadLink } from './ExportCard';
import { sizeText } from './size';

/** Calendar days from the first to the last date of `files`, both counted (0 for none). */
export function daysSpanned(files: readonly { date: string }[]): number {
  if (files.length === 0) return 0;
  let first = files[0]!.date;
  let last = first;
  for (const f of files) {
    if (f.date < first) first = f.date;
    if (f.date > last) last = f.date;
  }
  return Math.round((Date.parse(last) - Date.parse(first)) / 86_400_000) + 1;
}

/** Last day of a `YYYY-MM` month, as `YYYY-MM-DD`. */
function monthEnd(m: string): string {
  const [y, mo] = m.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, mo, 0)).toISOString().slice(0, 10);
}

/** The zip of exactly the files a filter shows (pack: '' = all, month: '' = all). */
export function zipPath(pack: string, month: string): string {
  const q = new URLSearchParams();
  if (pack !== '') q.set('pack', pack);
  if (month !== '') {
    q.set('from', `${month}-01`);
    q.set('to', monthEnd(month));
  }
  const s = q.toString();
  return apiPath(`/exports/daily.zip${s ? `?${s}` : ''}`);
}

export function DailyFiles(): ReactNode {
  const { t } = useTranslation('files');
  const fmt = useFmt();
  const { can } = useAuth();
  const packs = usePacks();
  const list = useApi<DailyFile[]>('/exports/daily');
  const disk = useApi<DiskView>('/exports/disk');
  const [packFilter, setPackFilter] = useState('');
  const [month, setMonth] = useState<string | undefined>(undefined);
  const [victim, setVictim] = useState<DailyFile | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const del = useAction((f: DailyFile) => api<DayDeleted>(deletePath(f), { method: 'DELETE' }));
  const bulk = useBulkDelete();
  const [bulkVictims, setBulkVictims] = useState<DailyFile[] | undefined>(undefined);
  const reload = () => {
    list.reload();
    disk.reload();
  };

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
  const busy = bulk.state.running || del.pending;
  const tooMany = daysSpanned(shown) > ZIP_MAX_DAYS;
  const bulkText = (files: readonly DailyFile[]): BulkSummary => {
    const ids = [...new Set(files.map((f) => f.pack_id))];
    const dates = [...new Set(files.map((f) => f.date))].sort();
    return {
      ids,
      packs: new Intl.ListFormat(fmt.locale, { type: 'conjunction' }).format(ids.map(name)),
      n: fmt.num(files.length),
      days: fmt.num(dates.length),
      first: dates[0] ?? '',
      last: dates[dates.length - 1] ?? '',
      rows: fmt.num(files.reduce((s, f) => s + f.samples, 0)),
    };
  };
  const bulkResult = (s: BulkState): string =>
    t(s.stopped ? 'bulk.stopped' : 'bulk.done', {
      deleted: fmt.num(s.deleted),
      total: fmt.num(s.total),
      rows: fmt.num(s.removed),
    });

  return (
    <Card
      title={t('daily.title')}
      testId="daily"
      actions={
        <button type="button" onClick={reload} disabled={list.loading || busy}>
          {t('common:refresh')}
        </button>
      }
    >
      <p className="muted">{t('daily.help')}</p>
      <DiskFree disk={disk} />
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
      {bulk.state.running ? (
        <div className="f-progress" role="status" data-testid="bulk-progress">
          <label>
            <span>
              {t('bulk.progress', {
                done: fmt.num(bulk.state.done),
                total: fmt.num(bulk.state.total),
                file: bulk.state.current
                  ? `${name(bulk.state.current.pack_id)} ${bulk.state.current.date}`
                  : '',
              })}
            </span>
            <progress max={bulk.state.total} value={bulk.state.done} />
          </label>
          <button type="button" onClick={bulk.stop} data-testid="bulk-stop">
            {t('bulk.stop')}
          </button>
        </div>
      ) : (
        notice && (
          <p className="notice" role="status" data-testid="daily-notice">
            {notice}
          </p>
        )
      )}
      {!bulk.state.running && bulk.state.failed.length > 0 && (
        <div className="error-box" role="alert" data-testid="bulk-failed">
          <p>{t('bulk.failed', { n: fmt.num(bulk.state.failed.length) })}</p>
          <ul className="f-issues">
            {bulk.state.failed.map(({ file, message }) => (
              <li key={`${file.pack_id}/${file.date}`}>
                {name(file.pack_id)} {file.date}: {message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {list.loading && !list.data ? (
        <Spinner />
      ) : shown.length === 0 ? (
        <p className="muted">{t('daily.none')}</p>
      ) : (
        <>
          <div className="f-bulk">
            <p className="muted" data-testid="daily-summary">
              {t('daily.summary', { n: fmt.num(shown.length), size: sizeText(fmt, total) })}
            </p>
            <div className="f-actions">
              <DownloadLink
                href={tooMany || busy ? undefined : zipPath(packFilter, shownMonth)}
                testId="daily-download-all"
                label={t('bulk.downloadLabel', { n: fmt.num(shown.length) })}
              >
                {t('bulk.download')}
              </DownloadLink>
              {can('operator') && (
                <button
                  type="button"
                  className="f-delete"
                  data-testid="daily-delete-all"
                  disabled={busy}
                  aria-label={t('bulk.deleteLabel', { n: fmt.num(shown.length) })}
                  onClick={() => {
                    setNotice(undefined);
                    del.reset();
                    bulk.reset();
                    setBulkVictims(shown);
                  }}
                >
                  {t('bulk.delete')}
                </button>
              )}
            </div>
          </div>
          {tooMany && (
            <p className="muted f-note" data-testid="zip-cap">
              {t('bulk.zipCap', { max: fmt.num(ZIP_MAX_DAYS) })}
            </p>
          )}
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
                            disabled={busy}
                            aria-label={t('daily.deleteLabel', label(f))}
                            onClick={() => {
                              setNotice(undefined);
                              del.reset();
                              bulk.reset();
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
          reload();
        }}
      >
        {victim && (
          <p data-testid="delete-text">
            {t('daily.deleteBody', { ...label(victim), rows: fmt.num(victim.samples) })}
          </p>
        )}
      </Confirm>
      <BulkConfirm
        files={bulkVictims}
        text={bulkText}
        name={name}
        onCancel={() => setBulkVictims(undefined)}
        onConfirm={async () => {
          const files = bulkVictims;
          setBulkVictims(undefined);
          if (!files) return;
          const s = await bulk.run(files);
          setNotice(bulkResult(s));
          reload();
        }}
      />
    </Card>
  );
}

/** What a bulk delete covers, formatted for the reader. */
interface BulkSummary {
  ids: string[];
  /** The pack names as a list ("Rack 1, Rack 2 and JK pack"). */
  packs: string;
  n: string;
  days: string;
  first: string;
  last: string;
  rows: string;
}

/**
 * The confirmation of "Delete all shown": it names the pack(s), the number of days and
 * files and the date span; the pack's name (one pack) or the number of files (several)
 * must be typed.
 */
function BulkConfirm(props: {
  files: DailyFile[] | undefined;
  text: (files: readonly DailyFile[]) => BulkSummary;
  name: (id: string) => string;
  onCancel: () => void;
  onConfirm: () => void;
}): ReactNode {
  const { t } = useTranslation('files');
  const f = props.files;
  const x = f ? props.text(f) : undefined;
  const one = x !== undefined && x.ids.length === 1;
  return (
    <Confirm
      open={f !== undefined}
      danger
      title={t('bulk.title', { n: x?.n ?? '' })}
      confirmLabel={t('bulk.confirm', { n: x?.n ?? '' })}
      typeToConfirm={x === undefined ? undefined : one ? props.name(x.ids[0]!) : String(f!.length)}
      onCancel={props.onCancel}
      onConfirm={props.onConfirm}
    >
      {x && (
        <p data-testid="bulk-delete-text">
          {t(x.first === x.last ? 'bulk.bodyOneDay' : 'bulk.body', {
            packs: x.packs,
            n: x.n,
            days: x.days,
            first: x.first,
            last: x.last,
            rows: x.rows,
          })}
        </p>
      )}
    </Confirm>
  );
}
