/**
 * The state machine of one rule on one pack, pure: given the last phase, the metric's value
 * in a snapshot and the snapshot's time, it says the next phase and whether to raise or
 * clear. Hysteresis: it raises on the alarm side of `threshold` and clears only on the safe
 * side of `clear`; between the two nothing changes. Durations are measured between snapshot
 * times, so no timer is needed (and a pack that sends nothing cannot fire).
 */
import type { AlarmRule } from './rules.js';

export type RulePhase = 'idle' | 'pending' | 'raised' | 'clearing';

export interface RuleTrack {
  phase: RulePhase;
  /** When the current pending/clearing phase began (snapshot ts, ms). */
  since: number;
}

export interface RuleStep {
  next: RuleTrack;
  action?: 'raise' | 'clear';
}

type RuleCore = Pick<AlarmRule, 'op' | 'threshold' | 'clear' | 'for_s' | 'clear_for_s'>;

export function onAlarmSide(rule: RuleCore, value: number): boolean {
  return rule.op === '>' ? value > rule.threshold : value < rule.threshold;
}

export function onSafeSide(rule: RuleCore, value: number): boolean {
  return rule.op === '>' ? value <= rule.clear : value >= rule.clear;
}

/** One evaluation. A missing value (`undefined`) changes nothing. */
export function stepRule(
  rule: RuleCore,
  track: RuleTrack,
  value: number | undefined,
  ts: number,
): RuleStep {
  if (value === undefined) return { next: track };
  const held = (ms: number): boolean => ts - track.since >= ms;
  switch (track.phase) {
    case 'idle':
      if (!onAlarmSide(rule, value)) return { next: track };
      if (rule.for_s <= 0) return { next: { phase: 'raised', since: ts }, action: 'raise' };
      return { next: { phase: 'pending', since: ts } };
    case 'pending':
      if (!onAlarmSide(rule, value)) return { next: { phase: 'idle', since: ts } };
      if (held(rule.for_s * 1000)) return { next: { phase: 'raised', since: ts }, action: 'raise' };
      return { next: track };
    case 'raised':
      if (!onSafeSide(rule, value)) return { next: track };
      if (rule.clear_for_s <= 0) return { next: { phase: 'idle', since: ts }, action: 'clear' };
      return { next: { phase: 'clearing', since: ts } };
    case 'clearing':
      if (!onSafeSide(rule, value)) return { next: { phase: 'raised', since: ts } };
      if (held(rule.clear_for_s * 1000))
        return { next: { phase: 'idle', since: ts }, action: 'clear' };
      return { next: track };
  }
}

/** Called when a pack goes offline: a half-measured duration starts again from scratch. */
export function interruptTrack(track: RuleTrack, ts: number): RuleTrack {
  if (track.phase === 'pending') return { phase: 'idle', since: ts };
  if (track.phase === 'clearing') return { phase: 'raised', since: ts };
  return track;
}
