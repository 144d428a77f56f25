/**
 * Modbus RTU framing shared by the Modbus-based families (daly-modbus, jk JK-PB RS485,
 * modbus-rtu itself). Pure functions, no I/O.
 *
 * Why not a library: the maintained Modbus packages (jsmodbus, modbus-serial) own the
 * serial port and timers; our codecs must stay pure (no node:*, no I/O) and frame bytes
 * that arrive through our own transports and framers, so only this framing is hand-written.
 */
import { BmsError, ensure } from '@openbms/core';
import { crc16Modbus } from '../util/checksum.js';
import { createFramer, type FrameRule, type Probe } from '../util/framer.js';
import type { Framer } from '../types.js';

export const FC = {
  READ_COILS: 0x01,
  READ_DISCRETE: 0x02,
  READ_HOLDING: 0x03,
  READ_INPUT: 0x04,
  WRITE_SINGLE: 0x06,
  WRITE_MULTIPLE: 0x10,
} as const;

export const EXCEPTION_NAMES: Record<number, string> = {
  1: 'illegal_function',
  2: 'illegal_data_address',
  3: 'illegal_data_value',
  4: 'server_device_failure',
  5: 'acknowledge',
  6: 'server_device_busy',
  8: 'memory_parity_error',
  10: 'gateway_path_unavailable',
  11: 'gateway_target_failed_to_respond',
};

export interface ModbusRequest {
  unit: number;
  fn: number;
  start: number;
  /** Register count for reads and FC 0x10. */
  count?: number;
  /** FC 0x06 value. */
  value?: number;
  /** FC 0x10 values. */
  values?: number[];
}

export type ModbusReply =
  | {
      unit: number;
      fn: number;
      kind: 'registers';
      registers: number[];
      byteCount: number;
      data: Uint8Array;
    }
  | { unit: number; fn: number; kind: 'write_single'; start: number; value: number }
  | { unit: number; fn: number; kind: 'write_multiple'; start: number; count: number }
  | { unit: number; fn: number; kind: 'exception'; exceptionCode: number; exception: string };

function withCrc(body: number[]): Uint8Array {
  const out = new Uint8Array(body.length + 2);
  out.set(body);
  const crc = crc16Modbus(out, 0, body.length);
  out[body.length] = crc & 0xff;
  out[body.length + 1] = crc >> 8;
  return out;
}

const u16 = (v: number): [number, number] => [(v >> 8) & 0xff, v & 0xff];

function checkU16(name: string, v: number | undefined): number {
  ensure(
    v !== undefined && Number.isInteger(v) && v >= 0 && v <= 0xffff,
    'INVALID_ARGUMENT',
    `${name} must be an integer 0..65535 (got ${String(v)})`,
  );
  return v;
}

export function encodeModbusRequest(r: ModbusRequest): Uint8Array {
  ensure(
    Number.isInteger(r.unit) && r.unit >= 0 && r.unit <= 255,
    'INVALID_ARGUMENT',
    `unit id must be 0..255 (got ${r.unit})`,
  );
  const start = checkU16('start register', r.start);
  switch (r.fn) {
    case FC.READ_COILS:
    case FC.READ_DISCRETE:
    case FC.READ_HOLDING:
    case FC.READ_INPUT: {
      const count = checkU16('register count', r.count);
      // Bits (coils, discrete inputs) travel packed: up to 2000 in one read (spec 6.1/6.2).
      const max = r.fn === FC.READ_COILS || r.fn === FC.READ_DISCRETE ? 2000 : 125;
      ensure(
        count >= 1 && count <= max,
        'INVALID_ARGUMENT',
        `${max === 125 ? 'register' : 'coil'} count must be 1..${max} (got ${count})`,
      );
      return withCrc([r.unit, r.fn, ...u16(start), ...u16(count)]);
    }
    case FC.WRITE_SINGLE:
      return withCrc([r.unit, r.fn, ...u16(start), ...u16(checkU16('value', r.value))]);
    case FC.WRITE_MULTIPLE: {
      const values = r.values ?? [];
      ensure(
        values.length >= 1 && values.length <= 123,
        'INVALID_ARGUMENT',
        'FC 0x10 needs 1..123 values',
      );
      const body = [r.unit, r.fn, ...u16(start), ...u16(values.length), values.length * 2];
      for (const v of values) body.push(...u16(checkU16('value', v)));
      return withCrc(body);
    }
    default:
      throw new BmsError(
        'COMMAND_UNSUPPORTED',
        `Modbus function 0x${r.fn.toString(16)} is not supported`,
      );
  }
}

function checkCrc(bytes: Uint8Array): void {
  ensure(
    bytes.length >= 4,
    'FRAME_TRUNCATED',
    `Modbus frame of ${bytes.length} bytes is too short`,
  );
  const n = bytes.length;
  const want = crc16Modbus(bytes, 0, n - 2);
  const got = bytes[n - 2]! | (bytes[n - 1]! << 8);
  if (want !== got) {
    throw new BmsError(
      'FRAME_CHECKSUM',
      `Modbus CRC mismatch: frame has 0x${got.toString(16).padStart(4, '0')}, computed 0x${want.toString(16).padStart(4, '0')}`,
    );
  }
}

/** Expected length of a request starting at buf[i], or undefined when it cannot be known yet. */
function requestLength(buf: Uint8Array, i: number, end: number): number | 'bad' | undefined {
  if (end - i < 2) return undefined;
  const fn = buf[i + 1]!;
  if (fn >= 1 && fn <= 6) return 8;
  if (fn === FC.WRITE_MULTIPLE) return end - i < 7 ? undefined : 9 + buf[i + 6]!;
  return 'bad';
}

/** Expected length of a reply starting at buf[i]. */
function replyLength(buf: Uint8Array, i: number, end: number): number | 'bad' | undefined {
  if (end - i < 3) return undefined;
  const fn = buf[i + 1]!;
  if (fn & 0x80) return (fn & 0x7f) >= 1 && (fn & 0x7f) <= 0x2b ? 5 : 'bad';
  if (fn >= 1 && fn <= 4) return 5 + buf[i + 2]!;
  if (fn === FC.WRITE_SINGLE || fn === FC.WRITE_MULTIPLE) return 8;
  return 'bad';
}

/**
 * The framing rule of a Modbus RTU stream (length rule + CRC), for createFramer or for a
 * family that frames Modbus and another envelope on one link (Seplos V2/V3).
 */
export function modbusFrameRule(
  direction: 'reply' | 'request' = 'reply',
  opts: { units?: readonly number[] } = {},
): FrameRule {
  const lengthOf = direction === 'reply' ? replyLength : requestLength;
  const units = opts.units ? new Set(opts.units) : undefined;
  return {
    maxLength: 256,
    isStart: (buf, i) => (units ? units.has(buf[i]!) : true),
    probe(buf, start, end): Probe {
      const len = lengthOf(buf, start, end);
      if (len === 'bad')
        return { kind: 'reject', code: 'FRAME_MALFORMED', reason: 'not a Modbus function code' };
      if (len === undefined || end - start < len) return { kind: 'more' };
      const want = crc16Modbus(buf, start, start + len - 2);
      const got = buf[start + len - 2]! | (buf[start + len - 1]! << 8);
      if (want !== got)
        return { kind: 'reject', code: 'FRAME_CHECKSUM', reason: 'Modbus CRC mismatch' };
      return { kind: 'frame', length: len };
    },
  };
}

/** Framer for a Modbus RTU stream; `direction` says which side's frames are expected. */
export function createModbusFramer(
  direction: 'reply' | 'request' = 'reply',
  opts: { units?: readonly number[] } = {},
): Framer {
  return createFramer(modbusFrameRule(direction, opts));
}

/** Validates (length, CRC) and decodes one Modbus reply frame. */
export function parseModbusReply(bytes: Uint8Array): ModbusReply {
  // Messages are built only on failure: this runs for every Modbus reply of every family.
  if (bytes.length < 5)
    throw new BmsError('FRAME_TRUNCATED', `Modbus reply of ${bytes.length} bytes is too short`);
  const len = replyLength(bytes, 0, bytes.length);
  if (len === 'bad')
    throw new BmsError(
      'FRAME_MALFORMED',
      `0x${bytes[1]!.toString(16)} is not a Modbus function code`,
    );
  if (len === undefined || bytes.length < len) {
    throw new BmsError(
      'FRAME_TRUNCATED',
      `Modbus reply needs ${String(len)} bytes, has ${bytes.length}`,
    );
  }
  if (bytes.length !== len)
    throw new BmsError(
      'FRAME_MALFORMED',
      `Modbus reply has ${bytes.length - len} bytes after its CRC`,
    );
  checkCrc(bytes);
  const unit = bytes[0]!;
  const fn = bytes[1]!;
  if (fn & 0x80) {
    const exceptionCode = bytes[2]!;
    return {
      unit,
      fn: fn & 0x7f,
      kind: 'exception',
      exceptionCode,
      exception: EXCEPTION_NAMES[exceptionCode] ?? 'unknown',
    };
  }
  if (fn === FC.WRITE_SINGLE) {
    return {
      unit,
      fn,
      kind: 'write_single',
      start: (bytes[2]! << 8) | bytes[3]!,
      value: (bytes[4]! << 8) | bytes[5]!,
    };
  }
  if (fn === FC.WRITE_MULTIPLE) {
    return {
      unit,
      fn,
      kind: 'write_multiple',
      start: (bytes[2]! << 8) | bytes[3]!,
      count: (bytes[4]! << 8) | bytes[5]!,
    };
  }
  const byteCount = bytes[2]!;
  const data = bytes.subarray(3, 3 + byteCount);
  const registers: number[] = [];
  for (let i = 0; i + 1 < data.length; i += 2) registers.push((data[i]! << 8) | data[i + 1]!);
  return { unit, fn, kind: 'registers', registers, byteCount, data };
}

/** Validates and decodes one Modbus request frame. */
export function parseModbusRequest(bytes: Uint8Array): ModbusRequest {
  const len = requestLength(bytes, 0, bytes.length);
  ensure(len !== 'bad', 'FRAME_MALFORMED', 'not a Modbus request function code');
  ensure(
    len !== undefined && bytes.length >= len,
    'FRAME_TRUNCATED',
    'Modbus request is too short',
  );
  ensure(bytes.length === len, 'FRAME_MALFORMED', 'Modbus request has bytes after its CRC');
  checkCrc(bytes);
  const unit = bytes[0]!;
  const fn = bytes[1]!;
  const start = (bytes[2]! << 8) | bytes[3]!;
  const word = (bytes[4]! << 8) | bytes[5]!;
  if (fn === FC.WRITE_SINGLE) return { unit, fn, start, value: word };
  if (fn === FC.WRITE_MULTIPLE) {
    ensure(
      bytes[6] === word * 2,
      'FRAME_MALFORMED',
      `FC 0x10 byte count ${bytes[6]} does not match ${word} registers`,
    );
    const values: number[] = [];
    for (let i = 0; i < word; i++) values.push((bytes[7 + i * 2]! << 8) | bytes[8 + i * 2]!);
    return { unit, fn, start, count: word, values };
  }
  return { unit, fn, start, count: word };
}
