/**
 * Energy per day (30 days) or per month (12 months) of a pack or a parallel system, as a bar
 * chart: charged up, discharged down, from the server's energy route (the meters the gateway
 * stores with every sample, counted in the device's time; days in the site's zone). uPlot
 * draws the bars (the chart library of the history charts); the readout under it gives the
 * hovered period's figures (or the current period's) and the totals, and links download the
 * same figures as CSV or Excel. A shared module (the pack page and the parallel page show it),
 * loaded lazily with uPlot.
 */
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { EnergyPeriod, EnergyView } from '@openbms/contract/api';
import { apiPath } from '../api/client';
import { useApi } from '../api/hooks';
import { useFmt } from '../i18n/format';
import { ErrorBox } from '../ui';
import { cssVar, useThemeVersion, withAlpha } from '../ui/chart-theme';
import './energy.css';

interface Props {
  /** The energy route without its query: `/packs/<id>/energy` or `/sites/<site>/energy`. */
  path: string;
  /** Extra query of the route and the export (`bus=...` for a system), without `?`. */
  query?: string;
  /** Whose figures the export holds: `pack=<id>` or `site=<site>`. */
  exportTarget: string;
  title: ReactNode;
  testId: string;
  height?: number;
}

const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif';

/** A period's short label: "5 Dec" / "12/5" for a day, "Dec" / "12月" for a month. */
function periodLabel(locale: string, period: string): string {
  const [y, m, d] = period.split('-').map(Number);
  const at = new Date(Date.UTC(y!, (m ?? 1) - 1, d ?? 1));
  const opts: Intl.DateTimeFormatOptions =
    d === undefined
      ? { month: 'short', timeZone: 'UTC' }
      : { month: 'numeric', day: 'numeric', timeZone: 'UTC' };
  return new Intl.DateTimeFormat(locale, opts).format(at);
}

export default function EnergyChart(props: Props): ReactNode {
  const { t } = useTranslation('energy');
  const fmt = useFmt();
  const theme = useThemeVersion();
  const [period, setPeriod] = useState<EnergyPeriod>('day');
  const q = `period=${period}${props.query ? `&${props.query}` : ''}`;
  const r = useApi<EnergyView>(`${props.path}?${q}`);
  const data = r.data?.period === period ? r.data : undefined;
  const rows = useMemo(() => data?.total ?? [], [data]);
  const wrap = useRef<HTMLDivElement>(null);
  const [idx, setIdx] = useState<number | null>(null);
  const height = props.height ?? 220;
  const has = rows.some((x) => x.charged_kwh > 0 || x.discharged_kwh > 0);

  useEffect(() => {
    const el = wrap.current;
    if (!el || rows.length === 0) return;
    const muted = cssVar('--muted');
    const grid = cssVar('--border');
    const up = cssVar('--ok');
    const down = cssVar('--info');
    const axis: uPlot.Axis = {
      stroke: muted,
      font: FONT,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1, size: 4 },
    };
    const bars = uPlot.paths.bars!({ size: [0.7, 28], align: 0 });
    const labels = rows.map((x) => periodLabel(fmt.locale, x.period));
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      padding: [8, 12, 0, 0],
      scales: {
        x: { time: false, range: () => [-0.5, rows.length - 0.5] },
        y: {
          range: (_u, min, max) => {
            const lo = Math.min(0, min ?? 0);
            const hi = Math.max(0, max ?? 0);
            return hi === lo ? [-1, 1] : uPlot.rangeNum(lo, hi, 0.1, true);
          },
        },
      },
      series: [
        {},
        {
          label: t('charged'),
          stroke: up,
          fill: withAlpha(up, 0.8),
          width: 0,
          paths: bars,
          points: { show: false },
        },
        {
          label: t('discharged'),
          stroke: down,
          fill: withAlpha(down, 0.8),
          width: 0,
          paths: bars,
          points: { show: false },
        },
      ],
      axes: [
        {
          ...axis,
          space: 34,
          size: 32,
          // A label per bar where they fit (about 40 px each), always today's / this month's.
          splits: (u) => {
            const n = rows.length;
            const step = Math.max(
              1,
              Math.ceil((n * 40) / Math.max(40, u.bbox.width / devicePixelRatio)),
            );
            return rows.map((_x, i) => i).filter((i) => (n - 1 - i) % step === 0);
          },
          values: (_u, ticks) => ticks.map((v) => labels[v] ?? ''),
          grid: { show: false },
        },
        {
          ...axis,
          label: 'kWh',
          labelSize: 18,
          size: (_u, values) =>
            values ? Math.max(36, 12 + 7 * Math.max(...values.map((v) => v.length))) : 40,
          // Discharged bars go down: their ticks read as magnitudes, with the decimals the
          // tick step needs (0.25 -> 2).
          values: (_u, ticks) => {
            const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
            let d = 0;
            while (d < 3 && Math.abs(step * 10 ** d - Math.round(step * 10 ** d)) > 1e-6) d++;
            return ticks.map((v) => fmt.num(Math.abs(v), d));
          },
        },
      ],
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      hooks: { setCursor: [(u) => setIdx(u.cursor.idx ?? null)] },
    };
    const u = new uPlot(
      opts,
      [rows.map((_x, i) => i), rows.map((x) => x.charged_kwh), rows.map((x) => -x.discharged_kwh)],
      el,
    );
    let frame = 0;
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const w = Math.max(200, el.clientWidth);
        if (w !== u.width) u.setSize({ width: w, height });
      });
    });
    ro.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      ro.disconnect();
      u.destroy();
      setIdx(null);
    };
  }, [rows, height, theme, fmt, t]);

  const at = rows[idx ?? rows.length - 1];
  const sum = (k: 'charged_kwh' | 'discharged_kwh') => rows.reduce((a, x) => a + x[k], 0);
  const href = (format: 'csv' | 'xlsx') =>
    apiPath(`/exports/energy/${format}?${props.exportTarget}&${q}`);

  return (
    <section
      className="card energy"
      data-testid={props.testId}
      data-periods={rows.length}
      data-period={data?.period ?? ''}
      data-charged={data ? sum('charged_kwh').toFixed(3) : ''}
      data-discharged={data ? sum('discharged_kwh').toFixed(3) : ''}
    >
      <header className="card-head">
        <h2>{props.title}</h2>
        <div className="card-actions">
          <div className="e-segment" role="group" aria-label={t('range')}>
            {(['day', 'month'] as const).map((p) => (
              <button
                key={p}
                type="button"
                aria-pressed={period === p}
                data-testid={`energy-${p}`}
                onClick={() => setPeriod(p)}
              >
                {t(p === 'day' ? 'days' : 'months')}
              </button>
            ))}
          </div>
          <a className="e-download" href={href('csv')} download data-testid="energy-csv">
            {t('csv')}
          </a>
          <a className="e-download" href={href('xlsx')} download data-testid="energy-xlsx">
            {t('xlsx')}
          </a>
        </div>
      </header>
      <ErrorBox error={r.error} />
      {data && !has && <p className="muted e-empty">{t('empty')}</p>}
      <div
        ref={wrap}
        className="e-plot"
        role="img"
        aria-label={t('describe', { unit: t(period === 'day' ? 'unitDay' : 'unitMonth') })}
      />
      {at && (
        <div className="e-readout" data-testid="energy-readout" aria-live="off">
          <span className="e-period">{at.period}</span>
          <span className="energy-up">
            {t('charged')} {fmt.unit(at.charged_kwh, 'kWh', 2)}
          </span>
          <span className="energy-down">
            {t('discharged')} {fmt.unit(at.discharged_kwh, 'kWh', 2)}
          </span>
          <span className="muted">
            {t('total')}: ↑ {fmt.unit(sum('charged_kwh'), 'kWh', 1)} · ↓{' '}
            {fmt.unit(sum('discharged_kwh'), 'kWh', 1)}
          </span>
          <span className="muted">{t('zone', { zone: data?.time_zone })}</span>
        </div>
      )}
    </section>
  );
}
