/**
 * MOSFET interlocks as data (seed 004): a BMS refuses to open one FET while current flows
 * through the other path, because opening the charge FET under discharge (or the reverse)
 * makes the body diode carry the whole current and can destroy it. The gateway checks the
 * same rule against the latest snapshot before sending anything, so the reason is ours and
 * clear, and the device keeps its own check as the last word.
 */
import type { Reading } from '@openbms/core';

export interface MosInterlock {
  which: 'charge' | 'discharge';
  /** The switch direction the rule guards (opening a FET). */
  on: boolean;
  /** Refused while the pack current (A, + = charging) is beyond this... */
  currentBeyondA: number;
  /** ...in this direction. */
  direction: 'below' | 'above';
  /** Why, for the refusal message. */
  reason: string;
}

/** Current, A, under which a pack counts as idle for the interlocks. */
export const INTERLOCK_THRESHOLD_A = 0.5;

export const MOS_INTERLOCKS: readonly MosInterlock[] = [
  {
    which: 'charge',
    on: false,
    currentBeyondA: -INTERLOCK_THRESHOLD_A,
    direction: 'below',
    reason: 'discharge current flows',
  },
  {
    which: 'discharge',
    on: false,
    currentBeyondA: INTERLOCK_THRESHOLD_A,
    direction: 'above',
    reason: 'charge current flows',
  },
];

/**
 * The refusal reason for switching `which` to `on` given a snapshot, or undefined when no
 * interlock applies. A snapshot without current_a cannot prove the pack idle: refused.
 */
export function mosInterlock(
  snapshot: Reading,
  which: 'charge' | 'discharge',
  on: boolean,
): string | undefined {
  for (const rule of MOS_INTERLOCKS) {
    if (rule.which !== which || rule.on !== on) continue;
    const i = snapshot.current_a;
    if (typeof i !== 'number' || !Number.isFinite(i)) {
      return `the pack's current is unknown, so switching the ${which} MOSFET off cannot be checked against the interlock`;
    }
    const hit = rule.direction === 'below' ? i < rule.currentBeyondA : i > rule.currentBeyondA;
    if (hit) {
      return `${rule.reason} (${Math.round(i * 10) / 10} A, limit ${Math.abs(rule.currentBeyondA)} A): the ${which} MOSFET cannot be switched off now; bring the current to zero first`;
    }
  }
  return undefined;
}
