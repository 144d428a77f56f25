/**
 * Host requests of all three JK links: the 20-byte `AA 55 90 EB` commands (BLE), the JK-PB
 * RS485 Modbus requests (FC 0x10 record triggers, FC 0x03 / 0x06 / 0x10 on the official
 * map) and the 4E57 requests (nw.ts). encodeRequest and parseRequest are inverses.
 */
import { BmsError, ensure } from '@openbms/core';
import type { Request } from '../types.js';
import { sum8 } from '../util/checksum.js';
import { FC, encodeModbusRequest, parseModbusRequest } from '../modbus-rtu/codec.js';
import { COMMAND_HEADER, PB_TRIGGERS, type PbTrigger } from './fields.js';
import { encodeNw, isNwStart, parseNwRequest } from './nw.js';

export const COMMAND_LENGTH = 20;
export const DEFAULT_ADDRESS = 1;

/** Plain 55AA requests (value length 0). */
const BLE_READS: Record<string, number> = {
  ble_cell_info: 0x96,
  ble_device_info: 0x97,
  ble_logbook: 0xa1,
};
/** 55AA switch writes (value 1 / 0, four bytes). */
const BLE_SWITCHES: Record<string, number> = {
  set_charge_mos: 0x1d,
  set_discharge_mos: 0x1e,
  set_balancer: 0x1f,
};

function byValue(table: Record<string, number>, v: number): string | undefined {
  for (const [k, x] of Object.entries(table)) if (x === v) return k;
  return undefined;
}

function intArg(req: Request, name: string, min: number, max: number, dflt?: number): number {
  const v = req.args?.[name] ?? dflt;
  ensure(
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max,
    'INVALID_ARGUMENT',
    `${req.command}: argument "${name}" must be an integer ${min}..${max} (got ${String(v)})`,
  );
  return v;
}

/** Builds a 20-byte host command: header, id, value length, LE value, sequence, sum8. */
export function bleCommand(id: number, length: number, value: number, seq = 0): Uint8Array {
  const out = new Uint8Array(COMMAND_LENGTH);
  out.set(COMMAND_HEADER, 0);
  out[4] = id;
  out[5] = length;
  new DataView(out.buffer).setUint32(6, value >>> 0, true);
  out[16] = seq;
  out[19] = sum8(out, 0, 19);
  return out;
}

function encodeBle(req: Request): Uint8Array {
  const seq = intArg(req, 'seq', 0, 255, 0);
  const read = BLE_READS[req.command];
  if (read !== undefined) return bleCommand(read, 0, 0, seq);
  const sw = BLE_SWITCHES[req.command];
  if (sw !== undefined) {
    const on = req.args?.on;
    ensure(
      typeof on === 'boolean',
      'INVALID_ARGUMENT',
      `${req.command}: argument "on" must be true or false`,
    );
    return bleCommand(sw, 4, on ? 1 : 0, seq);
  }
  // ble_write: a settings register; value scaled like the settings field (mV, mA, 0.1 degC...).
  const register = intArg(req, 'register', 0, 255);
  const length = intArg(req, 'length', 0, 4, 4);
  ensure(length !== 3, 'INVALID_ARGUMENT', 'ble_write: length must be 0, 1, 2 or 4');
  const lim = length === 0 ? 1 : 2 ** (8 * length);
  const value = intArg(req, 'value', length === 4 ? -(2 ** 31) : 0, lim - 1, 0);
  return bleCommand(register, length, value, seq);
}

function parseBle(b: Uint8Array): Request {
  ensure(
    b.length === COMMAND_LENGTH,
    'FRAME_MALFORMED',
    `a JK host command has 20 bytes, not ${b.length}`,
  );
  const want = sum8(b, 0, 19);
  ensure(
    b[19] === want,
    'FRAME_CHECKSUM',
    `JK host command checksum mismatch: 0x${b[19]!.toString(16)} vs 0x${want.toString(16)}`,
  );
  for (const i of [10, 11, 12, 13, 14, 15, 17, 18])
    ensure(b[i] === 0, 'FRAME_MALFORMED', `JK host command byte ${i} must be zero`);
  const id = b[4]!;
  const length = b[5]!;
  ensure(
    length <= 4 && length !== 3,
    'FRAME_MALFORMED',
    `JK host command value length ${length} is not 0, 1, 2 or 4`,
  );
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u = dv.getUint32(6, true);
  ensure(
    length === 4 || u < 2 ** (8 * length),
    'FRAME_MALFORMED',
    'JK host command value has bytes beyond its length',
  );
  const seq = b[16]!;
  const args: Record<string, number | boolean> = {};
  let command: string;
  const read = byValue(BLE_READS, id);
  const sw = byValue(BLE_SWITCHES, id);
  if (read && length === 0 && u === 0) command = read;
  else if (sw && length === 4 && (u === 0 || u === 1)) {
    command = sw;
    args.on = u === 1;
  } else {
    command = 'ble_write';
    args.register = id;
    args.value = length === 4 ? dv.getInt32(6, true) : u;
    if (length !== 4) args.length = length;
  }
  if (seq !== 0) args.seq = seq;
  return Object.keys(args).length > 0 ? { command, args } : { command };
}

function address(req: Request): number {
  const a = req.address ?? DEFAULT_ADDRESS;
  ensure(
    Number.isInteger(a) && a >= 0 && a <= 247,
    'INVALID_ARGUMENT',
    `JK-PB address must be 0..247 (got ${a})`,
  );
  return a;
}

function encodePb(req: Request): Uint8Array {
  const unit = address(req);
  const trig = PB_TRIGGERS[req.command as PbTrigger];
  if (trig)
    return encodeModbusRequest({ unit, fn: FC.WRITE_MULTIPLE, start: trig.register, values: [0] });
  const start = intArg(req, 'register', 0, 0xffff);
  if (req.command === 'modbus_read') {
    return encodeModbusRequest({
      unit,
      fn: FC.READ_HOLDING,
      start,
      count: intArg(req, 'count', 1, 125),
    });
  }
  if (req.command === 'modbus_write_single') {
    return encodeModbusRequest({
      unit,
      fn: FC.WRITE_SINGLE,
      start,
      value: intArg(req, 'value', 0, 0xffff),
    });
  }
  const values = req.args?.values;
  ensure(
    Array.isArray(values),
    'INVALID_ARGUMENT',
    'modbus_write: argument "values" must be a list of register values',
  );
  return encodeModbusRequest({ unit, fn: FC.WRITE_MULTIPLE, start, values });
}

function parsePb(b: Uint8Array): Request {
  const m = parseModbusRequest(b);
  const addressOnly = { address: m.unit };
  if (m.fn === FC.WRITE_MULTIPLE) {
    const values = m.values ?? [];
    if (values.length === 1 && values[0] === 0) {
      for (const [name, t] of Object.entries(PB_TRIGGERS)) {
        if (t.register === m.start) return { command: name, ...addressOnly };
      }
    }
    return { command: 'modbus_write', ...addressOnly, args: { register: m.start, values } };
  }
  if (m.fn === FC.READ_HOLDING) {
    return {
      command: 'modbus_read',
      ...addressOnly,
      args: { register: m.start, count: m.count ?? 0 },
    };
  }
  if (m.fn === FC.WRITE_SINGLE) {
    return {
      command: 'modbus_write_single',
      ...addressOnly,
      args: { register: m.start, value: m.value ?? 0 },
    };
  }
  throw new BmsError(
    'COMMAND_UNSUPPORTED',
    `JK-PB does not use Modbus function 0x${m.fn.toString(16)}`,
  );
}

const PB_COMMANDS = new Set<string>([
  ...Object.keys(PB_TRIGGERS),
  'modbus_read',
  'modbus_write',
  'modbus_write_single',
]);
const BLE_COMMANDS = new Set<string>([
  ...Object.keys(BLE_READS),
  ...Object.keys(BLE_SWITCHES),
  'ble_write',
]);

export function encodeRequest(req: Request): Uint8Array {
  if (BLE_COMMANDS.has(req.command)) return encodeBle(req);
  if (PB_COMMANDS.has(req.command)) return encodePb(req);
  if (req.command.startsWith('nw_')) return encodeNw(req);
  throw new BmsError('COMMAND_UNSUPPORTED', `JK has no command "${req.command}"`);
}

export function parseRequest(b: Uint8Array): Request {
  ensure(b.length >= 4, 'FRAME_TRUNCATED', `a JK request has at least 4 bytes, not ${b.length}`);
  if (
    b[0] === COMMAND_HEADER[0] &&
    b[1] === COMMAND_HEADER[1] &&
    b[2] === COMMAND_HEADER[2] &&
    b[3] === COMMAND_HEADER[3]
  ) {
    return parseBle(b);
  }
  if (isNwStart(b)) return parseNwRequest(b);
  return parsePb(b);
}
