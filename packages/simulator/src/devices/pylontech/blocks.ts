/**
 * The per-module blocks of 0x42 (analog values) and 0x44 (alarm info), and INFOFLAG.
 * Temperatures go out in the family's order: #1 the BMS board sensor, then the cell
 * sensors of temps_c (the decoder reports all of them in temps_c, board first).
 */
import type { Alarm, Reading } from '@openbms/core';
import {
  MAX_CELLS,
  MAX_TEMPS,
  STATE_HIGH,
  STATE_LOW,
  STATE_NORMAL,
  STATE_OTHER,
  STATUS1_BITS,
} from '@openbms/protocols/pylontech';
import type { SimPackApi } from '../../types.js';
import { limit } from './limits.js';
import { decikelvin, deciamp, i16, put16, put24, u16, u24 } from './wire.js';

/** Cell voltages on the wire (at most 48 cells). */
const wireCells = (r: Reading): number[] => (r.cell_mv ?? []).slice(0, MAX_CELLS);

/** Board sensor first, then the cell sensors (at most 32 in all). */
export function wireTemps(r: Reading): number[] {
  const cells = r.temps_c ?? [];
  const board = r.board_temp_c ?? r.mos_temp_c ?? cells[0] ?? 25;
  return [board, ...cells].slice(0, MAX_TEMPS);
}

/** One 0x42 module block: cells, temperatures, current, voltage, capacities, cycles. */
export function analogBlock(r: Reading): number[] {
  const out: number[] = [];
  const cells = wireCells(r);
  out.push(cells.length);
  for (const mv of cells) put16(out, i16(mv));
  const temps = wireTemps(r);
  out.push(temps.length);
  for (const t of temps) put16(out, decikelvin(t));
  put16(out, deciamp(r.current_a ?? 0));
  put16(out, u16((r.voltage_v ?? 0) * 1000));
  const remaining = u24((r.remaining_ah ?? 0) * 1000);
  const total = u24((r.full_ah ?? r.design_ah ?? 0) * 1000);
  // P = 2 (16-bit mAh) while both fit, else P = 4 with 24-bit fields (US3000 style).
  const wide = remaining > 0xffff || total > 0xffff;
  put16(out, wide ? 0xffff : remaining);
  out.push(wide ? 4 : 2);
  put16(out, wide ? 0xffff : total);
  put16(out, u16(r.cycles ?? 0));
  if (wide) {
    put24(out, remaining);
    put24(out, total);
  }
  return out;
}

const has = (alarms: readonly Alarm[], ...codes: string[]): boolean =>
  alarms.some((a) => codes.includes(a.code));
const protection = (alarms: readonly Alarm[], code: string): boolean =>
  alarms.some(
    (a) => a.code === code && (a.level === undefined ? a.severity === 'protection' : a.level >= 2),
  );

/** Index of the largest (or smallest) value, -1 for an empty list. */
function extreme(values: readonly number[], max: boolean): number {
  let best = -1;
  values.forEach((v, i) => {
    if (Number.isNaN(v)) return;
    if (best < 0 || (max ? v > values[best]! : v < values[best]!)) best = i;
  });
  return best;
}

/** Makes sure one item shows `state` when an active alarm says so (hysteresis keeps it on). */
function ensureState(states: number[], values: readonly number[], state: number): void {
  if (states.includes(state)) return;
  const i = extreme(values, state === STATE_HIGH);
  if (i >= 0 && states[i] === STATE_NORMAL) states[i] = state;
}

/**
 * One 0x44 module block. Per-cell and per-sensor states compare the values with the alarm
 * limits of pack.parameters() (temperatures with the charge limits while charging, else the
 * discharge limits); open sensors (raw.open_sensors) are "other" (0xF0). Active alarms set
 * the current/voltage states (any level) and the Status 1 protection bits (level >= 2), and
 * mark the extreme cell/sensor when no value crosses the limit any more.
 */
export function alarmBlock(r: Reading, pack: SimPackApi): number[] {
  const p = pack.parameters();
  const alarms = pack.activeAlarms();
  const cells = wireCells(r);
  const ov = limit(p, 'cell_ov_l1_mv');
  const uv = limit(p, 'cell_uv_l1_mv');
  const cellStates = cells.map((mv) => (mv > ov ? STATE_HIGH : mv < uv ? STATE_LOW : STATE_NORMAL));
  if (has(alarms, 'cell_ov')) ensureState(cellStates, cells, STATE_HIGH);
  if (has(alarms, 'cell_uv')) ensureState(cellStates, cells, STATE_LOW);

  const temps = wireTemps(r);
  const charging = (r.current_a ?? 0) > 0.1;
  const hot = limit(p, charging ? 'chg_ot_l1_c' : 'dsg_ot_l1_c');
  const cold = limit(p, charging ? 'chg_ut_l1_c' : 'dsg_ut_l1_c');
  const open = new Set(
    ((r.raw?.open_sensors as number[] | undefined) ?? []).map((i) => i + 1), // +1: board first
  );
  const tempStates = temps.map((t, i) =>
    open.has(i) ? STATE_OTHER : t > hot ? STATE_HIGH : t < cold ? STATE_LOW : STATE_NORMAL,
  );
  const live = temps.map((t, i) => (open.has(i) ? NaN : t));
  if (has(alarms, 'chg_ot', 'dsg_ot', 'cell_ot')) ensureState(tempStates, live, STATE_HIGH);
  if (has(alarms, 'chg_ut', 'dsg_ut', 'cell_ut')) ensureState(tempStates, live, STATE_LOW);

  const sense = (code: string): number => (has(alarms, code) ? STATE_OTHER : STATE_NORMAL);
  const chargeCurrent = has(alarms, 'chg_oc') ? STATE_HIGH : sense('current_sense_fault');
  const dischargeCurrent = has(alarms, 'dsg_oc') ? STATE_HIGH : STATE_NORMAL;
  const moduleVoltage = has(alarms, 'pack_ov')
    ? STATE_HIGH
    : has(alarms, 'pack_uv')
      ? STATE_LOW
      : sense('voltage_sense_fault');

  let s1 = 0;
  for (const b of STATUS1_BITS) if (b.code && protection(alarms, b.code)) s1 |= 1 << b.bit;
  // Status 2: charge / discharge MOSFET, bit 3 "running on module power" (always, as seen live).
  const s2 = 0x08 | (r.charge_mos ? 0x02 : 0) | (r.discharge_mos ? 0x04 : 0);
  const current = r.current_a ?? 0;
  let s3 = 0;
  if (current > 0.1) s3 |= 0x80;
  if (current < -0.1) s3 |= 0x40;
  if (r.heater) s3 |= 0x20;
  if ((r.soc_pct ?? 0) >= 100) s3 |= 0x08;
  if (s1 !== 0) s3 |= 0x01; // buzzer on a protection
  // Status 4/5: cells 1..16 outside 1..4.2 V.
  let s45 = 0;
  cells.slice(0, 16).forEach((mv, i) => {
    if (mv > 4200 || mv < 1000) s45 |= 1 << i;
  });

  return [
    cellStates.length,
    ...cellStates,
    tempStates.length,
    ...tempStates,
    chargeCurrent,
    moduleVoltage,
    dischargeCurrent,
    s1,
    s2,
    s3,
    s45 & 0xff,
    s45 >> 8,
  ];
}

/**
 * INFOFLAG bit 0 "unread alarm change" and bit 4 "unread switch change", kept per pack:
 * set when the alarms (or MOS states) differ from what the last 0x44 reply reported.
 */
interface Seen {
  alarms?: string;
  switches?: string;
}
const seen = new WeakMap<SimPackApi, Seen>();

function keys(pack: SimPackApi, r: Reading): Required<Seen> {
  const alarms = pack
    .activeAlarms()
    .map((a) => `${a.code}/${a.level ?? ''}`)
    .sort()
    .join(',');
  return { alarms, switches: `${r.charge_mos === true}/${r.discharge_mos === true}` };
}

export function infoFlag(pack: SimPackApi, r: Reading): number {
  const now = keys(pack, r);
  const last = seen.get(pack) ?? {};
  return (now.alarms !== last.alarms ? 0x01 : 0) | (now.switches !== last.switches ? 0x10 : 0);
}

/** A 0x44 reply delivered the current alarm and switch state: the flags clear. */
export function markRead(pack: SimPackApi, r: Reading): void {
  seen.set(pack, keys(pack, r));
}
