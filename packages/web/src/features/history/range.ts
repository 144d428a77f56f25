/** Time ranges of the history tab and the <input type="datetime-local"> value format. */
const HOUR = 3600_000;
const DAY = 24 * HOUR;

export const PRESETS = [
  { id: '1h', ms: HOUR },
  { id: '6h', ms: 6 * HOUR },
  { id: '24h', ms: DAY },
  { id: '7d', ms: 7 * DAY },
  { id: '30d', ms: 30 * DAY },
  { id: '1y', ms: 365 * DAY },
] as const;

export type PresetId = (typeof PRESETS)[number]['id'];

export interface Range {
  from: number;
  to: number;
}

/** The preset's span ending now (whole seconds, so the URL stays short). */
export function presetRange(id: PresetId, now = Date.now()): Range {
  const to = Math.ceil(now / 1000) * 1000;
  return { from: to - PRESETS.find((p) => p.id === id)!.ms, to };
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** ms -> "YYYY-MM-DDTHH:mm" in the browser's time zone (what datetime-local shows). */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "YYYY-MM-DDTHH:mm[:ss]" in the browser's time zone -> ms (NaN when not a time). */
export function fromLocalInput(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (!m) return NaN;
  const [y, mo, d, h, mi, se] = m.slice(1).map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const t = new Date(y, mo - 1, d, h, mi, se);
  return t.getMonth() === mo - 1 && t.getDate() === d ? t.getTime() : NaN;
}
