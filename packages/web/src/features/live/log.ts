/**
 * The real-time data log of seed 004 ("Real Time Data": one row per reading of a pack,
 * cleared, exported): every snapshot the live socket brings for a pack becomes one row,
 * kept in memory in the browser. A row keeps only the values shown (not the whole snapshot),
 * and the log keeps at most `cap` rows, dropping the oldest, so a tab left open for days
 * stays the same size.
 *
 * One log per pack for the page's life: it records from the first visit to the pack's Live
 * tab, also while another tab of the console is shown, until the page is reloaded.
 */
import type { Snapshot } from '@openbms/contract/api';
import { live } from '../../api/live';
import { runState } from '../../site/model';

/** The fixed columns, in the order seed 004's table shows them; cells and sensors follow. */
export const FIXED = [
  { key: 'state', unit: '', decimals: 0 },
  { key: 'voltage_v', unit: 'V', decimals: 2 },
  { key: 'current_a', unit: 'A', decimals: 2 },
  { key: 'power_w', unit: 'W', decimals: 0 },
  { key: 'soc_pct', unit: '%', decimals: 1 },
  { key: 'soh_pct', unit: '%', decimals: 0 },
  { key: 'remaining_ah', unit: 'Ah', decimals: 2 },
  { key: 'full_ah', unit: 'Ah', decimals: 2 },
  { key: 'design_ah', unit: 'Ah', decimals: 1 },
  { key: 'cycles', unit: '', decimals: 0 },
  { key: 'min_cell_mv', unit: 'mV', decimals: 0 },
  { key: 'max_cell_mv', unit: 'mV', decimals: 0 },
  { key: 'delta_cell_mv', unit: 'mV', decimals: 0 },
  { key: 'mos_temp_c', unit: '°C', decimals: 1 },
  { key: 'charge_mos', unit: '', decimals: 0 },
  { key: 'discharge_mos', unit: '', decimals: 0 },
] as const;
export type FixedKey = (typeof FIXED)[number]['key'];

/** One reading: the time it was read (ms) and the values shown; absent ones are undefined. */
export interface LogRow {
  /** Order of arrival in this log (a stable key). */
  seq: number;
  ts: number;
  /** Run state ('idle' | 'charging' | 'discharging' | 'fault'), MOS as 'on' / 'off'. */
  text: Partial<Record<FixedKey, string>>;
  num: Partial<Record<FixedKey, number>>;
  cells: number[];
  temps: number[];
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The row of one snapshot. Min/max/delta come from the cells when there are cells. */
export function rowOf(seq: number, ts: number, s: Snapshot): LogRow {
  const num: Partial<Record<FixedKey, number>> = {};
  const text: Partial<Record<FixedKey, string>> = {};
  for (const k of [
    'voltage_v',
    'current_a',
    'power_w',
    'soc_pct',
    'soh_pct',
    'remaining_ah',
    'full_ah',
    'design_ah',
    'cycles',
    'min_cell_mv',
    'max_cell_mv',
    'delta_cell_mv',
    'mos_temp_c',
  ] as const) {
    const v = s[k];
    if (finite(v)) num[k] = v;
  }
  const cells = (s.cell_mv ?? []).filter(finite);
  if (cells.length > 0) {
    // The row shows the cells next to min/max: they agree (issue 12, bug 1).
    num.min_cell_mv = Math.min(...cells);
    num.max_cell_mv = Math.max(...cells);
    num.delta_cell_mv = num.max_cell_mv - num.min_cell_mv;
  }
  if (num.power_w === undefined && num.voltage_v !== undefined && num.current_a !== undefined)
    num.power_w = Math.round(num.voltage_v * num.current_a);
  const state = runState(s);
  if (state) text.state = state;
  if (typeof s.charge_mos === 'boolean') text.charge_mos = s.charge_mos ? 'on' : 'off';
  if (typeof s.discharge_mos === 'boolean') text.discharge_mos = s.discharge_mos ? 'on' : 'off';
  // An open sensor comes as null or NaN: kept as NaN so the column stays in place.
  const temps = (s.temps_c ?? []).map((v) => (finite(v) ? v : Number.NaN));
  return { seq, ts, num, text, cells, temps };
}

/** Row caps offered; the default keeps about 7 h at the default 5 s poll. */
export const CAPS = [1000, 5000, 20000] as const;
export const DEFAULT_CAP = 5000;

export interface LogState {
  /** Oldest first. */
  rows: readonly LogRow[];
  paused: boolean;
  cap: number;
  /** Readings that arrived (recorded or not: a paused log counts them too). */
  seen: number;
  /** Readings not recorded because the log was paused, since the last clear. */
  skipped: number;
  /** Rows dropped because the cap was reached, since the last clear. */
  dropped: number;
  /** When recording started (the first visit or the last clear), ms. */
  since: number;
}

/** A pack's log: fed by the live socket, read by the tab through subscribe/state. */
export class PackLog {
  private s: LogState;
  private listeners = new Set<() => void>();

  constructor(now: number) {
    this.s = {
      rows: [],
      paused: false,
      cap: DEFAULT_CAP,
      seen: 0,
      skipped: 0,
      dropped: 0,
      since: now,
    };
  }

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  state = (): LogState => this.s;

  private set(next: Partial<LogState>): void {
    this.s = { ...this.s, ...next };
    for (const l of this.listeners) l();
  }

  add(ts: number, snapshot: Snapshot): void {
    if (this.s.paused) return this.set({ seen: this.s.seen + 1, skipped: this.s.skipped + 1 });
    const over = Math.max(0, this.s.rows.length + 1 - this.s.cap);
    const rows = [...this.s.rows.slice(over), rowOf(this.s.seen, ts, snapshot)];
    this.set({ rows, seen: this.s.seen + 1, dropped: this.s.dropped + over });
  }

  setPaused(paused: boolean): void {
    this.set({ paused });
  }

  setCap(cap: number): void {
    const over = Math.max(0, this.s.rows.length - cap);
    this.set({ cap, rows: this.s.rows.slice(over), dropped: this.s.dropped + over });
  }

  clear(now: number): void {
    this.set({ rows: [], skipped: 0, dropped: 0, since: now });
  }
}

const logs = new Map<string, PackLog>();

/** The log of a pack, created (and recording) on first use. */
export function packLog(packId: string): PackLog {
  let log = logs.get(packId);
  if (!log) {
    const created = new PackLog(Date.now());
    live.onSnapshot((id, ts, s) => {
      if (id === packId) created.add(ts, s);
    });
    logs.set(packId, created);
    log = created;
  }
  return log;
}

/** Cell and sensor columns: as many as the widest row has. */
export function widths(rows: readonly LogRow[]): { cells: number; temps: number } {
  let cells = 0;
  let temps = 0;
  for (const r of rows) {
    if (r.cells.length > cells) cells = r.cells.length;
    if (r.temps.length > temps) temps = r.temps.length;
  }
  return { cells, temps };
}

/** The fixed columns some row has a value for (a family without SOH shows no SOH column). */
export function presentFixed(rows: readonly LogRow[]): (typeof FIXED)[number][] {
  return FIXED.filter((c) =>
    rows.some((r) => r.num[c.key] !== undefined || r.text[c.key] !== undefined),
  );
}
