/**
 * History queries. `auto` picks the coarsest tier whose bucket is no wider than
 * range / maxPoints (raw below one minute), then moves to a coarser tier when the chosen one
 * holds nothing as old as the range start (raw beyond its retention). Rollup tiers are
 * completed past their watermark from raw rows folded on the fly, so the newest minutes show
 * before the next rollup. Every series is then cut to at most maxPoints time buckets keeping
 * the min of mins, max of maxes and the n-weighted average, so a spike survives.
 */
import {
  telemetryChecks,
  type Field,
  type HistoryQuery,
  type HistoryResult,
  type Series,
  type Tier,
} from '@openbms/storage';
import type { GatewayScope, TelemetryCtx } from './telemetry-context.js';
import { sortFields } from './telemetry-fields.js';
import {
  Aggregator,
  decodeRaw,
  decodeRollup,
  type Layout,
  type RollupValue,
  seriesId,
} from './telemetry-rows.js';
import { STEP, TABLE, TIERS, type RollupTier } from './telemetry-schema.js';

export const DEFAULT_MAX_POINTS = 2000;

/** Points of one series as read, before downsampling (typed arrays, grown by doubling). */
export class Points {
  len = 0;
  t: Float64Array = new Float64Array(64);
  min: Float64Array = new Float64Array(64);
  max: Float64Array = new Float64Array(64);
  avg: Float64Array = new Float64Array(64);
  n: Float64Array = new Float64Array(64);

  /** Makes room for `more` points at once (a scan knows its row count). */
  reserve(more: number): void {
    const need = this.len + more;
    if (need <= this.t.length) return;
    const cap = Math.max(need, this.t.length * 2);
    const grow = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap);
      b.set(a.subarray(0, this.len));
      return b;
    };
    this.t = grow(this.t);
    this.min = grow(this.min);
    this.max = grow(this.max);
    this.avg = grow(this.avg);
    this.n = grow(this.n);
  }

  /** Raw points carry one value (min = max = avg, n = 1): only `t` and `avg` are filled. */
  raw = false;

  pushRaw(t: number, v: number): void {
    if (this.len === this.t.length) this.reserve(1);
    this.t[this.len] = t;
    this.avg[this.len++] = v;
  }

  push(t: number, min: number, max: number, avg: number, n: number): void {
    if (this.len === this.t.length) this.reserve(1);
    const i = this.len++;
    this.t[i] = t;
    this.min[i] = min;
    this.max[i] = max;
    this.avg[i] = avg;
    this.n[i] = n;
  }
}

/** The series a query collects: the ones asked for, or every one met when none were. */
class Collector {
  readonly byField = new Map<string, Points>();
  private readonly perLayout = new Map<number, (Points | undefined)[]>();
  constructor(readonly all: boolean) {}

  of(layout: Layout): (Points | undefined)[] {
    let m = this.perLayout.get(layout.id);
    if (!m) {
      m = layout.fields.map((f) => {
        let p = this.byField.get(f);
        if (!p && this.all) this.byField.set(f, (p = new Points()));
        return p;
      });
      this.perLayout.set(layout.id, m);
    }
    return m;
  }

  /** Which values of a row must be decoded: the wanted ones and the bases of wanted cells. */
  need(layout: Layout): Uint8Array {
    const m = this.of(layout);
    const need = new Uint8Array(m.length);
    for (let i = m.length - 1; i >= 0; i--) {
      need[i] = m[i] || (layout.rel[i + 1] && need[i + 1]) ? 1 : 0;
    }
    return need;
  }

  /** How many leading values of a row must be decoded to reach every wanted series. */
  upTo(layout: Layout): number {
    const m = this.of(layout);
    let last = -1;
    m.forEach((p, i) => {
      if (p) last = i;
    });
    return last + 1;
  }
}

export const checkQuery = telemetryChecks.checkHistoryQuery;

export function history(ctx: TelemetryCtx, scope: GatewayScope, q: HistoryQuery): HistoryResult {
  checkQuery(q);
  const maxPoints = q.maxPoints ?? DEFAULT_MAX_POINTS;
  return ctx.read('cannot read history', () => {
    const pack = ctx.scopedPack(scope, q.packId);
    const resolution =
      q.resolution && q.resolution !== 'auto'
        ? q.resolution
        : pack === undefined
          ? tierForRange(q.from, q.to, maxPoints)
          : chooseTier(ctx, pack, q.from, q.to, maxPoints);
    const fields = q.fields ?? [];
    const col = new Collector(fields.length === 0);
    for (const f of fields) col.byField.set(f, new Points());
    if (pack !== undefined) {
      if (resolution === 'raw') readRaw(ctx, pack, q.from, q.to, col);
      else readRollup(ctx, pack, resolution, q.from, q.to, col);
    }
    const series: Record<Field, Series> = {};
    for (const f of sortFields(col.byField.keys())) {
      series[f] = downsample(col.byField.get(f)!, q.from, q.to, maxPoints);
    }
    return { packId: q.packId, resolution, from: q.from, to: q.to, series };
  });
}

/** The coarsest tier whose bucket is no wider than range / maxPoints. */
export function tierForRange(from: number, to: number, maxPoints: number): Tier {
  const per = (to - from) / maxPoints;
  let pick: Tier = 'raw';
  for (const t of TIERS) if (t !== 'raw' && STEP[t] <= per) pick = t;
  return pick;
}

function chooseTier(
  ctx: TelemetryCtx,
  pack: number,
  from: number,
  to: number,
  maxPoints: number,
): Tier {
  const first = TIERS.indexOf(tierForRange(from, to, maxPoints));
  const earliest = (t: Tier): number => {
    const row = ctx.stmt(`SELECT min(ts) AS ts FROM ${TABLE[t]} WHERE pack = ?`).get(pack) as {
      ts: number | null;
    };
    return row.ts ?? Infinity;
  };
  const raw = earliest('raw');
  // Where each tier's data really starts. A rollup also shows what raw still holds (folded on
  // the fly past its watermark), and its first bucket is stamped with the bucket's start: a
  // bucket no older than raw's first sample holds nothing raw lacks, so it starts at raw's.
  const starts = TIERS.slice(first).map((t): [Tier, number] => {
    if (t === 'raw') return [t, raw];
    const e = earliest(t);
    return [t, e < Math.floor(raw / STEP[t]) * STEP[t] ? e : raw];
  });
  const oldest = Math.min(...starts.map(([, e]) => e));
  if (oldest === Infinity) return TIERS[first]!;
  // The finest tier that reaches back as far as any can (or to `from`), within one bucket.
  const target = Math.max(from, oldest);
  for (const [t, e] of starts) if (e <= target + STEP[t]) return t;
  return TIERS[first]!;
}

function readRaw(ctx: TelemetryCtx, pack: number, from: number, to: number, col: Collector): void {
  const values: number[] = [];
  const layoutOf = (id: number): Layout => ctx.layout(id);
  const upTo = new Map<number, number>();
  const needs = new Map<number, Uint8Array>();
  const r = ctx.r;
  const times = ctx.scan(TABLE.raw, pack, from, Math.floor(to) + 1);
  for (const p of col.byField.values()) {
    p.reserve(times.length);
    p.raw = true;
  }
  let lastId = -1;
  let u = 0;
  let need: Uint8Array | undefined;
  let m: (Points | undefined)[] = [];
  for (const ts of times) {
    const start = r.pos;
    const id = r.varint();
    r.pos = start;
    if (id !== lastId) {
      lastId = id;
      const layout = layoutOf(id);
      u = upTo.get(id) ?? col.upTo(layout);
      upTo.set(id, u);
      need = needs.get(id) ?? col.need(layout);
      needs.set(id, need);
      m = col.of(layout);
    }
    decodeRaw(r, layoutOf, values, u, need);
    for (let i = 0; i < u; i++) {
      const p = m[i];
      if (p) p.pushRaw(ts, values[i]!);
    }
  }
}

function readRollup(
  ctx: TelemetryCtx,
  pack: number,
  tier: RollupTier,
  from: number,
  to: number,
  col: Collector,
): void {
  const step = STEP[tier];
  const start = Math.floor(from / step) * step;
  const marks = ctx.watermarks(pack);
  const done = marks ? Math.max(start, marks[tier]) : start;
  const layoutOf = (id: number): Layout => ctx.layout(id);
  if (marks && done > start) {
    const times = ctx.scan(TABLE[tier], pack, start, Math.min(done, Math.floor(to) + 1));
    for (const p of col.byField.values()) p.reserve(times.length);
    const r = ctx.r;
    const upTo = new Map<number, number>();
    let ts = 0;
    let m: (Points | undefined)[] = [];
    const each = (i: number, _l: Layout, v: RollupValue): void =>
      m[i]?.push(ts, v.min, v.max, v.avg, v.n);
    for (const t of times) {
      const start = r.pos;
      const id = r.varint();
      r.pos = start;
      let u = upTo.get(id);
      if (u === undefined) upTo.set(id, (u = col.upTo(layoutOf(id))));
      ts = t;
      m = col.of(layoutOf(id));
      decodeRollup(r, layoutOf, each, u);
    }
  }
  if (done <= to) foldRawTail(ctx, pack, step, done, to, col);
}

/** Raw rows past the tier's watermark, folded into the tier's buckets in memory. */
function foldRawTail(
  ctx: TelemetryCtx,
  pack: number,
  step: number,
  from: number,
  to: number,
  col: Collector,
): void {
  const agg = new Aggregator();
  const values: number[] = [];
  const wanted = new Map<string, number>();
  let bucket = 0;
  const flush = (): void => {
    if (agg.empty) return;
    for (const f of agg.fields()) {
      let p = col.byField.get(f);
      if (!p && !col.all) continue;
      if (!p) col.byField.set(f, (p = new Points()));
      let g = wanted.get(f);
      if (g === undefined) wanted.set(f, (g = seriesId(f)));
      const n = agg.n[g]!;
      p.push(bucket, agg.min[g]!, agg.max[g]!, round3(agg.sum[g]! / n), n);
    }
    agg.reset();
  };
  const layoutOf = (id: number): Layout => ctx.layout(id);
  for (const ts of ctx.scan(TABLE.raw, pack, from, Math.floor(to) + 1)) {
    const b = Math.floor(ts / step) * step;
    if (b !== bucket) flush();
    bucket = b;
    agg.addRaw(decodeRaw(ctx.r, layoutOf, values), values);
  }
  flush();
}

/** At most maxPoints points: time buckets over [from, to] with min/max kept and n-weighted avg. */
export function downsample(p: Points, from: number, to: number, maxPoints: number): Series {
  const len = p.len;
  const list = (a: Float64Array): number[] => Array.from(a.subarray(0, len));
  if (p.raw) {
    p.min = p.avg;
    p.max = p.avg;
    p.n = new Float64Array(len).fill(1);
  }
  if (len <= maxPoints)
    return { t: list(p.t), avg: list(p.avg), min: list(p.min), max: list(p.max) };
  const out: Series = { t: [], avg: [], min: [], max: [] };
  const span = to - from + 1;
  let cur = -1;
  let sum = 0;
  let n = 0;
  let lo = 0;
  let hi = 0;
  const close = (): void => {
    if (cur < 0) return;
    out.min.push(lo);
    out.max.push(hi);
    out.avg.push(round3(sum / n));
  };
  // Bucket k covers [from + k * span / maxPoints, from + (k + 1) * span / maxPoints).
  let next = -Infinity;
  for (let i = 0; i < len; i++) {
    const t = p.t[i]!;
    if (t >= next) {
      const k = Math.min(maxPoints - 1, Math.max(0, Math.floor(((t - from) * maxPoints) / span)));
      if (k !== cur) {
        close();
        cur = k;
        next = k === maxPoints - 1 ? Infinity : from + ((k + 1) * span) / maxPoints;
        out.t.push(t);
        lo = p.min[i]!;
        hi = p.max[i]!;
        sum = 0;
        n = 0;
      }
    }
    if (p.min[i]! < lo) lo = p.min[i]!;
    if (p.max[i]! > hi) hi = p.max[i]!;
    sum += p.avg[i]! * p.n[i]!;
    n += p.n[i]!;
  }
  close();
  return out;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
