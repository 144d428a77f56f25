/**
 * The overview's arithmetic, kept pure so it can be tested without a browser: one row per
 * pack (state, power, temperature range, identity), parallel systems (a bus with more than
 * one pack), the site summary, capacity-weighted SOC, filters, search and sorting. The
 * parallel view and the large screen use the same functions, so the three pages agree.
 */
import type { AlarmView, BusView, PackView, SiteView, Snapshot } from '@openbms/contract/api';
import { IDLE_CURRENT_A, runStateOf } from '@openbms/core';

export type RunState = 'charging' | 'discharging' | 'idle' | 'fault';
export type Severity = AlarmView['severity'];

export { IDLE_CURRENT_A };

/** The pack's running state (core's runStateOf: its own, unless the current contradicts it). */
export function runState(s: Snapshot | null | undefined): RunState | undefined {
  return s ? runStateOf(s) : undefined;
}

export function stateOfCurrent(a: number | undefined): RunState | undefined {
  return runStateOf({ current_a: a });
}

/**
 * A system's state from its online packs' states: fault if one is in fault; idle when all
 * are idle (four idle packs each drawing 0.04 A are not a charging system); one direction
 * when the others idle; mixed directions by the sign of the summed current, the idle band
 * widened per pack.
 */
export function systemState(
  states: readonly (RunState | undefined)[],
  current: number | undefined,
): RunState | undefined {
  const known = states.filter((x): x is RunState => x !== undefined);
  if (known.includes('fault')) return 'fault';
  if (known.length === 0 || known.length < states.length) {
    return current === undefined ? undefined : stateOfCurrent(current / Math.max(1, states.length));
  }
  const charging = known.includes('charging');
  const discharging = known.includes('discharging');
  if (!charging && !discharging) return 'idle';
  if (charging !== discharging) return charging ? 'charging' : 'discharging';
  return current === undefined ? undefined : stateOfCurrent(current / known.length);
}

/** Power in W (>0 charging): as reported, else V × I. */
export function powerOf(s: Snapshot | null | undefined): number | undefined {
  if (!s) return undefined;
  if (s.power_w !== undefined) return s.power_w;
  if (s.voltage_v !== undefined && s.current_a !== undefined) return s.voltage_v * s.current_a;
  return undefined;
}

/** The lowest and highest temperature of the pack's cell sensors. */
export function tempRange(s: Snapshot | null | undefined): { min?: number; max?: number } {
  if (!s) return {};
  const t = s.temps_c?.filter((x) => Number.isFinite(x)) ?? [];
  const min = s.min_temp_c ?? (t.length > 0 ? Math.min(...t) : undefined);
  const max = s.max_temp_c ?? (t.length > 0 ? Math.max(...t) : undefined);
  return { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
}

/** The cell voltage spread in mV: as reported, else from the extremes or the cells. */
export function deltaOf(s: Snapshot | null | undefined): number | undefined {
  if (!s) return undefined;
  if (s.delta_cell_mv !== undefined) return s.delta_cell_mv;
  if (s.max_cell_mv !== undefined && s.min_cell_mv !== undefined) {
    return s.max_cell_mv - s.min_cell_mv;
  }
  const c = s.cell_mv?.filter((x) => Number.isFinite(x)) ?? [];
  return c.length > 0 ? Math.max(...c) - Math.min(...c) : undefined;
}

/**
 * The capacity a pack's SOC is a share of: full capacity, else design capacity, else what
 * the remaining capacity and SOC imply. Undefined when nothing says.
 */
export function capacityAh(s: Snapshot | null | undefined): number | undefined {
  if (!s) return undefined;
  if (s.full_ah !== undefined && s.full_ah > 0) return s.full_ah;
  if (s.design_ah !== undefined && s.design_ah > 0) return s.design_ah;
  if (s.remaining_ah !== undefined && s.soc_pct !== undefined && s.soc_pct > 0) {
    return (s.remaining_ah * 100) / s.soc_pct;
  }
  return undefined;
}

/**
 * The SOC of several packs together, weighted by each pack's capacity (a 200 Ah pack at
 * 50 % holds as much as two 100 Ah packs at 50 %). A pack whose capacity is unknown counts
 * with the mean of the known ones; when none is known, every pack counts the same.
 */
export function combinedSoc(snaps: readonly (Snapshot | null | undefined)[]): number | undefined {
  const items = snaps
    .filter((s): s is Snapshot => !!s && s.soc_pct !== undefined && Number.isFinite(s.soc_pct))
    .map((s) => ({ soc: s.soc_pct!, cap: capacityAh(s) }));
  if (items.length === 0) return undefined;
  const known = items.filter((i) => i.cap !== undefined).map((i) => i.cap!);
  const fill = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1;
  let num = 0;
  let den = 0;
  for (const i of items) {
    const w = i.cap ?? fill;
    num += i.soc * w;
    den += w;
  }
  return den > 0 ? num / den : undefined;
}

export interface Identity {
  serial?: string;
  barcode?: string;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** Serial number and bar code from the snapshot's info, or the protocol's raw fields. */
export function identityOf(s: Snapshot | null | undefined): Identity {
  if (!s) return {};
  const raw = s.raw ?? {};
  const serial = str(s.info?.serial) ?? str(raw.serial) ?? str(raw.serial_number);
  const barcode =
    str(s.info?.barcode) ?? str(raw.barcode) ?? str(raw.bar_code) ?? str(raw.pack_barcode);
  return { ...(serial ? { serial } : {}), ...(barcode ? { barcode } : {}) };
}

/**
 * Identities seen during this visit. Some BMS send their serial in a reply that is read
 * less often than the live values, so a snapshot may lack it; search still finds the pack.
 */
const seenIdentity = new Map<string, Identity>();

function rememberIdentity(id: string, s: Snapshot | null): Identity {
  const now = identityOf(s);
  const before = seenIdentity.get(id) ?? {};
  const merged = { ...before, ...now };
  if (merged.serial !== before.serial || merged.barcode !== before.barcode) {
    seenIdentity.set(id, merged);
  }
  return merged;
}

export interface AlarmSummary {
  count: number;
  worst?: Severity;
}

const RANK: Record<Severity, number> = { warning: 0, protection: 1, fault: 2 };

export function worse(a: Severity | undefined, b: Severity | undefined): Severity | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return RANK[b] > RANK[a] ? b : a;
}

export function summariseAlarms(alarms: readonly AlarmView[]): AlarmSummary {
  let worst: Severity | undefined;
  for (const a of alarms) worst = worse(worst, a.severity);
  return { count: alarms.length, ...(worst ? { worst } : {}) };
}

export function alarmsByPack(alarms: readonly AlarmView[]): Map<string, AlarmView[]> {
  const m = new Map<string, AlarmView[]>();
  for (const a of alarms) {
    const l = m.get(a.pack_id);
    if (l) l.push(a);
    else m.set(a.pack_id, [a]);
  }
  return m;
}

export interface PackRow {
  pack: PackView;
  online: boolean;
  state?: RunState;
  soc?: number;
  voltage?: number;
  current?: number;
  power?: number;
  tmin?: number;
  tmax?: number;
  delta?: number;
  capacity?: number;
  alarms: AlarmSummary;
  identity: Identity;
  lastSeen?: number;
}

const NO_ALARMS: AlarmSummary = { count: 0 };

export function packRow(p: PackView, alarms: readonly AlarmView[] | undefined): PackRow {
  const s = p.snapshot;
  const t = tempRange(s);
  const row: PackRow = {
    pack: p,
    online: p.online,
    alarms: alarms && alarms.length > 0 ? summariseAlarms(alarms) : NO_ALARMS,
    identity: rememberIdentity(p.id, s),
  };
  const state = runState(s);
  if (state !== undefined) row.state = state;
  if (s?.soc_pct !== undefined) row.soc = s.soc_pct;
  if (s?.voltage_v !== undefined) row.voltage = s.voltage_v;
  if (s?.current_a !== undefined) row.current = s.current_a;
  const power = powerOf(s);
  if (power !== undefined) row.power = power;
  if (t.min !== undefined) row.tmin = t.min;
  if (t.max !== undefined) row.tmax = t.max;
  const delta = deltaOf(s);
  if (delta !== undefined) row.delta = delta;
  const cap = capacityAh(s);
  if (cap !== undefined) row.capacity = cap;
  if (p.last_seen !== null) row.lastSeen = p.last_seen;
  return row;
}

/**
 * Rows already made, by pack object: the live store replaces only the packs that changed,
 * so an unchanged pack (with unchanged alarms) keeps its row and a memoised card need not
 * redraw.
 */
const rowCache = new WeakMap<PackView, { alarms: string; row: PackRow }>();

export function packRows(packs: readonly PackView[], alarms: readonly AlarmView[]): PackRow[] {
  const byPack = alarmsByPack(alarms);
  return packs.map((p) => {
    const mine = byPack.get(p.id);
    const key = mine ? mine.map((a) => `${a.id}:${a.severity}`).join(',') : '';
    const hit = rowCache.get(p);
    if (hit && hit.alarms === key) return hit.row;
    const row = packRow(p, mine);
    rowCache.set(p, { alarms: key, row });
    return row;
  });
}

/* Filters, search, sorting ------------------------------------------------------------ */

export const FILTERS = ['all', 'online', 'offline', 'alarm'] as const;
export type Filter = (typeof FILTERS)[number];
export const SORTS = ['name', 'soc', 'power', 'delta', 'temp', 'seen'] as const;
export type SortKey = (typeof SORTS)[number];
export type SortDir = 'asc' | 'desc';

export function matchesFilter(r: PackRow, f: Filter): boolean {
  switch (f) {
    case 'all':
      return true;
    case 'online':
      return r.online;
    case 'offline':
      return !r.online;
    case 'alarm':
      return r.alarms.count > 0;
  }
}

export function filterCounts(rows: readonly PackRow[]): Record<Filter, number> {
  const c: Record<Filter, number> = { all: 0, online: 0, offline: 0, alarm: 0 };
  for (const r of rows) for (const f of FILTERS) if (matchesFilter(r, f)) c[f]++;
  return c;
}

/** An address typed as decimal ("2") or hexadecimal ("0x02"), else undefined. */
export function parseAddress(q: string): number | undefined {
  const s = q.trim().toLowerCase();
  if (/^\d{1,3}$/.test(s)) return Number(s);
  if (/^0x[0-9a-f]{1,2}$/.test(s)) return parseInt(s.slice(2), 16);
  return undefined;
}

/**
 * Search by name, serial or bar code (any part, any case) or by address (the whole
 * number, decimal or 0x-hex).
 */
export function matchesSearch(r: PackRow, q: string): boolean {
  const s = q.trim().toLowerCase();
  if (s === '') return true;
  if (parseAddress(s) === r.pack.address) return true;
  const hay = [r.pack.name, r.identity.serial, r.identity.barcode];
  return hay.some((h) => h !== undefined && h.toLowerCase().includes(s));
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export const defaultDir = (k: SortKey): SortDir => (k === 'name' ? 'asc' : 'desc');

function sortValue(r: PackRow, k: SortKey): number | undefined {
  switch (k) {
    case 'soc':
      return r.soc;
    case 'power':
      return r.power;
    case 'delta':
      return r.delta;
    case 'temp':
      return r.tmax;
    case 'seen':
      return r.lastSeen;
    case 'name':
      return undefined;
  }
}

/** Sorts a copy; packs without the value go last in either direction, ties by name. */
export function sortRows(rows: readonly PackRow[], k: SortKey, dir: SortDir): PackRow[] {
  const sign = dir === 'asc' ? 1 : -1;
  const byName = (a: PackRow, b: PackRow) =>
    collator.compare(a.pack.name, b.pack.name) || (a.pack.id < b.pack.id ? -1 : 1);
  return [...rows].sort((a, b) => {
    if (k === 'name') return sign * byName(a, b);
    const va = sortValue(a, k);
    const vb = sortValue(b, k);
    if (va === undefined && vb === undefined) return byName(a, b);
    if (va === undefined) return 1;
    if (vb === undefined) return -1;
    return va !== vb ? sign * (va - vb) : byName(a, b);
  });
}

/* Parallel systems and the site --------------------------------------------------------- */

/**
 * Families whose parallel packs have a master set by address: Pylontech (the battery at ADR 2,
 * slaves above it) and PACE (pace.md: the pack addressed 1 masters the link bus).
 */
const MASTER_BY_ADDRESS = new Set(['pylontech', 'pylontech-rs485', 'pylon', 'pace']);

/** Whether packs of this protocol elect their master by the lowest address. */
export const hasMasterByAddress = (protocol: string): boolean =>
  MASTER_BY_ADDRESS.has(protocol.toLowerCase());

export interface Totals {
  packs: number;
  online: number;
  /** Sum of the online packs' currents (A, >0 charging). */
  current?: number;
  /** Sum of the online packs' power (W, >0 charging). */
  power?: number;
  /** Power into the packs that charge / out of those that discharge (both >= 0). */
  charging: number;
  discharging: number;
  /** Mean voltage of the online packs (parallel packs share one bus voltage). */
  voltage?: number;
  soc?: number;
  state?: RunState;
  tmin?: number;
  tmax?: number;
  deltaMax?: number;
  alarms: AlarmSummary;
}

/** Totals over a group of packs; offline packs count only in `packs` and alarms. */
export function totals(rows: readonly PackRow[]): Totals {
  const on = rows.filter((r) => r.online);
  const sum = (xs: (number | undefined)[]): number | undefined => {
    const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
    return v.length > 0 ? v.reduce((a, b) => a + b, 0) : undefined;
  };
  const nums = (xs: (number | undefined)[]) =>
    xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  const current = sum(on.map((r) => r.current));
  const power = sum(on.map((r) => r.power));
  const volts = nums(on.map((r) => r.voltage));
  const mins = nums(on.map((r) => r.tmin));
  const maxs = nums(on.map((r) => r.tmax));
  const deltas = nums(on.map((r) => r.delta));
  let worst: Severity | undefined;
  let count = 0;
  for (const r of rows) {
    count += r.alarms.count;
    worst = worse(worst, r.alarms.worst);
  }
  const t: Totals = {
    packs: rows.length,
    online: on.length,
    charging: on.reduce((a, r) => a + Math.max(0, r.power ?? 0), 0),
    discharging: on.reduce((a, r) => a + Math.max(0, -(r.power ?? 0)), 0),
    alarms: { count, ...(worst ? { worst } : {}) },
  };
  if (current !== undefined) t.current = current;
  if (power !== undefined) t.power = power;
  if (volts.length > 0) t.voltage = volts.reduce((a, b) => a + b, 0) / volts.length;
  const soc = combinedSoc(on.map((r) => r.pack.snapshot));
  if (soc !== undefined) t.soc = soc;
  const state = systemState(
    on.map((r) => r.state),
    current,
  );
  if (state !== undefined) t.state = state;
  if (mins.length > 0) t.tmin = Math.min(...mins);
  if (maxs.length > 0) t.tmax = Math.max(...maxs);
  if (deltas.length > 0) t.deltaMax = Math.max(...deltas);
  return t;
}

export interface SystemRow {
  site: string;
  siteName: string;
  bus: string;
  protocol: string;
  port: string;
  /** Packs by address, lowest first. */
  rows: PackRow[];
  totals: Totals;
  /** The master's pack id when the protocol elects one by address. */
  master?: string;
}

/** The master of a Pylontech-style group: the lowest address among the online packs. */
export function masterOf(protocol: string, rows: readonly PackRow[]): string | undefined {
  if (!hasMasterByAddress(protocol) || rows.length === 0) return undefined;
  const on = rows.filter((r) => r.online);
  const pool = on.length > 0 ? on : rows;
  return pool.reduce((a, b) => (b.pack.address < a.pack.address ? b : a)).pack.id;
}

export function systemOf(
  bus: BusView,
  siteName: string,
  rowsById: ReadonlyMap<string, PackRow>,
): SystemRow {
  const rows = bus.packs
    .map((id) => rowsById.get(id))
    .filter((r): r is PackRow => r !== undefined)
    .sort((a, b) => a.pack.address - b.pack.address);
  const s: SystemRow = {
    site: bus.site,
    siteName,
    bus: bus.id,
    protocol: bus.protocol,
    port: bus.port,
    rows,
    totals: totals(rows),
  };
  const master = masterOf(bus.protocol, rows);
  if (master !== undefined) s.master = master;
  return s;
}

/** Every bus with more than one pack, as a parallel system. */
export function parallelSystems(
  buses: readonly BusView[],
  sites: readonly SiteView[],
  rows: readonly PackRow[],
): SystemRow[] {
  const byId = new Map(rows.map((r) => [r.pack.id, r]));
  const names = new Map(sites.map((s) => [s.id, s.name]));
  return buses
    .filter((b) => b.packs.length > 1)
    .map((b) => systemOf(b, names.get(b.site) ?? b.site, byId));
}

export const parallelPath = (site: string, bus: string): string =>
  `/parallel/${encodeURIComponent(site)}/${encodeURIComponent(bus)}`;
