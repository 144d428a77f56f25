/**
 * Checks the config schemas make beyond types and ranges, as plain functions (no zod), so
 * the web's forms run the very same ones as the user types.
 */
import { DERIVED_METRICS, METRICS, metric } from '@openbms/core';

/** Catalog keys a user may pick in the MQTT `fields` (plus `raw`, the family's own extras). */
export const MQTT_FIELDS: readonly string[] = [
  ...METRICS.map((m) => m.key),
  ...DERIVED_METRICS.map((m) => m.key),
  'raw',
];

/** An MQTT topic (level) we publish under: no wildcards, no NUL, no leading or trailing "/". */
export function isMqttTopic(t: string): boolean {
  return !/[#+\0]/.test(t) && !t.startsWith('/') && !t.endsWith('/');
}

/** True for an http:// or https:// URL. */
export function isHttpUrl(u: string): boolean {
  try {
    const p = new URL(u).protocol;
    return p === 'http:' || p === 'https:';
  } catch {
    return false;
  }
}

/** Catalog types a Modbus client write can carry: scalars, or one element of a list. */
export const WRITABLE_METRIC_TYPES = {
  scalar: ['number', 'integer', 'boolean'],
  list: ['number[]', 'boolean[]'],
} as const;

const SCALAR: ReadonlySet<string> = new Set(WRITABLE_METRIC_TYPES.scalar);
const LIST: ReadonlySet<string> = new Set(WRITABLE_METRIC_TYPES.list);
const FIELD = /^([a-z0-9_]+)(?:\[(\d{1,2})\])?$/;

/** Why a Modbus client write's `field` is refused (`key`: the metric named). */
export type FieldProblem =
  | { problem: 'format' }
  | { problem: 'unknown' | 'list' | 'not_list'; key: string; type?: string; index?: string };

/**
 * `soc_pct`, or an element of a list metric, 0-based (`cell_mv[0]`, `temps_c[1]`): the
 * parsed field, or what is wrong with it.
 */
export function fieldProblem(field: string): { key: string; index?: number } | FieldProblem {
  const m = FIELD.exec(field);
  if (!m) return { problem: 'format' };
  const key = m[1]!;
  const def = metric(key);
  if (!def) return { problem: 'unknown', key };
  if (m[2] === undefined) {
    return SCALAR.has(def.type) ? { key } : { problem: 'list', key, type: def.type };
  }
  return LIST.has(def.type)
    ? { key, index: Number(m[2]) }
    : { problem: 'not_list', key, index: m[2] };
}

/** True when `tz` is an IANA time zone this runtime (Node or the browser) knows (Intl). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
