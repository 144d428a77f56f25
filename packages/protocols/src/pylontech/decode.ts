/**
 * Reply decoders. A Pylontech reply carries a return code (RTN) where the request had its
 * command, so the decoder needs the request (DecodeOptions.request: the request frame, or
 * the short form [CID2] / [CID2, INFO]).
 *
 * Without a request: an error reply (RTN != 0) and an empty reply (LENID 0) decode to their
 * header; anything else is DECODE_CONTEXT_MISSING, because several INFO layouts cannot be
 * told apart safely from the bytes alone.
 */
import {
  BmsError,
  ensure,
  isBmsError,
  makeAlarm,
  round,
  type Alarm,
  type Reading,
} from '@openbms/core';
import type { DecodeOptions } from '../types.js';
import { ByteReader, bytesToHex } from '../util/bytes.js';
import { requestContext } from './commands.js';
import {
  MANAGEMENT_FIELDS,
  MANAGEMENT_LENGTH,
  MANAGEMENT_STATUS_BITS,
  MANAGEMENT_STATUS_OFFSET,
  RTN_MEANINGS,
  STATE_HIGH,
  STATE_LOW,
  STATE_NORMAL,
  STATE_OTHER,
  STATUS1_BITS,
  STATUS2_FLAGS,
  STATUS3_FLAGS,
  SYSTEM_PARAMETERS_LENGTH,
  SYSTEM_PARAMETER_FIELDS,
  type Field16,
} from './fields.js';
import { CID1_BATTERY, parseFrame } from './frame.js';

export const SOURCE = 'pylontech';
export const MAX_CELLS = 48;
export const MAX_TEMPS = 32;
export const MAX_MODULES = 16;
/** 0 degC in the protocol's 0.1 K temperatures. */
const KELVIN_OFFSET = 2731;

const tempC = (raw: number): number => (raw - KELVIN_OFFSET) / 10;
const noNegZero = (x: number): number => (x === 0 ? 0 : x);

function readField(r: ByteReader, f: Field16): number {
  switch (f.kind) {
    case 'mv_as_v':
      return r.u16be(f.offset) / 1000;
    case 'mv':
      return r.u16be(f.offset);
    case 'decikelvin':
      return tempC(r.i16be(f.offset));
    case 'deciamp':
      return r.i16be(f.offset) / 10;
  }
}

interface Block {
  reading: Reading;
  /** INFO offset just after the block. */
  end: number;
}

type BlockParser = (r: ByteReader, o: number, invert: boolean) => Block;

/** One module of a 0x42 reply, starting at its cell count M. */
export function parseAnalogBlock(r: ByteReader, o: number, invert: boolean): Block {
  const m = r.u8(o);
  if (!(m <= MAX_CELLS))
    throw new BmsError('FRAME_MALFORMED', `cell count ${m} exceeds ${MAX_CELLS}`);
  r.slice(o + 1, 2 * m); // bounds check once before allocating
  const cells = new Array<number>(m);
  for (let i = 0; i < m; i++) cells[i] = r.i16be(o + 1 + 2 * i);
  o += 1 + 2 * m;
  const n = r.u8(o);
  if (!(n <= MAX_TEMPS))
    throw new BmsError('FRAME_MALFORMED', `temperature count ${n} exceeds ${MAX_TEMPS}`);
  r.slice(o + 1, 2 * n);
  const temps = new Array<number>(n);
  for (let i = 0; i < n; i++) temps[i] = tempC(r.i16be(o + 1 + 2 * i));
  o += 1 + 2 * n;
  let current = r.i16be(o) / 10;
  if (invert) current = -current;
  current = noNegZero(current);
  const voltage = r.u16be(o + 2) / 1000;
  const remaining1 = r.u16be(o + 4);
  const p = r.u8(o + 6);
  if (!(p === 2 || p === 4))
    throw new BmsError(
      'DECODE_UNSUPPORTED',
      `user-defined item count ${p} (only 2 and 4 are defined)`,
    );
  const total1 = r.u16be(o + 7);
  const cycles = r.u16be(o + 9);
  o += 11;
  let remaining = remaining1;
  let total = total1;
  if (p === 4) {
    remaining = (r.u8(o) << 16) | r.u16be(o + 1);
    total = (r.u8(o + 3) << 16) | r.u16be(o + 4);
    o += 6;
  }
  const reading: Reading = {
    voltage_v: voltage,
    current_a: current,
    power_w: round(voltage * current, 2),
    remaining_ah: remaining / 1000,
    full_ah: total / 1000,
    cycles,
    cell_count: m,
    cell_mv: cells,
    temp_sensor_count: n,
    temps_c: temps,
    raw: { user_defined_count: p, total_capacity_ah: total / 1000 },
  };
  if (n > 0) reading.board_temp_c = temps[0]!;
  return { reading, end: o };
}

function pushAlarm(
  ids: string[],
  alarms: Alarm[],
  id: string,
  code: string | undefined,
  level: number | undefined,
  at: { cell?: number; sensor?: number } = {},
): void {
  ids.push(id);
  if (code)
    alarms.push(
      makeAlarm(code, level === undefined ? { source: id, ...at } : { level, source: id, ...at }),
    );
}

/**
 * A 0x44 state code to identifier and taxonomy code. Per-state codes (below/above the
 * limit) are the protocol's alarm tier, reported as level 1.
 */
function pushState(
  ids: string[],
  alarms: Alarm[],
  name: string,
  state: number,
  lowCode: string | undefined,
  highCode: string | undefined,
  otherCode: string,
  at: { cell?: number; sensor?: number } = {},
): void {
  if (state === STATE_NORMAL) return;
  if (state === STATE_LOW) pushAlarm(ids, alarms, `${name}_low`, lowCode, 1, at);
  else if (state === STATE_HIGH) pushAlarm(ids, alarms, `${name}_high`, highCode, 1, at);
  else if (state === STATE_OTHER) pushAlarm(ids, alarms, `${name}_other`, otherCode, undefined, at);
  else ids.push(`${name}_state_${state.toString(16).padStart(2, '0')}`);
}

const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

/** One module of a 0x44 reply, starting at its cell count M. */
export function parseAlarmBlock(r: ByteReader, o: number): Block {
  const m = r.u8(o);
  if (!(m <= MAX_CELLS))
    throw new BmsError('FRAME_MALFORMED', `cell count ${m} exceeds ${MAX_CELLS}`);
  const cellStates = Array.from(r.slice(o + 1, m));
  o += 1 + m;
  const n = r.u8(o);
  if (!(n <= MAX_TEMPS))
    throw new BmsError('FRAME_MALFORMED', `temperature count ${n} exceeds ${MAX_TEMPS}`);
  const tempStates = Array.from(r.slice(o + 1, n));
  o += 1 + n;
  const chargeCurrent = r.u8(o);
  const moduleVoltage = r.u8(o + 1);
  const dischargeCurrent = r.u8(o + 2);
  const s1 = r.u8(o + 3);
  const s2 = r.u8(o + 4);
  const s3 = r.u8(o + 5);
  const s4 = r.u8(o + 6);
  const s5 = r.u8(o + 7);
  o += 8;

  const ids: string[] = [];
  const alarms: Alarm[] = [];
  for (let i = 0; i < m; i++) {
    pushState(
      ids,
      alarms,
      `cell${i + 1}_voltage`,
      cellStates[i]!,
      'cell_uv',
      'cell_ov',
      'cell_sense_fault',
      { cell: i + 1 },
    );
  }
  for (let i = 0; i < n; i++) {
    // The reply does not say whether the charge or discharge limit was crossed.
    pushState(
      ids,
      alarms,
      `temp${i + 1}`,
      tempStates[i]!,
      'cell_ut',
      'cell_ot',
      'temp_sensor_fault',
      { sensor: i + 1 },
    );
  }
  pushState(
    ids,
    alarms,
    'charge_current',
    chargeCurrent,
    undefined,
    'chg_oc',
    'current_sense_fault',
  );
  pushState(
    ids,
    alarms,
    'module_voltage',
    moduleVoltage,
    'pack_uv',
    'pack_ov',
    'voltage_sense_fault',
  );
  pushState(
    ids,
    alarms,
    'discharge_current',
    dischargeCurrent,
    undefined,
    'dsg_oc',
    'current_sense_fault',
  );
  for (const b of STATUS1_BITS) {
    if (s1 & (1 << b.bit)) pushAlarm(ids, alarms, b.id, b.code, 2);
  }
  for (let i = 0; i < 16; i++) {
    const byte = i < 8 ? s4 : s5;
    if (byte & (1 << (i & 7)))
      pushAlarm(ids, alarms, `cell${i + 1}_voltage_error`, 'cell_sense_fault', undefined, {
        cell: i + 1,
      });
  }

  const raw: Record<string, unknown> = {
    cell_states: cellStates,
    temp_states: tempStates,
    charge_current_state: chargeCurrent,
    module_voltage_state: moduleVoltage,
    discharge_current_state: dischargeCurrent,
    status1_hex: hex2(s1),
    status2_hex: hex2(s2),
    status3_hex: hex2(s3),
    status4_hex: hex2(s4),
    status5_hex: hex2(s5),
    alarms: ids,
  };
  for (const [bit, key] of STATUS2_FLAGS) raw[key] = (s2 & (1 << bit)) !== 0;
  for (const [bit, key] of STATUS3_FLAGS) raw[key] = (s3 & (1 << bit)) !== 0;

  const reading: Reading = {
    charge_mos: (s2 & 0x02) !== 0,
    discharge_mos: (s2 & 0x04) !== 0,
    // Status 3 bits 7/6: the BMS sees an effective charge / discharge current (> 0.1 A).
    state: s3 & 0x80 ? 'charging' : s3 & 0x40 ? 'discharging' : 'idle',
    alarms,
    raw,
  };
  return { reading, end: o };
}

/**
 * 0x42 / 0x44: INFOFLAG, then the command value (one module) or the module count (whole
 * group, request INFO 0xFF), then the module block(s). `value` is the request's INFO byte;
 * when unknown, one block that fills INFO exactly is taken as a single module, otherwise
 * the reply is parsed as a group.
 */
function decodeBlocks(
  info: Uint8Array,
  value: number | undefined,
  header: Record<string, unknown>,
  address: number,
  parse: BlockParser,
  invert: boolean,
): Reading {
  const r = new ByteReader(info);
  header.info_flag = r.u8(0);
  const second = r.u8(1);
  if (value === 0xff) return decodeGroup(r, second, header, address, parse, invert);
  if (value !== undefined) return decodeSingle(r, second, header, address, parse, invert);
  try {
    return decodeSingle(r, second, header, address, parse, invert);
  } catch (e) {
    if (!isBmsError(e)) throw e;
    try {
      return decodeGroup(r, second, header, address, parse, invert);
    } catch {
      throw e;
    }
  }
}

function decodeSingle(
  r: ByteReader,
  commandValue: number,
  header: Record<string, unknown>,
  address: number,
  parse: BlockParser,
  invert: boolean,
): Reading {
  const { reading, end } = parse(r, 2, invert);
  if (!(end === r.length))
    throw new BmsError(
      'FRAME_MALFORMED',
      `INFO has ${r.length - end} bytes after the module block`,
    );
  reading.address = address;
  header.command_value = commandValue;
  reading.raw = Object.assign(header, reading.raw);
  return reading;
}

function decodeGroup(
  r: ByteReader,
  count: number,
  header: Record<string, unknown>,
  address: number,
  parse: BlockParser,
  invert: boolean,
): Reading {
  if (!(count >= 1 && count <= MAX_MODULES))
    throw new BmsError('FRAME_MALFORMED', `module count ${count} is outside 1..${MAX_MODULES}`);
  const packs: Reading[] = [];
  let o = 2;
  for (let k = 0; k < count; k++) {
    const block = parse(r, o, invert);
    block.reading.raw = Object.assign({ module: k + 1 }, block.reading.raw);
    packs.push(block.reading);
    o = block.end;
  }
  if (!(o === r.length))
    throw new BmsError(
      'FRAME_MALFORMED',
      `INFO has ${r.length - o} bytes after the last module block`,
    );
  header.module_count = count;
  return { address, packs, raw: header };
}

function decodeSystemParameters(
  info: Uint8Array,
  raw: Record<string, unknown>,
  address: number,
): Reading {
  if (!(info.length >= SYSTEM_PARAMETERS_LENGTH))
    throw new BmsError(
      'FRAME_TRUNCATED',
      `0x47 INFO has ${info.length} bytes, needs ${SYSTEM_PARAMETERS_LENGTH}`,
    );
  const r = new ByteReader(info);
  raw.info_flag = r.u8(0);
  const params: Record<string, number> = {};
  const out: Reading = { address, raw };
  for (const f of SYSTEM_PARAMETER_FIELDS) {
    const v = readField(r, f);
    if (f.kind === 'deciamp') {
      // Also canonical metrics; the read session keeps 0x92's dynamic values instead.
      (out as Record<string, unknown>)[f.key] = v;
    } else {
      raw[f.key] = v;
    }
    if (f.param) {
      params[f.param] =
        f.paramFrom === 'v_to_mv' ? Math.round(v * 1000) : f.paramFrom === 'abs' ? Math.abs(v) : v;
    }
  }
  raw.parameters = params;
  return out;
}

function decodeManagement(
  info: Uint8Array,
  raw: Record<string, unknown>,
  address: number,
): Reading {
  if (!(info.length >= MANAGEMENT_LENGTH))
    throw new BmsError(
      'FRAME_TRUNCATED',
      `0x92 INFO has ${info.length} bytes, needs ${MANAGEMENT_LENGTH}`,
    );
  const r = new ByteReader(info);
  raw.command_value = r.u8(0);
  const out: Reading = { address, raw };
  for (const f of MANAGEMENT_FIELDS) (out as Record<string, unknown>)[f.key] = readField(r, f);
  const status = r.u8(MANAGEMENT_STATUS_OFFSET);
  raw.status_hex = hex2(status);
  for (const [bit, key] of MANAGEMENT_STATUS_BITS) raw[key] = (status & (1 << bit)) !== 0;
  return out;
}

function trimPadding(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === '-' || s[end - 1] === ' ')) end--;
  return s.slice(0, end);
}

function decodeManufacturer(
  info: Uint8Array,
  raw: Record<string, unknown>,
  address: number,
): Reading {
  if (!(info.length >= 32))
    throw new BmsError('FRAME_TRUNCATED', `0x51 INFO has ${info.length} bytes, needs 32`);
  const r = new ByteReader(info);
  const name = r.ascii(0, 10);
  const sw = `${r.u8(10)}.${r.u8(11)}`;
  const manufacturer = r.ascii(12, 20);
  raw.device_name = name;
  raw.software_version = sw;
  raw.manufacturer = manufacturer;
  const devInfo: NonNullable<Reading['info']> = { sw_version: sw };
  if (name) {
    devInfo.device_name = name;
    devInfo.model = name;
  }
  const maker = trimPadding(manufacturer);
  if (maker) devInfo.manufacturer = maker;
  return { address, info: devInfo, raw };
}

function decodeSerial(info: Uint8Array, raw: Record<string, unknown>, address: number): Reading {
  ensure(info.length >= 2, 'FRAME_TRUNCATED', '0x93 INFO has no serial number');
  const r = new ByteReader(info);
  raw.command_value = r.u8(0);
  const serial = r.ascii(1, Math.min(16, info.length - 1));
  raw.serial = serial;
  return serial ? { address, info: { serial }, raw } : { address, raw };
}

function decodeSoftwareVersion(
  info: Uint8Array,
  raw: Record<string, unknown>,
  address: number,
): Reading {
  if (!(info.length >= 6))
    throw new BmsError('FRAME_TRUNCATED', `0x96 INFO has ${info.length} bytes, needs 6`);
  raw.command_value = info[0]!;
  const manufacturerVersion = `${info[1]!}.${info[2]!}`;
  raw.manufacturer_version = manufacturerVersion;
  raw.main_line_version = `${info[3]!}.${info[4]!}.${info[5]!}`;
  return { address, info: { sw_version: manufacturerVersion }, raw };
}

export function decodeReply(bytes: Uint8Array, opts: DecodeOptions = {}): Reading {
  const f = parseFrame(bytes);
  const address = f.adr;
  const raw: Record<string, unknown> = { ver: f.ver, adr: f.adr, rtn: f.cid2 };
  if (!(f.cid1 === CID1_BATTERY))
    throw new BmsError('DECODE_UNSUPPORTED', `CID1 0x${hex2(f.cid1)} is not battery data (0x46)`);
  if (f.cid2 !== 0) {
    raw.error_response = true;
    raw.rtn_meaning = RTN_MEANINGS[f.cid2] ?? 'unknown return code';
    if (f.info.length > 0) raw.info_hex = bytesToHex(f.info);
    return { address, raw };
  }
  if (!opts.request) {
    ensure(
      f.info.length === 0,
      'DECODE_CONTEXT_MISSING',
      'a Pylontech reply does not name its command: pass the request (opts.request)',
    );
    return { address, raw };
  }
  const ctx = requestContext(opts.request);
  const info = f.info;
  switch (ctx.cid2) {
    case 0x42:
      return decodeBlocks(
        info,
        ctx.value,
        raw,
        address,
        parseAnalogBlock,
        opts.invertCurrent === true,
      );
    case 0x44:
      return decodeBlocks(info, ctx.value, raw, address, parseAlarmBlock, false);
    case 0x47:
      return decodeSystemParameters(info, raw, address);
    case 0x92:
      return decodeManagement(info, raw, address);
    case 0x51:
      return decodeManufacturer(info, raw, address);
    case 0x93:
      return decodeSerial(info, raw, address);
    case 0x96:
      return decodeSoftwareVersion(info, raw, address);
    case 0x4f:
      raw.protocol_version_hex = hex2(f.ver);
      if (info.length > 0) raw.info_hex = bytesToHex(info);
      return { address, info: { protocol_version: `${f.ver >> 4}.${f.ver & 0xf}` }, raw };
    case 0x94:
    case 0x95:
      if (info.length > 0) raw.info_hex = bytesToHex(info);
      return { address, raw };
    default:
      throw new BmsError(
        'DECODE_UNSUPPORTED',
        `no decoder for replies to CID2 0x${hex2(ctx.cid2)}`,
      );
  }
}
