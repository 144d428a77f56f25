/**
 * Active alarms -> the four D2 alarm registers (0x3A..0x3D): the 0xA5 protocol's 0x98 fault
 * bytes 0..7, two per register, lower-numbered byte in the low half (the family's FAULT_BITS).
 */
import type { Alarm, RunState } from '@openbms/core';
import { FAULT_BITS } from '@openbms/protocols/daly-modbus';

/** Bit name used when an alarm code has several bits and the alarm names none of them. */
function defaultSource(code: string, state: RunState | undefined): string | undefined {
  const chg = state === 'charging';
  switch (code) {
    case 'mos_ot':
      return chg ? 'chg_mos_ot' : 'dsg_mos_ot';
    case 'temp_sensor_fault':
      return 'cell_temp_sensor_fault';
    case 'chg_mos_fault':
      return 'chg_mos_adhesion';
    case 'dsg_mos_fault':
      return 'dsg_mos_adhesion';
    default:
      return undefined;
  }
}

/** Codes DALY has no bit for but reports under a neighbour (cell temperature by direction). */
function dalyCode(code: string, state: RunState | undefined): string {
  if (code === 'cell_ot') return state === 'charging' ? 'chg_ot' : 'dsg_ot';
  if (code === 'cell_ut') return state === 'charging' ? 'chg_ut' : 'dsg_ut';
  return code;
}

function bitOf(a: Alarm, state: RunState | undefined): number | undefined {
  const code = dalyCode(a.code, state);
  const candidates: number[] = [];
  FAULT_BITS.forEach((d, i) => {
    if (d && d[1] === code) candidates.push(i);
  });
  if (candidates.length === 0) return undefined;
  const named = candidates.find((i) => FAULT_BITS[i]![0] === a.source);
  if (named !== undefined) return named;
  if (FAULT_BITS[candidates[0]!]![2] !== undefined) {
    // Two-level alarm: level 1 = warning bit, level 2 (and 3) = protection bit.
    const level = Math.min(2, Math.max(1, a.level ?? (a.severity === 'warning' ? 1 : 2)));
    return candidates.find((i) => FAULT_BITS[i]![2] === level);
  }
  const src = defaultSource(code, state);
  return candidates.find((i) => FAULT_BITS[i]![0] === src) ?? candidates[0];
}

/**
 * The four alarm register values. Alarms without a DALY bit (insulation, heater, balancer,
 * environment...) are not reported; `fault_other` becomes the fault code byte (7).
 */
export function alarmRegisters(alarms: readonly Alarm[], state: RunState | undefined): number[] {
  const bytes = new Array<number>(8).fill(0);
  for (const a of alarms) {
    if (a.code === 'fault_other') {
      const n = Number(/^fault_code_(\d+)$/.exec(a.source ?? '')?.[1] ?? 1);
      bytes[7] = n >= 1 && n <= 255 ? n : 1;
      continue;
    }
    const bit = bitOf(a, state);
    if (bit !== undefined) bytes[bit >> 3] = bytes[bit >> 3]! | (1 << (bit & 7));
  }
  return [0, 1, 2, 3].map((k) => bytes[2 * k]! | (bytes[2 * k + 1]! << 8));
}
