/**
 * DALY H/K/M/S register maps as data. Two layouts: "d2" (BLE unit 0xD2, 32 cell slots) and
 * "p81" (RS485 / newer BLE, request unit 0x80+n, reply unit 0x50+n, 48 cell slots).
 * Register numbers and encodings follow the reference doc daly-modbus.md (sections 3-5) and
 * the D2/p81 register comparison it cites; README.md lists the sources and what is uncertain.
 */

export type Variant = 'd2' | 'p81';
export const VARIANTS: readonly Variant[] = ['d2', 'p81'];

/** How a register value becomes a number. */
export type Conv =
  | 'u' // unsigned integer as is
  | 'x10' // 0.1 units (V, Ah, %, km)
  | 'temp' // raw - 40 degC
  | 'cur' // (raw - 30000) * 0.1 A, + = charging
  | 'cur_mag' // |raw - 30000| * 0.1 A (settings thresholds whose sign is inconsistent on devices)
  | 'milli_off' // (raw - 30000) * 0.001 A
  | 'bool'; // non-zero = true

/** One register field: where it goes (top-level canonical key, or `raw.<key>`). */
export interface Field {
  reg: number;
  key: string;
  conv: Conv;
  /** true: write under raw; false: canonical top-level key. */
  raw: boolean;
  /** Keep 0xFFFF (normally "not supported", skipped). */
  keepFfff?: boolean;
}

const f = (reg: number, key: string, conv: Conv, raw = false, keepFfff = false): Field =>
  keepFfff ? { reg, key, conv, raw, keepFfff } : { reg, key, conv, raw };

/** Layout of one variant's real-time registers. */
export interface StatusMap {
  cellBase: number;
  cellSlots: number;
  cellCountReg: number;
  tempBase: number;
  tempSlots: number;
  tempCountReg: number;
  currentReg: number;
  powerReg: number;
  stateReg: number;
  balancerStateReg: number;
  /** Four alarm registers with the 0xA5-protocol fault bytes (d2 only; p81 layout is uncertain). */
  alarmReg?: number;
  fields: readonly Field[];
  settingsBase: number;
  settings: readonly Field[];
  /** Width in registers of each ASCII version string, and how many strings the block holds. */
  versionReg: number;
  versionCount: number;
}

export const BALANCER_SWITCH_REG = 0x00cf;

// Settings shared by both maps, as offsets from the settings base (D2 0x0080, p81 0x0100).
// Key names are the vector files' names.
const SETTINGS_COMMON: readonly [number, string, Conv][] = [
  [0x00, 'rated_capacity_ah', 'x10'],
  [0x01, 'cell_reference_mv', 'u'],
  [0x02, 'acquisition_boards', 'u'],
  [0x03, 'board1_cells', 'u'],
  [0x04, 'board2_cells', 'u'],
  [0x05, 'board3_cells', 'u'],
  [0x06, 'board1_temp_sensors', 'u'],
  [0x07, 'board2_temp_sensors', 'u'],
  [0x08, 'board3_temp_sensors', 'u'],
  [0x09, 'battery_type_code', 'u'],
  [0x0a, 'sleep_wait_s', 'u'],
  [0x0b, 'cell_ov_warn_mv', 'u'],
  [0x0c, 'cell_ov_alarm_mv', 'u'],
  [0x0d, 'cell_uv_warn_mv', 'u'],
  [0x0e, 'cell_uv_alarm_mv', 'u'],
  [0x0f, 'pack_ov_warn_v', 'x10'],
  [0x10, 'pack_ov_alarm_v', 'x10'],
  [0x11, 'pack_uv_warn_v', 'x10'],
  [0x12, 'pack_uv_alarm_v', 'x10'],
  [0x13, 'chg_oc_warn_a', 'cur_mag'],
  [0x14, 'chg_oc_alarm_a', 'cur_mag'],
  [0x15, 'dsg_oc_warn_a', 'cur_mag'],
  [0x16, 'dsg_oc_alarm_a', 'cur_mag'],
  [0x17, 'chg_ot_warn_c', 'temp'],
  [0x18, 'chg_ot_alarm_c', 'temp'],
  [0x19, 'chg_ut_warn_c', 'temp'],
  [0x1a, 'chg_ut_alarm_c', 'temp'],
  [0x1b, 'dsg_ot_warn_c', 'temp'],
  [0x1c, 'dsg_ot_alarm_c', 'temp'],
  [0x1d, 'dsg_ut_warn_c', 'temp'],
  [0x1e, 'dsg_ut_alarm_c', 'temp'],
  [0x1f, 'cell_diff_warn_mv', 'u'],
  [0x20, 'cell_diff_alarm_mv', 'u'],
  [0x23, 'balance_start_mv', 'u'],
  [0x24, 'balance_delta_mv', 'u'],
  [0x27, 'soc_setting_pct', 'x10'],
  [0x28, 'mos_ot_alarm_c', 'temp'],
];

// D2 only: temperature difference at 0xA1/0xA2 and the MOS switches at 0xA5/0xA6.
const SETTINGS_D2_ONLY: readonly [number, string, Conv][] = [
  [0x21, 'temp_diff_warn_c', 'u'],
  [0x22, 'temp_diff_alarm_c', 'u'],
  [0x25, 'charge_mos_switch', 'bool'],
  [0x26, 'discharge_mos_switch', 'bool'],
];

// p81: patagonaa documents the MOS switches at 0x0121/0x0122 (uncertain).
const SETTINGS_P81_ONLY: readonly [number, string, Conv][] = [
  [0x21, 'charge_mos_switch', 'bool'],
  [0x22, 'discharge_mos_switch', 'bool'],
];

function settingsFields(base: number, extra: readonly [number, string, Conv][]): Field[] {
  return [...SETTINGS_COMMON, ...extra]
    .map(([off, key, conv]) => f(base + off, key, conv, true))
    .sort((a, b) => a.reg - b.reg);
}

export const D2_MAP: StatusMap = {
  cellBase: 0x00,
  cellSlots: 32,
  cellCountReg: 0x31,
  tempBase: 0x20,
  tempSlots: 8,
  tempCountReg: 0x32,
  currentReg: 0x29,
  powerReg: 0x39,
  stateReg: 0x2f,
  balancerStateReg: 0x34,
  alarmReg: 0x3a,
  fields: [
    f(0x28, 'voltage_v', 'x10'),
    f(0x2a, 'soc_pct', 'x10'),
    f(0x2b, 'max_cell_mv', 'u'),
    f(0x2c, 'min_cell_mv', 'u'),
    f(0x2d, 'max_temp_c', 'temp'),
    f(0x2e, 'min_temp_c', 'temp'),
    f(0x30, 'remaining_ah', 'x10'),
    f(0x31, 'cell_count', 'u'),
    f(0x32, 'temp_sensor_count', 'u'),
    f(0x33, 'cycles', 'u'),
    f(0x35, 'charge_mos', 'bool'),
    f(0x36, 'discharge_mos', 'bool'),
    f(0x37, 'avg_cell_mv', 'u'),
    f(0x38, 'delta_cell_mv', 'u'),
    f(0x3e, 'balancing_mask_1_16', 'u', true),
    f(0x3f, 'balancing_mask_17_32', 'u', true),
    f(0x40, 'balance_current_a', 'milli_off'),
    f(0x42, 'mos_temp_c', 'temp'),
    f(0x43, 'board_temp_c', 'temp'),
    f(BALANCER_SWITCH_REG, 'register_0x00cf', 'u', true, true),
    f(BALANCER_SWITCH_REG, 'balancer_enabled', 'bool', true, true),
  ],
  settingsBase: 0x80,
  settings: settingsFields(0x80, SETTINGS_D2_ONLY),
  versionReg: 0xa9,
  versionCount: 32,
};

export const P81_MAP: StatusMap = {
  cellBase: 0x00,
  cellSlots: 48,
  cellCountReg: 0x3c,
  tempBase: 0x30,
  tempSlots: 8,
  tempCountReg: 0x3d,
  currentReg: 0x39,
  powerReg: 0x58,
  stateReg: 0x48,
  balancerStateReg: 0x4d,
  fields: [
    f(0x38, 'voltage_v', 'x10'),
    f(0x3a, 'soc_pct', 'x10'),
    f(0x3b, 'heartbeat_counter', 'u', true),
    f(0x3c, 'cell_count', 'u'),
    f(0x3d, 'temp_sensor_count', 'u'),
    f(0x3e, 'max_cell_mv', 'u'),
    f(0x3f, 'max_cell_index', 'u'),
    f(0x40, 'min_cell_mv', 'u'),
    f(0x41, 'min_cell_index', 'u'),
    f(0x42, 'delta_cell_mv', 'u'),
    f(0x43, 'max_temp_c', 'temp'),
    f(0x44, 'max_temp_sensor', 'u', true),
    f(0x45, 'min_temp_c', 'temp'),
    f(0x46, 'min_temp_sensor', 'u', true),
    f(0x47, 'temp_diff_c', 'u', true),
    f(0x4b, 'remaining_ah', 'x10'),
    f(0x4c, 'cycles', 'u'),
    f(0x4e, 'balance_current_raw', 'u', true),
    f(0x4f, 'balancing_mask_1_16', 'u', true),
    f(0x50, 'balancing_mask_17_32', 'u', true),
    f(0x51, 'balancing_mask_33_48', 'u', true),
    f(0x52, 'charge_mos', 'bool'),
    f(0x53, 'discharge_mos', 'bool'),
    f(0x54, 'precharge_mos', 'bool', true),
    f(0x55, 'heater', 'bool'),
    f(0x56, 'fan_mos', 'bool', true),
    f(0x57, 'avg_cell_mv', 'u'),
    f(0x59, 'energy_wh', 'u', true),
    f(0x5a, 'mos_temp_c', 'temp'),
    f(0x5b, 'board_temp_c', 'temp'),
    f(0x5c, 'heater_temp_c', 'temp', true),
    f(0x5e, 'remaining_mileage_km', 'x10', true),
    f(0x64, 'remaining_charge_min', 'u', true),
    f(BALANCER_SWITCH_REG, 'register_0x00cf', 'u', true, true),
    f(BALANCER_SWITCH_REG, 'balancer_enabled', 'bool', true, true),
  ],
  settingsBase: 0x100,
  settings: settingsFields(0x100, SETTINGS_P81_ONLY),
  versionReg: 0x178,
  versionCount: 74,
};

/** p81 fault words whose bit layout is not established: reported as hex only. */
export const P81_FAULT_WORDS = [
  { reg: 0x66, count: 4, key: 'fault_words_type1_hex' },
  { reg: 0x6d, count: 7, key: 'fault_words_type2_hex' },
] as const;

export const MAPS: Record<Variant, StatusMap> = { d2: D2_MAP, p81: P81_MAP };

/**
 * Fault bits of the four D2 alarm registers = the 0xA5 protocol's 0x98 bytes 0..6 (names from
 * daly-uart.md), with the taxonomy code and level each maps to. Index = byte * 8 + bit.
 */
export const FAULT_BITS: readonly ([string, string, number?] | undefined)[] = (() => {
  const t: ([string, string, number?] | undefined)[] = new Array(56).fill(undefined);
  const lv = (byte: number, pairs: [string, string][]): void => {
    pairs.forEach(([name, code], i) => {
      t[byte * 8 + i * 2] = [`${name}_l1`, code, 1];
      t[byte * 8 + i * 2 + 1] = [`${name}_l2`, code, 2];
    });
  };
  lv(0, [
    ['cell_ov', 'cell_ov'],
    ['cell_uv', 'cell_uv'],
    ['pack_ov', 'pack_ov'],
    ['pack_uv', 'pack_uv'],
  ]);
  lv(1, [
    ['chg_ot', 'chg_ot'],
    ['chg_ut', 'chg_ut'],
    ['dsg_ot', 'dsg_ot'],
    ['dsg_ut', 'dsg_ut'],
  ]);
  lv(2, [
    ['chg_oc', 'chg_oc'],
    ['dsg_oc', 'dsg_oc'],
    ['soc_high', 'soc_high'],
    ['soc_low', 'soc_low'],
  ]);
  lv(3, [
    ['cell_diff', 'cell_diff'],
    ['temp_diff', 'temp_diff'],
  ]);
  const single: [number, string, string][] = [
    [32, 'chg_mos_ot', 'mos_ot'],
    [33, 'dsg_mos_ot', 'mos_ot'],
    [34, 'chg_mos_temp_sensor_fault', 'temp_sensor_fault'],
    [35, 'dsg_mos_temp_sensor_fault', 'temp_sensor_fault'],
    [36, 'chg_mos_adhesion', 'chg_mos_fault'],
    [37, 'dsg_mos_adhesion', 'dsg_mos_fault'],
    [38, 'chg_mos_open_circuit', 'chg_mos_fault'],
    [39, 'dsg_mos_open_circuit', 'dsg_mos_fault'],
    [40, 'afe_fault', 'afe_fault'],
    [41, 'cell_voltage_collect_dropped', 'cell_sense_fault'],
    [42, 'cell_temp_sensor_fault', 'temp_sensor_fault'],
    [43, 'eeprom_fault', 'eeprom_fault'],
    [44, 'rtc_fault', 'rtc_fault'],
    [45, 'precharge_failure', 'precharge_fault'],
    [46, 'vehicle_comm_fault', 'external_comm'],
    [47, 'internal_comm_fault', 'internal_comm'],
    [48, 'current_module_fault', 'current_sense_fault'],
    [49, 'sum_voltage_detect_fault', 'voltage_sense_fault'],
    [50, 'short_circuit_protect_fault', 'short_circuit'],
    [51, 'low_voltage_no_charge', 'low_voltage_no_charge'],
  ];
  for (const [i, name, code] of single) t[i] = [name, code];
  return t;
})();

/**
 * Canonical parameters with their D2 register and wire encoding (p81: register + 0x80, except
 * the MOS switches). `writable` is false where the encoding is not established on devices.
 */
export interface ParamMap {
  id: string;
  /** Offset from the settings base (D2 0x0080). */
  offset: number;
  rawKey: string;
  conv: Conv;
  writable: boolean;
}

export const PARAM_MAP: readonly ParamMap[] = [
  {
    id: 'design_capacity_ah',
    offset: 0x00,
    rawKey: 'rated_capacity_ah',
    conv: 'x10',
    writable: true,
  },
  { id: 'sleep_delay_s', offset: 0x0a, rawKey: 'sleep_wait_s', conv: 'u', writable: true },
  { id: 'cell_ov_l1_mv', offset: 0x0b, rawKey: 'cell_ov_warn_mv', conv: 'u', writable: true },
  { id: 'cell_ov_l2_mv', offset: 0x0c, rawKey: 'cell_ov_alarm_mv', conv: 'u', writable: true },
  { id: 'cell_uv_l1_mv', offset: 0x0d, rawKey: 'cell_uv_warn_mv', conv: 'u', writable: true },
  { id: 'cell_uv_l2_mv', offset: 0x0e, rawKey: 'cell_uv_alarm_mv', conv: 'u', writable: true },
  { id: 'pack_ov_l1_v', offset: 0x0f, rawKey: 'pack_ov_warn_v', conv: 'x10', writable: true },
  { id: 'pack_ov_l2_v', offset: 0x10, rawKey: 'pack_ov_alarm_v', conv: 'x10', writable: true },
  { id: 'pack_uv_l1_v', offset: 0x11, rawKey: 'pack_uv_warn_v', conv: 'x10', writable: true },
  { id: 'pack_uv_l2_v', offset: 0x12, rawKey: 'pack_uv_alarm_v', conv: 'x10', writable: true },
  { id: 'chg_oc_l1_a', offset: 0x13, rawKey: 'chg_oc_warn_a', conv: 'cur_mag', writable: false },
  { id: 'chg_oc_l2_a', offset: 0x14, rawKey: 'chg_oc_alarm_a', conv: 'cur_mag', writable: false },
  { id: 'dsg_oc_l1_a', offset: 0x15, rawKey: 'dsg_oc_warn_a', conv: 'cur_mag', writable: false },
  { id: 'dsg_oc_l2_a', offset: 0x16, rawKey: 'dsg_oc_alarm_a', conv: 'cur_mag', writable: false },
  { id: 'chg_ot_l1_c', offset: 0x17, rawKey: 'chg_ot_warn_c', conv: 'temp', writable: true },
  { id: 'chg_ot_l2_c', offset: 0x18, rawKey: 'chg_ot_alarm_c', conv: 'temp', writable: true },
  { id: 'chg_ut_l1_c', offset: 0x19, rawKey: 'chg_ut_warn_c', conv: 'temp', writable: true },
  { id: 'chg_ut_l2_c', offset: 0x1a, rawKey: 'chg_ut_alarm_c', conv: 'temp', writable: true },
  { id: 'dsg_ot_l1_c', offset: 0x1b, rawKey: 'dsg_ot_warn_c', conv: 'temp', writable: true },
  { id: 'dsg_ot_l2_c', offset: 0x1c, rawKey: 'dsg_ot_alarm_c', conv: 'temp', writable: true },
  { id: 'dsg_ut_l1_c', offset: 0x1d, rawKey: 'dsg_ut_warn_c', conv: 'temp', writable: true },
  { id: 'dsg_ut_l2_c', offset: 0x1e, rawKey: 'dsg_ut_alarm_c', conv: 'temp', writable: true },
  { id: 'cell_diff_l1_mv', offset: 0x1f, rawKey: 'cell_diff_warn_mv', conv: 'u', writable: true },
  { id: 'cell_diff_l2_mv', offset: 0x20, rawKey: 'cell_diff_alarm_mv', conv: 'u', writable: true },
  { id: 'balance_start_mv', offset: 0x23, rawKey: 'balance_start_mv', conv: 'u', writable: true },
  { id: 'balance_delta_mv', offset: 0x24, rawKey: 'balance_delta_mv', conv: 'u', writable: true },
  { id: 'mos_ot_l1_c', offset: 0x28, rawKey: 'mos_ot_alarm_c', conv: 'temp', writable: true },
];

/** Switch registers (FC 0x06, 0 = off, 1 = on) per variant. */
export const SWITCH_REGS: Record<
  Variant,
  { charge: number; discharge: number; balancer: number; soc: number }
> = {
  d2: { charge: 0xa5, discharge: 0xa6, balancer: BALANCER_SWITCH_REG, soc: 0xa7 },
  p81: { charge: 0x121, discharge: 0x122, balancer: BALANCER_SWITCH_REG, soc: 0x127 },
};
