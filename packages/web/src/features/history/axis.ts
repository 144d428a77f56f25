/**
 * Axis labels in the reader's language: times by Intl (the tick spacing decides between
 * seconds, hours, days and months; the date is added where the day changes) and numbers
 * with as many decimals as the tick step needs.
 */
const HOUR = 3600_000;
const DAY = 24 * HOUR;

interface TimeFormats {
  sec: Intl.DateTimeFormat;
  min: Intl.DateTimeFormat;
  day: Intl.DateTimeFormat;
  dayYear: Intl.DateTimeFormat;
  month: Intl.DateTimeFormat;
}

const cache = new Map<string, TimeFormats>();

function formats(locale: string): TimeFormats {
  let f = cache.get(locale);
  if (!f) {
    f = {
      sec: new Intl.DateTimeFormat(locale, {
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      }),
      min: new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }),
      day: new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric' }),
      dayYear: new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short', day: 'numeric' }),
      month: new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'short' }),
    };
    cache.set(locale, f);
  }
  return f;
}

const dayKey = (d: Date): string => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;

/** Labels for time ticks (ms) `incr` ms apart; a second line with the date where it changes. */
export function timeTicks(locale: string, ticks: readonly number[], incr: number): string[] {
  const f = formats(locale);
  let lastDay = '';
  let lastYear = -1;
  return ticks.map((t) => {
    const d = new Date(t);
    if (incr >= 28 * DAY) return f.month.format(d);
    if (incr >= DAY) {
      const y = d.getFullYear();
      const s = y !== lastYear && lastYear !== -1 ? f.dayYear.format(d) : f.day.format(d);
      lastYear = y;
      return s;
    }
    const time = (incr < 60_000 ? f.sec : f.min).format(d);
    const k = dayKey(d);
    const s = k !== lastDay ? `${time}\n${f.day.format(d)}` : time;
    lastDay = k;
    return s;
  });
}

/** Decimals a tick step needs (0.5 -> 1, 0.25 -> 2, 20 -> 0). */
export function decimalsFor(step: number): number {
  if (!Number.isFinite(step) || step <= 0) return 0;
  for (let d = 0; d < 6; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 6;
}
