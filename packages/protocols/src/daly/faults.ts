/**
 * 0x98 fault bitmap: data bytes 0..6 are flags (bit 0 = least significant), byte 7 is a
 * numeric fault code. Each flag has the identifier of the protocol doc (used in
 * raw.alarms) and its place in the core alarm taxonomy (level 1 = warning, 2 = protection;
 * flags without a level keep the taxonomy's default severity).
 */
import { makeAlarm, type Alarm } from '@openbms/core';

export interface FaultBit {
  /** Protocol identifier (the vectors' name). */
  id: string;
  /** Core taxonomy code. */
  code: string;
  level?: 1 | 2;
}

const lv = (base: string, code: string): [FaultBit, FaultBit] => [
  { id: `${base}_l1`, code, level: 1 },
  { id: `${base}_l2`, code, level: 2 },
];
const f = (id: string, code: string): FaultBit => ({ id, code });

/** Index = byte * 8 + bit; undefined = reserved bit. */
export const FAULT_BITS: readonly (FaultBit | undefined)[] = [
  // byte 0
  ...lv('cell_ov', 'cell_ov'),
  ...lv('cell_uv', 'cell_uv'),
  ...lv('pack_ov', 'pack_ov'),
  ...lv('pack_uv', 'pack_uv'),
  // byte 1
  ...lv('chg_ot', 'chg_ot'),
  ...lv('chg_ut', 'chg_ut'),
  ...lv('dsg_ot', 'dsg_ot'),
  ...lv('dsg_ut', 'dsg_ut'),
  // byte 2
  ...lv('chg_oc', 'chg_oc'),
  ...lv('dsg_oc', 'dsg_oc'),
  ...lv('soc_high', 'soc_high'),
  ...lv('soc_low', 'soc_low'),
  // byte 3 (bits 4..7 reserved)
  ...lv('cell_diff', 'cell_diff'),
  ...lv('temp_diff', 'temp_diff'),
  undefined,
  undefined,
  undefined,
  undefined,
  // byte 4
  f('chg_mos_ot', 'mos_ot'),
  f('dsg_mos_ot', 'mos_ot'),
  f('chg_mos_temp_sensor_fault', 'temp_sensor_fault'),
  f('dsg_mos_temp_sensor_fault', 'temp_sensor_fault'),
  f('chg_mos_adhesion', 'chg_mos_fault'),
  f('dsg_mos_adhesion', 'dsg_mos_fault'),
  f('chg_mos_open_circuit', 'chg_mos_fault'),
  f('dsg_mos_open_circuit', 'dsg_mos_fault'),
  // byte 5
  f('afe_fault', 'afe_fault'),
  f('cell_voltage_collect_dropped', 'cell_sense_fault'),
  f('cell_temp_sensor_fault', 'temp_sensor_fault'),
  f('eeprom_fault', 'eeprom_fault'),
  f('rtc_fault', 'rtc_fault'),
  f('precharge_failure', 'precharge_fault'),
  f('vehicle_comm_fault', 'external_comm'),
  f('internal_comm_fault', 'internal_comm'),
  // byte 6 (bits 4..7 reserved)
  f('current_module_fault', 'current_sense_fault'),
  f('sum_voltage_detect_fault', 'voltage_sense_fault'),
  f('short_circuit_protect_fault', 'short_circuit'),
  f('low_voltage_no_charge', 'low_voltage_no_charge'),
  undefined,
  undefined,
  undefined,
  undefined,
];

export interface DecodedFaults {
  ids: string[];
  alarms: Alarm[];
  /** Set bits that the doc marks reserved, as "byte.bit" strings. */
  reserved: string[];
}

/** Decodes the 7 flag bytes at data[off..off+7) and the fault code at data[off+7]. */
export function decodeFaults(frame: Uint8Array, off: number): DecodedFaults {
  const ids: string[] = [];
  const alarms: Alarm[] = [];
  const reserved: string[] = [];
  for (let byte = 0; byte < 7; byte++) {
    const v = frame[off + byte]!;
    if (v === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if ((v & (1 << bit)) === 0) continue;
      const fb = FAULT_BITS[byte * 8 + bit];
      if (!fb) {
        reserved.push(`${byte}.${bit}`);
        continue;
      }
      ids.push(fb.id);
      alarms.push(
        fb.level === undefined
          ? makeAlarm(fb.code, { source: fb.id })
          : makeAlarm(fb.code, { level: fb.level, source: fb.id }),
      );
    }
  }
  const code = frame[off + 7]!;
  if (code !== 0) alarms.push(makeAlarm('fault_other', { source: `fault_code_${code}` }));
  return { ids, alarms, reserved };
}
