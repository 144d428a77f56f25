/**
 * Sunrise and sunset for the site (seed 001 sends its daily report at both), from the
 * `suncalc` library (Meeus' formulas; sunrise/sunset = upper limb on the horizon with
 * standard refraction, as USNO and NOAA define them). Polar day and polar night have no
 * sunrise or sunset: such days simply have no events here, so no report is sent then.
 */
import { getTimes } from 'suncalc';

export type SunKind = 'sunrise' | 'sunset';

export interface SunEvent {
  kind: SunKind;
  /** ms since the epoch (UTC instant). */
  at: number;
}

export interface Place {
  latitude: number;
  longitude: number;
}

const DAY_MS = 86_400_000;

/**
 * The sunrises and sunsets in (from, to], oldest first. Works day by day over the solar
 * days that touch the range, so any range length is fine.
 */
export function sunEvents(from: number, to: number, place: Place): SunEvent[] {
  if (!(to > from)) return [];
  // Local solar noon of a UTC day, roughly: suncalc answers for the solar day around it.
  const noonOffset = 12 * 3_600_000 - (place.longitude / 360) * DAY_MS;
  const first = Math.floor(from / DAY_MS) - 1;
  const last = Math.floor(to / DAY_MS) + 1;
  const out: SunEvent[] = [];
  for (let d = first; d <= last; d++) {
    const t = getTimes(new Date(d * DAY_MS + noonOffset), place.latitude, place.longitude);
    for (const kind of ['sunrise', 'sunset'] as const) {
      const at = t[kind]?.getTime();
      if (at === undefined || !Number.isFinite(at) || at <= from || at > to) continue;
      // Neighbouring solar days can report the same event: keep one.
      if (out.some((e) => e.kind === kind && Math.abs(e.at - at) < 3_600_000)) continue;
      out.push({ kind, at });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

/** The first sunrise or sunset after `now` within `horizonMs` (default two days). */
export function nextSunEvent(
  now: number,
  place: Place,
  horizonMs = 2 * DAY_MS,
): SunEvent | undefined {
  return sunEvents(now, now + horizonMs, place)[0];
}

/** The last sunrise or sunset before `at` within `horizonMs` (default 36 h). */
export function previousSunEvent(
  at: number,
  place: Place,
  horizonMs = 1.5 * DAY_MS,
): SunEvent | undefined {
  return sunEvents(at - horizonMs, at - 1, place).at(-1);
}
