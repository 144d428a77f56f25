/**
 * OsmAnd / Traccar Client HTTP positions: the query (or form body) parameters, and the JSON
 * body of Traccar Client 9+. Input is untrusted: every value is type-checked and ranged, keys
 * other than the repeatable `cell`/`wifi` may appear once, and errors are REQUEST_INVALID
 * naming the field. Pure: the HTTP server hands in the request parts and the receive time.
 */
import { check, fail, isoUtc, localToUtcMs, round } from '../common.js';

export type SpeedUnit = 'knots' | 'mps' | 'kmh';

export interface OsmandOptions {
  /** When the request arrived (epoch ms): the time of a position sent without one. */
  receivedAtMs: number;
  /** Unit of the query form's `speed` (not in the message; default knots, Traccar Client). */
  speedUnit?: SpeedUnit;
  /** Zone of a `yyyy-MM-dd HH:mm:ss` timestamp, minutes east of UTC (default 0). */
  tzOffsetMinutes?: number;
}

export interface OsmandCell {
  mcc: number;
  mnc: number;
  lac: number;
  cell_id: number;
  rssi?: number;
}

export interface OsmandWifi {
  mac: string;
  rssi: number;
}

export interface OsmandPosition {
  /** `location` with coordinates; `network_only` with only cells / Wi-Fi. */
  message: 'location' | 'network_only';
  device_id: string;
  time_utc: string;
  /** True when the request carried no time and the receive time was used. */
  time_from_receipt: boolean;
  /** A zone-less `yyyy-MM-dd HH:mm:ss` timestamp as sent. */
  time_text?: string;
  lat?: number;
  lon?: number;
  valid: boolean;
  speed_raw?: number;
  speed_mps?: number;
  speed_kmh?: number | null;
  course_deg?: number | null;
  altitude_m?: number;
  accuracy_m?: number;
  hdop?: number;
  /** The phone's battery (not a traction battery). */
  battery_pct?: number | null;
  charging?: boolean;
  motion?: boolean;
  event?: string;
  activity?: string;
  odometer_m?: number;
  mock?: boolean;
  driver_unique_id?: string;
  notification_token?: string;
  cells?: OsmandCell[];
  wifi?: OsmandWifi[];
  /** Other keys: number when numeric, boolean for true/false, else text. */
  extra: Record<string, number | boolean | string>;
}

const MAX_PARAMS = 64;
const MAX_VALUE = 256;
const KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const ID = /^[A-Za-z0-9._:-]{1,64}$/;
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const INT = /^[-+]?\d{1,10}$/;
const KNOWN = new Set([
  'id',
  'deviceid',
  'timestamp',
  'lat',
  'lon',
  'location',
  'valid',
  'speed',
  'bearing',
  'heading',
  'altitude',
  'accuracy',
  'hdop',
  'batt',
  'charge',
  'cell',
  'wifi',
  'driverUniqueId',
  'notificationToken',
]);

function invalid(field: string, message: string): never {
  fail('REQUEST_INVALID', field, message);
}

function num(field: string, v: string, min: number, max: number): number {
  if (!NUMBER.test(v)) invalid(field, `"${v}" is not a number`);
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) invalid(field, `${v} is outside ${min}..${max}`);
  return n;
}

function int(field: string, v: string, min: number, max: number): number {
  if (!INT.test(v)) invalid(field, `"${v}" is not an integer`);
  return num(field, v, min, max);
}

function bool(field: string, v: string): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  invalid(field, `"${v}" is not true/false/1/0`);
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Timestamp forms: Unix seconds, Unix ms (>= 2^31-1), ISO 8601, `yyyy-MM-dd HH:mm:ss`. */
function timeOf(v: string, tz: number): { ms: number; text?: string } {
  if (/^\d{1,16}$/.test(v)) {
    const n = Number(v);
    return { ms: n >= 2 ** 31 - 1 ? n : n * 1000 };
  }
  const local = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(v);
  if (local) {
    const f = local.slice(1).map(Number) as [number, number, number, number, number, number];
    const ms = localToUtcMs(...f, tz);
    if (ms === undefined) invalid('timestamp', `"${v}" is not a date`);
    return { ms, text: v.replace('T', ' ') };
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return { ms };
  }
  invalid('timestamp', `"${v}" is not Unix seconds/ms or an ISO 8601 time`);
}

function speedKmh(raw: number, unit: SpeedUnit): number {
  return round(unit === 'knots' ? raw * 1.852 : unit === 'mps' ? raw * 3.6 : raw, 3);
}

function decodePart(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    invalid('query', 'bad percent-encoding');
  }
}

// URLSearchParams is not in the pure packages' library set (no DOM/Node types), and the
// form is small: name=value pairs joined by &, + for space, percent-encoding.
function splitQuery(query: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.push(
      eq < 0
        ? [decodePart(part), '']
        : [decodePart(part.slice(0, eq)), decodePart(part.slice(eq + 1))],
    );
  }
  return out;
}

/**
 * Parses the query string (without `?`) or an `application/x-www-form-urlencoded` body.
 * Throws BmsError REQUEST_INVALID naming the field.
 */
export function parseOsmandQuery(query: string, opts: OsmandOptions): OsmandPosition {
  check(query.length <= 8192, 'REQUEST_INVALID', 'query', 'longer than 8192 characters');
  const params = splitQuery(query);
  const seen = new Map<string, string[]>();
  let count = 0;
  for (const [k, v] of params) {
    count++;
    if (count > MAX_PARAMS) invalid('query', `more than ${MAX_PARAMS} parameters`);
    if (!KEY.test(k)) invalid('query', `parameter name "${k.slice(0, 64)}" is not allowed`);
    if (v.length > MAX_VALUE) invalid(snake(k), `longer than ${MAX_VALUE} characters`);
    const list = seen.get(k) ?? [];
    list.push(v);
    if (list.length > 1 && k !== 'cell' && k !== 'wifi') invalid(snake(k), 'given more than once');
    seen.set(k, list);
  }
  const one = (k: string): string | undefined => seen.get(k)?.[0];

  if (one('id') !== undefined && one('deviceid') !== undefined)
    invalid('id', 'both id and deviceid given');
  const id = one('id') ?? one('deviceid');
  if (id === undefined) invalid('id', 'no id/deviceid parameter');
  if (!ID.test(id)) invalid('id', 'letters, digits and . _ : - only (1..64)');

  const ts = one('timestamp');
  const t = ts === undefined ? { ms: opts.receivedAtMs } : timeOf(ts, opts.tzOffsetMinutes ?? 0);
  const p: OsmandPosition = {
    message: 'location',
    device_id: id,
    time_utc: isoUtc(t.ms),
    time_from_receipt: ts === undefined,
    valid: true,
    extra: {},
  };
  if (t.text !== undefined) p.time_text = t.text;

  const loc = one('location');
  let lat = one('lat');
  let lon = one('lon');
  if (loc !== undefined) {
    if (lat !== undefined || lon !== undefined) invalid('location', 'given together with lat/lon');
    const parts = loc.split(',');
    if (parts.length !== 2) invalid('location', 'expected "lat,lon"');
    [lat, lon] = parts as [string, string];
  }
  if ((lat === undefined) !== (lon === undefined))
    invalid(lat === undefined ? 'lat' : 'lon', 'lat and lon come together');
  if (lat !== undefined && lon !== undefined) {
    p.lat = num('lat', lat, -90, 90);
    p.lon = num('lon', lon, -180, 180);
  }
  const valid = one('valid');
  if (valid !== undefined) p.valid = bool('valid', valid);
  const speed = one('speed');
  if (speed !== undefined) {
    p.speed_raw = num('speed', speed, 0, 10_000);
    p.speed_kmh = speedKmh(p.speed_raw, opts.speedUnit ?? 'knots');
  }
  if (one('bearing') !== undefined && one('heading') !== undefined)
    invalid('bearing', 'both bearing and heading given');
  const course = one('bearing') ?? one('heading');
  if (course !== undefined)
    p.course_deg = num(one('bearing') !== undefined ? 'bearing' : 'heading', course, 0, 360);
  const alt = one('altitude');
  if (alt !== undefined) p.altitude_m = num('altitude', alt, -20_000, 100_000);
  const acc = one('accuracy');
  if (acc !== undefined) p.accuracy_m = num('accuracy', acc, 0, 1e7);
  const hdop = one('hdop');
  if (hdop !== undefined) p.hdop = num('hdop', hdop, 0, 1000);
  const batt = one('batt');
  if (batt !== undefined) p.battery_pct = num('batt', batt, 0, 100);
  const charge = one('charge');
  if (charge !== undefined) p.charging = bool('charge', charge);
  const driver = one('driverUniqueId');
  if (driver !== undefined) p.driver_unique_id = driver;
  const token = one('notificationToken');
  if (token !== undefined) p.notification_token = token;

  const cells = seen.get('cell');
  if (cells) {
    p.cells = cells.map((c) => {
      const f = c.split(',');
      if (f.length !== 4 && f.length !== 5) invalid('cell', `"${c}" is not mcc,mnc,lac,cid[,rssi]`);
      const cell: OsmandCell = {
        mcc: int('cell', f[0]!, 0, 999),
        mnc: int('cell', f[1]!, 0, 999),
        lac: int('cell', f[2]!, 0, 0xffffffff),
        cell_id: int('cell', f[3]!, 0, 2 ** 36),
      };
      if (f[4] !== undefined) cell.rssi = int('cell', f[4], -200, 0);
      return cell;
    });
  }
  const wifi = seen.get('wifi');
  if (wifi) {
    p.wifi = wifi.map((w) => {
      const m = /^([0-9A-Fa-f]{2}(?:[-:][0-9A-Fa-f]{2}){5}),(-?\d{1,3})$/.exec(w);
      if (!m) invalid('wifi', `"${w}" is not mac,rssi`);
      return { mac: m[1]!.replace(/-/g, ':').toLowerCase(), rssi: int('wifi', m[2]!, -200, 0) };
    });
  }
  for (const [k, [v]] of seen) {
    if (KNOWN.has(k)) continue;
    p.extra[k] =
      v === 'true'
        ? true
        : v === 'false'
          ? false
          : NUMBER.test(v!) && Number.isFinite(Number(v))
            ? Number(v)
            : v!;
  }
  if (p.lat === undefined) {
    if (!p.cells && !p.wifi) invalid('lat', 'no position (lat/lon, location, cell or wifi)');
    p.message = 'network_only';
  }
  return p;
}

// JSON form (Traccar Client 9+) -----------------------------------------------------------

type Json = Record<string, unknown>;

function obj(v: unknown, field: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) invalid(field, 'not an object');
  return v as Json;
}

function optNum(o: Json, k: string, field: string, min: number, max: number): number | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    invalid(field, `not a number in ${min}..${max}`);
  return v;
}

function optStr(o: Json, k: string, field: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > MAX_VALUE)
    invalid(field, `not a string of at most ${MAX_VALUE} characters`);
  return v;
}

function optBool(o: Json, k: string, field: string): boolean | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') invalid(field, 'not a boolean');
  return v;
}

/**
 * Parses the JSON body (`Content-Type: application/json`). Speed is m/s; -1 speed, heading and
 * battery level mean unknown (null). Keys the client adds that are not read here are ignored:
 * the format is the client's, and refusing them would make it retry forever.
 */
export function parseOsmandJson(body: string, opts: OsmandOptions): OsmandPosition {
  check(body.length <= 65_536, 'REQUEST_INVALID', 'body', 'longer than 64 KiB');
  let root: unknown;
  try {
    root = JSON.parse(body);
  } catch {
    invalid('body', 'not JSON');
  }
  const r = obj(root, 'body');
  const id = r.device_id;
  if (typeof id !== 'string' || !ID.test(id))
    invalid('device_id', 'missing or not 1..64 letters, digits, . _ : -');
  const l = obj(r.location, 'location');
  const c = obj(l.coords, 'location.coords');
  const lat = optNum(c, 'latitude', 'location.coords.latitude', -90, 90);
  const lon = optNum(c, 'longitude', 'location.coords.longitude', -180, 180);
  if (lat === undefined || lon === undefined)
    invalid('location.coords', 'latitude and longitude required');
  const ts = optStr(l, 'timestamp', 'location.timestamp');
  const t = ts === undefined ? { ms: opts.receivedAtMs } : timeOf(ts, opts.tzOffsetMinutes ?? 0);
  const p: OsmandPosition = {
    message: 'location',
    device_id: id,
    time_utc: isoUtc(t.ms),
    time_from_receipt: ts === undefined,
    lat: round(lat, 7),
    lon: round(lon, 7),
    valid: true,
    extra: {},
  };
  const speed = optNum(c, 'speed', 'location.coords.speed', -1, 1000);
  if (speed !== undefined) {
    if (speed < 0) p.speed_kmh = null;
    else {
      p.speed_mps = speed;
      p.speed_kmh = round(speed * 3.6, 3);
    }
  }
  const heading = optNum(c, 'heading', 'location.coords.heading', -1, 360);
  if (heading !== undefined) p.course_deg = heading < 0 ? null : heading;
  const alt = optNum(c, 'altitude', 'location.coords.altitude', -20_000, 100_000);
  if (alt !== undefined) p.altitude_m = alt;
  const acc = optNum(c, 'accuracy', 'location.coords.accuracy', -1, 1e7);
  if (acc !== undefined && acc >= 0) p.accuracy_m = acc;
  if (l.battery !== undefined) {
    const b = obj(l.battery, 'location.battery');
    const level = optNum(b, 'level', 'location.battery.level', -1, 1);
    if (level !== undefined) p.battery_pct = level < 0 ? null : Math.round(level * 100);
    const ch = optBool(b, 'is_charging', 'location.battery.is_charging');
    if (ch !== undefined) p.charging = ch;
  }
  const moving = optBool(l, 'is_moving', 'location.is_moving');
  if (moving !== undefined) p.motion = moving;
  const event = optStr(l, 'event', 'location.event');
  if (event !== undefined) p.event = event;
  if (l.activity !== undefined) {
    const a = optStr(obj(l.activity, 'location.activity'), 'type', 'location.activity.type');
    if (a !== undefined) p.activity = a;
  }
  const odo = optNum(l, 'odometer', 'location.odometer', 0, 1e10);
  if (odo !== undefined) p.odometer_m = odo;
  const mock = optBool(l, 'mock', 'location.mock');
  if (mock !== undefined) p.mock = mock;
  return p;
}

/** An HTTP request as the server sees it. */
export interface OsmandRequest {
  /** Request target: path and query (`/?id=...`). */
  target: string;
  contentType?: string;
  body?: string;
}

/** Query when the target has one; else the JSON or form body. */
export function parseOsmandRequest(req: OsmandRequest, opts: OsmandOptions): OsmandPosition {
  const q = req.target.indexOf('?');
  if (q >= 0 && q < req.target.length - 1) return parseOsmandQuery(req.target.slice(q + 1), opts);
  const type = (req.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return parseOsmandJson(req.body ?? '', opts);
  if (type === 'application/x-www-form-urlencoded' || type === '')
    return parseOsmandQuery(req.body ?? '', opts);
  invalid('content_type', `${type} is not JSON or a form`);
}

/** Builds the query form a Traccar Client sends (simulator, tests); speed in knots. */
export function encodeOsmandQuery(p: {
  id: string;
  time_ms: number;
  lat: number;
  lon: number;
  speed_knots?: number;
  bearing?: number;
  altitude?: number;
  batt?: number;
}): string {
  const q: [string, string | number | undefined][] = [
    ['id', p.id],
    ['timestamp', Math.floor(p.time_ms / 1000)],
    ['lat', p.lat],
    ['lon', p.lon],
    ['speed', p.speed_knots],
    ['bearing', p.bearing],
    ['altitude', p.altitude],
    ['batt', p.batt],
  ];
  return q
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
}
