/**
 * Geofences of GPS trackers (issue 17, seed 003 "fence"; docs/trackers.md "Geofences"): a
 * circle (centre, radius in metres) or a polygon (at most 200 vertices, not self-crossing),
 * owned by an organisation, raising an alarm on enter, exit or both, applying to a list of
 * devices and/or to every tracker of the organisation and its sub-organisations (`orgWide`,
 * the seed's "group").
 *
 * The inside/outside state of each (device, fence) is stored with the device time of the fix
 * that set it, and `setState` only moves it forward in device time: an old fix that arrives
 * late (a blind-area batch, another node) cannot flip it back, and two nodes that see the same
 * transition store it once (the second gets false and raises nothing).
 *
 * Scope: like the device list, every call of the API takes `within`, the caller's subtree
 * roots, applied in SQL; a fence outside them is NOT_FOUND like an unknown one.
 */
import { invalid, ident, text, time } from './validate.js';

export { ident, time };

export const FENCE_ALARMS = ['enter', 'exit', 'both'] as const;
export type FenceAlarm = (typeof FENCE_ALARMS)[number];

export const MAX_FENCE_VERTICES = 200;
export const MAX_FENCE_DEVICES = 1000;
/** Radius bounds, metres: below 10 m a consumer GPS's error would flap it; 100 km is a region. */
export const MIN_FENCE_RADIUS_M = 10;
export const MAX_FENCE_RADIUS_M = 100_000;

export type FenceShape =
  | { kind: 'circle'; lat: number; lon: number; radiusM: number }
  /** Vertices as [lat, lon], the ring closed implicitly (the last joins the first). */
  | { kind: 'polygon'; vertices: [number, number][] };

export interface Geofence {
  id: string;
  orgId: string;
  name: string;
  shape: FenceShape;
  alarm: FenceAlarm;
  /** Devices (device list ids) it applies to, sorted. */
  deviceIds: string[];
  /** It also applies to every tracker of `orgId` and its sub-organisations. */
  orgWide: boolean;
  createdAt: number;
  updatedAt: number;
}

export type NewGeofence = Omit<Geofence, 'id' | 'createdAt' | 'updatedAt'> & { at: number };
export type GeofencePatch = Partial<
  Pick<Geofence, 'name' | 'shape' | 'alarm' | 'deviceIds' | 'orgWide'>
> & {
  at: number;
};

export interface FenceState {
  fenceId: string;
  inside: boolean;
  /** Device time of the fix that set it. */
  t: number;
}

export interface GeofenceStore {
  /** A new fence in `orgId`, which must lie within the roots (NOT_FOUND `orgId` otherwise). */
  create(within: readonly string[], f: NewGeofence): Promise<Geofence>;
  get(within: readonly string[], id: string): Promise<Geofence | undefined>;
  /** The fences within the roots, by name then id; with `deviceId` those listing that device. */
  list(within: readonly string[], q?: { deviceId?: string }): Promise<Geofence[]>;
  /** NOT_FOUND when unknown or outside the roots. Changing the shape forgets the states. */
  update(within: readonly string[], id: string, patch: GeofencePatch): Promise<Geofence>;
  /** False when unknown or outside the roots; the fence's states go with it. */
  delete(within: readonly string[], id: string): Promise<boolean>;
  /** The fences that apply to a device of organisation `orgId` (listing it, or org-wide above it). */
  forDevice(deviceId: string, orgId: string): Promise<Geofence[]>;
  /** The stored inside/outside states of a device. */
  states(deviceId: string): Promise<FenceState[]>;
  /**
   * Stores the state of (device, fence) set by a fix of device time `t`, only when no state is
   * stored or the stored one is older than `t`; true when stored.
   */
  setState(deviceId: string, fenceId: string, inside: boolean, t: number): Promise<boolean>;
}

// ---------------------------------------------------------------- checks

const coord = (v: unknown, field: string, lim: number): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < -lim || v > lim)
    throw invalid(field, `must be a number -${lim}..${lim}`);
  return v;
};

/** Orientation of (a, b, c) in the plane: > 0 counter-clockwise, < 0 clockwise, 0 collinear. */
const orient = (a: number[], b: number[], c: number[]): number =>
  (b[0]! - a[0]!) * (c[1]! - a[1]!) - (b[1]! - a[1]!) * (c[0]! - a[0]!);

/** Whether segments p1-p2 and p3-p4 cross or touch (planar lat/lon, fine at fence sizes). */
function segmentsMeet(p1: number[], p2: number[], p3: number[], p4: number[]): boolean {
  const d1 = orient(p3, p4, p1);
  const d2 = orient(p3, p4, p2);
  const d3 = orient(p1, p2, p3);
  const d4 = orient(p1, p2, p4);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)))
    return true;
  const on = (a: number[], b: number[], c: number[]) =>
    Math.min(a[0]!, b[0]!) <= c[0]! &&
    c[0]! <= Math.max(a[0]!, b[0]!) &&
    Math.min(a[1]!, b[1]!) <= c[1]! &&
    c[1]! <= Math.max(a[1]!, b[1]!);
  return (
    (d1 === 0 && on(p3, p4, p1)) ||
    (d2 === 0 && on(p3, p4, p2)) ||
    (d3 === 0 && on(p1, p2, p3)) ||
    (d4 === 0 && on(p1, p2, p4))
  );
}

/**
 * The index of the first edge that crosses a non-adjacent edge, or -1 (a simple polygon).
 * O(n²) over at most 200 edges: 20,000 pair tests, nothing next to a database round trip.
 */
export function selfCrossing(vertices: readonly (readonly number[])[]): number {
  const n = vertices.length;
  for (let i = 0; i < n; i++) {
    const a = vertices[i] as number[];
    const b = vertices[(i + 1) % n] as number[];
    for (let j = i + 1; j < n; j++) {
      // adjacent edges share a vertex: skip them (and the closing pair first/last)
      if (j === i + 1 || (i === 0 && j === n - 1)) continue;
      if (segmentsMeet(a, b, vertices[j] as number[], vertices[(j + 1) % n] as number[])) return i;
    }
  }
  return -1;
}

export function fenceShape(value: unknown, field = 'shape'): FenceShape {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(field, 'must be an object');
  const s = value as Record<string, unknown>;
  if (s['kind'] === 'circle') {
    for (const k of Object.keys(s))
      if (!['kind', 'lat', 'lon', 'radiusM'].includes(k))
        throw invalid(`${field}.${k}`, 'is not a field of a circle');
    const r = s['radiusM'];
    if (
      typeof r !== 'number' ||
      !Number.isFinite(r) ||
      r < MIN_FENCE_RADIUS_M ||
      r > MAX_FENCE_RADIUS_M
    )
      throw invalid(
        `${field}.radiusM`,
        `must be a number of metres ${MIN_FENCE_RADIUS_M}..${MAX_FENCE_RADIUS_M}`,
      );
    return {
      kind: 'circle',
      lat: coord(s['lat'], `${field}.lat`, 90),
      lon: coord(s['lon'], `${field}.lon`, 180),
      radiusM: r,
    };
  }
  if (s['kind'] === 'polygon') {
    for (const k of Object.keys(s))
      if (!['kind', 'vertices'].includes(k))
        throw invalid(`${field}.${k}`, 'is not a field of a polygon');
    const v = s['vertices'];
    if (!Array.isArray(v) || v.length < 3 || v.length > MAX_FENCE_VERTICES)
      throw invalid(
        `${field}.vertices`,
        `must be an array of 3..${MAX_FENCE_VERTICES} [lat, lon] pairs`,
      );
    const vertices = v.map((p, i): [number, number] => {
      if (!Array.isArray(p) || p.length !== 2)
        throw invalid(`${field}.vertices[${i}]`, 'must be a [lat, lon] pair');
      return [
        coord(p[0], `${field}.vertices[${i}]`, 90),
        coord(p[1], `${field}.vertices[${i}]`, 180),
      ];
    });
    const bad = selfCrossing(vertices);
    if (bad >= 0)
      throw invalid(`${field}.vertices`, `must not cross itself (edge ${bad} crosses another)`);
    return { kind: 'polygon', vertices };
  }
  throw invalid(`${field}.kind`, 'must be circle or polygon');
}

const deviceIdList = (v: unknown): string[] => {
  if (!Array.isArray(v) || v.length > MAX_FENCE_DEVICES)
    throw invalid('deviceIds', `must be an array of at most ${MAX_FENCE_DEVICES} device ids`);
  return [...new Set(v.map((d, i) => ident(d, `deviceIds[${i}]`)))].sort();
};

const alarmOf = (v: unknown): FenceAlarm => {
  if (!FENCE_ALARMS.includes(v as FenceAlarm))
    throw invalid('alarm', `must be one of ${FENCE_ALARMS.join(', ')}`);
  return v as FenceAlarm;
};

export function newGeofence(value: unknown): NewGeofence {
  if (typeof value !== 'object' || value === null) throw invalid('geofence', 'must be an object');
  const f = value as Record<string, unknown>;
  if (typeof f['orgWide'] !== 'boolean') throw invalid('orgWide', 'must be a boolean');
  return {
    orgId: ident(f['orgId'], 'orgId'),
    name: text(f['name'], 'name', 100),
    shape: fenceShape(f['shape']),
    alarm: alarmOf(f['alarm']),
    deviceIds: deviceIdList(f['deviceIds']),
    orgWide: f['orgWide'],
    at: time(f['at'], 'at'),
  };
}

export function geofencePatch(value: unknown): GeofencePatch {
  if (typeof value !== 'object' || value === null) throw invalid('patch', 'must be an object');
  const f = value as Record<string, unknown>;
  const out: GeofencePatch = { at: time(f['at'], 'at') };
  if (f['name'] !== undefined) out.name = text(f['name'], 'name', 100);
  if (f['shape'] !== undefined) out.shape = fenceShape(f['shape']);
  if (f['alarm'] !== undefined) out.alarm = alarmOf(f['alarm']);
  if (f['deviceIds'] !== undefined) out.deviceIds = deviceIdList(f['deviceIds']);
  if (f['orgWide'] !== undefined) {
    if (typeof f['orgWide'] !== 'boolean') throw invalid('orgWide', 'must be a boolean');
    out.orgWide = f['orgWide'];
  }
  return out;
}

// ---------------------------------------------------------------- rows

export interface GeofenceRow {
  id: string;
  org_id: string;
  name: string;
  shape: string;
  alarm: string;
  org_wide: number | boolean;
  created_at: number | string;
  updated_at: number | string;
  /** JSON array text (SQLite) or an array (PostgreSQL) of device ids. */
  device_ids: string | string[] | null;
}

export function geofenceFromRow(r: GeofenceRow): Geofence {
  const ids =
    r.device_ids === null
      ? []
      : Array.isArray(r.device_ids)
        ? r.device_ids
        : (JSON.parse(r.device_ids) as (string | null)[]).filter((x): x is string => x !== null);
  return {
    id: r.id,
    orgId: r.org_id,
    name: r.name,
    shape: JSON.parse(r.shape) as FenceShape,
    alarm: r.alarm as FenceAlarm,
    deviceIds: [...ids].sort(),
    orgWide: r.org_wide === true || r.org_wide === 1,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** The caller's subtree roots: 1..1000 organisation ids. */
export function withinRoots(w: unknown): string[] {
  if (!Array.isArray(w) || w.length === 0 || w.length > 1000)
    throw invalid('within', 'must be a non-empty array of at most 1000 organisation ids');
  return w.map((o, i) => ident(o, `within[${i}]`));
}
