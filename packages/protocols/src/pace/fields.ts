/**
 * Field tables of the PACE "paceic" protocol (pace.md; sources in README.md). Plain data:
 * the decoders and encoders walk these tables, no logic here. Offsets are in INFO bytes
 * after hex decoding; every multi-byte value is big-endian.
 */

/** Record and command layouts: PbmsTools generation (VER 0x25) and EG4 LifePower4 (VER 0x20). */
export const VARIANTS = ['v25', 'v20-eg4'] as const;
export type Variant = (typeof VARIANTS)[number];
export const DEFAULT_VARIANT: Variant = 'v25';

/** VER and CID1 each variant writes into requests. */
export const VARIANT_ENVELOPE: Record<Variant, { ver: number; cid1: number }> = {
  v25: { ver: 0x25, cid1: 0x46 },
  'v20-eg4': { ver: 0x20, cid1: 0x4a },
};

/** 0 degC in 0.1 K: PACE documents use 2730, the EG4 document 2731 (pace.md section 4). */
export const KELVIN_OFFSET: Record<Variant, number> = { v25: 2730, 'v20-eg4': 2731 };

/** Return codes (the reply's CID2) and their meaning (pace.md section 2). */
export const RTN_MEANINGS: Readonly<Record<number, string>> = {
  0x00: 'normal',
  0x01: 'version error',
  0x02: 'CHKSUM error',
  0x03: 'LCHKSUM error',
  0x04: 'CID2 invalid (unsupported command)',
  0x05: 'format error',
  0x06: 'invalid data',
  0x09: 'operation or write error (command refused)',
  0x90: 'ADR error',
  0x91: 'communication error',
};
/** The RTN a v25 pack answers a refused command with (may still carry INFO). */
export const RTN_REFUSED = 0x09;

// ---- 0x42 analog values (v25) ----

/** Bytes of a pack block before the tail: M, 2M cells, N, 2N temps, current, voltage, remaining, P. */
export const analogFixedBytes = (m: number, n: number): number => 1 + 2 * m + 1 + 2 * n + 7;

/**
 * The tail after P, in order; present as far as the block's bytes reach (never trust P for
 * its length, pace.md section 4). `scale` gives the value in the raw key's unit.
 */
export interface TailField {
  key: string;
  size: 1 | 2 | 4;
  scale: number;
  /** One source only (pace.md: uncertain): kept in raw, never a canonical value. */
  uncertain?: boolean;
}
export const ANALOG_TAIL: readonly TailField[] = [
  { key: 'full_capacity_ah', size: 2, scale: 0.01 },
  { key: 'cycles', size: 2, scale: 1 },
  { key: 'design_capacity_ah', size: 2, scale: 0.01 },
  { key: 'pack_soc_pct', size: 1, scale: 1 },
  { key: 'cum_charge_ah', size: 4, scale: 1, uncertain: true },
  { key: 'cum_discharge_ah', size: 4, scale: 1, uncertain: true },
  { key: 'pack_soh_pct', size: 1, scale: 1 },
  { key: 'independent_voltage_v', size: 2, scale: 0.001 },
  { key: 'independent_current_a', size: 2, scale: 0.01 },
  { key: 'summary_remaining_ah', size: 4, scale: 0.01, uncertain: true },
  { key: 'summary_full_ah', size: 4, scale: 0.01, uncertain: true },
];

// ---- 0x44 status (v25) ----

/** State bytes of cells, sensors, currents and voltage. */
export const STATE_NORMAL = 0x00;
export const STATE_LOW = 0x01;
export const STATE_HIGH = 0x02;
export const STATE_OTHER = 0xf0;

/** One flag bit: identifier (pace.md section 5), taxonomy code and level ('' = raw only). */
export interface FlagBit {
  bit: number;
  id: string;
  code: string;
  level?: number;
}

/** The status bytes after the three state bytes, in order. */
export const STATUS_BYTES = [
  'protect1',
  'protect2',
  'indication',
  'control',
  'fault',
  'balance1',
  'balance2',
  'warn1',
  'warn2',
] as const;

/** Protection bits (level 2: the MOSFET opens). */
export const PROTECT1_BITS: readonly FlagBit[] = [
  { bit: 0, id: 'cell_ov_protect', code: 'cell_ov', level: 2 },
  { bit: 1, id: 'cell_uv_protect', code: 'cell_uv', level: 2 },
  { bit: 2, id: 'pack_ov_protect', code: 'pack_ov', level: 2 },
  { bit: 3, id: 'pack_uv_protect', code: 'pack_uv', level: 2 },
  { bit: 4, id: 'charge_oc_protect', code: 'chg_oc', level: 2 },
  { bit: 5, id: 'discharge_oc_protect', code: 'dsg_oc', level: 2 },
  { bit: 6, id: 'short_circuit_protect', code: 'short_circuit', level: 2 },
  { bit: 7, id: 'charger_ov_protect', code: 'pack_ov', level: 2 },
];
export const PROTECT2_BITS: readonly FlagBit[] = [
  { bit: 0, id: 'charge_ot_protect', code: 'chg_ot', level: 2 },
  { bit: 1, id: 'discharge_ot_protect', code: 'dsg_ot', level: 2 },
  { bit: 2, id: 'charge_ut_protect', code: 'chg_ut', level: 2 },
  { bit: 3, id: 'discharge_ut_protect', code: 'dsg_ut', level: 2 },
  { bit: 4, id: 'mos_ot_protect', code: 'mos_ot', level: 2 },
  { bit: 5, id: 'env_ot_protect', code: 'env_ot', level: 2 },
  { bit: 6, id: 'env_ut_protect', code: 'env_ut', level: 2 },
  // "fully": the pack reached full charge; not a fault (nkinnan #30, syssi PR #56).
  { bit: 7, id: 'fully_charged', code: '' },
];
/** Warnings (alarms before the protection: level 1). */
export const WARN1_BITS: readonly FlagBit[] = [
  { bit: 0, id: 'cell_ov_warn', code: 'cell_ov', level: 1 },
  { bit: 1, id: 'cell_uv_warn', code: 'cell_uv', level: 1 },
  { bit: 2, id: 'pack_ov_warn', code: 'pack_ov', level: 1 },
  { bit: 3, id: 'pack_uv_warn', code: 'pack_uv', level: 1 },
  { bit: 4, id: 'charge_oc_warn', code: 'chg_oc', level: 1 },
  { bit: 5, id: 'discharge_oc_warn', code: 'dsg_oc', level: 1 },
];
export const WARN2_BITS: readonly FlagBit[] = [
  { bit: 0, id: 'charge_ot_warn', code: 'chg_ot', level: 1 },
  { bit: 1, id: 'discharge_ot_warn', code: 'dsg_ot', level: 1 },
  { bit: 2, id: 'charge_ut_warn', code: 'chg_ut', level: 1 },
  { bit: 3, id: 'discharge_ut_warn', code: 'dsg_ut', level: 1 },
  { bit: 4, id: 'env_ot_warn', code: 'env_ot', level: 1 },
  { bit: 5, id: 'env_ut_warn', code: 'env_ut', level: 1 },
  { bit: 6, id: 'mos_ot_warn', code: 'mos_ot', level: 1 },
  { bit: 7, id: 'low_soc_warn', code: 'soc_low', level: 1 },
];
export const FAULT_BITS: readonly FlagBit[] = [
  { bit: 0, id: 'charge_mos_fault', code: 'chg_mos_fault' },
  { bit: 1, id: 'discharge_mos_fault', code: 'dsg_mos_fault' },
  { bit: 2, id: 'ntc_fault', code: 'temp_sensor_fault' },
  { bit: 3, id: 'comm_fault', code: 'internal_comm' },
  { bit: 4, id: 'cell_fault', code: 'cell_sense_fault' },
  { bit: 5, id: 'sampling_fault', code: 'afe_fault' },
  { bit: 6, id: 'current_limit_fault', code: 'fault_other' },
  { bit: 7, id: 'heater_fault', code: 'heater_fault' },
];
/** Indication status ("status 3"): states, not alarms. */
export const INDICATION_BITS: readonly FlagBit[] = [
  { bit: 0, id: 'current_limit_on', code: '' },
  { bit: 1, id: 'charge_mos_on', code: '' },
  { bit: 2, id: 'discharge_mos_on', code: '' },
  { bit: 3, id: 'pack_power_supply', code: '' },
  { bit: 4, id: 'charger_reversed', code: '' },
  { bit: 5, id: 'ac_in', code: '' },
  { bit: 6, id: 'shutdown', code: '' },
  { bit: 7, id: 'heater_on', code: '' },
];
/** Control status ("status 4"): bits 1, 2, 4, 5 are disputed (pace.md 7.1): raw only. */
export const CONTROL_BITS: readonly FlagBit[] = [
  { bit: 0, id: 'buzzer_enabled', code: '' },
  { bit: 3, id: 'limiter_low_gear', code: '' },
  { bit: 6, id: 'system_lock', code: '' },
  { bit: 7, id: 'test_mode', code: '' },
];
/** Fault status 8 ([DOC24] only, uncertain): raw identifiers, no alarm. */
export const FAULT8_BITS: readonly string[] = [
  'total_voltage_fault',
  'temp_difference_fault',
  'current_sense_resistor_fault',
  'trip_unit_status',
  'trip_unit_fault',
  'master_slave_offline',
  'pack_lock',
  'mcu_ov_fault',
];

// ---- identity ----

/** C1 software version: 20 ASCII bytes (+ 20 Bluetooth name on BT boards). */
export const TEXT_FIELD = 20;

// ---- protection parameters (v25, section 6) ----

/**
 * How a parameter field is stored: `enable` 1 byte (00 off, 01 on); `mv` uint16 mV read as V;
 * `amp` uint16 A; `amp_neg` int16 A, negative on read (take the magnitude), positive on write;
 * `dk` uint16 0.1 K (offset 2730) read as degC; `x100ms` 1 byte x 100 ms read as s;
 * `x25ms` 1 byte x 25 ms read as ms; `x25us` 1 byte x 25 us read as us; `ma` uint16 mA read
 * as A; `pct` 1 byte %; `minutes` uint16 minutes.
 */
export type ParamKind =
  | 'enable'
  | 'mv'
  | 'mv_keep'
  | 'amp'
  | 'amp_neg'
  | 'dk'
  | 'x100ms'
  | 'x25ms'
  | 'x25us'
  | 'ma'
  | 'pct'
  | 'minutes';

export const PARAM_KIND_SIZE: Record<ParamKind, 1 | 2> = {
  enable: 1,
  mv: 2,
  mv_keep: 2,
  amp: 2,
  amp_neg: 2,
  dk: 2,
  x100ms: 1,
  x25ms: 1,
  x25us: 1,
  ma: 2,
  pct: 1,
  minutes: 2,
};

/**
 * One field of a parameter block: raw key (the vector files' names, in the unit of its
 * suffix), wire kind, and the catalog parameter with the factor from the raw key's unit to
 * the parameter's (V -> mV: 1000; min -> s: 60; ms -> s: 0.001).
 */
export interface ParamField {
  key: string;
  kind: ParamKind;
  param?: string;
  paramScale?: number;
  /** A trailing field some firmware leaves out (AF's low-SOC alarm). */
  optional?: boolean;
}

export interface ParamBlock {
  /** Block name (raw.blocks.<name>). */
  name: string;
  read: number;
  write: number;
  fields: readonly ParamField[];
  /** Not captured: one document only (uncertain). */
  uncertain?: string;
}

const f = (
  key: string,
  kind: ParamKind,
  param?: string,
  paramScale = 1,
  optional = false,
): ParamField => ({
  key,
  kind,
  ...(param ? { param, paramScale } : {}),
  ...(optional ? { optional } : {}),
});

/** Alarm = level 1, protection = level 2, release = its recovery (the seed-002 levels). */
export const PARAM_BLOCKS: readonly ParamBlock[] = [
  {
    name: 'cell_ov',
    read: 0xd1,
    write: 0xd0,
    fields: [
      f('cell_ov_enabled', 'enable'),
      f('cell_ov_alarm_v', 'mv', 'cell_ov_l1_mv', 1000),
      f('cell_ov_protect_v', 'mv', 'cell_ov_l2_mv', 1000),
      f('cell_ov_release_v', 'mv', 'cell_ov_l2_recover_mv', 1000),
      f('cell_ov_delay_s', 'x100ms', 'cell_ov_l2_delay_s'),
    ],
  },
  {
    name: 'cell_uv',
    read: 0xd3,
    write: 0xd2,
    fields: [
      f('cell_uv_enabled', 'enable'),
      f('cell_uv_alarm_v', 'mv', 'cell_uv_l1_mv', 1000),
      f('cell_uv_protect_v', 'mv', 'cell_uv_l2_mv', 1000),
      f('cell_uv_release_v', 'mv', 'cell_uv_l2_recover_mv', 1000),
      f('cell_uv_delay_s', 'x100ms', 'cell_uv_l2_delay_s'),
    ],
  },
  {
    name: 'pack_ov',
    read: 0xd5,
    write: 0xd4,
    fields: [
      f('pack_ov_enabled', 'enable'),
      f('pack_ov_alarm_v', 'mv', 'pack_ov_l1_v'),
      f('pack_ov_protect_v', 'mv', 'pack_ov_l2_v'),
      f('pack_ov_release_v', 'mv', 'pack_ov_l2_recover_v'),
      f('pack_ov_delay_s', 'x100ms', 'pack_ov_l2_delay_s'),
    ],
  },
  {
    name: 'pack_uv',
    read: 0xd7,
    write: 0xd6,
    fields: [
      f('pack_uv_enabled', 'enable'),
      f('pack_uv_alarm_v', 'mv', 'pack_uv_l1_v'),
      f('pack_uv_protect_v', 'mv', 'pack_uv_l2_v'),
      f('pack_uv_release_v', 'mv', 'pack_uv_l2_recover_v'),
      f('pack_uv_delay_s', 'x100ms', 'pack_uv_l2_delay_s'),
    ],
  },
  {
    name: 'charge_oc',
    read: 0xd9,
    write: 0xd8,
    fields: [
      f('charge_oc_enabled', 'enable'),
      f('charge_oc_alarm_a', 'amp', 'chg_oc_l1_a'),
      f('charge_oc_protect_a', 'amp', 'chg_oc_l2_a'),
      f('charge_oc_delay_s', 'x100ms', 'chg_oc_l2_delay_s'),
    ],
  },
  {
    name: 'discharge_oc1',
    read: 0xdb,
    write: 0xda,
    fields: [
      f('discharge_oc1_enabled', 'enable'),
      f('discharge_oc1_alarm_a', 'amp_neg', 'dsg_oc_l1_a'),
      f('discharge_oc1_protect_a', 'amp_neg', 'dsg_oc_l2_a'),
      f('discharge_oc1_delay_s', 'x100ms', 'dsg_oc_l2_delay_s'),
    ],
  },
  {
    name: 'oc2',
    read: 0xe3,
    write: 0xe2,
    fields: [
      f('discharge_oc2_protect_a', 'amp', 'dsg_oc_l3_a'),
      f('discharge_oc2_delay_ms', 'x25ms', 'dsg_oc_l3_delay_s', 0.001),
      f('charge_oc2_protect_a', 'amp', 'chg_oc_l3_a'),
      f('charge_oc2_delay_ms', 'x25ms', 'chg_oc_l3_delay_s', 0.001),
    ],
  },
  {
    name: 'short_circuit',
    read: 0xe5,
    write: 0xe4,
    fields: [f('short_circuit_delay_us', 'x25us', 'short_circuit_delay_us')],
  },
  {
    name: 'cell_high_temp',
    read: 0xdd,
    write: 0xdc,
    fields: [
      f('function_enabled', 'enable'),
      f('charge_ot_alarm_c', 'dk', 'chg_ot_l1_c'),
      f('charge_ot_protect_c', 'dk', 'chg_ot_l2_c'),
      f('charge_ot_release_c', 'dk', 'chg_ot_l2_recover_c'),
      f('discharge_ot_alarm_c', 'dk', 'dsg_ot_l1_c'),
      f('discharge_ot_protect_c', 'dk', 'dsg_ot_l2_c'),
      f('discharge_ot_release_c', 'dk', 'dsg_ot_l2_recover_c'),
    ],
  },
  {
    name: 'cell_low_temp',
    read: 0xdf,
    write: 0xde,
    fields: [
      f('function_enabled', 'enable'),
      f('charge_ut_alarm_c', 'dk', 'chg_ut_l1_c'),
      f('charge_ut_protect_c', 'dk', 'chg_ut_l2_c'),
      f('charge_ut_release_c', 'dk', 'chg_ut_l2_recover_c'),
      f('discharge_ut_alarm_c', 'dk', 'dsg_ut_l1_c'),
      f('discharge_ut_protect_c', 'dk', 'dsg_ut_l2_c'),
      f('discharge_ut_release_c', 'dk', 'dsg_ut_l2_recover_c'),
    ],
  },
  {
    name: 'mos_temp',
    read: 0xe1,
    write: 0xe0,
    fields: [
      f('mos_ot_enabled', 'enable'),
      f('mos_ot_alarm_c', 'dk', 'mos_ot_l1_c'),
      f('mos_ot_protect_c', 'dk', 'mos_ot_l2_c'),
      f('mos_ot_release_c', 'dk', 'mos_ot_l2_recover_c'),
    ],
  },
  {
    name: 'env_temp',
    read: 0xe7,
    write: 0xe6,
    fields: [
      f('env_temp_enabled', 'enable'),
      f('env_ut_alarm_c', 'dk', 'env_ut_l1_c'),
      f('env_ut_protect_c', 'dk', 'env_ut_l2_c'),
      f('env_ut_release_c', 'dk', 'env_ut_l2_recover_c'),
      f('env_ot_alarm_c', 'dk', 'env_ot_l1_c'),
      f('env_ot_protect_c', 'dk', 'env_ot_l2_c'),
      f('env_ot_release_c', 'dk', 'env_ot_l2_recover_c'),
    ],
  },
  {
    name: 'balance',
    read: 0xb6,
    write: 0xb5,
    fields: [
      f('balance_start_v', 'mv', 'balance_start_mv', 1000),
      // A difference, 30 mV in the capture: uint16 mV kept in mV.
      f('balance_delta_mv', 'mv_keep', 'balance_delta_mv'),
    ],
  },
  {
    name: 'sleep',
    read: 0xa0,
    write: 0xa8,
    fields: [
      f('sleep_cell_v', 'mv', 'sleep_cell_mv', 1000),
      f('sleep_delay_min', 'minutes', 'sleep_delay_s', 60),
    ],
  },
  {
    name: 'full_charge',
    read: 0xaf,
    write: 0xae,
    fields: [
      f('full_charge_voltage_v', 'mv', 'full_charge_v'),
      f('full_charge_current_a', 'ma', 'full_charge_current_a'),
      f('low_soc_alarm_pct', 'pct', 'soc_low_alarm_pct', 1, true),
    ],
  },
  {
    name: 'limiter',
    read: 0xed,
    write: 0xee,
    fields: [f('charge_limit_start_a', 'amp', 'charge_limit_start_a')],
    uncertain:
      'ED/EE: the PACEex V3.1 document reads a uint16 A, the ESPHome code an address byte and a one-byte value; they agree only at address 0',
  },
];

// ---- 0xA1 history records ----

/** Status-record bits of a history record (the last uint16): [DOC24]. */
export const RECORD_STATUS_POWER_ON = 0x0001;

// ---- 0xEB / 0xEC inverter protocols (section 8) ----

/** One inverter protocol code: `id` as the ESPHome enum writes it, `name` for people. */
export interface InverterCode {
  code: number;
  id: string;
  name: string;
}

const p = (code: number, id: string, name: string): InverterCode => ({ code, id, name });

export const CAN_PROTOCOLS: readonly InverterCode[] = [
  p(0x00, 'PACE', 'PACE'),
  p(0x01, 'PYLON', 'Pylon (Deye, SunSynk, Sol-Ark)'),
  p(0x02, 'GROWATT', 'Growatt'),
  p(0x03, 'VICTRON', 'Victron'),
  p(0x04, 'SCHNEIDER', 'Schneider (SE)'),
  p(0x05, 'LUXPOWER', 'LuxPower'),
  p(0x06, 'SRD', 'SRD / SoroTec'),
  p(0x07, 'SMA', 'SMA'),
  p(0x08, 'GOODWE', 'GoodWe'),
  p(0x09, 'STUDER', 'Studer'),
  p(0x0a, 'SOFAR', 'Sofar'),
  p(0x0b, 'PV', 'PV (Must)'),
  p(0x0c, 'SOLIS', 'Solis (Jinlang)'),
  p(0x0d, 'DIDU', 'DIDU'),
  p(0x0e, 'SENERGY', 'Senergy'),
  p(0x0f, 'TBB', 'TBB'),
  p(0x10, 'PYLON_V202', 'Pylon V2.02'),
  p(0x11, 'GROWATT_V109', 'Growatt V1.09'),
  p(0x12, 'MUST_V202', 'Must V2.02'),
  p(0x13, 'AFORE', 'Afore'),
  p(0x14, 'INVT', 'INVT (YWT)'),
  p(0x15, 'FUJI', 'FUJI'),
  p(0x16, 'SOFAR_V21003', 'Sofar V21003'),
  p(0x17, 'GT', 'GT'),
  p(0x18, 'LEOCH_V106', 'Leoch V106'),
  p(0xff, 'DISABLED', 'disabled'),
];

export const RS485_PROTOCOLS: readonly InverterCode[] = [
  p(0x00, 'PACE_MODBUS', 'PACE Modbus'),
  p(0x01, 'PYLON', 'Pylon (Deye)'),
  p(0x02, 'GROWATT', 'Growatt'),
  p(0x03, 'VOLTRONIC', 'Voltronic (EASun, MPP Solar)'),
  p(0x04, 'SCHNEIDER', 'Schneider'),
  p(0x05, 'PHOCOS', 'Phocos'),
  p(0x06, 'LUXPOWER', 'LuxPower'),
  p(0x07, 'SOLAR', 'Solar'),
  p(0x08, 'LITHIUM', 'Lithium'),
  p(0x09, 'EP', 'EP'),
  p(0x0a, 'RTU04', 'RTU04'),
  p(0x0b, 'LUXPOWER_V01', 'LuxPower V01'),
  p(0x0c, 'LUXPOWER_V03', 'LuxPower V03'),
  p(0x0d, 'SRNE', 'SRNE (WOW)'),
  p(0x0e, 'LEOCH', 'Leoch'),
  p(0x0f, 'PYLON_F', 'Pylon F'),
  p(0x10, 'AFORE', 'Afore'),
  p(0x11, 'UPS_AGXN', 'UPS AGXN'),
  p(0x12, 'SUNPOLO', 'Sunpolo'),
  p(0x13, 'XIONGTAO', 'Xiongtao'),
  p(0x14, 'RONGKE', 'Rongke'),
  p(0x15, 'XINRUI', 'Xinrui'),
  p(0x16, 'ELTEK', 'Eltek'),
  p(0xff, 'DISABLED', 'disabled'),
];

/** Inverter protocol mode byte. */
export const MODE_AUTO = 0x00;
export const MODE_MANUAL = 0x01;
/** A link the write leaves as it is. */
export const CODE_UNCHANGED = 0xff;

// ---- 0x99 control command codes (section 7.1) ----

/** Codes both documents and the captures agree on; the LED / limiter labels are disputed. */
export const CONTROL_CODES = {
  buzzer_off: 0x0c,
  buzzer_on: 0x0d,
  limiter_high_gear: 0x08,
  limiter_low_gear: 0x09,
  led_code_06: 0x06,
  led_code_07: 0x07,
  limiter_code_0a: 0x0a,
  limiter_code_0b: 0x0b,
} as const;

// ---- calibration (0xA9..0xAD, 0xA7, 0xBD): [DOC24] only ----

/** The only INFO the current zero-point calibration takes. */
export const ZERO_POINT_INFO = 4321;

// ---- EG4 LifePower4 (v20, section 10) ----

/** EG4 0x42 after the temperatures: [raw key, size, scale]; then the counters below. */
export const EG4_ANALOG: readonly (readonly [string, 1 | 2 | 4, number])[] = [
  ['current_a', 2, 0.01],
  ['pack_voltage_v', 2, 0.01],
  ['remaining_capacity_ah', 2, 0.01],
  ['full_capacity_ah', 2, 0.01],
  ['cycles', 2, 1],
  ['user_defined_count', 1, 1],
  ['soc_pct', 2, 1],
  ['soh_pct', 2, 1],
  ['max_cell_mv', 2, 1],
  ['min_cell_mv', 2, 1],
  ['cell_diff_mv', 2, 1],
  ['max_temp_raw', 2, 1],
  ['min_temp_raw', 2, 1],
  ['cum_charge_ah', 4, 0.01],
  ['cum_discharge_ah', 4, 0.01],
  ['cum_charge_kwh', 4, 0.001],
  ['cum_discharge_kwh', 4, 0.001],
  ['cum_charge_time_h', 4, 1],
  ['cum_discharge_time_h', 4, 1],
  ['cum_charge_count', 2, 1],
  ['cum_discharge_count', 2, 1],
];

/** EG4 0x44 event bits: [identifier, taxonomy code ('' = raw only), level]. */
export type Eg4Bit = readonly [string, string, number?];
export const EG4_BALANCE_EVENT: readonly (Eg4Bit | null)[] = [
  ['balancer_on', ''],
  null,
  null,
  null,
  ['cell_diff_alarm', 'cell_diff', 1],
  ['charge_mos_fault', 'chg_mos_fault'],
  ['discharge_mos_fault', 'dsg_mos_fault'],
  null,
];
export const EG4_VOLTAGE_EVENT: readonly Eg4Bit[] = [
  ['cell_ov_alarm', 'cell_ov', 1],
  ['cell_ov_protect', 'cell_ov', 2],
  ['cell_uv_alarm', 'cell_uv', 1],
  ['cell_uv_protect', 'cell_uv', 2],
  ['pack_ov_alarm', 'pack_ov', 1],
  ['pack_ov_protect', 'pack_ov', 2],
  ['pack_uv_alarm', 'pack_uv', 1],
  ['pack_uv_protect', 'pack_uv', 2],
];
export const EG4_TEMPERATURE_EVENT: readonly Eg4Bit[] = [
  ['charge_ot_alarm', 'chg_ot', 1],
  ['charge_ot_protect', 'chg_ot', 2],
  ['charge_ut_alarm', 'chg_ut', 1],
  ['charge_ut_protect', 'chg_ut', 2],
  ['discharge_ot_alarm', 'dsg_ot', 1],
  ['discharge_ot_protect', 'dsg_ot', 2],
  ['discharge_ut_alarm', 'dsg_ut', 1],
  ['discharge_ut_protect', 'dsg_ut', 2],
  ['env_ot_alarm', 'env_ot', 1],
  ['env_ot_protect', 'env_ot', 2],
  ['env_ut_alarm', 'env_ut', 1],
  ['env_ut_protect', 'env_ut', 2],
  ['mos_ot_protect', 'mos_ot', 2],
  ['fire_alarm', 'fault_other'],
];
export const EG4_CURRENT_EVENT: readonly Eg4Bit[] = [
  ['charge_oc_alarm', 'chg_oc', 1],
  ['charge_oc_protect', 'chg_oc', 2],
  ['discharge_oc_alarm', 'dsg_oc', 1],
  ['discharge_oc_protect', 'dsg_oc', 2],
  ['discharge_oc2_protect', 'dsg_oc', 3],
  ['short_circuit_protect', 'short_circuit', 2],
  ['oc2_lockout', 'dsg_oc', 3],
  ['short_circuit_lockout', 'short_circuit', 2],
];
/** EG4 FET status bits. */
export const EG4_FET = { discharge: 0, charge: 1, limiter: 2, heater: 3 } as const;
/** EG4 system status bits. */
export const EG4_SYSTEM = { discharging: 0, charging: 1, standby: 3 } as const;
