/** Field tables of the JBD registers (see README.md for the prose). */

/** Register (command) codes. */
export const REG = {
  FACTORY_ENTER: 0x00,
  FACTORY_EXIT: 0x01,
  BASIC_INFO: 0x03,
  CELL_VOLTAGES: 0x04,
  HARDWARE_VERSION: 0x05,
  ERROR_COUNTERS: 0xaa,
  MOS_CONTROL: 0xe1,
  USE_PASSWORD: 0x06,
  CLEAR_PASSWORD: 0x09,
  CONTROL: 0x0a,
  MCU_RESET: 0xe3,
  PARAM_BLOCK: 0xfa,
} as const;

/** Data offsets of the 0x03 basic-information record (all big-endian). */
export const BASIC = {
  voltage: 0, // u16, 10 mV
  current: 2, // i16, 10 mA, + = charging
  remaining: 4, // u16, 10 mAh
  nominal: 6, // u16, 10 mAh
  cycles: 8, // u16
  date: 10, // u16: day bits 0-4, month bits 5-8, year-2000 bits 9-15
  balanceLow: 12, // u16, cells 1..16
  balanceHigh: 14, // u16, cells 17..32
  protection: 16, // u16, PROTECTION_BITS
  software: 18, // u8, major/minor nibbles
  soc: 19, // u8, %
  fet: 20, // u8: bit0 charge on, bit1 discharge on
  cells: 21, // u8
  ntcCount: 22, // u8
  temps: 23, // N x u16, 0.1 K with 2731 = 0 degC
  /** Length of the record without temperatures. */
  fixedLength: 23,
} as const;

/**
 * Caps on counts read from the wire. JBD boards have at most 32 cells (two balance words);
 * the cap is the platform-wide 48 so an unusual board is not refused.
 */
export const MAX_CELLS = 48;
/** Cells covered by the two balance words of 0x03. */
export const BALANCE_BITS = 32;
export const MAX_NTC = 32;

/**
 * Protection status bits of 0x03 (bit 0 first): the protocol's identifier and the
 * taxonomy code it maps to (undefined = reported in raw.alarms only).
 */
export const PROTECTION_BITS: readonly { id: string; alarm: string | undefined }[] = [
  { id: 'cell_ov', alarm: 'cell_ov' },
  { id: 'cell_uv', alarm: 'cell_uv' },
  { id: 'pack_ov', alarm: 'pack_ov' },
  { id: 'pack_uv', alarm: 'pack_uv' },
  { id: 'chg_ot', alarm: 'chg_ot' },
  { id: 'chg_ut', alarm: 'chg_ut' },
  { id: 'dsg_ot', alarm: 'dsg_ot' },
  { id: 'dsg_ut', alarm: 'dsg_ut' },
  { id: 'chg_oc', alarm: 'chg_oc' },
  { id: 'dsg_oc', alarm: 'dsg_oc' },
  { id: 'short_circuit', alarm: 'short_circuit' },
  { id: 'afe_fault', alarm: 'afe_fault' },
  // The host switched a MOSFET off with 0xE1: a state, not a fault.
  { id: 'mos_software_lock', alarm: undefined },
  // Charger cut after a charge timeout (esphome-jbd-bms; "reserved" in the V4 doc).
  { id: 'charge_timeout', alarm: 'chg_timeout' },
  { id: 'reserved_14', alarm: 'fault_other' },
  { id: 'reserved_15', alarm: 'fault_other' },
];

/** The 11 counters of register 0xAA, in wire order (esphome-jbd-bms order; uncertain). */
export const ERROR_COUNTERS: readonly string[] = [
  'short_circuit',
  'chg_oc',
  'dsg_oc',
  'cell_ov',
  'cell_uv',
  'chg_ot',
  'chg_ut',
  'dsg_ot',
  'dsg_ut',
  'pack_ov',
  'pack_uv',
];
