/**
 * The sunrise/sunset report's numbers, read back from the telemetry store (so a restart in
 * the middle of the day loses nothing): per pack, min/max SOC, energy in and out, and the
 * worst cell delta over the period.
 *
 * Energy integrates power over time. Raw samples: each sample's power holds until the next
 * one (gaps over 15 min, a pack offline, count nothing). When raw samples are gone
 * (retention), the store answers with 1m/15m/1h buckets: each bucket's average power over
 * its width. Power is `power_w` (+ charging), or voltage x current where a pack does not
 * report power.
 */
import type { HistoryQuery, HistoryResult, Series } from '@openbms/storage';
import type { SunKind } from './sun.js';

export interface PackReport {
  id: string;
  name: string;
  /** Points read for the pack (0: no data in the period). */
  samples: number;
  soc_min_pct?: number;
  soc_max_pct?: number;
  energy_in_kwh?: number;
  energy_out_kwh?: number;
  worst_delta_mv?: number;
  /** Where the numbers come from: raw samples or a rollup tier. */
  resolution?: HistoryResult['resolution'];
}

export interface DailyReport {
  kind: SunKind;
  from: number;
  to: number;
  packs: PackReport[];
}

/** Where a report reads its numbers: the gateway's own telemetry (its scope applied). */
export interface HistorySource {
  history(q: HistoryQuery): Promise<HistoryResult>;
}

/** A raw gap longer than this is a pack that was away: it adds no energy. */
export const MAX_GAP_MS = 15 * 60_000;
const STEP_MS: Record<string, number> = { '1m': 60_000, '15m': 900_000, '1h': 3_600_000 };
/** More points than a day of 1 s polls: the store answers with raw samples when it has them. */
const MAX_POINTS = 200_000;

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

function seriesMin(s: Series | undefined): number | undefined {
  if (!s || s.min.length === 0) return undefined;
  let m = Infinity;
  for (const v of s.min) if (v < m) m = v;
  return m;
}

function seriesMax(s: Series | undefined): number | undefined {
  if (!s || s.max.length === 0) return undefined;
  let m = -Infinity;
  for (const v of s.max) if (v > m) m = v;
  return m;
}

/** Power per point: power_w, else voltage x current where both have the same times. */
function powerSeries(h: HistoryResult): { t: number[]; w: number[] } | undefined {
  const p = h.series['power_w'];
  if (p && p.t.length > 0) return { t: p.t, w: p.avg };
  const v = h.series['voltage_v'];
  const i = h.series['current_a'];
  if (!v || !i || v.t.length === 0 || i.t.length === 0) return undefined;
  const t: number[] = [];
  const w: number[] = [];
  let k = 0;
  for (let j = 0; j < i.t.length; j++) {
    while (k < v.t.length && v.t[k]! < i.t[j]!) k++;
    if (k < v.t.length && v.t[k] === i.t[j]) {
      t.push(i.t[j]!);
      w.push(v.avg[k]! * i.avg[j]!);
    }
  }
  return t.length > 0 ? { t, w } : undefined;
}

/** Wh charged (w > 0) and discharged (w < 0) between from and to. */
export function integrateEnergy(
  t: readonly number[],
  w: readonly number[],
  from: number,
  to: number,
  bucketMs?: number,
): { inWh: number; outWh: number } {
  let inWh = 0;
  let outWh = 0;
  const add = (watts: number, ms: number): void => {
    if (!(ms > 0) || !Number.isFinite(watts)) return;
    const wh = (watts * ms) / 3_600_000;
    if (wh > 0) inWh += wh;
    else outWh -= wh;
  };
  for (let k = 0; k < t.length; k++) {
    const start = t[k]!;
    let end: number;
    if (bucketMs !== undefined) {
      end = start + bucketMs;
    } else {
      const next = t[k + 1];
      if (next === undefined) {
        // The last sample holds for one typical interval (or until the end of the period).
        const prev = t[k - 1];
        end = prev !== undefined && start - prev <= MAX_GAP_MS ? start + (start - prev) : start;
      } else {
        end = next - start > MAX_GAP_MS ? start : next;
      }
    }
    add(w[k]!, Math.min(end, to) - Math.max(start, from));
  }
  return { inWh, outWh };
}

export async function packReport(
  store: HistorySource,
  pack: { id: string; name: string },
  from: number,
  to: number,
): Promise<PackReport> {
  const h = await store.history({
    packId: pack.id,
    from,
    to,
    fields: ['soc_pct', 'power_w', 'voltage_v', 'current_a', 'delta_cell_mv'],
    resolution: 'auto',
    maxPoints: MAX_POINTS,
  });
  const samples = Math.max(0, ...Object.values(h.series).map((s) => s.t.length));
  const r: PackReport = { id: pack.id, name: pack.name, samples };
  if (samples === 0) return r;
  r.resolution = h.resolution;
  const socMin = seriesMin(h.series['soc_pct']);
  const socMax = seriesMax(h.series['soc_pct']);
  if (socMin !== undefined && socMax !== undefined) {
    r.soc_min_pct = round(socMin, 1);
    r.soc_max_pct = round(socMax, 1);
  }
  const power = powerSeries(h);
  if (power) {
    const e = integrateEnergy(power.t, power.w, from, to, STEP_MS[h.resolution]);
    r.energy_in_kwh = round(e.inWh / 1000, 3);
    r.energy_out_kwh = round(e.outWh / 1000, 3);
  }
  const delta = seriesMax(h.series['delta_cell_mv']);
  if (delta !== undefined) r.worst_delta_mv = Math.round(delta);
  return r;
}

export async function dailyReport(
  store: HistorySource,
  packs: readonly { id: string; name: string }[],
  kind: SunKind,
  from: number,
  to: number,
): Promise<DailyReport> {
  const out: PackReport[] = [];
  for (const p of packs) out.push(await packReport(store, p, from, to));
  return { kind, from, to, packs: out };
}
