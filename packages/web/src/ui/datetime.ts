/** `<input type="datetime-local">` values and instants, in the browser's time zone. */
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
