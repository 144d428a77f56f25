/**
 * The 300-byte `55 AA EB 90` records a JK BMS sends (cell info, settings, device info),
 * built from a simulated pack with the protocol module's own field tables.
 */
import type { Alarm, Reading } from '@openbms/core';
import { sum8 } from '@openbms/protocols';
import {
  ALARM_BITS,
  CELL_INFO,
  DEVICE_INFO_TEXT,
  RECORD_CELL_INFO,
  RECORD_DEVICE_INFO,
  RECORD_HEADER,
  RECORD_LENGTH,
  RECORD_SETTINGS,
  SETTINGS,
  type Layout,
} from '@openbms/protocols/jk';
import type { SimPackApi } from '../../types.js';
import { fieldValue, paramValue } from './settings.js';
import { LeWriter } from './wire.js';

/** Per-pack record counter (byte 5), as the firmware increments it. */
const counters = new WeakMap<SimPackApi, number>();

function finish(w: LeWriter, type: number, pack: SimPackApi): Uint8Array {
  const n = ((counters.get(pack) ?? 0) + 1) & 0xff;
  counters.set(pack, n);
  w.bytes.set(RECORD_HEADER, 0);
  w.u8(4, type);
  w.u8(5, n);
  w.u8(RECORD_LENGTH - 1, sum8(w.bytes, 0, RECORD_LENGTH - 1));
  return w.bytes;
}

/**
 * Alarm bits of the cell-info record. JK reports protections, not warnings: level-1 alarms
 * and codes without a JK bit (cell_diff, soc_low...) are not carried.
 */
export function alarmBitsOf(alarms: readonly Alarm[], bits: number, current: number): number {
  let word = 0;
  for (const a of alarms) {
    if (a.level === 1) continue;
    let bit = -1;
    if (a.code === 'short_circuit') bit = current > 0 ? 7 : 14;
    else if (a.code === 'dsg_oc' && a.level === 3 && bits === 32) bit = 26;
    else bit = ALARM_BITS.findIndex((d) => d[1] === a.code && d[2] === undefined);
    if (bit >= 0 && bit < bits) word = (word | (1 << bit)) >>> 0;
  }
  return word;
}

const dC = (t: number): number => t * 10;

export function cellInfoRecord(layout: Layout, pack: SimPackApi, s: Reading): Uint8Array {
  const L = CELL_INFO[layout];
  const w = new LeWriter(RECORD_LENGTH);
  const cells = (s.cell_mv ?? []).slice(0, L.maxCells);
  let mask = 0;
  cells.forEach((mv, i) => {
    w.u16(6 + 2 * i, mv);
    w.u16(L.wireRes + 2 * i, s.cell_resistance_mohm?.[i] ?? 0);
    mask = (mask | (1 << i)) >>> 0;
  });
  w.u32(L.cellMask, mask);
  if (cells.length > 0) {
    const avg = cells.reduce((a, b) => a + b, 0) / cells.length;
    w.u16(L.avgCell, avg);
    w.u16(L.deltaCell, Math.max(...cells) - Math.min(...cells));
  }
  const v = s.voltage_v ?? 0;
  const i = s.current_a ?? 0;
  w.u32(L.voltage, v * 1000);
  w.u32(L.power, Math.abs(v * i) * 1000);
  w.i32(L.current, i * 1000);

  const temps = s.temps_c ?? [];
  let present = 0;
  if (s.mos_temp_c !== undefined) {
    present |= 0x01;
    w.i16(L.mosTemp, dC(s.mos_temp_c));
    w.i16(L.temp254, dC(s.mos_temp_c));
  }
  const tOffsets = [L.t1, L.t2, L.temp256, L.temp258];
  tOffsets.forEach((o, k) => {
    const t = temps[k];
    if (t === undefined || o < 0) return;
    present |= 0x02 << k;
    w.i16(o, dC(t));
  });
  w.u8(L.tempPresent, present);

  const bits = alarmBitsOf(s.alarms ?? [], L.alarmBits, i);
  if (L.alarmBits === 32) w.u32(L.alarm, bits);
  else w.u16(L.alarm, bits);

  const bal = s.balance_current_a ?? 0;
  w.i16(L.balanceCurrent, bal * 1000);
  w.u8(L.balanceAction, s.balancing ? (bal < 0 ? 2 : 1) : 0);
  w.u8(L.soc, s.soc_pct ?? 0);
  w.u8(L.soh, s.soh_pct ?? 100);
  const full = s.full_ah ?? 0;
  w.i32(L.remaining, (s.remaining_ah ?? 0) * 1000);
  w.u32(L.full, full * 1000);
  w.u32(L.cycles, s.cycles ?? 0);
  w.u32(L.cycleCapacity, (s.cycle_ah ?? (s.cycles ?? 0) * full) * 1000);
  w.u32(L.runtime, s.runtime_s ?? 0);
  w.u8(L.chargeMos, s.charge_mos ? 1 : 0);
  w.u8(L.dischargeMos, s.discharge_mos ? 1 : 0);
  w.u8(L.prechargeMos, 0);
  w.u8(L.balancerRunning, s.balancing ? 1 : 0);
  w.u8(L.heating, s.heater ? 1 : 0);
  w.u8(L.charger, (s.charger_connected ?? i > 0.05) ? 1 : 0);
  w.u8(L.batteryType, pack.chemistry === 'lfp' ? 0 : 1);
  return finish(w, RECORD_CELL_INFO, pack);
}

export function settingsRecord(
  layout: Layout,
  pack: SimPackApi,
  s: Reading,
  params: Record<string, number>,
): Uint8Array {
  const w = new LeWriter(RECORD_LENGTH);
  const is32 = layout === 'JK02_32S';
  for (const f of SETTINGS) {
    if (f.only32 && !is32) continue;
    if (f.key === 'device_address') {
      w.u8(f.offset, pack.address);
      continue;
    }
    const v = fieldValue(f, pack, s, params);
    if (f.kind === 'i32') w.i32(f.offset, v);
    else if (f.kind === 'u8') w.u8(f.offset, v);
    else if (f.kind === 'i8') w.i8(f.offset, v);
    else w.u32(f.offset, v);
  }
  // Feature word (32S): bit0 heating enabled.
  if (is32) w.u16(282, paramValue('heater_enabled', pack, s, params) ? 1 : 0);
  return finish(w, RECORD_SETTINGS, pack);
}

export function deviceInfoRecord(layout: Layout, pack: SimPackApi): Uint8Array {
  const w = new LeWriter(RECORD_LENGTH);
  const text: Record<string, string> = {
    vendor_id: pack.info.model,
    hardware_version: pack.info.hw_version,
    software_version: pack.info.sw_version,
    device_name: pack.info.model,
    serial_number: pack.info.serial,
    user_data: pack.info.barcode,
  };
  for (const [o, n, key] of DEVICE_INFO_TEXT) w.ascii(o, n, text[key] ?? '');
  w.u32(42, 1); // power-on count
  if (layout === 'JK02_32S') {
    w.u8(184, 0);
    w.u8(185, 0);
  }
  return finish(w, RECORD_DEVICE_INFO, pack);
}

/** Record offset and size of every multi-byte field, for the big-endian Modbus map image. */
function multiByteFields(type: number): [number, number][] {
  const out: [number, number][] = [];
  if (type === RECORD_SETTINGS) {
    for (const f of SETTINGS) if (f.kind !== 'u8' && f.kind !== 'i8') out.push([f.offset, 4]);
    out.push([282, 2]);
    return out;
  }
  if (type === RECORD_DEVICE_INFO)
    return [
      [38, 4],
      [42, 4],
    ];
  const L = CELL_INFO.JK02_32S;
  for (let k = 0; k < L.maxCells; k++) out.push([6 + 2 * k, 2], [L.wireRes + 2 * k, 2]);
  const u16 = [L.avgCell, L.deltaCell, L.mosTemp, L.t1, L.t2, L.balanceCurrent, L.userAlarm];
  const more16 = [L.emergencyTime, L.heatingCurrent, L.temp254, L.temp256, L.temp258];
  for (const o of [...u16, ...more16]) out.push([o, 2]);
  const u32 = [L.cellMask, L.wireAlarm, L.voltage, L.power, L.current, L.alarm, L.remaining];
  const more32 = [L.full, L.cycles, L.cycleCapacity, L.runtime];
  for (const o of [...u32, ...more32]) out.push([o, 4]);
  return out;
}

/**
 * The official JK-PB Modbus map serves the record's fields (from record offset 6) in
 * big-endian order: the record with every multi-byte field byte-swapped, header dropped.
 */
export function modbusImage(record: Uint8Array): Uint8Array {
  const img = record.slice();
  for (const [o, n] of multiByteFields(record[4]!)) img.set(record.slice(o, o + n).reverse(), o);
  return img.subarray(6, RECORD_LENGTH - 1);
}
