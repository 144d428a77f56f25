/**
 * Field tables of the JK wire formats (offsets from jk.md; see README.md for the sources).
 * Plain data: the decoders walk these tables, no logic here.
 */

/** Record layouts of the 55AA type 0x02 (cell info) record. */
export const LAYOUTS = ['JK02_32S', 'JK02_24S'] as const;
export type Layout = (typeof LAYOUTS)[number];

/** Read-cycle link selectable with ReadOptions.variant besides the two layouts. */
export const NW_VARIANT = '4E57';

export const RECORD_LENGTH = 300;
/** Some BLE firmware pads records to 320 bytes; the checksum stays at 299. */
export const RECORD_LENGTH_PADDED = 320;
export const RECORD_HEADER = [0x55, 0xaa, 0xeb, 0x90] as const;
export const COMMAND_HEADER = [0xaa, 0x55, 0x90, 0xeb] as const;

export const RECORD_SETTINGS = 0x01;
export const RECORD_CELL_INFO = 0x02;
export const RECORD_DEVICE_INFO = 0x03;
export const RECORD_LOGBOOK = 0x05;

/**
 * Offsets of the cell-info record per layout. -1 = the field is not in this layout (or its
 * offset was not confirmed for it: JK02_24S bytes 160, 168, 169, 186 and 204 hold values
 * in the real 24S capture that do not fit the documented meaning, so they are not read).
 */
export interface CellInfoLayout {
  maxCells: number;
  cellMask: number;
  avgCell: number;
  deltaCell: number;
  wireRes: number;
  mosTemp: number;
  wireAlarm: number;
  voltage: number;
  /** Unsigned power in mW (the sign is lost: power_w is computed from V x I instead). */
  power: number;
  current: number;
  t1: number;
  t2: number;
  alarm: number;
  /** 16 or 32 alarm bits. */
  alarmBits: 16 | 32;
  balanceCurrent: number;
  balanceAction: number;
  soc: number;
  remaining: number;
  full: number;
  cycles: number;
  cycleCapacity: number;
  soh: number;
  prechargeState: number;
  userAlarm: number;
  runtime: number;
  chargeMos: number;
  dischargeMos: number;
  prechargeMos: number;
  balancerRunning: number;
  tempPresent: number;
  heating: number;
  emergencyTime: number;
  heatingCurrent: number;
  charger: number;
  /** JK02_32S only: the three extra temperature words (mapping disputed, see README). */
  temp254: number;
  temp256: number;
  temp258: number;
  batteryType: number;
  chargeStatus: number;
  dryContacts: number;
}

export const CELL_INFO: Record<Layout, CellInfoLayout> = {
  JK02_24S: {
    maxCells: 24,
    cellMask: 54,
    avgCell: 58,
    deltaCell: 60,
    wireRes: 64,
    mosTemp: 134,
    wireAlarm: 114,
    voltage: 118,
    power: 122,
    current: 126,
    t1: 130,
    t2: 132,
    alarm: 136,
    alarmBits: 16,
    balanceCurrent: 138,
    balanceAction: 140,
    soc: 141,
    remaining: 142,
    full: 146,
    cycles: 150,
    cycleCapacity: 154,
    soh: 158,
    prechargeState: 159,
    userAlarm: -1,
    runtime: 162,
    chargeMos: 166,
    dischargeMos: 167,
    prechargeMos: -1,
    balancerRunning: -1,
    tempPresent: 182,
    heating: 183,
    emergencyTime: -1,
    heatingCurrent: -1,
    charger: 213,
    temp254: -1,
    temp256: -1,
    temp258: -1,
    batteryType: -1,
    chargeStatus: -1,
    dryContacts: -1,
  },
  JK02_32S: {
    maxCells: 32,
    cellMask: 70,
    avgCell: 74,
    deltaCell: 76,
    wireRes: 80,
    mosTemp: 144,
    wireAlarm: 146,
    voltage: 150,
    power: 154,
    current: 158,
    t1: 162,
    t2: 164,
    alarm: 166,
    alarmBits: 32,
    balanceCurrent: 170,
    balanceAction: 172,
    soc: 173,
    remaining: 174,
    full: 178,
    cycles: 182,
    cycleCapacity: 186,
    soh: 190,
    prechargeState: 191,
    userAlarm: 192,
    runtime: 194,
    chargeMos: 198,
    dischargeMos: 199,
    prechargeMos: 200,
    balancerRunning: 201,
    tempPresent: 214,
    heating: 215,
    emergencyTime: 218,
    heatingCurrent: 236,
    charger: 245,
    temp254: 254,
    temp256: 256,
    temp258: 258,
    batteryType: 275,
    chargeStatus: 280,
    dryContacts: 281,
  },
};

/** Alarm bits of the cell-info record: [protocol identifier, taxonomy code or '', level]. */
export const ALARM_BITS: readonly (readonly [string, string, number?])[] = [
  ['wire_resistance', 'wire_resistance'],
  ['mos_ot', 'mos_ot'],
  ['cell_count_mismatch', 'cell_count_mismatch'],
  ['current_sensor_anomaly', 'current_sense_fault'],
  ['cell_ovp', 'cell_ov'],
  ['pack_ovp', 'pack_ov'],
  ['charge_oc', 'chg_oc'],
  ['charge_sc', 'short_circuit'],
  ['charge_ot', 'chg_ot'],
  ['charge_ut', 'chg_ut'],
  ['coprocessor_comm_error', 'internal_comm'],
  ['cell_uvp', 'cell_uv'],
  ['pack_uvp', 'pack_uv'],
  ['discharge_oc', 'dsg_oc'],
  ['discharge_sc', 'short_circuit'],
  ['discharge_ot', 'dsg_ot'],
  ['charge_mos_abnormal', 'chg_mos_fault'],
  ['discharge_mos_abnormal', 'dsg_mos_fault'],
  ['gps_disconnected', 'external_comm'],
  // A reminder to change the password: not an alarm of the battery.
  ['modify_password_in_time', ''],
  ['discharge_on_failed', 'fault_other'],
  ['battery_ot_alarm', 'cell_ot'],
  ['temp_sensor_anomaly', 'temp_sensor_fault'],
  ['plc_module_anomaly', 'fault_other'],
  ['scp_release_failed', 'fault_other'],
  ['discharge_oc2', 'dsg_oc', 2],
  ['discharge_oc3', 'dsg_oc', 3],
  ['discharge_ut', 'dsg_ut'],
  ['gps_remote_lock', ''],
];

/** How a settings field is stored and scaled: value = raw * scale. */
export type SettingKind = 'u32' | 'i32' | 'bool' | 'u8' | 'i8';

export interface SettingField {
  offset: number;
  /** raw.<key> (the vector files' names). */
  key: string;
  kind: SettingKind;
  scale: number;
  /** JK02_32S-only fields are read only when the variant says so. */
  only32?: boolean;
  /** 55AA host write register (jk.md 1.3). */
  reg?: number;
  /** Core PARAMETERS id and the factor from our value to the parameter's unit. */
  param?: string;
  paramScale?: number;
}

// Registers 0x22 (32S) / 0x26 (24S) for the balance start voltage are resolved in code.
export const SETTINGS: readonly SettingField[] = [
  { offset: 6, key: 'smart_sleep_v', kind: 'u32', scale: 0.001, reg: 0x01 },
  {
    offset: 10,
    key: 'cell_uvp_v',
    kind: 'u32',
    scale: 0.001,
    reg: 0x02,
    param: 'cell_uv_l2_mv',
    paramScale: 1000,
  },
  {
    offset: 14,
    key: 'cell_uvpr_v',
    kind: 'u32',
    scale: 0.001,
    reg: 0x03,
    param: 'cell_uv_l2_recover_mv',
    paramScale: 1000,
  },
  {
    offset: 18,
    key: 'cell_ovp_v',
    kind: 'u32',
    scale: 0.001,
    reg: 0x04,
    param: 'cell_ov_l2_mv',
    paramScale: 1000,
  },
  {
    offset: 22,
    key: 'cell_ovpr_v',
    kind: 'u32',
    scale: 0.001,
    reg: 0x05,
    param: 'cell_ov_l2_recover_mv',
    paramScale: 1000,
  },
  {
    offset: 26,
    key: 'balance_trigger_v',
    kind: 'u32',
    scale: 0.001,
    reg: 0x06,
    param: 'balance_delta_mv',
    paramScale: 1000,
  },
  { offset: 30, key: 'soc100_v', kind: 'u32', scale: 0.001, reg: 0x07 },
  { offset: 34, key: 'soc0_v', kind: 'u32', scale: 0.001, reg: 0x08 },
  { offset: 38, key: 'request_charge_v', kind: 'u32', scale: 0.001, reg: 0x09, only32: true },
  { offset: 42, key: 'float_v', kind: 'u32', scale: 0.001, reg: 0x0a, only32: true },
  { offset: 46, key: 'power_off_v', kind: 'u32', scale: 0.001, reg: 0x0b },
  {
    offset: 50,
    key: 'max_charge_current_a',
    kind: 'u32',
    scale: 0.001,
    reg: 0x0c,
    param: 'chg_oc_l2_a',
    paramScale: 1,
  },
  {
    offset: 54,
    key: 'charge_ocp_delay_s',
    kind: 'u32',
    scale: 1,
    reg: 0x0d,
    param: 'chg_oc_l2_delay_s',
    paramScale: 1,
  },
  {
    offset: 58,
    key: 'charge_ocp_recovery_s',
    kind: 'u32',
    scale: 1,
    reg: 0x0e,
    param: 'chg_oc_l2_recover_delay_s',
    paramScale: 1,
  },
  {
    offset: 62,
    key: 'max_discharge_current_a',
    kind: 'u32',
    scale: 0.001,
    reg: 0x0f,
    param: 'dsg_oc_l2_a',
    paramScale: 1,
  },
  {
    offset: 66,
    key: 'discharge_ocp_delay_s',
    kind: 'u32',
    scale: 1,
    reg: 0x10,
    param: 'dsg_oc_l2_delay_s',
    paramScale: 1,
  },
  {
    offset: 70,
    key: 'discharge_ocp_recovery_s',
    kind: 'u32',
    scale: 1,
    reg: 0x11,
    param: 'dsg_oc_l2_recover_delay_s',
    paramScale: 1,
  },
  { offset: 74, key: 'scp_recovery_s', kind: 'u32', scale: 1, reg: 0x12 },
  {
    offset: 78,
    key: 'max_balance_current_a',
    kind: 'u32',
    scale: 0.001,
    reg: 0x13,
    param: 'balance_current_a',
    paramScale: 1,
  },
  {
    offset: 82,
    key: 'charge_otp_c',
    kind: 'i32',
    scale: 0.1,
    reg: 0x14,
    param: 'chg_ot_l2_c',
    paramScale: 1,
  },
  {
    offset: 86,
    key: 'charge_otpr_c',
    kind: 'i32',
    scale: 0.1,
    reg: 0x15,
    param: 'chg_ot_l2_recover_c',
    paramScale: 1,
  },
  {
    offset: 90,
    key: 'discharge_otp_c',
    kind: 'i32',
    scale: 0.1,
    reg: 0x16,
    param: 'dsg_ot_l2_c',
    paramScale: 1,
  },
  {
    offset: 94,
    key: 'discharge_otpr_c',
    kind: 'i32',
    scale: 0.1,
    reg: 0x17,
    param: 'dsg_ot_l2_recover_c',
    paramScale: 1,
  },
  {
    offset: 98,
    key: 'charge_utp_c',
    kind: 'i32',
    scale: 0.1,
    reg: 0x18,
    param: 'chg_ut_l2_c',
    paramScale: 1,
  },
  {
    offset: 102,
    key: 'charge_utpr_c',
    kind: 'i32',
    scale: 0.1,
    reg: 0x19,
    param: 'chg_ut_l2_recover_c',
    paramScale: 1,
  },
  {
    offset: 106,
    key: 'mos_otp_c',
    kind: 'i32',
    scale: 0.1,
    reg: 0x1a,
    param: 'mos_ot_l2_c',
    paramScale: 1,
  },
  {
    offset: 110,
    key: 'mos_otpr_c',
    kind: 'i32',
    scale: 0.1,
    reg: 0x1b,
    param: 'mos_ot_l2_recover_c',
    paramScale: 1,
  },
  {
    offset: 114,
    key: 'cell_count',
    kind: 'u32',
    scale: 1,
    reg: 0x1c,
    param: 'cell_count',
    paramScale: 1,
  },
  {
    offset: 118,
    key: 'charge_switch',
    kind: 'bool',
    scale: 1,
    reg: 0x1d,
    param: 'charge_enabled',
    paramScale: 1,
  },
  {
    offset: 122,
    key: 'discharge_switch',
    kind: 'bool',
    scale: 1,
    reg: 0x1e,
    param: 'discharge_enabled',
    paramScale: 1,
  },
  {
    offset: 126,
    key: 'balancer_switch',
    kind: 'bool',
    scale: 1,
    reg: 0x1f,
    param: 'balance_enabled',
    paramScale: 1,
  },
  {
    offset: 130,
    key: 'nominal_capacity_ah',
    kind: 'u32',
    scale: 0.001,
    reg: 0x20,
    param: 'design_capacity_ah',
    paramScale: 1,
  },
  {
    offset: 134,
    key: 'scp_delay_us',
    kind: 'u32',
    scale: 1,
    param: 'short_circuit_delay_us',
    paramScale: 1,
  },
  {
    offset: 138,
    key: 'balance_start_v',
    kind: 'u32',
    scale: 0.001,
    param: 'balance_start_mv',
    paramScale: 1000,
  },
  { offset: 270, key: 'device_address', kind: 'u8', scale: 1, only32: true },
  { offset: 274, key: 'precharge_time_s', kind: 'u8', scale: 1, only32: true },
  { offset: 284, key: 'heating_start_c', kind: 'i8', scale: 1, only32: true },
  { offset: 285, key: 'heating_stop_c', kind: 'i8', scale: 1, only32: true },
  { offset: 286, key: 'smart_sleep_h', kind: 'u8', scale: 1, only32: true },
  {
    offset: 296,
    key: 'discharge_utp_c',
    kind: 'i8',
    scale: 1,
    only32: true,
    param: 'dsg_ut_l2_c',
    paramScale: 1,
  },
  {
    offset: 297,
    key: 'discharge_utpr_c',
    kind: 'i8',
    scale: 1,
    only32: true,
    param: 'dsg_ut_l2_recover_c',
    paramScale: 1,
  },
];

/** Balance start voltage write register per layout (jk.md 1.3). */
export const BALANCE_START_REG: Record<Layout, number> = { JK02_32S: 0x22, JK02_24S: 0x26 };

/** JK02_32S settings feature word (offset 282, u16): bit names. */
export const FEATURE_BITS = [
  'heating',
  'disable_temp_sensors',
  'gps_heartbeat',
  'port_rs485',
  'display_always_on',
  'special_charger',
  'smart_sleep',
  'disable_pcl_module',
  'timed_stored_data',
  'charging_float_mode',
] as const;

/** Device info record (type 0x03): ASCII fields [offset, size, raw key]. */
export const DEVICE_INFO_TEXT: readonly (readonly [number, number, string])[] = [
  [6, 16, 'vendor_id'],
  [22, 8, 'hardware_version'],
  [30, 8, 'software_version'],
  [46, 16, 'device_name'],
  [78, 8, 'manufacturing_date'],
  [86, 11, 'serial_number'],
  [102, 16, 'user_data'],
];
// Offsets 62 (16), 97 (5) and 118 (16) hold passcodes: deliberately never decoded.

/** JK-PB bus-master trigger registers (FC 0x10, one register, value 0) and their records. */
export const PB_TRIGGERS = {
  pb_read_status: { register: 0x1620, record: RECORD_CELL_INFO },
  pb_read_settings: { register: 0x161e, record: RECORD_SETTINGS },
  pb_read_about: { register: 0x161c, record: RECORD_DEVICE_INFO },
} as const;
export type PbTrigger = keyof typeof PB_TRIGGERS;

// ---- 4E57 ("NW") protocol ----

export const NW_START0 = 0x4e;
export const NW_START1 = 0x57;
export const NW_END_FLAG = 0x68;
/** Minimum frame: header 11 + data 1 + record 4 + end 1 + zero 2 + checksum 2. */
export const NW_MIN_LENGTH = 21;
export const NW_MAX_LENGTH = 1024;

export const NW_CMD = {
  activate: 0x01,
  write: 0x02,
  read: 0x03,
  password: 0x05,
  read_all: 0x06,
} as const;

/** How a 4E57 data item is decoded. */
export type NwKind = 'u' | 's' | 'temp' | 'ascii' | 'cells' | 'current';

/** Value size in bytes (without the ID byte) and meaning of every known 4E57 data item. */
export interface NwItem {
  size: number;
  key: string;
  kind: NwKind;
  scale?: number;
}

export const NW_ITEMS: ReadonlyMap<number, NwItem> = new Map<number, NwItem>([
  [0x79, { size: 0, key: 'cells', kind: 'cells' }],
  [0x80, { size: 2, key: 'mos_temp_c', kind: 'temp' }],
  [0x81, { size: 2, key: 'box_temp_c', kind: 'temp' }],
  [0x82, { size: 2, key: 'battery_temp_c', kind: 'temp' }],
  [0x83, { size: 2, key: 'pack_voltage_v', kind: 'u', scale: 0.01 }],
  [0x84, { size: 2, key: 'current_raw', kind: 'current' }],
  [0x85, { size: 1, key: 'soc_pct', kind: 'u' }],
  [0x86, { size: 1, key: 'temp_sensor_count', kind: 'u' }],
  [0x87, { size: 2, key: 'cycles', kind: 'u' }],
  [0x89, { size: 4, key: 'cycle_capacity_ah', kind: 'u' }],
  [0x8a, { size: 2, key: 'cell_count', kind: 'u' }],
  [0x8b, { size: 2, key: 'alarm_bitmask', kind: 'u' }],
  [0x8c, { size: 2, key: 'status_bitmask', kind: 'u' }],
  [0x8e, { size: 2, key: 'pack_ovp_v', kind: 'u', scale: 0.01 }],
  [0x8f, { size: 2, key: 'pack_uvp_v', kind: 'u', scale: 0.01 }],
  [0x90, { size: 2, key: 'cell_ovp_mv', kind: 'u' }],
  [0x91, { size: 2, key: 'cell_ovpr_mv', kind: 'u' }],
  [0x92, { size: 2, key: 'cell_ovp_delay_s', kind: 'u' }],
  [0x93, { size: 2, key: 'cell_uvp_mv', kind: 'u' }],
  [0x94, { size: 2, key: 'cell_uvpr_mv', kind: 'u' }],
  [0x95, { size: 2, key: 'cell_uvp_delay_s', kind: 'u' }],
  [0x96, { size: 2, key: 'cell_delta_protect_mv', kind: 'u' }],
  [0x97, { size: 2, key: 'discharge_ocp_a', kind: 'u' }],
  [0x98, { size: 2, key: 'discharge_ocp_delay_s', kind: 'u' }],
  [0x99, { size: 2, key: 'charge_ocp_a', kind: 'u' }],
  [0x9a, { size: 2, key: 'charge_ocp_delay_s', kind: 'u' }],
  [0x9b, { size: 2, key: 'balance_start_mv', kind: 'u' }],
  [0x9c, { size: 2, key: 'balance_trigger_mv', kind: 'u' }],
  [0x9d, { size: 1, key: 'balancer_switch', kind: 'u' }],
  [0x9e, { size: 2, key: 'mos_otp_c', kind: 'u' }],
  [0x9f, { size: 2, key: 'mos_otpr_c', kind: 'u' }],
  [0xa0, { size: 2, key: 'box_otp_c', kind: 'u' }],
  [0xa1, { size: 2, key: 'box_otpr_c', kind: 'u' }],
  [0xa2, { size: 2, key: 'battery_temp_diff_c', kind: 'u' }],
  [0xa3, { size: 2, key: 'charge_otp_c', kind: 'u' }],
  [0xa4, { size: 2, key: 'discharge_otp_c', kind: 'u' }],
  [0xa5, { size: 2, key: 'charge_utp_c', kind: 's' }],
  [0xa6, { size: 2, key: 'charge_utpr_c', kind: 's' }],
  [0xa7, { size: 2, key: 'discharge_utp_c', kind: 's' }],
  [0xa8, { size: 2, key: 'discharge_utpr_c', kind: 's' }],
  [0xa9, { size: 1, key: 'configured_cell_count', kind: 'u' }],
  [0xaa, { size: 4, key: 'nominal_capacity_ah', kind: 'u' }],
  [0xab, { size: 1, key: 'charge_switch', kind: 'u' }],
  [0xac, { size: 1, key: 'discharge_switch', kind: 'u' }],
  [0xad, { size: 2, key: 'current_calibration_ma', kind: 'u' }],
  [0xae, { size: 1, key: 'board_address', kind: 'u' }],
  [0xaf, { size: 1, key: 'battery_type', kind: 'u' }],
  [0xb0, { size: 2, key: 'sleep_wait_s', kind: 'u' }],
  [0xb1, { size: 1, key: 'low_capacity_alarm_pct', kind: 'u' }],
  // 0xB2 is the parameter password: its bytes are skipped, never reported.
  [0xb2, { size: 10, key: '', kind: 'ascii' }],
  [0xb3, { size: 1, key: 'special_charger_switch', kind: 'u' }],
  [0xb4, { size: 8, key: 'device_id', kind: 'ascii' }],
  [0xb5, { size: 4, key: 'manufacturing_date', kind: 'ascii' }],
  [0xb6, { size: 4, key: 'working_time_min', kind: 'u' }],
  [0xb7, { size: 15, key: 'software_version', kind: 'ascii' }],
  [0xb8, { size: 1, key: 'start_current_calibration', kind: 'u' }],
  [0xb9, { size: 4, key: 'actual_capacity_ah', kind: 'u' }],
  [0xba, { size: 24, key: 'manufacturer_id', kind: 'ascii' }],
  [0xc0, { size: 1, key: 'protocol_version', kind: 'u' }],
]);

/** 4E57 data items that hold a catalog parameter (decoded value = catalog unit; 0x8E / 0x8F are sent in 0.01 V). */
export const NW_PARAMS: readonly (readonly [number, string])[] = [
  [0x8e, 'pack_ov_l2_v'],
  [0x8f, 'pack_uv_l2_v'],
  [0x90, 'cell_ov_l2_mv'],
  [0x91, 'cell_ov_l2_recover_mv'],
  [0x92, 'cell_ov_l2_delay_s'],
  [0x93, 'cell_uv_l2_mv'],
  [0x94, 'cell_uv_l2_recover_mv'],
  [0x95, 'cell_uv_l2_delay_s'],
  [0x96, 'cell_diff_l2_mv'],
  [0x97, 'dsg_oc_l2_a'],
  [0x98, 'dsg_oc_l2_delay_s'],
  [0x99, 'chg_oc_l2_a'],
  [0x9a, 'chg_oc_l2_delay_s'],
  [0x9b, 'balance_start_mv'],
  [0x9c, 'balance_delta_mv'],
  [0x9d, 'balance_enabled'],
  [0x9e, 'mos_ot_l2_c'],
  [0x9f, 'mos_ot_l2_recover_c'],
  [0xa3, 'chg_ot_l2_c'],
  [0xa4, 'dsg_ot_l2_c'],
  [0xa5, 'chg_ut_l2_c'],
  [0xa6, 'chg_ut_l2_recover_c'],
  [0xa7, 'dsg_ut_l2_c'],
  [0xa8, 'dsg_ut_l2_recover_c'],
  [0xa9, 'cell_count'],
  [0xaa, 'design_capacity_ah'],
  [0xab, 'charge_enabled'],
  [0xac, 'discharge_enabled'],
  [0xb0, 'sleep_delay_s'],
  [0xb1, 'soc_low_alarm_pct'],
];

/** 4E57 warning bits (item 0x8B): [identifier, taxonomy code or '']. */
export const NW_ALARM_BITS: readonly (readonly [string, string])[] = [
  ['low_capacity', 'soc_low'],
  ['mos_ot', 'mos_ot'],
  ['charge_ov', 'pack_ov'],
  ['discharge_uv', 'pack_uv'],
  ['battery_ot', 'cell_ot'],
  ['charge_oc', 'chg_oc'],
  ['discharge_oc', 'dsg_oc'],
  ['cell_delta', 'cell_diff'],
  ['box_ot', 'box_ot'],
  ['battery_ut', 'cell_ut'],
  ['cell_ov', 'cell_ov'],
  ['cell_uv', 'cell_uv'],
  ['protection_309_a', 'fault_other'],
  ['protection_309_b', 'fault_other'],
];

export const BATTERY_TYPES = ['LFP', 'Li-ion', 'LTO'] as const;
export const CHARGE_STATUS = ['bulk', 'absorption', 'float'] as const;
