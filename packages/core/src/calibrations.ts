/**
 * What a BMS can be calibrated for (seed 002 §2.4 "calibration parameter", seed 004 "system
 * configuration"): a measurement set against a reference meter, or a counter a new or
 * repaired pack is set to. Each kind names the snapshot metric it changes, so the gateway can
 * read the pack again and show what it reports afterwards.
 */
export interface CalibrationDef {
  kind: string;
  label: string;
  unit: string;
  /** The snapshot metric the calibration changes (read back after it). */
  metric: string;
  /** Whether the user gives a value (the current zero point takes none: no current flows). */
  takesValue: boolean;
  /**
   * How far the read-back may be from the value given and still count as done: counters and
   * capacities are exact; measurements move between the command and the next read.
   */
  tolerance: number;
}

const c = (
  kind: string,
  label: string,
  unit: string,
  metric: string,
  tolerance: number,
  takesValue = true,
): CalibrationDef => ({ kind, label, unit, metric, takesValue, tolerance });

export const CALIBRATIONS: readonly CalibrationDef[] = [
  c('total_voltage', 'Total (pack) voltage', 'V', 'voltage_v', 0.1),
  c('current_zero', 'Current zero point (no current flowing)', 'A', 'current_a', 0.2, false),
  c('charge_current', 'Charge current', 'A', 'current_a', 1),
  c('discharge_current', 'Discharge current', 'A', 'current_a', 1),
  c('temperature', 'Temperature', '°C', 'temps_c', 1),
  c('remaining_capacity', 'Remaining capacity', 'Ah', 'remaining_ah', 0.01),
  c('full_capacity', 'Full-charge capacity', 'Ah', 'full_ah', 0.01),
  c('design_capacity', 'Design capacity', 'Ah', 'design_ah', 0.01),
  c('soc', 'State of charge', '%', 'soc_pct', 1),
  c('cycles', 'Cycle count', '', 'cycles', 0),
];

const BY_KIND = new Map(CALIBRATIONS.map((d) => [d.kind, d]));

export function calibration(kind: string): CalibrationDef | undefined {
  return BY_KIND.get(kind);
}
