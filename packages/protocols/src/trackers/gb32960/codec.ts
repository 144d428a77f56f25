/**
 * GB/T 32960.3-2016 (EV remote monitoring): `##` framing with BCC, vehicle login/logout,
 * real-time and re-sent reports with their info blocks (vehicle, motors, fuel cell, engine,
 * location, extremes, alarms, per-cell voltages, probe temperatures), heartbeat and time
 * calibration; replies; and the battery part of a report as a BMS reading.
 */
import { completeSnapshot, type Reading } from '@openbms/core';
import type { Framer } from '../../types.js';
import { ByteReader } from '../../util/bytes.js';
import { createFramer, type Probe } from '../../util/framer.js';
import {
  asciiBytes,
  asciiText,
  check,
  fail,
  hex,
  isoUtc,
  localToUtcMs,
  round,
  utcToLocalFields,
} from '../common.js';

export const CMD = {
  vehicle_login: 0x01,
  realtime: 0x02,
  resend: 0x03,
  vehicle_logout: 0x04,
  platform_login: 0x05,
  platform_logout: 0x06,
  heartbeat: 0x07,
  time_calibration: 0x08,
} as const;

/** Longest data unit the length WORD allows: frames are at most 65,535 + 25 bytes. */
export const MAX_FRAME = 0xffff + 25;

const BEIJING = 480;

// Framing -----------------------------------------------------------------------------------

function bcc(buf: Uint8Array, start: number, end: number): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= buf[i]!;
  return x;
}

function probe(buf: Uint8Array, start: number, end: number): Probe {
  if (end - start >= 2 && buf[start + 1] !== 0x23)
    return { kind: 'reject', code: 'FRAME_NO_START', reason: 'no ## start' };
  if (end - start < 24) return { kind: 'more' };
  const len = (buf[start + 22]! << 8) | buf[start + 23]!;
  const total = 25 + len;
  if (end - start < total) return { kind: 'more' };
  if (bcc(buf, start + 2, start + total - 1) !== buf[start + total - 1]) {
    return { kind: 'reject', code: 'FRAME_CHECKSUM', reason: 'bcc: mismatch' };
  }
  return { kind: 'frame', length: total };
}

/** Streaming framer: resynchronises on `##`; buffers at most one maximal frame. */
export function createGb32960Framer(): Framer {
  return createFramer({ maxLength: MAX_FRAME, isStart: (buf, i) => buf[i] === 0x23, probe });
}

// Decoding ----------------------------------------------------------------------------------

export interface Gb32960Header {
  cmd: number;
  response_flag: number;
  vin: string;
  encryption: number;
  data_length: number;
}

export interface Vehicle {
  vehicle_status: number;
  charging_status: number;
  run_mode: number;
  speed_kmh: number | null;
  odometer_km: number | null;
  pack_voltage_v: number | null;
  /** As on the wire: positive = discharge. */
  current_wire_a: number | null;
  /** Project convention: positive = charging. */
  current_a: number | null;
  soc_pct: number | null;
  dcdc_status: number;
  gear_hex: string;
  insulation_kohm: number | null;
  accelerator_pct: number | null;
  brake_pct: number | null;
}

export interface Motor {
  no: number;
  status: number;
  controller_temp_c: number | null;
  rpm: number | null;
  torque_nm: number | null;
  temp_c: number | null;
  input_v: number | null;
  bus_current_a: number | null;
}

export interface Extremes {
  max_cell_sub: number;
  max_cell_index: number;
  max_cell_v: number | null;
  min_cell_sub: number;
  min_cell_index: number;
  min_cell_v: number | null;
  max_temp_sub: number;
  max_temp_probe: number;
  max_temp_c: number | null;
  min_temp_sub: number;
  min_temp_probe: number;
  min_temp_c: number | null;
}

export interface Alarms {
  alarm_max_level: number;
  alarm_flags: number;
  alarm_flags_hex: string;
  /** RESS, drive motor, engine, other fault codes. */
  fault_codes: [number[], number[], number[], number[]];
}

export interface RessVoltages {
  no: number;
  voltage_v: number | null;
  current_wire_a: number | null;
  cells_total: number;
  frame_first_cell: number;
  frame_cell_count: number;
  cell_mv: number[];
}

export interface RessTemps {
  no: number;
  temps_c: (number | null)[];
}

export interface Report {
  time_local_gmt8: string;
  time_utc: string | null;
  info_types_in_order: string[];
  vehicle?: Vehicle;
  motors?: Motor[];
  fuel_cell_hex?: string;
  engine?: { status: number; crankshaft_rpm: number | null; fuel_rate: number | null };
  location?: { location_status: number; valid: boolean; lat: number; lon: number };
  extremes?: Extremes;
  alarms?: Alarms;
  ress_voltages?: RessVoltages[];
  ress_temps?: RessTemps[];
  /** The first block of an unknown or user-defined type onwards (parsing stops there). */
  custom_blocks_hex?: string;
}

export type Gb32960Message = Gb32960Header &
  (
    | {
        message: 'vehicle_login';
        time_local_gmt8: string;
        time_utc: string | null;
        login_seq: number;
        iccid: string;
        ress_count: number;
        ress_code_length: number;
        ress_codes: string[];
      }
    | {
        message: 'vehicle_logout';
        time_local_gmt8: string;
        time_utc: string | null;
        logout_seq: number;
      }
    | ({ message: 'realtime' | 'resend' } & Report)
    | { message: 'heartbeat' | 'time_calibration' }
    | { message: 'other'; data_hex: string }
  );

const TYPE_NAMES: Record<number, string> = {
  1: 'vehicle',
  2: 'motors',
  3: 'fuel_cell',
  4: 'engine',
  5: 'location',
  6: 'extreme',
  7: 'alarm',
  8: 'cell_voltages',
  9: 'cell_temps',
};

/** BYTE with 0xFE abnormal / 0xFF invalid as null. */
function b(r: ByteReader, o: number, offset = 0): number | null {
  const v = r.u8(o);
  return v >= 0xfe ? null : v + offset;
}
/** WORD with 0xFFFE / 0xFFFF as null, scaled. */
function w(r: ByteReader, o: number, scale: number, offset = 0, digits = 1): number | null {
  const v = r.u16be(o);
  return v >= 0xfffe ? null : round(v * scale + offset, digits);
}
function dw(r: ByteReader, o: number, scale: number, digits = 1): number | null {
  const v = r.u32be(o);
  return v >= 0xfffffffe ? null : round(v * scale, digits);
}

function time(r: ByteReader, o: number): { time_local_gmt8: string; time_utc: string | null } {
  const f = [0, 1, 2, 3, 4, 5].map((k) => r.u8(o + k)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const p = (n: number): string => String(n).padStart(2, '0');
  const text = `20${p(f[0])}-${p(f[1])}-${p(f[2])}T${p(f[3])}:${p(f[4])}:${p(f[5])}`;
  const ms = localToUtcMs(2000 + f[0], f[1], f[2], f[3], f[4], f[5], BEIJING);
  check(ms !== undefined, 'FRAME_MALFORMED', 'time', `${text} is not a date`);
  return { time_local_gmt8: text, time_utc: isoUtc(ms) };
}

function decodeReport(r: ByteReader): Report {
  const rep: Report = { ...time(r, 0), info_types_in_order: [] };
  let o = 6;
  const n = r.length;
  while (o < n) {
    const type = r.u8(o);
    const name = TYPE_NAMES[type];
    if (
      name === undefined ||
      (rep as unknown as Record<string, unknown>)[blockKey(type)] !== undefined
    ) {
      rep.info_types_in_order.push(`unknown_${type.toString(16).padStart(2, '0')}`);
      rep.custom_blocks_hex = hex(r.slice(o, n - o));
      break;
    }
    rep.info_types_in_order.push(name);
    o += 1;
    switch (type) {
      case 1: {
        const wire = w(r, o + 11, 0.1, -1000);
        rep.vehicle = {
          vehicle_status: r.u8(o),
          charging_status: r.u8(o + 1),
          run_mode: r.u8(o + 2),
          speed_kmh: w(r, o + 3, 0.1),
          odometer_km: dw(r, o + 5, 0.1),
          pack_voltage_v: w(r, o + 9, 0.1),
          current_wire_a: wire,
          current_a: wire === null ? null : round(-wire, 1) + 0,
          soc_pct: b(r, o + 13),
          dcdc_status: r.u8(o + 14),
          gear_hex: r
            .u8(o + 15)
            .toString(16)
            .padStart(2, '0'),
          insulation_kohm: w(r, o + 16, 1, 0, 0),
          accelerator_pct: b(r, o + 18),
          brake_pct: b(r, o + 19),
        };
        o += 20;
        break;
      }
      case 2: {
        const count = r.u8(o);
        const motors: Motor[] = [];
        for (let i = 0; i < count; i++) {
          const m = o + 1 + i * 12;
          motors.push({
            no: r.u8(m),
            status: r.u8(m + 1),
            controller_temp_c: b(r, m + 2, -40),
            rpm: w(r, m + 3, 1, -20000, 0),
            torque_nm: w(r, m + 5, 0.1, -2000),
            temp_c: b(r, m + 7, -40),
            input_v: w(r, m + 8, 0.1),
            bus_current_a: w(r, m + 10, 0.1, -1000),
          });
        }
        rep.motors = motors;
        o += 1 + count * 12;
        break;
      }
      case 3: {
        const probes = r.u16be(o + 6);
        const size = 8 + probes + 10;
        rep.fuel_cell_hex = hex(r.slice(o, size));
        o += size;
        break;
      }
      case 4:
        rep.engine = {
          status: r.u8(o),
          crankshaft_rpm: w(r, o + 1, 1, 0, 0),
          fuel_rate: w(r, o + 3, 0.01, 0, 2),
        };
        o += 5;
        break;
      case 5: {
        const st = r.u8(o);
        const lon = r.u32be(o + 1) / 1e6;
        const lat = r.u32be(o + 5) / 1e6;
        check(lat <= 90, 'FRAME_MALFORMED', 'latitude', `${lat} out of range`);
        check(lon <= 180, 'FRAME_MALFORMED', 'longitude', `${lon} out of range`);
        rep.location = {
          location_status: st,
          valid: (st & 1) === 0,
          lat: round(st & 2 ? -lat : lat, 6) + 0,
          lon: round(st & 4 ? -lon : lon, 6) + 0,
        };
        o += 9;
        break;
      }
      case 6:
        rep.extremes = {
          max_cell_sub: r.u8(o),
          max_cell_index: r.u8(o + 1),
          max_cell_v: w(r, o + 2, 0.001, 0, 3),
          min_cell_sub: r.u8(o + 4),
          min_cell_index: r.u8(o + 5),
          min_cell_v: w(r, o + 6, 0.001, 0, 3),
          max_temp_sub: r.u8(o + 8),
          max_temp_probe: r.u8(o + 9),
          max_temp_c: b(r, o + 10, -40),
          min_temp_sub: r.u8(o + 11),
          min_temp_probe: r.u8(o + 12),
          min_temp_c: b(r, o + 13, -40),
        };
        o += 14;
        break;
      case 7: {
        const flags = r.u32be(o + 1);
        let p = o + 5;
        const lists: number[][] = [];
        for (let k = 0; k < 4; k++) {
          const c = r.u8(p);
          const codes: number[] = [];
          for (let i = 0; i < c; i++) codes.push(r.u32be(p + 1 + 4 * i));
          lists.push(codes);
          p += 1 + 4 * c;
        }
        rep.alarms = {
          alarm_max_level: r.u8(o),
          alarm_flags: flags,
          alarm_flags_hex: flags.toString(16).padStart(8, '0'),
          fault_codes: lists as Alarms['fault_codes'],
        };
        o = p;
        break;
      }
      case 8: {
        const count = r.u8(o);
        let p = o + 1;
        const subs: RessVoltages[] = [];
        for (let k = 0; k < count; k++) {
          const cells = r.u8(p + 9);
          const total = r.u16be(p + 5);
          const first = r.u16be(p + 7);
          check(cells <= 200, 'FRAME_MALFORMED', 'frame_cell_count', `${cells}, max 200`);
          check(
            cells === 0 || (first >= 1 && first + cells - 1 <= total),
            'FRAME_MALFORMED',
            'frame_first_cell',
            `cells ${first}..${first + cells - 1} of ${total}`,
          );
          const mv: number[] = [];
          for (let i = 0; i < cells; i++) mv.push(r.u16be(p + 10 + 2 * i));
          subs.push({
            no: r.u8(p),
            voltage_v: w(r, p + 1, 0.1),
            current_wire_a: w(r, p + 3, 0.1, -1000),
            cells_total: total,
            frame_first_cell: first,
            frame_cell_count: cells,
            cell_mv: mv,
          });
          p += 10 + 2 * cells;
        }
        rep.ress_voltages = subs;
        o = p;
        break;
      }
      case 9: {
        const count = r.u8(o);
        let p = o + 1;
        const subs: RessTemps[] = [];
        for (let k = 0; k < count; k++) {
          const probes = r.u16be(p + 1);
          const t: (number | null)[] = [];
          for (let i = 0; i < probes; i++) t.push(b(r, p + 3 + i, -40));
          subs.push({ no: r.u8(p), temps_c: t });
          p += 3 + probes;
        }
        rep.ress_temps = subs;
        o = p;
        break;
      }
    }
  }
  return rep;
}

function blockKey(type: number): string {
  return (
    {
      1: 'vehicle',
      2: 'motors',
      3: 'fuel_cell_hex',
      4: 'engine',
      5: 'location',
      6: 'extremes',
      7: 'alarms',
      8: 'ress_voltages',
      9: 'ress_temps',
    } as Record<number, string>
  )[type]!;
}

/** Checks a whole frame and returns its header; throws BmsError naming the field. */
export function checkFrame(frame: Uint8Array): Gb32960Header {
  check(
    frame.length >= 2 && frame[0] === 0x23 && frame[1] === 0x23,
    'FRAME_NO_START',
    'start_bytes',
    `expected 0x2323 ("##")`,
  );
  check(frame.length >= 25, 'FRAME_TRUNCATED', 'header', `${frame.length} bytes, need 25`);
  const len = (frame[22]! << 8) | frame[23]!;
  check(
    frame.length >= 25 + len,
    'FRAME_TRUNCATED',
    'data_length',
    `incomplete: data length ${len} announced`,
  );
  check(
    frame.length === 25 + len,
    'FRAME_MALFORMED',
    'data_length',
    `${frame.length - 25 - len} bytes after the frame`,
  );
  const x = bcc(frame, 2, frame.length - 1);
  const sent = frame[frame.length - 1]!;
  check(
    x === sent,
    'FRAME_CHECKSUM',
    'bcc',
    `BCC 0x${sent.toString(16).padStart(2, '0')}, XOR of cmd..data is 0x${x.toString(16).padStart(2, '0')}`,
  );
  const vin = asciiText(frame.subarray(4, 21));
  check(vin !== undefined, 'FRAME_MALFORMED', 'vin', 'not ASCII');
  return {
    cmd: frame[2]!,
    response_flag: frame[3]!,
    vin,
    encryption: frame[21]!,
    data_length: len,
  };
}

/** Decodes one whole frame (as the framer emits it); throws BmsError naming the field. */
export function decodeGb32960(frame: Uint8Array): Gb32960Message {
  const h = checkFrame(frame);
  const data = frame.subarray(24, 24 + h.data_length);
  const r = new ByteReader(data);
  if (h.encryption !== 0x01) return { ...h, message: 'other', data_hex: hex(data) };
  try {
    switch (h.cmd) {
      case CMD.vehicle_login: {
        const iccid = asciiText(r.slice(8, 20));
        check(iccid !== undefined, 'FRAME_MALFORMED', 'iccid', 'not ASCII');
        const count = r.u8(28);
        const len = r.u8(29);
        const codes: string[] = [];
        for (let i = 0; i < count && len > 0; i++)
          codes.push(asciiText(r.slice(30 + i * len, len)) ?? hex(r.slice(30 + i * len, len)));
        return {
          ...h,
          message: 'vehicle_login',
          ...time(r, 0),
          login_seq: r.u16be(6),
          iccid,
          ress_count: count,
          ress_code_length: len,
          ress_codes: codes,
        };
      }
      case CMD.vehicle_logout:
        return { ...h, message: 'vehicle_logout', ...time(r, 0), logout_seq: r.u16be(6) };
      case CMD.realtime:
      case CMD.resend:
        return {
          ...h,
          message: h.cmd === CMD.realtime ? 'realtime' : 'resend',
          ...decodeReport(r),
        };
      case CMD.heartbeat:
        return { ...h, message: 'heartbeat' };
      case CMD.time_calibration:
        return { ...h, message: 'time_calibration' };
      default:
        return { ...h, message: 'other', data_hex: hex(data) };
    }
  } catch (e) {
    // A block that runs past the data unit: say which data unit it was.
    if (e instanceof Error && 'code' in e && e.code === 'FRAME_TRUNCATED') {
      fail(
        'FRAME_TRUNCATED',
        'data_unit',
        `command 0x${h.cmd.toString(16).padStart(2, '0')}: ${e.message}`,
      );
    }
    throw e;
  }
}

/**
 * The battery part of a report as a BMS reading: pack voltage, current (+ = charging), SOC,
 * the cell list when this frame carries all of it (a slice of a longer list, or an all-zero
 * list, is left out: raw keeps the slice), probe temperatures, and the VIN in raw.
 */
export function toReading(m: Extract<Gb32960Message, { message: 'realtime' | 'resend' }>): Reading {
  const r: Reading = { raw: { vin: m.vin, time_utc: m.time_utc } };
  const v = m.vehicle;
  if (v?.pack_voltage_v != null) r.voltage_v = v.pack_voltage_v;
  if (v?.current_a != null) r.current_a = v.current_a;
  if (v?.soc_pct != null) r.soc_pct = v.soc_pct;
  const sub = m.ress_voltages?.[0];
  if (sub) {
    const whole = sub.frame_first_cell === 1 && sub.frame_cell_count === sub.cells_total;
    const empty = sub.cell_mv.every((x) => x === 0);
    if (whole && !empty && m.ress_voltages!.length === 1) {
      r.cell_mv = sub.cell_mv;
      r.cell_count = sub.cells_total;
    } else {
      r.raw!.cells_total = sub.cells_total;
      r.raw!.frame_first_cell = sub.frame_first_cell;
      r.raw!.cell_mv_slice = sub.cell_mv;
    }
  }
  const temps = m.ress_temps?.flatMap((t) => t.temps_c);
  if (temps && temps.length > 0 && temps.every((t) => t !== null)) r.temps_c = temps as number[];
  return completeSnapshot(r);
}

// Encoding ----------------------------------------------------------------------------------

export function encodeGb32960Frame(
  h: Omit<Gb32960Header, 'data_length'>,
  data: Uint8Array,
): Uint8Array {
  check(/^[\x20-\x7e]{17}$/.test(h.vin), 'INVALID_ARGUMENT', 'vin', '17 ASCII characters');
  check(data.length <= 0xffff, 'INVALID_ARGUMENT', 'data', 'longer than 65,535 bytes');
  const out = new Uint8Array(25 + data.length);
  out.set([0x23, 0x23, h.cmd & 0xff, h.response_flag & 0xff], 0);
  out.set(asciiBytes(h.vin, 'vin'), 4);
  out[21] = h.encryption & 0xff;
  out[22] = data.length >> 8;
  out[23] = data.length & 0xff;
  out.set(data, 24);
  out[out.length - 1] = bcc(out, 2, out.length - 1);
  return out;
}

export const RESPONSE = { success: 0x01, error: 0x02, vin_duplicate: 0x03, command: 0xfe } as const;

function timeBytes(ms: number): number[] {
  return utcToLocalFields(ms, BEIJING);
}

export interface ResponseOptions {
  /** Also answer 0x02/0x03 reports (per device: the standard is unclear, EMQX does not). */
  ackReports?: boolean;
  result?: number;
}

/**
 * The reply to a terminal frame: same command and VIN, response flag (success by default),
 * no encryption; the data unit is the received one with its time replaced by the platform's
 * (login, logout), only the time (time calibration, acked reports), or empty (heartbeat).
 * null for frames that need no reply.
 */
export function encodeResponse(
  frame: Uint8Array,
  nowMs: number,
  opts: ResponseOptions = {},
): Uint8Array | null {
  const h = checkFrame(frame);
  if (h.response_flag !== RESPONSE.command) return null;
  const data = frame.subarray(24, 24 + h.data_length);
  const head = {
    cmd: h.cmd,
    response_flag: opts.result ?? RESPONSE.success,
    vin: h.vin,
    encryption: 0x01,
  };
  switch (h.cmd) {
    case CMD.vehicle_login:
    case CMD.vehicle_logout:
    case CMD.platform_login:
    case CMD.platform_logout: {
      const out = Uint8Array.from(data);
      if (out.length >= 6) out.set(timeBytes(nowMs), 0);
      return encodeGb32960Frame(head, out);
    }
    case CMD.heartbeat:
      return encodeGb32960Frame(head, new Uint8Array(0));
    case CMD.time_calibration:
      return encodeGb32960Frame(head, Uint8Array.from(timeBytes(nowMs)));
    case CMD.realtime:
    case CMD.resend:
      return opts.ackReports
        ? encodeGb32960Frame(head, Uint8Array.from(data.subarray(0, 6)))
        : null;
    default:
      return null;
  }
}

// Terminal side (simulator, tests) ---------------------------------------------------------

export function encodeLogin(vin: string, timeMs: number, seq: number, iccid: string): Uint8Array {
  check(/^[0-9A-Za-z]{20}$/.test(iccid), 'INVALID_ARGUMENT', 'iccid', '20 letters or digits');
  check(
    Number.isInteger(seq) && seq >= 0 && seq <= 0xffff,
    'INVALID_ARGUMENT',
    'login_seq',
    '0..65535',
  );
  const data = Uint8Array.from([
    ...timeBytes(timeMs),
    seq >> 8,
    seq & 0xff,
    ...asciiBytes(iccid, 'iccid'),
    1,
    0,
  ]);
  return encodeGb32960Frame(
    { cmd: CMD.vehicle_login, response_flag: RESPONSE.command, vin, encryption: 1 },
    data,
  );
}

export interface BatteryReportInput {
  time_ms: number;
  pack_voltage_v: number;
  /** + = charging (project convention); sent as the standard's discharge-positive value. */
  current_a: number;
  soc_pct: number;
  cell_mv: readonly number[];
  temps_c: readonly number[];
  lat?: number;
  lon?: number;
  /** General alarm flags (§4.2): an alarm block (0x07) with no fault code lists is added. */
  alarm_flags?: number;
}

/** A real-time report with vehicle, location, cell-voltage and probe-temperature blocks. */
export function encodeBatteryReport(vin: string, p: BatteryReportInput): Uint8Array {
  check(p.cell_mv.length <= 200, 'INVALID_ARGUMENT', 'cell_mv', 'at most 200 cells per frame');
  check(
    p.temps_c.every((t) => t >= -40 && t <= 210),
    'INVALID_ARGUMENT',
    'temps_c',
    '-40..210',
  );
  const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
  const u32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  const volt = Math.round(p.pack_voltage_v * 10);
  const cur = Math.round((-p.current_a + 1000) * 10);
  check(cur >= 0 && cur <= 20000, 'INVALID_ARGUMENT', 'current_a', '-1000..1000');
  const out: number[] = [...timeBytes(p.time_ms)];
  out.push(
    0x01,
    1,
    p.current_a > 0 ? 1 : 3,
    1,
    ...u16(0),
    ...u32(0),
    ...u16(volt),
    ...u16(cur),
    p.soc_pct,
    1,
    0,
    ...u16(0),
    0,
    0,
  );
  if (p.lat !== undefined && p.lon !== undefined) {
    const st = (p.lat < 0 ? 2 : 0) | (p.lon < 0 ? 4 : 0);
    out.push(
      5,
      st,
      ...u32(Math.round(Math.abs(p.lon) * 1e6)),
      ...u32(Math.round(Math.abs(p.lat) * 1e6)),
    );
  }
  if (p.alarm_flags !== undefined)
    out.push(7, p.alarm_flags === 0 ? 0 : 1, ...u32(p.alarm_flags >>> 0), 0, 0, 0, 0);
  out.push(
    8,
    1,
    1,
    ...u16(volt),
    ...u16(cur),
    ...u16(p.cell_mv.length),
    ...u16(1),
    p.cell_mv.length,
  );
  for (const mv of p.cell_mv) out.push(...u16(mv));
  out.push(9, 1, 1, ...u16(p.temps_c.length), ...p.temps_c.map((t) => t + 40));
  return encodeGb32960Frame(
    { cmd: CMD.realtime, response_flag: RESPONSE.command, vin, encryption: 1 },
    Uint8Array.from(out),
  );
}
