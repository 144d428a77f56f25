/** Test support: compares a reading with a simulated pack's true state. */
import type { Reading } from '@openbms/core';

/**
 * Differences between what the reader got and the pack's true state, within each value's
 * wire resolution (DALY sends 0.1 V and whole °C, JK and JBD whole-% SOC...).
 */
export function differences(read: Reading, truth: Reading, metrics: readonly string[]): string[] {
  const out: string[] = [];
  const near = (key: string, a: unknown, b: unknown, tol: number): void => {
    if (typeof a !== 'number' || typeof b !== 'number' || Math.abs(a - b) > tol + 1e-9) {
      out.push(`${key}: read ${JSON.stringify(a)}, true ${JSON.stringify(b)} (tolerance ${tol})`);
    }
  };
  const required = ['voltage_v', 'current_a', 'cell_mv'];
  for (const k of required)
    if ((read as Record<string, unknown>)[k] === undefined) out.push(`${k} missing`);
  const tol: Record<string, number> = {
    voltage_v: 0.1,
    current_a: 0.1,
    soc_pct: 1,
    soh_pct: 1,
    remaining_ah: 0.1,
    full_ah: 0.5,
    design_ah: 0.5,
    mos_temp_c: 1,
    board_temp_c: 1,
  };
  for (const [k, t] of Object.entries(tol)) {
    const v = (read as Record<string, unknown>)[k];
    if (v === undefined) {
      if (metrics.includes(k) && k !== 'board_temp_c' && k !== 'mos_temp_c')
        out.push(`${k} missing`);
      continue;
    }
    near(k, v, (truth as Record<string, unknown>)[k], t);
  }
  for (const k of ['charge_mos', 'discharge_mos', 'cycles'] as const) {
    if (read[k] !== undefined && read[k] !== truth[k])
      out.push(`${k}: read ${read[k]}, true ${truth[k]}`);
  }
  const cells = read.cell_mv ?? [];
  if (cells.length !== truth.cell_mv!.length)
    out.push(`cell_mv: ${cells.length} cells, true ${truth.cell_mv!.length}`);
  else cells.forEach((v, i) => near(`cell_mv[${i}]`, v, truth.cell_mv![i], 1));
  if (read.temps_c) {
    // Pylontech reports its board sensor first (the family's documented order); PACE its
    // MOSFET and ambient sensors after the cells' (compared as mos_temp_c / env_temp_c).
    const n = truth.temps_c!.length;
    const temps =
      read.temps_c.length === n + 1
        ? read.temps_c.slice(1)
        : read.temps_c.length === n + 2 && read.env_temp_c !== undefined
          ? read.temps_c.slice(0, n)
          : read.temps_c;
    if (read.env_temp_c !== undefined) near('env_temp_c', read.env_temp_c, truth.env_temp_c, 1);
    if (temps.length !== truth.temps_c!.length)
      out.push(`temps_c: ${temps.length} sensors, true ${truth.temps_c!.length}`);
    else temps.forEach((v, i) => near(`temps_c[${i}]`, v, truth.temps_c![i], 1));
  }
  if ((truth.alarms ?? []).length === 0 && (read.alarms ?? []).length > 0) {
    out.push(`alarms: read ${JSON.stringify(read.alarms)}, true none`);
  }
  return out;
}
