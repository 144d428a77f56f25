/** Query times: ms since the epoch or ISO 8601, UTC unless a zone is given (the schema checked the shape). */
import { BmsError } from '@openbms/core';

/** Date.parse rolls 2030-02-31 over to March; a calendar date must exist as written. */
function realDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!m) return true;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

export function parseTime(value: string, field: string): number {
  // A date-time without a zone is UTC here (Date.parse would take the server's local zone).
  const iso =
    /T|\s/.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/.test(value)
      ? `${value.replace(' ', 'T')}Z`
      : value;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(iso);
  if (!Number.isFinite(ms) || ms < 0 || ms > 8.64e15 || !realDate(value)) {
    throw new BmsError(
      'REQUEST_INVALID',
      `querystring field "${field}": "${value}" is not a valid time`,
      {
        field,
      },
    );
  }
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
