/**
 * Values of the parameter blocks on the wire and in the raw keys' units (the kinds of
 * fields.ts), both ways, and the request time fields. Encoding is exact: a value the field
 * cannot carry (out of its range, between two steps) is refused, never rounded.
 */
import { BmsError, round } from '@openbms/core';
import type { ByteReader } from '../util/bytes.js';
import { PARAM_KIND_SIZE, type ParamField, type ParamKind } from './fields.js';

/** 0 degC of the v25 parameter temperatures, 0.1 K. */
const PARAM_KELVIN = 2730;

/** The field at `o` in its raw key's unit (boolean for `enable`). */
export function readParam(r: ByteReader, o: number, kind: ParamKind): number | boolean {
  switch (kind) {
    case 'enable':
      return r.u8(o) !== 0;
    case 'mv':
      return r.u16be(o) / 1000;
    case 'mv_keep':
    case 'amp':
    case 'minutes':
      return r.u16be(o);
    case 'amp_neg':
      return r.i16be(o);
    case 'dk':
      return round((r.u16be(o) - PARAM_KELVIN) / 10, 1);
    case 'x100ms':
      return round(r.u8(o) / 10, 1);
    case 'x25ms':
    case 'x25us':
      return r.u8(o) * 25;
    case 'ma':
      return r.u16be(o) / 1000;
    case 'pct':
      return r.u8(o);
  }
}

/** Units per wire count, in the raw key's unit, and the wire range. */
const WIRE: Record<
  Exclude<ParamKind, 'enable'>,
  { per: number; min: number; max: number; offset?: number }
> = {
  mv: { per: 0.001, min: 0, max: 0xffff },
  mv_keep: { per: 1, min: 0, max: 0xffff },
  amp: { per: 1, min: 0, max: 0xffff },
  amp_neg: { per: 1, min: -0x8000, max: 0x7fff },
  dk: { per: 0.1, min: 0, max: 0xffff, offset: PARAM_KELVIN },
  x100ms: { per: 0.1, min: 0, max: 0xff },
  x25ms: { per: 25, min: 0, max: 0xff },
  x25us: { per: 25, min: 0, max: 0xff },
  ma: { per: 0.001, min: 0, max: 0xffff },
  pct: { per: 1, min: 0, max: 100 },
  minutes: { per: 1, min: 0, max: 0xffff },
};

/** The wire range of a kind in its raw unit (for messages and the catalog mapping). */
export function wireRange(kind: Exclude<ParamKind, 'enable'>): {
  min: number;
  max: number;
  step: number;
} {
  const w = WIRE[kind];
  const off = w.offset ?? 0;
  return {
    min: round((w.min - off) * w.per, 3),
    max: round((w.max - off) * w.per, 3),
    step: w.per,
  };
}

/**
 * The wire integer of a value in the raw unit. Throws `code` (INVALID_ARGUMENT for request
 * arguments, PARAM_OUT_OF_RANGE / PARAM_STEP for catalog writes) naming `name`.
 */
export function paramWire(
  name: string,
  kind: ParamKind,
  v: unknown,
  codes: {
    range: 'INVALID_ARGUMENT' | 'PARAM_OUT_OF_RANGE';
    step: 'INVALID_ARGUMENT' | 'PARAM_STEP';
  } = {
    range: 'INVALID_ARGUMENT',
    step: 'INVALID_ARGUMENT',
  },
  details?: Record<string, unknown>,
): number {
  if (kind === 'enable') {
    if (typeof v !== 'boolean') {
      throw new BmsError('INVALID_ARGUMENT', `${name} must be true or false`, details);
    }
    return v ? 1 : 0;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new BmsError('INVALID_ARGUMENT', `${name} must be a number`, details);
  }
  const w = WIRE[kind];
  const exact = v / w.per + (w.offset ?? 0);
  const n = Math.round(exact);
  if (n < w.min || n > w.max) {
    const r = wireRange(kind);
    throw new BmsError(
      codes.range,
      `${name} ${v} does not fit its PACE field (${r.min}..${r.max})`,
      details,
    );
  }
  if (Math.abs(exact - n) > 1e-6) {
    throw new BmsError(
      codes.step,
      `${name} ${v} is not a multiple of the PACE field's resolution ${w.per}`,
      { ...details, resolution: w.per },
    );
  }
  return n;
}

/** Appends a field's wire bytes. */
export function putParam(out: number[], kind: ParamKind, n: number): void {
  if (PARAM_KIND_SIZE[kind] === 1) out.push(n & 0xff);
  else out.push((n >> 8) & 0xff, n & 0xff);
}

/** The catalog value of a field's raw value (discharge currents: their magnitude). */
export function toParam(field: ParamField, raw: number): number {
  const v = field.kind === 'amp_neg' ? Math.abs(raw) : raw;
  return round(v * (field.paramScale ?? 1), 6);
}

/** The raw-unit value of a catalog value (discharge currents are written positive). */
export function fromParam(field: ParamField, value: number): number {
  return round(value / (field.paramScale ?? 1), 9);
}

/** `YYYY-MM-DDTHH:MM:SS` of wall-time ms (the BMS's fields read as UTC). */
export function wallIso(wallMs: number): string {
  return new Date(wallMs).toISOString().slice(0, 19);
}

/**
 * Wall-time ms of date fields, or undefined when they are not a real date and time (a record
 * written before the clock was set, 0xFF filler).
 */
export function wallMsOf(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(ms);
  return d.getUTCDate() === day && d.getUTCMonth() === month - 1 ? ms : undefined;
}

/** Parses `YYYY-MM-DDTHH:MM:SS` (a request argument); throws INVALID_ARGUMENT naming it. */
export function parseWallIso(name: string, v: unknown, minYear: number, maxYear: number): number {
  const m =
    typeof v === 'string' ? /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(v) : null;
  const ms = m
    ? wallMsOf(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
    : undefined;
  const year = m ? Number(m[1]) : 0;
  if (ms === undefined || year < minYear || year > maxYear) {
    throw new BmsError(
      'INVALID_ARGUMENT',
      `${name} must be a date and time YYYY-MM-DDTHH:MM:SS in ${minYear}..${maxYear} (got ${String(v)})`,
    );
  }
  return ms;
}
