/**
 * The JK `4E 57` ("NW") protocol of the JK-B* RS485 / TTL port: frame checks, the reply's
 * data items, and the read / write requests. Big-endian throughout.
 */
import { BmsError, ensure, makeAlarm, type Alarm, type Reading } from '@openbms/core';
import type { Request } from '../types.js';
import { sum16 } from '../util/checksum.js';
import {
  NW_ALARM_BITS,
  NW_CMD,
  NW_END_FLAG,
  NW_ITEMS,
  NW_MAX_LENGTH,
  NW_MIN_LENGTH,
  NW_START0,
  NW_START1,
} from './fields.js';

const MAX_CELLS = 48;
/** Frame source byte the vendor PC tool uses (3 = PC); encoders default to it. */
const DEFAULT_SOURCE = 3;

export function isNwStart(b: Uint8Array, i = 0): boolean {
  return b[i] === NW_START0 && b[i + 1] === NW_START1;
}

/** Total frame length from the length field at b[i+2..i+4), or undefined if not yet known. */
export function nwLength(b: Uint8Array, i: number, end: number): number | undefined {
  if (end - i < 4) return undefined;
  return ((b[i + 2]! << 8) | b[i + 3]!) + 2;
}

/** Why bytes at `i` (a whole candidate of `len` bytes) are not a 4E57 frame, or '' if they are. */
export function nwProblem(b: Uint8Array, i: number, len: number): string {
  if (len < NW_MIN_LENGTH || len > NW_MAX_LENGTH) return `length field gives ${len} bytes`;
  const got = (b[i + len - 2]! << 8) | b[i + len - 1]!;
  if (sum16(b, i, i + len - 2) !== got) return 'checksum';
  if (b[i + len - 5] !== NW_END_FLAG) return 'end flag 0x68 missing';
  return '';
}

/** Validates one whole 4E57 frame (exact length, end flag, checksum). */
export function checkNwFrame(b: Uint8Array): void {
  ensure(
    b.length >= 4 && isNwStart(b),
    'FRAME_MALFORMED',
    'not a JK 4E57 frame: start 4E 57 missing',
  );
  const len = nwLength(b, 0, b.length)!;
  if (!(len >= NW_MIN_LENGTH && len <= NW_MAX_LENGTH))
    throw new BmsError('FRAME_MALFORMED', `4E57 length field gives ${len} bytes`);
  if (!(b.length >= len))
    throw new BmsError('FRAME_TRUNCATED', `4E57 frame needs ${len} bytes, has ${b.length}`);
  if (!(b.length === len))
    throw new BmsError('FRAME_MALFORMED', `4E57 frame followed by ${b.length - len} extra bytes`);
  const got = (b[len - 2]! << 8) | b[len - 1]!;
  const want = sum16(b, 0, len - 2);
  if (!(got === want))
    throw new BmsError(
      'FRAME_CHECKSUM',
      `4E57 checksum mismatch: frame has 0x${got.toString(16)}, computed 0x${want.toString(16)}`,
    );
  ensure(b[len - 5] === NW_END_FLAG, 'FRAME_MALFORMED', '4E57 end flag 0x68 missing');
}

/** Whole degrees; the protocol sends values below zero as 100 + |t| (101 = -1 degC). */
function nwTemp(raw: number): number {
  return raw > 100 ? 100 - raw : raw;
}

function ascii(b: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let i = o; i < o + n; i++) {
    const c = b[i]!;
    if (c === 0) break;
    if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
  }
  return s.trim();
}

function readBe(b: Uint8Array, o: number, size: number): number {
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + b[o + i]!;
  return v;
}

export function decodeNw(b: Uint8Array, invertCurrent = false): Reading {
  checkNwFrame(b);
  const type = b[10]!;
  ensure(
    type !== 0,
    'FRAME_UNEXPECTED',
    'this 4E57 frame is a request (transport type 0), not a reply',
  );
  const cmd = b[8]!;
  const end = b.length - 9;
  const raw: Record<string, unknown> = { command: cmd, frame_source: b[9], transport_type: type };
  const cells: number[] = [];
  let i = 11;
  while (i < end) {
    const id = b[i]!;
    if (id === 0x79) {
      ensure(i + 1 < end, 'FRAME_MALFORMED', '4E57 cell item has no length byte');
      const n = b[i + 1]!;
      if (!(n % 3 === 0 && n / 3 <= MAX_CELLS))
        throw new BmsError(
          'FRAME_MALFORMED',
          `4E57 cell item length ${n} is not 3 x cells (<= ${MAX_CELLS})`,
        );
      ensure(i + 2 + n <= end, 'FRAME_MALFORMED', '4E57 cell item runs past the data');
      const nums: number[] = [];
      for (let k = i + 2; k < i + 2 + n; k += 3) {
        nums.push(b[k]!);
        cells.push((b[k + 1]! << 8) | b[k + 2]!);
      }
      raw.cell_numbers = nums;
      i += 2 + n;
      continue;
    }
    const item = NW_ITEMS.get(id);
    if (!item) {
      // Sizes are known per ID only: stop at an unknown one rather than guess.
      raw.unparsed_from_item = id;
      break;
    }
    if (!(i + 1 + item.size <= end))
      throw new BmsError('FRAME_MALFORMED', `4E57 item 0x${id.toString(16)} runs past the data`);
    const o = i + 1;
    i += 1 + item.size;
    if (!item.key) continue;
    switch (item.kind) {
      case 'ascii':
        raw[item.key] = ascii(b, o, item.size);
        break;
      case 'temp':
        raw[item.key] = nwTemp(readBe(b, o, item.size));
        break;
      case 's': {
        const v = readBe(b, o, item.size);
        raw[item.key] = v >= 0x8000 ? v - 0x10000 : v;
        break;
      }
      default: {
        const v = readBe(b, o, item.size);
        raw[item.key] = item.scale ? Math.round(v * item.scale * 1000) / 1000 : v;
      }
    }
  }
  return toReading(raw, cells, invertCurrent);
}

function num(raw: Record<string, unknown>, k: string): number | undefined {
  const v = raw[k];
  return typeof v === 'number' ? v : undefined;
}

function toReading(raw: Record<string, unknown>, cells: number[], invertCurrent: boolean): Reading {
  const r: Reading = { raw };
  const v = num(raw, 'pack_voltage_v');
  if (v !== undefined) r.voltage_v = v;
  const cur = num(raw, 'current_raw');
  if (cur !== undefined) {
    let a: number;
    if (num(raw, 'protocol_version') === 1) {
      a = ((cur & 0x7fff) / 100) * (cur & 0x8000 ? 1 : -1);
      raw.current_encoding = 'sign_bit15';
    } else {
      // Older firmware (no 0xC0 item or version 0): offset 10000, uncertain (README).
      a = (10000 - cur) / 100;
      raw.current_encoding = 'offset_10000_uncertain';
    }
    a = Math.round(a * 100) / 100;
    if (invertCurrent) a = -a;
    r.current_a = a === 0 ? 0 : a;
    if (v !== undefined) {
      const p = Math.round(v * r.current_a * 100) / 100;
      r.power_w = p === 0 ? 0 : p;
    }
  }
  const soc = num(raw, 'soc_pct');
  if (soc !== undefined) r.soc_pct = soc;
  const ts = num(raw, 'temp_sensor_count');
  if (ts !== undefined) r.temp_sensor_count = ts;
  const cycles = num(raw, 'cycles');
  if (cycles !== undefined) r.cycles = cycles;
  const cc = num(raw, 'cycle_capacity_ah');
  if (cc !== undefined) r.cycle_ah = cc;
  if (cells.length > 0) r.cell_mv = cells;
  const count = num(raw, 'cell_count');
  if (count !== undefined) r.cell_count = count;
  else if (cells.length > 0) r.cell_count = cells.length;
  const mos = num(raw, 'mos_temp_c');
  if (mos !== undefined) r.mos_temp_c = mos;
  const temps: number[] = [];
  const t1 = num(raw, 'box_temp_c');
  const t2 = num(raw, 'battery_temp_c');
  if (t1 !== undefined) temps.push(t1);
  if (t2 !== undefined) temps.push(t2);
  if (temps.length > 0) r.temps_c = temps;
  const nominal = num(raw, 'nominal_capacity_ah');
  if (nominal !== undefined) r.design_ah = nominal;
  const actual = num(raw, 'actual_capacity_ah');
  if (actual !== undefined) r.full_ah = actual;
  const work = num(raw, 'working_time_min');
  if (work !== undefined) r.runtime_s = work * 60;
  const status = num(raw, 'status_bitmask');
  if (status !== undefined) {
    r.charge_mos = (status & 1) !== 0;
    r.discharge_mos = (status & 2) !== 0;
    r.balancing = (status & 4) !== 0;
    raw.battery_online = (status & 8) !== 0;
  }
  const bits = num(raw, 'alarm_bitmask');
  if (bits !== undefined) {
    const names: string[] = [];
    const alarms: Alarm[] = [];
    for (let i = 0; i < 16; i++) {
      if (((bits >>> i) & 1) === 0) continue;
      const def = NW_ALARM_BITS[i];
      const name = def ? def[0] : `bit${i}`;
      names.push(name);
      if (def?.[1]) alarms.push(makeAlarm(def[1], { source: name }));
    }
    raw.alarms = names;
    r.alarms = alarms;
  }
  const info: NonNullable<Reading['info']> = {};
  if (typeof raw.software_version === 'string' && raw.software_version)
    info.sw_version = raw.software_version;
  const date = raw.manufacturing_date;
  if (typeof date === 'string' && date)
    info.manufacture_date = isYymm(date) ? `20${date.slice(0, 2)}-${date.slice(2)}` : date;
  const pv = num(raw, 'protocol_version');
  if (pv !== undefined) info.protocol_version = String(pv);
  if (info.sw_version !== undefined || info.manufacture_date !== undefined || pv !== undefined)
    r.info = info;
  return r;
}

function isYymm(s: string): boolean {
  if (s.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

// ---- requests ----

function u32be(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
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

/** Encodes nw_read_all / nw_read / nw_write. */
export function encodeNw(req: Request): Uint8Array {
  const terminal = intArg(req, 'terminal', 0, 0xffffffff, 0);
  const source = intArg(req, 'source', 0, 255, DEFAULT_SOURCE);
  const record = intArg(req, 'record', 0, 0xffffffff, 0);
  let cmd: number;
  let data: number[];
  if (req.command === 'nw_read_all') {
    cmd = NW_CMD.read_all;
    data = [0x00];
  } else if (req.command === 'nw_read') {
    cmd = NW_CMD.read;
    data = [intArg(req, 'item', 0x79, 0xff)];
  } else if (req.command === 'nw_write') {
    cmd = NW_CMD.write;
    const id = intArg(req, 'item', 0x80, 0xff);
    const item = NW_ITEMS.get(id);
    ensure(
      item && item.key && (item.kind === 'u' || item.kind === 's'),
      'INVALID_ARGUMENT',
      `nw_write: item 0x${id.toString(16)} is not a writable numeric item`,
    );
    const signed = item.kind === 's';
    const lim = 2 ** (8 * item.size);
    const value = intArg(req, 'value', signed ? -lim / 2 : 0, signed ? lim / 2 - 1 : lim - 1);
    data = [id];
    let w = value < 0 ? value + lim : value;
    const bytes: number[] = [];
    for (let k = 0; k < item.size; k++) {
      bytes.unshift(w % 256);
      w = Math.floor(w / 256);
    }
    data.push(...bytes);
  } else {
    throw new BmsError('COMMAND_UNSUPPORTED', `JK 4E57 cannot encode "${req.command}"`);
  }
  const total = 11 + data.length + 4 + 1 + 2 + 2;
  const body = [
    NW_START0,
    NW_START1,
    (total - 2) >> 8,
    (total - 2) & 0xff,
    ...u32be(terminal),
    cmd,
    source,
    0,
    ...data,
    ...u32be(record),
    NW_END_FLAG,
    0,
    0,
  ];
  const out = new Uint8Array(total);
  out.set(body);
  const s = sum16(out, 0, total - 2);
  out[total - 2] = s >> 8;
  out[total - 1] = s & 0xff;
  return out;
}

/** Inverse of encodeNw. */
export function parseNwRequest(b: Uint8Array): Request {
  checkNwFrame(b);
  ensure(b[10] === 0, 'FRAME_UNEXPECTED', 'this 4E57 frame is a reply, not a request');
  ensure(
    b[b.length - 4] === 0 && b[b.length - 3] === 0,
    'FRAME_MALFORMED',
    '4E57 request: bytes before the checksum must be zero',
  );
  const cmd = b[8]!;
  const data = b.subarray(11, b.length - 9);
  const args: Record<string, number> = {};
  const terminal = readBe(b, 4, 4);
  const record = readBe(b, b.length - 9, 4);
  let command: string;
  if (cmd === NW_CMD.read_all && data.length === 1 && data[0] === 0) command = 'nw_read_all';
  else if (cmd === NW_CMD.read && data.length === 1) {
    command = 'nw_read';
    args.item = data[0]!;
  } else if (cmd === NW_CMD.write && data.length >= 2) {
    const item = NW_ITEMS.get(data[0]!);
    ensure(
      item && item.key && (item.kind === 'u' || item.kind === 's') && data.length === 1 + item.size,
      'FRAME_MALFORMED',
      `4E57 write of item 0x${data[0]!.toString(16)} has ${data.length - 1} value bytes`,
    );
    command = 'nw_write';
    args.item = data[0]!;
    let v = readBe(data, 1, item.size);
    if (item.kind === 's' && v >= 2 ** (8 * item.size - 1)) v -= 2 ** (8 * item.size);
    args.value = v;
  } else {
    throw new BmsError(
      'COMMAND_UNSUPPORTED',
      `4E57 request command 0x${cmd.toString(16)} with ${data.length} data bytes is not supported`,
    );
  }
  if (terminal !== 0) args.terminal = terminal;
  if (b[9] !== DEFAULT_SOURCE) args.source = b[9]!;
  if (record !== 0) args.record = record;
  return Object.keys(args).length > 0 ? { command, args } : { command };
}
