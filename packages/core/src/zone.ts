/**
 * BMS clocks keep a date and a time without a time zone ("wall time"). The families take and
 * give it as `wallMs`: those fields read as UTC. These helpers convert between real time (ms
 * since the epoch) and the wall time of a time zone (the site's `location.timezone`, else the
 * gateway's own zone), with Intl, so summer time is right on both sides of a change. The
 * daily energy cuts days with them too (storage).
 */
import { BmsError } from './errors.js';

const formats = new Map<string, Intl.DateTimeFormat>();

function format(tz: string | undefined): Intl.DateTimeFormat {
  const key = tz ?? '';
  let f = formats.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        ...(tz ? { timeZone: tz } : {}),
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new BmsError('CONFIG_INVALID', `unknown time zone "${String(tz)}"`);
    }
    formats.set(key, f);
  }
  return f;
}

/** Whether the runtime knows `tz` as an IANA time zone (e.g. `Europe/Berlin`, `UTC`). */
export function isTimeZone(tz: unknown): tz is string {
  if (typeof tz !== 'string' || tz === '') return false;
  try {
    format(tz);
    return true;
  } catch {
    return false;
  }
}

/** The wall time (as UTC ms) that a clock in `tz` shows at the real instant `ms`. */
export function wallOf(ms: number, tz: string | undefined): number {
  const parts: Record<string, number> = {};
  for (const p of format(tz).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const whole = Date.UTC(
    parts['year']!,
    parts['month']! - 1,
    parts['day']!,
    parts['hour']!,
    parts['minute']!,
    parts['second']!,
  );
  return whole + (((ms % 1000) + 1000) % 1000);
}

/**
 * The real instant at which a clock in `tz` shows `wallMs`. In the hour a summer-time change
 * skips or repeats, the offset in force before the change is used.
 */
export function realOf(wallMs: number, tz: string | undefined): number {
  const offset1 = wallOf(wallMs, tz) - wallMs;
  const guess = wallMs - offset1;
  const offset2 = wallOf(guess, tz) - guess;
  return wallMs - offset2;
}
