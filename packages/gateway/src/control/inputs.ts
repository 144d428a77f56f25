/**
 * Strict checks of what a caller hands the write path. Every entry (HTTP, MQTT, Modbus, a
 * parameter file, code) reaches the device only through ControlService, so these run there
 * whatever the transport already checked: a boolean is `true` or `false`, a number is a
 * finite number, nothing is converted. `null` is not 0 and `"0x0E10"` is not 3600.
 */
import { BmsError } from '@openbms/core';

/** How many parameters one write may carry. */
export const MAX_WRITE_VALUES = 300;

/** What a value is, in words, for an error message ("null", "a string", "an array"). */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return Number.isFinite(v) ? `the number ${v}` : String(v);
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 20))}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v === 'undefined' ? 'nothing' : `a ${typeof v}`}`;
}

const invalid = (field: string, want: string, got: unknown): BmsError =>
  new BmsError('REQUEST_INVALID', `${field} must be ${want}, not ${kindOf(got)}`, { field });

export function requireBoolean(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw invalid(field, 'true or false', v);
  return v;
}

export function requireNumber(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(field, 'a finite number', v);
  return v;
}

export function requireOneOf<T extends string>(
  v: unknown,
  field: string,
  accepted: readonly T[],
): T {
  if (typeof v !== 'string' || !(accepted as readonly string[]).includes(v)) {
    throw invalid(field, accepted.map((a) => JSON.stringify(a)).join(' or '), v);
  }
  return v as T;
}

/** `values` of a parameter write: a plain object of catalog id -> finite number. */
export function requireValues(v: unknown, field = 'values'): Record<string, number> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw invalid(field, 'an object of parameter id -> number', v);
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw invalid(field, 'a plain object of parameter id -> number', v);
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) {
    throw new BmsError('REQUEST_INVALID', `${field}: give at least one parameter`, { field });
  }
  if (entries.length > MAX_WRITE_VALUES) {
    throw new BmsError(
      'REQUEST_INVALID',
      `${field}: at most ${MAX_WRITE_VALUES} parameters per write (got ${entries.length})`,
      { field },
    );
  }
  const out: Record<string, number> = {};
  for (const [id, x] of entries) out[id] = requireNumber(x, `${field}.${id}`);
  return out;
}
