/**
 * One pack's read cycle on a shared link, in a fast or a full flavour. The families' read
 * sessions mark the rarely changing steps (device info, settings) optional: a fast cycle
 * skips them, a full one runs them and tells which values they contributed, so the poller
 * can keep those "slow" values in every snapshot until the next full cycle.
 */
import { isBmsError, type Reading } from '@openbms/core';
import type { ProtocolDefinition, ReadOptions, ReadSession, ReadStep } from '@openbms/protocols';
import type { ExchangeOptions, Exchanger } from '@openbms/transport';

/** Wraps a session so that it hands out its required steps only. */
export function requiredSteps(session: ReadSession): ReadSession {
  return {
    next(): ReadStep | undefined {
      for (let s = session.next(); s; s = session.next()) if (!s.optional) return s;
      return undefined;
    },
    accept: (step, frames) => session.accept(step, frames),
    result: () => session.result(),
  };
}

export interface CycleOptions {
  exchange: ExchangeOptions;
  /** Tries after the first for the steps sent before the pack has answered once in this cycle. */
  probeRetries: number;
  /** Run the optional steps too. */
  full: boolean;
  /** Asked before each step; false aborts the cycle (the poller is stopping). */
  keepGoing?: () => boolean;
}

export interface CycleResult {
  reading: Reading;
  /** Values only the optional steps gave (full cycles only). */
  slow?: Reading;
  skipped: string[];
}

/** Thrown (and recognised by the poller) when a cycle is abandoned because polling stops. */
export class CycleAborted extends Error {}

/**
 * Runs a cycle: one transaction at a time through `ex`. Until the pack has answered one
 * step the steps get `probeRetries` retries (a silent pack then costs one timeout, not one
 * per try); optional steps that fail are skipped, any other failure throws its BmsError.
 */
export async function runCycle(
  ex: Exchanger,
  def: ProtocolDefinition,
  readOpts: ReadOptions,
  o: CycleOptions,
): Promise<CycleResult> {
  const full = def.readSession(readOpts);
  const session = o.full ? full : requiredSteps(full);
  // A full cycle also feeds the required replies to a required-only twin: the difference of
  // the two results is what the optional steps added.
  const twin = o.full ? requiredSteps(def.readSession(readOpts)) : undefined;
  let twinOk = twin !== undefined;
  let answered = false;
  const skipped: string[] = [];
  for (let step = session.next(); step; step = session.next()) {
    if (o.keepGoing && !o.keepGoing()) throw new CycleAborted('polling stopped');
    const current = step;
    const opts = answered ? o.exchange : { ...o.exchange, retries: o.probeRetries };
    let frames: Uint8Array[];
    try {
      frames = await ex.transact(current, opts, (f) => {
        session.accept(current, f);
        return f;
      });
    } catch (e) {
      if (current.optional && isBmsError(e) && e.code !== 'TRANSPORT_CLOSED') {
        skipped.push(current.name);
        continue;
      }
      throw e;
    }
    answered = true;
    if (twin && twinOk && !current.optional) twinOk = feedTwin(twin, current, frames);
  }
  const reading = session.result();
  const result: CycleResult = { reading, skipped };
  if (twin && twinOk) result.slow = slowPart(reading, twin.result());
  return result;
}

function feedTwin(twin: ReadSession, step: ReadStep, frames: Uint8Array[]): boolean {
  const mirror = twin.next();
  if (!mirror || mirror.name !== step.name) return false;
  try {
    twin.accept(mirror, frames);
    return true;
  } catch (e) {
    if (isBmsError(e)) return false;
    throw e;
  }
}

/** Keys never carried from one cycle to the next: they must be fresh. */
const FRESH_ONLY = new Set(['ts', 'alarms', 'address', 'protocol']);
const NESTED = new Set(['info', 'raw']);

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** What `full` holds that `required` does not (or holds differently), info/raw key by key. */
export function slowPart(full: Reading, required: Reading): Reading {
  const out: Record<string, unknown> = {};
  const req = required as Record<string, unknown>;
  for (const [k, v] of Object.entries(full)) {
    if (v === undefined || FRESH_ONLY.has(k)) continue;
    if (NESTED.has(k) && typeof v === 'object' && v !== null) {
      const base = (req[k] ?? {}) as Record<string, unknown>;
      const diff: Record<string, unknown> = {};
      for (const [kk, vv] of Object.entries(v)) if (!same(vv, base[kk])) diff[kk] = vv;
      if (Object.keys(diff).length > 0) out[k] = diff;
    } else if (!same(v, req[k])) out[k] = v;
  }
  return structuredClone(out) as Reading;
}

/** `fresh` completed with the slow values it lacks; fresh values always win. */
export function withSlow(fresh: Reading, slow: Reading | undefined): Reading {
  if (!slow) return fresh;
  const out = fresh as Record<string, unknown>;
  for (const [k, v] of Object.entries(slow)) {
    if (NESTED.has(k)) {
      out[k] = {
        ...(v as Record<string, unknown>),
        ...((out[k] ?? {}) as Record<string, unknown>),
      };
    } else if (out[k] === undefined) out[k] = structuredClone(v);
  }
  return fresh;
}

/** Newer slow values over older ones (a skipped optional step keeps its last values). */
export function mergeSlow(
  older: Reading | undefined,
  newer: Reading | undefined,
): Reading | undefined {
  if (!older) return newer;
  if (!newer) return older;
  const out: Record<string, unknown> = { ...older };
  for (const [k, v] of Object.entries(newer)) {
    out[k] = NESTED.has(k)
      ? { ...((out[k] ?? {}) as Record<string, unknown>), ...(v as Record<string, unknown>) }
      : v;
  }
  return out as Reading;
}

/** The message of anything a cycle threw, for status and events. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
