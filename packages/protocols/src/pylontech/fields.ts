/**
 * Fixed-layout replies as field tables (offsets in INFO bytes after hex decoding), and the
 * bit tables of the 0x44 alarm reply. Variable layouts (0x42, 0x44 blocks) are parsed by
 * their counts in decode.ts.
 */

/** Wire encodings of 16-bit fields. */
export type FieldKind =
  /** uint16 mV, reported in V */
  | 'mv_as_v'
  /** uint16 mV, reported in mV */
  | 'mv'
  /** int16 0.1 K, reported in degC ((raw - 2731) / 10) */
  | 'decikelvin'
  /** int16 0.1 A, + = charging */
  | 'deciamp';

export interface Field16 {
  offset: number;
  kind: FieldKind;
  /** raw key (the vector files' names) */
  key: string;
  /** canonical parameter id (core PARAMETERS) this limit corresponds to, if any */
  param?: string;
  /** unit conversion from the raw key's unit to the parameter's unit */
  paramFrom?: 'v_to_mv' | 'abs';
}

/**
 * 0x47 system parameters. Offset 0 is INFOFLAG. The current limits are also canonical
 * metrics (charge/discharge_current_limit_a), see decode.ts.
 *
 * Parameter levels are our reading of the field names: the spec has an alarm ("low") and
 * a protection ("under") threshold for cell and module voltage, so those map to levels 1
 * and 2; the single high-voltage, temperature and current limits map to level 1.
 */
export const SYSTEM_PARAMETER_FIELDS: readonly Field16[] = [
  {
    offset: 1,
    kind: 'mv_as_v',
    key: 'cell_high_voltage_limit_v',
    param: 'cell_ov_l1_mv',
    paramFrom: 'v_to_mv',
  },
  {
    offset: 3,
    kind: 'mv_as_v',
    key: 'cell_low_voltage_limit_v',
    param: 'cell_uv_l1_mv',
    paramFrom: 'v_to_mv',
  },
  {
    offset: 5,
    kind: 'mv_as_v',
    key: 'cell_under_voltage_limit_v',
    param: 'cell_uv_l2_mv',
    paramFrom: 'v_to_mv',
  },
  { offset: 7, kind: 'decikelvin', key: 'charge_high_temp_limit_c', param: 'chg_ot_l1_c' },
  { offset: 9, kind: 'decikelvin', key: 'charge_low_temp_limit_c', param: 'chg_ut_l1_c' },
  {
    offset: 11,
    kind: 'deciamp',
    key: 'charge_current_limit_a',
    param: 'chg_oc_l1_a',
    paramFrom: 'abs',
  },
  { offset: 13, kind: 'mv_as_v', key: 'module_high_voltage_limit_v', param: 'pack_ov_l1_v' },
  { offset: 15, kind: 'mv_as_v', key: 'module_low_voltage_limit_v', param: 'pack_uv_l1_v' },
  { offset: 17, kind: 'mv_as_v', key: 'module_under_voltage_limit_v', param: 'pack_uv_l2_v' },
  { offset: 19, kind: 'decikelvin', key: 'discharge_high_temp_limit_c', param: 'dsg_ot_l1_c' },
  { offset: 21, kind: 'decikelvin', key: 'discharge_low_temp_limit_c', param: 'dsg_ut_l1_c' },
  {
    offset: 23,
    kind: 'deciamp',
    key: 'discharge_current_limit_a',
    param: 'dsg_oc_l1_a',
    paramFrom: 'abs',
  },
];
export const SYSTEM_PARAMETERS_LENGTH = 25;

/** 0x92 charge/discharge management. No INFOFLAG: offset 0 is the command value. */
export const MANAGEMENT_FIELDS: readonly Field16[] = [
  { offset: 1, kind: 'mv_as_v', key: 'charge_voltage_limit_v' },
  { offset: 3, kind: 'mv_as_v', key: 'discharge_voltage_limit_v' },
  { offset: 5, kind: 'deciamp', key: 'charge_current_limit_a' },
  { offset: 7, kind: 'deciamp', key: 'discharge_current_limit_a' },
];
export const MANAGEMENT_STATUS_OFFSET = 9;
export const MANAGEMENT_LENGTH = 10;

/** 0x92 status byte: bit -> raw key. */
export const MANAGEMENT_STATUS_BITS: readonly (readonly [number, string])[] = [
  [7, 'charge_enable'],
  [6, 'discharge_enable'],
  [5, 'charge_immediately_1'],
  [4, 'charge_immediately_2'],
  [3, 'full_charge_request'],
];

/** An alarm flag: protocol identifier and taxonomy code (undefined: raw only). */
export interface AlarmBit {
  bit: number;
  id: string;
  code?: string;
}

/**
 * 0x44 Status 1: protections (reported with level 2). Listed in bit order 0..7; bit 3 is
 * reserved.
 */
export const STATUS1_BITS: readonly AlarmBit[] = [
  { bit: 0, id: 'module_over_voltage', code: 'pack_ov' },
  { bit: 1, id: 'cell_under_voltage', code: 'cell_uv' },
  { bit: 2, id: 'charge_over_current', code: 'chg_oc' },
  { bit: 4, id: 'discharge_over_current', code: 'dsg_oc' },
  { bit: 5, id: 'discharge_over_temperature', code: 'dsg_ot' },
  { bit: 6, id: 'charge_over_temperature', code: 'chg_ot' },
  { bit: 7, id: 'module_under_voltage', code: 'pack_uv' },
];

/** 0x44 Status 2/3 flags: bit -> raw boolean key. */
export const STATUS2_FLAGS: readonly (readonly [number, string])[] = [
  [0, 'precharge_mos'],
  [1, 'charge_mos'],
  [2, 'discharge_mos'],
  [3, 'running_on_module_power'],
];
export const STATUS3_FLAGS: readonly (readonly [number, string])[] = [
  [0, 'buzzer'],
  [3, 'fully_charged'],
  [5, 'heater'],
  [6, 'effective_discharge_current'],
  [7, 'effective_charge_current'],
];

/** 0x44 state codes of per-cell, per-sensor, current and voltage states. */
export const STATE_NORMAL = 0x00;
export const STATE_LOW = 0x01;
export const STATE_HIGH = 0x02;
export const STATE_OTHER = 0xf0;

/** RTN (the reply's CID2) meanings. */
export const RTN_MEANINGS: Readonly<Record<number, string>> = {
  0x00: 'normal',
  0x01: 'VER error',
  0x02: 'CHKSUM error',
  0x03: 'LCHKSUM error',
  0x04: 'CID2 invalid',
  0x05: 'command format error',
  0x06: 'invalid data',
  0x90: 'ADR error',
  0x91: 'internal communication error',
};
