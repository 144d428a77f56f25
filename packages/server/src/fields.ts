/**
 * History series names from `?fields=`: numeric catalog metrics (`voltage_v`, `soc_pct`,
 * booleans as 0/1...) and array elements `cell_mv.<i>` / `temps_c.<i>` (0-based). A bare
 * array name (`cell_mv`) expands to every element the pack's latest snapshot has.
 */
import { BmsError, METRICS, type Reading } from '@openbms/core';

const SCALARS = new Set(
  METRICS.filter(
    (m) => ['number', 'integer', 'boolean'].includes(m.type) && m.key !== 'address',
  ).map((m) => m.key),
);
const ARRAYS = new Set(METRICS.filter((m) => m.type === 'number[]').map((m) => m.key));

export const DEFAULT_FIELDS = ['voltage_v', 'current_a', 'power_w', 'soc_pct'] as const;
export const MAX_FIELDS = 128;

function invalid(message: string): never {
  throw new BmsError('REQUEST_INVALID', `querystring field "fields": ${message}`, {
    field: 'fields',
  });
}

export function parseFields(raw: string | undefined, latest: Reading | undefined): string[] {
  if (raw === undefined) return [...DEFAULT_FIELDS];
  const out: string[] = [];
  for (const part of raw.split(',').map((s) => s.trim())) {
    const m = /^([a-z][a-z0-9_]*)(?:\.(\d{1,4}))?$/.exec(part);
    if (!m) invalid(`"${part}" is not a series name (a metric like soc_pct, or cell_mv.<index>)`);
    const [, key = '', index] = m;
    if (index !== undefined) {
      if (!ARRAYS.has(key)) invalid(`"${key}" is not an array metric (${[...ARRAYS].join(', ')})`);
      out.push(`${key}.${Number(index)}`);
    } else if (SCALARS.has(key)) {
      out.push(key);
    } else if (ARRAYS.has(key)) {
      const arr = (latest as Record<string, unknown> | undefined)?.[key];
      const n = Array.isArray(arr) ? arr.length : 0;
      for (let i = 0; i < n; i++) out.push(`${key}.${i}`);
    } else {
      invalid(`unknown metric "${key}"`);
    }
  }
  const unique = [...new Set(out)];
  if (unique.length > MAX_FIELDS)
    invalid(`at most ${MAX_FIELDS} series per request (got ${unique.length})`);
  return unique;
}
