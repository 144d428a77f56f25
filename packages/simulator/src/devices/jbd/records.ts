/**
 * Data of the JBD read registers, built from a simulated pack. Every value is rounded to
 * the wire resolution and clamped to its field, the way the firmware would store it.
 */
import type { Alarm, Reading } from '@openbms/core';
import {
  BALANCE_BITS,
  BASIC,
  ERROR_COUNTERS,
  MAX_CELLS,
  MAX_NTC,
  PROTECTION_BITS,
} from '@openbms/protocols/jbd';
import type { SimPackApi } from '../../types.js';

/** Production date used when the pack's info carries none (YYYY-MM-DD). */
export const DEFAULT_PRODUCTION_DATE = '2024-06-01';
/** Index of the "MOSFET switched off by software (0xE1)" protection bit. */
export const MOS_LOCK_BIT = 12;

const clamp = (v: number, lo: number, hi: number): number =>
  Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : lo;
/** Rounds `v / step` to an integer within lo..hi. */
const scaled = (v: number | undefined, step: number, lo: number, hi: number): number =>
  clamp(Math.round((v ?? 0) / step), lo, hi);

function putU16(out: number[], off: number, v: number): void {
  const w = v & 0xffff;
  out[off] = w >> 8;
  out[off + 1] = w & 0xff;
}

/** The taxonomy code -> protection bit index (first bit naming the code). */
const BIT_OF = new Map<string, number>();
PROTECTION_BITS.forEach((p, i) => {
  // Bits 14/15 are reserved: a real board never sets them for a generic fault.
  if (p.alarm && p.alarm !== 'fault_other' && !BIT_OF.has(p.alarm)) BIT_OF.set(p.alarm, i);
});

/**
 * Protection word from the pack's active alarms. JBD has no warning level, so only
 * protections and faults set a bit; a cell temperature alarm without direction is put on
 * the charge or discharge bit by the current's sign.
 */
export function protectionWord(alarms: readonly Alarm[], current_a: number): number {
  let word = 0;
  for (const a of alarms) {
    if (a.severity === 'warning') continue;
    let code = a.code;
    if (code === 'cell_ot') code = current_a >= 0 ? 'chg_ot' : 'dsg_ot';
    if (code === 'cell_ut') code = current_a >= 0 ? 'chg_ut' : 'dsg_ut';
    const bit = BIT_OF.get(code);
    if (bit !== undefined) word |= 1 << bit;
  }
  return word;
}

/** Software version byte: major and minor in the two nibbles ("1.2.3" -> 0x12). */
export function softwareByte(version: string): number {
  const m = /(\d+)(?:\D+(\d+))?/.exec(version);
  if (!m) return 0x10;
  return (clamp(Number(m[1]), 0, 15) << 4) | clamp(Number(m[2] ?? 0), 0, 15);
}

/** Packed date word: day bits 0-4, month bits 5-8, year - 2000 bits 9-15. */
export function dateWord(date: string | undefined): number {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})/.exec(date ?? '') ??
    /^(\d{4})-(\d{2})-(\d{2})/.exec(DEFAULT_PRODUCTION_DATE)!;
  const year = clamp(Number(m[1]) - 2000, 0, 127);
  const month = clamp(Number(m[2]), 1, 12);
  const day = clamp(Number(m[3]), 1, 31);
  return (year << 9) | (month << 5) | day;
}

/** Data of register 0x03 (basic information). `mosLock` sets protection bit 12. */
export function basicInfo(pack: SimPackApi, s: Reading, mosLock: boolean): number[] {
  const cellMv = s.cell_mv ?? [];
  const cells = Math.min(cellMv.length, MAX_CELLS);
  const temps = (s.temps_c ?? []).slice(0, MAX_NTC);
  const out = new Array<number>(BASIC.fixedLength + 2 * temps.length).fill(0);
  const current = s.current_a ?? 0;

  putU16(out, BASIC.voltage, scaled(s.voltage_v, 0.01, 0, 0xffff));
  putU16(out, BASIC.current, scaled(current, 0.01, -0x8000, 0x7fff));
  putU16(out, BASIC.remaining, scaled(s.remaining_ah, 0.01, 0, 0xffff));
  putU16(out, BASIC.nominal, scaled(s.design_ah ?? s.full_ah, 0.01, 0, 0xffff));
  putU16(out, BASIC.cycles, scaled(s.cycles, 1, 0, 0xffff));
  putU16(out, BASIC.date, dateWord(s.info?.manufacture_date));

  let balLow = 0;
  let balHigh = 0;
  (s.cell_balancing ?? []).slice(0, Math.min(cells, BALANCE_BITS)).forEach((on, i) => {
    if (!on) return;
    if (i < 16) balLow |= 1 << i;
    else balHigh |= 1 << (i - 16);
  });
  putU16(out, BASIC.balanceLow, balLow);
  putU16(out, BASIC.balanceHigh, balHigh);

  let protection = protectionWord(pack.activeAlarms(), current);
  if (mosLock) protection |= 1 << MOS_LOCK_BIT;
  putU16(out, BASIC.protection, protection);

  out[BASIC.software] = softwareByte(pack.info.sw_version);
  out[BASIC.soc] = scaled(s.soc_pct, 1, 0, 100);
  out[BASIC.fet] = (s.charge_mos ? 0x01 : 0) | (s.discharge_mos ? 0x02 : 0);
  out[BASIC.cells] = cells;
  out[BASIC.ntcCount] = temps.length;
  // 0.1 K, 2731 = 0 degC.
  temps.forEach((t, i) =>
    putU16(out, BASIC.temps + 2 * i, clamp(Math.round(t * 10) + 2731, 0, 0xffff)),
  );
  return out;
}

/** Data of register 0x04: uint16 mV per cell, cell 1 first. */
export function cellVoltages(s: Reading): number[] {
  const cells = (s.cell_mv ?? []).slice(0, MAX_CELLS);
  const out = new Array<number>(2 * cells.length);
  cells.forEach((mv, i) => putU16(out, 2 * i, scaled(mv, 1, 0, 0xffff)));
  return out;
}

/** Data of register 0x05: the model string in printable ASCII. */
export function hardwareVersion(pack: SimPackApi): number[] {
  const out: number[] = [];
  for (const ch of pack.info.model.slice(0, 255)) {
    const c = ch.charCodeAt(0);
    out.push(c >= 0x20 && c < 0x7f ? c : 0x3f);
  }
  return out;
}

/** Data of register 0xAA: 11 uint16 counters in wire order and two (unknown) zero bytes. */
export function errorCounters(pack: SimPackApi): number[] {
  const counts = pack.counters();
  const out = new Array<number>(2 * ERROR_COUNTERS.length + 2).fill(0);
  ERROR_COUNTERS.forEach((id, i) => putU16(out, 2 * i, scaled(counts[id], 1, 0, 0xffff)));
  return out;
}
