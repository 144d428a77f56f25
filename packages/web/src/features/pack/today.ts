/**
 * "Today" for a pack (seed 001's status page shows the day's max SOC and when it was
 * reached): max/min SOC with their times, energy charged and discharged, worst cell delta,
 * from local midnight. The stored history gives the SOC and delta of the day so far; the
 * energy is the server's figure for today (the same source as the energy chart: the meters the
 * gateway counts in the device's time, so a simulated pack at 60x shows what its SOC swing
 * holds). Live snapshots then extend both without asking the server again: the energy by how
 * much the pack's meters grew since the server's figure was taken.
 */
import type { EnergyRowView, HistoryView, Snapshot } from '@openbms/contract/api';

interface Meters {
  charged: number;
  discharged: number;
}

export interface Today {
  maxSoc?: { pct: number; at: number };
  minSoc?: { pct: number; at: number };
  /** kWh, positive. */
  chargedKwh: number;
  dischargedKwh: number;
  worstDeltaMv?: number;
  /** Time of the last point folded in. */
  lastAt?: number;
  /** The server's figure for today, and the pack's meters when it was taken. */
  energy?: { base: Meters; meters?: Meters };
}

export function localMidnight(now: number): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

function addSoc(t: Today, at: number, max: number | undefined, min: number | undefined): void {
  if (max !== undefined && (!t.maxSoc || max > t.maxSoc.pct)) t.maxSoc = { pct: max, at };
  if (min !== undefined && (!t.minSoc || min < t.minSoc.pct)) t.minSoc = { pct: min, at };
}

const metersOf = (s: Snapshot | undefined): Meters | undefined =>
  typeof s?.energy_charged_kwh === 'number' && typeof s.energy_discharged_kwh === 'number'
    ? { charged: s.energy_charged_kwh, discharged: s.energy_discharged_kwh }
    : undefined;

/** Today's energy: the server's figure plus what the meters gained since (a reset adds 0). */
function applyEnergy(t: Today, now: Meters | undefined): void {
  const e = t.energy;
  if (!e) return;
  const grew = (k: keyof Meters): number =>
    e.meters && now && now[k] >= e.meters[k] ? now[k] - e.meters[k] : 0;
  t.chargedKwh = e.base.charged + grew('charged');
  t.dischargedKwh = e.base.discharged + grew('discharged');
}

/** The day so far from a history answer (soc_pct, delta_cell_mv series). */
export function todayFromHistory(h: HistoryView): Today {
  const t: Today = { chargedKwh: 0, dischargedKwh: 0 };
  const soc = h.series.soc_pct;
  const delta = h.series.delta_cell_mv;
  if (soc) soc.t.forEach((at, i) => addSoc(t, at, soc.max[i], soc.min[i]));
  if (soc && soc.t.length > 0) t.lastAt = soc.t[soc.t.length - 1];
  if (delta && delta.max.length > 0) t.worstDeltaMv = Math.max(...delta.max);
  return t;
}

/**
 * Takes the server's figure for today (the last row of the energy route's days) and the
 * pack's snapshot at that moment (its meters are the reference for live increases).
 */
export function withEnergy(
  prev: Today,
  row: EnergyRowView | undefined,
  s: Snapshot | undefined,
): Today {
  const t: Today = { ...prev };
  const base = { charged: row?.charged_kwh ?? 0, discharged: row?.discharged_kwh ?? 0 };
  const meters = metersOf(s);
  t.energy = meters ? { base, meters } : { base };
  applyEnergy(t, meters);
  return t;
}

/** Folds one live snapshot into the day (a new object; the old one is left as it was). */
export function foldSnapshot(prev: Today, s: Snapshot, at: number): Today {
  if (prev.lastAt !== undefined && at <= prev.lastAt) return prev;
  const t: Today = { ...prev, lastAt: at };
  addSoc(t, at, s.soc_pct, s.soc_pct);
  const now = metersOf(s);
  // The first snapshot with meters after the figure was taken becomes the reference.
  if (t.energy && !t.energy.meters && now) t.energy = { ...t.energy, meters: now };
  applyEnergy(t, now);
  if (s.delta_cell_mv !== undefined)
    t.worstDeltaMv = Math.max(t.worstDeltaMv ?? s.delta_cell_mv, s.delta_cell_mv);
  return t;
}
