/**
 * JT/T 808 messages: header (2011/2013 and 2019 forms), typed decoding of the terminal's
 * messages the platform must handle, and encoders for the platform's replies and commands
 * (0x8001, 0x8100, 0x8201, 0x8105, 0x8300) and for the terminal side (simulator).
 */
import { ByteReader } from '../../util/bytes.js';
import { asciiBytes, asciiText, bcdDigits, check, digitsToBcd, gbkText, hex } from '../common.js';
import { headerLength, unwrap, wrap, xor } from './frame.js';
import {
  decodeLocation,
  encodeLocation,
  type Jt808Location,
  type LocationInput,
  type LocationOptions,
} from './location.js';

export const MSG = {
  terminal_response: 0x0001,
  heartbeat: 0x0002,
  logout: 0x0003,
  time_query: 0x0004,
  register: 0x0100,
  auth: 0x0102,
  location: 0x0200,
  location_query_reply: 0x0201,
  location_batch: 0x0704,
  passthrough: 0x0900,
  platform_response: 0x8001,
  register_response: 0x8100,
  terminal_control: 0x8105,
  locate_now: 0x8201,
  text_message: 0x8300,
  passthrough_down: 0x8900,
} as const;

/**
 * Pass-through content types (first body byte of 0x0900 / 0x8900). 0x41 is serial port 1
 * (G10LS): the channel a battery module's BMS frames travel on (protocols.md 1.6).
 */
export const PASSTHROUGH = { serial_1: 0x41, serial_2: 0x42 } as const;

/** Most bytes one pass-through frame carries (the body's 1,023 less the type byte). */
export const PASSTHROUGH_MAX = 1022;

export interface Jt808Header {
  msg_id: number;
  /** "2013" for the 12-byte header (2011 register layouts are told by body length), "2019". */
  protocol_version: '2011' | '2013' | '2019';
  /** 2019 header: the version byte (1 for JT/T 808-2019). */
  version_byte?: number;
  /** The phone field: BCD digits (12 or 20), or hex when the bytes are not BCD. */
  phone: string;
  /**
   * The identity to key the device on: the phone digits without leading zeros, the IMEI of a
   * binary (non-BCD) phone field with its Luhn digit, or null for an all-zero phone (then the
   * IMEI comes from a location item, see `imei`).
   */
  device_id: string | null;
  serial: number;
  encryption: number;
  /** Present when the sub-package bit is set. */
  package?: { total: number; index: number };
}

export type Jt808Message = Jt808Header &
  (
    | {
        message: 'register';
        province_id: number;
        city_id: number;
        manufacturer_id: string;
        terminal_model: string;
        terminal_id: string;
        plate_color: number;
        plate: string;
        plate_gbk_hex: string;
      }
    | {
        message: 'auth';
        auth_code: string;
        /** 2019 only. */
        imei?: string;
        software_version?: string;
      }
    | { message: 'heartbeat' | 'logout' | 'time_query' }
    | { message: 'location'; location: Jt808Location }
    | { message: 'location_query_reply'; reply_serial: number; location: Jt808Location }
    | {
        message: 'location_batch';
        batch_type: number;
        batch_type_name: 'normal' | 'blind_area_supplement' | 'unknown';
        count: number;
        positions: Jt808Location[];
      }
    | { message: 'terminal_response'; reply_serial: number; reply_id: number; result: number }
    | { message: 'passthrough'; data_type: number; data_hex: string }
    | { message: 'fragment'; body_hex: string }
    | { message: 'unknown'; body_hex: string }
  );

export type DecodeJt808Options = LocationOptions;

function phoneOf(bytes: Uint8Array): { phone: string; device_id: string | null } {
  const digits = bcdDigits(bytes);
  if (digits !== undefined) {
    const stripped = digits.replace(/^0+/, '');
    return { phone: digits, device_id: stripped === '' ? null : stripped };
  }
  // Jimi JC units: the first 14 IMEI digits as a 48-bit number, then the Luhn digit.
  const h = hex(bytes);
  if (bytes.length === 6) {
    let n = 0;
    for (const b of bytes) n = n * 256 + b;
    const id14 = String(n);
    if (id14.length === 14) return { phone: h, device_id: id14 + String(luhnDigit(id14)) };
  }
  return { phone: h, device_id: h };
}

export function luhnDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

function decodeHeader(r: ByteReader): Jt808Header & { headerLength: number } {
  const msg_id = r.u16be(0);
  const attrs = r.u16be(2);
  const v2019 = (attrs & 0x4000) !== 0;
  const phoneBytes = v2019 ? r.slice(5, 10) : r.slice(4, 6);
  const serial = v2019 ? r.u16be(15) : r.u16be(10);
  const h: Jt808Header & { headerLength: number } = {
    msg_id,
    protocol_version: v2019 ? '2019' : '2013',
    ...phoneOf(phoneBytes),
    serial,
    encryption: (attrs >> 10) & 0x7,
    headerLength: headerLength(attrs),
  };
  if (v2019) h.version_byte = r.u8(4);
  if (attrs & 0x2000) {
    const at = v2019 ? 17 : 12;
    h.package = { total: r.u16be(at), index: r.u16be(at + 2) };
    check(
      h.package.index >= 1 && h.package.index <= h.package.total,
      'FRAME_MALFORMED',
      'package_index',
      `${h.package.index} of ${h.package.total}`,
    );
  }
  return h;
}

function text(bytes: Uint8Array): string {
  return asciiText(bytes) ?? hex(bytes);
}

function decodeRegister(
  h: Jt808Header,
  body: Uint8Array,
): Extract<Jt808Message, { message: 'register' }> {
  const r = new ByteReader(body);
  const v2019 = h.protocol_version === '2019';
  const layout = v2019 ? [11, 30, 30] : body.length < 37 ? [5, 8, 7] : [5, 20, 7];
  const [maker, model, tid] = layout as [number, number, number];
  const fixed = 4 + maker + model + tid + 1;
  check(body.length >= fixed, 'FRAME_TRUNCATED', 'register', `${body.length} bytes, need ${fixed}`);
  const plateBytes = body.subarray(fixed);
  return {
    ...h,
    protocol_version: v2019 ? '2019' : body.length < 37 ? '2011' : '2013',
    message: 'register',
    province_id: r.u16be(0),
    city_id: r.u16be(2),
    manufacturer_id: text(r.slice(4, maker)),
    terminal_model: text(r.slice(4 + maker, model)),
    terminal_id: text(r.slice(4 + maker + model, tid)),
    plate_color: r.u8(fixed - 1),
    plate: gbkText(plateBytes),
    plate_gbk_hex: hex(plateBytes),
  };
}

function decodeAuth(h: Jt808Header, body: Uint8Array): Extract<Jt808Message, { message: 'auth' }> {
  if (h.protocol_version !== '2019') {
    return { ...h, message: 'auth', auth_code: text(body) };
  }
  const r = new ByteReader(body);
  const n = r.u8(0);
  check(
    body.length >= 1 + n + 35,
    'FRAME_TRUNCATED',
    'auth',
    `code length ${n} runs past the body`,
  );
  return {
    ...h,
    message: 'auth',
    auth_code: text(r.slice(1, n)),
    imei: text(r.slice(1 + n, 15)),
    software_version: text(r.slice(16 + n, 20)),
  };
}

function decodeBatch(
  h: Jt808Header,
  body: Uint8Array,
  opts: DecodeJt808Options,
): Extract<Jt808Message, { message: 'location_batch' }> {
  const r = new ByteReader(body);
  const count = r.u16be(0);
  const type = r.u8(2);
  const positions: Jt808Location[] = [];
  let o = 3;
  for (let i = 0; i < count; i++) {
    const len = r.u16be(o);
    check(
      o + 2 + len <= body.length,
      'FRAME_TRUNCATED',
      'batch_item',
      `item ${i + 1} runs past the body`,
    );
    positions.push(decodeLocation(r.slice(o + 2, len), opts));
    o += 2 + len;
  }
  check(
    o === body.length,
    'FRAME_MALFORMED',
    'count',
    `${count} items leave ${body.length - o} bytes`,
  );
  return {
    ...h,
    message: 'location_batch',
    batch_type: type,
    batch_type_name: type === 0 ? 'normal' : type === 1 ? 'blind_area_supplement' : 'unknown',
    count,
    positions,
  };
}

/**
 * Decodes one whole wire frame (as the framer emits it). Throws BmsError naming the field
 * for a bad frame. Every sub-package comes out as `fragment`; `createJt808Reassembler` joins
 * them into the whole message.
 */
export function decodeJt808(frame: Uint8Array, opts: DecodeJt808Options = {}): Jt808Message {
  const inner = unwrap(frame);
  const r = new ByteReader(inner);
  const { headerLength: hl, ...h } = decodeHeader(r);
  const body = inner.subarray(hl, inner.length - 1);
  if (h.package) return { ...h, message: 'fragment', body_hex: hex(body) };
  return decodeBody(h, body, opts);
}

function decodeBody(h: Jt808Header, body: Uint8Array, opts: DecodeJt808Options): Jt808Message {
  if (h.encryption !== 0) return { ...h, message: 'unknown', body_hex: hex(body) };
  const br = new ByteReader(body);
  switch (h.msg_id) {
    case MSG.heartbeat:
      return { ...h, message: 'heartbeat' };
    case MSG.logout:
      return { ...h, message: 'logout' };
    case MSG.time_query:
      return { ...h, message: 'time_query' };
    case MSG.register:
      return decodeRegister(h, body);
    case MSG.auth:
      return decodeAuth(h, body);
    case MSG.location: {
      const location = decodeLocation(body, opts);
      return {
        ...h,
        device_id: h.device_id ?? location.imei ?? null,
        message: 'location',
        location,
      };
    }
    case MSG.location_query_reply:
      return {
        ...h,
        message: 'location_query_reply',
        reply_serial: br.u16be(0),
        location: decodeLocation(body.subarray(2), opts),
      };
    case MSG.location_batch:
      return decodeBatch(h, body, opts);
    case MSG.terminal_response:
      check(body.length === 5, 'FRAME_MALFORMED', 'body_length', `${body.length}, expected 5`);
      return {
        ...h,
        message: 'terminal_response',
        reply_serial: br.u16be(0),
        reply_id: br.u16be(2),
        result: br.u8(4),
      };
    case MSG.passthrough:
      return { ...h, message: 'passthrough', data_type: br.u8(0), data_hex: hex(body.subarray(1)) };
    default:
      return { ...h, message: 'unknown', body_hex: hex(body) };
  }
}

export interface Jt808Reassembler {
  /**
   * Takes a decoded message: a `fragment` is held until its message is whole, then the whole
   * message is returned (decoded from the joined bodies); other messages pass through.
   * Returns null while packages are missing.
   */
  add(m: Jt808Message): Jt808Message | null;
  /** Bytes held in incomplete messages. */
  readonly pending: number;
}

/**
 * Joins sub-packaged messages of one connection. Bounded: at most `maxMessages` incomplete
 * messages and `maxBytes` held; the oldest incomplete message is dropped beyond that, and a
 * message announcing more than `maxPackages` packages is refused (BmsError naming the field).
 */
export function createJt808Reassembler(
  opts: DecodeJt808Options & { maxMessages?: number; maxBytes?: number; maxPackages?: number } = {},
): Jt808Reassembler {
  const maxMessages = opts.maxMessages ?? 4;
  const maxBytes = opts.maxBytes ?? 256 * 1024;
  const maxPackages = opts.maxPackages ?? 256;
  // Keyed by message id and the serial of package 1 (packages carry consecutive serials).
  const open = new Map<
    string,
    { header: Jt808Header; parts: (Uint8Array | undefined)[]; got: number }
  >();
  let held = 0;
  const drop = (key: string): void => {
    const e = open.get(key);
    if (!e) return;
    for (const p of e.parts) held -= p?.length ?? 0;
    open.delete(key);
  };
  return {
    add(m) {
      if (m.message !== 'fragment' || !m.package) return m;
      const { total, index } = m.package;
      check(
        total <= maxPackages,
        'FRAME_MALFORMED',
        'package_total',
        `${total}, at most ${maxPackages}`,
      );
      const key = `${m.msg_id}:${(m.serial - (index - 1) + 0x10000) & 0xffff}`;
      let e = open.get(key);
      if (!e) {
        while (open.size >= maxMessages) drop(open.keys().next().value!);
        const header: Jt808Header = {
          msg_id: m.msg_id,
          protocol_version: m.protocol_version,
          phone: m.phone,
          device_id: m.device_id,
          serial: m.serial,
          encryption: m.encryption,
        };
        if (m.version_byte !== undefined) header.version_byte = m.version_byte;
        e = { header, parts: new Array<Uint8Array | undefined>(total), got: 0 };
        open.set(key, e);
      }
      check(
        e.parts.length === total,
        'FRAME_MALFORMED',
        'package_total',
        'changed within one message',
      );
      const body = Uint8Array.from(m.body_hex.match(/../g) ?? [], (x) => parseInt(x, 16));
      if (!e.parts[index - 1]) {
        e.parts[index - 1] = body;
        e.got++;
        held += body.length;
      }
      while (held > maxBytes && open.size > 0) drop(open.keys().next().value!);
      if (!open.has(key) || e.got < total) return null;
      const whole = new Uint8Array(e.parts.reduce((n, p) => n + p!.length, 0));
      let o = 0;
      for (const p of e.parts) {
        whole.set(p!, o);
        o += p!.length;
      }
      drop(key);
      return decodeBody(
        { ...e.header, serial: (m.serial - (index - 1) + 0x10000) & 0xffff },
        whole,
        opts,
      );
    },
    get pending() {
      return held;
    },
  };
}

// ---------------------------------------------------------------------------------------
// Encoding

/** The terminal a frame goes to (or comes from): its header form and phone field. */
export interface Jt808Terminal {
  protocol_version: '2011' | '2013' | '2019';
  /** BCD digits as decoded (12 or 20), or 12 hex digits for a binary phone field. */
  phone: string;
  /** 2019 version byte (default 1). */
  version_byte?: number;
}

function phoneBytes(t: Jt808Terminal): Uint8Array {
  const size = t.protocol_version === '2019' ? 10 : 6;
  if (/^\d*$/.test(t.phone)) return digitsToBcd(t.phone, size, 'phone');
  check(
    size === 6 && /^[0-9a-f]{12}$/i.test(t.phone),
    'INVALID_ARGUMENT',
    'phone',
    'BCD digits, or 12 hex digits for a binary phone field',
  );
  return Uint8Array.from(t.phone.match(/../g)!.map((x) => parseInt(x, 16)));
}

/** Builds a whole wire frame (header, body, checksum, escaping, flags). */
export function encodeJt808Frame(
  t: Jt808Terminal,
  msgId: number,
  serial: number,
  body: Uint8Array,
  pkg?: { total: number; index: number },
): Uint8Array {
  check(
    body.length <= 1023,
    'INVALID_ARGUMENT',
    'body',
    `${body.length} bytes, max 1023 (sub-package it)`,
  );
  check(
    Number.isInteger(serial) && serial >= 0 && serial <= 0xffff,
    'INVALID_ARGUMENT',
    'serial',
    '0..65535',
  );
  if (pkg) {
    check(
      Number.isInteger(pkg.total) &&
        pkg.index >= 1 &&
        pkg.index <= pkg.total &&
        pkg.total <= 0xffff,
      'INVALID_ARGUMENT',
      'package',
      'index 1..total, total at most 65535',
    );
  }
  const v2019 = t.protocol_version === '2019';
  const sl = v2019 ? 17 : 12;
  const hl = sl + (pkg ? 4 : 0);
  const inner = new Uint8Array(hl + body.length + 1);
  const attrs = body.length | (v2019 ? 0x4000 : 0) | (pkg ? 0x2000 : 0);
  inner.set([msgId >> 8, msgId & 0xff, attrs >> 8, attrs & 0xff], 0);
  if (v2019) {
    inner[4] = t.version_byte ?? 1;
    inner.set(phoneBytes(t), 5);
  } else inner.set(phoneBytes(t), 4);
  inner[sl - 2] = serial >> 8;
  inner[sl - 1] = serial & 0xff;
  if (pkg) inner.set([pkg.total >> 8, pkg.total & 0xff, pkg.index >> 8, pkg.index & 0xff], sl);
  inner.set(body, hl);
  inner[inner.length - 1] = xor(inner.subarray(0, inner.length - 1));
  return wrap(inner);
}

export const RESULT = {
  ok: 0,
  failure: 1,
  message_error: 2,
  not_supported: 3,
  alarm_confirmed: 4,
} as const;

/** 0x8001 platform general response to a terminal message. */
export function encodeGeneralResponse(
  to: Jt808Terminal & { serial: number; msg_id: number },
  serverSerial: number,
  result: number = RESULT.ok,
): Uint8Array {
  const body = Uint8Array.from([
    to.serial >> 8,
    to.serial & 0xff,
    to.msg_id >> 8,
    to.msg_id & 0xff,
    result,
  ]);
  return encodeJt808Frame(to, MSG.platform_response, serverSerial, body);
}

/** 0x8100 register response; the auth code (ASCII) only with result 0. */
export function encodeRegisterResponse(
  to: Jt808Terminal & { serial: number },
  serverSerial: number,
  result: number,
  authCode: string,
): Uint8Array {
  const code = result === 0 ? asciiBytes(authCode, 'auth_code') : new Uint8Array(0);
  const body = new Uint8Array(3 + code.length);
  body.set([to.serial >> 8, to.serial & 0xff, result], 0);
  body.set(code, 3);
  return encodeJt808Frame(to, MSG.register_response, serverSerial, body);
}

/** 0x8201 locate now (empty body); the terminal answers 0x0201. */
export function encodeLocateNow(to: Jt808Terminal, serverSerial: number): Uint8Array {
  return encodeJt808Frame(to, MSG.locate_now, serverSerial, new Uint8Array(0));
}

/** Standard 0x8105 command words (vendors add their own, e.g. arm/disarm). */
export const CONTROL = { reset: 0x04, factory_reset: 0x05 } as const;

/** 0x8105 terminal control: command byte + `;`-separated parameters (ASCII here). */
export function encodeTerminalControl(
  to: Jt808Terminal,
  serverSerial: number,
  command: number,
  params = '',
): Uint8Array {
  check(
    Number.isInteger(command) && command >= 0 && command <= 255,
    'INVALID_ARGUMENT',
    'command',
    '0..255',
  );
  const p = asciiBytes(params, 'params');
  const body = new Uint8Array(1 + p.length);
  body[0] = command;
  body.set(p, 1);
  return encodeJt808Frame(to, MSG.terminal_control, serverSerial, body);
}

/**
 * 0x8300 text message: flag byte + text. The standard's text is GBK; without a GBK encoder in
 * the runtime this takes ASCII text, or bytes already encoded by the caller.
 */
export function encodeTextMessage(
  to: Jt808Terminal,
  serverSerial: number,
  flag: number,
  text: string | Uint8Array,
): Uint8Array {
  const t = typeof text === 'string' ? asciiBytes(text, 'text') : text;
  const body = new Uint8Array(1 + t.length);
  body[0] = flag & 0xff;
  body.set(t, 1);
  return encodeJt808Frame(to, MSG.text_message, serverSerial, body);
}

/**
 * The reply the platform must send to a decoded terminal message, or null when none is
 * required. `authCode` is the code to hand out on 0x0100 (the platform's choice).
 */
export function requiredResponse(
  m: Jt808Message,
  serverSerial: number,
  authCode?: string,
): Uint8Array | null {
  switch (m.message) {
    case 'register':
      return encodeRegisterResponse(m, serverSerial, 0, authCode ?? m.phone);
    case 'heartbeat':
    case 'logout':
    case 'auth':
    case 'location':
    case 'location_batch':
    case 'passthrough':
    case 'fragment':
      return encodeGeneralResponse(m, serverSerial, RESULT.ok);
    case 'unknown':
      // Uplink IDs below 0x8000 are acked so terminals stop retransmitting (protocols.md 1.5).
      return m.msg_id < 0x8000 ? encodeGeneralResponse(m, serverSerial, RESULT.ok) : null;
    default:
      return null;
  }
}

/** The body of a pass-through message: the content type byte, then the bytes as they are. */
function passthroughBody(type: number, data: Uint8Array): Uint8Array {
  check(
    Number.isInteger(type) && type >= 0 && type <= 255,
    'INVALID_ARGUMENT',
    'data_type',
    '0..255',
  );
  check(
    data.length <= PASSTHROUGH_MAX,
    'INVALID_ARGUMENT',
    'data',
    `${data.length} bytes, at most ${PASSTHROUGH_MAX} in one frame`,
  );
  const body = new Uint8Array(1 + data.length);
  body[0] = type;
  body.set(data, 1);
  return body;
}

/** 0x8900 downlink pass-through: bytes for the terminal's serial port (`type`, e.g. 0x41). */
export function encodePassthroughDown(
  to: Jt808Terminal,
  serverSerial: number,
  type: number,
  data: Uint8Array,
): Uint8Array {
  return encodeJt808Frame(to, MSG.passthrough_down, serverSerial, passthroughBody(type, data));
}

/** The bytes of a decoded pass-through message (its `data_hex`). */
export function passthroughBytes(m: { data_hex: string }): Uint8Array {
  return Uint8Array.from(m.data_hex.match(/../g) ?? [], (x) => parseInt(x, 16));
}

// Terminal side (simulator, tests) ---------------------------------------------------------

/** 0x0900 uplink pass-through: what the terminal's serial port `type` received. */
export function encodePassthroughUp(
  t: Jt808Terminal,
  serial: number,
  type: number,
  data: Uint8Array,
): Uint8Array {
  return encodeJt808Frame(t, MSG.passthrough, serial, passthroughBody(type, data));
}

export function encodeHeartbeat(t: Jt808Terminal, serial: number): Uint8Array {
  return encodeJt808Frame(t, MSG.heartbeat, serial, new Uint8Array(0));
}

/** 0x0102 auth: 2013 = the code; 2019 = code length, code, IMEI[15], software version[20]. */
export function encodeAuth(
  t: Jt808Terminal,
  serial: number,
  authCode: string,
  imei = '',
  softwareVersion = '',
): Uint8Array {
  if (t.protocol_version !== '2019')
    return encodeJt808Frame(t, MSG.auth, serial, asciiBytes(authCode, 'auth_code'));
  const code = asciiBytes(authCode, 'auth_code');
  check(code.length <= 255, 'INVALID_ARGUMENT', 'auth_code', 'at most 255 characters');
  check(imei.length <= 15, 'INVALID_ARGUMENT', 'imei', 'at most 15 characters');
  check(
    softwareVersion.length <= 20,
    'INVALID_ARGUMENT',
    'software_version',
    'at most 20 characters',
  );
  const body = new Uint8Array(1 + code.length + 35);
  body[0] = code.length;
  body.set(code, 1);
  body.set(asciiBytes(imei, 'imei'), 1 + code.length);
  body.set(asciiBytes(softwareVersion, 'software_version'), 16 + code.length);
  return encodeJt808Frame(t, MSG.auth, serial, body);
}

export function encodeLocationReport(
  t: Jt808Terminal,
  serial: number,
  p: LocationInput,
  opts?: LocationOptions,
): Uint8Array {
  return encodeJt808Frame(t, MSG.location, serial, encodeLocation(p, opts));
}

export function encodeLocationBatch(
  t: Jt808Terminal,
  serial: number,
  batchType: number,
  positions: readonly LocationInput[],
  opts?: LocationOptions,
): Uint8Array {
  const parts = positions.map((p) => encodeLocation(p, opts));
  const out: number[] = [positions.length >> 8, positions.length & 0xff, batchType & 0xff];
  for (const p of parts) out.push(p.length >> 8, p.length & 0xff, ...p);
  return encodeJt808Frame(t, MSG.location_batch, serial, Uint8Array.from(out));
}
