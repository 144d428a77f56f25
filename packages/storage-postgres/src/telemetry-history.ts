/**
 * History queries, answering as SQLite's do (storage-sqlite/src/telemetry-history.ts): `auto`
 * picks the coarsest tier whose bucket is no wider than range / maxPoints (raw below one
 * minute) and moves to a coarser one when the chosen tier holds nothing as old as the range
 * start; rollup tiers are completed past their watermark from raw rows folded on the fly;
 * each series is cut to at most maxPoints time buckets keeping the min of mins, max of maxes
 * and the n-weighted average, stamped with the bucket's first point.
 *
 * The cutting happens in PostgreSQL: one GROUP BY over the bucket number gives, per bucket
 * and series, the first time, the point count, n, min, max and sum, so at most maxPoints rows
 * cross the wire however many samples the range holds. A series with no more points than
 * maxPoints is answered point by point: from the same rows when no bucket holds two of its
 * points, else by a second query of its points.
 */
import {
  recordChecks,
  telemetryChecks,
  type Field,
  type HistoryQuery,
  type HistoryResult,
  type Series,
  type Tier,
} from '@openbms/storage';
import {
  ROLLUP_TIERS,
  STEP,
  TABLE,
  type RollupTier,
  type TelemetryCtx,
} from './telemetry-context.js';

export const DEFAULT_MAX_POINTS = 2000;
const TIERS: readonly Tier[] = ['raw', ...ROLLUP_TIERS];

/** The coarsest tier whose bucket is no wider than range / maxPoints. */
export function tierForRange(from: number, to: number, maxPoints: number): Tier {
  const per = (to - from) / maxPoints;
  let pick: Tier = 'raw';
  for (const t of TIERS) if (t !== 'raw' && STEP[t] <= per) pick = t;
  return pick;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const empty = (): Series => ({ t: [], avg: [], min: [], max: [] });

export async function history(
  ctx: TelemetryCtx,
  scope: unknown,
  q: HistoryQuery,
): Promise<HistoryResult> {
  telemetryChecks.checkHistoryQuery(q);
  const gs = recordChecks.gatewayScope(scope);
  const maxPoints = q.maxPoints ?? DEFAULT_MAX_POINTS;
  const pack = await ctx.scopedPack(gs, q.packId);
  const resolution =
    q.resolution && q.resolution !== 'auto'
      ? q.resolution
      : pack === undefined
        ? tierForRange(q.from, q.to, maxPoints)
        : await chooseTier(ctx, pack, q.from, q.to, maxPoints);
  const asked = q.fields ?? [];
  const all = asked.length === 0;
  const fields = all
    ? telemetryChecks.sortFields((await ctx.seriesNames()).filter(Boolean))
    : [...asked];
  const out = new Map<Field, Series>();
  if (!all) for (const f of fields) out.set(f, empty());
  if (pack !== undefined) {
    const wanted: { field: Field; at: number }[] = [];
    for (const f of fields) {
      const at = await ctx.seriesNumber(f);
      if (at !== undefined) wanted.push({ field: f, at });
    }
    if (wanted.length > 0) {
      const got = await read(
        ctx,
        pack,
        resolution,
        q.from,
        q.to,
        maxPoints,
        wanted.map((w) => w.at),
      );
      wanted.forEach((w, j) => {
        if (!all || got[j]!.t.length > 0) out.set(w.field, got[j]!);
      });
    }
  }
  const series: Record<Field, Series> = {};
  for (const f of telemetryChecks.sortFields(out.keys())) series[f] = out.get(f)!;
  return { packId: q.packId, resolution, from: q.from, to: q.to, series };
}

async function chooseTier(
  ctx: TelemetryCtx,
  pack: number,
  from: number,
  to: number,
  maxPoints: number,
): Promise<Tier> {
  const first = TIERS.indexOf(tierForRange(from, to, maxPoints));
  const row = (
    await ctx.db.query<Record<Tier, number | null>>(
      'cannot read history',
      `SELECT ${TIERS.map((t) => `(SELECT min(ts) FROM ${TABLE[t]} WHERE pack = $1) AS "${t}"`).join(', ')}`,
      [pack],
    )
  )[0]!;
  const earliest = (t: Tier): number => row[t] ?? Infinity;
  const raw = earliest('raw');
  // A rollup bucket no older than raw's first sample holds nothing raw lacks (see SQLite's).
  const starts = TIERS.slice(first).map((t): [Tier, number] => {
    if (t === 'raw') return [t, raw];
    const e = earliest(t);
    return [t, e < Math.floor(raw / STEP[t]) * STEP[t] ? e : raw];
  });
  const oldest = Math.min(...starts.map(([, e]) => e));
  if (oldest === Infinity) return TIERS[first]!;
  const target = Math.max(from, oldest);
  for (const [t, e] of starts) if (e <= target + STEP[t]) return t;
  return TIERS[first]!;
}

/**
 * The points of one tier as rows `ts, n_j, lo_j, hi_j, s_j` (per wanted series j; n = 0
 * where the row lacks it), with their parameters after `$1` = pack.
 */
function points(
  tier: Tier,
  at: readonly number[],
  from: number,
  to: number,
  marks: Map<string, number>,
): { sql: string; params: unknown[] } {
  const lo = Math.ceil(from);
  const hi = Math.floor(to);
  if (tier === 'raw') {
    const cols = at.map(
      (a, j) =>
        `(CASE WHEN v[${a}] IS NULL THEN 0 ELSE 1 END) AS n${j}, v[${a}] AS lo${j}, v[${a}] AS hi${j}, v[${a}] AS s${j}`,
    );
    return {
      sql: `SELECT ts, ${cols.join(', ')} FROM telemetry_raw WHERE pack = $1 AND ts >= $2 AND ts <= $3`,
      params: [lo, hi],
    };
  }
  const step = STEP[tier];
  const start = Math.floor(from / step) * step;
  const mark = marks.get(tier);
  const done = mark === undefined ? start : Math.max(start, mark);
  const parts: string[] = [];
  const params: unknown[] = [];
  if (done > start) {
    params.push(start, Math.min(done, hi + 1));
    const cols = at.map(
      (a, j) =>
        `coalesce(n[${a}], 0) AS n${j}, mn[${a}] AS lo${j}, mx[${a}] AS hi${j}, sm[${a}] AS s${j}`,
    );
    parts.push(
      `SELECT ts, ${cols.join(', ')} FROM ${TABLE[tier as RollupTier]} WHERE pack = $1 AND ts >= $2 AND ts < $3`,
    );
  }
  if (done <= to) {
    const p = params.length + 2;
    params.push(done, hi);
    const cols = at.map(
      (a, j) =>
        `count(v[${a}])::int AS n${j}, min(v[${a}]) AS lo${j}, max(v[${a}]) AS hi${j}, sum(v[${a}]) AS s${j}`,
    );
    parts.push(
      `SELECT (ts / ${step}) * ${step} AS ts, ${cols.join(', ')} FROM telemetry_raw WHERE pack = $1 AND ts >= $${p} AND ts <= $${p + 1} GROUP BY 1`,
    );
  }
  if (parts.length === 0) {
    const cols = at.map(
      (_a, j) => `0 AS n${j}, 0::float8 AS lo${j}, 0::float8 AS hi${j}, 0::float8 AS s${j}`,
    );
    return { sql: `SELECT 0::int8 AS ts, ${cols.join(', ')} WHERE false`, params: [] };
  }
  return { sql: parts.join(' UNION ALL '), params };
}

async function read(
  ctx: TelemetryCtx,
  pack: number,
  tier: Tier,
  from: number,
  to: number,
  maxPoints: number,
  at: readonly number[],
): Promise<Series[]> {
  const marks = new Map<string, number>();
  if (tier !== 'raw') {
    const rows = await ctx.db.query<{ tier: string; done_until: number }>(
      'cannot read history',
      'SELECT tier, done_until FROM telemetry_rollup_state WHERE pack = $1',
      [pack],
    );
    for (const r of rows) marks.set(r.tier, r.done_until);
  }
  const src = points(tier, at, from, to, marks);
  const k = src.params.length + 2;
  const span = to - from + 1;
  const aggs = at.map(
    (_a, j) =>
      `min(ts) FILTER (WHERE n${j} > 0) AS t${j}, count(*) FILTER (WHERE n${j} > 0)::int AS c${j}, ` +
      `sum(n${j})::float8 AS n${j}, min(lo${j}) AS lo${j}, max(hi${j}) AS hi${j}, sum(s${j}) AS s${j}`,
  );
  // Bucket b covers [from + b * span / maxPoints, from + (b + 1) * span / maxPoints), computed
  // as JavaScript would (float8, same order of operations).
  const rows = await ctx.db.query<Record<string, number | null>>(
    'cannot read history',
    `SELECT least($${k + 1}::int - 1, greatest(0, floor(((ts - $${k}::float8) * $${k + 1}::float8) / $${k + 2}::float8)))::int AS b,
       ${aggs.join(', ')}
     FROM (${src.sql}) p GROUP BY 1 ORDER BY 1`,
    [pack, ...src.params, from, maxPoints, span],
  );
  const rollup = tier !== 'raw';
  const avgOf = (s: number, n: number, lo: number, hi: number): number =>
    !rollup && n === 1 ? s : Math.min(hi, Math.max(lo, round3(s / n)));
  const out: Series[] = [];
  const single: number[] = [];
  at.forEach((_a, j) => {
    let count = 0;
    let multi = false;
    const s = empty();
    for (const r of rows) {
      const c = r[`c${j}`] ?? 0;
      if (c === 0) continue;
      count += c;
      if (c > 1) multi = true;
      const lo = r[`lo${j}`]!;
      const hi = r[`hi${j}`]!;
      s.t.push(r[`t${j}`]!);
      s.min.push(lo);
      s.max.push(hi);
      s.avg.push(avgOf(r[`s${j}`]!, r[`n${j}`]!, lo, hi));
    }
    if (count <= maxPoints && multi) single.push(j);
    out.push(s);
  });
  if (single.length > 0) {
    // Series with few points, some of them in one bucket: point by point.
    const pts = await ctx.db.query<Record<string, number | null>>(
      'cannot read history',
      `SELECT ts, ${single.map((j) => `n${j}, lo${j}, hi${j}, s${j}`).join(', ')} FROM (${src.sql}) p ORDER BY ts`,
      [pack, ...src.params],
    );
    for (const j of single) {
      const s = empty();
      for (const r of pts) {
        const n = r[`n${j}`] ?? 0;
        if (n === 0) continue;
        const lo = r[`lo${j}`]!;
        const hi = r[`hi${j}`]!;
        s.t.push(r['ts']!);
        s.min.push(lo);
        s.max.push(hi);
        s.avg.push(avgOf(r[`s${j}`]!, n, lo, hi));
      }
      out[j] = s;
    }
  }
  return out;
}
