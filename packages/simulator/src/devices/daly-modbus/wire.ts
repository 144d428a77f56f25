/** Wire helpers of the simulated DALY H/K/M/S unit: register encodings and Modbus reply frames. */
import { BmsError } from '@openbms/core';
import { crc16Modbus } from '@openbms/protocols';

/** "Not supported" marker: DALY answers 0xFFFF for a field the unit does not provide. */
export const NA = 0xffff;
/** Current and signed thresholds are sent as raw - 30000. */
export const OFFSET = 30000;

/** Largest value a field may take; 0xFFFF itself would read as "not supported". */
const MAX = 0xfffe;

const clamp = (v: number): number => (v < 0 ? 0 : v > MAX ? MAX : v);

/** Unsigned integer field (mV, s, counts), rounded and clamped; undefined = not supported. */
export function u(v: number | undefined): number {
  return v === undefined || !Number.isFinite(v) ? NA : clamp(Math.round(v));
}

/** 0.1-unit field (V, Ah, %). */
export function x10(v: number | undefined): number {
  return v === undefined ? NA : u(v * 10);
}

/** Temperature field: raw - 40 = °C (raw 0 = -40 °C, the open-sensor reading). */
export function temp(v: number | undefined): number {
  return v === undefined ? NA : u(Math.round(v) + 40);
}

/** Current field: (raw - 30000) x 0.1 A, + = charging (what real units send). */
export function current(a: number | undefined): number {
  return a === undefined ? NA : u(OFFSET + Math.round(a * 10));
}

export const bool = (b: boolean | undefined): number => (b === undefined ? NA : b ? 1 : 0);

/** A register value back to a number, for writes. */
export function fromRaw(raw: number, conv: string): number {
  switch (conv) {
    case 'x10':
      return raw / 10;
    case 'temp':
      return raw - 40;
    case 'cur_mag':
      return Math.abs(raw - OFFSET) / 10;
    default:
      return raw;
  }
}

/** A number to its register value, for reads of settings. */
export function toRaw(v: number | undefined, conv: string, sign: 1 | -1 = 1): number {
  switch (conv) {
    case 'x10':
      return x10(v);
    case 'temp':
      return temp(v);
    case 'cur_mag':
      return v === undefined ? NA : u(OFFSET + sign * Math.round(Math.abs(v) * 10));
    default:
      return u(v);
  }
}

/** NUL-padded ASCII in `regs` registers (printable characters only, one NUL kept at the end). */
export function ascii(s: string, regs: number): number[] {
  const bytes = new Array<number>(regs * 2).fill(0);
  const n = Math.min(s.length, regs * 2 - 1);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    bytes[i] = c >= 0x20 && c < 0x7f ? c : 0x3f;
  }
  const out: number[] = [];
  for (let i = 0; i < regs; i++) out.push((bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  return out;
}

function withCrc(body: number[]): Uint8Array {
  const out = new Uint8Array(body.length + 2);
  out.set(body);
  const crc = crc16Modbus(out, 0, body.length);
  out[body.length] = crc & 0xff;
  out[body.length + 1] = crc >> 8;
  return out;
}

/** FC 0x03 reply: unit, 0x03, byte count, registers big-endian, CRC. */
export function readReply(unit: number, regs: readonly number[]): Uint8Array {
  const body = [unit, 0x03, regs.length * 2];
  for (const r of regs) body.push((r >> 8) & 0xff, r & 0xff);
  return withCrc(body);
}

/** FC 0x06 reply (echo) and FC 0x10 reply (start, count): unit fn hi lo hi lo CRC. */
export function writeReply(unit: number, fn: number, start: number, word: number): Uint8Array {
  return withCrc([unit, fn, start >> 8, start & 0xff, (word >> 8) & 0xff, word & 0xff]);
}

/** Modbus exception reply: unit, fn | 0x80, code, CRC. */
export function exceptionReply(unit: number, fn: number, code: number): Uint8Array {
  return withCrc([unit, (fn | 0x80) & 0xff, code & 0xff]);
}

export function crcOk(b: Uint8Array): boolean {
  const n = b.length;
  return n >= 4 && crc16Modbus(b, 0, n - 2) === (b[n - 2]! | (b[n - 1]! << 8));
}

/** Modbus exception codes the unit answers with. */
export const EX = {
  ILLEGAL_FUNCTION: 1,
  ILLEGAL_ADDRESS: 2,
  ILLEGAL_VALUE: 3,
  DEVICE_FAILURE: 4,
} as const;

/** A request the unit does not understand; the bus turns it into the exception reply. */
export function notUnderstood(
  code: 'COMMAND_UNSUPPORTED' | 'INVALID_ARGUMENT' | 'FRAME_MALFORMED',
  exception: number,
  message: string,
): BmsError {
  return new BmsError(code, message, { exception_code: exception });
}
