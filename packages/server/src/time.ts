/** Query times: ms since the epoch or ISO 8601, UTC unless a zone is given (the schema checked the shape). */
import { BmsError } from '@openbms/core';
import { realOf } from '@openbms/gateway';

/** Date.parse rolls 2030-02-31 over to March; a calendar date must exist as written. */
function realDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!m) return true;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** Earliest and latest times a query accepts: the epoch, and the last instant of year 9999 (ISO 8601's four-digit years). */
export const TIME_MIN_MS = 0;
export const TIME_MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const ACCEPTED = `accepted: 1970-01-01 to 9999-12-31 (UTC), or ${TIME_MIN_MS} to ${TIME_MAX_MS} ms since the epoch`;

export function parseTime(value: string, field: string): number {
  // A date-time without a zone is UTC here (Date.parse would take the server's local zone).
  const iso =
    /T|\s/.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/.test(value)
      ? `${value.replace(' ', 'T')}Z`
      : value;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(iso);
  const refuse = (why: string): BmsError =>
    new BmsError('REQUEST_INVALID', `querystring field "${field}": ${why}`, { field });
  if (!Number.isFinite(ms) || !realDate(value)) {
    throw refuse(
      `"${value}" is not a valid time (ms since the epoch, or ISO 8601 such as 2030-01-31T12:00:00Z)`,
    );
  }
  if (ms < TIME_MIN_MS) throw refuse(`${value} is before 1970-01-01T00:00:00Z; ${ACCEPTED}`);
  if (ms > TIME_MAX_MS) throw refuse(`${value} is after 9999-12-31T23:59:59.999Z; ${ACCEPTED}`);
  return ms;
}

/** `from`/`to` with defaults (`to` = now, `from` = to - defaultSpanMs); from < to. */
export function parseRange(
  q: { from?: string; to?: string },
  now: number,
  defaultSpanMs: number,
): { from: number; to: number } {
  const to = q.to !== undefined ? parseTime(q.to, 'to') : now;
  const from = q.from !== undefined ? parseTime(q.from, 'from') : to - defaultSpanMs;
  if (from >= to) {
    throw new BmsError(
      'REQUEST_INVALID',
      `querystring field "to": must be after "from" (${from} >= ${to})`,
      {
        field: 'to',
      },
    );
  }
  return { from, to };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * An export's `from`/`to` (every export route reads them alike): a time as `parseTime`, or a
 * calendar date meaning the whole day in the site's zone `tz` — `from` its first instant,
 * `to` its last (inclusive), so `from=to=2030-01-31` is that one day. Defaults as
 * `parseRange`; the range is inclusive, from <= to.
 */
export function parseExportRange(
  q: { from?: string; to?: string },
  now: number,
  defaultSpanMs: number,
  tz: string,
): { from: number; to: number } {
  const start = (date: string, field: string): number => {
    const ms = parseTime(date, field); // checks the date is real and in range
    return realOf(ms, tz);
  };
  const nextDay = (date: string, field: string): number =>
    realOf(parseTime(date, field) + 24 * 3600 * 1000, tz);
  const to =
    q.to === undefined ? now : DATE.test(q.to) ? nextDay(q.to, 'to') - 1 : parseTime(q.to, 'to');
  const from =
    q.from === undefined
      ? to - defaultSpanMs
      : DATE.test(q.from)
        ? start(q.from, 'from')
        : parseTime(q.from, 'from');
  if (from > to) {
    throw new BmsError(
      'REQUEST_INVALID',
      `querystring field "to": must not be before "from" (${q.to ?? to} is before ${q.from ?? from})`,
      { field: 'to' },
    );
  }
  return { from, to };
}
