/**
 * Pure shaping of a history answer for the charts: series aligned on one time axis (with a
 * gap where the store holds nothing for a while, so a line does not bridge a stopped
 * gateway), the cell spread (max - min of the cells at each point), the envelope of a group
 * of series (lowest min, highest max) and the power split into charge / discharge areas.
 * No React, no DOM: the unit test runs it directly.
 */
import type { HistorySeries, HistoryView } from '@openbms/contract/api';

export type Values = (number | null)[];

export interface Aligned {
  /** Times, ms since 1970, ascending. */
  x: number[];
  avg: Values[];
  min: Values[];
  max: Values[];
}

/** True when every series has the same time axis (the usual case: one sample, all fields). */
function sameAxis(list: HistorySeries[]): boolean {
  const first = list[0]!.t;
  for (let s = 1; s < list.length; s++) {
    const t = list[s]!.t;
    if (t === first) continue;
    if (t.length !== first.length) return false;
    for (let i = 0; i < t.length; i++) if (t[i] !== first[i]) return false;
  }
  return true;
}

/** The usual distance between two points (median of the steps), 0 with fewer than 2. */
export function typicalStep(x: readonly number[]): number {
  if (x.length < 2) return 0;
  const steps: number[] = [];
  const stride = Math.max(1, Math.floor((x.length - 1) / 400));
  for (let i = 1; i < x.length; i += stride) steps.push(x[i]! - x[i - 1]!);
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)]!;
}

/** A step this many times the usual one is drawn as a gap. */
export const GAP_FACTOR = 5;

/**
 * The named series on one axis: missing points become null, and a null point is put into
 * every gap wider than GAP_FACTOR usual steps. Unknown names give all-null columns.
 */
export function align(view: Pick<HistoryView, 'series'>, keys: readonly string[]): Aligned {
  const list = keys.map((k) => view.series[k] ?? { t: [], avg: [], min: [], max: [] });
  if (list.length === 0) return { x: [], avg: [], min: [], max: [] };
  let x: number[];
  let avg: Values[];
  let min: Values[];
  let max: Values[];
  if (sameAxis(list)) {
    x = list[0]!.t;
    avg = list.map((s) => s.avg);
    min = list.map((s) => s.min);
    max = list.map((s) => s.max);
  } else {
    const all = new Set<number>();
    for (const s of list) for (const t of s.t) all.add(t);
    x = [...all].sort((a, b) => a - b);
    const at = new Map<number, number>();
    x.forEach((t, i) => at.set(t, i));
    const column = (s: HistorySeries, a: number[]): Values => {
      const out: Values = new Array<number | null>(x.length).fill(null);
      s.t.forEach((t, i) => (out[at.get(t)!] = a[i] ?? null));
      return out;
    };
    avg = list.map((s) => column(s, s.avg));
    min = list.map((s) => column(s, s.min));
    max = list.map((s) => column(s, s.max));
  }
  return withGaps({ x, avg, min, max });
}

function withGaps(a: Aligned): Aligned {
  const step = typicalStep(a.x);
  if (step <= 0) return a;
  const limit = step * GAP_FACTOR;
  const gaps: number[] = [];
  for (let i = 1; i < a.x.length; i++) if (a.x[i]! - a.x[i - 1]! > limit) gaps.push(i);
  if (gaps.length === 0) return a;
  const x: number[] = [];
  const cols = (c: Values[]): Values[] => c.map(() => []);
  const out: Aligned = { x, avg: cols(a.avg), min: cols(a.min), max: cols(a.max) };
  let g = 0;
  for (let i = 0; i < a.x.length; i++) {
    if (g < gaps.length && gaps[g] === i) {
      x.push(a.x[i - 1]! + step);
      for (const k of ['avg', 'min', 'max'] as const) out[k].forEach((c) => c.push(null));
      g++;
    }
    x.push(a.x[i]!);
    for (const k of ['avg', 'min', 'max'] as const)
      out[k].forEach((c, s) => c.push(a[k][s]![i] ?? null));
  }
  return out;
}

/** max - min over the columns at each point (null where fewer than two have a value). */
export function spread(cols: readonly Values[], length: number): Values {
  const out: Values = new Array<number | null>(length);
  for (let i = 0; i < length; i++) {
    let lo = Infinity;
    let hi = -Infinity;
    let n = 0;
    for (const c of cols) {
      const v = c[i];
      if (v === null || v === undefined) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      n++;
    }
    out[i] = n >= 2 ? Math.round((hi - lo) * 1000) / 1000 : null;
  }
  return out;
}

/** Lowest of the mins and highest of the maxes at each point. */
export function envelope(
  mins: readonly Values[],
  maxs: readonly Values[],
  length: number,
): { lo: Values; hi: Values } {
  const lo: Values = new Array<number | null>(length).fill(null);
  const hi: Values = new Array<number | null>(length).fill(null);
  for (let i = 0; i < length; i++) {
    for (const c of mins) {
      const v = c[i];
      if (v !== null && v !== undefined && (lo[i] === null || v < lo[i]!)) lo[i] = v;
    }
    for (const c of maxs) {
      const v = c[i];
      if (v !== null && v !== undefined && (hi[i] === null || v > hi[i]!)) hi[i] = v;
    }
  }
  return { lo, hi };
}

/** True when some point holds a range (a rollup tier, or raw samples folded together). */
export function hasSpread(mins: readonly Values[], maxs: readonly Values[]): boolean {
  for (let s = 0; s < mins.length; s++) {
    const a = mins[s]!;
    const b = maxs[s]!;
    for (let i = 0; i < a.length; i++) {
      const lo = a[i];
      const hi = b[i];
      if (lo !== null && lo !== undefined && hi !== null && hi !== undefined && hi > lo)
        return true;
    }
  }
  return false;
}

/** Power above zero (charging) and below zero (discharging), each 0 on the other side. */
export function splitPower(p: Values): { charge: Values; discharge: Values } {
  return {
    charge: p.map((v) => (v === null ? null : v > 0 ? v : 0)),
    discharge: p.map((v) => (v === null ? null : v < 0 ? v : 0)),
  };
}

/** Power from voltage and current, for a pack that does not report power itself. */
export function powerOf(v: Values, a: Values): Values {
  return v.map((x, i) => {
    const c = a[i];
    return x === null || c === null || c === undefined ? null : Math.round(x * c * 10) / 10;
  });
}

/** The series names of a history answer that match `prefix.<i>`, in index order. */
export function indexed(view: Pick<HistoryView, 'series'>, prefix: string): string[] {
  const re = new RegExp(`^${prefix}\\.(\\d+)$`);
  return Object.keys(view.series)
    .map((k) => [k, re.exec(k)] as const)
    .filter((e): e is readonly [string, RegExpExecArray] => e[1] !== null)
    .sort((a, b) => Number(a[1][1]) - Number(b[1][1]))
    .map((e) => e[0]);
}

/** True when a series holds at least one point. */
export function hasPoints(view: Pick<HistoryView, 'series'>, key: string): boolean {
  return (view.series[key]?.t.length ?? 0) > 0;
}

/**
 * The value a legend entry shows for a line at the cursor: the magnitude for a line whose
 * label states the direction ("Discharging 231 W", never "Discharging -231 W").
 */
export function legendValue(
  line: { magnitude?: boolean },
  v: number | null | undefined,
): number | null | undefined {
  return v === null || v === undefined ? v : line.magnitude ? Math.abs(v) : v;
}
