/**
 * Request helpers on top of codec.ts: the structured Request form of the generic family and a
 * tolerant FC 0x10 parser that also accepts the DALY vendor form (no byte-count byte).
 */
import { BmsError, ensure } from '@openbms/core';
import { crc16Modbus } from '../util/checksum.js';
import { encodeModbusRequest, FC, parseModbusRequest, type ModbusRequest } from './codec.js';

/** A parsed request plus whether an FC 0x10 frame carried the standard byte-count byte. */
export interface LooseModbusRequest extends ModbusRequest {
  /** false only for an FC 0x10 request in the DALY vendor form (values follow the count directly). */
  byteCountField?: boolean;
}

function crcOk(bytes: Uint8Array): boolean {
  const n = bytes.length;
  return crc16Modbus(bytes, 0, n - 2) === (bytes[n - 2]! | (bytes[n - 1]! << 8));
}

/**
 * Parses one request frame. FC 0x10 is accepted in the standard form (byte count present) and
 * in the DALY vendor-sheet form `unit 10 start count values... crc`; everything else goes to
 * codec.ts. Throws BmsError.
 */
export function parseModbusRequestLoose(bytes: Uint8Array): LooseModbusRequest {
  ensure(
    bytes.length >= 8,
    'FRAME_TRUNCATED',
    `Modbus request of ${bytes.length} bytes is too short`,
  );
  if (bytes[1] !== FC.WRITE_MULTIPLE) return parseModbusRequest(bytes);
  const len = bytes.length;
  const count = (bytes[4]! << 8) | bytes[5]!;
  ensure(
    count >= 1 && count <= 123,
    'FRAME_MALFORMED',
    `FC 0x10 register count ${count} is outside 1..123`,
  );
  ensure(crcOk(bytes), 'FRAME_CHECKSUM', 'Modbus request CRC mismatch');
  const start = (bytes[2]! << 8) | bytes[3]!;
  let first: number;
  let byteCountField: boolean;
  if (len === 9 + count * 2 && bytes[6] === count * 2) {
    first = 7;
    byteCountField = true;
  } else if (len === 8 + count * 2) {
    first = 6;
    byteCountField = false;
  } else {
    throw new BmsError(
      'FRAME_MALFORMED',
      `FC 0x10 request of ${len} bytes does not fit ${count} registers`,
    );
  }
  const values: number[] = new Array<number>(count);
  for (let i = 0; i < count; i++)
    values[i] = (bytes[first + i * 2]! << 8) | bytes[first + 1 + i * 2]!;
  const out: LooseModbusRequest = { unit: bytes[0]!, fn: FC.WRITE_MULTIPLE, start, count, values };
  if (!byteCountField) out.byteCountField = false;
  return out;
}

/** Encodes a request; `byteCountField: false` writes the DALY vendor FC 0x10 form. */
export function encodeModbusRequestLoose(r: LooseModbusRequest): Uint8Array {
  if (r.fn !== FC.WRITE_MULTIPLE || r.byteCountField !== false) return encodeModbusRequest(r);
  // Reuse the standard encoder for validation, then drop the byte-count byte and re-CRC.
  const std = encodeModbusRequest(r);
  const out = new Uint8Array(std.length - 1);
  out.set(std.subarray(0, 6), 0);
  out.set(std.subarray(7, std.length - 2), 6);
  const crc = crc16Modbus(out, 0, out.length - 2);
  out[out.length - 2] = crc & 0xff;
  out[out.length - 1] = crc >> 8;
  return out;
}

/** Reads an integer argument 0..65535 of a structured request. */
export function u16Arg(args: Record<string, unknown> | undefined, name: string): number {
  const v = args?.[name];
  ensure(
    typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff,
    'INVALID_ARGUMENT',
    `argument "${name}" must be an integer 0..65535 (got ${JSON.stringify(v)})`,
  );
  return v;
}

/** Reads a list of register values 0..65535 (1..123 of them). */
export function valuesArg(args: Record<string, unknown> | undefined, name = 'values'): number[] {
  const v = args?.[name];
  ensure(
    Array.isArray(v) && v.length >= 1 && v.length <= 123,
    'INVALID_ARGUMENT',
    `argument "${name}" must be a list of 1..123 register values`,
  );
  for (const x of v) {
    ensure(
      typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffff,
      'INVALID_ARGUMENT',
      `register value ${JSON.stringify(x)} is not 0..65535`,
    );
  }
  return v as number[];
}

/** Reads the unit id of a request (Request.address), with a default. */
export function unitArg(address: number | undefined, fallback: number): number {
  const u = address ?? fallback;
  ensure(
    Number.isInteger(u) && u >= 0 && u <= 255,
    'INVALID_ARGUMENT',
    `unit id must be 0..255 (got ${u})`,
  );
  return u;
}

/**
 * FC 0x10 from request args `{start, values, byte_count_field?}`; `byte_count_field: false`
 * builds the vendor form without the byte-count byte (DALY's documented example).
 */
export function encodeWriteMultipleArgs(
  unit: number,
  a: Record<string, unknown> | undefined,
): Uint8Array {
  const values = valuesArg(a);
  const flag = a?.byte_count_field;
  ensure(
    flag === undefined || typeof flag === 'boolean',
    'INVALID_ARGUMENT',
    'byte_count_field must be a boolean',
  );
  const r: LooseModbusRequest = {
    unit,
    fn: FC.WRITE_MULTIPLE,
    start: u16Arg(a, 'start'),
    count: values.length,
    values,
  };
  if (flag === false) r.byteCountField = false;
  return encodeModbusRequestLoose(r);
}
