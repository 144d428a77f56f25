import type { Alarm } from './alarms.js';

/** Identity of a device; only fields the device reported are present. */
export interface DeviceInfo {
  model?: string;
  manufacturer?: string;
  hw_version?: string;
  sw_version?: string;
  serial?: string;
  barcode?: string;
  protocol_version?: string;
  manufacture_date?: string;
  device_name?: string;
}

export type RunState = 'idle' | 'charging' | 'discharging' | 'fault';

/**
 * The canonical battery snapshot (canonical JSON of docs/architecture.md). Every key is a
 * metric of the catalog (metrics.ts). Only fields the device reported are present: a codec
 * never invents a value.
 */
export interface BatterySnapshot {
  protocol?: string;
  address?: number;
  ts?: string;
  voltage_v?: number;
  current_a?: number;
  power_w?: number;
  soc_pct?: number;
  soh_pct?: number;
  remaining_ah?: number;
  full_ah?: number;
  design_ah?: number;
  cycle_ah?: number;
  cycles?: number;
  state?: RunState;
  runtime_s?: number;
  cell_count?: number;
  cell_mv?: number[];
  cell_balancing?: boolean[];
  max_cell_mv?: number;
  min_cell_mv?: number;
  max_cell_index?: number;
  min_cell_index?: number;
  delta_cell_mv?: number;
  avg_cell_mv?: number;
  cell_resistance_mohm?: number[];
  temp_sensor_count?: number;
  temps_c?: number[];
  max_temp_c?: number;
  min_temp_c?: number;
  mos_temp_c?: number;
  board_temp_c?: number;
  env_temp_c?: number;
  charge_mos?: boolean;
  discharge_mos?: boolean;
  balancing?: boolean;
  balance_current_a?: number;
  heater?: boolean;
  charger_connected?: boolean;
  load_connected?: boolean;
  charge_voltage_limit_v?: number;
  discharge_voltage_limit_v?: number;
  charge_current_limit_a?: number;
  discharge_current_limit_a?: number;
  alarms?: Alarm[];
  info?: DeviceInfo;
  /**
   * Derived by the gateway, never by a codec (DERIVED_METRICS): energy through the pack since
   * its counters began, integrated from its power over the device's own time, kWh.
   */
  energy_charged_kwh?: number;
  energy_discharged_kwh?: number;
}

/**
 * What a decoder returns for one reply: the canonical fields it carried, the protocol's
 * own extras under `raw` (named as in the protocol's README), and for replies that carry
 * several packs (Pylontech INFO=0xFF) one Reading per pack in `packs`.
 */
export interface Reading extends BatterySnapshot {
  raw?: Record<string, unknown>;
  packs?: Reading[];
}

/**
 * Fills the values that follow from others (power, cell extremes, delta, average)
 * where the device did not report them itself. Derived values are computed, not invented.
 * With the whole cell list present, the cell extremes and delta are those of
 * the list, replacing figures the device sent in another frame (they may be older).
 */
export function completeSnapshot<T extends BatterySnapshot>(s: T): T {
  if (s.power_w === undefined && s.voltage_v !== undefined && s.current_a !== undefined) {
    s.power_w = round(s.voltage_v * s.current_a, 2);
  }
  const cells = s.cell_mv;
  if (cells && cells.length > 0) {
    let max = -Infinity;
    let min = Infinity;
    let maxI = 0;
    let minI = 0;
    let sum = 0;
    cells.forEach((v, i) => {
      sum += v;
      if (v > max) {
        max = v;
        maxI = i;
      }
      if (v < min) {
        min = v;
        minI = i;
      }
    });
    s.cell_count ??= cells.length;
    if (cells.length >= s.cell_count) {
      // The whole cell list is here: the extremes follow from it, so "lowest 3.239 V"
      // never sits beside a list whose lowest cell reads 3.238 V. Devices such as DALY
      // report their extremes in another frame, read at another moment of the cycle.
      s.max_cell_mv = max;
      s.min_cell_mv = min;
      s.max_cell_index = maxI + 1;
      s.min_cell_index = minI + 1;
      s.delta_cell_mv = max - min;
    } else {
      s.max_cell_mv ??= max;
      s.min_cell_mv ??= min;
      s.max_cell_index ??= maxI + 1;
      s.min_cell_index ??= minI + 1;
      s.delta_cell_mv ??= max - min;
    }
    s.avg_cell_mv ??= round(sum / cells.length, 1);
  }
  const temps = s.temps_c;
  if (temps && temps.length > 0) {
    s.temp_sensor_count ??= temps.length;
    s.max_temp_c ??= Math.max(...temps);
    s.min_temp_c ??= Math.min(...temps);
  }
  return s;
}

/** Below this current (A, either direction) a pack that reports no state of its own is idle. */
export const IDLE_CURRENT_A = 0.05;

/**
 * The running state: the device's own where it reports one, else the current's sign (JK and
 * others report none). A reported direction the current contradicts gives way to the current
 * (the state word and the current may come from different frames); a fault always shows.
 */
export function runStateOf(s: {
  state?: RunState | undefined;
  current_a?: number | undefined;
}): RunState | undefined {
  const a = s.current_a;
  const byCurrent =
    a === undefined || !Number.isFinite(a)
      ? undefined
      : a > IDLE_CURRENT_A
        ? 'charging'
        : a < -IDLE_CURRENT_A
          ? 'discharging'
          : 'idle';
  if (s.state === undefined) return byCurrent;
  const contradicts =
    (s.state === 'charging' && byCurrent === 'discharging') ||
    (s.state === 'discharging' && byCurrent === 'charging');
  return contradicts ? byCurrent : s.state;
}

/** Rounds to a number of decimals without producing -0. */
export function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  const r = Math.round(x * f) / f;
  return r === 0 ? 0 : r;
}
