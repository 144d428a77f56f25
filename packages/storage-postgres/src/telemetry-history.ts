/**
 * History queries, answering as SQLite's do (storage-sqlite/src/telemetry-history.ts): `auto`
 * picks the coarsest tier whose bucket is no wider than range / maxPoints (raw below one
 * minute) and moves to a coarser one when the chosen tier holds nothing as old as the range
 * start; rollup tiers are completed past their watermark from raw rows folded on the fly;
 * each series is cut to at most maxPoints time buckets keeping the min of mins, max of maxes
 * and the n-weighted average, stamped with the bucket's first point.
 *
 * The cut happens in PostgreSQL: one GROUP BY over the bucket number returns at most
 * maxPoints rows however many samples the range holds (per bucket its first time and row
 * count, per series points, min, max and sum). Tried and measured slower: reading every row's
 * values into JavaScript and cutting there (node-postgres parses arrays from text; its binary
 * mode decodes values as UTF-8 first, so it cannot carry float8 bytes), and six aggregates per
 * series instead of four.
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
 * The points of one tier as rows `ts, ...` with their parameters after `$1` = pack: raw rows
 * give one value per wanted series (`x<j>`); rollup rows and the raw tail past the tier's
 * watermark (folded in SQL) give n, min, max and sum (`n<j>, lo<j>, hi<j>, s<j>`). OFFSET 0
 * keeps each subquery whole, so an array element is read once per row, not once per
 * aggregate that uses it (PostgreSQL would otherwise pull the expressions up).
 */
function points(
  tier: Tier,
  at: readonly number[],
  from: number,
  to: number,
  mark: number | undefined,
): { sql: string; params: unknown[] } {
  const lo = Math.ceil(from);
  const hi = Math.floor(to);
  if (tier === 'raw') {
    const cols = at.map((a, j) => `v[${a}] AS x${j}`);
    return {
      sql: `SELECT ts, ${cols.join(', ')} FROM telemetry_raw WHERE pack = $1 AND ts >= $2 AND ts <= $3 OFFSET 0`,
      params: [lo, hi],
    };
  }
  const step = STEP[tier];
  const start = Math.floor(from / step) * step;
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
      `(SELECT ts, ${cols.join(', ')} FROM ${TABLE[tier as RollupTier]} WHERE pack = $1 AND ts >= $2 AND ts < $3 OFFSET 0)`,
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

/**
 * Each wanted series (numbers `at`) of the tier, cut to at most maxPoints points in SQL: one
 * GROUP BY over the bucket number gives per bucket its first time and row count, and per
 * series its points, n, min, max and sum. A series present in every row of a bucket starts
 * where the bucket does; one missing from some rows, or with no more points than maxPoints
 * but two in one bucket, is read again on its own (rare: a layout change, a sparse range).
 */
async function read(
  ctx: TelemetryCtx,
  pack: number,
  tier: Tier,
  from: number,
  to: number,
  maxPoints: number,
  at: readonly number[],
): Promise<Series[]> {
  let mark: number | undefined;
  if (tier !== 'raw') {
    const rows = await ctx.db.query<{ done_until: number }>(
      'cannot read history',
      'SELECT done_until FROM telemetry_rollup_state WHERE pack = $1 AND tier = $2',
      [pack, tier],
    );
    mark = rows[0]?.done_until;
  }
  const rollup = tier !== 'raw';
  const src = points(tier, at, from, to, mark);
  const k = src.params.length + 2;
  const span = to - from + 1;
  // Per series: points, n, min, max, sum (raw: n = points).
  const aggs = at.map((_a, j) =>
    rollup
      ? `count(*) FILTER (WHERE n${j} > 0), sum(n${j}), min(lo${j}), max(hi${j}), sum(s${j})`
      : `count(x${j}), min(x${j}), max(x${j}), sum(x${j})`,
  );
  const width = rollup ? 5 : 4;
  // Bucket b covers [from + b * span / maxPoints, from + (b + 1) * span / maxPoints), computed
  // as JavaScript would (float8, same order of operations).
  const rows = (await ctx.db.arrays(
    'cannot read history',
    `SELECT least($${k + 1}::int - 1, greatest(0, floor(((ts - $${k}::float8) * $${k + 1}::float8) / $${k + 2}::float8)))::int AS b,
       min(ts), count(*), ${aggs.join(', ')}
     FROM (${src.sql}) p GROUP BY 1 ORDER BY 1`,
    [pack, ...src.params, from, maxPoints, span],
  )) as (number | null)[][];
  const avgOf = (s: number, n: number, lo: number, hi: number): number =>
    !rollup && n === 1 ? s : Math.min(hi, Math.max(lo, round3(s / n)));
  const out: Series[] = [];
  const again: number[] = [];
  at.forEach((_a, j) => {
    const o = 3 + width * j;
    let count = 0;
    let multi = false;
    let partial = false;
    const s = empty();
    for (const r of rows) {
      const c = r[o] ?? 0;
      if (c === 0) continue;
      count += c;
      if (c > 1) multi = true;
      if (c < r[2]!) partial = true;
      const n = rollup ? r[o + 1]! : c;
      const d = rollup ? 1 : 0;
      const lo = r[o + 1 + d]!;
      const hi = r[o + 2 + d]!;
      s.t.push(r[1]!);
      s.min.push(lo);
      s.max.push(hi);
      s.avg.push(avgOf(r[o + 3 + d]!, n, lo, hi));
    }
    if (partial || (count <= maxPoints && multi)) again.push(j);
    out.push(s);
  });
  for (const j of again)
    out[j] = await readOne(ctx, pack, src, rollup, j, count(out[j]!), from, maxPoints, span);
  return out;
}

const count = (s: Series): number => s.t.length;

/** One series on its own: point by point (no more points than maxPoints), else bucket by bucket. */
async function readOne(
  ctx: TelemetryCtx,
  pack: number,
  src: { sql: string; params: unknown[] },
  rollup: boolean,
  j: number,
  _buckets: number,
  from: number,
  maxPoints: number,
  span: number,
): Promise<Series> {
  const has = rollup ? `n${j} > 0` : `x${j} IS NOT NULL`;
  const cols = rollup ? `n${j}, lo${j}, hi${j}, s${j}` : `1, x${j}, x${j}, x${j}`;
  const pts = (await ctx.db.arrays(
    'cannot read history',
    `SELECT ts, ${cols} FROM (${src.sql}) p WHERE ${has} ORDER BY ts`,
    [pack, ...src.params],
  )) as number[][];
  const s = empty();
  const avgOf = (sum: number, n: number, lo: number, hi: number): number =>
    !rollup && n === 1 ? sum : Math.min(hi, Math.max(lo, round3(sum / n)));
  if (pts.length <= maxPoints) {
    for (const [t, n, lo, hi, sum] of pts) {
      s.t.push(t!);
      s.min.push(lo!);
      s.max.push(hi!);
      s.avg.push(avgOf(sum!, n!, lo!, hi!));
    }
    return s;
  }
  // More points than maxPoints: the buckets of the main query, from this series' points.
  let cur = -1;
  let n = 0;
  let sum = 0;
  let lo = 0;
  let hi = 0;
  const close = (): void => {
    if (cur < 0) return;
    s.min.push(lo);
    s.max.push(hi);
    s.avg.push(avgOf(sum, n, lo, hi));
  };
  for (const [t, pn, plo, phi, psum] of pts) {
    const b = Math.min(maxPoints - 1, Math.max(0, Math.floor(((t! - from) * maxPoints) / span)));
    if (b !== cur) {
      close();
      cur = b;
      s.t.push(t!);
      n = 0;
      sum = 0;
      lo = plo!;
      hi = phi!;
    }
    n += pn!;
    sum += psum!;
    if (plo! < lo) lo = plo!;
    if (phi! > hi) hi = phi!;
  }
  close();
  return s;
}
