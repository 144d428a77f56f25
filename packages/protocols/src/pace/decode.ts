/**
 * Reply decoders. A PACE reply carries a return code (RTN) where the request had its
 * command, so the decoder needs the request (DecodeOptions.request: the request frame, or the
 * short form [CID2, INFO...]). Layouts are parsed by their counts (M cells, N sensors), never
 * by fixed offsets, and the 0x42 tail by the bytes there are (pace.md sections 4 and 12).
 *
 * Without a request: an error reply (RTN != 0) and an empty reply decode to their header;
 * anything else is DECODE_CONTEXT_MISSING.
 */
import {
  BmsError,
  ensure,
  isBmsError,
  makeAlarm,
  round,
  type Alarm,
  type BmsRecord,
  type Reading,
} from '@openbms/core';
import type { DecodeOptions } from '../types.js';
import { parseFrame, type PylonFrame } from '../pylontech/frame.js';
import { ByteReader, bytesToHex } from '../util/bytes.js';
import { commandByCid2, inverterName, requestContext, variantOf } from './commands.js';
import {
  ANALOG_TAIL,
  CONTROL_BITS,
  DEFAULT_VARIANT,
  EG4_ANALOG,
  EG4_BALANCE_EVENT,
  EG4_CURRENT_EVENT,
  EG4_FET,
  EG4_SYSTEM,
  EG4_TEMPERATURE_EVENT,
  EG4_VOLTAGE_EVENT,
  FAULT8_BITS,
  FAULT_BITS,
  INDICATION_BITS,
  KELVIN_OFFSET,
  MODE_AUTO,
  PARAM_KIND_SIZE,
  PROTECT1_BITS,
  PROTECT2_BITS,
  RECORD_STATUS_POWER_ON,
  RTN_MEANINGS,
  TEXT_FIELD,
  VARIANTS,
  WARN1_BITS,
  WARN2_BITS,
  analogFixedBytes,
  type Eg4Bit,
  type FlagBit,
  type ParamBlock,
  type Variant,
} from './fields.js';
import { readParam, toParam, wallIso, wallMsOf } from './wire.js';
import { PARAM_BLOCKS } from './fields.js';

export const MAX_CELLS = 32;
export const MAX_TEMPS = 16;
export const MAX_PACKS = 32;

const hex = (b: Uint8Array): string => bytesToHex(b).toUpperCase();
const hex2 = (v: number): string => v.toString(16).toUpperCase().padStart(2, '0');
const noNegZero = (x: number): number => (x === 0 ? 0 : x);

type Raw = Record<string, unknown>;

/** Decodes the flag bytes into identifiers, alarms and per-byte hex. */
function flags(byte: number, table: readonly FlagBit[], ids: string[], alarms: Alarm[]): void {
  for (const b of table) {
    if (!(byte & (1 << b.bit))) continue;
    ids.push(b.id);
    if (b.code) {
      alarms.push(
        makeAlarm(
          b.code,
          b.level === undefined ? { source: b.id } : { level: b.level, source: b.id },
        ),
      );
    }
  }
}

// ---------------------------------------------------------------- v25 0x42

interface Block {
  reading: Reading;
}

function temperatures(
  r: ByteReader,
  o: number,
  n: number,
  offset: number,
): { temps: number[]; absent: number[] } {
  r.slice(o, 2 * n);
  const temps: number[] = [];
  const absent: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = r.u16be(o + 2 * i);
    // [DOC24]: 0x8000 = sensor absent (one source): left out rather than read as 3000 degC.
    if (v === 0x8000) absent.push(i + 1);
    else temps.push(round((v - offset) / 10, 1));
  }
  return { temps, absent };
}

/** One pack block of a 0x42 reply: `o`..`end` (the tail runs to `end`). */
function analogBlock(r: ByteReader, o: number, end: number, invert: boolean): Block {
  const m = r.u8(o);
  if (!(m >= 1 && m <= MAX_CELLS))
    throw new BmsError('FRAME_MALFORMED', `cell count ${m} is outside 1..${MAX_CELLS}`);
  r.slice(o + 1, 2 * m);
  const cells = Array.from({ length: m }, (_, i) => r.u16be(o + 1 + 2 * i));
  const n = r.u8(o + 1 + 2 * m);
  if (!(n <= MAX_TEMPS))
    throw new BmsError('FRAME_MALFORMED', `temperature count ${n} exceeds ${MAX_TEMPS}`);
  if (!(o + analogFixedBytes(m, n) <= end)) {
    throw new BmsError(
      'FRAME_MALFORMED',
      `a ${m}-cell, ${n}-sensor block does not fit its ${end - o} bytes`,
    );
  }
  const { temps, absent } = temperatures(r, o + 2 + 2 * m, n, KELVIN_OFFSET.v25);
  let p = o + 2 + 2 * m + 2 * n;
  let current = r.i16be(p) / 100;
  if (invert) current = -current;
  const voltage = r.u16be(p + 2) / 1000;
  const remaining = r.u16be(p + 4) / 100;
  const userDefined = r.u8(p + 6);
  p += 7;
  const raw: Raw = {
    cell_count: m,
    temp_count: n,
    user_defined_count: userDefined,
  };
  if (absent.length) raw.absent_sensors = absent;
  const reading: Reading = {
    voltage_v: voltage,
    current_a: noNegZero(round(current, 2)),
    remaining_ah: remaining,
    cell_count: m,
    cell_mv: cells,
    temp_sensor_count: temps.length,
    temps_c: temps,
  };
  // Order on 16-cell packs: cells 1-4, MOSFET, ambient (pace.md section 4).
  if (n === 6 && absent.length === 0) {
    reading.mos_temp_c = temps[4]!;
    reading.env_temp_c = temps[5]!;
  }
  for (const t of ANALOG_TAIL) {
    if (p + t.size > end) break;
    const v = t.size === 1 ? r.u8(p) : t.size === 2 ? r.u16be(p) : r.u32be(p);
    const value =
      t.key === 'independent_current_a'
        ? round(((v << 16) >> 16) * t.scale, 2)
        : round(v * t.scale, 3);
    raw[t.key] = value;
    p += t.size;
    if (t.uncertain) continue;
    if (t.key === 'full_capacity_ah') reading.full_ah = value;
    else if (t.key === 'cycles') reading.cycles = value;
    else if (t.key === 'design_capacity_ah') reading.design_ah = value;
    else if (t.key === 'pack_soc_pct' && value <= 100) reading.soc_pct = value;
    else if (t.key === 'pack_soh_pct' && value <= 100) reading.soh_pct = value;
  }
  if (p < end) raw.extra_bytes_hex = hex(r.slice(p, end - p));
  reading.raw = raw;
  return { reading };
}

// ---------------------------------------------------------------- v25 0x44

/** The status bytes of one 0x44 block, decoded (also used for history records). */
export function statusFlags(s: {
  protect1: number;
  protect2: number;
  fault: number;
  warn1: number;
  warn2: number;
}): { alarms: Alarm[]; protections: string[]; warnings: string[]; faults: string[] } {
  const alarms: Alarm[] = [];
  const protections: string[] = [];
  const warnings: string[] = [];
  const faults: string[] = [];
  flags(s.protect1, PROTECT1_BITS, protections, alarms);
  flags(s.protect2, PROTECT2_BITS, protections, alarms);
  flags(s.warn1, WARN1_BITS, warnings, alarms);
  flags(s.warn2, WARN2_BITS, warnings, alarms);
  flags(s.fault, FAULT_BITS, faults, alarms);
  return { alarms, protections, warnings, faults };
}

function statusBlock(r: ByteReader, o: number, end: number): Block {
  const m = r.u8(o);
  if (!(m <= MAX_CELLS))
    throw new BmsError('FRAME_MALFORMED', `cell count ${m} exceeds ${MAX_CELLS}`);
  const cellStates = Array.from(r.slice(o + 1, m));
  const n = r.u8(o + 1 + m);
  if (!(n <= MAX_TEMPS))
    throw new BmsError('FRAME_MALFORMED', `temperature count ${n} exceeds ${MAX_TEMPS}`);
  const tempStates = Array.from(r.slice(o + 2 + m, n));
  let p = o + 2 + m + n;
  if (!(p + 12 <= end)) {
    throw new BmsError(
      'FRAME_TRUNCATED',
      `0x44 block ends ${p + 12 - end} bytes before its status bytes`,
    );
  }
  const [chargeState, voltageState, dischargeState] = [r.u8(p), r.u8(p + 1), r.u8(p + 2)];
  p += 3;
  const b = Array.from(r.slice(p, 9));
  p += 9;
  const [protect1, protect2, indication, control, fault, balance1, balance2, warn1, warn2] = b as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const { alarms, protections, warnings, faults } = statusFlags({
    protect1,
    protect2,
    fault,
    warn1,
    warn2,
  });
  const indications: string[] = [];
  flags(indication, INDICATION_BITS, indications, []);
  const raw: Raw = {
    cell_count: m,
    cell_states: cellStates,
    temp_count: n,
    temp_states: tempStates,
    charge_current_state: chargeState,
    pack_voltage_state: voltageState,
    discharge_current_state: dischargeState,
    protect1_hex: hex2(protect1),
    protect2_hex: hex2(protect2),
    indication_hex: hex2(indication),
    control_hex: hex2(control),
    fault_hex: hex2(fault),
    balance1_hex: hex2(balance1),
    balance2_hex: hex2(balance2),
    warn1_hex: hex2(warn1),
    warn2_hex: hex2(warn2),
    protections,
    warnings,
    faults,
    indications,
    fully_charged: (protect2 & 0x80) !== 0,
  };
  for (const c of CONTROL_BITS) raw[c.id] = (control & (1 << c.bit)) !== 0;
  // Balance bytes: cells 1-8 in the first, bit 0 = cell 1 ([DOC18], [DOC24], [DBUS]).
  const balancing = Array.from({ length: m }, (_, i) =>
    i < 16 ? ((i < 8 ? balance1 : balance2) & (1 << (i & 7))) !== 0 : false,
  );
  raw.balancing_cells = balancing.flatMap((on, i) => (on ? [i + 1] : []));
  raw.extra_bytes_hex = p < end ? hex(r.slice(p, end - p)) : '';
  if (p < end) {
    const f8 = r.u8(p);
    raw.fault8_hex = hex2(f8);
    raw.faults8 = FAULT8_BITS.filter((_, i) => f8 & (1 << i));
  }
  const reading: Reading = {
    cell_count: m,
    charge_mos: (indication & 0x02) !== 0,
    discharge_mos: (indication & 0x04) !== 0,
    heater: (indication & 0x80) !== 0,
    charger_connected: (indication & 0x20) !== 0,
    cell_balancing: balancing,
    balancing: balancing.some(Boolean),
    alarms,
    raw,
  };
  return { reading };
}

/**
 * 0x42 / 0x44: INFOFLAG, then the command value (one pack) or the pack count (request INFO
 * 0xFF), then the block(s). Several packs' blocks all have the same length: (INFO - 2) /
 * count (pace.md section 4). A count of 1 is read as one pack.
 */
function decodeBlocks(
  info: Uint8Array,
  value: number | undefined,
  raw: Raw,
  address: number,
  parse: (r: ByteReader, o: number, end: number) => Block,
): Reading {
  const r = new ByteReader(info);
  raw.info_flag = r.u8(0);
  const second = r.u8(1);
  const single = (): Reading => {
    const { reading } = parse(r, 2, r.length);
    raw.command_value = second;
    reading.address = address;
    reading.raw = { ...raw, ...reading.raw };
    return reading;
  };
  const group = (): Reading => {
    const count = second;
    if (!(count >= 1 && count <= MAX_PACKS)) {
      throw new BmsError('FRAME_MALFORMED', `pack count ${count} is outside 1..${MAX_PACKS}`);
    }
    if (count === 1) return single();
    const body = r.length - 2;
    if (body % count !== 0) {
      throw new BmsError(
        'FRAME_MALFORMED',
        `${body} bytes do not split into ${count} equal pack blocks`,
      );
    }
    const size = body / count;
    const packs: Reading[] = [];
    for (let k = 0; k < count; k++) {
      const o = 2 + k * size;
      const { reading } = parse(r, o, o + size);
      reading.raw = { pack: k + 1, ...reading.raw };
      packs.push(reading);
    }
    raw.pack_count = count;
    return { address, packs, raw };
  };
  if (value === 0xff) return group();
  if (value !== undefined) return single();
  try {
    return single();
  } catch (e) {
    if (!isBmsError(e)) throw e;
    try {
      return group();
    } catch {
      throw e;
    }
  }
}

// ---------------------------------------------------------------- EG4 (v20)

function eg4Bits(
  v: number,
  table: readonly (Eg4Bit | null)[],
  ids: string[],
  alarms: Alarm[],
): void {
  table.forEach((b, i) => {
    if (!b || !(v & (1 << i))) return;
    ids.push(b[0]);
    if (b[1])
      alarms.push(
        makeAlarm(b[1], b[2] === undefined ? { source: b[0] } : { level: b[2], source: b[0] }),
      );
  });
}

function eg4Analog(info: Uint8Array, raw: Raw, address: number, invert: boolean): Reading {
  const r = new ByteReader(info);
  raw.data_flag = r.u8(0);
  raw.pack_group = r.u8(1);
  const m = r.u8(2);
  if (!(m >= 1 && m <= MAX_CELLS))
    throw new BmsError('FRAME_MALFORMED', `cell count ${m} is outside 1..${MAX_CELLS}`);
  r.slice(3, 2 * m);
  const cells = Array.from({ length: m }, (_, i) => r.u16be(3 + 2 * i));
  let o = 3 + 2 * m;
  const nField = r.u8(o);
  // The count says 4, but the cell sensors are followed by ambient and MOSFET (pace.md 10).
  const n = nField + 2;
  if (!(n <= MAX_TEMPS))
    throw new BmsError('FRAME_MALFORMED', `temperature count ${nField} is too large`);
  const { temps, absent } = temperatures(r, o + 1, n, KELVIN_OFFSET['v20-eg4']);
  o += 1 + 2 * n;
  const values: Record<string, number> = {};
  for (const [key, size, scale] of EG4_ANALOG) {
    const v =
      size === 1
        ? r.u8(o)
        : size === 2
          ? key === 'current_a'
            ? r.i16be(o)
            : r.u16be(o)
          : r.u32be(o);
    values[key] = round(v * scale, 3);
    o += size;
  }
  const tempOf = (rawT: number): number => round((rawT - KELVIN_OFFSET['v20-eg4']) / 10, 1);
  Object.assign(raw, {
    cell_count: m,
    temp_count_field: nField,
    ...values,
    max_temp_c: tempOf(values.max_temp_raw!),
    min_temp_c: tempOf(values.min_temp_raw!),
  });
  delete raw.max_temp_raw;
  delete raw.min_temp_raw;
  if (absent.length) raw.absent_sensors = absent;
  let current = values.current_a!;
  if (invert) current = -current;
  const reading: Reading = {
    address,
    voltage_v: values.pack_voltage_v!,
    current_a: noNegZero(current),
    remaining_ah: values.remaining_capacity_ah!,
    full_ah: values.full_capacity_ah!,
    cycles: values.cycles!,
    cell_count: m,
    cell_mv: cells,
    temp_sensor_count: temps.length,
    temps_c: temps,
    max_cell_mv: values.max_cell_mv!,
    min_cell_mv: values.min_cell_mv!,
    delta_cell_mv: values.cell_diff_mv!,
    max_temp_c: raw.max_temp_c as number,
    min_temp_c: raw.min_temp_c as number,
    raw,
  };
  if (values.soc_pct! <= 100) reading.soc_pct = values.soc_pct!;
  if (values.soh_pct! <= 100) reading.soh_pct = values.soh_pct!;
  if (absent.length === 0 && n === nField + 2) {
    reading.env_temp_c = temps[nField]!;
    reading.mos_temp_c = temps[nField + 1]!;
  }
  if (o < r.length) raw.extra_bytes_hex = hex(r.slice(o, r.length - o));
  return reading;
}

function eg4Status(info: Uint8Array, raw: Raw, address: number): Reading {
  const r = new ByteReader(info);
  raw.data_flag = r.u8(0);
  raw.pack_group = r.u8(1);
  const m = r.u8(2);
  if (!(m <= MAX_CELLS))
    throw new BmsError('FRAME_MALFORMED', `cell count ${m} exceeds ${MAX_CELLS}`);
  raw.cell_count = m;
  raw.cell_states = Array.from(r.slice(3, m));
  let o = 3 + m;
  const nField = r.u8(o);
  const n = nField + 2;
  if (!(n <= MAX_TEMPS))
    throw new BmsError('FRAME_MALFORMED', `temperature count ${nField} is too large`);
  raw.temp_count_field = nField;
  raw.temp_states = Array.from(r.slice(o + 1, n));
  o += 1 + n;
  raw.current_state = r.u8(o);
  raw.pack_voltage_state = r.u8(o + 1);
  raw.user_defined_count = r.u8(o + 2);
  const balance = r.u8(o + 3);
  const voltage = r.u8(o + 4);
  const temperature = r.u16be(o + 5);
  const current = r.u8(o + 7);
  const soc = r.u8(o + 8);
  const fet = r.u8(o + 9);
  const system = r.u8(o + 10);
  const bitmap = r.u32be(o + 11);
  o += 15;
  Object.assign(raw, {
    balance_event_hex: hex2(balance),
    voltage_event_hex: hex2(voltage),
    temperature_event_hex: temperature.toString(16).toUpperCase().padStart(4, '0'),
    current_event_hex: hex2(current),
    soc_event_hex: hex2(soc),
    fet_status_hex: hex2(fet),
    system_status_hex: hex2(system),
    balance_status_hex: bitmap.toString(16).toUpperCase().padStart(8, '0'),
    charging: (system & (1 << EG4_SYSTEM.charging)) !== 0,
    discharging: (system & (1 << EG4_SYSTEM.discharging)) !== 0,
    standby: (system & (1 << EG4_SYSTEM.standby)) !== 0,
    limiter_on: (fet & (1 << EG4_FET.limiter)) !== 0,
  });
  if (o < r.length) raw.extra_bytes_hex = hex(r.slice(o, r.length - o));
  const ids: string[] = [];
  const alarms: Alarm[] = [];
  eg4Bits(balance, EG4_BALANCE_EVENT, ids, alarms);
  eg4Bits(voltage, EG4_VOLTAGE_EVENT, ids, alarms);
  eg4Bits(temperature, EG4_TEMPERATURE_EVENT, ids, alarms);
  eg4Bits(current, EG4_CURRENT_EVENT, ids, alarms);
  if (soc & 1) {
    ids.push('low_soc');
    alarms.push(makeAlarm('soc_low', { level: 1, source: 'low_soc' }));
  }
  raw.alarms = ids.filter((x) => x !== 'balancer_on');
  const balancing = Array.from({ length: m }, (_, i) => i < 32 && (bitmap & (2 ** i)) !== 0);
  return {
    address,
    cell_count: m,
    charge_mos: (fet & (1 << EG4_FET.charge)) !== 0,
    discharge_mos: (fet & (1 << EG4_FET.discharge)) !== 0,
    heater: (fet & (1 << EG4_FET.heater)) !== 0,
    cell_balancing: balancing,
    balancing: (balance & 1) !== 0 || balancing.some(Boolean),
    state: raw.charging ? 'charging' : raw.discharging ? 'discharging' : 'idle',
    alarms,
    raw,
  };
}

// ---------------------------------------------------------------- other replies

function text(r: ByteReader, o: number, n: number): string {
  return r.ascii(o, n).replace(/\s+$/, '');
}

function decodeClock(info: Uint8Array, raw: Raw, address: number, eg4: boolean): Reading {
  ensure(info.length >= (eg4 ? 7 : 6), 'FRAME_TRUNCATED', `clock reply has ${info.length} bytes`);
  const r = new ByteReader(info);
  const y = eg4 ? r.u16be(0) : 2000 + r.u8(0);
  const o = eg4 ? 2 : 1;
  const ms = wallMsOf(y, r.u8(o), r.u8(o + 1), r.u8(o + 2), r.u8(o + 3), r.u8(o + 4));
  if (ms === undefined) {
    raw.clock_invalid_hex = hex(info);
    return { address, raw };
  }
  raw.datetime = wallIso(ms);
  raw.clock_wall_ms = ms;
  return { address, raw };
}

/** One 0xA1 history record (pace.md section 9) as a Reading and a BmsRecord. */
function decodeRecord(
  info: Uint8Array,
  raw: Raw,
  address: number,
  index: number | undefined,
): Reading {
  if (info.length === 0) {
    // No record at this index (empty RTN 00 reply, [NK]).
    raw.record_empty = true;
    return { address, raw };
  }
  const r = new ByteReader(info);
  const ms = wallMsOf(2000 + r.u8(0), r.u8(1), r.u8(2), r.u8(3), r.u8(4), r.u8(5));
  const m = r.u8(6);
  if (!(m >= 1 && m <= MAX_CELLS))
    throw new BmsError('FRAME_MALFORMED', `record cell count ${m} is outside 1..${MAX_CELLS}`);
  r.slice(7, 2 * m);
  const cells = Array.from({ length: m }, (_, i) => r.u16be(7 + 2 * i));
  let o = 7 + 2 * m;
  const n = r.u8(o);
  if (!(n <= MAX_TEMPS))
    throw new BmsError('FRAME_MALFORMED', `record temperature count ${n} exceeds ${MAX_TEMPS}`);
  const { temps } = temperatures(r, o + 1, n, KELVIN_OFFSET.v25);
  o += 1 + 2 * n;
  const current = noNegZero(round(r.i16be(o) / 100, 2));
  const voltage = r.u16be(o + 2) / 1000;
  const remaining = r.u16be(o + 4) / 100;
  const full = r.u16be(o + 6) / 100;
  const [protect1, protect2, fault, warn1, warn2, indication] = Array.from(r.slice(o + 8, 6)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const cycles = r.u16be(o + 14);
  o += 16;
  const fault8 = o < r.length ? r.u8(o) : undefined;
  const fault10 = o + 1 < r.length ? r.u8(o + 1) : undefined;
  const status = o + 3 < r.length ? r.u16be(o + 2) : undefined;
  const { alarms, protections, warnings, faults } = statusFlags({
    protect1,
    protect2,
    fault,
    warn1,
    warn2,
  });
  Object.assign(raw, {
    cell_count: m,
    temp_count: n,
    full_capacity_ah: full,
    protect1_hex: hex2(protect1),
    protect2_hex: hex2(protect2),
    fault_hex: hex2(fault),
    warn1_hex: hex2(warn1),
    warn2_hex: hex2(warn2),
    indication_hex: hex2(indication),
    protections,
    warnings,
    faults,
  });
  if (ms !== undefined) raw.record_datetime = wallIso(ms);
  else raw.record_time_hex = hex(r.slice(0, 6));
  if (fault8 !== undefined) raw.fault8_hex = hex2(fault8);
  if (fault10 !== undefined) raw.fault10_hex = hex2(fault10);
  if (status !== undefined)
    raw.status_record_hex = status.toString(16).toUpperCase().padStart(4, '0');
  const powerOn =
    status !== undefined && status !== 0xffff && (status & RECORD_STATUS_POWER_ON) !== 0;
  const record: BmsRecord = {
    index: index ?? 0,
    kind: alarms.length > 0 ? 'alarm' : 'data',
    ...(ms !== undefined ? { wall_ms: ms } : {}),
    ...(powerOn ? { event: 'power_on' } : {}),
    voltage_v: voltage,
    current_a: current,
    remaining_ah: remaining,
    full_ah: full,
    cycles,
    cell_mv: cells,
    temps_c: temps,
    max_cell_mv: Math.max(...cells),
    min_cell_mv: Math.min(...cells),
    ...(temps.length ? { max_temp_c: Math.max(...temps), min_temp_c: Math.min(...temps) } : {}),
    ...(full > 0 ? { soc_pct: round(Math.min(100, (remaining / full) * 100), 1) } : {}),
    alarms,
    raw: {
      ...raw,
      charge_mos_on: (indication & 0x02) !== 0,
      discharge_mos_on: (indication & 0x04) !== 0,
    },
  };
  raw.record = record;
  return {
    address,
    voltage_v: voltage,
    current_a: current,
    remaining_ah: remaining,
    full_ah: full,
    cycles,
    cell_count: m,
    cell_mv: cells,
    temp_sensor_count: temps.length,
    temps_c: temps,
    raw,
  };
}

function decodeParamBlock(block: ParamBlock, info: Uint8Array, raw: Raw, address: number): Reading {
  const r = new ByteReader(info);
  const params: Record<string, number> = {};
  const values: Record<string, number | boolean> = {};
  let o = 0;
  for (const field of block.fields) {
    if (o === info.length && field.optional) break;
    ensure(
      o + PARAM_KIND_SIZE[field.kind] <= info.length,
      'FRAME_TRUNCATED',
      `0x${hex2(block.read)} reply has ${info.length} bytes, ${field.key} needs more`,
    );
    const v = readParam(r, o, field.kind);
    values[field.key] = v;
    if (field.param && typeof v === 'number') params[field.param] = toParam(field, v);
    o += PARAM_KIND_SIZE[field.kind];
  }
  if (o < info.length) raw.extra_bytes_hex = hex(r.slice(o, info.length - o));
  Object.assign(raw, values);
  raw.parameters = params;
  raw.blocks = { [block.name]: values };
  return { address, raw };
}

function decodeInverter(info: Uint8Array, raw: Raw, address: number): Reading {
  ensure(info.length >= 3, 'FRAME_TRUNCATED', `0xEB reply has ${info.length} bytes, needs 3`);
  const [can, rs485, mode] = [info[0]!, info[1]!, info[2]!];
  raw.can_protocol = can;
  raw.rs485_protocol = rs485;
  raw.protocol_mode = mode === MODE_AUTO ? 'auto' : 'manual';
  const cn = inverterName('can', can);
  const rn = inverterName('rs485', rs485);
  if (cn) raw.can_protocol_name = cn.id;
  if (rn) raw.rs485_protocol_name = rn.id;
  raw.inverter_protocol = { can, rs485, mode: raw.protocol_mode };
  return { address, raw };
}

function decodeIndication(info: Uint8Array, raw: Raw, address: number): Reading {
  ensure(info.length >= 1, 'FRAME_TRUNCATED', 'MOSFET reply has no indication byte');
  raw.info_hex = hex(info);
  const ind = info[0]!;
  const indications: string[] = [];
  flags(ind, INDICATION_BITS, indications, []);
  raw.indications = indications;
  return { address, charge_mos: (ind & 0x02) !== 0, discharge_mos: (ind & 0x04) !== 0, raw };
}

function decodeControl(info: Uint8Array, raw: Raw, address: number): Reading {
  ensure(info.length >= 2, 'FRAME_TRUNCATED', `0x99 reply has ${info.length} bytes, needs 2`);
  raw.info_hex = hex(info);
  raw.control_code = info[0]!;
  raw.control_status_hex = hex2(info[1]!);
  raw.buzzer_bit = (info[1]! & 1) !== 0;
  for (const c of CONTROL_BITS) raw[c.id] = (info[1]! & (1 << c.bit)) !== 0;
  return { address, raw };
}

function decodeCapacity(info: Uint8Array, raw: Raw, address: number): Reading {
  ensure(info.length >= 6, 'FRAME_TRUNCATED', `0xA6 reply has ${info.length} bytes, needs 6`);
  const r = new ByteReader(info);
  const [remaining, full, design] = [r.u16be(0) / 100, r.u16be(2) / 100, r.u16be(4) / 100];
  Object.assign(raw, {
    remaining_capacity_ah: remaining,
    full_capacity_ah: full,
    design_capacity_ah: design,
  });
  return { address, remaining_ah: remaining, full_ah: full, design_ah: design, raw };
}

const BLOCK_BY_READ = new Map(PARAM_BLOCKS.map((b) => [b.read, b]));

export function decodeReply(bytes: Uint8Array, opts: DecodeOptions = {}): Reading {
  const f: PylonFrame = parseFrame(bytes);
  const address = f.adr;
  const raw: Raw = {
    ver: f.ver,
    adr: f.adr,
    cid1_hex: hex2(f.cid1),
    rtn: f.cid2,
    info_len: f.info.length,
  };
  if (f.cid2 !== 0) {
    raw.error_response = true;
    raw.rtn_meaning = RTN_MEANINGS[f.cid2] ?? 'unknown return code';
    if (f.info.length > 0) raw.info_hex = hex(f.info);
    return { address, raw };
  }
  if (!opts.request) {
    ensure(
      f.info.length === 0,
      'DECODE_CONTEXT_MISSING',
      'a PACE reply does not name its command: pass the request (opts.request)',
    );
    return { address, raw };
  }
  const ctx = requestContext(opts.request);
  const named = opts.variant ?? ctx.variant ?? variantOf(f.ver, f.cid1) ?? DEFAULT_VARIANT;
  ensure(
    (VARIANTS as readonly string[]).includes(named),
    'VARIANT_UNKNOWN',
    `PACE variant must be ${VARIANTS.join(' or ')} (got ${named})`,
  );
  const variant = named as Variant;
  const info = f.info;
  const invert = opts.invertCurrent === true;
  const cmd = commandByCid2(ctx.cid2, variant);
  if (!cmd)
    throw new BmsError(
      'DECODE_UNSUPPORTED',
      `no PACE ${variant} command has CID2 0x${hex2(ctx.cid2)}`,
    );
  const value = ctx.info.length === 1 ? ctx.info[0] : undefined;
  switch (cmd.id) {
    case 'analog':
      return variant === 'v20-eg4'
        ? eg4Analog(info, raw, address, invert)
        : decodeBlocks(info, value, raw, address, (r, o, end) => analogBlock(r, o, end, invert));
    case 'status':
      return variant === 'v20-eg4'
        ? eg4Status(info, raw, address)
        : decodeBlocks(info, value, raw, address, statusBlock);
    case 'software_version': {
      const r = new ByteReader(info);
      const version = text(r, 0, Math.min(TEXT_FIELD, info.length));
      raw.version = version;
      if (info.length >= 2 * TEXT_FIELD) raw.bluetooth_name = text(r, TEXT_FIELD, TEXT_FIELD);
      return version ? { address, info: { sw_version: version }, raw } : { address, raw };
    }
    case 'product_info': {
      const r = new ByteReader(info);
      raw.bms_serial = text(r, 0, Math.min(TEXT_FIELD, info.length));
      raw.pack_serial =
        info.length > TEXT_FIELD
          ? text(r, TEXT_FIELD, Math.min(TEXT_FIELD, info.length - TEXT_FIELD))
          : '';
      const devInfo: NonNullable<Reading['info']> = {};
      if (raw.bms_serial) devInfo.serial = raw.bms_serial as string;
      if (raw.pack_serial) devInfo.barcode = raw.pack_serial as string;
      return Object.keys(devInfo).length ? { address, info: devInfo, raw } : { address, raw };
    }
    case 'eg4_identity': {
      const name = text(new ByteReader(info), 0, info.length);
      raw.identity = name;
      return name ? { address, info: { model: name }, raw } : { address, raw };
    }
    case 'eg4_serial': {
      const r = new ByteReader(info);
      const serial = info.length > 1 ? text(r, 1, info.length - 1) : '';
      raw.serial = serial;
      return serial ? { address, info: { serial }, raw } : { address, raw };
    }
    case 'pack_count':
      ensure(info.length >= 1, 'FRAME_TRUNCATED', '0x90 reply has no pack count');
      raw.pack_count = info[0]!;
      return { address, raw };
    case 'read_clock':
      return decodeClock(info, raw, address, false);
    case 'eg4_read_clock':
      return decodeClock(info, raw, address, true);
    case 'read_history':
      return decodeRecord(
        info,
        raw,
        address,
        ctx.info.length === 2 ? (ctx.info[0]! << 8) | ctx.info[1]! : undefined,
      );
    case 'read_capacity':
      return decodeCapacity(info, raw, address);
    case 'read_inverter_protocol':
      return decodeInverter(info, raw, address);
    case 'charge_mos':
    case 'discharge_mos':
      return decodeIndication(info, raw, address);
    case 'control':
      return decodeControl(info, raw, address);
    default: {
      const block = BLOCK_BY_READ.get(ctx.cid2);
      if (block && cmd.id === `read_${block.name}`)
        return decodeParamBlock(block, info, raw, address);
      // Writes and commands answer with an empty RTN 00 frame.
      if (info.length > 0) raw.info_hex = hex(info);
      return { address, raw };
    }
  }
}
