/**
 * "Today" for a pack (seed 001's status page shows the day's max SOC and when it was
 * reached): max/min SOC with their times, energy charged and discharged, worst cell delta,
 * from local midnight. The stored history gives the day so far; live snapshots then extend it
 * without asking the server again.
 */
import type { HistoryView, Snapshot } from '@openbms/contract/api';

export interface Today {
  maxSoc?: { pct: number; at: number };
  minSoc?: { pct: number; at: number };
  /** kWh, positive. */
  chargedKwh: number;
  dischargedKwh: number;
  worstDeltaMv?: number;
  /** Time of the last point folded in (energy integrates from here). */
  lastAt?: number;
  lastPowerW?: number;
}

export function localMidnight(now: number): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** Gaps longer than this are not integrated (the pack was not read meanwhile). */
const MAX_GAP_MS = 15 * 60_000;

function addEnergy(t: Today, at: number, powerW: number | undefined): void {
  if (t.lastAt !== undefined && t.lastPowerW !== undefined && at > t.lastAt) {
    const dt = at - t.lastAt;
    if (dt <= MAX_GAP_MS) {
      const wh = (t.lastPowerW * dt) / 3_600_000;
      if (wh > 0) t.chargedKwh += wh / 1000;
      else t.dischargedKwh -= wh / 1000;
    }
  }
  if (powerW !== undefined) {
    t.lastAt = at;
    t.lastPowerW = powerW;
  }
}

function addSoc(t: Today, at: number, max: number | undefined, min: number | undefined): void {
  if (max !== undefined && (!t.maxSoc || max > t.maxSoc.pct)) t.maxSoc = { pct: max, at };
  if (min !== undefined && (!t.minSoc || min < t.minSoc.pct)) t.minSoc = { pct: min, at };
}

/** The day so far from a history answer (soc_pct, power_w, delta_cell_mv series). */
export function todayFromHistory(h: HistoryView): Today {
  const t: Today = { chargedKwh: 0, dischargedKwh: 0 };
  const soc = h.series.soc_pct;
  const power = h.series.power_w;
  const delta = h.series.delta_cell_mv;
  if (soc) soc.t.forEach((at, i) => addSoc(t, at, soc.max[i], soc.min[i]));
  if (power) power.t.forEach((at, i) => addEnergy(t, at, power.avg[i]));
  if (delta && delta.max.length > 0) t.worstDeltaMv = Math.max(...delta.max);
  return t;
}

/** Folds one live snapshot into the day (a new object; the old one is left as it was). */
export function foldSnapshot(prev: Today, s: Snapshot, at: number): Today {
  if (prev.lastAt !== undefined && at <= prev.lastAt) return prev;
  const t: Today = { ...prev };
  addSoc(t, at, s.soc_pct, s.soc_pct);
  addEnergy(t, at, s.power_w);
  if (s.delta_cell_mv !== undefined)
    t.worstDeltaMv = Math.max(t.worstDeltaMv ?? s.delta_cell_mv, s.delta_cell_mv);
  return t;
}
