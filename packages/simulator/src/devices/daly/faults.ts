/**
 * Canonical alarms -> the 0x98 fault bitmap (7 flag bytes + fault code), the inverse of the
 * family's FAULT_BITS table. A pack alarm is put on the flag whose identifier equals its
 * `source` when there is one; else on the first flag of its taxonomy code at its level
 * (level 1 or a warning -> `_l1`, level 2+ -> `_l2`).
 */
import type { Alarm } from '@openbms/core';
import { FAULT_BITS } from '@openbms/protocols/daly';

/** Codes DALY does not carry, put on the nearest flag by the current's direction. */
const BY_DIRECTION: Record<string, [charging: string, otherwise: string]> = {
  cell_ot: ['chg_ot', 'dsg_ot'],
  cell_ut: ['chg_ut', 'dsg_ut'],
  mos_ot: ['chg_mos_ot', 'dsg_mos_ot'],
};

function wantedLevel(a: Alarm): 1 | 2 {
  if (a.level !== undefined) return a.level <= 1 ? 1 : 2;
  return a.severity === 'warning' ? 1 : 2;
}

/** Index (byte * 8 + bit) of the flag for one alarm, or -1 when DALY has none. */
export function faultBitOf(a: Alarm, charging: boolean): number {
  const bySource = FAULT_BITS.findIndex(
    (b) => b !== undefined && b.id === a.source && b.code === a.code,
  );
  if (bySource >= 0) return bySource;
  const dir = BY_DIRECTION[a.code];
  if (dir) {
    const target = charging ? dir[0] : dir[1];
    const i = FAULT_BITS.findIndex((b) => b?.code === target || b?.id === target);
    const b = FAULT_BITS[i];
    if (b?.level === undefined) return i;
    // A levelled flag: the pair is l1, l2 in consecutive bits.
    return wantedLevel(a) === 1 ? i : i + 1;
  }
  const level = wantedLevel(a);
  const i = FAULT_BITS.findIndex(
    (b) => b?.code === a.code && (b.level === undefined || b.level === level),
  );
  return i;
}

/** The 8 data bytes of a 0x98 reply for these alarms. */
export function faultData(alarms: readonly Alarm[], charging: boolean): number[] {
  const data = new Array<number>(8).fill(0);
  for (const a of alarms) {
    const bit = faultBitOf(a, charging);
    if (bit >= 0) data[bit >> 3]! |= 1 << (bit & 7);
    // The numeric fault code: only a fault_other that names one (`fault_code_<n>`).
    const m = a.code === 'fault_other' ? /^fault_code_(\d+)$/.exec(a.source ?? '') : null;
    if (m) data[7] = Math.min(255, Number(m[1]));
  }
  return data;
}
