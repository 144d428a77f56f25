/**
 * Days in a site's time zone, for the daily files: a day is local midnight to local midnight
 * (23 h or 25 h on a summer-time change). Both adapters count samples per pack and 15-minute
 * slot of UTC time as they are written; a local day is the sum of the slots whose start falls
 * on that date. Every UTC offset in use since 1972 is a whole number of quarter hours, so a
 * local midnight never cuts a slot (before that, a few zones had offsets in seconds: their
 * boundary slot goes whole to one day).
 *
 * Zone arithmetic is core's (`wallOf`, over the runtime's `Intl` and its IANA data); what is
 * written here is only the search for the instants where a zone's offset changes, which
 * `Intl` does not give.
 */
import { BmsError, isTimeZone, wallOf } from '@openbms/core';

export const DAY_MS = 86_400_000;
/** Width of a counting slot, ms. */
export const SLOT_MS = 15 * 60_000;

/** How daily files are cut. */
export interface DayOptions {
  /** IANA time zone whose local days the files follow (e.g. `Europe/Berlin`); default `UTC`. */
  timeZone?: string;
}

/** The zone of `opts` (default UTC), checked: REQUEST_INVALID naming `timeZone` otherwise. */
export function zoneOf(opts: DayOptions | undefined): string {
  if (opts === undefined) return 'UTC';
  if (typeof opts !== 'object' || opts === null)
    throw new BmsError('REQUEST_INVALID', 'day options must be an object', { field: 'options' });
  const tz = opts.timeZone;
  if (tz === undefined) return 'UTC';
  if (isTimeZone(tz)) return tz;
  throw new BmsError(
    'REQUEST_INVALID',
    `timeZone must be an IANA time zone such as "Europe/Berlin", got ${JSON.stringify(tz)}`,
    { field: 'timeZone' },
  );
}

/** Local time minus UTC at instant `ms` in zone `tz`, ms. */
export function offsetAt(ms: number, tz: string): number {
  return tz === 'UTC' ? 0 : wallOf(ms, tz) - ms;
}

/** A stretch of time [start, end) over which a zone keeps one offset. */
export interface ZoneSpan {
  start: number;
  end: number;
  offset: number;
}

/** Probe step: no zone changes its offset twice within 12 hours. */
const PROBE = 12 * 3_600_000;

/** The spans of constant offset covering [from, to) in zone `tz`, in order. */
export function zoneSpans(from: number, to: number, tz: string): ZoneSpan[] {
  if (!(to > from)) return [];
  if (tz === 'UTC') return [{ start: from, end: to, offset: 0 }];
  const spans: ZoneSpan[] = [];
  let start = from;
  let offset = offsetAt(from, tz);
  let at = from;
  while (at < to) {
    const next = Math.min(at + PROBE, to);
    const o = offsetAt(next, tz);
    if (o !== offset) {
      // The first instant in (at, next] with the new offset.
      let lo = at;
      let hi = next;
      while (hi - lo > 1) {
        const mid = lo + Math.floor((hi - lo) / 2);
        if (offsetAt(mid, tz) === offset) lo = mid;
        else hi = mid;
      }
      spans.push({ start, end: hi, offset });
      start = hi;
      offset = o;
    }
    at = next;
  }
  if (start < to) spans.push({ start, end: to, offset });
  return spans;
}

/** The local date (YYYY-MM-DD) of instant `ms` in zone `tz`. */
export function localDate(ms: number, tz: string): string {
  return new Date(ms + offsetAt(ms, tz)).toISOString().slice(0, 10);
}

/** The widest offset of any zone (UTC+14, UTC-12), with a margin. */
const MAX_OFFSET = 15 * 3_600_000;

/**
 * The instants whose local date is `day` (days since 1970, from telemetryChecks.parseDate) in
 * zone `tz`, as ranges [start, end): one range, except where a zone turns its clock back
 * across midnight.
 */
export function dayRanges(day: number, tz: string): [number, number][] {
  const d0 = day * DAY_MS;
  const ranges: [number, number][] = [];
  for (const s of zoneSpans(d0 - MAX_OFFSET, d0 + DAY_MS + MAX_OFFSET, tz)) {
    const start = Math.max(s.start, d0 - s.offset);
    const end = Math.min(s.end, d0 + DAY_MS - s.offset);
    if (start >= end) continue;
    const last = ranges[ranges.length - 1];
    if (last && last[1] === start) last[1] = end;
    else ranges.push([start, end]);
  }
  return ranges;
}

/**
 * Column heading people read for a series: array elements numbered from 1, as in Home
 * Assistant, Modbus, the web console and the seeds (`cell_mv.0` -> `cell_mv.1`). The API's
 * series names (`?fields=cell_mv.0`, history) stay 0-based: they index arrays.
 */
export function columnHeading(series: string): string {
  const m = /^(.+)\.(\d+)$/.exec(series);
  return m ? `${m[1]}.${Number(m[2]) + 1}` : series;
}

/** Characters of a CSV header line (`time,<headings>`, without its newline). */
export function csvHeaderLength(fields: readonly string[]): number {
  let n = 4;
  for (const f of fields) n += 1 + columnHeading(f).length;
  return n;
}
