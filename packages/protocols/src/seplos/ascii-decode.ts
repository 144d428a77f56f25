/**
 * Seplos V2 reply decoders. A reply carries the return code (RTN) where the request had its
 * command, so the decoder needs the request (DecodeOptions.request: the request frame or the
 * short form [CID2] / [CID2, INFO]). Without it only error replies and empty replies decode.
 */
import { BmsError, ensure, makeAlarm, round, type Alarm, type Reading } from '@openbms/core';
import type { DecodeOptions } from '../types.js';
import { ByteReader, bytesToHex } from '../util/bytes.js';
import { CID1_BATTERY, parseFrame } from '../pylontech/frame.js';
import { v2Context } from './ascii.js';
import {
  ALARM_EVENTS,
  BLOCK,
  BLOCK_FIELDS,
  CID2,
  EVENT7_BITS,
  EVENT8_BITS,
  KELVIN_OFFSET,
  RTN_MEANINGS,
  SIGNAL_TAIL,
  SWITCH_BITS,
  SWITCH_FIELDS,
  SYSTEM_STATE_BITS,
  TELEMETRY_TAIL,
  blockOffset,
  type AlarmBit,
  type BlockField,
} from './fields.js';

export const MAX_CELLS = 48;
export const MAX_TEMPS = 32;

export const hexUpper = (bytes: Uint8Array): string => bytesToHex(bytes).toUpperCase();
const hex2 = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');
const tempC = (raw: number): number => round((raw - KELVIN_OFFSET) / 10, 1);
const noNegZero = (x: number): number => (x === 0 ? 0 : x);

/** 0x42: cells, temperatures, current, voltage, capacities, SOC, SOH, cycles. */
function decodeTelemetry(info: Uint8Array, raw: Record<string, unknown>, invert: boolean): Reading {
  const r = new ByteReader(info);
  raw.data_flag = r.u8(0);
  raw.command_group = r.u8(1);
  const m = r.u8(2);
  ensure(m <= MAX_CELLS, 'FRAME_MALFORMED', `cell count ${m} exceeds ${MAX_CELLS}`);
  r.slice(3, 2 * m);
  const cells = Array.from({ length: m }, (_, i) => r.u16be(3 + 2 * i));
  let o = 3 + 2 * m;
  const n = r.u8(o);
  ensure(n <= MAX_TEMPS, 'FRAME_MALFORMED', `temperature count ${n} exceeds ${MAX_TEMPS}`);
  r.slice(o + 1, 2 * n);
  const temps = Array.from({ length: n }, (_, i) => tempC(r.u16be(o + 1 + 2 * i)));
  o += 1 + 2 * n;
  const t = TELEMETRY_TAIL;
  let current = r.i16be(o + t.current) / 100;
  if (invert) current = -current;
  current = noNegZero(current);
  const voltage = r.u16be(o + t.voltage) / 100;
  const p = r.u8(o + t.customCount);
  if (!(p >= t.definedItems)) {
    throw new BmsError(
      'DECODE_UNSUPPORTED',
      `0x42 custom item count ${p} is below the ${t.definedItems} items the layout defines`,
    );
  }
  const end = o + t.customCount + 1 + 2 * p;
  ensure(
    info.length >= end,
    'FRAME_TRUNCATED',
    `0x42 INFO has ${info.length} bytes, its counts need ${end}`,
  );
  ensure(
    info.length === end,
    'FRAME_MALFORMED',
    `0x42 INFO has ${info.length - end} bytes after the last item`,
  );
  const full = r.u16be(o + t.full) / 100;
  const rated = r.u16be(o + t.rated) / 100;
  const reading: Reading = {
    voltage_v: voltage,
    current_a: current,
    power_w: noNegZero(round(voltage * current, 2)),
    remaining_ah: r.u16be(o + t.remaining) / 100,
    full_ah: full,
    design_ah: rated,
    soc_pct: r.u16be(o + t.soc) / 10,
    soh_pct: r.u16be(o + t.soh) / 10,
    cycles: r.u16be(o + t.cycles),
    cell_count: m,
    cell_mv: cells,
    temp_sensor_count: n,
    temps_c: temps,
  };
  // Seplos sends cells 1-4, then the ambient and the power (MOSFET) sensor.
  if (n === 6) {
    reading.env_temp_c = temps[4]!;
    reading.mos_temp_c = temps[5]!;
  }
  Object.assign(raw, {
    temp_count: n,
    user_defined_count: p,
    full_capacity_ah: full,
    rated_capacity_ah: rated,
    port_voltage_v: r.u16be(o + t.port) / 100,
    reserved_hex: hexUpper(info.subarray(o + t.reserved, end)),
  });
  reading.raw = raw;
  return reading;
}

function pushBits(byte: number, table: readonly AlarmBit[], ids: string[], alarms: Alarm[]): void {
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

const cellsOf = (lo: number, hi: number, count: number): number[] => {
  const out: number[] = [];
  for (let i = 0; i < Math.min(count, 16); i++) {
    if ((i < 8 ? lo : hi) & (1 << (i & 7))) out.push(i + 1);
  }
  return out;
};

/** 0x44: states, alarm events, switches, balancing, system state. */
function decodeSignals(info: Uint8Array, raw: Record<string, unknown>): Reading {
  const r = new ByteReader(info);
  raw.data_flag = r.u8(0);
  raw.command_group = r.u8(1);
  const m = r.u8(2);
  ensure(m <= MAX_CELLS, 'FRAME_MALFORMED', `cell count ${m} exceeds ${MAX_CELLS}`);
  const cellStates = Array.from(r.slice(3, m));
  let o = 3 + m;
  const n = r.u8(o);
  ensure(n <= MAX_TEMPS, 'FRAME_MALFORMED', `temperature count ${n} exceeds ${MAX_TEMPS}`);
  const tempStates = Array.from(r.slice(o + 1, n));
  o += 1 + n;
  const currentState = r.u8(o);
  const voltageState = r.u8(o + 1);
  const p = r.u8(o + 2);
  const base = o + 3;
  ensure(
    p >= SIGNAL_TAIL.event8 + 1,
    'DECODE_UNSUPPORTED',
    `0x44 custom item count ${p} is below the ${SIGNAL_TAIL.event8 + 1} items the layout defines`,
  );
  const end = base + p;
  ensure(info.length >= end, 'FRAME_TRUNCATED', `0x44 INFO has ${info.length} bytes, needs ${end}`);
  ensure(
    info.length === end,
    'FRAME_MALFORMED',
    `0x44 INFO has ${info.length - end} bytes after the last item`,
  );
  const ids: string[] = [];
  const alarms: Alarm[] = [];
  for (const ev of ALARM_EVENTS) {
    const v = r.u8(base + ev.offset);
    raw[`${ev.key}_hex`] = hex2(v);
    pushBits(v, ev.bits, ids, alarms);
  }
  const sw = r.u8(base + SIGNAL_TAIL.switchState);
  const bal1 = r.u8(base + SIGNAL_TAIL.balance1);
  const bal2 = r.u8(base + SIGNAL_TAIL.balance2);
  const sys = r.u8(base + SIGNAL_TAIL.systemState);
  const dis1 = r.u8(base + SIGNAL_TAIL.disconnect1);
  const dis2 = r.u8(base + SIGNAL_TAIL.disconnect2);
  const ev7 = r.u8(base + SIGNAL_TAIL.event7);
  const ev8 = r.u8(base + SIGNAL_TAIL.event8);
  pushBits(ev7, EVENT7_BITS, ids, alarms);
  pushBits(ev8, EVENT8_BITS, ids, alarms);
  const balancing = cellsOf(bal1, bal2, m);
  const states = SYSTEM_STATE_BITS.filter((_, i) => sys & (1 << i));
  Object.assign(raw, {
    cell_states: cellStates,
    temp_count: n,
    temp_states: tempStates,
    current_state: currentState,
    pack_voltage_state: voltageState,
    custom_count: p,
    switch_state_hex: hex2(sw),
    balance_state_hex: hex2(bal1) + hex2(bal2),
    system_state_hex: hex2(sys),
    disconnection_state_hex: hex2(dis1) + hex2(dis2),
    event7_hex: hex2(ev7),
    event8_hex: hex2(ev8),
    balancing_cells: balancing,
    disconnected_cells: cellsOf(dis1, dis2, m),
    system_state: states,
    alarms: ids,
    trailing_hex: hexUpper(info.subarray(base + SIGNAL_TAIL.trailing, end)),
  });
  for (const [bit, key] of SWITCH_BITS) raw[key] = (sw & (1 << bit)) !== 0;
  const charging = states.includes('charging') || states.includes('float_charging');
  return {
    cell_count: m,
    charge_mos: (sw & 0x02) !== 0,
    discharge_mos: (sw & 0x01) !== 0,
    heater: (sw & 0x08) !== 0,
    balancing: balancing.length > 0,
    cell_balancing: Array.from({ length: Math.min(m, 16) }, (_, i) => balancing.includes(i + 1)),
    state: states.includes('discharging') ? 'discharging' : charging ? 'charging' : 'idle',
    alarms,
    raw,
  };
}

/** A block parameter's value in its key's unit. */
export function blockValue(r: ByteReader, f: BlockField): number {
  const o = blockOffset(f);
  const rawValue = f.enc === 'u8' ? r.u8(o) : f.enc === 'i16' ? r.i16be(o) : r.u16be(o);
  return round((rawValue - (f.offset ?? 0)) * f.scale, 6);
}

/** The catalog value of a block parameter given its key value. */
export function catalogValue(f: BlockField, v: number): number {
  const x = round(v * (f.toParam ?? 1), 6);
  return f.negative ? noNegZero(Math.abs(x)) : x;
}

/** 0x47: the 169-byte parameter block. */
export function decodeBlock(info: Uint8Array, raw: Record<string, unknown>): Reading {
  ensure(
    info.length >= BLOCK.length,
    'FRAME_TRUNCATED',
    `parameter block has ${info.length} bytes, needs ${BLOCK.length}`,
  );
  ensure(
    info.length === BLOCK.length,
    'FRAME_MALFORMED',
    `parameter block has ${info.length - BLOCK.length} bytes after its ${BLOCK.length}`,
  );
  const r = new ByteReader(info);
  const counts = [r.u8(BLOCK.wordCount), r.u8(BLOCK.byteCountAt), r.u8(BLOCK.switchCountAt)];
  if (counts[0] !== BLOCK.wordsN || counts[1] !== BLOCK.bytesN || counts[2] !== BLOCK.switchesN) {
    throw new BmsError(
      'DECODE_UNSUPPORTED',
      `parameter block counts ${counts.join('/')} are not the documented 60/27/8`,
    );
  }
  raw.pack_index = r.u8(BLOCK.index);
  raw.int_param_count = counts[0];
  raw.byte_param_count = counts[1];
  raw.switch_byte_count = counts[2];
  const params: Record<string, number> = {};
  for (const f of BLOCK_FIELDS) {
    const v = blockValue(r, f);
    raw[f.key] = v;
    if (f.param) params[f.param] = catalogValue(f, v);
  }
  const switches = r.slice(BLOCK.switches, BLOCK.switchesN);
  raw.function_switches_hex = hexUpper(switches);
  for (const s of SWITCH_FIELDS) {
    const on = (switches[s.byte]! & (1 << s.bit)) !== 0;
    raw[s.key] = on;
    if (s.param) params[s.param] = on ? 1 : 0;
  }
  raw.model = r.ascii(BLOCK.model, BLOCK.modelLength);
  raw.parameters = params;
  // The whole block, for the read-modify-write of 0xA1.
  raw.param_block_hex = bytesToHex(info);
  // The block's remaining capacity is the value that seeds the SOC counter; captures show
  // it close to 0x42's remaining capacity.
  return { remaining_ah: raw.remaining_capacity_ah as number, raw };
}

/** 0x51: device name, software version, and (current firmware) the active CAN protocol. */
function decodeDeviceInfo(info: Uint8Array, raw: Record<string, unknown>): Reading {
  ensure(info.length >= 32, 'FRAME_TRUNCATED', `0x51 INFO has ${info.length} bytes, needs 32`);
  const r = new ByteReader(info);
  const name = r.ascii(0, 10);
  const sw = `${r.u8(10)}.${r.u8(11)}`;
  raw.device_name = name;
  raw.software_version_hex = hexUpper(info.subarray(10, 12));
  raw.software_version = sw;
  raw.manufacturer = r.ascii(12, 20);
  const devInfo: NonNullable<Reading['info']> = { sw_version: sw };
  if (name) {
    devInfo.device_name = name;
    devInfo.model = name;
  }
  return { info: devInfo, raw };
}

/** The BMS clock as the wire carries it (local time of the BMS, no zone). */
export interface ClockFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** 0x4D: year (uint16), month, day, hour, minute, second. */
function decodeClock(info: Uint8Array, raw: Record<string, unknown>): Reading {
  ensure(info.length >= 7, 'FRAME_TRUNCATED', `0x4D INFO has ${info.length} bytes, needs 7`);
  const r = new ByteReader(info);
  const c: ClockFields = {
    year: r.u16be(0),
    month: r.u8(2),
    day: r.u8(3),
    hour: r.u8(4),
    minute: r.u8(5),
    second: r.u8(6),
  };
  const ok =
    c.month >= 1 &&
    c.month <= 12 &&
    c.day >= 1 &&
    c.day <= 31 &&
    c.hour <= 23 &&
    c.minute <= 59 &&
    c.second <= 59;
  ensure(ok, 'FRAME_MALFORMED', `0x4D clock ${JSON.stringify(c)} is not a date and time`);
  const two = (x: number): string => String(x).padStart(2, '0');
  raw.clock = `${c.year}-${two(c.month)}-${two(c.day)} ${two(c.hour)}:${two(c.minute)}:${two(c.second)}`;
  // OpenBMS sets the clock in UTC (the wire has no zone), so it reads it back as UTC.
  raw.clock_ms = Date.UTC(c.year, c.month - 1, c.day, c.hour, c.minute, c.second);
  return { raw };
}

export function decodeV2(bytes: Uint8Array, opts: DecodeOptions = {}): Reading {
  const f = parseFrame(bytes);
  const raw: Record<string, unknown> = {
    ver: f.ver,
    adr: f.adr,
    cid1_hex: hex2(f.cid1),
    rtn: f.cid2,
    info_len: f.info.length,
  };
  const address = f.adr;
  ensure(
    f.cid1 === CID1_BATTERY,
    'DECODE_UNSUPPORTED',
    `CID1 0x${hex2(f.cid1)} is not battery data (0x46)`,
  );
  if (f.cid2 !== 0) {
    raw.error_response = true;
    raw.rtn_meaning = RTN_MEANINGS[f.cid2] ?? 'unknown return code';
    if (f.info.length > 0) raw.info_hex = hexUpper(f.info);
    return { address, raw };
  }
  if (!opts.request) {
    ensure(
      f.info.length === 0,
      'DECODE_CONTEXT_MISSING',
      'a Seplos V2 reply does not name its command: pass the request (opts.request)',
    );
    return { address, raw };
  }
  const ctx = v2Context(opts.request);
  const info = f.info;
  let out: Reading;
  switch (ctx.cid2) {
    case CID2.TELEMETRY:
      out = decodeTelemetry(info, raw, opts.invertCurrent === true);
      break;
    case CID2.TELESIGNALLING:
      out = decodeSignals(info, raw);
      break;
    case CID2.PARAMETERS:
      out = decodeBlock(info, raw);
      break;
    case CID2.DEVICE_INFO:
      out = decodeDeviceInfo(info, raw);
      break;
    case CID2.CLOCK_READ:
      out = decodeClock(info, raw);
      break;
    case CID2.PROTOCOL_VERSION:
      raw.protocol_version_hex = hex2(f.ver);
      out = { info: { protocol_version: `${f.ver >> 4}.${f.ver & 0xf}` }, raw };
      break;
    case CID2.WRITE_PARAMETERS:
    case CID2.CLOCK_WRITE:
    case CID2.CONTROL:
    case CID2.CALIBRATE:
    case CID2.CAN_PROTOCOL:
    case CID2.RS485_PROTOCOL:
      // Acknowledgements: RTN 0 and (normally) no INFO.
      if (info.length > 0) raw.info_hex = hexUpper(info);
      out = { raw };
      break;
    default:
      throw new BmsError(
        'DECODE_UNSUPPORTED',
        `no decoder for the reply to CID2 0x${hex2(ctx.cid2)}`,
      );
  }
  out.address = address;
  return out;
}
