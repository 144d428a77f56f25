/**
 * Field tables of Seplos V2 (ASCII, CID1 0x46): the fixed tail of the 0x42 telemetry block,
 * the bit tables of the 0x44 telesignalling reply and the 169-byte parameter block of
 * 0x47 / 0xA1 (seplos.md A4-A6). Plain data: the decoders and the parameter writer walk
 * these tables.
 */

/** Commands (CID2) of Seplos V2; replies carry the return code RTN in that place. */
export const CID2 = {
  TELEMETRY: 0x42,
  TELESIGNALLING: 0x44,
  CONTROL: 0x45,
  PARAMETERS: 0x47,
  HISTORY: 0x4b,
  CLOCK_READ: 0x4d,
  CLOCK_WRITE: 0x4e,
  PROTOCOL_VERSION: 0x4f,
  DEVICE_INFO: 0x51,
  CALIBRATE: 0xa0,
  WRITE_PARAMETERS: 0xa1,
  CAN_PROTOCOL: 0xa6,
  RS485_PROTOCOL: 0xa7,
} as const;

/** RTN meanings (seplos.md A2). */
export const RTN_MEANINGS: Readonly<Record<number, string>> = {
  0x00: 'normal',
  0x01: 'VER error',
  0x02: 'CHKSUM error',
  0x03: 'LCHKSUM error',
  0x04: 'CID2 invalid',
  0x05: 'command format error',
  0x06: 'invalid data',
  0x07: 'no data',
  0xe1: 'CID1 invalid',
  0xe2: 'command execution failure',
  0xe3: 'device fault',
  0xe4: 'invalid permissions',
};

/** 0 degC in the protocol's 0.1 K temperatures. */
export const KELVIN_OFFSET = 2731;

/**
 * 0x42 words after the temperatures (INFO offsets relative to the current field), all
 * big-endian: current int16 0.01 A (+ = charging), pack voltage 0.01 V, remaining 0.01 Ah,
 * P (1 byte, 10), full capacity 0.01 Ah, SOC 0.1 %, rated capacity 0.01 Ah, cycles, SOH
 * 0.1 %, port voltage 0.01 V, then P - 6 reserved words.
 */
export const TELEMETRY_TAIL = {
  current: 0,
  voltage: 2,
  remaining: 4,
  customCount: 6,
  full: 7,
  soc: 9,
  rated: 11,
  cycles: 13,
  soh: 15,
  port: 17,
  reserved: 19,
  /** Items of P that are defined (full, SOC, rated, cycles, SOH, port voltage). */
  definedItems: 6,
} as const;

/** The P value every capture shows; more items are read as reserved words. */
export const TELEMETRY_CUSTOM_COUNT = 10;

/** A flag of the 0x44 reply: bit, protocol identifier and taxonomy alarm (if any). */
export interface AlarmBit {
  bit: number;
  id: string;
  /** Taxonomy code; undefined when the bit is a state, not an alarm. */
  code?: string;
  /** 1 = alarm (warning), 2-3 = protection; undefined for faults (severity from the code). */
  level?: 1 | 2 | 3;
}

export const bits = (
  rows: readonly (readonly [string, string | undefined, (1 | 2 | 3)?])[],
): readonly AlarmBit[] =>
  rows.map(([id, code, level], bit) => ({
    bit,
    id,
    ...(code !== undefined ? { code } : {}),
    ...(level !== undefined ? { level } : {}),
  }));

/**
 * The six alarm-event bytes of 0x44 (events 1-6) and events 7-8, bit 0 first. Names are
 * seplos.md A5's (the vectors' identifiers). Event 4: power protection is bit 4 and power
 * alarm bit 5 ([SV2] and the vendor XML agree; one copy of the document swaps them).
 */
export const ALARM_EVENTS: readonly { key: string; offset: number; bits: readonly AlarmBit[] }[] = [
  {
    key: 'event1',
    offset: 0,
    bits: bits([
      ['voltage_sensor_fault', 'voltage_sense_fault'],
      ['temp_sensor_fault', 'temp_sensor_fault'],
      ['current_sensor_fault', 'current_sense_fault'],
      ['key_switch_fault', 'fault_other'],
      ['cell_voltage_dropout_fault', 'cell_sense_fault'],
      ['charge_switch_fault', 'chg_mos_fault'],
      ['discharge_switch_fault', 'dsg_mos_fault'],
      ['current_limit_switch_fault', 'fault_other'],
    ]),
  },
  {
    key: 'event2',
    offset: 1,
    bits: bits([
      ['cell_ov_alarm', 'cell_ov', 1],
      ['cell_ov_protect', 'cell_ov', 2],
      ['cell_uv_alarm', 'cell_uv', 1],
      ['cell_uv_protect', 'cell_uv', 2],
      ['pack_ov_alarm', 'pack_ov', 1],
      ['pack_ov_protect', 'pack_ov', 2],
      ['pack_uv_alarm', 'pack_uv', 1],
      ['pack_uv_protect', 'pack_uv', 2],
    ]),
  },
  {
    key: 'event3',
    offset: 2,
    bits: bits([
      ['charge_ot_alarm', 'chg_ot', 1],
      ['charge_ot_protect', 'chg_ot', 2],
      ['charge_ut_alarm', 'chg_ut', 1],
      ['charge_ut_protect', 'chg_ut', 2],
      ['discharge_ot_alarm', 'dsg_ot', 1],
      ['discharge_ot_protect', 'dsg_ot', 2],
      ['discharge_ut_alarm', 'dsg_ut', 1],
      ['discharge_ut_protect', 'dsg_ut', 2],
    ]),
  },
  {
    key: 'event4',
    offset: 3,
    bits: bits([
      ['env_ot_alarm', 'env_ot', 1],
      ['env_ot_protect', 'env_ot', 2],
      ['env_ut_alarm', 'env_ut', 1],
      ['env_ut_protect', 'env_ut', 2],
      ['power_ot_protect', 'mos_ot', 2],
      ['power_ot_alarm', 'mos_ot', 1],
      // The heater running is a state (also in the on/off byte), not an alarm.
      ['cell_heating', undefined],
      ['secondary_trip', 'fault_other'],
    ]),
  },
  {
    key: 'event5',
    offset: 4,
    bits: bits([
      ['charge_oc_alarm', 'chg_oc', 1],
      ['charge_oc_protect', 'chg_oc', 2],
      ['discharge_oc_alarm', 'dsg_oc', 1],
      ['discharge_oc_protect', 'dsg_oc', 2],
      // The second (transient) discharge level: the block's level-3 current threshold.
      ['transient_oc_protect', 'dsg_oc', 3],
      ['short_circuit_protect', 'short_circuit', 2],
      ['transient_oc_lockout', 'dsg_oc', 3],
      ['short_circuit_lockout', 'short_circuit', 2],
    ]),
  },
  {
    key: 'event6',
    offset: 5,
    bits: bits([
      // Charger (port) voltage too high: the charge side is protected like a pack OV.
      ['charge_hv_protect', 'pack_ov', 2],
      // Waiting to top the pack up again: a state.
      ['intermittent_recharge_wait', undefined],
      ['soc_low_alarm', 'soc_low', 1],
      ['soc_low_protect', 'soc_low', 2],
      ['cell_low_voltage_no_charge', 'low_voltage_no_charge'],
      ['output_reverse_protect', 'fault_other'],
      ['output_connection_fault', 'fault_other'],
      ['event6_bit7', undefined],
    ]),
  },
];

/** Event 7 (offset 12 after P): only bits 4 and 5 are defined, both states. */
export const EVENT7_BITS: readonly AlarmBit[] = [
  { bit: 4, id: 'auto_charge_wait' },
  { bit: 5, id: 'manual_charge_wait' },
];

/** Event 8 (offset 13 after P): memory, clock and calibration faults. */
export const EVENT8_BITS: readonly AlarmBit[] = [
  { bit: 0, id: 'eeprom_fault', code: 'eeprom_fault' },
  { bit: 1, id: 'rtc_fault', code: 'rtc_fault' },
  { bit: 2, id: 'no_voltage_calibration', code: 'fault_other' },
  { bit: 3, id: 'no_current_calibration', code: 'fault_other' },
  { bit: 4, id: 'no_zero_calibration', code: 'fault_other' },
  // The clock has never been set: a reminder, not a fault of the battery.
  { bit: 5, id: 'calendar_not_synced' },
];

/** Offsets after the P byte of 0x44. */
export const SIGNAL_TAIL = {
  switchState: 6,
  balance1: 7,
  balance2: 8,
  systemState: 9,
  disconnect1: 10,
  disconnect2: 11,
  event7: 12,
  event8: 13,
  /** P = 20: six bytes follow event 8 (the last repeats the operating mode). */
  trailing: 14,
} as const;
export const SIGNAL_CUSTOM_COUNT = 20;

/** On/off (switch) byte of 0x44. */
export const SWITCH_BITS = [
  [0, 'discharge_switch_on'],
  [1, 'charge_switch_on'],
  [2, 'current_limit_switch_on'],
  [3, 'heater_on'],
] as const;

/** System-state byte of 0x44 (bit 3 "fully charged" per the vendor XML). */
export const SYSTEM_STATE_BITS = [
  'discharging',
  'charging',
  'float_charging',
  'fully_charged',
  'standby',
  'shutdown',
] as const;

/** Per-cell / per-sensor state bytes of 0x44. */
export const STATE_NORMAL = 0x00;
export const STATE_LOW = 0x01;
export const STATE_HIGH = 0x02;
export const STATE_OTHER = 0xf0;

// ---------------------------------------------------------------- parameter block

/** Layout of the 0x47 reply / 0xA1 request INFO (169 bytes). */
export const BLOCK = {
  index: 0,
  wordCount: 1,
  words: 2,
  /** Number of 16-bit parameters (0x00..0x3B). */
  wordsN: 60,
  byteCountAt: 122,
  bytes: 123,
  /** Number of 8-bit parameters (0x3C..0x56). */
  bytesN: 27,
  switchCountAt: 150,
  switches: 151,
  switchesN: 8,
  model: 159,
  modelLength: 10,
  length: 169,
} as const;

/** How a block parameter is stored. */
export type BlockEnc = 'u16' | 'i16' | 'u8';

/**
 * One parameter of the block: its index (the vendor XML's ParaIndex: 0x00..0x3B words,
 * 0x3C..0x56 bytes), the raw key (vector names) and its scale to the key's unit
 * (value = (raw - offset) * scale), and the catalog parameter it is, if any, with the
 * factor from the key's unit to the catalog's. `negative`: the wire holds the discharge
 * direction as a negative number; the catalog value is its magnitude.
 */
export interface BlockField {
  index: number;
  key: string;
  enc: BlockEnc;
  scale: number;
  offset?: number;
  param?: string;
  toParam?: number;
  negative?: boolean;
}

const mv = (index: number, key: string, param?: string): BlockField => ({
  index,
  key,
  enc: 'u16',
  scale: 0.001,
  ...(param ? { param, toParam: 1000 } : {}),
});
const v10 = (index: number, key: string, param?: string): BlockField => ({
  index,
  key,
  enc: 'u16',
  scale: 0.01,
  ...(param ? { param, toParam: 1 } : {}),
});
const dk = (index: number, key: string, param?: string): BlockField => ({
  index,
  key,
  enc: 'u16',
  scale: 0.1,
  offset: KELVIN_OFFSET,
  ...(param ? { param, toParam: 1 } : {}),
});
const amps = (index: number, key: string, param?: string, negative = false): BlockField => ({
  index,
  key,
  enc: 'i16',
  scale: 0.01,
  ...(param ? { param, toParam: 1 } : {}),
  ...(negative ? { negative: true } : {}),
});
const byte = (index: number, key: string, scale = 1, param?: string, toParam = 1): BlockField => ({
  index,
  key,
  enc: 'u8',
  scale,
  ...(param ? { param, toParam } : {}),
});

/**
 * Every parameter of the block. Levels: the block's "alarm" thresholds are level 1, its
 * "protection" thresholds level 2, the transient (second) discharge over-current level 3.
 */
export const BLOCK_FIELDS: readonly BlockField[] = [
  mv(0x00, 'cell_high_alarm_v', 'cell_ov_l1_mv'),
  mv(0x01, 'cell_high_recover_v', 'cell_ov_l1_recover_mv'),
  mv(0x02, 'cell_low_alarm_v', 'cell_uv_l1_mv'),
  mv(0x03, 'cell_low_recover_v', 'cell_uv_l1_recover_mv'),
  mv(0x04, 'cell_ov_protect_v', 'cell_ov_l2_mv'),
  mv(0x05, 'cell_ov_recover_v', 'cell_ov_l2_recover_mv'),
  mv(0x06, 'cell_uv_protect_v', 'cell_uv_l2_mv'),
  mv(0x07, 'cell_uv_recover_v', 'cell_uv_l2_recover_mv'),
  mv(0x08, 'balance_start_v', 'balance_start_mv'),
  mv(0x09, 'cell_low_no_charge_v', 'cell_no_charge_mv'),
  v10(0x0a, 'pack_high_alarm_v', 'pack_ov_l1_v'),
  v10(0x0b, 'pack_high_recover_v', 'pack_ov_l1_recover_v'),
  v10(0x0c, 'pack_low_alarm_v', 'pack_uv_l1_v'),
  v10(0x0d, 'pack_low_recover_v', 'pack_uv_l1_recover_v'),
  v10(0x0e, 'pack_ov_protect_v', 'pack_ov_l2_v'),
  v10(0x0f, 'pack_ov_recover_v', 'pack_ov_l2_recover_v'),
  v10(0x10, 'pack_uv_protect_v', 'pack_uv_l2_v'),
  v10(0x11, 'pack_uv_recover_v', 'pack_uv_l2_recover_v'),
  v10(0x12, 'charge_hv_protect_v', 'charger_ov_v'),
  v10(0x13, 'charge_hv_recover_v', 'charger_ov_recover_v'),
  dk(0x14, 'charge_ot_alarm_c', 'chg_ot_l1_c'),
  dk(0x15, 'charge_ot_alarm_recover_c', 'chg_ot_l1_recover_c'),
  dk(0x16, 'charge_ut_alarm_c', 'chg_ut_l1_c'),
  dk(0x17, 'charge_ut_alarm_recover_c', 'chg_ut_l1_recover_c'),
  dk(0x18, 'charge_ot_protect_c', 'chg_ot_l2_c'),
  dk(0x19, 'charge_ot_protect_recover_c', 'chg_ot_l2_recover_c'),
  dk(0x1a, 'charge_ut_protect_c', 'chg_ut_l2_c'),
  dk(0x1b, 'charge_ut_protect_recover_c', 'chg_ut_l2_recover_c'),
  dk(0x1c, 'discharge_ot_alarm_c', 'dsg_ot_l1_c'),
  dk(0x1d, 'discharge_ot_alarm_recover_c', 'dsg_ot_l1_recover_c'),
  dk(0x1e, 'discharge_ut_alarm_c', 'dsg_ut_l1_c'),
  dk(0x1f, 'discharge_ut_alarm_recover_c', 'dsg_ut_l1_recover_c'),
  dk(0x20, 'discharge_ot_protect_c', 'dsg_ot_l2_c'),
  dk(0x21, 'discharge_ot_protect_recover_c', 'dsg_ot_l2_recover_c'),
  dk(0x22, 'discharge_ut_protect_c', 'dsg_ut_l2_c'),
  dk(0x23, 'discharge_ut_protect_recover_c', 'dsg_ut_l2_recover_c'),
  dk(0x24, 'cell_heating_start_c', 'heater_start_c'),
  dk(0x25, 'cell_heating_stop_c', 'heater_stop_c'),
  dk(0x26, 'env_ot_alarm_c', 'env_ot_l1_c'),
  dk(0x27, 'env_ot_alarm_recover_c', 'env_ot_l1_recover_c'),
  dk(0x28, 'env_ut_alarm_c', 'env_ut_l1_c'),
  dk(0x29, 'env_ut_alarm_recover_c', 'env_ut_l1_recover_c'),
  dk(0x2a, 'env_ot_protect_c', 'env_ot_l2_c'),
  dk(0x2b, 'env_ot_protect_recover_c', 'env_ot_l2_recover_c'),
  dk(0x2c, 'env_ut_protect_c', 'env_ut_l2_c'),
  dk(0x2d, 'env_ut_protect_recover_c', 'env_ut_l2_recover_c'),
  dk(0x2e, 'power_ot_alarm_c', 'mos_ot_l1_c'),
  dk(0x2f, 'power_ot_alarm_recover_c', 'mos_ot_l1_recover_c'),
  dk(0x30, 'power_ot_protect_c', 'mos_ot_l2_c'),
  dk(0x31, 'power_ot_protect_recover_c', 'mos_ot_l2_recover_c'),
  amps(0x32, 'charge_oc_alarm_a', 'chg_oc_l1_a'),
  amps(0x33, 'charge_oc_alarm_recover_a', 'chg_oc_l1_recover_a'),
  amps(0x34, 'discharge_oc_alarm_a', 'dsg_oc_l1_a', true),
  amps(0x35, 'discharge_oc_alarm_recover_a', 'dsg_oc_l1_recover_a', true),
  amps(0x36, 'charge_oc_protect_a', 'chg_oc_l2_a'),
  amps(0x37, 'discharge_oc_protect_a', 'dsg_oc_l2_a', true),
  amps(0x38, 'transient_oc_protect_a', 'dsg_oc_l3_a', true),
  { index: 0x39, key: 'soft_start_delay_ms', enc: 'u16', scale: 1 },
  {
    index: 0x3a,
    key: 'rated_capacity_ah',
    enc: 'u16',
    scale: 0.01,
    param: 'design_capacity_ah',
    toParam: 1,
  },
  { index: 0x3b, key: 'remaining_capacity_ah', enc: 'u16', scale: 0.01 },
  byte(0x3c, 'cell_fail_diff_v', 0.01, 'cell_diff_l2_mv', 1000),
  byte(0x3d, 'cell_fail_recover_v', 0.01, 'cell_diff_l2_recover_mv', 1000),
  byte(0x3e, 'balance_start_diff_v', 0.001, 'balance_delta_mv', 1000),
  byte(0x3f, 'balance_stop_diff_v', 0.001, 'balance_stop_delta_mv', 1000),
  byte(0x40, 'static_balance_time_h'),
  byte(0x41, 'cell_count_param', 1, 'cell_count'),
  byte(0x42, 'charge_oc_delay_s', 1, 'chg_oc_l2_delay_s'),
  byte(0x43, 'discharge_oc_delay_s', 1, 'dsg_oc_l2_delay_s'),
  byte(0x44, 'transient_oc_delay_ms', 1, 'dsg_oc_l3_delay_s', 0.001),
  byte(0x45, 'oc_recover_delay_s'),
  byte(0x46, 'oc_recover_times'),
  byte(0x47, 'charge_limit_delay_min'),
  byte(0x48, 'charge_activate_delay_min'),
  byte(0x49, 'charge_activate_interval_h'),
  byte(0x4a, 'charge_activate_times'),
  byte(0x4b, 'work_record_interval_min'),
  byte(0x4c, 'standby_record_interval_min'),
  byte(0x4d, 'standby_shutdown_delay_h'),
  byte(0x4e, 'soc_low_alarm_pct', 1, 'soc_low_alarm_pct'),
  byte(0x4f, 'soc_low_protect_pct', 1, 'soc_low_protect_pct'),
  byte(0x50, 'intermittent_charge_soc_pct'),
  byte(0x51, 'cycle_count_capacity_pct'),
  byte(0x52, 'connection_fault_mohm', 0.1),
  byte(0x53, 'comp_point1_cell'),
  byte(0x54, 'comp_point1_mohm', 0.1),
  byte(0x55, 'comp_point2_cell'),
  byte(0x56, 'comp_point2_mohm', 0.1),
];

/** Byte offset of a block parameter in the 169-byte INFO. */
export function blockOffset(f: Pick<BlockField, 'index'>): number {
  return f.index < BLOCK.wordsN
    ? BLOCK.words + 2 * f.index
    : BLOCK.bytes + (f.index - BLOCK.wordsN);
}

/** A function-switch bit of the block mapped to a catalog switch (1 = enabled). */
export interface SwitchField {
  byte: number;
  bit: number;
  key: string;
  param?: string;
}

/** Function switches with a catalog id (the others stay in raw.function_switches_hex). */
export const SWITCH_FIELDS: readonly SwitchField[] = [
  { byte: 3, bit: 6, key: 'cell_heating_enabled', param: 'heater_enabled' },
  { byte: 6, bit: 0, key: 'charge_balancing_enabled', param: 'balance_enabled' },
  { byte: 6, bit: 1, key: 'static_balancing_enabled' },
  { byte: 7, bit: 2, key: 'history_recording_enabled' },
];

/**
 * Parameters never written remotely: the series cell count (a wrong one leaves cells
 * unwatched), as in the JK family.
 */
export const NEVER_WRITTEN: ReadonlySet<string> = new Set(['cell_count']);
