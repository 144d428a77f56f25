/**
 * Pure helpers of the tracker pages: the graticule's spacing, distances, playback
 * interpolation and navigation links. No DOM, no Leaflet (unit-tested in geo.test.ts).
 */

export interface Fix {
  t: number;
  lat: number;
  lon: number;
  speed_kmh?: number;
  course?: number;
  satellites?: number;
}

/** Degrees between graticule lines for a view `spanDeg` wide: about 4-10 lines across. */
export function graticuleStep(spanDeg: number): number {
  const steps = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 45,
  ];
  const span = Math.max(Math.abs(spanDeg), 1e-6);
  return steps.find((s) => span / s <= 10) ?? 90;
}

const EARTH_M = 6_371_008.8;
const rad = (d: number) => (d * Math.PI) / 180;

/** Great-circle distance in metres. */
export function haversineM(
  a: { lat: number; lon: number },
  b: { lat: number; lon: number },
): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Index of the last fix at or before `t` (-1 before the first), by binary search. */
export function fixIndexAt(fixes: readonly Fix[], t: number): number {
  let lo = 0;
  let hi = fixes.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (fixes[mid]!.t <= t) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/**
 * Where the battery was at time `t` of a track (fixes by time): between two fixes, on the
 * straight line between them in proportion to time; before the first or after the last, there.
 * `index` is the fix at or before `t` (the list's highlighted row).
 */
export function positionAt(
  fixes: readonly Fix[],
  t: number,
): { lat: number; lon: number; index: number } | undefined {
  if (fixes.length === 0) return undefined;
  const i = fixIndexAt(fixes, t);
  if (i < 0) return { lat: fixes[0]!.lat, lon: fixes[0]!.lon, index: 0 };
  const a = fixes[i]!;
  const b = fixes[i + 1];
  if (!b || b.t <= a.t) return { lat: a.lat, lon: a.lon, index: i };
  const k = Math.min(1, (t - a.t) / (b.t - a.t));
  return { lat: a.lat + (b.lat - a.lat) * k, lon: a.lon + (b.lon - a.lon) * k, index: i };
}

/** Playback speeds offered (track time per real time). */
export const PLAYBACK_SPEEDS = [1, 2, 4, 8, 16, 32, 64] as const;

/**
 * The next playback time after `elapsedMs` of real time at `speed`, stopped at `end`.
 * Playback runs at `speed` x a base rate of one minute of track per second, so a ride of
 * an hour plays in a minute at 1x.
 */
export const PLAYBACK_BASE = 60;

export function advance(t: number, elapsedMs: number, speed: number, end: number): number {
  return Math.min(end, t + elapsedMs * speed * PLAYBACK_BASE);
}

/** Navigation links to a point: `geo:` (phones' map apps) and the web maps. */
export function navigationLinks(
  lat: number,
  lon: number,
): {
  geo: string;
  google: string;
  apple: string;
  osm: string;
} {
  const la = lat.toFixed(6);
  const lo = lon.toFixed(6);
  return {
    geo: `geo:${la},${lo}?q=${la},${lo}`,
    google: `https://www.google.com/maps/dir/?api=1&destination=${la},${lo}`,
    apple: `https://maps.apple.com/?daddr=${la},${lo}`,
    osm: `https://www.openstreetmap.org/?mlat=${la}&mlon=${lo}#map=17/${la}/${lo}`,
  };
}
