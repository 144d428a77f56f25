/**
 * Whether a fix lies inside a geofence (docs/trackers.md "Geofences"). Circle: haversine
 * distance to the centre (mileage.ts) at most the radius. Polygon: the even-odd ray test on
 * [lat, lon] as plane coordinates, which is exact enough for fences of a few km away from the
 * poles and the antimeridian (an e-bike's area). Hand-written, like the haversine: the test is
 * a dozen lines, while @turf/boolean-point-in-polygon would bring GeoJSON types and the turf
 * helpers for the same loop. A point on an edge counts as inside.
 */
import type { FenceShape } from '@openbms/storage';
import { haversineM } from './mileage.js';

export function pointInPolygon(
  lat: number,
  lon: number,
  vertices: readonly (readonly number[])[],
): boolean {
  let inside = false;
  const n = vertices.length;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const [yi, xi] = vertices[i] as [number, number];
    const [yj, xj] = vertices[j] as [number, number];
    // on the edge i-j: inside
    const cross = (xj - xi) * (lat - yi) - (yj - yi) * (lon - xi);
    if (
      cross === 0 &&
      Math.min(xi, xj) <= lon &&
      lon <= Math.max(xi, xj) &&
      Math.min(yi, yj) <= lat &&
      lat <= Math.max(yi, yj)
    )
      return true;
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function insideFence(shape: FenceShape, lat: number, lon: number): boolean {
  return shape.kind === 'circle'
    ? haversineM(shape.lat, shape.lon, lat, lon) <= shape.radiusM
    : pointInPolygon(lat, lon, shape.vertices);
}
