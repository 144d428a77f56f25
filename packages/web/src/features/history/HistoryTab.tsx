/**
 * A pack's history (seed 001's Battery and Monitor tabs): per-cell voltages (every cell, or
 * the spread max - min), SOC, the power flow (charging above zero, discharging below) and
 * the temperatures, for a preset or custom range. The server picks the tier (raw or a
 * 1 min / 15 min / 1 h rollup, at most ~2,000 points per series); rollups also draw the
 * min-max band. The time the cell chart takes from data to first draw is recorded as the
 * `history-render` performance measure.
 */
import {
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { useTranslation } from 'react-i18next';
import { packPath } from '../../api/client';
import { useApi } from '../../api/hooks';
import type { HistoryView, Snapshot } from '@openbms/contract/api';
import { useFmt } from '../../i18n/format';
import { Badge, ErrorBox } from '../../ui';
import type { TabProps } from '../../app/pack-tab';
import {
  align,
  envelope,
  hasPoints,
  hasSpread,
  indexed,
  powerOf,
  spread,
  splitPower,
  type Aligned,
} from './data';
import { ChartGroup } from './group';
import './history.css';
import {
  PRESETS,
  fromLocalInput,
  presetRange,
  toLocalInput,
  type PresetId,
  type Range,
} from './range';
import { seriesVar } from './theme';
import { TimeChart, type ChartSpec, type Line } from './TimeChart';

const EXTRA_TEMPS = ['mos_temp_c', 'board_temp_c', 'env_temp_c'] as const;
const EXTRA_LABEL: Record<(typeof EXTRA_TEMPS)[number], string> = {
  mos_temp_c: 'temps.mos',
  board_temp_c: 'temps.board',
  env_temp_c: 'temps.env',
};

/** The series to ask for, from what the pack reports (a bare `cell_mv` means every cell). */
function fieldsFor(s: Snapshot | null): string {
  const has = (k: string) => s === null || (s as Record<string, unknown>)[k] !== undefined;
  const f = ['cell_mv', 'temps_c', 'soc_pct', 'power_w'];
  if (s !== null && !has('power_w')) f.push('voltage_v', 'current_a');
  for (const k of EXTRA_TEMPS) if (s !== null && has(k)) f.push(k);
  return f.join(',');
}

function useNarrow(): boolean {
  const q = '(max-width: 640px)';
  const [narrow, setNarrow] = useState(() => window.matchMedia(q).matches);
  useEffect(() => {
    const mq = window.matchMedia(q);
    const f = () => setNarrow(mq.matches);
    mq.addEventListener('change', f);
    return () => mq.removeEventListener('change', f);
  }, []);
  return narrow;
}

/** Band of the group of series when the answer holds ranges (rollups, folded raw). */
function bandOf(a: Aligned, label: string, color: string): ChartSpec['band'] {
  if (!hasSpread(a.min, a.max)) return undefined;
  return { ...envelope(a.min, a.max, a.x.length), color, label };
}

type Hidden = Record<string, ReadonlySet<string>>;
const TIERS = ['auto', 'raw', '1m', '15m', '1h'] as const;
type TierChoice = (typeof TIERS)[number];

export default function HistoryTab(props: TabProps): ReactNode {
  const { t } = useTranslation('history');
  const fmt = useFmt();
  const narrow = useNarrow();
  const { pack } = props;
  const [preset, setPreset] = useState<PresetId | 'custom'>('24h');
  const [range, setRange] = useState<Range>(() => presetRange('24h'));
  const [custom, setCustom] = useState(() => ({
    from: toLocalInput(range.from),
    to: toLocalInput(range.to),
  }));
  const [customError, setCustomError] = useState<string | undefined>(undefined);
  const [cellView, setCellView] = useState<'all' | 'delta'>('all');
  const [hidden, setHidden] = useState<Hidden>({});
  const [tier, setTier] = useState<TierChoice>('auto');

  const fields = fieldsFor(pack.snapshot);
  const path =
    `${packPath(pack.id)}/history?from=${range.from}&to=${range.to}` +
    `&fields=${encodeURIComponent(fields)}&resolution=${tier}`;
  const { data, error, loading, reload } = useApi<HistoryView>(path);

  // An empty answer for a range that reaches now is asked again when the pack's next
  // sample arrives over the live socket (a new install shows its first points at once).
  const seen = pack.last_seen;
  const prevSeen = useRef(seen);
  const waiting =
    data !== undefined &&
    Object.values(data.series).every((x) => x.t.length === 0) &&
    range.to >= Date.now() - 60_000;
  useEffect(() => {
    if (seen === prevSeen.current) return;
    prevSeen.current = seen;
    if (!waiting || loading) return;
    if (preset === 'custom') reload();
    else setRange(presetRange(preset));
  }, [seen, waiting, loading, preset, reload]);

  // When the data arrived (the render measure runs from here to the cell chart's first draw).
  const start = useRef<number | undefined>(undefined);
  const group = useMemo(() => {
    start.current = performance.now();
    return data ? new ChartGroup(data.from, data.to) : undefined;
  }, [data]);
  const zoomed = useSyncExternalStore(group?.subscribe ?? noSubscribe, group?.zoomed ?? noZoom);

  const cells = useMemo(() => {
    if (!data) return undefined;
    const keys = indexed(data, 'cell_mv');
    return { keys, a: align(data, keys) };
  }, [data]);

  const cellSpec = useMemo((): ChartSpec | undefined => {
    if (!cells) return undefined;
    const { keys, a } = cells;
    if (cellView === 'delta') {
      return {
        x: a.x,
        unit: 'mV',
        decimals: 0,
        lines: [
          {
            key: 'spread',
            label: t('cells.spread'),
            color: '--accent',
            values: spread(a.avg, a.x.length),
            fill: 0.15,
            fillTo: 0,
          },
        ],
        yRange: (min, max) => [Math.min(0, min), max],
      };
    }
    return {
      x: a.x,
      unit: 'mV',
      decimals: 0,
      lines: keys.map((k, i): Line => ({
        key: k,
        label: t('cells.cell', { n: i + 1 }),
        color: seriesVar(i),
        values: a.avg[i]!,
      })),
      band: bandOf(a, t('band'), '--muted'),
    };
  }, [cells, cellView, t]);

  const socSpec = useMemo((): ChartSpec | undefined => {
    if (!data) return undefined;
    const a = align(data, ['soc_pct']);
    return {
      x: a.x,
      unit: '%',
      decimals: 1,
      lines: [
        { key: 'soc_pct', label: t('soc.line'), color: '--info', values: a.avg[0]!, fill: 0.12 },
      ],
      band: bandOf(a, t('band'), '--info'),
      yRange: (min, max) => [Math.min(0, min), Math.max(100, max)],
    };
  }, [data, t]);

  const powerSpec = useMemo((): ChartSpec | undefined => {
    if (!data) return undefined;
    let a: Aligned;
    let p: (number | null)[];
    if (hasPoints(data, 'power_w') || !hasPoints(data, 'voltage_v')) {
      a = align(data, ['power_w']);
      p = a.avg[0]!;
    } else {
      a = align(data, ['voltage_v', 'current_a']);
      p = powerOf(a.avg[0]!, a.avg[1]!);
      a = { ...a, min: [p], max: [p] };
    }
    const { charge, discharge } = splitPower(p);
    return {
      x: a.x,
      unit: 'W',
      decimals: 0,
      lines: [
        {
          key: 'charge',
          label: t('power.charge'),
          color: '--ok',
          values: charge,
          fill: 0.3,
          fillTo: 0,
        },
        {
          key: 'discharge',
          label: t('power.discharge'),
          color: '--warn',
          values: discharge,
          fill: 0.3,
          fillTo: 0,
          magnitude: true,
        },
      ],
      band: bandOf({ ...a, min: a.min.slice(0, 1), max: a.max.slice(0, 1) }, t('band'), '--muted'),
      yRange: (min, max) => [Math.min(0, min), Math.max(0, max)],
    };
  }, [data, t]);

  const tempSpec = useMemo((): ChartSpec | undefined => {
    if (!data) return undefined;
    const sensors = indexed(data, 'temps_c');
    const extra = EXTRA_TEMPS.filter((k) => hasPoints(data, k));
    const keys = [...sensors, ...extra];
    const a = align(data, keys);
    return {
      x: a.x,
      unit: '°C',
      decimals: 1,
      lines: keys.map((k, i): Line => ({
        key: k,
        label:
          i < sensors.length
            ? t('temps.sensor', { n: i + 1 })
            : t(EXTRA_LABEL[k as (typeof EXTRA_TEMPS)[number]]),
        color: seriesVar(i),
        values: a.avg[i]!,
      })),
      band: bandOf(a, t('band'), '--muted'),
    };
  }, [data, t]);

  const toggle = useCallback(
    (chart: string) => (key: string) =>
      setHidden((h) => {
        const s = new Set(h[chart]);
        if (s.has(key)) s.delete(key);
        else s.add(key);
        return { ...h, [chart]: s };
      }),
    [],
  );
  const setAll = (chart: string, keys: string[]) =>
    setHidden((h) => ({ ...h, [chart]: new Set(keys) }));

  const choose = (id: PresetId) => {
    setPreset(id);
    setRange(presetRange(id));
  };
  const applyCustom = () => {
    const from = fromLocalInput(custom.from);
    const to = fromLocalInput(custom.to);
    if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
      setCustomError(t('invalidRange'));
      return;
    }
    setCustomError(undefined);
    setRange({ from, to });
  };

  const onCellDrawn = () => {
    if (start.current === undefined) return;
    performance.measure('history-render', { start: start.current, end: performance.now() });
    start.current = undefined;
  };

  const describe = (title: string) =>
    t('describe', {
      title,
      from: fmt.dateTime(data?.from),
      to: fmt.dateTime(data?.to),
    });
  const height = narrow ? 200 : 260;
  const cellLines = cellSpec && cellView === 'all' ? cellSpec.lines : [];

  return (
    <div className="history" data-testid="history">
      <div className="h-bar">
        <div className="h-presets" role="group" aria-label={t('range.label')}>
          {PRESETS.map((p) => (
            <button
              key={p.id}
              type="button"
              aria-pressed={preset === p.id}
              data-testid={`range-${p.id}`}
              onClick={() => choose(p.id)}
            >
              {t(`range.${p.id}`)}
            </button>
          ))}
          <button
            type="button"
            aria-pressed={preset === 'custom'}
            data-testid="range-custom"
            onClick={() => {
              setPreset('custom');
              setCustom({ from: toLocalInput(range.from), to: toLocalInput(range.to) });
            }}
          >
            {t('range.custom')}
          </button>
        </div>
        <label className="h-tier">
          <span>{t('resolution')}</span>
          <select
            data-testid="tier"
            value={tier}
            onChange={(e) => setTier(e.target.value as TierChoice)}
          >
            {TIERS.map((x) => (
              <option key={x} value={x}>
                {x === 'auto' ? t('auto') : t(`tier.${x}`)}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          onClick={() => (preset === 'custom' ? reload() : choose(preset))}
          disabled={loading}
        >
          {t('common:refresh')}
        </button>
        {zoomed && (
          <>
            <button type="button" onClick={() => group?.reset()} data-testid="reset-zoom">
              {t('resetZoom')}
            </button>
            <button
              type="button"
              data-testid="zoom-detail"
              onClick={() => {
                const r = { from: Math.floor(zoomed.min), to: Math.ceil(zoomed.max) };
                setPreset('custom');
                setCustom({ from: toLocalInput(r.from), to: toLocalInput(r.to) });
                setRange(r);
              }}
            >
              {t('zoomDetail')}
            </button>
          </>
        )}
      </div>
      {preset === 'custom' && (
        <form
          className="h-custom h-bar"
          onSubmit={(e) => {
            e.preventDefault();
            applyCustom();
          }}
        >
          <label className="field">
            <span>{t('from')}</span>
            <input
              type="datetime-local"
              data-testid="custom-from"
              value={custom.from}
              onChange={(e) => setCustom({ ...custom, from: e.target.value })}
              aria-invalid={customError !== undefined}
              required
            />
          </label>
          <label className="field">
            <span>{t('to')}</span>
            <input
              type="datetime-local"
              data-testid="custom-to"
              value={custom.to}
              onChange={(e) => setCustom({ ...custom, to: e.target.value })}
              aria-invalid={customError !== undefined}
              required
            />
          </label>
          <button type="submit" className="primary" data-testid="custom-apply">
            {t('show')}
          </button>
        </form>
      )}
      <ErrorBox error={customError ?? error} />
      {data && (
        <div className="h-status h-bar">
          <span>
            {fmt.dateTime(data.from)} – {fmt.dateTime(data.to)}
          </span>
          <span data-testid="history-resolution" data-tier={data.resolution}>
            {t('tierUsed')}:{' '}
            <Badge tone={data.resolution === 'raw' ? 'ok' : 'info'}>
              {t(`tier.${data.resolution}`)}
            </Badge>
          </span>
          <span className="muted">{t('points', { n: fmt.num(cells?.a.x.length ?? 0) })}</span>
          {loading && <span className="muted">{t('common:loading')}</span>}
          <span className="muted">{t('zoomHint')}</span>
        </div>
      )}
      {!data && loading && <p className="muted">{t('common:loading')}</p>}
      {data && group && cellSpec && socSpec && powerSpec && tempSpec && (
        <div className="h-charts">
          <div className="h-wide">
            <TimeChart
              testId="chart-cells"
              title={t('cells.title')}
              spec={cellSpec}
              group={group}
              height={narrow ? 260 : 340}
              hidden={hidden[cellView === 'all' ? 'cells' : 'delta'] ?? EMPTY}
              onToggle={toggle(cellView === 'all' ? 'cells' : 'delta')}
              onDrawn={onCellDrawn}
              description={describe(t('cells.title'))}
              emptyText={t('empty')}
              summary={
                cellView === 'all'
                  ? (i) => (
                      <CellSummary a={cells!.a} hidden={hidden.cells} keys={cells!.keys} i={i} />
                    )
                  : undefined
              }
              actions={
                <>
                  <div className="h-segment" role="group" aria-label={t('cells.view')}>
                    <button
                      type="button"
                      aria-pressed={cellView === 'all'}
                      data-testid="view-all"
                      onClick={() => setCellView('all')}
                    >
                      {t('cells.all')}
                    </button>
                    <button
                      type="button"
                      aria-pressed={cellView === 'delta'}
                      data-testid="view-delta"
                      onClick={() => setCellView('delta')}
                    >
                      {t('cells.delta')}
                    </button>
                  </div>
                  {cellView === 'all' && cellLines.length > 0 && (
                    <>
                      <button type="button" onClick={() => setAll('cells', [])}>
                        {t('cells.showAll')}
                      </button>
                      <button
                        type="button"
                        onClick={() =>
                          setAll(
                            'cells',
                            cellLines.map((l) => l.key),
                          )
                        }
                      >
                        {t('cells.hideAll')}
                      </button>
                    </>
                  )}
                </>
              }
            />
          </div>
          <TimeChart
            testId="chart-soc"
            title={t('soc.title')}
            spec={socSpec}
            group={group}
            height={height}
            hidden={hidden.soc ?? EMPTY}
            onToggle={toggle('soc')}
            description={describe(t('soc.title'))}
            emptyText={t('empty')}
          />
          <TimeChart
            testId="chart-power"
            title={
              <>
                {t('power.title')} <small>({t('power.hint')})</small>
              </>
            }
            spec={powerSpec}
            group={group}
            height={height}
            hidden={hidden.power ?? EMPTY}
            onToggle={toggle('power')}
            description={describe(t('power.title'))}
            emptyText={t('empty')}
          />
          <div className="h-wide">
            <TimeChart
              testId="chart-temps"
              title={t('temps.title')}
              spec={tempSpec}
              group={group}
              height={height}
              hidden={hidden.temps ?? EMPTY}
              onToggle={toggle('temps')}
              description={describe(t('temps.title'))}
              emptyText={t('empty')}
            />
          </div>
        </div>
      )}
    </div>
  );
}

const EMPTY: ReadonlySet<string> = new Set();
const noSubscribe = () => () => undefined;
const noZoom = () => undefined;

/** Highest, lowest and their difference over the shown cells at the cursor (seed: "Diff"). */
function CellSummary(props: {
  a: Aligned;
  keys: string[];
  hidden: ReadonlySet<string> | undefined;
  i: number;
}): ReactNode {
  const { t } = useTranslation('history');
  const fmt = useFmt();
  let hi = -Infinity;
  let lo = Infinity;
  let hiCell = 0;
  let loCell = 0;
  props.keys.forEach((k, c) => {
    if (props.hidden?.has(k)) return;
    const v = props.a.avg[c]![props.i];
    if (v === null || v === undefined) return;
    if (v > hi) [hi, hiCell] = [v, c + 1];
    if (v < lo) [lo, loCell] = [v, c + 1];
  });
  if (hi === -Infinity) return null;
  return (
    <>
      <span>
        {t('cells.max')} {fmt.unit(hi, 'mV')} (#{hiCell})
      </span>
      <span>
        {t('cells.min')} {fmt.unit(lo, 'mV')} (#{loCell})
      </span>
      <span data-testid="cell-diff">
        {t('cells.diff')} {fmt.unit(hi - lo, 'mV')}
      </span>
    </>
  );
}
