/**
 * Positions of GPS trackers (issue 17, seed 003; docs/trackers.md): one row per fix a tracker
 * reported, with the device's own time (`t`, which orders a track) and the time the server
 * received it. Out-of-order and batch uploads are placed by device time; a fix stored already
 * for the device at the same device time is a duplicate frame (a retransmission) and is kept
 * once: the key is (device id, device time).
 *
 * Scope: the store answers by device id; the server asks the device list (scoped by the
 * policy) first, so a device outside the caller's subtree is 404 before its positions are read.
 */
import { invalid, ident, time } from './validate.js';

export { ident, time };

export interface Position {
  /** The device (device list id). */
  deviceId: string;
  /** Device time of the fix (ms, UTC). */
  t: number;
  /** When the server received it (ms). */
  receivedAt: number;
  /** WGS-84 degrees. */
  lat: number;
  lon: number;
  speedKmh?: number;
  /** Degrees clockwise from north, 0-360. */
  course?: number;
  altM?: number;
  satellites?: number;
  /** What else the frame said (alarm/status bits, mileage, signal...), JSON, at most 4 KB. */
  extras?: Record<string, unknown>;
}

export interface PositionQuery {
  /** Device time, from (inclusive) to (exclusive), ms. */
  from: number;
  to: number;
  /** At most this many, the earliest first (default and most MAX_POSITIONS). */
  limit?: number;
}

/** The most positions one `add` takes and one `list` answers. */
export const MAX_POSITION_BATCH = 1000;
export const MAX_POSITIONS = 100_000;
export const MAX_EXTRAS_BYTES = 4096;

export interface PositionStore {
  /** Stores the fixes; those already stored (same device and device time) stay as they were. Returns how many were new. */
  add(ps: readonly Position[]): Promise<number>;
  /** A device's fixes with from <= t < to, by device time. */
  list(deviceId: string, q: PositionQuery): Promise<Position[]>;
  /** The device's latest fix with device time <= t (where an alarm happened), or undefined. */
  latestAt(deviceId: string, t: number): Promise<Position | undefined>;
  /**
   * The last fix (greatest device time) of each device named, at most MAX_LATEST ids; devices
   * without a fix are absent. In no particular order.
   */
  latest(deviceIds: readonly string[]): Promise<Position[]>;
}

/** The most devices one `latest` asks about. */
export const MAX_LATEST = 10_000;

// ---------------------------------------------------------------- checks

const num = (v: unknown, field: string, min: number, max: number): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw invalid(field, `must be a number ${min}..${max}`);
  return v;
};

const opt = (v: unknown, field: string, min: number, max: number): number | null =>
  v === undefined || v === null ? null : num(v, field, min, max);

export interface PositionColumns {
  deviceId: string;
  t: number;
  receivedAt: number;
  lat: number;
  lon: number;
  speedKmh: number | null;
  course: number | null;
  altM: number | null;
  satellites: number | null;
  extras: string | null;
}

export function position(value: unknown, field = 'position'): PositionColumns {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(field, 'must be an object');
  const p = value as Record<string, unknown>;
  for (const k of Object.keys(p))
    if (
      ![
        'deviceId',
        't',
        'receivedAt',
        'lat',
        'lon',
        'speedKmh',
        'course',
        'altM',
        'satellites',
        'extras',
      ].includes(k)
    )
      throw invalid(k, 'is not a field of a position');
  const sats = opt(p['satellites'], 'satellites', 0, 255);
  if (sats !== null && !Number.isInteger(sats))
    throw invalid('satellites', 'must be a whole number');
  let extras: string | null = null;
  if (p['extras'] !== undefined && p['extras'] !== null) {
    if (typeof p['extras'] !== 'object' || Array.isArray(p['extras']))
      throw invalid('extras', 'must be an object');
    extras = JSON.stringify(p['extras']);
    if (extras.length > MAX_EXTRAS_BYTES)
      throw invalid('extras', `must be at most ${MAX_EXTRAS_BYTES} characters of JSON`);
  }
  return {
    deviceId: ident(p['deviceId'], 'deviceId'),
    t: Math.round(time(p['t'], 't')),
    receivedAt: Math.round(time(p['receivedAt'], 'receivedAt')),
    lat: num(p['lat'], 'lat', -90, 90),
    lon: num(p['lon'], 'lon', -180, 180),
    speedKmh: opt(p['speedKmh'], 'speedKmh', 0, 1000),
    course: opt(p['course'], 'course', 0, 360),
    altM: opt(p['altM'], 'altM', -12_000, 100_000),
    satellites: sats,
    extras,
  };
}

export function positions(value: unknown): PositionColumns[] {
  if (!Array.isArray(value) || value.length > MAX_POSITION_BATCH)
    throw invalid('positions', `must be an array of at most ${MAX_POSITION_BATCH}`);
  return value.map((p) => position(p));
}

export function positionQuery(
  deviceId: unknown,
  value: unknown,
): { deviceId: string; from: number; to: number; limit: number } {
  if (typeof value !== 'object' || value === null) throw invalid('query', 'must be an object');
  const q = value as Record<string, unknown>;
  const from = time(q['from'], 'from');
  const to = time(q['to'], 'to');
  if (to < from) throw invalid('to', 'must not be before from');
  const limit = q['limit'] ?? MAX_POSITIONS;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_POSITIONS)
    throw invalid('limit', `must be a whole number 1..${MAX_POSITIONS}`);
  return { deviceId: ident(deviceId, 'deviceId'), from, to, limit };
}

export function deviceIds(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_LATEST)
    throw invalid('deviceIds', `must be an array of at most ${MAX_LATEST}`);
  return value.map((v, i) => ident(v, `deviceIds[${i}]`));
}

// ---------------------------------------------------------------- rows

export interface PositionRow {
  device_id: string;
  t: number;
  received_at: number;
  lat: number;
  lon: number;
  speed_kmh: number | null;
  course: number | null;
  alt_m: number | null;
  satellites: number | null;
  extras: string | null;
}

export const POSITION_COLUMNS =
  'device_id, t, received_at, lat, lon, speed_kmh, course, alt_m, satellites, extras';

export function positionFromRow(r: PositionRow): Position {
  const p: Position = {
    deviceId: r.device_id,
    t: Number(r.t),
    receivedAt: Number(r.received_at),
    lat: Number(r.lat),
    lon: Number(r.lon),
  };
  if (r.speed_kmh !== null) p.speedKmh = Number(r.speed_kmh);
  if (r.course !== null) p.course = Number(r.course);
  if (r.alt_m !== null) p.altM = Number(r.alt_m);
  if (r.satellites !== null) p.satellites = Number(r.satellites);
  if (r.extras !== null) p.extras = JSON.parse(r.extras) as Record<string, unknown>;
  return p;
}

export const rowValues = (c: PositionColumns): unknown[] => [
  c.deviceId,
  c.t,
  c.receivedAt,
  c.lat,
  c.lon,
  c.speedKmh,
  c.course,
  c.altM,
  c.satellites,
  c.extras,
];
