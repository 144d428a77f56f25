/**
 * GT06 / Concox packets: typed decoding of login, GPS (0x12/0x22), status/heartbeat (0x13),
 * alarms (0x16/0x26/0x27), information (0x94, 79 79), command replies (0x15/0x21), time
 * request (0x8A); encoders for the acks the protocol requires, the 0x8A time reply, the 0x80
 * online command, and the terminal side (simulator).
 */
import { ByteReader } from '../../util/bytes.js';
import {
  asciiBytes,
  asciiText,
  bcdDigits,
  bcdDigitsFPadded,
  check,
  digitsToBcd,
  hex,
  isoUtc,
  localToUtcMs,
  round,
  utcToLocalFields,
} from '../common.js';
import { checkFrame, wrapFrame } from './frame.js';

export const PROTOCOL = {
  login: 0x01,
  location_gt06: 0x12,
  heartbeat: 0x13,
  command_reply: 0x15,
  alarm_gt06: 0x16,
  command_reply_long: 0x21,
  location: 0x22,
  alarm: 0x26,
  alarm_fence: 0x27,
  command: 0x80,
  time_request: 0x8a,
  info: 0x94,
} as const;

/** Alarm byte of 0x16/0x26/0x27 (VL03 table, protocols.md 2.9). */
export const ALARM_CODES: Readonly<Record<number, string>> = {
  0x01: 'sos',
  0x02: 'power_cut',
  0x03: 'vibration',
  0x04: 'geofence_enter',
  0x05: 'geofence_exit',
  0x06: 'overspeed',
  0x09: 'tow',
  0x0a: 'gps_blind_enter',
  0x0b: 'gps_blind_leave',
  0x0c: 'power_on',
  0x0e: 'low_battery_external',
  0x0f: 'low_battery_protect',
  0x10: 'sim_changed',
  0x11: 'power_off',
  0x13: 'tamper',
  0x14: 'door',
  0x18: 'removing',
  0x19: 'low_battery',
  0x23: 'fall',
  0x2c: 'collision',
  0x32: 'removing',
  0xfe: 'acc_on',
  0xff: 'acc_off',
};

export interface Gt06Gps {
  /** Device time in UTC (GT06 default; see the zone option); null when the date is all zero. */
  time_utc: string | null;
  satellites: number;
  lat: number;
  lon: number;
  speed_kmh: number;
  course_deg: number;
  course_status_hex: string;
  valid: boolean;
  /** Bits 14/15 of course/status (Traccar reading, uncertain): present only when bit 14 is set. */
  acc_on?: boolean;
}

export interface Gt06Lbs {
  mcc: number;
  mnc: number;
  lac: number;
  cell_id: number;
}

export interface Gt06Status {
  terminal_info_hex: string;
  armed: boolean;
  acc_on: boolean;
  charging: boolean;
  gps_fixed: boolean;
  oil_cut: boolean;
  /** 0..6 scale on most models (a % on some): raw. */
  voltage_level: number;
  /** 0..4 on most models (other ranges seen): raw. */
  gsm_level: number;
}

interface Base {
  protocol: number;
  serial: number;
  /** The length field disagreed with the bytes; accepted on a correct CRC. */
  length_byte_mismatch: boolean;
}

export type Gt06Message = Base &
  (
    | {
        message: 'login';
        imei: string;
        type_code?: string;
        tz_lang_hex?: string;
        timezone?: string;
        language_bits?: number;
      }
    | ({ message: 'location' } & Gt06Gps &
        Gt06Lbs & {
          acc_on?: boolean;
          upload_mode?: number;
          reupload?: boolean;
          mileage_m?: number;
          extra_hex?: string;
        })
    | ({ message: 'heartbeat' } & Gt06Status & {
          alarm_code: string;
          language: number;
          extra_hex?: string;
        })
    | ({ message: 'alarm' } & Gt06Gps &
        Gt06Lbs &
        Gt06Status & { alarm_code: string; alarm: string | null; language: number; fence?: number })
    | {
        message: 'info';
        info_type: number;
        ext_voltage_v?: number;
        imei?: string;
        imsi?: string;
        iccid?: string;
        data_hex: string;
      }
    | { message: 'command_reply'; server_flag_hex: string; text: string; language?: number }
    | {
        message: 'command';
        direction: 'server_to_terminal';
        server_flag_hex: string;
        command: string;
      }
    | { message: 'time_request' }
    | { message: 'unknown'; content_hex: string }
  );

export interface DecodeGt06Options {
  /** Device clock zone, minutes east of UTC (default 0: the GT06 documents say UTC). */
  tzOffsetMinutes?: number;
}

function gps(r: ByteReader, o: number, tz: number): Gt06Gps {
  const [y, mo, d, h, mi, s] = [0, 1, 2, 3, 4, 5].map((k) => r.u8(o + k)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  let time_utc: string | null = null;
  if (y + mo + d + h + mi + s !== 0) {
    const ms = localToUtcMs(2000 + y, mo, d, h, mi, s, tz);
    check(
      ms !== undefined,
      'FRAME_MALFORMED',
      'date_time',
      `${[y, mo, d, h, mi, s].join(',')} is not a date`,
    );
    time_utc = isoUtc(ms);
  }
  const cs = r.u16be(o + 16);
  const lat = r.u32be(o + 7) / 1_800_000;
  const lon = r.u32be(o + 11) / 1_800_000;
  check(lat <= 90, 'FRAME_MALFORMED', 'latitude', `${lat} out of range`);
  check(lon <= 180, 'FRAME_MALFORMED', 'longitude', `${lon} out of range`);
  const g: Gt06Gps = {
    time_utc,
    satellites: r.u8(o + 6) & 0x0f,
    lat: round(cs & 0x400 ? lat : -lat, 6),
    lon: round(cs & 0x800 ? -lon : lon, 6),
    speed_kmh: r.u8(o + 15),
    course_deg: cs & 0x3ff,
    course_status_hex: cs.toString(16).padStart(4, '0'),
    valid: (cs & 0x1000) !== 0,
  };
  if (cs & 0x4000) g.acc_on = (cs & 0x8000) !== 0;
  return g;
}

function lbs(r: ByteReader, o: number): Gt06Lbs {
  return {
    mcc: r.u16be(o),
    mnc: r.u8(o + 2),
    lac: r.u16be(o + 3),
    cell_id: (r.u8(o + 5) << 16) | r.u16be(o + 6),
  };
}

function status(r: ByteReader, o: number): Gt06Status {
  const ti = r.u8(o);
  return {
    terminal_info_hex: ti.toString(16).padStart(2, '0'),
    armed: (ti & 0x01) !== 0,
    acc_on: (ti & 0x02) !== 0,
    charging: (ti & 0x04) !== 0,
    gps_fixed: (ti & 0x40) !== 0,
    oil_cut: (ti & 0x80) !== 0,
    voltage_level: r.u8(o + 1),
    gsm_level: r.u8(o + 2),
  };
}

function zoneText(tl: number): string {
  const v = tl >> 4;
  const sign = tl & 0x08 ? '-' : '+';
  return `${sign}${String(Math.floor(v / 100)).padStart(2, '0')}:${String(v % 100).padStart(2, '0')}`;
}

function need(content: Uint8Array, n: number, what: string): void {
  check(content.length >= n, 'FRAME_TRUNCATED', what, `content ${content.length} bytes, need ${n}`);
}

/** Decodes one whole frame (as the framer emits it); throws BmsError naming the field. */
export function decodeGt06(frame: Uint8Array, opts: DecodeGt06Options = {}): Gt06Message {
  const tz = opts.tzOffsetMinutes ?? 0;
  const shape = checkFrame(frame);
  const protocol = frame[shape.protoAt]!;
  const content = frame.subarray(shape.protoAt + 1, shape.length - 6);
  const serial = (frame[shape.length - 6]! << 8) | frame[shape.length - 5]!;
  const base: Base = { protocol, serial, length_byte_mismatch: shape.lengthMismatch };
  const r = new ByteReader(content);
  switch (protocol) {
    case PROTOCOL.login: {
      need(content, 8, 'terminal_id');
      const d = bcdDigits(content.subarray(0, 8));
      check(d !== undefined, 'FRAME_MALFORMED', 'terminal_id', 'not BCD');
      const m: Gt06Message = { ...base, message: 'login', imei: d.replace(/^0/, '') };
      if (content.length >= 10) m.type_code = hex(content.subarray(8, 10));
      if (content.length >= 12) {
        const tl = r.u16be(10);
        m.tz_lang_hex = tl.toString(16).padStart(4, '0');
        m.timezone = zoneText(tl);
        m.language_bits = tl & 0x03;
      }
      return m;
    }
    case PROTOCOL.location_gt06:
    case PROTOCOL.location: {
      need(content, 26, 'lbs');
      const m: Gt06Message = { ...base, message: 'location', ...gps(r, 0, tz), ...lbs(r, 18) };
      let rest = content.subarray(26);
      if (protocol === PROTOCOL.location && rest.length >= 3) {
        m.acc_on = rest[0] === 1;
        m.upload_mode = rest[1]!;
        m.reupload = rest[2] === 1;
        if (rest.length >= 7) m.mileage_m = new ByteReader(rest).u32be(3);
        rest = rest.subarray(rest.length >= 7 ? 7 : 3);
      }
      if (rest.length > 0) m.extra_hex = hex(rest);
      return m;
    }
    case PROTOCOL.heartbeat: {
      need(content, 5, 'status');
      const m: Gt06Message = {
        ...base,
        message: 'heartbeat',
        ...status(r, 0),
        alarm_code: r.u8(3).toString(16).padStart(2, '0'),
        language: r.u8(4),
      };
      if (content.length > 5) m.extra_hex = hex(content.subarray(5));
      return m;
    }
    case PROTOCOL.alarm_gt06:
    case PROTOCOL.alarm:
    case PROTOCOL.alarm_fence: {
      need(content, 19, 'lbs_length');
      const lbsLen = r.u8(18);
      check(
        lbsLen === 0 || lbsLen >= 9,
        'FRAME_MALFORMED',
        'lbs_length',
        `${lbsLen}, expected 9 (or 0)`,
      );
      const so = 18 + Math.max(lbsLen, 1);
      need(content, so + 5 + (protocol === PROTOCOL.alarm_fence ? 1 : 0), 'status');
      const code = r.u8(so + 3);
      const m: Gt06Message = {
        ...base,
        message: 'alarm',
        ...gps(r, 0, tz),
        ...(lbsLen >= 9 ? lbs(r, 19) : { mcc: 0, mnc: 0, lac: 0, cell_id: 0 }),
        ...status(r, so),
        alarm_code: code.toString(16).padStart(2, '0'),
        alarm:
          code === 0 ? null : (ALARM_CODES[code] ?? `alarm_${code.toString(16).padStart(2, '0')}`),
        language: r.u8(so + 4),
      };
      if (protocol === PROTOCOL.alarm_fence) m.fence = r.u8(so + 5);
      return m;
    }
    case PROTOCOL.info: {
      need(content, 1, 'info_type');
      const type = r.u8(0);
      const data = content.subarray(1);
      const m: Extract<Gt06Message, { message: 'info' }> = {
        ...base,
        message: 'info',
        info_type: type,
        data_hex: hex(data),
      };
      if ((type === 0x00 || type === 0x0b) && data.length === 2) {
        m.ext_voltage_v = round(r.u16be(1) / 100, 2);
      } else if (type === 0x0a && data.length === 26) {
        const imei = bcdDigits(data.subarray(0, 8));
        const imsi = bcdDigits(data.subarray(8, 16));
        const iccid = bcdDigitsFPadded(data.subarray(16, 26));
        if (imei !== undefined) m.imei = imei.replace(/^0/, '');
        if (imsi !== undefined) m.imsi = imsi.replace(/^0/, '');
        if (iccid !== undefined) m.iccid = iccid;
      }
      return m;
    }
    case PROTOCOL.command_reply: {
      need(content, 5, 'command_length');
      const n = r.u8(0);
      check(
        n >= 4 && 1 + n <= content.length,
        'FRAME_MALFORMED',
        'command_length',
        `${n} does not fit the content`,
      );
      const m: Gt06Message = {
        ...base,
        message: 'command_reply',
        server_flag_hex: hex(r.slice(1, 4)),
        text: asciiText(r.slice(5, n - 4)) ?? hex(r.slice(5, n - 4)),
      };
      if (content.length >= 1 + n + 2) m.language = r.u16be(1 + n);
      return m;
    }
    case PROTOCOL.command_reply_long: {
      need(content, 5, 'encoding');
      const body = r.slice(5, content.length - 5);
      return {
        ...base,
        message: 'command_reply',
        server_flag_hex: hex(r.slice(0, 4)),
        text: r.u8(4) === 1 ? (asciiText(body) ?? hex(body)) : hex(body),
      };
    }
    case PROTOCOL.command: {
      need(content, 5, 'command_length');
      const n = r.u8(0);
      check(
        n >= 4 && 1 + n <= content.length,
        'FRAME_MALFORMED',
        'command_length',
        `${n} does not fit the content`,
      );
      const text = r.slice(5, n - 4);
      return {
        ...base,
        message: 'command',
        direction: 'server_to_terminal',
        server_flag_hex: hex(r.slice(1, 4)),
        command: asciiText(text) ?? hex(text),
      };
    }
    case PROTOCOL.time_request:
      return { ...base, message: 'time_request' };
    default:
      return { ...base, message: 'unknown', content_hex: hex(content) };
  }
}

// ---------------------------------------------------------------------------------------
// Encoding

/** The plain ack: 78 78 05 <protocol> <serial> CRC 0D 0A. */
export function encodeAck(protocol: number, serial: number): Uint8Array {
  return wrapFrame(protocol, new Uint8Array(0), serial);
}

/** 0x8A reply: the current UTC time (YY MM DD hh mm ss) with the request's serial. */
export function encodeTimeResponse(nowMs: number, serial: number): Uint8Array {
  return wrapFrame(PROTOCOL.time_request, Uint8Array.from(utcToLocalFields(nowMs, 0)), serial);
}

/**
 * 0x80 online command: length (4 + text), server flag DWORD (echoed in the reply), ASCII
 * command in the vendor's SMS syntax (e.g. `Relay,1#`), optional language WORD.
 */
export function encodeCommand(
  command: string,
  serverFlag: number,
  serial: number,
  language?: number,
): Uint8Array {
  const text = asciiBytes(command, 'command');
  check(text.length > 0 && text.length <= 250, 'INVALID_ARGUMENT', 'command', '1..250 characters');
  check(
    Number.isInteger(serverFlag) && serverFlag >= 0 && serverFlag <= 0xffffffff,
    'INVALID_ARGUMENT',
    'server_flag',
    'a DWORD',
  );
  const out = [
    4 + text.length,
    serverFlag >>> 24,
    (serverFlag >>> 16) & 0xff,
    (serverFlag >>> 8) & 0xff,
    serverFlag & 0xff,
    ...text,
  ];
  if (language !== undefined) out.push(language >> 8, language & 0xff);
  return wrapFrame(PROTOCOL.command, Uint8Array.from(out), serial);
}

/**
 * The 0x80 command texts we send for the platform's instructions (docs/trackers.md
 * "Instructions"). GT06 commands are the vendor's SMS syntax and differ between makers and
 * firmware; these are our choice: the common Concox words `DWXX#` (locate), `RESET#`
 * (restart) and `FACTORY#` (factory reset), and `DEFENSE,1#` / `DEFENSE,0#` for arm / disarm
 * (vendor-specific everywhere). A model with other words needs its own table.
 */
export const COMMAND_WORDS = {
  locate: 'DWXX#',
  restart: 'RESET#',
  factory_reset: 'FACTORY#',
  arm: 'DEFENSE,1#',
  disarm: 'DEFENSE,0#',
} as const;

/** Packets the protocol requires an answer to (login, heartbeat, alarms, time request). */
export function requiredResponse(m: Gt06Message, nowMs: number): Uint8Array | null {
  switch (m.message) {
    case 'login':
    case 'heartbeat':
    case 'alarm':
      return encodeAck(m.protocol, m.serial);
    case 'time_request':
      return encodeTimeResponse(nowMs, m.serial);
    default:
      return null;
  }
}

// Terminal side (simulator, tests) ---------------------------------------------------------

export function encodeLogin(imei: string, serial: number): Uint8Array {
  check(/^\d{15}$/.test(imei), 'INVALID_ARGUMENT', 'imei', '15 digits');
  return wrapFrame(PROTOCOL.login, digitsToBcd(imei, 8, 'imei'), serial);
}

export interface Gt06StatusInput {
  armed?: boolean;
  acc_on?: boolean;
  charging?: boolean;
  gps_fixed?: boolean;
  oil_cut?: boolean;
  voltage_level: number;
  gsm_level: number;
}

function statusBytes(s: Gt06StatusInput): number[] {
  const ti =
    (s.armed ? 0x01 : 0) |
    (s.acc_on ? 0x02 : 0) |
    (s.charging ? 0x04 : 0) |
    (s.gps_fixed ? 0x40 : 0) |
    (s.oil_cut ? 0x80 : 0);
  return [ti, s.voltage_level & 0xff, s.gsm_level & 0xff];
}

export function encodeHeartbeat(s: Gt06StatusInput, serial: number, language = 2): Uint8Array {
  return wrapFrame(
    PROTOCOL.heartbeat,
    Uint8Array.from([...statusBytes(s), 0, language & 0xff]),
    serial,
  );
}

export interface Gt06PositionInput {
  time_ms: number;
  valid: boolean;
  lat: number;
  lon: number;
  speed_kmh: number;
  course_deg: number;
  satellites: number;
  mcc?: number;
  mnc?: number;
  lac?: number;
  cell_id?: number;
}

function gpsBytes(p: Gt06PositionInput): number[] {
  check(Math.abs(p.lat) <= 90, 'INVALID_ARGUMENT', 'lat', 'out of range');
  check(Math.abs(p.lon) <= 180, 'INVALID_ARGUMENT', 'lon', 'out of range');
  check(p.speed_kmh >= 0 && p.speed_kmh <= 255, 'INVALID_ARGUMENT', 'speed_kmh', '0..255');
  const la = Math.round(Math.abs(p.lat) * 1_800_000);
  const lo = Math.round(Math.abs(p.lon) * 1_800_000);
  const cs =
    (p.course_deg % 360) |
    (p.lat >= 0 ? 0x400 : 0) |
    (p.lon < 0 ? 0x800 : 0) |
    (p.valid ? 0x1000 : 0);
  const u32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return [
    ...utcToLocalFields(p.time_ms, 0),
    0xc0 | (p.satellites & 0x0f),
    ...u32(la),
    ...u32(lo),
    Math.round(p.speed_kmh),
    cs >> 8,
    cs & 0xff,
  ];
}

function lbsBytes(p: Gt06PositionInput): number[] {
  const mcc = p.mcc ?? 0;
  const lac = p.lac ?? 0;
  const cid = p.cell_id ?? 0;
  return [
    mcc >> 8,
    mcc & 0xff,
    (p.mnc ?? 0) & 0xff,
    lac >> 8,
    lac & 0xff,
    (cid >> 16) & 0xff,
    (cid >> 8) & 0xff,
    cid & 0xff,
  ];
}

/** 0x22 location (UTC) with ACC, upload mode 0 and the re-upload flag. */
export function encodeLocation(
  p: Gt06PositionInput,
  serial: number,
  accOn = false,
  reupload = false,
): Uint8Array {
  return wrapFrame(
    PROTOCOL.location,
    Uint8Array.from([...gpsBytes(p), ...lbsBytes(p), accOn ? 1 : 0, 0, reupload ? 1 : 0]),
    serial,
  );
}

/** 0x26 alarm (UTC): GPS, LBS with its length byte, status, alarm code, language. */
export function encodeAlarm(
  p: Gt06PositionInput,
  s: Gt06StatusInput,
  alarmCode: number,
  serial: number,
  language = 2,
): Uint8Array {
  return wrapFrame(
    PROTOCOL.alarm,
    Uint8Array.from([
      ...gpsBytes(p),
      9,
      ...lbsBytes(p),
      ...statusBytes(s),
      alarmCode & 0xff,
      language & 0xff,
    ]),
    serial,
  );
}
