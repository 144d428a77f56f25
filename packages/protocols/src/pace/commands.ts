/**
 * PACE commands (CID2 codes) and the request encoder / parser.
 *
 * Normal form of a Request (what parseRequest returns and encode reproduces byte for byte):
 * - `address` = ADR, always present.
 * - `args.variant: 'v20-eg4'` when the envelope is EG4's (VER 0x20, CID1 0x4A); the EG4 shapes
 *   then apply (0x42 / 0x44 without INFO). Otherwise VER 0x25 and CID1 0x46; other values
 *   come as `args.ver` / `args.cid1`.
 * - the command's arguments, named as the vector files name the fields (`cell_ov_alarm_v`,
 *   `time`, `index`, `can_protocol`...), only where the command takes any;
 * - `args.info: [..]` verbatim for any INFO the command's standard form does not produce
 *   (0x9C without INFO as [DOC24] has it, a 0x42 without INFO on v25).
 */
import { BmsError, ensure } from '@openbms/core';
import type { CommandInfo, Request } from '../types.js';
import { buildFrame, parseFrame } from '../pylontech/frame.js';
import { ByteReader } from '../util/bytes.js';
import {
  CAN_PROTOCOLS,
  MODE_AUTO,
  MODE_MANUAL,
  PARAM_BLOCKS,
  PARAM_KIND_SIZE,
  RS485_PROTOCOLS,
  VARIANT_ENVELOPE,
  ZERO_POINT_INFO,
  type ParamBlock,
  type Variant,
} from './fields.js';
import { paramWire, parseWallIso, putParam, readParam, wallIso, wallMsOf } from './wire.js';

/** How a command's request INFO is shaped. */
type Shape =
  /** no INFO */
  | { kind: 'none' }
  /** one byte: the pack (ADR) or 0xFF for all packs; none on EG4 */
  | { kind: 'group' }
  /** one byte, the command value = ADR (EG4 0x93 / 0x95) */
  | { kind: 'value' }
  /** one fixed byte */
  | { kind: 'fixed'; bytes: readonly number[] }
  /** one byte argument */
  | { kind: 'byte'; arg: string }
  /** 00 = on, 01 = off (MOSFETs) */
  | { kind: 'onoff' }
  /** uint16 argument: value = wire x per */
  | { kind: 'u16'; arg: string; per: number }
  /** 6 bytes (v25) or 7 bytes (EG4) date and time */
  | { kind: 'time'; eg4: boolean }
  /** a parameter block */
  | { kind: 'block'; block: ParamBlock }
  /** CAN, RS485, mode */
  | { kind: 'inverter' }
  /** remaining, full, design capacity (10 mAh) */
  | { kind: 'capacity' };

export interface PaceCommand extends CommandInfo {
  cid2: number;
  shape: Shape;
  /** The variants that have the command. */
  variants: readonly Variant[];
}

const V25: readonly Variant[] = ['v25'];
const EG4: readonly Variant[] = ['v20-eg4'];
const BOTH: readonly Variant[] = ['v25', 'v20-eg4'];

const cmd = (
  id: string,
  cid2: number,
  kind: CommandInfo['kind'],
  shape: Shape,
  description: string,
  variants: readonly Variant[] = V25,
): PaceCommand => ({ id, cid2, kind, shape, description, variants });

export const COMMANDS: readonly PaceCommand[] = [
  cmd(
    'analog',
    0x42,
    'read',
    { kind: 'group' },
    'Analog values: cells, temperatures, current, voltage, capacities, cycles (0x42); args.all = every pack behind the master',
    BOTH,
  ),
  cmd(
    'status',
    0x44,
    'read',
    { kind: 'group' },
    'Alarm and status flags, balancing (0x44); args.all = every pack behind the master',
    BOTH,
  ),
  cmd('pack_count', 0x90, 'read', { kind: 'none' }, 'Number of packs behind the master (0x90)'),
  cmd('software_version', 0xc1, 'read', { kind: 'none' }, 'Software version string (0xC1)'),
  cmd('product_info', 0xc2, 'read', { kind: 'none' }, 'BMS and pack serial numbers (0xC2)'),
  cmd(
    'control',
    0x99,
    'control',
    { kind: 'byte', arg: 'code' },
    'Control command: buzzer, LED, current limiter (0x99, args.code)',
  ),
  cmd('charge_mos', 0x9a, 'control', { kind: 'onoff' }, 'Charge MOSFET on / off (0x9A, args.on)'),
  cmd(
    'discharge_mos',
    0x9b,
    'control',
    { kind: 'onoff' },
    'Discharge MOSFET on / off (0x9B, args.on)',
  ),
  cmd(
    'shutdown',
    0x9c,
    'control',
    { kind: 'fixed', bytes: [0x01] },
    'Shut down / sleep (0x9C with INFO 01, as PbmsTools sends it)',
  ),
  cmd('read_clock', 0xb1, 'read', { kind: 'none' }, 'BMS date and time (0xB1)'),
  cmd(
    'set_clock',
    0xb2,
    'write',
    { kind: 'time', eg4: false },
    'Set the BMS date and time (0xB2, args.time)',
  ),
  cmd(
    'read_history',
    0xa1,
    'read',
    { kind: 'u16', arg: 'index', per: 1 },
    'History record number args.index, 0 = newest (0xA1)',
  ),
  cmd(
    'clear_history',
    0xb3,
    'write',
    { kind: 'none' },
    'Erase the history records (0xB3; one document only)',
  ),
  cmd(
    'read_capacity',
    0xa6,
    'read',
    { kind: 'none' },
    'Remaining, full and design capacity (0xA6)',
  ),
  cmd(
    'set_capacity',
    0xa7,
    'write',
    { kind: 'capacity' },
    'Set remaining, full and design capacity (0xA7; one document only)',
  ),
  cmd(
    'set_cycles',
    0xbd,
    'write',
    { kind: 'u16', arg: 'cycles', per: 1 },
    'Set the cycle count (0xBD; one document only)',
  ),
  cmd(
    'restore_defaults',
    0xa4,
    'write',
    { kind: 'none' },
    'Restore the default parameters (0xA4; one document only)',
  ),
  cmd(
    'calibrate_reference',
    0xa9,
    'write',
    { kind: 'u16', arg: 'value', per: 1 },
    'Calibrate the MCU reference voltage (0xA9; one document only)',
  ),
  cmd(
    'calibrate_current_zero',
    0xaa,
    'write',
    { kind: 'fixed', bytes: [ZERO_POINT_INFO >> 8, ZERO_POINT_INFO & 0xff] },
    'Calibrate the current zero point (0xAA, INFO 4321; one document only)',
  ),
  cmd(
    'calibrate_discharge_current',
    0xab,
    'write',
    { kind: 'u16', arg: 'current_a', per: 0.01 },
    'Calibrate the discharge current (0xAB, 10 mA; one document only)',
  ),
  cmd(
    'calibrate_charge_current',
    0xac,
    'write',
    { kind: 'u16', arg: 'current_a', per: 0.01 },
    'Calibrate the charge current (0xAC, 10 mA; one document only)',
  ),
  cmd(
    'calibrate_total_voltage',
    0xad,
    'write',
    { kind: 'u16', arg: 'voltage_v', per: 0.001 },
    'Calibrate the total voltage (0xAD, mV; one document only)',
  ),
  cmd(
    'read_inverter_protocol',
    0xeb,
    'read',
    { kind: 'none' },
    'Inverter protocols: CAN, RS485, mode (0xEB)',
  ),
  cmd(
    'set_inverter_protocol',
    0xec,
    'write',
    { kind: 'inverter' },
    'Select inverter protocols (0xEC, args.can_protocol, rs485_protocol, protocol_mode)',
  ),
  ...PARAM_BLOCKS.flatMap((b) => [
    cmd(
      `read_${b.name}`,
      b.read,
      'read',
      { kind: 'none' },
      `Read the ${b.name.replace(/_/g, ' ')} parameters (0x${hex2(b.read)})`,
    ),
    cmd(
      `set_${b.name}`,
      b.write,
      'write',
      { kind: 'block', block: b },
      `Write the ${b.name.replace(/_/g, ' ')} parameters (0x${hex2(b.write)}, same layout as the read)`,
    ),
  ]),
  cmd(
    'eg4_identity',
    0x51,
    'read',
    { kind: 'none' },
    'EG4: device identity, 32 ASCII bytes (0x51)',
    EG4,
  ),
  cmd('eg4_serial', 0x93, 'read', { kind: 'value' }, 'EG4: serial number (0x93, INFO = ADR)', EG4),
  cmd(
    'eg4_read_clock',
    0x4d,
    'read',
    { kind: 'none' },
    'EG4: date and time, 16-bit year (0x4D)',
    EG4,
  ),
  cmd(
    'eg4_set_clock',
    0x4e,
    'write',
    { kind: 'time', eg4: true },
    'EG4: set the date and time (0x4E, args.time)',
    EG4,
  ),
  cmd(
    'eg4_shutdown',
    0x95,
    'control',
    { kind: 'value' },
    'EG4: shut down (0x95, INFO = ADR; not captured)',
    EG4,
  ),
];

function hex2(v: number): string {
  return v.toString(16).toUpperCase().padStart(2, '0');
}

const BY_ID = new Map(COMMANDS.map((c) => [c.id, c]));

export function commandById(id: string): PaceCommand | undefined {
  return BY_ID.get(id);
}

/** The command a CID2 stands for in a variant. */
export function commandByCid2(cid2: number, variant: Variant): PaceCommand | undefined {
  return COMMANDS.find((c) => c.cid2 === cid2 && c.variants.includes(variant));
}

/** CID2 codes that occur only in requests: a frame carrying one is not a reply. */
export const REQUEST_CODES: ReadonlySet<number> = new Set(COMMANDS.map((c) => c.cid2));

export const DEFAULT_ADDRESS = 1;

/** The variant of an envelope (undefined: v25 with another VER / CID1). */
export function variantOf(ver: number, cid1: number): Variant | undefined {
  for (const [v, e] of Object.entries(VARIANT_ENVELOPE) as [
    Variant,
    { ver: number; cid1: number },
  ][]) {
    if (e.ver === ver && e.cid1 === cid1) return v;
  }
  return undefined;
}

function byteArg(name: string, v: unknown): number {
  ensure(
    typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255,
    'INVALID_ARGUMENT',
    `${name} must be an integer 0..255 (got ${String(v)})`,
  );
  return v;
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

const ENVELOPE_ARGS = ['ver', 'cid1', 'variant'] as const;

function u16Arg(name: string, v: unknown, per: number): number {
  ensure(
    typeof v === 'number' && Number.isFinite(v),
    'INVALID_ARGUMENT',
    `${name} must be a number`,
  );
  const exact = v / per;
  const n = Math.round(exact);
  ensure(
    n >= 0 && n <= 0xffff && Math.abs(exact - n) < 1e-6,
    'INVALID_ARGUMENT',
    `${name} ${v} does not fit a uint16 in steps of ${per}`,
  );
  return n;
}

const INVERTER_MODES = { auto: MODE_AUTO, manual: MODE_MANUAL } as const;

/** INFO bytes of a request in normal form. */
function requestInfo(
  c: PaceCommand,
  adr: number,
  variant: Variant,
  args: Record<string, unknown>,
): number[] {
  if (args.info !== undefined) {
    allowOnly(args, ['info', ...ENVELOPE_ARGS], c.id);
    ensure(Array.isArray(args.info), 'INVALID_ARGUMENT', 'info must be a list of bytes');
    return (args.info as unknown[]).map((b, i) => byteArg(`info[${i}]`, b));
  }
  const s = c.shape;
  const only = (...names: string[]): void => allowOnly(args, [...names, ...ENVELOPE_ARGS], c.id);
  switch (s.kind) {
    case 'none':
      only();
      return [];
    case 'value':
      only();
      return [adr];
    case 'fixed':
      only();
      return [...s.bytes];
    case 'group': {
      only('all', 'value');
      if (variant === 'v20-eg4') {
        ensure(
          args.all === undefined && args.value === undefined,
          'INVALID_ARGUMENT',
          `EG4 ${c.id} takes no INFO`,
        );
        return [];
      }
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
    case 'byte':
      only(s.arg);
      return [byteArg(s.arg, args[s.arg])];
    case 'onoff':
      only('on');
      ensure(typeof args.on === 'boolean', 'INVALID_ARGUMENT', `${c.id} needs on: true or false`);
      return [args.on ? 0x00 : 0x01];
    case 'u16': {
      only(s.arg);
      const n = u16Arg(s.arg, args[s.arg], s.per);
      return [n >> 8, n & 0xff];
    }
    case 'time': {
      only('time');
      const ms = parseWallIso('time', args.time, s.eg4 ? 1 : 2000, s.eg4 ? 0xffff : 2099);
      const d = new Date(ms);
      const rest = [
        d.getUTCMonth() + 1,
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
      ];
      const y = d.getUTCFullYear();
      return s.eg4 ? [y >> 8, y & 0xff, ...rest] : [y - 2000, ...rest];
    }
    case 'block': {
      const keys = s.block.fields.map((x) => x.key);
      only(...keys);
      const out: number[] = [];
      for (const field of s.block.fields) {
        const v = args[field.key];
        if (v === undefined && field.optional && field === s.block.fields.at(-1)) break;
        putParam(out, field.kind, paramWire(field.key, field.kind, v));
      }
      return out;
    }
    case 'inverter': {
      only('can_protocol', 'rs485_protocol', 'protocol_mode');
      const mode = args.protocol_mode;
      ensure(
        mode === 'auto' || mode === 'manual',
        'INVALID_ARGUMENT',
        'protocol_mode must be "auto" or "manual"',
      );
      return [
        byteArg('can_protocol', args.can_protocol),
        byteArg('rs485_protocol', args.rs485_protocol),
        INVERTER_MODES[mode],
      ];
    }
    case 'capacity': {
      only('remaining_ah', 'full_ah', 'design_ah');
      return (['remaining_ah', 'full_ah', 'design_ah'] as const).flatMap((k) => {
        const n = u16Arg(k, args[k], 0.01);
        return [n >> 8, n & 0xff];
      });
    }
  }
}

export function encodeRequest(req: Request): Uint8Array {
  const c = BY_ID.get(req.command);
  ensure(
    c,
    'COMMAND_UNSUPPORTED',
    `pace has no command "${req.command}"; known: ${COMMANDS.map((x) => x.id).join(', ')}`,
  );
  const args = (req.args ?? {}) as Record<string, unknown>;
  const variant = args.variant === undefined ? 'v25' : args.variant;
  ensure(
    variant === 'v25' || variant === 'v20-eg4',
    'VARIANT_UNKNOWN',
    `variant must be v25 or v20-eg4 (got ${String(variant)})`,
  );
  ensure(
    c.variants.includes(variant),
    'COMMAND_UNSUPPORTED',
    `${c.id} is not a command of PACE ${variant}`,
  );
  const adr = req.address === undefined ? DEFAULT_ADDRESS : byteArg('address (ADR)', req.address);
  const env = VARIANT_ENVELOPE[variant];
  const ver = args.ver === undefined ? env.ver : byteArg('ver', args.ver);
  const cid1 = args.cid1 === undefined ? env.cid1 : byteArg('cid1', args.cid1);
  return buildFrame(ver, adr, cid1, c.cid2, requestInfo(c, adr, variant, args));
}

/** The arguments of INFO in the command's standard form, or undefined when it is not. */
function parseInfo(
  c: PaceCommand,
  info: Uint8Array,
  adr: number,
  variant: Variant,
): Record<string, number | boolean | string> | undefined {
  const s = c.shape;
  const n = info.length;
  const r = new ByteReader(info);
  switch (s.kind) {
    case 'none':
      return n === 0 ? {} : undefined;
    case 'value':
      return n === 1 && info[0] === adr ? {} : undefined;
    case 'fixed':
      return n === s.bytes.length && s.bytes.every((b, i) => info[i] === b) ? {} : undefined;
    case 'group':
      if (variant === 'v20-eg4') return n === 0 ? {} : undefined;
      if (n !== 1) return undefined;
      if (info[0] === 0xff && adr !== 0xff) return { all: true };
      return info[0] === adr ? {} : { value: info[0]! };
    case 'byte':
      return n === 1 ? { [s.arg]: info[0]! } : undefined;
    case 'onoff':
      return n === 1 && info[0]! <= 1 ? { on: info[0] === 0 } : undefined;
    case 'u16':
      return n === 2 ? { [s.arg]: Math.round(r.u16be(0) * s.per * 1e6) / 1e6 } : undefined;
    case 'time': {
      if (n !== (s.eg4 ? 7 : 6)) return undefined;
      const y = s.eg4 ? r.u16be(0) : 2000 + info[0]!;
      const o = s.eg4 ? 2 : 1;
      const ms = wallMsOf(y, info[o]!, info[o + 1]!, info[o + 2]!, info[o + 3]!, info[o + 4]!);
      return ms === undefined || (s.eg4 && y < 1) ? undefined : { time: wallIso(ms) };
    }
    case 'block': {
      const out: Record<string, number | boolean> = {};
      let o = 0;
      for (const field of s.block.fields) {
        if (o === n && field.optional) break;
        const size = PARAM_KIND_SIZE[field.kind];
        if (o + size > n) return undefined;
        const v = readParam(r, o, field.kind);
        if (field.kind === 'enable' && info[o]! > 1) return undefined;
        out[field.key] = v;
        o += size;
      }
      return o === n ? out : undefined;
    }
    case 'inverter': {
      if (n !== 3 || info[2]! > 1) return undefined;
      return {
        can_protocol: info[0]!,
        rs485_protocol: info[1]!,
        protocol_mode: info[2] === MODE_AUTO ? 'auto' : 'manual',
      };
    }
    case 'capacity':
      return n === 6
        ? {
            remaining_ah: r.u16be(0) / 100,
            full_ah: r.u16be(2) / 100,
            design_ah: r.u16be(4) / 100,
          }
        : undefined;
  }
}

/** The inverse of encodeRequest. Throws BmsError on frames that are not requests of the family. */
export function parseRequest(bytes: Uint8Array): Request {
  const f = parseFrame(bytes);
  const variant = variantOf(f.ver, f.cid1) ?? 'v25';
  const c = commandByCid2(f.cid2, variant);
  if (!c) {
    throw new BmsError(
      'COMMAND_UNSUPPORTED',
      `CID2 0x${hex2(f.cid2)} is not a PACE ${variant} request`,
    );
  }
  const args: Record<string, number | boolean | string | number[]> = {};
  if (variant === 'v20-eg4') args.variant = variant;
  else {
    if (f.ver !== VARIANT_ENVELOPE.v25.ver) args.ver = f.ver;
    if (f.cid1 !== VARIANT_ENVELOPE.v25.cid1) args.cid1 = f.cid1;
  }
  const parsed = parseInfo(c, f.info, f.adr, variant);
  if (parsed) Object.assign(args, parsed);
  else args.info = Array.from(f.info);
  const req: Request = { command: c.id, address: f.adr };
  if (Object.keys(args).length > 0) req.args = args;
  return req;
}

/** What decode needs to know about the request a reply answers. */
export interface RequestContext {
  cid2: number;
  /** The request's INFO bytes (the short form's bytes after CID2). */
  info: Uint8Array;
  variant?: Variant;
}

/**
 * The request a reply answers: the full request frame, or the short form [CID2, INFO...]
 * (the vector files' `request_cid2` + `request_info_hex`).
 */
export function requestContext(request: Uint8Array): RequestContext {
  if (request[0] !== 0x7e) {
    ensure(request.length >= 1, 'INVALID_ARGUMENT', 'opts.request is empty');
    return { cid2: request[0]!, info: request.subarray(1) };
  }
  const f = parseFrame(request);
  const variant = variantOf(f.ver, f.cid1);
  return variant ? { cid2: f.cid2, info: f.info, variant } : { cid2: f.cid2, info: f.info };
}

/** Names of an inverter protocol code on a link (`AFORE`, `Afore`), or undefined. */
export function inverterName(
  link: 'can' | 'rs485',
  code: number,
): { id: string; name: string } | undefined {
  return (link === 'can' ? CAN_PROTOCOLS : RS485_PROTOCOLS).find((x) => x.code === code);
}
