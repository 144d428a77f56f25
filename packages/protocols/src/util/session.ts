import { completeSnapshot, type Reading } from '@openbms/core';
import type { ReadSession, ReadStep } from '../types.js';
import { concatBytes } from './bytes.js';

/**
 * Merges a decoded reply into the snapshot built so far. Later replies win for plain
 * fields; `raw` and `info` are merged key by key; alarms are concatenated without
 * duplicates (several replies of one cycle may report alarms).
 */
export function mergeReading(into: Reading, part: Reading): Reading {
  for (const [k, v] of Object.entries(part)) {
    if (v === undefined) continue;
    if (k === 'raw' || k === 'info') {
      const cur = (into as Record<string, unknown>)[k] as Record<string, unknown> | undefined;
      (into as Record<string, unknown>)[k] = { ...(cur ?? {}), ...(v as Record<string, unknown>) };
    } else if (k === 'alarms') {
      const cur = into.alarms ?? [];
      const seen = new Set(cur.map((a) => `${a.code}/${a.level ?? ''}/${a.source ?? ''}`));
      for (const a of part.alarms ?? []) {
        const key = `${a.code}/${a.level ?? ''}/${a.source ?? ''}`;
        if (!seen.has(key)) cur.push(a);
        seen.add(key);
      }
      into.alarms = cur;
    } else {
      (into as Record<string, unknown>)[k] = v;
    }
  }
  return into;
}

/** A step of a sequential read cycle: either fixed, or built from what was read so far. */
export type StepPlan = ReadStep | ((soFar: Reading) => ReadStep | undefined);

/**
 * A ReadSession that runs its steps in order. `decode` turns one step's reply into a
 * Reading; steps given as functions are built when reached, so they can use earlier replies
 * (DALY needs the cell count of 0x94 before it can expect the 0x95 frames).
 */
export function sequentialSession(opts: {
  steps: readonly StepPlan[];
  decode(step: ReadStep, bytes: Uint8Array, soFar: Reading): Reading;
  /** Final touches on the merged snapshot (derived values are added after this). */
  finish?(r: Reading): Reading;
}): ReadSession {
  let index = 0;
  let current: ReadStep | undefined;
  const result: Reading = {};
  return {
    next(): ReadStep | undefined {
      while (index < opts.steps.length) {
        const plan = opts.steps[index++]!;
        current = typeof plan === 'function' ? plan(result) : plan;
        if (current) return current;
      }
      current = undefined;
      return undefined;
    },
    accept(step: ReadStep, frames: Uint8Array[]): void {
      const part = opts.decode(step, concatBytes(frames), result);
      mergeReading(result, part);
    },
    result(): Reading {
      const r = opts.finish ? opts.finish(result) : result;
      return completeSnapshot(r);
    },
  };
}
