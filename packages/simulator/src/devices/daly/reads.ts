/**
 * Reply builders for the DALY A5 reads (0x90..0x98), from the pack's snapshot. Values are
 * rounded to the wire resolution and clamped to their field; counts are capped at what
 * the protocol can carry (48 cells, 21 sensors).
 */
import type { Reading } from '@openbms/core';
import {
  CELLS_PER_FRAME,
  ID,
  MAX_CELLS,
  MAX_TEMPS,
  TEMPS_PER_FRAME,
} from '@openbms/protocols/daly';
import type { SimPackApi } from '../../types.js';
import { faultData } from './faults.js';
import { concat, put16, put32, reply, temp8, u16, uint } from './wire.js';

/** Current threshold (A) under which the pack counts as idle / no charger / no load. */
const IDLE_A = 0.05;

const cellsOf = (s: Reading): number[] => (s.cell_mv ?? []).slice(0, MAX_CELLS);
const tempsOf = (s: Reading): number[] => (s.temps_c ?? []).slice(0, MAX_TEMPS);

/** 0x90: pack V (0.1 V), acquisition V (0 like most units), current (30000 - 10 I), SOC (0.1 %). */
export function packStatus(s: Reading): Uint8Array {
  const d = new Array<number>(8).fill(0);
  put16(d, 0, u16((s.voltage_v ?? 0) * 10));
  // + = charging on the platform; the device sends raw below 30000 while charging.
  put16(d, 4, u16(30000 - (s.current_a ?? 0) * 10));
  put16(d, 6, uint((s.soc_pct ?? 0) * 10, 1000));
  return reply(ID.PACK, d);
}

/** Index (1-based) and value of the largest (sign 1) or smallest (sign -1) entry. */
function extreme(values: readonly number[], sign: 1 | -1): [number, number] {
  let best = 0;
  for (let i = 1; i < values.length; i++) {
    if (sign * (values[i]! - values[best]!) > 0) best = i;
  }
  return [values[best] ?? 0, values.length > 0 ? best + 1 : 0];
}

/** 0x91: highest cell mV and its cell, lowest cell mV and its cell. */
export function cellRange(s: Reading): Uint8Array {
  const cells = cellsOf(s);
  const [max, maxI] = extreme(cells, 1);
  const [min, minI] = extreme(cells, -1);
  const d = new Array<number>(8).fill(0);
  put16(d, 0, u16(max));
  d[2] = maxI;
  put16(d, 3, u16(min));
  d[5] = minI;
  return reply(ID.CELL_RANGE, d);
}

/** 0x92: highest / lowest sensor temperature (raw - 40 °C) and their sensors. */
export function tempRange(s: Reading): Uint8Array {
  const temps = tempsOf(s);
  const [max, maxI] = temps.length > 0 ? extreme(temps, 1) : [s.max_temp_c ?? -40, 0];
  const [min, minI] = temps.length > 0 ? extreme(temps, -1) : [s.min_temp_c ?? -40, 0];
  return reply(ID.TEMP_RANGE, [temp8(max), maxI, temp8(min), minI]);
}

const STATE_CODE: Record<string, number> = { idle: 0, charging: 1, discharging: 2 };

function stateCode(s: Reading): number {
  const code = s.state === undefined ? undefined : STATE_CODE[s.state];
  if (code !== undefined) return code;
  // 'fault' (or no state): say what the current does.
  const i = s.current_a ?? 0;
  return i > IDLE_A ? 1 : i < -IDLE_A ? 2 : 0;
}

/** 0x93: state, charge MOS, discharge MOS, rolling "life" counter, remaining mAh (u32). */
export function mosStatus(s: Reading, pack: SimPackApi): Uint8Array {
  const d = new Array<number>(8).fill(0);
  d[0] = stateCode(s);
  d[1] = s.charge_mos ? 1 : 0;
  d[2] = s.discharge_mos ? 1 : 0;
  // Captures show a byte that changes on every poll: the RTC seconds make a rolling counter.
  d[3] = Math.floor(pack.clock() / 1000) & 0xff;
  put32(d, 4, uint((s.remaining_ah ?? 0) * 1000, 0xffffffff));
  return reply(ID.MOS, d);
}

/** 0x94: cells, sensors, charger detected, load detected, DIO bits (none), cycles. */
export function statusInfo(s: Reading): Uint8Array {
  const i = s.current_a ?? 0;
  const d = new Array<number>(8).fill(0);
  d[0] = cellsOf(s).length;
  d[1] = tempsOf(s).length;
  d[2] = (s.charger_connected ?? i > IDLE_A) ? 1 : 0;
  d[3] = (s.load_connected ?? i < -IDLE_A) ? 1 : 0;
  put16(d, 5, u16(s.cycles));
  return reply(ID.STATUS, d);
}

/** 0x95: ceil(cells / 3) frames numbered from 1, three u16 mV each, byte 7 reserved. */
export function cellVoltages(s: Reading): Uint8Array {
  const cells = cellsOf(s);
  const frames: Uint8Array[] = [];
  const n = Math.max(1, Math.ceil(cells.length / CELLS_PER_FRAME));
  for (let f = 0; f < n; f++) {
    const d = new Array<number>(8).fill(0);
    d[0] = f + 1;
    for (let k = 0; k < CELLS_PER_FRAME; k++) {
      put16(d, 1 + 2 * k, u16(cells[f * CELLS_PER_FRAME + k]));
    }
    frames.push(reply(ID.CELLS, d));
  }
  return concat(frames);
}

/** 0x96: ceil(sensors / 7) frames numbered from 1, seven u8 temperatures each. */
export function temperatures(s: Reading): Uint8Array {
  const temps = tempsOf(s);
  const frames: Uint8Array[] = [];
  const n = Math.max(1, Math.ceil(temps.length / TEMPS_PER_FRAME));
  for (let f = 0; f < n; f++) {
    const d = new Array<number>(8).fill(0);
    d[0] = f + 1;
    for (let k = 0; k < TEMPS_PER_FRAME; k++) {
      const t = temps[f * TEMPS_PER_FRAME + k];
      d[1 + k] = t === undefined ? 0 : temp8(t);
    }
    frames.push(reply(ID.TEMPS, d));
  }
  return concat(frames);
}

/** 0x97: cell n on bit (n-1) % 8 of data byte (n-1) / 8 (the family decoder's literal reading). */
export function balanceState(s: Reading): Uint8Array {
  const d = new Array<number>(8).fill(0);
  const flags = (s.cell_balancing ?? []).slice(0, MAX_CELLS);
  flags.forEach((on, c) => {
    if (on) d[c >> 3]! |= 1 << (c & 7);
  });
  return reply(ID.BALANCE, d);
}

/** 0x98: the fault bitmap of the pack's active alarms. */
export function failureStatus(s: Reading, pack: SimPackApi): Uint8Array {
  return reply(ID.FAULTS, faultData(pack.activeAlarms(), (s.current_a ?? 0) > IDLE_A));
}
