/**
 * Distance along a track (seed 003 "mileage statistics"): great-circle (haversine) distance
 * between consecutive fixes, with a jitter filter so a battery standing still adds nothing.
 *
 * The filter: a fix counts only once it lies at least `minStepM` (default 15 m, about twice a
 * consumer GPS's typical horizontal error) from the last fix that counted; the distance added
 * is to that fix, so a slow ride is still counted whole, while the wander of a parked tracker
 * (fixes scattered a few metres around one point) never reaches the threshold. A jump that
 * would need more than `maxSpeedKmh` (default 150 km/h for an e-bike battery) is a bad fix
 * and is skipped. Hand-written: a haversine and a threshold are a few lines; the libraries
 * that offer them (turf) bring far more than this needs.
 */

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (d: number): number => (d * Math.PI) / 180;

export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = rad(lat2 - lat1);
  const dLon = rad(lon2 - lon1);
  const a =
    Math.sin(dLat / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

export interface Fix {
  t: number;
  lat: number;
  lon: number;
}

export interface MileageOptions {
  minStepM?: number;
  maxSpeedKmh?: number;
}

/** A running total over fixes given in device-time order. */
export class MileageCounter {
  private last: Fix | undefined;
  metres = 0;
  private readonly minStep: number;
  private readonly maxMps: number;

  constructor(opts: MileageOptions = {}) {
    this.minStep = opts.minStepM ?? 15;
    this.maxMps = (opts.maxSpeedKmh ?? 150) / 3.6;
  }

  /** Adds a fix; returns the metres it added. */
  add(f: Fix): number {
    if (!this.last) {
      this.last = f;
      return 0;
    }
    const d = haversineM(this.last.lat, this.last.lon, f.lat, f.lon);
    if (d < this.minStep) return 0;
    const dt = (f.t - this.last.t) / 1000;
    if (dt > 0 && d / dt > this.maxMps) return 0;
    this.last = f;
    this.metres += d;
    return d;
  }
}

/** Total kilometres of a track (fixes by device time). */
export function mileageKm(fixes: readonly Fix[], opts?: MileageOptions): number {
  const c = new MileageCounter(opts);
  for (const f of fixes) c.add(f);
  return c.metres / 1000;
}
