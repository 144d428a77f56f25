/**
 * Series names of the telemetry store, derived from the metric catalog: every numeric,
 * integer or boolean metric (booleans as 0/1) except the bus address, plus the elements of
 * `cell_mv` and `temps_c` as `cell_mv.<i>` / `temps_c.<i>` (0-based). A layout is the
 * ordered list of the series one sample (or one rollup row) carries; rows store a layout id
 * instead of names.
 */
import type { Reading } from '@openbms/core';
import { telemetryChecks } from '@openbms/storage';

export const { SCALAR_FIELDS, fieldRank, isField, checkFields, sortFields } = telemetryChecks;
const { ARRAY_FIELD } = telemetryChecks;

/** Whether a value at this position is stored relative to the value before it. */
export function relativeFlags(fields: readonly string[]): boolean[] {
  return fields.map((f, i) => {
    const m = ARRAY_FIELD.exec(f);
    if (!m || m[1] !== 'cell_mv' || m[2] === '0') return false;
    return fields[i - 1] === `cell_mv.${Number(m[2]) - 1}`;
  });
}

/**
 * The values of one snapshot, flattened into `out` (reused between calls), and a key that
 * identifies the layout cheaply (presence of each scalar, number of cells and temperatures).
 * Non-finite numbers are treated as not reported.
 */
export interface Extracted {
  key: string;
  count: number;
}

export function extract(s: Reading, out: number[], present: boolean[]): Extracted {
  let count = 0;
  let mask = '';
  const rec = s as Record<string, unknown>;
  for (let i = 0; i < SCALAR_FIELDS.length; i++) {
    const v = rec[SCALAR_FIELDS[i]!];
    let x: number | undefined;
    if (typeof v === 'number') x = Number.isFinite(v) ? v : undefined;
    else if (typeof v === 'boolean') x = v ? 1 : 0;
    present[i] = x !== undefined;
    if (x !== undefined) {
      out[count++] = x;
      mask += '1';
    } else mask += '0';
  }
  const nc = pushArray(s.cell_mv, out, count);
  count += nc;
  const nt = pushArray(s.temps_c, out, count);
  count += nt;
  return { key: `${mask}|${nc}|${nt}`, count };
}

/** Arrays are stored up to their first non-finite element (a hole would shift indexes). */
function pushArray(a: unknown, out: number[], at: number): number {
  if (!Array.isArray(a)) return 0;
  let n = 0;
  for (const v of a) {
    if (typeof v !== 'number' || !Number.isFinite(v)) break;
    out[at + n++] = v;
  }
  return n;
}

/** The field names of the layout `extract` described. */
export function layoutFields(present: readonly boolean[], key: string): string[] {
  const parts = key.split('|');
  const fields: string[] = [];
  SCALAR_FIELDS.forEach((f, i) => {
    if (present[i]) fields.push(f);
  });
  for (let i = 0; i < Number(parts[1]); i++) fields.push(`cell_mv.${i}`);
  for (let i = 0; i < Number(parts[2]); i++) fields.push(`temps_c.${i}`);
  return fields;
}
