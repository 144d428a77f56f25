/**
 * Helpers shared by the tracker codecs (JT/T 808, GT06, OsmAnd, GB/T 32960): coded errors that
 * name the field, BCD, device-local times, and the few text decodings the protocols need.
 */
import { BmsError, type ErrorCode } from '@openbms/core';

/** Throws a BmsError whose details name the offending field in snake_case. */
export function fail(code: ErrorCode, field: string, message: string): never {
  throw new BmsError(code, `${field}: ${message}`, { field });
}

export function check(
  cond: unknown,
  code: ErrorCode,
  field: string,
  message: string,
): asserts cond {
  if (!cond) fail(code, field, message);
}

/** Packed BCD digits; returns undefined when a nibble is not a decimal digit. */
export function bcdDigits(bytes: Uint8Array): string | undefined {
  let s = '';
  for (const b of bytes) {
    const hi = b >> 4;
    const lo = b & 0x0f;
    if (hi > 9 || lo > 9) return undefined;
    s += String(hi) + String(lo);
  }
  return s;
}

/** Packed BCD where a trailing 0xF nibble pads an odd digit count (GT06 ICCID). */
export function bcdDigitsFPadded(bytes: Uint8Array): string | undefined {
  let s = '';
  for (const b of bytes) {
    for (const n of [b >> 4, b & 0x0f]) {
      if (n === 0x0f) return s;
      if (n > 9) return undefined;
      s += String(n);
    }
  }
  return s;
}

export function digitsToBcd(digits: string, size: number, field: string): Uint8Array {
  check(/^\d*$/.test(digits), 'INVALID_ARGUMENT', field, 'digits only');
  check(digits.length <= size * 2, 'INVALID_ARGUMENT', field, `at most ${size * 2} digits`);
  const d = digits.padStart(size * 2, '0');
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (Number(d[2 * i]) << 4) | Number(d[2 * i + 1]);
  return out;
}

/** ISO 8601 UTC text, without the milliseconds when they are zero (the vectors' form). */
export function isoUtc(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.endsWith('.000Z') ? `${s.slice(0, -5)}Z` : s;
}

/**
 * Device calendar time (year with century, month 1-12 ...) at `offsetMinutes` east of UTC to
 * epoch milliseconds; undefined when the fields do not name a real date (month 13, 31 Feb).
 */
export function localToUtcMs(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  offsetMinutes: number,
): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(t);
  if (back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1) return undefined;
  return t - offsetMinutes * 60_000;
}

/** Calendar fields of `ms` as seen at `offsetMinutes` east of UTC, year as two digits. */
export function utcToLocalFields(ms: number, offsetMinutes: number): number[] {
  const t = new Date(ms + offsetMinutes * 60_000);
  return [
    t.getUTCFullYear() % 100,
    t.getUTCMonth() + 1,
    t.getUTCDate(),
    t.getUTCHours(),
    t.getUTCMinutes(),
    t.getUTCSeconds(),
  ];
}

// TextDecoder is a global of every runtime we target (Node with ICU, browsers), but the
// protocols package compiles without DOM or Node types, so it is declared here.
declare const TextDecoder: new (
  label: string,
  opts?: { fatal?: boolean },
) => { decode(b: Uint8Array): string };

let gbk: { decode(b: Uint8Array): string } | undefined;

/** GBK text (JT/T 808 plates and messages); NUL padding dropped. */
export function gbkText(bytes: Uint8Array): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  gbk ??= new TextDecoder('gbk');
  return gbk.decode(bytes.subarray(0, end));
}

/** Printable ASCII with NUL/space padding trimmed; undefined when other bytes appear. */
export function asciiText(bytes: Uint8Array): string | undefined {
  let s = '';
  for (const c of bytes) {
    if (c === 0) {
      s += ' ';
      continue;
    }
    if (c < 0x20 || c >= 0x7f) return undefined;
    s += String.fromCharCode(c);
  }
  return s.trim();
}

/** ASCII bytes of `text`; refuses other characters (the field is named). */
export function asciiBytes(text: string, field: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    check(c >= 0x20 && c < 0x7f, 'INVALID_ARGUMENT', field, 'printable ASCII only');
    out[i] = c;
  }
  return out;
}

export function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
