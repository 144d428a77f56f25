/**
 * The data replies of the simulated PACE v25 pack: 0x42 analog (the P = 9 layout of newer
 * firmware, so SOC and SOH are on the wire), 0x44 status and 0xA1 history records, built with
 * the family's field tables so the real decoder reads them back.
 */
import type { Alarm, Reading } from '@openbms/core';
import {
  FAULT_BITS,
  PROTECT1_BITS,
  PROTECT2_BITS,
  STATE_HIGH,
  STATE_LOW,
  STATE_NORMAL,
  WARN1_BITS,
  WARN2_BITS,
  type FlagBit,
} from '@openbms/protocols/pace';
import type { DataRecord, SimPackApi } from '../../types.js';
import { put16, u16 } from '../pylontech/wire.js';
import { stateOf } from './state.js';

/** 0 degC in PACE's 0.1 K. */
const KELVIN = 2730;
const dk = (c: number): number => u16(Math.round(c * 10) + KELVIN);
const i16 = (x: number): number => Math.min(0x7fff, Math.max(-0x8000, Math.round(x))) & 0xffff;

/** The six sensors of a 16S PACE board: cells 1-4, MOSFET, ambient. */
function sensors(r: Reading): number[] {
  const cells = r.temps_c ?? [];
  const four = Array.from({ length: 4 }, (_, i) => cells[i] ?? cells[cells.length - 1] ?? 25);
  return [...four, r.mos_temp_c ?? 25, r.env_temp_c ?? 25];
}

/** One 0x42 block: M, cells, N, temps, current, voltage, remaining, P = 9 and its tail. */
export function analogBlock(r: Reading): number[] {
  const out: number[] = [];
  const cells = r.cell_mv ?? [];
  out.push(cells.length);
  for (const v of cells) put16(out, u16(v));
  const temps = sensors(r);
  out.push(temps.length);
  for (const t of temps) put16(out, dk(t));
  put16(out, i16((r.current_a ?? 0) * 100));
  put16(out, u16((r.voltage_v ?? 0) * 1000));
  put16(out, u16((r.remaining_ah ?? 0) * 100));
  out.push(9);
  put16(out, u16((r.full_ah ?? 0) * 100));
  put16(out, u16(r.cycles ?? 0));
  put16(out, u16((r.design_ah ?? 0) * 100));
  out.push(Math.round(r.soc_pct ?? 0));
  // Cumulative charge / discharge: [DOC24] says 1 Ah; the simulator does not count them.
  out.push(0, 0, 0, 0, 0, 0, 0, 0);
  out.push(Math.min(100, Math.round(r.soh_pct ?? 100)));
  put16(out, u16((r.voltage_v ?? 0) * 1000));
  put16(out, i16((r.current_a ?? 0) * 100));
  return out;
}

function bitsOf(
  alarms: readonly Alarm[],
  table: readonly FlagBit[],
  wantLevel: (l: number) => boolean,
): number {
  let byte = 0;
  for (const b of table) {
    if (!b.code) continue;
    if (
      alarms.some(
        (a) => a.code === b.code && wantLevel(a.level ?? (a.severity === 'fault' ? 3 : 2)),
      )
    ) {
      byte |= 1 << b.bit;
    }
  }
  return byte;
}

/** Protection, warning and fault bytes of a set of active alarms. */
export function flagBytes(
  alarms: readonly Alarm[],
  socFull: boolean,
): {
  protect1: number;
  protect2: number;
  fault: number;
  warn1: number;
  warn2: number;
} {
  // charger_ov_protect (bit 7) is a second source of pack_ov: not raised by the simulator.
  const protect1 = bitsOf(
    alarms,
    PROTECT1_BITS.filter((b) => b.id !== 'charger_ov_protect'),
    (l) => l >= 2,
  );
  let protect2 = bitsOf(alarms, PROTECT2_BITS, (l) => l >= 2);
  if (socFull) protect2 |= 0x80; // "fully"
  const faults = alarms.filter((a) => a.severity === 'fault');
  return {
    protect1,
    protect2,
    fault: bitsOf(faults, FAULT_BITS, () => true),
    warn1: bitsOf(alarms, WARN1_BITS, (l) => l <= 1),
    warn2: bitsOf(alarms, WARN2_BITS, (l) => l <= 1),
  };
}

/** Indication ("status 3") of a snapshot. */
export function indication(r: Reading): number {
  let b = 0;
  if (r.charge_mos) b |= 0x02;
  if (r.discharge_mos) b |= 0x04;
  if ((r.current_a ?? 0) < -0.05) b |= 0x08; // pack supplying power
  if ((r.current_a ?? 0) > 0.05) b |= 0x20; // AC in / charger
  if (r.heater) b |= 0x80;
  return b;
}

/** One 0x44 block. */
export function statusBlock(r: Reading, pack: SimPackApi): number[] {
  const p = pack.parameters();
  const cells = r.cell_mv ?? [];
  const out: number[] = [cells.length];
  for (const v of cells) {
    out.push(
      p.cell_ov_l1_mv !== undefined && v >= p.cell_ov_l1_mv
        ? STATE_HIGH
        : p.cell_uv_l1_mv !== undefined && v <= p.cell_uv_l1_mv
          ? STATE_LOW
          : STATE_NORMAL,
    );
  }
  const temps = sensors(r);
  out.push(temps.length, ...temps.map(() => STATE_NORMAL));
  const alarms = r.alarms ?? [];
  const has = (code: string): boolean => alarms.some((a) => a.code === code);
  out.push(has('chg_oc') ? STATE_HIGH : STATE_NORMAL);
  out.push(has('pack_ov') ? STATE_HIGH : has('pack_uv') ? STATE_LOW : STATE_NORMAL);
  out.push(has('dsg_oc') ? STATE_HIGH : STATE_NORMAL);
  const f = flagBytes(alarms, (r.soc_pct ?? 0) >= 100);
  const bal = r.cell_balancing ?? [];
  let b1 = 0;
  let b2 = 0;
  bal.forEach((on, i) => {
    if (!on || i >= 16) return;
    if (i < 8) b1 |= 1 << i;
    else b2 |= 1 << (i - 8);
  });
  out.push(
    f.protect1,
    f.protect2,
    indication(r),
    stateOf(pack).control,
    f.fault,
    b1,
    b2,
    f.warn1,
    f.warn2,
  );
  return out;
}

/** One 0xA1 history record (pace.md section 9): 72 bytes on a 16-cell, 6-sensor pack. */
export function historyRecord(rec: DataRecord): number[] {
  const d = new Date(rec.time);
  const out: number[] = [
    Math.min(99, Math.max(0, d.getUTCFullYear() - 2000)),
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ];
  const cells = rec.cell_mv ?? [rec.max_cell_mv, rec.min_cell_mv];
  out.push(cells.length);
  for (const v of cells) put16(out, u16(v));
  const temps = rec.temps_c ?? [rec.max_temp_c, rec.min_temp_c];
  out.push(temps.length);
  for (const t of temps) put16(out, dk(t));
  put16(out, i16(rec.current_a * 100));
  put16(out, u16(rec.voltage_v * 1000));
  put16(out, u16((rec.remaining_ah ?? 0) * 100));
  put16(out, u16((rec.full_ah ?? 0) * 100));
  const f = flagBytes(rec.active ?? [], rec.soc_pct >= 100);
  let ind = 0;
  if (rec.charge_mos) ind |= 0x02;
  if (rec.discharge_mos) ind |= 0x04;
  out.push(f.protect1, f.protect2, f.fault, f.warn1, f.warn2, ind);
  put16(out, u16(rec.cycles ?? 0));
  out.push(0x00, 0x00); // fault 8, fault 10: none
  put16(out, rec.event === 'power_on' ? 0x0001 : 0x0000);
  return out;
}
