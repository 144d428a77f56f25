/**
 * The series the telemetry store keeps (see packages/server/src/fields.ts): every numeric,
 * integer or boolean metric of the catalog except the bus address, and the elements of
 * cell_mv / temps_c. The export form offers those the chosen pack reports.
 */
import { METRICS, type MetricDef } from '@openbms/core';
import type { Snapshot } from '@openbms/contract/api';

export const STORED_SCALARS: readonly MetricDef[] = METRICS.filter(
  (m) => ['number', 'integer', 'boolean'].includes(m.type) && m.key !== 'address',
);

export interface PackFields {
  scalars: MetricDef[];
  cells: number;
  temps: number;
}

/** What a pack reports (all scalars and no arrays when it has never answered). */
export function packFields(s: Snapshot | null | undefined): PackFields {
  if (!s) return { scalars: [...STORED_SCALARS], cells: 0, temps: 0 };
  const r = s as Record<string, unknown>;
  const len = (k: string) => (Array.isArray(r[k]) ? (r[k] as unknown[]).length : 0);
  return {
    scalars: STORED_SCALARS.filter((m) => r[m.key] !== undefined),
    cells: len('cell_mv'),
    temps: len('temps_c'),
  };
}

export const DEFAULT_SCALARS = ['voltage_v', 'current_a', 'power_w', 'soc_pct'];

const range = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}.${i}`);
export const cellKeys = (n: number) => range(n, 'cell_mv');
export const tempKeys = (n: number) => range(n, 'temps_c');

/** The default choice: V, A, W, SOC, every cell and every temperature. */
export function defaultSelection(f: PackFields): Set<string> {
  return new Set([
    ...f.scalars.filter((m) => DEFAULT_SCALARS.includes(m.key)).map((m) => m.key),
    ...cellKeys(f.cells),
    ...tempKeys(f.temps),
  ]);
}

export function allSelection(f: PackFields): Set<string> {
  return new Set([...f.scalars.map((m) => m.key), ...cellKeys(f.cells), ...tempKeys(f.temps)]);
}

/**
 * The `fields` query value in catalog order; a whole array is sent by its name
 * (`cell_mv` = every cell), a part element by element.
 */
export function fieldsParam(f: PackFields, chosen: ReadonlySet<string>): string {
  const out = f.scalars.filter((m) => chosen.has(m.key)).map((m) => m.key);
  for (const [name, keys] of [
    ['cell_mv', cellKeys(f.cells)],
    ['temps_c', tempKeys(f.temps)],
  ] as const) {
    const on = keys.filter((k) => chosen.has(k));
    if (on.length > 0 && on.length === keys.length) out.push(name);
    else out.push(...on);
  }
  return out.join(',');
}
