/**
 * writeSamples: one transaction per batch. Each sample becomes one raw row (interned pack,
 * ts, compact blob); a sample already stored (same pack and ts) is skipped, so a batch
 * retried after a failure is harmless. The per-slot counters of the daily-file list (15 minutes of UTC time), the
 * latest snapshot per pack and the rollup watermarks (for late samples) change in the same
 * transaction.
 */
import { telemetryChecks, type Origin, type Sample } from '@openbms/storage';
import type { GatewayScope, TelemetryCtx } from './telemetry-context.js';
import { extract } from './telemetry-fields.js';
import { encodeRaw } from './telemetry-rows.js';
import { SLOT } from './telemetry-schema.js';

interface DayCount {
  pack: number;
  slot: number;
  samples: number;
  chars: number;
  layout: number;
  cols: number;
}

export const { checkSamples } = telemetryChecks;

/** Writes the samples of one gateway (`origin`, checked by the caller). */
export function writeSamples(ctx: TelemetryCtx, origin: Origin, samples: readonly Sample[]): void {
  checkSamples(samples);
  if (samples.length === 0) return;
  ctx.write('cannot write samples', () => {
    const insert = ctx.stmt(
      'INSERT OR IGNORE INTO telemetry_raw (pack, ts, data) VALUES (?, ?, ?)',
    );
    const values: number[] = [];
    const present: boolean[] = [];
    const days = new Map<string, DayCount>();
    const latest = new Map<number, Sample>();
    for (const s of samples) {
      const pack = ctx.packFor(origin, s.packId);
      const { key, count } = extract(s.snapshot, values, present);
      const layout = ctx.layoutForKey(key, present);
      if (insert.run(pack, s.ts, encodeRaw(ctx.w, layout, values)).changes === 0) continue;
      let chars = 0;
      for (let i = 0; i < count; i++) chars += String(values[i]).length;
      const slot = Math.floor(s.ts / SLOT);
      const dk = `${pack}:${slot}`;
      const d = days.get(dk);
      if (!d) days.set(dk, { pack, slot, samples: 1, chars, layout: layout.id, cols: count });
      else {
        d.samples++;
        d.chars += chars;
        if (count > d.cols) {
          d.cols = count;
          d.layout = layout.id;
        }
      }
      const last = latest.get(pack);
      if (!last || s.ts >= last.ts) latest.set(pack, s);
      ctx.lowerWatermarks(pack, s.ts);
    }
    const upDay = ctx.stmt(`
      INSERT INTO telemetry_slots (pack, slot, samples, chars, layout, cols) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (pack, slot) DO UPDATE SET samples = samples + excluded.samples, chars = chars + excluded.chars,
        layout = CASE WHEN excluded.cols > cols THEN excluded.layout ELSE layout END,
        cols = max(cols, excluded.cols)`);
    for (const d of days.values()) upDay.run(d.pack, d.slot, d.samples, d.chars, d.layout, d.cols);
    const upLatest = ctx.stmt(`
      INSERT INTO telemetry_latest (pack, ts, snapshot) VALUES (?, ?, ?)
      ON CONFLICT (pack) DO UPDATE SET ts = excluded.ts, snapshot = excluded.snapshot
      WHERE excluded.ts >= telemetry_latest.ts`);
    for (const [pack, s] of latest) upLatest.run(pack, s.ts, JSON.stringify(s.snapshot));
  });
}

export function latest(ctx: TelemetryCtx, scope: GatewayScope, packId: string): Sample | undefined {
  return ctx.read('cannot read the latest sample', () => {
    const pack = ctx.scopedPack(scope, packId);
    if (pack === undefined) return undefined;
    const row = ctx.stmt('SELECT ts, snapshot FROM telemetry_latest WHERE pack = ?').get(pack) as
      { ts: number; snapshot: string } | undefined;
    return row
      ? { packId, ts: row.ts, snapshot: JSON.parse(row.snapshot) as Sample['snapshot'] }
      : undefined;
  });
}
