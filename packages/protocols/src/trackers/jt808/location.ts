/**
 * The 0x0200 location body (also inside 0x0201 and each 0x0704 item): the 28-byte basic block
 * as a field table, then the additional items. Standard items and the vendor items seen in
 * the vectors are decoded; every item not decoded is kept raw in `items`.
 */
import { ByteReader } from '../../util/bytes.js';
import {
  bcdDigits,
  check,
  digitsToBcd,
  hex,
  isoUtc,
  localToUtcMs,
  round,
  utcToLocalFields,
} from '../common.js';

/** Standard alarm bits (JT/T 808-2013 table; bits 15-17 are vendor-defined in practice). */
export const ALARM_BITS: readonly (string | undefined)[] = [
  'sos',
  'overspeed',
  'fatigue',
  'danger_warning',
  'gnss_fault',
  'gnss_antenna_cut',
  'gnss_antenna_short',
  'power_low',
  'power_cut',
  'lcd_fault',
  'tts_fault',
  'camera_fault',
  'ic_card_fault',
  'overspeed_warning',
  'fatigue_warning',
  'alarm_bit_15',
  'alarm_bit_16',
  'alarm_bit_17',
  'driving_overtime',
  'parking_overtime',
  'geofence',
  'route',
  'route_time',
  'route_deviation',
  'vss_fault',
  'fuel_abnormal',
  'stolen',
  'illegal_ignition',
  'movement',
  'collision',
  'rollover',
  'door',
];

export interface Jt808Item {
  id: number;
  value_hex: string;
}

export interface Jt808Location {
  alarm_flags: number;
  status_flags: number;
  alarm_flags_hex: string;
  status_flags_hex: string;
  /** Names of the standard alarm bits that are set. */
  alarms: string[];
  /** Alarms found in vendor items (0xEB masks): `vibration`, `removing`, `power_off`. */
  vendor_alarms: string[];
  /** The first alarm of `alarms`, else of `vendor_alarms`, else null. */
  alarm: string | null;
  /** Status bit 1. A fix at exactly (0, 0) is not a fix either: keep it out of tracks. */
  valid: boolean;
  acc_on: boolean;
  lat: number;
  lon: number;
  altitude_m: number;
  speed_kmh: number;
  course_deg: number;
  /** Device time as sent (BCD YYMMDDhhmmss, device zone: GMT+8 by the standard). */
  time_bcd: string;
  /** The device time in UTC with the zone of the decode options; null when all zero. */
  time_utc: string | null;
  mileage_km?: number;
  fuel_l?: number;
  vdr_speed_kmh?: number;
  io_status?: number;
  rssi?: number;
  satellites?: number;
  battery_pct?: number;
  battery_v?: number;
  charging?: boolean;
  iccid?: string;
  imei?: string;
  /** G10LS vendor item 0xF3 (length 1): armed (1) / disarmed (0). */
  armed?: boolean;
  /** Vendor zone text (0xEB ASCII, e.g. "UTC+08:00"). */
  timezone_item?: string;
  /** Additional items not decoded above (kept raw, in order). */
  items: Jt808Item[];
}

export interface LocationOptions {
  /** Device clock zone, minutes east of UTC (default 480, the standard's GMT+8). */
  tzOffsetMinutes?: number;
}

function bcdTime(r: ByteReader, o: number): string {
  const digits = bcdDigits(r.slice(o, 6));
  check(digits !== undefined, 'FRAME_MALFORMED', 'time', 'not BCD');
  return digits;
}

function timeUtc(bcd: string, tz: number): string | null {
  if (/^0+$/.test(bcd)) return null;
  const n = (i: number): number => Number(bcd.slice(i, i + 2));
  const ms = localToUtcMs(2000 + n(0), n(2), n(4), n(6), n(8), n(10), tz);
  check(ms !== undefined, 'FRAME_MALFORMED', 'time', `${bcd} is not a date`);
  return isoUtc(ms);
}

/** 0xEB: either vendor ASCII (a zone) or a container of {len WORD (type+data), type WORD, data}. */
function decodeEb(v: Uint8Array, loc: Jt808Location): boolean {
  if (v.length > 0 && v.every((c) => c >= 0x20 && c < 0x7f)) {
    loc.timezone_item = String.fromCharCode(...v);
    return true;
  }
  const r = new ByteReader(v);
  // Validate the container layout before taking anything from it.
  let o = 0;
  while (o < v.length) {
    if (o + 4 > v.length) return false;
    const len = r.u16be(o);
    if (len < 2 || o + 2 + len > v.length) return false;
    o += 2 + len;
  }
  o = 0;
  while (o < v.length) {
    const len = r.u16be(o);
    const type = r.u16be(o + 2);
    const data = r.slice(o + 4, len - 2);
    if (type === 0x002d && data.length === 2) loc.battery_v = round(r.u16be(o + 4) / 1000, 3);
    else if (type === 0x00a8 && data.length >= 1) loc.battery_pct = data[0]!;
    else if (type === 0x00b2 && data.length === 10) {
      const d = bcdDigits(data);
      if (d !== undefined) loc.iccid = d;
    } else if (type === 0x00c5 && data.length === 4) {
      if ((r.u32be(o + 4) & 0x40) === 0) loc.vendor_alarms.push('vibration');
    } else if (type === 0x0089 && data.length === 4) {
      const m = r.u32be(o + 4);
      if ((m & 0x1) === 0) loc.vendor_alarms.push('power_off');
      if ((m & 0x1000) === 0) loc.vendor_alarms.push('removing');
    }
    o += 2 + len;
  }
  return true;
}

/** Decodes one item; false when it is not understood (then it is kept raw). */
function decodeItem(id: number, v: Uint8Array, loc: Jt808Location): boolean {
  const r = new ByteReader(v);
  switch (id) {
    case 0x01:
      if (v.length !== 4) return false;
      loc.mileage_km = round(r.u32be(0) / 10, 1);
      return true;
    case 0x02:
      if (v.length !== 2) return false;
      loc.fuel_l = round(r.u16be(0) / 10, 1);
      return true;
    case 0x03:
      if (v.length !== 2) return false;
      loc.vdr_speed_kmh = round(r.u16be(0) / 10, 1);
      return true;
    case 0x2a:
      if (v.length !== 2) return false;
      loc.io_status = r.u16be(0);
      return true;
    case 0x30:
      if (v.length !== 1) return false;
      loc.rssi = v[0]!;
      return true;
    case 0x31:
      if (v.length !== 1) return false;
      loc.satellites = v[0]!;
      return true;
    case 0xe1: // vendor (Traccar): length 1 = battery %
      if (v.length !== 1) return false;
      loc.battery_pct = v[0]!;
      return true;
    case 0xe3: // vendor: reserved, battery %, battery WORD 0.01 V, 2 bytes
      if (v.length !== 6) return false;
      loc.battery_pct = v[1]!;
      loc.battery_v = round(r.u16be(2) / 100, 2);
      return true;
    case 0xe4: // vendor: charge state (0 = charging), battery %
      if (v.length !== 2) return false;
      loc.charging = v[0] === 0;
      loc.battery_pct = v[1]!;
      return true;
    case 0xeb:
      return decodeEb(v, loc);
    case 0xf3: // vendor (G10LS): armed 1 / disarmed 0
      if (v.length !== 1 || v[0]! > 1) return false;
      loc.armed = v[0] === 1;
      return true;
    case 0xf6: {
      // vendor (Traccar): IMEI as BCD[8] with a leading 0 nibble
      if (v.length !== 8) return false;
      const d = bcdDigits(v);
      if (d === undefined) return false;
      loc.imei = d.replace(/^0/, '');
      return true;
    }
    default:
      return false;
  }
}

export function decodeLocation(body: Uint8Array, opts: LocationOptions = {}): Jt808Location {
  const tz = opts.tzOffsetMinutes ?? 480;
  const r = new ByteReader(body);
  check(body.length >= 28, 'FRAME_TRUNCATED', 'location', `${body.length} bytes, need 28`);
  const alarmFlags = r.u32be(0);
  const status = r.u32be(4);
  const time_bcd = bcdTime(r, 22);
  const alarms: string[] = [];
  for (let b = 0; b < 32; b++) if (alarmFlags & (2 ** b)) alarms.push(ALARM_BITS[b]!);
  const loc: Jt808Location = {
    alarm_flags: alarmFlags,
    status_flags: status,
    alarm_flags_hex: alarmFlags.toString(16).padStart(8, '0'),
    status_flags_hex: status.toString(16).padStart(8, '0'),
    alarms,
    vendor_alarms: [],
    alarm: null,
    valid: (status & 0x2) !== 0,
    acc_on: (status & 0x1) !== 0,
    lat: round((r.u32be(8) / 1e6) * (status & 0x4 ? -1 : 1), 6),
    lon: round((r.u32be(12) / 1e6) * (status & 0x8 ? -1 : 1), 6),
    altitude_m: r.i16be(16),
    speed_kmh: round(r.u16be(18) / 10, 1),
    course_deg: r.u16be(20),
    time_bcd,
    time_utc: timeUtc(time_bcd, tz),
    items: [],
  };
  check(Math.abs(loc.lat) <= 90, 'FRAME_MALFORMED', 'latitude', `${loc.lat} out of range`);
  check(Math.abs(loc.lon) <= 180, 'FRAME_MALFORMED', 'longitude', `${loc.lon} out of range`);
  let o = 28;
  while (o < body.length) {
    check(o + 2 <= body.length, 'FRAME_TRUNCATED', 'additional_item', `item header cut at ${o}`);
    const id = body[o]!;
    const len = body[o + 1]!;
    check(
      o + 2 + len <= body.length,
      'FRAME_TRUNCATED',
      'additional_item',
      `item 0x${id.toString(16)} length ${len} runs past the body`,
    );
    const v = body.subarray(o + 2, o + 2 + len);
    if (!decodeItem(id, v, loc)) loc.items.push({ id, value_hex: hex(v) });
    o += 2 + len;
  }
  loc.alarm = loc.alarms[0] ?? loc.vendor_alarms[0] ?? null;
  return loc;
}

/** What a terminal (or the simulator) puts in a 0x0200 body. */
export interface LocationInput {
  alarm_flags?: number;
  /** Status bits other than positioned/south/west (ACC is bit 0). */
  status_flags?: number;
  valid: boolean;
  lat: number;
  lon: number;
  altitude_m?: number;
  speed_kmh?: number;
  course_deg?: number;
  /** Epoch milliseconds. */
  time_ms: number;
  mileage_km?: number;
  rssi?: number;
  satellites?: number;
  /** G10LS armed state, sent as vendor item 0xF3 (1 armed, 0 disarmed). */
  armed?: boolean;
  /** Extra raw items appended as they are (e.g. vendor battery items). */
  items?: { id: number; value: Uint8Array }[];
}

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}
function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

export function encodeLocation(p: LocationInput, opts: LocationOptions = {}): Uint8Array {
  check(Math.abs(p.lat) <= 90, 'INVALID_ARGUMENT', 'lat', 'out of range');
  check(Math.abs(p.lon) <= 180, 'INVALID_ARGUMENT', 'lon', 'out of range');
  check(Number.isFinite(p.time_ms), 'INVALID_ARGUMENT', 'time_ms', 'not a time');
  let status = (p.status_flags ?? 0) & ~0xe;
  if (p.valid) status |= 0x2;
  if (p.lat < 0) status |= 0x4;
  if (p.lon < 0) status |= 0x8;
  const t = utcToLocalFields(p.time_ms, opts.tzOffsetMinutes ?? 480)
    .map((n) => String(n).padStart(2, '0'))
    .join('');
  const out: number[] = [
    ...u32(p.alarm_flags ?? 0),
    ...u32(status >>> 0),
    ...u32(Math.round(Math.abs(p.lat) * 1e6)),
    ...u32(Math.round(Math.abs(p.lon) * 1e6)),
    ...u16((p.altitude_m ?? 0) & 0xffff),
    ...u16(Math.round((p.speed_kmh ?? 0) * 10)),
    ...u16(p.course_deg ?? 0),
    ...digitsToBcd(t, 6, 'time_ms'),
  ];
  if (p.mileage_km !== undefined) out.push(0x01, 4, ...u32(Math.round(p.mileage_km * 10)));
  if (p.rssi !== undefined) out.push(0x30, 1, p.rssi & 0xff);
  if (p.satellites !== undefined) out.push(0x31, 1, p.satellites & 0xff);
  if (p.armed !== undefined) out.push(0xf3, 1, p.armed ? 1 : 0);
  for (const it of p.items ?? []) {
    check(it.value.length <= 255, 'INVALID_ARGUMENT', 'items', 'item longer than 255 bytes');
    out.push(it.id & 0xff, it.value.length, ...it.value);
  }
  return Uint8Array.from(out);
}
