/**
 * Numbers, units, dates and durations in the current language (Intl): "52.31 V",
 * "1 234,5 Wh" where the locale says so, "2026/11/21 14:03" in Chinese.
 */
import { useTranslation } from 'react-i18next';

export interface Fmt {
  locale: string;
  /** A number with fixed decimals; '—' for undefined/null/NaN. */
  num(v: number | null | undefined, decimals?: number): string;
  /** A number and its unit: unit(52.3, 'V', 2) -> "52.30 V". */
  unit(v: number | null | undefined, unit: string, decimals?: number): string;
  pct(v: number | null | undefined, decimals?: number): string;
  dateTime(ms: number | null | undefined): string;
  time(ms: number | null | undefined): string;
  date(ms: number | null | undefined): string;
  /** "3 min ago" style. */
  ago(ms: number | null | undefined, now?: number): string;
  /** A duration in seconds as "1 h 05 min" / "42 s". */
  duration(s: number | null | undefined): string;
}

const DASH = '—';

export function makeFmt(lang: string): Fmt {
  const locale = lang === 'zh' ? 'zh-CN' : 'en-GB';
  const nf = new Map<number, Intl.NumberFormat>();
  const numFmt = (d: number): Intl.NumberFormat => {
    let f = nf.get(d);
    if (!f) {
      f = new Intl.NumberFormat(locale, { minimumFractionDigits: d, maximumFractionDigits: d });
      nf.set(d, f);
    }
    return f;
  };
  const bad = (v: number | null | undefined): v is null | undefined =>
    v === null || v === undefined || !Number.isFinite(v);
  const dtf = new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'medium' });
  const tf = new Intl.DateTimeFormat(locale, { timeStyle: 'medium' });
  const df = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const fmt: Fmt = {
    locale,
    num: (v, d = 0) => (bad(v) ? DASH : numFmt(d).format(v)),
    unit: (v, u, d = 0) => (bad(v) ? DASH : `${numFmt(d).format(v)} ${u}`),
    pct: (v, d = 0) => (bad(v) ? DASH : `${numFmt(d).format(v)} %`),
    dateTime: (ms) => (bad(ms) ? DASH : dtf.format(ms)),
    time: (ms) => (bad(ms) ? DASH : tf.format(ms)),
    date: (ms) => (bad(ms) ? DASH : df.format(ms)),
    ago: (ms, now = Date.now()) => {
      if (bad(ms)) return DASH;
      const s = Math.round((ms - now) / 1000);
      if (Math.abs(s) < 60) return rtf.format(s, 'second');
      if (Math.abs(s) < 3600) return rtf.format(Math.round(s / 60), 'minute');
      if (Math.abs(s) < 86400) return rtf.format(Math.round(s / 3600), 'hour');
      return rtf.format(Math.round(s / 86400), 'day');
    },
    duration: (s) => {
      if (bad(s)) return DASH;
      const h = Math.floor(s / 3600);
      const m = Math.floor((s % 3600) / 60);
      if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
      if (m > 0) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
      return `${Math.round(s)} s`;
    },
  };
  return fmt;
}

// Intl formatters are costly to build: one set per language, shared by every component.
const cache = new Map<string, Fmt>();

export function fmtFor(lang: string): Fmt {
  let f = cache.get(lang);
  if (!f) {
    f = makeFmt(lang);
    cache.set(lang, f);
  }
  return f;
}

export function useFmt(): Fmt {
  const { i18n } = useTranslation();
  return fmtFor(i18n.language);
}
