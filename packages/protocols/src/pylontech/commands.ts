/**
 * Pylontech commands (CID2 codes with CID1 = 0x46) and the request encoder / parser.
 *
 * Normal form of a Request (what parseRequest returns and encode reproduces byte for byte):
 * - `address` = ADR, always present.
 * - `args` only when the request deviates from the standard form of its command:
 *   - `all: true`  0x42/0x44 with INFO = 0xFF (whole group);
 *   - `value: n`   a one-byte command value other than ADR (0x42/0x44/0x92/0x93/0x95/0x96);
 *   - `info: [..]` any other INFO (e.g. the 2-byte INFO some clients send), verbatim;
 *   - `ver: n`     VER other than 0x20;
 *   - 0x94: `charge_voltage_limit_v`, `discharge_voltage_limit_v`, `charge_current_limit_a`,
 *     `discharge_current_limit_a` (the latter negative, as in 0x92).
 */
import { ensure } from '@openbms/core';
import type { CommandInfo, Request } from '../types.js';
import { CID1_BATTERY, DEFAULT_VER, buildFrame, parseFrame } from './frame.js';

/** How a command's request INFO is shaped. */
type InfoShape =
  /** no INFO */
  | 'none'
  /** one byte, the command value (= ADR) */
  | 'value'
  /** one byte: ADR, or 0xFF for the whole group */
  | 'group'
  /** ADR + 4 x 16-bit limits (0x94) */
  | 'limits';

export interface PylonCommand extends CommandInfo {
  cid2: number;
  shape: InfoShape;
}

const cmd = (
  id: string,
  cid2: number,
  kind: CommandInfo['kind'],
  shape: InfoShape,
  description: string,
): PylonCommand => ({ id, cid2, kind, shape, description });

export const COMMANDS: readonly PylonCommand[] = [
  cmd(
    'protocol_version',
    0x4f,
    'read',
    'none',
    'Protocol version (0x4F); the version is the VER of the reply',
  ),
  cmd(
    'manufacturer_info',
    0x51,
    'read',
    'none',
    'Device name, software version, manufacturer (0x51)',
  ),
  cmd(
    'analog',
    0x42,
    'read',
    'group',
    'Analog values: cells, temperatures, current, voltage, capacity, cycles (0x42); args.all = whole group',
  ),
  cmd(
    'alarm',
    0x44,
    'read',
    'group',
    'Alarm info: per-cell/sensor states, protection and status bits (0x44); args.all = whole group',
  ),
  cmd(
    'system_parameters',
    0x47,
    'read',
    'none',
    'System parameters: voltage, temperature and current limits (0x47)',
  ),
  cmd(
    'management_info',
    0x92,
    'read',
    'value',
    'Charge/discharge management: requested voltage/current limits, charge/discharge enable (0x92)',
  ),
  cmd('serial_number', 0x93, 'read', 'value', 'Module serial number (0x93)'),
  cmd(
    'set_management_info',
    0x94,
    'write',
    'limits',
    'Set charge/discharge limits (0x94; temporary, reverts after ~10 s; vendor advises against it)',
  ),
  cmd('turn_off', 0x95, 'control', 'value', 'Turn the module off (0x95)'),
  cmd(
    'software_version',
    0x96,
    'read',
    'value',
    'Software version: manufacturer and main-line version (0x96)',
  ),
];

const BY_ID = new Map(COMMANDS.map((c) => [c.id, c]));
const BY_CID2 = new Map(COMMANDS.map((c) => [c.cid2, c]));

export function commandById(id: string): PylonCommand | undefined {
  return BY_ID.get(id);
}

export function commandByCid2(cid2: number): PylonCommand | undefined {
  return BY_CID2.get(cid2);
}

export const DEFAULT_ADDRESS = 2;

const LIMIT_KEYS = [
  'charge_voltage_limit_v',
  'discharge_voltage_limit_v',
  'charge_current_limit_a',
  'discharge_current_limit_a',
] as const;

function byteArg(name: string, v: unknown): number {
  ensure(
    typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255,
    'INVALID_ARGUMENT',
    `${name} must be an integer 0..255 (got ${String(v)})`,
  );
  return v;
}

function scaledArg(name: string, v: unknown, scale: number, min: number, max: number): number {
  ensure(
    typeof v === 'number' && Number.isFinite(v),
    'INVALID_ARGUMENT',
    `${name} must be a number`,
  );
  const raw = Math.round(v * scale);
  ensure(
    raw >= min && raw <= max,
    'INVALID_ARGUMENT',
    `${name} ${v} is outside the 16-bit wire range`,
  );
  return raw;
}

function allowOnly(
  args: Record<string, unknown>,
  allowed: readonly string[],
  command: string,
): void {
  for (const k of Object.keys(args)) {
    ensure(
      allowed.includes(k),
      'INVALID_ARGUMENT',
      `argument "${k}" is not accepted by ${command}`,
    );
  }
}

/** INFO bytes of a request in normal form. */
function requestInfo(c: PylonCommand, adr: number, args: Record<string, unknown>): number[] {
  if (args.info !== undefined) {
    allowOnly(args, ['info', 'ver'], c.id);
    ensure(Array.isArray(args.info), 'INVALID_ARGUMENT', 'info must be a list of bytes');
    return (args.info as unknown[]).map((b, i) => byteArg(`info[${i}]`, b));
  }
  switch (c.shape) {
    case 'none':
      allowOnly(args, ['ver'], c.id);
      return [];
    case 'value':
      allowOnly(args, ['ver', 'value'], c.id);
      return [args.value === undefined ? adr : byteArg('value', args.value)];
    case 'group': {
      allowOnly(args, ['ver', 'value', 'all'], c.id);
      ensure(
        args.all === undefined || typeof args.all === 'boolean',
        'INVALID_ARGUMENT',
        'all must be a boolean',
      );
      ensure(
        !(args.all === true && args.value !== undefined),
        'INVALID_ARGUMENT',
        'give either all or value',
      );
      if (args.all === true) return [0xff];
      return [args.value === undefined ? adr : byteArg('value', args.value)];
    }
    case 'limits': {
      allowOnly(args, ['ver', ...LIMIT_KEYS], c.id);
      const cv = scaledArg('charge_voltage_limit_v', args.charge_voltage_limit_v, 1000, 0, 0xffff);
      const dv = scaledArg(
        'discharge_voltage_limit_v',
        args.discharge_voltage_limit_v,
        1000,
        0,
        0xffff,
      );
      const cc =
        scaledArg('charge_current_limit_a', args.charge_current_limit_a, 10, -0x8000, 0x7fff) &
        0xffff;
      const dc =
        scaledArg(
          'discharge_current_limit_a',
          args.discharge_current_limit_a,
          10,
          -0x8000,
          0x7fff,
        ) & 0xffff;
      return [adr, cv >> 8, cv & 0xff, dv >> 8, dv & 0xff, cc >> 8, cc & 0xff, dc >> 8, dc & 0xff];
    }
  }
}

export function encodeRequest(req: Request): Uint8Array {
  const c = BY_ID.get(req.command);
  ensure(
    c,
    'COMMAND_UNSUPPORTED',
    `pylontech has no command "${req.command}"; known: ${COMMANDS.map((x) => x.id).join(', ')}`,
  );
  const adr = req.address === undefined ? DEFAULT_ADDRESS : byteArg('address (ADR)', req.address);
  const args = (req.args ?? {}) as Record<string, unknown>;
  const ver = args.ver === undefined ? DEFAULT_VER : byteArg('ver', args.ver);
  return buildFrame(ver, adr, CID1_BATTERY, c.cid2, requestInfo(c, adr, args));
}

const s16 = (hi: number, lo: number): number => (((hi << 8) | lo) << 16) >> 16;

/** The inverse of encodeRequest. Throws BmsError on frames that are not requests of the family. */
export function parseRequest(bytes: Uint8Array): Request {
  const f = parseFrame(bytes);
  ensure(
    f.cid1 === CID1_BATTERY,
    'COMMAND_UNSUPPORTED',
    `CID1 0x${f.cid1.toString(16)} is not battery data (0x46)`,
  );
  const c = BY_CID2.get(f.cid2);
  ensure(c, 'COMMAND_UNSUPPORTED', `CID2 0x${f.cid2.toString(16)} is not a known request`);
  const args: Record<string, number | boolean | number[]> = {};
  if (f.ver !== DEFAULT_VER) args.ver = f.ver;
  const info = f.info;
  const one = info.length === 1 ? info[0]! : -1;
  if (c.shape === 'none' && info.length === 0) {
    // standard form
  } else if (c.shape === 'value' && one >= 0) {
    if (one !== f.adr) args.value = one;
  } else if (c.shape === 'group' && one >= 0) {
    if (one === 0xff && f.adr !== 0xff) args.all = true;
    else if (one !== f.adr) args.value = one;
  } else if (c.shape === 'limits' && info.length === 9 && info[0] === f.adr) {
    args.charge_voltage_limit_v = ((info[1]! << 8) | info[2]!) / 1000;
    args.discharge_voltage_limit_v = ((info[3]! << 8) | info[4]!) / 1000;
    args.charge_current_limit_a = s16(info[5]!, info[6]!) / 10;
    args.discharge_current_limit_a = s16(info[7]!, info[8]!) / 10;
  } else {
    args.info = Array.from(info);
  }
  const req: Request = { command: c.id, address: f.adr };
  if (Object.keys(args).length > 0) req.args = args;
  return req;
}

/** Short form of a request for DecodeOptions.request: [CID2] or [CID2, INFO byte]. */
export interface RequestContext {
  cid2: number;
  /** The one-byte command value (ADR or 0xFF), when known. */
  value?: number;
}

/**
 * What decode needs to know about the request a reply answers: the full request frame
 * (ASCII bytes, validated) or the short form [CID2] / [CID2, INFO].
 */
export function requestContext(request: Uint8Array): RequestContext {
  if (request.length === 1) return { cid2: request[0]! };
  if (request.length === 2) return { cid2: request[0]!, value: request[1]! };
  ensure(
    request[0] === 0x7e,
    'INVALID_ARGUMENT',
    'opts.request must be a request frame ("~...\\r") or the short form [CID2] / [CID2, INFO]',
  );
  const f = parseFrame(request);
  return f.info.length === 1 ? { cid2: f.cid2, value: f.info[0]! } : { cid2: f.cid2 };
}
