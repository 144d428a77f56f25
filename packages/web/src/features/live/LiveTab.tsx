/**
 * The pack's Live tab: seed 004's real-time data table. A row per reading as the live
 * socket brings it (no polling of our own), the columns a person reads (time in the site's
 * zone, pack V / I, SOC, cells from 1, temperatures, state...), pause / resume, clear, a row
 * cap stated on screen, and the rows saved as CSV or Excel.
 */
import { useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { TabProps } from '../../app/pack-tab';
import { useFmt } from '../../i18n/format';
import { useTopology } from '../../site/hooks';
import { Card } from '../../ui';
import { columnsOf, download, toCsv, toXlsx, wallClock, wallText, type Labels } from './export';
import { CAPS, packLog, type FixedKey } from './log';
import './live.css';

/** Rows in the DOM at most (newest first); the saved files have every row of the log. */
const SHOWN = 200;

function hostZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const stamp = (wall: number): string => wallText(wall).replace(/[-: ]/g, '').slice(0, 14);

export default function LiveTab(props: TabProps): ReactNode {
  const { t } = useTranslation('live');
  const fmt = useFmt();
  const log = useMemo(() => packLog(props.pack.id), [props.pack.id]);
  const s = useSyncExternalStore(log.subscribe, log.state);
  const { sites } = useTopology();
  const zone = sites.find((x) => x.id === props.pack.site)?.time_zone ?? hostZone();
  const wall = useMemo(() => wallClock(zone), [zone]);

  const labels: Labels = useMemo(
    () => ({
      name: (k: FixedKey) => t(`col.${k}`),
      short: (k: FixedKey) => t(`short.${k}`),
      text: (k: FixedKey, v: string) =>
        k === 'state'
          ? v === 'fault'
            ? t('pack:status.fault')
            : t(`common:state.${v}`)
          : t(v === 'on' ? 'on' : 'off'),
      cell: (n: number) => t('cell', { n: String(n).padStart(2, '0') }),
      temp: (n: number) => t('temp', { n }),
    }),
    [t],
  );
  const cols = useMemo(() => columnsOf(s.rows, labels), [s.rows, labels]);
  const shown = useMemo(() => s.rows.slice(-SHOWN).reverse(), [s.rows]);
  const base = `openbms-live-${props.pack.id.replace(/[^A-Za-z0-9_-]+/g, '_')}-${stamp(wall(Date.now()))}`;

  const saveCsv = (): void =>
    download(`${base}.csv`, 'text/csv;charset=utf-8', `\uFEFF${toCsv(s.rows, cols, zone)}`);
  const saveXlsx = (): void =>
    download(
      `${base}.xlsx`,
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      toXlsx(s.rows, cols, zone, props.pack.name) as Uint8Array<ArrayBuffer>,
    );

  return (
    <Card title={t('title')} testId="live-log" className="live-log">
      <p className="muted small">{t('intro')}</p>
      <div className="live-bar">
        <button
          type="button"
          data-testid="live-pause"
          aria-pressed={s.paused}
          onClick={() => log.setPaused(!s.paused)}
        >
          {s.paused ? t('resume') : t('pause')}
        </button>
        <button type="button" data-testid="live-clear" onClick={() => log.clear(Date.now())}>
          {t('clear')}
        </button>
        <button
          type="button"
          data-testid="live-csv"
          disabled={s.rows.length === 0}
          onClick={saveCsv}
        >
          {t('saveCsv')}
        </button>
        <button
          type="button"
          data-testid="live-xlsx"
          disabled={s.rows.length === 0}
          onClick={saveXlsx}
        >
          {t('saveXlsx')}
        </button>
        <label className="live-cap">
          <span>{t('cap')}</span>
          <select
            value={s.cap}
            data-testid="live-cap"
            onChange={(e) => log.setCap(Number(e.target.value))}
          >
            {CAPS.map((c) => (
              <option key={c} value={c}>
                {t('capRows', { n: fmt.num(c) })}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p className="muted small" data-testid="live-cap-hint">
        {t('capHint', { cap: fmt.num(s.cap) })}
      </p>
      <p
        className="small"
        role="status"
        data-testid="live-status"
        data-rows={s.rows.length}
        data-seen={s.seen}
        data-paused={s.paused}
      >
        {t('recording', { since: wallText(wall(s.since)), count: s.rows.length })} ·{' '}
        {t('zone', { zone })}
        {s.paused && (
          <>
            {' '}
            <strong className="tone-warn">{t('paused', { skipped: s.skipped })}</strong>
          </>
        )}
        {s.dropped > 0 && <> {t('dropped', { count: s.dropped })}</>}
      </p>
      {s.rows.length === 0 ? (
        <p className="muted">{t('empty')}</p>
      ) : (
        <>
          {s.rows.length > SHOWN && (
            <p className="muted small">{t('shown', { shown: SHOWN, count: s.rows.length })}</p>
          )}
          <div className="table-wrap live-wrap">
            <table className="live-table" data-testid="live-table">
              <thead>
                <tr>
                  <th className="live-time">{t('time')}</th>
                  {cols.map((c) => (
                    <th key={c.id} className="num" title={c.heading}>
                      {c.short}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr key={r.seq} data-testid="live-row" data-ts={r.ts}>
                    <td className="live-time">{wallText(wall(r.ts)).slice(5)}</td>
                    {cols.map((c) => {
                      const v = c.value(r);
                      return (
                        <td key={c.id} className="num">
                          {typeof v === 'number' ? fmt.num(v, c.decimals) : (v ?? '—')}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Card>
  );
}
