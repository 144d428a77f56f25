/**
 * Rollups and retention. rollup(now) folds, per pack, complete buckets only: raw into 1 min,
 * 1 min into 15 min, 15 min into 1 h (n-weighted averages, min of mins, max of maxes), from
 * the tier's watermark up to the last bucket that ended by `now`, then moves the watermark.
 * A bucket is always recomputed whole from its source rows, so running it twice changes
 * nothing, and a late sample (written behind the watermark) lowers the watermark so its
 * buckets are folded again. Work goes in chunks that skip empty stretches.
 */
import { BmsError } from '@openbms/core';
import {
  DEFAULT_RETENTION,
  telemetryChecks,
  type RetentionPolicy,
  type Tier,
} from '@openbms/storage';
import type { TelemetryCtx } from './telemetry-context.js';
import { Aggregator, decodeRaw, decodeRollup, type Layout } from './telemetry-rows.js';
import {
  DAY,
  ROLLUP_TIERS,
  SLOT,
  STEP,
  TABLE,
  TIERS,
  type RollupTier,
} from './telemetry-schema.js';

const SOURCE: Record<RollupTier, Tier> = { '1m': 'raw', '15m': '1m', '1h': '15m' };
/** Source rows read at a time: about an hour of raw, a day of 1 min, a week of 15 min. */
const CHUNK: Record<RollupTier, number> = { '1m': 60 * 60_000, '15m': DAY, '1h': 7 * DAY };

export function rollup(ctx: TelemetryCtx, now: number): void {
  checkNow(now, 'rollup');
  const packs = ctx.read('cannot list packs', () => ctx.packs());
  for (const { id } of packs) rollupPack(ctx, id, now);
}

/** One pack's tiers, in one transaction (the storage runs packs as separate steps). */
export function rollupPack(ctx: TelemetryCtx, pack: number, now: number): void {
  checkNow(now, 'rollup');
  ctx.write('cannot roll up telemetry', () => {
    for (const tier of ROLLUP_TIERS) rollupTier(ctx, pack, tier, now);
  });
}

function rollupTier(ctx: TelemetryCtx, pack: number, tier: RollupTier, now: number): void {
  const step = STEP[tier];
  const src = TABLE[SOURCE[tier]];
  const end = Math.floor(now / step) * step;
  const marks = ctx.watermarks(pack);
  let t = marks && Number.isFinite(marks[tier]) ? marks[tier] : -Infinity;
  if (t >= end) return;
  const nextTs = ctx.stmt(`SELECT min(ts) AS ts FROM ${src} WHERE pack = ? AND ts >= ? AND ts < ?`);
  const upsert = ctx.stmt(
    `INSERT INTO ${TABLE[tier]} (pack, ts, data) VALUES (?, ?, ?) ON CONFLICT (pack, ts) DO UPDATE SET data = excluded.data`,
  );
  const agg = new Aggregator();
  const values: number[] = [];
  const layoutOf = (id: number): Layout => ctx.layout(id);
  const layouts = new Map<string, Layout>();
  let bucket = 0;
  const flush = (): void => {
    if (agg.empty) return;
    const key = agg.key();
    let layout = layouts.get(key);
    if (!layout) layouts.set(key, (layout = ctx.layoutFor(agg.fields())));
    upsert.run(pack, bucket, agg.encode(ctx.w, layout));
    agg.reset();
  };
  while (t < end) {
    const next = (
      nextTs.get(pack, Number.isFinite(t) ? t : Number.MIN_SAFE_INTEGER, end) as {
        ts: number | null;
      }
    ).ts;
    if (next === null) break;
    const c0 = Math.floor(next / step) * step;
    const c1 = Math.min(end, c0 + CHUNK[tier]);
    for (const ts of ctx.scan(src, pack, c0, c1)) {
      const b = Math.floor(ts / step) * step;
      if (b !== bucket) flush();
      bucket = b;
      if (src === TABLE.raw) agg.addRaw(decodeRaw(ctx.r, layoutOf, values), values);
      else
        decodeRollup(ctx.r, layoutOf, (i, layout, v) =>
          agg.add(layout.gid[i]!, v.n, v.min, v.max, v.avg * v.n),
        );
    }
    flush();
    t = c1;
  }
  ctx.setWatermark(pack, tier, end);
}

export const { checkPolicy } = telemetryChecks;
const { checkNow } = telemetryChecks;

export function applyRetention(
  ctx: TelemetryCtx,
  now: number,
  policy: RetentionPolicy = DEFAULT_RETENTION,
): void {
  checkPolicy(policy);
  if (!Number.isFinite(now))
    throw new BmsError('REQUEST_INVALID', `retention: now must be a time in ms, got ${now}`);
  const packs = ctx.read('cannot list packs', () => ctx.packs());
  for (const { id } of packs) {
    ctx.write('cannot apply retention', () => {
      for (const tier of TIERS) {
        if (!Number.isFinite(policy[tier])) continue;
        const cutoff = now - policy[tier] * DAY;
        const gone = ctx
          .stmt(`DELETE FROM ${TABLE[tier]} WHERE pack = ? AND ts < ?`)
          .run(id, cutoff).changes;
        if (tier === 'raw' && gone > 0) trimDays(ctx, id, cutoff);
      }
    });
  }
}

/** Keeps the daily-file counters in step after raw rows before `cutoff` were deleted. */
function trimDays(ctx: TelemetryCtx, pack: number, cutoff: number): void {
  const slot = Math.floor(cutoff / SLOT);
  ctx.stmt('DELETE FROM telemetry_slots WHERE pack = ? AND slot < ?').run(pack, slot);
  const left = (
    ctx
      .stmt('SELECT count(*) AS n FROM telemetry_raw WHERE pack = ? AND ts >= ? AND ts < ?')
      .get(pack, slot * SLOT, (slot + 1) * SLOT) as { n: number }
  ).n;
  if (left === 0)
    ctx.stmt('DELETE FROM telemetry_slots WHERE pack = ? AND slot = ?').run(pack, slot);
  else {
    ctx
      .stmt(
        'UPDATE telemetry_slots SET chars = CAST(chars * 1.0 * ? / samples AS INTEGER), samples = ? WHERE pack = ? AND slot = ?',
      )
      .run(left, left, pack, slot);
  }
}
