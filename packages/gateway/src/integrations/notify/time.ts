/**
 * Local time in an IANA time zone (Intl, so daylight saving time is applied): the quiet
 * hours' test and the times printed in messages. Without a zone, the host's zone is used.
 */

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string | undefined): Intl.DateTimeFormat {
  const key = tz ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      ...(tz ? { timeZone: tz } : {}),
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(key, f);
  }
  return f;
}

export function localParts(ms: number, tz?: string): LocalParts {
  const out: LocalParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0 };
  for (const p of formatter(tz).formatToParts(ms)) {
    if (p.type === 'year') out.year = Number(p.value);
    else if (p.type === 'month') out.month = Number(p.value);
    else if (p.type === 'day') out.day = Number(p.value);
    else if (p.type === 'hour') out.hour = Number(p.value) % 24;
    else if (p.type === 'minute') out.minute = Number(p.value);
  }
  return out;
}

/** "HH:MM" -> minutes after midnight. */
export function parseHhmm(s: string): number {
  const [h = '0', m = '0'] = s.split(':');
  return Number(h) * 60 + Number(m);
}

export function minuteOfDay(ms: number, tz?: string): number {
  const p = localParts(ms, tz);
  return p.hour * 60 + p.minute;
}

/** True inside [from, to) local time; the window may wrap midnight (22:00 -> 07:00). */
export function inQuietHours(ms: number, from: string, to: string, tz?: string): boolean {
  const m = minuteOfDay(ms, tz);
  const f = parseHhmm(from);
  const t = parseHhmm(to);
  return f < t ? m >= f && m < t : m >= f || m < t;
}

/**
 * About how long until local time reaches `to` (ms, at least one second). Exact except
 * across a daylight-saving change, where it is off by the shift: the caller checks again
 * when it wakes and waits the rest.
 */
export function msUntilLocal(ms: number, to: string, tz?: string): number {
  const m = minuteOfDay(ms, tz);
  const minutes = (parseHhmm(to) - m + 1440) % 1440;
  const intoMinute = ms % 60_000;
  return Math.max(1000, minutes * 60_000 - intoMinute);
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** "2026-06-21 21:15" in the zone. */
export function formatLocal(ms: number, tz?: string): string {
  const p = localParts(ms, tz);
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}`;
}

/** "21:15" in the zone. */
export function formatClock(ms: number, tz?: string): string {
  const p = localParts(ms, tz);
  return `${pad(p.hour)}:${pad(p.minute)}`;
}
