/**
 * Seplos V2 requests: the command table, the encoder and its inverse. The envelope (SOI,
 * VER, ADR, CID1, CID2, LENGTH, INFO, CHKSUM, EOI) is Pylontech's, so the framing helpers of
 * `pylontech/frame.ts` are used as they are; only the commands and INFO layouts differ.
 *
 * Normal form of a Request (what parseRequest returns and encode reproduces byte for byte):
 * `address` = ADR; `args` only where the request carries data or deviates from its
 * standard form (`info: [..]` verbatim INFO, `ver: n` VER other than 0x20, `length_in_bytes:
 * true` for LENGTH counting INFO bytes instead of characters, as one clone's tool sends).
 */
import { ensure } from '@openbms/core';
import type { CommandInfo, Request } from '../types.js';
import {
  CID1_BATTERY,
  DEFAULT_VER,
  ENVELOPE_CHARS,
  HEADER_CHARS,
  buildFrame,
  frameChecksum,
  hexByteAt,
  lengthChecksum,
  parseFrame,
  peekHeader,
  type PylonFrame,
} from '../pylontech/frame.js';
import { BLOCK, CID2 } from './fields.js';

/** How a command's request INFO is shaped. */
type Shape =
  /** no INFO */
  | 'none'
  /** one byte: the command group (= ADR on RS485; 0xFF = every pack, RS232 only) */
  | 'group'
  /** the 169-byte parameter block */
  | 'block'
  /** 7 bytes: year (uint16), month, day, hour, minute, second */
  | 'clock'
  /** pack index, switch bit, action (0x45) */
  | 'control'
  /** parameter index, int16 value (0xA0) */
  | 'calibrate'
  /** one byte: a protocol number (0xA6 / 0xA7) */
  | 'protocol';

export interface SeplosCommand extends CommandInfo {
  cid2: number;
  shape: Shape;
  /** The reference marks the command's format uncertain (one source). */
  uncertain?: boolean;
}

const cmd = (
  id: string,
  cid2: number,
  kind: CommandInfo['kind'],
  shape: Shape,
  description: string,
  uncertain = false,
): SeplosCommand => ({ id, cid2, kind, shape, description, ...(uncertain ? { uncertain } : {}) });

export const V2_COMMANDS: readonly SeplosCommand[] = [
  cmd(
    'protocol_version',
    CID2.PROTOCOL_VERSION,
    'read',
    'none',
    'V2: protocol version (0x4F), in the reply VER',
  ),
  cmd(
    'device_info',
    CID2.DEVICE_INFO,
    'read',
    'none',
    'V2: device name, software version, active CAN protocol (0x51)',
  ),
  cmd(
    'telemetry',
    CID2.TELEMETRY,
    'read',
    'group',
    'V2: cells, temperatures, current, voltage, capacities, SOC, SOH, cycles (0x42)',
  ),
  cmd(
    'telesignalling',
    CID2.TELESIGNALLING,
    'read',
    'group',
    'V2: per-cell and sensor states, alarm events, switches, balancing, system state (0x44)',
  ),
  cmd(
    'parameters',
    CID2.PARAMETERS,
    'read',
    'none',
    'V2: the whole 169-byte parameter block (0x47)',
  ),
  cmd(
    'write_parameters',
    CID2.WRITE_PARAMETERS,
    'write',
    'block',
    'V2: write the whole parameter block (0xA1, args.block = 169 bytes)',
  ),
  cmd('read_clock', CID2.CLOCK_READ, 'read', 'none', 'V2: BMS clock (0x4D)'),
  cmd(
    'set_clock',
    CID2.CLOCK_WRITE,
    'write',
    'clock',
    'V2: set the BMS clock (0x4E, args year, month, day, hour, minute, second)',
  ),
  cmd(
    'control',
    CID2.CONTROL,
    'control',
    'control',
    'V2: switch control (0x45, args item, action); uncertain',
    true,
  ),
  cmd(
    'calibrate',
    CID2.CALIBRATE,
    'write',
    'calibrate',
    'V2: calibration (0xA0, args index, value); uncertain',
    true,
  ),
  cmd(
    'set_can_protocol',
    CID2.CAN_PROTOCOL,
    'write',
    'protocol',
    'V2: select the CAN inverter protocol (0xA6, args protocol 1..7); uncertain',
    true,
  ),
  cmd(
    'set_rs485_protocol',
    CID2.RS485_PROTOCOL,
    'write',
    'protocol',
    'V2: select the RS485 inverter protocol (0xA7, args protocol); untested',
    true,
  ),
];

/**
 * Any other CID2 with CID1 0x46, INFO as given (`args.cid2`, `args.info`): for probing (the
 * captures show Pylontech's 0x92 / 0x93 answered with RTN 04). Not in the CID2 table.
 */
export const RAW_REQUEST: CommandInfo = {
  id: 'raw_request',
  kind: 'read',
  description: 'V2: any other CID2 (args cid2, info), e.g. to probe what a unit answers',
};

const BY_ID = new Map(V2_COMMANDS.map((c) => [c.id, c]));
const BY_CID2 = new Map(V2_COMMANDS.map((c) => [c.cid2, c]));

export const v2CommandById = (id: string): SeplosCommand | undefined => BY_ID.get(id);
export const v2CommandByCid2 = (cid2: number): SeplosCommand | undefined => BY_CID2.get(cid2);

/** CID2 codes that only occur in requests: a frame carrying one is not a reply. */
export const REQUEST_CID2S: ReadonlySet<number> = new Set(V2_COMMANDS.map((c) => c.cid2));

/** ADR of a single pack (the DIP switch at 0; the captures all use it). */
export const DEFAULT_ADR = 0;

/** Switch items of 0x45 (vendor XML teleControl bit numbers). */
export const CONTROL_ITEMS = {
  discharge_switch: 0,
  charge_switch: 1,
  current_limit_switch: 2,
  heater: 3,
  shutdown: 4,
  restore_factory_settings: 5,
} as const;
/** 0x45 actions: 0x10 on, 0x1F off (switches), 0x00 for shutdown and factory reset. */
export const CONTROL_ON = 0x10;
export const CONTROL_OFF = 0x1f;
export const CONTROL_DO = 0x00;

const intArg = (name: string, v: unknown, min: number, max: number): number => {
  ensure(
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max,
    'INVALID_ARGUMENT',
    `${name} must be an integer ${min}..${max} (got ${JSON.stringify(v)})`,
  );
  return v;
};

function allowOnly(args: Record<string, unknown>, allowed: readonly string[], id: string): void {
  for (const k of Object.keys(args)) {
    ensure(allowed.includes(k), 'INVALID_ARGUMENT', `argument "${k}" is not accepted by ${id}`);
  }
}

const CLOCK_KEYS = ['year', 'month', 'day', 'hour', 'minute', 'second'] as const;

function bytesArg(name: string, v: unknown, length?: number): number[] {
  ensure(Array.isArray(v), 'INVALID_ARGUMENT', `${name} must be a list of bytes`);
  const list = v as unknown[];
  if (length !== undefined) {
    ensure(
      list.length === length,
      'INVALID_ARGUMENT',
      `${name} must hold ${length} bytes (got ${list.length})`,
    );
  }
  return list.map((b, i) => intArg(`${name}[${i}]`, b, 0, 255));
}

function requestInfo(c: SeplosCommand, adr: number, args: Record<string, unknown>): number[] {
  if (args.info !== undefined) {
    allowOnly(args, ['info', 'ver'], c.id);
    return bytesArg('info', args.info);
  }
  switch (c.shape) {
    case 'none':
      allowOnly(args, ['ver'], c.id);
      return [];
    case 'group':
      allowOnly(args, ['ver', 'group'], c.id);
      return [args.group === undefined ? adr : intArg('group', args.group, 0, 255)];
    case 'block':
      allowOnly(args, ['ver', 'block'], c.id);
      return bytesArg('block', args.block, BLOCK.length);
    case 'clock': {
      allowOnly(args, ['ver', ...CLOCK_KEYS], c.id);
      const year = intArg('year', args.year, 2000, 2099);
      return [
        year >> 8,
        year & 0xff,
        intArg('month', args.month, 1, 12),
        intArg('day', args.day, 1, 31),
        intArg('hour', args.hour, 0, 23),
        intArg('minute', args.minute, 0, 59),
        intArg('second', args.second, 0, 59),
      ];
    }
    case 'control':
      allowOnly(args, ['ver', 'item', 'action', 'pack'], c.id);
      return [
        args.pack === undefined ? adr : intArg('pack', args.pack, 0, 255),
        intArg('item', args.item, 0, 7),
        intArg('action', args.action, 0, 255),
      ];
    case 'calibrate': {
      allowOnly(args, ['ver', 'index', 'value'], c.id);
      const value = intArg('value', args.value, -0x8000, 0x7fff) & 0xffff;
      return [intArg('index', args.index, 0, 255), value >> 8, value & 0xff];
    }
    case 'protocol':
      allowOnly(args, ['ver', 'protocol'], c.id);
      return [intArg('protocol', args.protocol, 0, 255)];
  }
}

export function encodeV2(req: Request): Uint8Array {
  if (req.command === RAW_REQUEST.id) return encodeRaw(req);
  const c = BY_ID.get(req.command);
  ensure(c, 'COMMAND_UNSUPPORTED', `seplos v2 has no command "${req.command}"`);
  const adr =
    req.address === undefined ? DEFAULT_ADR : intArg('address (ADR)', req.address, 0, 255);
  const { length_in_bytes: bytesLength, ...rest } = (req.args ?? {}) as Record<string, unknown>;
  const args = rest;
  ensure(
    bytesLength === undefined || bytesLength === true,
    'INVALID_ARGUMENT',
    'length_in_bytes must be true when given',
  );
  const ver = args.ver === undefined ? DEFAULT_VER : intArg('ver', args.ver, 0, 255);
  const info = requestInfo(c, adr, args);
  const frame = buildFrame(ver, adr, CID1_BATTERY, c.cid2, info);
  return bytesLength === true ? withByteLength(frame, info.length) : frame;
}

function encodeRaw(req: Request): Uint8Array {
  const adr =
    req.address === undefined ? DEFAULT_ADR : intArg('address (ADR)', req.address, 0, 255);
  const args = (req.args ?? {}) as Record<string, unknown>;
  allowOnly(args, ['cid2', 'info', 'ver'], RAW_REQUEST.id);
  const cid2 = intArg('cid2', args.cid2, 0, 255);
  ensure(
    !BY_CID2.has(cid2),
    'INVALID_ARGUMENT',
    `CID2 0x${cid2.toString(16)} is ${BY_CID2.get(cid2)?.id}: use that command`,
  );
  const ver = args.ver === undefined ? DEFAULT_VER : intArg('ver', args.ver, 0, 255);
  const info = args.info === undefined ? [] : bytesArg('info', args.info);
  return buildFrame(ver, adr, CID1_BATTERY, cid2, info);
}

/**
 * The frame with LENGTH counting INFO bytes instead of characters (one clone's PC tool sends
 * `F001` for one INFO byte, and that clone accepts it), LCHKSUM and CHKSUM recomputed.
 */
function withByteLength(frame: Uint8Array, infoBytes: number): Uint8Array {
  const out = frame.slice();
  const length = (lengthChecksum(infoBytes) << 12) | infoBytes;
  const digits = length.toString(16).toUpperCase().padStart(4, '0');
  for (let i = 0; i < 4; i++) out[9 + i] = digits.charCodeAt(i);
  const chk = frameChecksum(out, 1, out.length - 5)
    .toString(16)
    .toUpperCase()
    .padStart(4, '0');
  for (let i = 0; i < 4; i++) out[out.length - 5 + i] = chk.charCodeAt(i);
  return out;
}

/**
 * A request frame: the standard envelope, or the byte-count LENGTH variant (LENID = INFO
 * bytes, LCHKSUM and CHKSUM valid for the frame as sent).
 */
function parseRequestFrame(bytes: Uint8Array): { frame: PylonFrame; byteLength: boolean } {
  try {
    return { frame: parseFrame(bytes), byteLength: false };
  } catch (e) {
    const h = peekHeader(bytes);
    const lenid = h?.lenid ?? 0;
    if (!h || lenid === 0 || bytes.length !== ENVELOPE_CHARS + 2 * lenid || lenid % 2 === 0) {
      throw e;
    }
    const length = (hexByteAt(bytes, 9) << 8) | hexByteAt(bytes, 11);
    ensure(length >> 12 === lengthChecksum(lenid), 'FRAME_CHECKSUM', 'LCHKSUM mismatch');
    ensure(bytes[bytes.length - 1] === 0x0d, 'FRAME_MALFORMED', 'frame does not end with CR');
    const end = bytes.length - 5;
    const chk = (hexByteAt(bytes, end) << 8) | hexByteAt(bytes, end + 2);
    ensure(
      hexByteAt(bytes, end) >= 0 &&
        hexByteAt(bytes, end + 2) >= 0 &&
        chk === frameChecksum(bytes, 1, end),
      'FRAME_CHECKSUM',
      'CHKSUM mismatch in a byte-count LENGTH frame',
    );
    return { frame: { ...h, info: infoOf(bytes, lenid) }, byteLength: true };
  }
}

function infoOf(bytes: Uint8Array, n: number): Uint8Array {
  const info = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const b = hexByteAt(bytes, HEADER_CHARS + 2 * i);
    ensure(b >= 0, 'FRAME_MALFORMED', 'non-hex character in INFO');
    info[i] = b;
  }
  return info;
}

/** The inverse of encodeV2. Throws BmsError on frames that are not V2 requests. */
export function parseV2Request(bytes: Uint8Array): Request {
  const { frame: f, byteLength } = parseRequestFrame(bytes);
  ensure(
    f.cid1 === CID1_BATTERY,
    'COMMAND_UNSUPPORTED',
    `CID1 0x${f.cid1.toString(16)} is not battery data (0x46)`,
  );
  const c = BY_CID2.get(f.cid2);
  const args: Record<string, number | number[]> = {};
  if (f.ver !== DEFAULT_VER) args.ver = f.ver;
  if (!c) {
    ensure(!byteLength, 'COMMAND_UNSUPPORTED', 'byte-count LENGTH only on known commands');
    args.cid2 = f.cid2;
    if (f.info.length > 0) args.info = Array.from(f.info);
    return { command: RAW_REQUEST.id, address: f.adr, args };
  }
  const info = Array.from(f.info);
  const n = info.length;
  if (c.shape === 'none' && n === 0) {
    // standard form
  } else if (c.shape === 'group' && n === 1) {
    if (info[0] !== f.adr) args.group = info[0]!;
  } else if (c.shape === 'block' && n === BLOCK.length) {
    args.block = info;
  } else if (c.shape === 'clock' && n === 7 && validClock(info)) {
    args.year = (info[0]! << 8) | info[1]!;
    CLOCK_KEYS.slice(1).forEach((k, i) => (args[k] = info[2 + i]!));
  } else if (c.shape === 'control' && n === 3 && info[1]! <= 7) {
    if (info[0] !== f.adr) args.pack = info[0]!;
    args.item = info[1]!;
    args.action = info[2]!;
  } else if (c.shape === 'calibrate' && n === 3) {
    args.index = info[0]!;
    args.value = (((info[1]! << 8) | info[2]!) << 16) >> 16;
  } else if (c.shape === 'protocol' && n === 1) {
    args.protocol = info[0]!;
  } else {
    args.info = info;
  }
  if (byteLength) (args as Record<string, unknown>).length_in_bytes = true;
  const req: Request = { command: c.id, address: f.adr };
  if (Object.keys(args).length > 0) req.args = args as Request['args'];
  return req;
}

function validClock(info: number[]): boolean {
  const year = (info[0]! << 8) | info[1]!;
  const [, , month, day, hour, minute, second] = info as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return (
    year >= 2000 &&
    year <= 2099 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= 31 &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59
  );
}

/** What decode needs to know about the request a V2 reply answers. */
export interface V2Context {
  cid2: number;
  /** The one-byte command group, when known. */
  group?: number;
}

/**
 * The request context of opts.request: the request frame ("~...\r", validated) or the short
 * form [CID2] / [CID2, INFO byte].
 */
export function v2Context(request: Uint8Array): V2Context {
  if (request.length === 1) return { cid2: request[0]! };
  if (request.length === 2) return { cid2: request[0]!, group: request[1]! };
  ensure(
    request[0] === 0x7e,
    'INVALID_ARGUMENT',
    'opts.request must be a Seplos V2 request frame ("~...\\r") or the short form [CID2] / [CID2, INFO]',
  );
  const f = parseRequestFrame(request).frame;
  return f.info.length === 1 ? { cid2: f.cid2, group: f.info[0]! } : { cid2: f.cid2 };
}

export const V2_REQUEST_EXAMPLES: readonly Request[] = [
  { command: 'protocol_version', address: 0 },
  { command: 'device_info', address: 0 },
  { command: 'telemetry', address: 0 },
  { command: 'telemetry', address: 3 },
  { command: 'telemetry', address: 0, args: { group: 0xff } },
  { command: 'telesignalling', address: 0 },
  { command: 'telesignalling', address: 0, args: { length_in_bytes: true } },
  { command: 'parameters', address: 0 },
  { command: 'parameters', address: 0, args: { info: [0] } },
  {
    command: 'write_parameters',
    address: 0,
    args: { block: Array.from({ length: BLOCK.length }, (_, i) => i & 0xff) },
  },
  { command: 'read_clock', address: 0 },
  {
    command: 'set_clock',
    address: 0,
    args: { year: 2026, month: 10, day: 4, hour: 21, minute: 7, second: 19 },
  },
  { command: 'control', address: 1, args: { item: 1, action: CONTROL_OFF } },
  { command: 'calibrate', address: 0, args: { index: 1, value: -1234 } },
  { command: 'set_can_protocol', address: 0, args: { protocol: 3 } },
  { command: 'set_rs485_protocol', address: 0, args: { protocol: 1 } },
  { command: 'raw_request', address: 0, args: { cid2: 0x93 } },
  { command: 'raw_request', address: 2, args: { cid2: 0x92, info: [2] } },
];
