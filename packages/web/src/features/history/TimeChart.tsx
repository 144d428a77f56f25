/**
 * One uPlot time chart with its own legend: buttons that show/hide a series (keyboard and
 * screen-reader friendly, unlike a canvas legend), the values under the cursor (or at the
 * newest point when the cursor is away), and an optional min-max band behind the lines.
 * Drag zooms (all charts of the group), double-click resets; arrow keys move the cursor
 * when the chart has focus. Colours are read from the theme's CSS variables when it is
 * built; it is rebuilt when the theme changes and resized with its box.
 */
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useFmt } from '../../i18n/format';
import { decimalsFor, timeTicks } from './axis';
import type { Values } from './data';
import { legendValue } from './data';
import type { ChartGroup } from './group';
import { cssVar, useThemeVersion, withAlpha } from './theme';

export interface Line {
  /** Stable id (legend toggles, tests). */
  key: string;
  label: string;
  /** A CSS variable holding the colour, e.g. '--ok'. */
  color: string;
  values: Values;
  /** Fill the area down to `fillTo` with this alpha. */
  fill?: number;
  fillTo?: number;
  width?: number;
  /**
   * The legend shows the magnitude: the label already says the direction ("Discharging
   * 231 W", not "Discharging -231 W"); the plot keeps the sign.
   */
  magnitude?: boolean;
}

/**
 * Room right of the plot: the last time label is centred on the plot's edge, and 12 px cut
 * the 24 h chart's "09:00" to "09:0(".
 */
export const RIGHT_PAD_PX = 28;

export interface ChartSpec {
  x: number[];
  lines: Line[];
  /** Lowest/highest value of each point (rollups), drawn as a band behind the lines. */
  band?: { lo: Values; hi: Values; color: string; label: string };
  unit: string;
  decimals: number;
  /** Widens the auto range of the y axis (e.g. SOC: 0..100, power: always through 0). */
  yRange?: (min: number, max: number) => [number, number];
}

const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif';

interface Props {
  spec: ChartSpec;
  title: ReactNode;
  testId: string;
  height: number;
  group: ChartGroup;
  /** Keys of hidden lines (owned by the parent, so they survive a rebuild). */
  hidden: ReadonlySet<string>;
  onToggle: (key: string) => void;
  /** Called once the chart has first drawn its data. */
  onDrawn?: () => void;
  /** Extra text next to the cursor time (e.g. the cell spread). */
  summary?: (idx: number) => ReactNode;
  actions?: ReactNode;
  /** Accessible description of the chart. */
  description: string;
  emptyText: string;
}

export function TimeChart(props: Props): ReactNode {
  const fmt = useFmt();
  const theme = useThemeVersion();
  const wrap = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [idx, setIdx] = useState<number | null>(null);
  const hidden = useRef(props.hidden);
  hidden.current = props.hidden;
  const drawn = useRef(props.onDrawn);
  drawn.current = props.onDrawn;
  const { spec, group, height } = props;
  const offset = spec.band ? 3 : 1;

  useEffect(() => {
    const el = wrap.current;
    if (!el || spec.x.length === 0) return;
    const muted = cssVar('--muted');
    const grid = cssVar('--border');
    const axis = (unit: string | undefined): uPlot.Axis => ({
      stroke: muted,
      font: FONT,
      labelFont: FONT,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1, size: 4 },
      ...(unit !== undefined ? { label: unit, labelSize: 18 } : {}),
    });
    const bandSeries: uPlot.Series[] = spec.band
      ? [
          { label: 'max', stroke: 'transparent', width: 0, points: { show: false } },
          { label: 'min', stroke: 'transparent', width: 0, points: { show: false } },
        ]
      : [];
    const lineSeries = spec.lines.map((l): uPlot.Series => {
      const c = cssVar(l.color);
      return {
        label: l.label,
        stroke: c,
        width: l.width ?? 1.25,
        show: !hidden.current.has(l.key),
        spanGaps: false,
        ...(l.fill !== undefined ? { fill: withAlpha(c, l.fill) } : {}),
        ...(l.fillTo !== undefined ? { fillTo: l.fillTo } : {}),
      };
    });
    const init = group.initial();
    let ready = false;
    let firstDraw = true;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      ms: 1,
      pxAlign: 0,
      legend: { show: false },
      padding: [8, RIGHT_PAD_PX, 0, 0],
      series: [{}, ...bandSeries, ...lineSeries],
      ...(spec.band
        ? { bands: [{ series: [1, 2], fill: withAlpha(cssVar(spec.band.color), 0.18) }] }
        : {}),
      scales: {
        x: {
          time: true,
          range: (_u, min, max) =>
            ready && min !== null && max !== null ? [min, max] : [init.min, init.max],
        },
        y: {
          range: (_u, min, max) => {
            if (min === null || max === null) return [0, 1];
            const [lo, hi] = spec.yRange ? spec.yRange(min, max) : [min, max];
            return uPlot.rangeNum(lo, hi, 0.1, true);
          },
        },
      },
      axes: [
        {
          ...axis(undefined),
          space: 64,
          size: 44,
          values: (_u, ticks, _a, _s, incr) => timeTicks(fmt.locale, ticks, incr),
        },
        {
          ...axis(spec.unit),
          size: (_u, values) =>
            values ? Math.max(36, 12 + 7 * Math.max(...values.map((v) => v.length))) : 40,
          values: (_u, ticks) => {
            const d = ticks.length > 1 ? decimalsFor(Math.abs(ticks[1]! - ticks[0]!)) : 0;
            return ticks.map((v) => fmt.num(v, d));
          },
        },
      ],
      cursor: {
        sync: { key: group.key, setSeries: false },
        drag: { x: true, y: false },
        points: { size: 7 },
        bind: {
          dblclick: () => () => {
            group.reset();
            return null;
          },
        },
      },
      hooks: {
        ready: [
          () => {
            ready = true;
          },
        ],
        draw: [
          () => {
            if (!firstDraw) return;
            firstDraw = false;
            drawn.current?.();
          },
        ],
        setCursor: [(u) => setIdx(u.cursor.idx ?? null)],
        setScale: [(u, key) => key === 'x' && group.scaled(u)],
        setSeries: [(u) => markHidden(u, el, spec, offset)],
      },
    };
    const data: uPlot.AlignedData = [
      spec.x,
      ...(spec.band ? [spec.band.hi, spec.band.lo] : []),
      ...spec.lines.map((l) => l.values),
    ];
    const u = new uPlot(opts, data, el);
    plot.current = u;
    markHidden(u, el, spec, offset);
    group.add(u);
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
      group.remove(u);
      u.destroy();
      plot.current = null;
      setIdx(null);
    };
    // The chart is rebuilt for new data, a theme change, a new size or language.
  }, [spec, group, height, theme, fmt, offset]);

  // Legend toggles: show/hide in place (no rebuild).
  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    u.batch(() => {
      spec.lines.forEach((l, i) => {
        const show = !props.hidden.has(l.key);
        if (u.series[i + offset]?.show !== show) u.setSeries(i + offset, { show });
      });
    });
  }, [props.hidden, spec, offset]);

  const last = spec.x.length - 1;
  const at = idx ?? last;
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const u = plot.current;
    if (!u || last < 0) return;
    const moves: Record<string, number> = {
      ArrowLeft: at - 1,
      ArrowRight: at + 1,
      PageUp: at - 20,
      PageDown: at + 20,
      Home: 0,
      End: last,
    };
    const next = moves[e.key];
    if (next === undefined) return;
    e.preventDefault();
    const i = Math.max(0, Math.min(last, next));
    u.setCursor({ left: u.valToPos(spec.x[i]!, 'x'), top: u.over.clientHeight / 2 });
  };

  return (
    <section className="card h-chart" data-testid={props.testId}>
      <header className="card-head">
        <h2>{props.title}</h2>
        {props.actions !== undefined && <div className="card-actions">{props.actions}</div>}
      </header>
      {spec.x.length === 0 ? (
        <p className="muted h-empty">{props.emptyText}</p>
      ) : (
        <>
          <div className="h-readout" data-testid="readout" data-ts={spec.x[at]} aria-live="off">
            <span className="h-time">{fmt.dateTime(spec.x[at])}</span>
            {props.summary?.(at)}
            {spec.band && (
              <span className="muted">
                {spec.band.label}: {fmt.num(spec.band.lo[at], spec.decimals)} …{' '}
                {fmt.unit(spec.band.hi[at], spec.unit, spec.decimals)}
              </span>
            )}
          </div>
          <div
            ref={wrap}
            className="h-plot"
            role="img"
            aria-label={props.description}
            tabIndex={0}
            onKeyDown={onKey}
            data-points={spec.x.length}
          />
          <ul className="h-legend" data-testid="legend">
            {spec.lines.map((l) => {
              const off = props.hidden.has(l.key);
              const v = l.values[at];
              return (
                <li key={l.key}>
                  <button
                    type="button"
                    className={off ? 'h-item off' : 'h-item'}
                    aria-pressed={!off}
                    data-testid="legend-item"
                    data-key={l.key}
                    data-value={v ?? ''}
                    onClick={() => props.onToggle(l.key)}
                  >
                    <span className="h-swatch" style={{ background: `var(${l.color})` }} />
                    <span className="h-label">{l.label}</span>
                    <span className="h-value num">
                      {fmt.unit(legendValue(l, v), spec.unit, spec.decimals)}
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </section>
  );
}

/** The chart box says which lines uPlot really hides (read back from the plot). */
function markHidden(u: uPlot, el: HTMLElement, spec: ChartSpec, offset: number): void {
  const off = spec.lines.filter((_l, i) => u.series[i + offset]?.show === false).map((l) => l.key);
  el.dataset.hidden = off.join(',');
}
