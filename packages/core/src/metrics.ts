/**
 * The metric catalog: every top-level value a BatterySnapshot may carry, with its unit,
 * label and type. MQTT, Home Assistant discovery, Modbus, storage and the UI all derive
 * from this table (their columns are added here as those integrations land), and a test
 * checks that decoders emit no top-level key that is not in it.
 */

export type MetricType =
  | 'number'
  | 'integer'
  | 'boolean'
  | 'string'
  | 'number[]'
  | 'boolean[]'
  | 'alarms'
  | 'info'
  | 'packs';

export interface MetricDef {
  key: string;
  type: MetricType;
  unit?: string;
  label: string;
  /** Home Assistant device_class / state_class, for MQTT discovery. */
  ha?: { device_class?: string; state_class?: 'measurement' | 'total' | 'total_increasing' };
}

const m = (
  key: string,
  type: MetricType,
  label: string,
  unit?: string,
  ha?: MetricDef['ha'],
): MetricDef => ({ key, type, label, ...(unit ? { unit } : {}), ...(ha ? { ha } : {}) });

const MEAS = 'measurement' as const;

export const METRICS: readonly MetricDef[] = [
  // Identity of the sample
  m('protocol', 'string', 'Protocol'),
  m('address', 'integer', 'Bus address'),
  m('ts', 'string', 'Time of the sample (ISO 8601)'),
  // Pack
  m('voltage_v', 'number', 'Pack voltage', 'V', { device_class: 'voltage', state_class: MEAS }),
  m('current_a', 'number', 'Current (+ charging)', 'A', {
    device_class: 'current',
    state_class: MEAS,
  }),
  m('power_w', 'number', 'Power (+ charging)', 'W', { device_class: 'power', state_class: MEAS }),
  m('soc_pct', 'number', 'State of charge', '%', { device_class: 'battery', state_class: MEAS }),
  m('soh_pct', 'number', 'State of health', '%', { state_class: MEAS }),
  m('remaining_ah', 'number', 'Remaining capacity', 'Ah', { state_class: MEAS }),
  m('full_ah', 'number', 'Full-charge capacity', 'Ah', { state_class: MEAS }),
  m('design_ah', 'number', 'Design (nominal) capacity', 'Ah'),
  m('cycle_ah', 'number', 'Cumulative cycled capacity', 'Ah', { state_class: 'total_increasing' }),
  m('cycles', 'integer', 'Charge cycles', undefined, { state_class: 'total_increasing' }),
  m('state', 'string', 'Running state (idle, charging, discharging, fault)'),
  m('runtime_s', 'integer', 'Run time since power-on', 's', {
    device_class: 'duration',
    state_class: 'total_increasing',
  }),
  // Cells
  m('cell_count', 'integer', 'Number of cells in series'),
  m('cell_mv', 'number[]', 'Cell voltages', 'mV', { device_class: 'voltage', state_class: MEAS }),
  m('cell_balancing', 'boolean[]', 'Cells being balanced'),
  m('max_cell_mv', 'number', 'Highest cell voltage', 'mV', {
    device_class: 'voltage',
    state_class: MEAS,
  }),
  m('min_cell_mv', 'number', 'Lowest cell voltage', 'mV', {
    device_class: 'voltage',
    state_class: MEAS,
  }),
  m('max_cell_index', 'integer', 'Cell with the highest voltage (1-based)'),
  m('min_cell_index', 'integer', 'Cell with the lowest voltage (1-based)'),
  m('delta_cell_mv', 'number', 'Cell voltage difference (max - min)', 'mV', {
    device_class: 'voltage',
    state_class: MEAS,
  }),
  m('avg_cell_mv', 'number', 'Average cell voltage', 'mV', {
    device_class: 'voltage',
    state_class: MEAS,
  }),
  // Home Assistant has no resistance device class: a measurement with its unit.
  m('cell_resistance_mohm', 'number[]', 'Cell wire resistances', 'mΩ', { state_class: MEAS }),
  // Temperatures
  m('temp_sensor_count', 'integer', 'Number of temperature sensors'),
  m('temps_c', 'number[]', 'Temperatures in the order the device reports them', '°C', {
    device_class: 'temperature',
    state_class: MEAS,
  }),
  m('max_temp_c', 'number', 'Highest temperature', '°C', {
    device_class: 'temperature',
    state_class: MEAS,
  }),
  m('min_temp_c', 'number', 'Lowest temperature', '°C', {
    device_class: 'temperature',
    state_class: MEAS,
  }),
  m('mos_temp_c', 'number', 'MOSFET temperature', '°C', {
    device_class: 'temperature',
    state_class: MEAS,
  }),
  m('board_temp_c', 'number', 'Board temperature', '°C', {
    device_class: 'temperature',
    state_class: MEAS,
  }),
  m('env_temp_c', 'number', 'Ambient temperature', '°C', {
    device_class: 'temperature',
    state_class: MEAS,
  }),
  // Switches and states
  m('charge_mos', 'boolean', 'Charge MOSFET on'),
  m('discharge_mos', 'boolean', 'Discharge MOSFET on'),
  m('balancing', 'boolean', 'Balancer active'),
  m('balance_current_a', 'number', 'Balancing current', 'A', {
    device_class: 'current',
    state_class: MEAS,
  }),
  m('heater', 'boolean', 'Heater on'),
  m('charger_connected', 'boolean', 'Charger detected'),
  m('load_connected', 'boolean', 'Load detected'),
  // Limits a pack requests from its inverter (Pylontech 0x92, JK, DALY Modbus)
  m('charge_voltage_limit_v', 'number', 'Requested charge voltage limit', 'V', {
    device_class: 'voltage',
    state_class: MEAS,
  }),
  m('discharge_voltage_limit_v', 'number', 'Requested discharge voltage limit', 'V', {
    device_class: 'voltage',
    state_class: MEAS,
  }),
  m('charge_current_limit_a', 'number', 'Requested charge current limit', 'A', {
    device_class: 'current',
    state_class: MEAS,
  }),
  m(
    'discharge_current_limit_a',
    'number',
    'Requested discharge current limit (negative: the discharge direction, as current_a)',
    'A',
    { device_class: 'current', state_class: MEAS },
  ),
  // Alarms, identity, parallel systems
  m('alarms', 'alarms', 'Active alarms'),
  m('info', 'info', 'Device information'),
  m('packs', 'packs', 'Packs of a parallel system (one snapshot each)'),
];

/**
 * Metrics the gateway derives (no device reports them): energy through the pack, integrated
 * from its power over the device's time (wall time for a real BMS, the simulator's clock for
 * a simulated one) and stored with every sample. They are meters (`total_increasing`), seeded
 * from the pack's last stored sample when the gateway starts, so a restart goes on counting.
 */
export const DERIVED_METRICS: readonly MetricDef[] = [
  m('energy_charged_kwh', 'number', 'Energy charged', 'kWh', {
    device_class: 'energy',
    state_class: 'total_increasing',
  }),
  m('energy_discharged_kwh', 'number', 'Energy discharged', 'kWh', {
    device_class: 'energy',
    state_class: 'total_increasing',
  }),
];

const BY_KEY = new Map(METRICS.map((d) => [d.key, d]));

export function metric(key: string): MetricDef | undefined {
  return BY_KEY.get(key);
}

export function isMetric(key: string): boolean {
  return BY_KEY.has(key);
}
