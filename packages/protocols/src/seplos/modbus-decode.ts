/**
 * Seplos V3 reply decoder. Modbus replies do not repeat the start register, so the decoder
 * needs the request (DecodeOptions.request); it then walks the register tables inside the
 * window that was read. Exceptions decode to their code (raw.exception); a read session
 * turns them into DEVICE_ERROR_REPLY.
 */
import { BmsError, ensure, makeAlarm, round, type Alarm, type Reading } from '@openbms/core';
import type { DecodeOptions } from '../types.js';
import { FC, parseModbusReply, parseModbusRequest } from '../modbus-rtu/codec.js';
import { bytesToHex } from '../util/bytes.js';
import type { AlarmBit } from './fields.js';
import {
  EIC,
  INPUT_FIELDS,
  PIB_CELL_SLOTS,
  PIC,
  TB09_STATES,
  fieldWidth,
  type CoilGroup,
  type RegField,
} from './registers.js';

const hex2 = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');
const s16 = (v: number): number => (v << 16) >> 16;

function ascii(regs: readonly number[]): string {
  let s = '';
  for (const w of regs) {
    for (const c of [w >> 8, w & 0xff]) {
      if (c === 0) return s.trim();
      if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    }
  }
  return s.trim();
}

/** The value of one field from the window's registers (index 0 = register `start`). */
function fieldValue(f: RegField, regs: readonly number[], i: number): number | number[] | string {
  const scale = (x: number): number => round((x - (f.offset ?? 0)) * (f.scale ?? 1), 6);
  switch (f.enc) {
    case 'u16':
    case 'i16': {
      const one = (w: number): number => scale(f.enc === 'i16' ? s16(w) : w);
      if (f.count !== undefined) return regs.slice(i, i + f.count).map(one);
      return one(regs[i]!);
    }
    case 'u32lw':
    case 'i32lw': {
      const v = ((regs[i + 1]! << 16) | regs[i]!) >>> 0;
      return scale(f.enc === 'i32lw' ? v | 0 : v);
    }
    case 'hex32lw':
      return (((regs[i + 1]! << 16) | regs[i]!) >>> 0).toString(16).toUpperCase().padStart(8, '0');
    case 'ascii':
      return ascii(regs.slice(i, i + (f.regs ?? 1)));
    case 'version': {
      const t = ascii([regs[i]!]);
      return t.length === 2 ? `${t[0]}.${t[1]}` : t;
    }
  }
}

const noNegZero = (x: number): number => (x === 0 ? 0 : x);

/** FC 04 registers of [start, start + n): every field wholly inside the window. */
function decodeRegisters(
  start: number,
  regs: readonly number[],
  raw: Record<string, unknown>,
): Reading {
  const out: Reading = {};
  const params: Record<string, number> = {};
  const end = start + regs.length;
  for (const f of INPUT_FIELDS) {
    if (f.reg < start || f.reg + fieldWidth(f) > end) continue;
    let v = fieldValue(f, regs, f.reg - start);
    if (f.key === 'cell_mv' && Array.isArray(v)) {
      // PIB has 16 slots and no count: slots after the last cell read 0 mV.
      let n = Math.min(v.length, PIB_CELL_SLOTS);
      while (n > 0 && v[n - 1] === 0) n--;
      v = v.slice(0, n);
      out.cell_count = n;
    }
    raw[f.key] = v;
    if (f.metric) {
      (out as Record<string, unknown>)[f.metric] =
        f.metricNegate && typeof v === 'number' ? noNegZero(-v) : v;
    }
    if (f.param && typeof v === 'number') {
      const x = round(v * (f.toParam ?? 1), 6);
      params[f.param] = f.negative ? noNegZero(Math.abs(x)) : x;
    }
  }
  if (Object.keys(params).length > 0) raw.parameters = params;
  if (out.voltage_v !== undefined && out.current_a !== undefined) {
    out.power_w = noNegZero(round(out.voltage_v * out.current_a, 2));
  }
  const info: NonNullable<Reading['info']> = {};
  if (typeof raw.device_name === 'string' && raw.device_name) {
    info.model = raw.device_name;
    info.device_name = raw.device_name;
  }
  if (typeof raw.factory_name === 'string' && raw.factory_name)
    info.manufacturer = raw.factory_name;
  if (typeof raw.firmware_version === 'string' && raw.firmware_version)
    info.sw_version = raw.firmware_version;
  if (typeof raw.bms_serial === 'string' && raw.bms_serial) info.serial = raw.bms_serial;
  if (Object.keys(info).length > 0) out.info = info;
  return out;
}

function pushBits(
  byte: number,
  table: readonly AlarmBit[],
  ids: string[],
  alarms: Alarm[],
  raw: Record<string, unknown>,
): void {
  for (const b of table) {
    const on = (byte & (1 << b.bit)) !== 0;
    if (!b.code && !/_bit\d$/.test(b.id)) raw[b.id] = on;
    if (!on) continue;
    ids.push(b.id);
    if (b.code) {
      alarms.push(
        makeAlarm(
          b.code,
          b.level === undefined ? { source: b.id } : { level: b.level, source: b.id },
        ),
      );
    }
  }
}

/** FC 01 coil groups (one reply byte per group of 8 coils) of PIC or EIC. */
function decodeCoils(start: number, data: Uint8Array, raw: Record<string, unknown>): Reading {
  const table: readonly CoilGroup[] = start >= 0x2200 ? EIC : PIC;
  const out: Reading = {};
  const ids: string[] = [];
  const alarms: Alarm[] = [];
  const lists: Record<string, number[]> = {};
  let seen = false;
  for (const g of table) {
    const k = (g.coil - start) / 8;
    if (!Number.isInteger(k) || k < 0 || k >= data.length) continue;
    seen = true;
    const byte = data[k]!;
    if (g.cellsFrom !== undefined) {
      const list = (lists[g.key] ??= []);
      for (let b = 0; b < 8; b++) if (byte & (1 << b)) list.push(g.cellsFrom + b);
      continue;
    }
    raw[`${g.key}_hex`] = hex2(byte);
    if (g.key === 'system_state') {
      const states = TB09_STATES.filter((_, i) => byte & (1 << i));
      raw.system_state = states;
      const charging = states.includes('charging') || states.includes('float_charging');
      out.state = states.includes('discharging') ? 'discharging' : charging ? 'charging' : 'idle';
    } else if (g.bits) {
      pushBits(byte, g.bits, ids, alarms, raw);
    }
  }
  ensure(seen, 'DECODE_UNSUPPORTED', `no known coil group at 0x${start.toString(16)}`);
  for (const [k, list] of Object.entries(lists)) raw[`${k}_cells`] = list;
  if (raw.discharge_fet_on !== undefined) out.discharge_mos = raw.discharge_fet_on as boolean;
  if (raw.charge_fet_on !== undefined) out.charge_mos = raw.charge_fet_on as boolean;
  if (raw.heater_on !== undefined) out.heater = raw.heater_on as boolean;
  if (lists.balancing) {
    out.balancing = lists.balancing.length > 0;
    raw.balancing_cells = lists.balancing;
  }
  raw.alarms = ids;
  out.alarms = alarms;
  return out;
}

export function decodeV3(bytes: Uint8Array, opts: DecodeOptions = {}): Reading {
  const rep = parseModbusReply(bytes);
  const raw: Record<string, unknown> = { address: rep.unit };
  if (rep.kind === 'exception') {
    raw.function = rep.fn | 0x80;
    raw.exception = true;
    raw.exception_code = rep.exceptionCode;
    raw.exception_name = rep.exception;
    return { address: rep.unit, raw };
  }
  raw.function = rep.fn;
  if (rep.kind === 'write_multiple' || rep.kind === 'write_single') {
    raw.start_register = rep.start;
    return { address: rep.unit, raw };
  }
  ensure(
    opts.request !== undefined,
    'DECODE_CONTEXT_MISSING',
    'a Seplos V3 reply does not name its start register: pass the request (opts.request)',
  );
  const req = parseModbusRequest(opts.request);
  ensure(
    req.unit === rep.unit && req.fn === rep.fn,
    'FRAME_UNEXPECTED',
    `reply (unit ${rep.unit}, function 0x${rep.fn.toString(16)}) does not answer the request (unit ${req.unit}, function 0x${req.fn.toString(16)})`,
  );
  const count = req.count ?? 0;
  raw.start_register = req.start;
  let out: Reading;
  if (rep.fn === FC.READ_COILS) {
    ensure(
      rep.byteCount === Math.ceil(count / 8),
      'FRAME_UNEXPECTED',
      `coil reply has ${rep.byteCount} bytes, ${count} coils need ${Math.ceil(count / 8)}`,
    );
    raw.coils_hex = bytesToHex(rep.data).toUpperCase();
    out = decodeCoils(req.start, rep.data, raw);
  } else if (rep.fn === FC.READ_INPUT) {
    ensure(
      rep.byteCount === 2 * count,
      'FRAME_UNEXPECTED',
      `reply has ${rep.byteCount / 2} registers, the request asked for ${count}`,
    );
    out = decodeRegisters(req.start, rep.registers, raw);
  } else {
    throw new BmsError(
      'DECODE_UNSUPPORTED',
      `Seplos V3 has no decoder for replies to function 0x${rep.fn.toString(16)}`,
    );
  }
  out.address = rep.unit;
  out.raw = raw;
  return out;
}
