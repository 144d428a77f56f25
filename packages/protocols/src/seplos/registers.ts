/**
 * Seplos V3 (XZH Modbus RTU) register maps as tables (seplos.md B2/B3): one row per field
 * with its register, encoding, scale, where it goes in a Reading and the catalog parameter
 * it is. The decoder walks the rows inside the window a request read, so any window of a
 * block (the two SPA reads of the vendor tool, a sub-range) decodes the same way.
 */
import { bits, KELVIN_OFFSET, type AlarmBit } from './fields.js';

/** How a register field is stored. `u32lw`: 32 bits, low word first (EIA). */
export type RegEnc = 'u16' | 'i16' | 'u32lw' | 'i32lw' | 'ascii' | 'version' | 'hex32lw';

export interface RegField {
  reg: number;
  key: string;
  enc: RegEnc;
  /** Value = (raw - offset) * scale. */
  scale?: number;
  offset?: number;
  /** Consecutive values of one list (cell voltages). */
  count?: number;
  /** Registers of an ASCII field (two characters each). */
  regs?: number;
  /** Canonical metric the value also goes to (temps_c takes a list). */
  metric?: string;
  /** The metric is the negated value (a limit sent as a positive number for the discharge side). */
  metricNegate?: boolean;
  /** Catalog parameter id and factor from the key's unit to the catalog's. */
  param?: string;
  toParam?: number;
  /** The discharge direction travels negative; the catalog value is its magnitude. */
  negative?: boolean;
}

const dk = (reg: number, key: string, param?: string, metric?: string): RegField => ({
  reg,
  key,
  enc: 'u16',
  scale: 0.1,
  offset: KELVIN_OFFSET,
  ...(param ? { param, toParam: 1 } : {}),
  ...(metric ? { metric } : {}),
});
const u = (reg: number, key: string, scale = 1, param?: string, toParam = 1): RegField => ({
  reg,
  key,
  enc: 'u16',
  scale,
  ...(param ? { param, toParam } : {}),
});
const neg = (reg: number, key: string, param?: string): RegField => ({
  reg,
  key,
  enc: 'i16',
  scale: 1,
  ...(param ? { param, toParam: 1, negative: true } : {}),
});

/** PIA, pack information A (FC 04, 0x1000 x 17). */
export const PIA: readonly RegField[] = [
  { reg: 0x1000, key: 'pack_voltage_v', enc: 'u16', scale: 0.01, metric: 'voltage_v' },
  { reg: 0x1001, key: 'current_a', enc: 'i16', scale: 0.01, metric: 'current_a' },
  { reg: 0x1002, key: 'remaining_capacity_ah', enc: 'u16', scale: 0.01, metric: 'remaining_ah' },
  { reg: 0x1003, key: 'total_capacity_ah', enc: 'u16', scale: 0.01, metric: 'full_ah' },
  { reg: 0x1004, key: 'total_discharge_ah', enc: 'u16', scale: 10 },
  { reg: 0x1005, key: 'soc_pct', enc: 'u16', scale: 0.1, metric: 'soc_pct' },
  { reg: 0x1006, key: 'soh_pct', enc: 'u16', scale: 0.1, metric: 'soh_pct' },
  { reg: 0x1007, key: 'cycles', enc: 'u16', metric: 'cycles' },
  { reg: 0x1008, key: 'avg_cell_mv', enc: 'u16', metric: 'avg_cell_mv' },
  dk(0x1009, 'avg_cell_temp_c'),
  { reg: 0x100a, key: 'max_cell_mv', enc: 'u16', metric: 'max_cell_mv' },
  { reg: 0x100b, key: 'min_cell_mv', enc: 'u16', metric: 'min_cell_mv' },
  dk(0x100c, 'max_cell_temp_c'),
  dk(0x100d, 'min_cell_temp_c'),
  {
    reg: 0x100f,
    key: 'max_discharge_current_a',
    enc: 'u16',
    metric: 'discharge_current_limit_a',
    metricNegate: true,
  },
  { reg: 0x1010, key: 'max_charge_current_a', enc: 'u16', metric: 'charge_current_limit_a' },
];
export const PIA_BLOCK = { start: 0x1000, count: 17 } as const;

/** PIB, pack information B (FC 04, 0x1100 x 26): cells, cell sensors, ambient, power. */
export const PIB: readonly RegField[] = [
  { reg: 0x1100, key: 'cell_mv', enc: 'u16', count: 16, metric: 'cell_mv' },
  {
    reg: 0x1110,
    key: 'cell_temps_c',
    enc: 'u16',
    count: 4,
    scale: 0.1,
    offset: KELVIN_OFFSET,
    metric: 'temps_c',
  },
  dk(0x1118, 'env_temp_c', undefined, 'env_temp_c'),
  dk(0x1119, 'power_temp_c', undefined, 'mos_temp_c'),
];
export const PIB_BLOCK = { start: 0x1100, count: 26 } as const;
export const PIB_CELL_SLOTS = 16;

/** SPA, system parameters (FC 04 read, FC 10 write; 0x1300..0x1369). */
export const SPA: readonly RegField[] = [
  u(0x1300, 'ntc_count'),
  { reg: 0x1301, key: 'cell_count', enc: 'u16', metric: 'cell_count', param: 'cell_count' },
  u(0x1302, 'pack_high_recover_v', 0.01, 'pack_ov_l1_recover_v'),
  u(0x1303, 'pack_high_alarm_v', 0.01, 'pack_ov_l1_v'),
  u(0x1304, 'pack_ov_recover_v', 0.01, 'pack_ov_l2_recover_v'),
  u(0x1305, 'pack_ov_protect_v', 0.01, 'pack_ov_l2_v'),
  u(0x1306, 'pack_low_recover_v', 0.01, 'pack_uv_l1_recover_v'),
  u(0x1307, 'pack_low_alarm_v', 0.01, 'pack_uv_l1_v'),
  u(0x1308, 'pack_uv_recover_v', 0.01, 'pack_uv_l2_recover_v'),
  u(0x1309, 'pack_uv_protect_v', 0.01, 'pack_uv_l2_v'),
  u(0x130a, 'cell_high_recover_v', 0.001, 'cell_ov_l1_recover_mv', 1000),
  u(0x130b, 'cell_high_alarm_v', 0.001, 'cell_ov_l1_mv', 1000),
  u(0x130c, 'cell_ov_recover_v', 0.001, 'cell_ov_l2_recover_mv', 1000),
  u(0x130d, 'cell_ov_protect_v', 0.001, 'cell_ov_l2_mv', 1000),
  u(0x130e, 'cell_low_recover_v', 0.001, 'cell_uv_l1_recover_mv', 1000),
  u(0x130f, 'cell_low_alarm_v', 0.001, 'cell_uv_l1_mv', 1000),
  u(0x1310, 'cell_uv_recover_v', 0.001, 'cell_uv_l2_recover_mv', 1000),
  u(0x1311, 'cell_uv_protect_v', 0.001, 'cell_uv_l2_mv', 1000),
  u(0x1312, 'cell_uv_fault_v', 0.001, 'cell_uv_l3_mv', 1000),
  u(0x1313, 'cell_diff_protect_v', 0.001, 'cell_diff_l2_mv', 1000),
  // The document says "secondary charge current protection, mV"; 500 in the capture.
  u(0x1314, 'reg_1314'),
  u(0x1315, 'charge_high_current_recover_a', 1, 'chg_oc_l1_recover_a'),
  u(0x1316, 'charge_high_current_alarm_a', 1, 'chg_oc_l1_a'),
  u(0x1317, 'charge_oc_protect_a', 1, 'chg_oc_l2_a'),
  u(0x1318, 'charge_oc_delay_s', 0.1, 'chg_oc_l2_delay_s'),
  u(0x1319, 'charge_oc2_protect_a', 1, 'chg_oc_l3_a'),
  u(0x131a, 'charge_oc2_delay_ms', 1, 'chg_oc_l3_delay_s', 0.001),
  neg(0x131b, 'discharge_high_current_recover_a', 'dsg_oc_l1_recover_a'),
  neg(0x131c, 'discharge_high_current_alarm_a', 'dsg_oc_l1_a'),
  neg(0x131d, 'discharge_oc_protect_a', 'dsg_oc_l2_a'),
  u(0x131e, 'discharge_oc_delay_s', 0.1, 'dsg_oc_l2_delay_s'),
  neg(0x131f, 'discharge_oc2_protect_a', 'dsg_oc_l3_a'),
  u(0x1320, 'discharge_oc2_delay_ms', 1, 'dsg_oc_l3_delay_s', 0.001),
  neg(0x1321, 'short_circuit_protect_a', 'short_circuit_a'),
  u(0x1322, 'short_circuit_delay_us', 1, 'short_circuit_delay_us'),
  u(0x1323, 'oc_recover_delay_s', 0.1),
  u(0x1324, 'oc_lock_times'),
  u(0x1325, 'charge_limit_time_s', 0.1),
  u(0x1326, 'pulse_current_a'),
  u(0x1327, 'pulse_time_s', 0.1),
  u(0x132b, 'precharge_short_pct', 0.1),
  u(0x132c, 'precharge_stop_pct', 0.1),
  u(0x132d, 'precharge_fault_pct', 0.1),
  u(0x132e, 'precharge_timeout_s'),
  dk(0x132f, 'charge_ot_alarm_recover_c', 'chg_ot_l1_recover_c'),
  dk(0x1330, 'charge_ot_alarm_c', 'chg_ot_l1_c'),
  dk(0x1331, 'charge_ot_protect_recover_c', 'chg_ot_l2_recover_c'),
  dk(0x1332, 'charge_ot_protect_c', 'chg_ot_l2_c'),
  dk(0x1333, 'charge_ut_alarm_recover_c', 'chg_ut_l1_recover_c'),
  dk(0x1334, 'charge_ut_alarm_c', 'chg_ut_l1_c'),
  dk(0x1335, 'charge_ut_protect_recover_c', 'chg_ut_l2_recover_c'),
  dk(0x1336, 'charge_ut_protect_c', 'chg_ut_l2_c'),
  dk(0x1337, 'discharge_ot_alarm_recover_c', 'dsg_ot_l1_recover_c'),
  dk(0x1338, 'discharge_ot_alarm_c', 'dsg_ot_l1_c'),
  dk(0x1339, 'discharge_ot_protect_recover_c', 'dsg_ot_l2_recover_c'),
  dk(0x133a, 'discharge_ot_protect_c', 'dsg_ot_l2_c'),
  dk(0x133b, 'discharge_ut_alarm_recover_c', 'dsg_ut_l1_recover_c'),
  dk(0x133c, 'discharge_ut_alarm_c', 'dsg_ut_l1_c'),
  dk(0x133d, 'discharge_ut_protect_recover_c', 'dsg_ut_l2_recover_c'),
  dk(0x133e, 'discharge_ut_protect_c', 'dsg_ut_l2_c'),
  dk(0x133f, 'env_ot_alarm_recover_c', 'env_ot_l1_recover_c'),
  dk(0x1340, 'env_ot_alarm_c', 'env_ot_l1_c'),
  dk(0x1341, 'env_ot_protect_recover_c', 'env_ot_l2_recover_c'),
  dk(0x1342, 'env_ot_protect_c', 'env_ot_l2_c'),
  dk(0x1343, 'env_ut_alarm_recover_c', 'env_ut_l1_recover_c'),
  dk(0x1344, 'env_ut_alarm_c', 'env_ut_l1_c'),
  dk(0x1345, 'env_ut_protect_recover_c', 'env_ut_l2_recover_c'),
  dk(0x1346, 'env_ut_protect_c', 'env_ut_l2_c'),
  dk(0x1347, 'power_ot_alarm_recover_c', 'mos_ot_l1_recover_c'),
  dk(0x1348, 'power_ot_alarm_c', 'mos_ot_l1_c'),
  dk(0x1349, 'power_ot_protect_recover_c', 'mos_ot_l2_recover_c'),
  dk(0x134a, 'power_ot_protect_c', 'mos_ot_l2_c'),
  dk(0x134b, 'cell_heating_stop_c', 'heater_stop_c'),
  dk(0x134c, 'cell_heating_start_c', 'heater_start_c'),
  dk(0x134d, 'balance_high_temp_inhibit_c'),
  dk(0x134e, 'balance_low_temp_inhibit_c'),
  u(0x134f, 'static_balance_time_h'),
  u(0x1350, 'balance_start_v', 0.001, 'balance_start_mv', 1000),
  u(0x1351, 'balance_start_diff_mv', 1, 'balance_delta_mv'),
  u(0x1352, 'balance_stop_diff_mv', 1, 'balance_stop_delta_mv'),
  u(0x1353, 'soc_full_release_pct', 0.1),
  u(0x1354, 'soc_low_recover_pct', 0.1),
  u(0x1355, 'soc_low_alarm_pct', 0.1, 'soc_low_alarm_pct'),
  u(0x1356, 'soc_under_recover_pct', 0.1),
  u(0x1357, 'soc_under_protect_pct', 0.1, 'soc_low_protect_pct'),
  u(0x1358, 'rated_capacity_ah', 0.01, 'design_capacity_ah'),
  u(0x1359, 'total_capacity_ah', 0.01, 'cycle_capacity_ah'),
  { reg: 0x135a, key: 'remaining_capacity_ah', enc: 'u16', scale: 0.01, metric: 'remaining_ah' },
  u(0x135b, 'standby_to_sleep_h'),
  u(0x135c, 'output_delay_s', 0.1),
  u(0x135d, 'split_min'),
  u(0x135e, 'timer_count'),
  u(0x135f, 'comp_point1_cell'),
  u(0x1360, 'comp_point1_mohm'),
  u(0x1361, 'comp_point2_cell'),
  u(0x1362, 'comp_point2_mohm'),
  u(0x1363, 'cell_diff_alarm_mv', 1, 'cell_diff_l1_mv'),
  u(0x1364, 'cell_diff_alarm_recover_mv', 1, 'cell_diff_l1_recover_mv'),
  u(0x1365, 'pcs_charge_voltage_limit_v', 0.01, 'charge_voltage_limit_v'),
  u(0x1366, 'pcs_charge_current_limit_a', 1, 'charge_current_limit_a'),
  neg(0x1367, 'pcs_discharge_current_limit_a', 'discharge_current_limit_a'),
];
/** The vendor tool reads SPA in two windows of 53 registers (the second reaches 0x1369). */
export const SPA_BLOCKS = [
  { start: 0x1300, count: 53 },
  { start: 0x1335, count: 53 },
] as const;
export const SPA_FIRST = 0x1300;
export const SPA_LAST = 0x1369;

/** EIA, system summary (FC 04, 0x2000 x 26; 32-bit values low word first). */
export const EIA: readonly RegField[] = [
  { reg: 0x2000, key: 'pack_voltage_v', enc: 'u32lw', scale: 0.01, metric: 'voltage_v' },
  { reg: 0x2002, key: 'current_a', enc: 'i32lw', scale: 0.1, metric: 'current_a' },
  {
    reg: 0x2004,
    key: 'remaining_capacity_ah',
    enc: 'u32lw',
    scale: 0.01,
    metric: 'remaining_ah',
  },
  { reg: 0x2006, key: 'total_capacity_ah', enc: 'u32lw', scale: 0.01, metric: 'full_ah' },
  { reg: 0x2008, key: 'total_discharge_ah', enc: 'u32lw', scale: 10 },
  { reg: 0x200a, key: 'rated_capacity_ah', enc: 'u32lw', scale: 0.01, metric: 'design_ah' },
  { reg: 0x200c, key: 'online_pack_flags_hex', enc: 'hex32lw' },
  { reg: 0x200e, key: 'protected_pack_flags_hex', enc: 'hex32lw' },
  { reg: 0x2010, key: 'max_discharge_current_a', enc: 'u32lw', scale: 0.1 },
  { reg: 0x2012, key: 'max_charge_current_a', enc: 'u32lw', scale: 0.1 },
  u(0x2014, 'suggest_pack_ov_v', 0.1),
  u(0x2015, 'suggest_pack_uv_v', 0.1),
  u(0x2016, 'pack_count'),
  { reg: 0x2017, key: 'cycles', enc: 'u16', metric: 'cycles' },
  { reg: 0x2018, key: 'soc_pct', enc: 'u16', scale: 0.1, metric: 'soc_pct' },
  { reg: 0x2019, key: 'soh_pct', enc: 'u16', scale: 0.1, metric: 'soh_pct' },
];

/**
 * EIB, system extremes (FC 04, 0x2100). The order of the two real replies, not the
 * document's: temperatures in 0.1 degC; beyond 0x210C uncertain.
 */
export const EIB: readonly RegField[] = [
  { reg: 0x2100, key: 'max_cell_mv', enc: 'u16', metric: 'max_cell_mv' },
  { reg: 0x2101, key: 'min_cell_mv', enc: 'u16', metric: 'min_cell_mv' },
  u(0x2102, 'max_cell_id'),
  u(0x2103, 'min_cell_id'),
  u(0x2104, 'max_pack_voltage_v', 0.01),
  u(0x2105, 'min_pack_voltage_v', 0.01),
  u(0x2106, 'max_pack_voltage_id'),
  u(0x2107, 'min_pack_voltage_id'),
  { reg: 0x2108, key: 'max_cell_temp_c', enc: 'i16', scale: 0.1 },
  { reg: 0x2109, key: 'min_cell_temp_c', enc: 'i16', scale: 0.1 },
  { reg: 0x210a, key: 'avg_cell_temp_c', enc: 'i16', scale: 0.1 },
  u(0x210d, 'max_pack_soc_pct', 0.1),
  u(0x210e, 'min_pack_soc_pct', 0.1),
  u(0x210f, 'max_pack_cycles'),
  u(0x2110, 'max_pack_soh_pct', 0.1),
  { reg: 0x2111, key: 'power_temps_c', enc: 'i16', count: 3, scale: 0.1 },
];

/** VIA, version information (FC 04, 0x1700 x 51). */
export const VIA: readonly RegField[] = [
  { reg: 0x1700, key: 'factory_name', enc: 'ascii', regs: 10 },
  { reg: 0x170a, key: 'device_name', enc: 'ascii', regs: 10 },
  { reg: 0x1714, key: 'firmware_version', enc: 'version' },
  { reg: 0x1715, key: 'bms_serial', enc: 'ascii', regs: 15 },
  { reg: 0x1724, key: 'pack_serial', enc: 'ascii', regs: 15 },
];
export const VIA_BLOCK = { start: 0x1700, count: 51 } as const;

/** PCT, inverter (PCS) protocol (FC 04, 0x1800 x 36). */
export const PCT: readonly RegField[] = [
  u(0x1800, 'pcs_protocol_type'),
  u(0x1801, 'pcs_baud_rate'),
  { reg: 0x1802, key: 'pcs_name', enc: 'ascii', regs: 16 },
  { reg: 0x1812, key: 'protocol_name', enc: 'ascii', regs: 16 },
  { reg: 0x1822, key: 'protocol_version', enc: 'ascii', regs: 1 },
  u(0x1823, 'pcs_protocol_pre_switch'),
];
export const PCT_BLOCK = { start: 0x1800, count: 36 } as const;

/** Every FC 04 field, for decoding any window. */
export const INPUT_FIELDS: readonly RegField[] = [
  ...PIA,
  ...PIB,
  ...SPA,
  ...VIA,
  ...PCT,
  ...EIA,
  ...EIB,
];

/** Registers a field occupies. */
export function fieldWidth(f: RegField): number {
  switch (f.enc) {
    case 'u32lw':
    case 'i32lw':
    case 'hex32lw':
      return 2;
    case 'ascii':
      return f.regs ?? 1;
    default:
      return f.count ?? 1;
  }
}

// ---------------------------------------------------------------- coils (FC 01)

/** A coil group: 8 coils = one reply byte. */
export interface CoilGroup {
  /** First coil of the group. */
  coil: number;
  key: string;
  /** Bit table (alarms, states); groups without one are per-cell or per-sensor lists. */
  bits?: readonly AlarmBit[];
  /** Per-cell list: the first cell of this group (1-based). */
  cellsFrom?: number;
}

/** TB02 voltage events. */
export const TB02 = bits([
  ['cell_high_voltage_alarm', 'cell_ov', 1],
  ['cell_ov_protect', 'cell_ov', 2],
  ['cell_low_voltage_alarm', 'cell_uv', 1],
  ['cell_uv_protect', 'cell_uv', 2],
  ['pack_high_voltage_alarm', 'pack_ov', 1],
  ['pack_ov_protect', 'pack_ov', 2],
  ['pack_low_voltage_alarm', 'pack_uv', 1],
  ['pack_uv_protect', 'pack_uv', 2],
]);
/** TB03 cell temperature events. */
export const TB03 = bits([
  ['charge_high_temp_alarm', 'chg_ot', 1],
  ['charge_ot_protect', 'chg_ot', 2],
  ['charge_low_temp_alarm', 'chg_ut', 1],
  ['charge_ut_protect', 'chg_ut', 2],
  ['discharge_high_temp_alarm', 'dsg_ot', 1],
  ['discharge_ot_protect', 'dsg_ot', 2],
  ['discharge_low_temp_alarm', 'dsg_ut', 1],
  ['discharge_ut_protect', 'dsg_ut', 2],
]);
/** TB04 ambient and power (MOSFET) temperature events. */
export const TB04 = bits([
  ['env_high_temp_alarm', 'env_ot', 1],
  ['env_ot_protect', 'env_ot', 2],
  ['env_low_temp_alarm', 'env_ut', 1],
  ['env_ut_protect', 'env_ut', 2],
  ['power_high_temp_alarm', 'mos_ot', 1],
  ['power_ot_protect', 'mos_ot', 2],
  ['cell_heating', undefined],
  ['tb04_bit7', undefined],
]);
/** TB05 current events 1. */
export const TB05 = bits([
  ['charge_current_alarm', 'chg_oc', 1],
  ['charge_oc_protect', 'chg_oc', 2],
  ['charge_oc2_protect', 'chg_oc', 3],
  ['discharge_current_alarm', 'dsg_oc', 1],
  ['discharge_oc_protect', 'dsg_oc', 2],
  ['discharge_oc2_protect', 'dsg_oc', 3],
  ['output_short_circuit_protect', 'short_circuit', 2],
  ['tb05_bit7', undefined],
]);
/** TB16 current events 2 (latched protections). */
export const TB16 = bits([
  ['output_short_circuit_lock', 'short_circuit', 2],
  ['tb16_bit1', undefined],
  ['charge_oc2_lock', 'chg_oc', 3],
  ['discharge_oc2_lock', 'dsg_oc', 3],
  ['tb16_bit4', undefined],
  ['tb16_bit5', undefined],
  ['tb16_bit6', undefined],
  ['tb16_bit7', undefined],
]);
/** TB06 capacity events. */
export const TB06 = bits([
  ['tb06_bit0', undefined],
  ['tb06_bit1', undefined],
  ['soc_alarm', 'soc_low', 1],
  ['soc_protect', 'soc_low', 2],
  ['cell_diff_alarm', 'cell_diff', 1],
  ['tb06_bit5', undefined],
  ['tb06_bit6', undefined],
  ['tb06_bit7', undefined],
]);
/** TB07 FET states. */
export const TB07 = bits([
  ['discharge_fet_on', undefined],
  ['charge_fet_on', undefined],
  ['current_limit_fet_on', undefined],
  ['heater_on', undefined],
]);
/** TB08 battery states. */
export const TB08 = bits([
  ['low_soc', undefined],
  ['intermittent_charge', undefined],
  ['external_switch_control', undefined],
  ['static_standby', undefined],
  ['history_recording', undefined],
  ['under_soc_protect', undefined],
  ['active_current_limiting', undefined],
  ['passive_current_limiting', undefined],
]);
/** TB09 system state (the vectors' names). */
export const TB09_STATES = [
  'discharging',
  'charging',
  'float_charging',
  'fully_charged',
  'standby',
  'off',
] as const;
/** TB15 hard faults. */
export const TB15 = bits([
  ['ntc_fault', 'temp_sensor_fault'],
  ['afe_fault', 'afe_fault'],
  ['charge_mosfet_fault', 'chg_mos_fault'],
  ['discharge_mosfet_fault', 'dsg_mos_fault'],
  ['cell_fault', 'cell_diff', 2],
  ['wire_break_fault', 'cell_sense_fault'],
  ['key_fault', 'fault_other'],
  ['aerosol_alarm', 'fault_other'],
]);

/** PIC, pack coils (FC 01, 0x1200 x 144 coils = 18 bytes). */
export const PIC: readonly CoilGroup[] = [
  { coil: 0x1200, key: 'cell_low_voltage_alarm', cellsFrom: 1 },
  { coil: 0x1208, key: 'cell_low_voltage_alarm', cellsFrom: 9 },
  { coil: 0x1210, key: 'cell_high_voltage_alarm', cellsFrom: 1 },
  { coil: 0x1218, key: 'cell_high_voltage_alarm', cellsFrom: 9 },
  { coil: 0x1220, key: 'cell_temp_low_alarm', cellsFrom: 1 },
  { coil: 0x1228, key: 'cell_temp_high_alarm', cellsFrom: 1 },
  { coil: 0x1230, key: 'balancing', cellsFrom: 1 },
  { coil: 0x1238, key: 'balancing', cellsFrom: 9 },
  { coil: 0x1240, key: 'system_state' },
  { coil: 0x1248, key: 'voltage_event', bits: TB02 },
  { coil: 0x1250, key: 'cell_temp_event', bits: TB03 },
  { coil: 0x1258, key: 'env_power_temp_event', bits: TB04 },
  { coil: 0x1260, key: 'current_event1', bits: TB05 },
  { coil: 0x1268, key: 'current_event2', bits: TB16 },
  { coil: 0x1270, key: 'capacity_event', bits: TB06 },
  { coil: 0x1278, key: 'fet_event', bits: TB07 },
  { coil: 0x1280, key: 'battery_state', bits: TB08 },
  { coil: 0x1288, key: 'hard_fault', bits: TB15 },
];
export const PIC_BLOCK = { start: 0x1200, count: 144 } as const;

/** EIC, system coils (FC 01, 0x2200 x 80 coils = 10 bytes). */
export const EIC: readonly CoilGroup[] = [
  { coil: 0x2200, key: 'system_state' },
  { coil: 0x2208, key: 'voltage_event', bits: TB02 },
  { coil: 0x2210, key: 'cell_temp_event', bits: TB03 },
  { coil: 0x2218, key: 'env_power_temp_event', bits: TB04 },
  { coil: 0x2220, key: 'current_event1', bits: TB05 },
  { coil: 0x2228, key: 'current_event2', bits: TB16 },
  { coil: 0x2230, key: 'capacity_event', bits: TB06 },
  { coil: 0x2238, key: 'fet_event', bits: TB07 },
  { coil: 0x2240, key: 'balance_state' },
  { coil: 0x2248, key: 'hard_fault', bits: TB15 },
];

/** SFA, function switches (FC 01, 0x1400 x 80 coils): read as raw bytes. */
export const SFA_BLOCK = { start: 0x1400, count: 80 } as const;
export const EIA_BLOCK = { start: 0x2000, count: 26 } as const;
export const EIB_BLOCK = { start: 0x2100, count: 22 } as const;
export const EIC_BLOCK = { start: 0x2200, count: 80 } as const;

/**
 * SCA, system control (FC 10; seplos.md B2, the XZH document only: every entry uncertain).
 * The date is 4 registers: year (uint16 little-endian), month, day, hour, minute, second,
 * reserved byte.
 */
export const SCA = {
  DATE: 0x1500,
  PARAMETER_RESET: 0x1516,
  POWER_OFF: 0x1517,
  SYSTEM_RESET: 0x1518,
  /** The acknowledge word of the reset and off commands. */
  ACK: 0x55aa,
} as const;
