/** Structured requests <-> DALY Modbus frames. Request.address is the Modbus unit id. */
import { BmsError, ensure, type Reading } from '@openbms/core';
import type { Request } from '../types.js';
import { FC } from '../modbus-rtu/codec.js';
import {
  encodeModbusRequestLoose,
  parseModbusRequestLoose,
  u16Arg,
  unitArg,
  encodeWriteMultipleArgs,
} from '../modbus-rtu/requests.js';
import { blockAt, blockByCommand, D2_UNIT, variantOfUnit } from './blocks.js';
import {
  MAPS,
  PARAM_MAP,
  SWITCH_REGS,
  type Conv,
  type ParamMap,
  type Variant,
} from './registers.js';

export const DEFAULT_UNIT = D2_UNIT;

function boolArg(args: Request['args'], name: string): boolean {
  const v = args?.[name];
  ensure(typeof v === 'boolean', 'INVALID_ARGUMENT', `argument "${name}" must be true or false`);
  return v;
}

function toWire(value: number, conv: Conv): number {
  let raw: number;
  switch (conv) {
    case 'u':
      raw = value;
      break;
    case 'x10':
      raw = value * 10;
      break;
    case 'temp':
      raw = value + 40;
      break;
    default:
      throw new BmsError('COMMAND_UNSUPPORTED', 'this parameter has no established write encoding');
  }
  const rounded = Math.round(raw);
  ensure(
    Number.isFinite(raw) && Math.abs(raw - rounded) < 1e-6,
    'INVALID_ARGUMENT',
    `${value} is not a multiple of the register's step`,
  );
  ensure(
    rounded >= 0 && rounded <= 0xffff,
    'INVALID_ARGUMENT',
    `${value} does not fit the register`,
  );
  return rounded;
}

function fromWire(raw: number, conv: Conv): number {
  return conv === 'x10' ? raw / 10 : conv === 'temp' ? raw - 40 : raw;
}

function paramById(id: string): ParamMap {
  const p = PARAM_MAP.find((x) => x.id === id);
  ensure(p !== undefined, 'INVALID_ARGUMENT', `DALY Modbus has no parameter "${id}"`);
  return p;
}

/** Register of a parameter in a variant's map. */
export function paramRegister(variant: Variant, p: ParamMap): number {
  return MAPS[variant].settingsBase + p.offset;
}

function single(unit: number, register: number, value: number): Uint8Array {
  return encodeModbusRequestLoose({ unit, fn: FC.WRITE_SINGLE, start: register, value });
}

export function encodeDaly(req: Request): Uint8Array {
  const unit = unitArg(req.address, DEFAULT_UNIT);
  const variant = variantOfUnit(unit);
  const a = req.args;
  const sw = SWITCH_REGS[variant];
  const block = blockByCommand(variant, req.command);
  if (block)
    return encodeModbusRequestLoose({
      unit,
      fn: FC.READ_HOLDING,
      start: block.start,
      count: block.count,
    });
  switch (req.command) {
    case 'read_registers':
      return encodeModbusRequestLoose({
        unit,
        fn: FC.READ_HOLDING,
        start: u16Arg(a, 'start'),
        count: u16Arg(a, 'count'),
      });
    case 'write_register':
      return single(unit, u16Arg(a, 'register'), u16Arg(a, 'value'));
    case 'write_registers':
      return encodeWriteMultipleArgs(unit, a);
    case 'set_charge_mos':
      return single(unit, sw.charge, boolArg(a, 'on') ? 1 : 0);
    case 'set_discharge_mos':
      return single(unit, sw.discharge, boolArg(a, 'on') ? 1 : 0);
    case 'set_balancer':
      return single(unit, sw.balancer, boolArg(a, 'on') ? 1 : 0);
    case 'set_soc': {
      const soc = a?.soc_pct;
      ensure(
        typeof soc === 'number' && soc >= 0 && soc <= 100,
        'INVALID_ARGUMENT',
        'soc_pct must be a number 0..100',
      );
      return single(unit, sw.soc, toWire(soc, 'x10'));
    }
    case 'write_parameter': {
      const id = a?.id;
      const value = a?.value;
      ensure(typeof id === 'string', 'INVALID_ARGUMENT', 'write_parameter needs a parameter id');
      ensure(
        typeof value === 'number',
        'INVALID_ARGUMENT',
        'write_parameter needs a numeric value',
      );
      const p = paramById(id);
      ensure(
        p.writable,
        'COMMAND_UNSUPPORTED',
        `${id} is read-only here: its wire sign convention is not established`,
      );
      return single(unit, paramRegister(variant, p), toWire(value, p.conv));
    }
    default:
      throw new BmsError('COMMAND_UNSUPPORTED', `daly-modbus has no command "${req.command}"`);
  }
}

/** The inverse of encodeDaly: the most specific command that encodes to these bytes. */
export function parseDalyRequest(bytes: Uint8Array): Request {
  const m = parseModbusRequestLoose(bytes);
  const unit = m.unit;
  ensure(
    unit === D2_UNIT || (unit >= 0x81 && unit <= 0x8f),
    'FRAME_MALFORMED',
    `0x${unit.toString(16)} is not a DALY request unit (0xD2 or 0x81..0x8F)`,
  );
  const variant = variantOfUnit(unit);
  switch (m.fn) {
    case FC.READ_HOLDING: {
      const b = blockAt(variant, m.start, m.count!);
      if (b) return { command: b.command, address: unit };
      return {
        command: 'read_registers',
        address: unit,
        args: { start: m.start, count: m.count! },
      };
    }
    case FC.WRITE_SINGLE: {
      const reg = m.start;
      const v = m.value!;
      const sw = SWITCH_REGS[variant];
      if (v <= 1) {
        if (reg === sw.charge)
          return { command: 'set_charge_mos', address: unit, args: { on: v === 1 } };
        if (reg === sw.discharge)
          return { command: 'set_discharge_mos', address: unit, args: { on: v === 1 } };
        if (reg === sw.balancer)
          return { command: 'set_balancer', address: unit, args: { on: v === 1 } };
      }
      if (reg === sw.soc && v <= 1000)
        return { command: 'set_soc', address: unit, args: { soc_pct: v / 10 } };
      for (const p of PARAM_MAP) {
        if (p.writable && paramRegister(variant, p) === reg) {
          return {
            command: 'write_parameter',
            address: unit,
            args: { id: p.id, value: fromWire(v, p.conv) },
          };
        }
      }
      return { command: 'write_register', address: unit, args: { register: reg, value: v } };
    }
    case FC.WRITE_MULTIPLE: {
      const args: Record<string, number | number[] | boolean> = {
        start: m.start,
        values: m.values!,
      };
      if (m.byteCountField === false) args.byte_count_field = false;
      return { command: 'write_registers', address: unit, args };
    }
    default:
      throw new BmsError(
        'COMMAND_UNSUPPORTED',
        `DALY Modbus does not use function 0x${m.fn.toString(16)}`,
      );
  }
}

/** Canonical parameter values found in a decoded settings reply (raw keys -> parameter ids). */
export function parametersFromReading(r: Reading): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of PARAM_MAP) {
    const v = r.raw?.[p.rawKey];
    if (typeof v === 'number') out[p.id] = v;
  }
  const sw: [string, string][] = [
    ['charge_enabled', 'charge_mos_switch'],
    ['discharge_enabled', 'discharge_mos_switch'],
    ['balance_enabled', 'balancer_enabled'],
  ];
  for (const [id, key] of sw) {
    const v = r.raw?.[key];
    if (typeof v === 'boolean') out[id] = v ? 1 : 0;
  }
  return out;
}
