/**
 * Carrying out a validated multi-parameter write so that the pack is never left in a set it
 * should not hold:
 *
 * - a family that writes the whole change in one frame (Pylontech 0x94) is sent as one unit:
 *   the device applies it at once, there is no intermediate set;
 * - otherwise each parameter is its own unit, sent in `writeOrder`'s order, in which every
 *   intermediate set keeps the rules (writing UV 3100 / recovery 3200 over 2800 / 3000 sends
 *   the recovery first);
 * - when a unit fails (the device refuses, stops answering) or the read-back differs, the
 *   units already sent, the failing one included (it may have acted), are written back to
 *   their old values in reverse order (each intermediate set is then one the forward path
 *   already went through), and the pack is read again so the answer says what it holds.
 */
import { BmsError, isBmsError } from '@openbms/core';
import type { ControlStep } from '@openbms/protocols';
import { sameValue } from './parameters.js';

/** What the write needs from the link the caller holds. */
export interface WriteIo {
  /**
   * The family's frames for these values (built, not sent). Throws on a refusal. `applied`
   * holds the values this write sends before these frames (a family that writes a block of
   * several parameters carries the others at the value the pack will hold by then, not at
   * the value read before the write).
   */
  build(values: Record<string, number>, applied?: Record<string, number>): readonly ControlStep[];
  send(steps: readonly ControlStep[]): Promise<unknown>;
  /** Reads the pack's parameters now. */
  read(): Promise<Record<string, number>>;
}

export interface WriteUnit {
  ids: string[];
  steps: readonly ControlStep[];
}

/** A validated write: the changes, what the pack held before, and a safe order. */
export interface WritePlan {
  changes: Record<string, number>;
  old: Record<string, number | undefined>;
  /**
   * The ids in an order where every intermediate set keeps the rules; undefined when there
   * is none (then only a family that sends the whole change in one frame can write it).
   */
  order: string[] | undefined;
}

/** A write that failed part-way, after the units sent were put back as far as possible. */
export class WriteAborted extends Error {
  constructor(
    /** What went wrong first (the device's refusal, a timeout, the read-back mismatch). */
    readonly error: unknown,
    /** Ids whose unit went out (the failing one included). */
    readonly written: string[],
    /** Ids of `written` that read back equal to their old value after the rollback. */
    readonly restored: string[],
    /** Ids of `written` that did not (no old value, refused, unreadable or another value). */
    readonly notRestored: string[],
    /** The pack's values after the rollback, for every id of the write; undefined when unreadable. */
    readonly holds: Record<string, number> | undefined,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

/** Splits a write into the units it is sent as; every frame is built before anything is sent. */
export function writeUnits(io: WriteIo, plan: WritePlan): WriteUnit[] {
  const ids = plan.order ?? Object.keys(plan.changes);
  const whole = io.build(Object.fromEntries(ids.map((id) => [id, plan.changes[id]!])));
  if (whole.length <= 1) return [{ ids, steps: whole }];
  if (!plan.order) {
    throw new BmsError(
      'PARAM_INCONSISTENT',
      `no order of single-parameter writes keeps every intermediate set of ${ids.join(', ')} within the rules; write them in smaller steps`,
      { ids },
    );
  }
  const applied: Record<string, number> = {};
  return plan.order.map((id) => {
    const unit = { ids: [id], steps: io.build({ [id]: plan.changes[id]! }, { ...applied }) };
    applied[id] = plan.changes[id]!;
    return unit;
  });
}

/**
 * Sends the units in order, reads back and compares. Returns the read-back values; throws
 * WriteAborted (after the rollback) when a unit fails or the read-back differs.
 */
export async function runWrite(
  io: WriteIo,
  plan: WritePlan,
  units: WriteUnit[],
): Promise<Record<string, number>> {
  const written: string[] = [];
  for (const unit of units) {
    try {
      await io.send(unit.steps);
      written.push(...unit.ids);
    } catch (e) {
      // A refusal is the device saying it did not act; silence or a broken link may hide
      // a write that happened, so that unit counts as written.
      if (!(isBmsError(e) && e.code === 'COMMAND_REFUSED')) written.push(...unit.ids);
      if (written.length === 0) throw e;
      throw await rollback(io, plan, written, units.length === 1, e);
    }
  }
  let back: Record<string, number>;
  try {
    back = await io.read();
  } catch (e) {
    throw await rollback(io, plan, written, units.length === 1, e);
  }
  const ids = units.flatMap((u) => u.ids);
  const bad = ids.filter((id) => {
    const v = back[id];
    return v === undefined || !sameValue(id, v, plan.changes[id]!);
  });
  if (bad.length > 0) {
    const err = new BmsError(
      'READBACK_MISMATCH',
      `written but read back differently: ${bad
        .map((id) => `${id} requested ${plan.changes[id]}, read ${back[id] ?? 'nothing'}`)
        .join('; ')}`,
      { ids: bad },
    );
    throw await rollback(io, plan, written, units.length === 1, err);
  }
  return back;
}

async function rollback(
  io: WriteIo,
  plan: WritePlan,
  written: string[],
  atomic: boolean,
  error: unknown,
): Promise<WriteAborted> {
  const toRestore = written.filter((id) => plan.old[id] !== undefined).reverse();
  const put = async (ids: string[], applied: Record<string, number>): Promise<void> => {
    const values = Object.fromEntries(ids.map((id) => [id, plan.old[id]!]));
    // A refused or unanswered restore is judged by the read below, like every other.
    try {
      await io.send(io.build(values, applied));
    } catch {
      // judged by the read below
    }
  };
  if (atomic) {
    if (toRestore.length > 0) await put(toRestore, {});
  } else {
    // Restoring the k-th write in reverse, the pack holds the writes before it (the later
    // ones are already back at their old values).
    for (const id of toRestore) {
      const before = written.slice(0, written.indexOf(id));
      await put([id], Object.fromEntries(before.map((w) => [w, plan.changes[w]!])));
    }
  }
  let holds: Record<string, number> | undefined;
  try {
    const now = await io.read();
    holds = Object.fromEntries(
      Object.keys(plan.changes)
        .filter((id) => now[id] !== undefined)
        .map((id) => [id, now[id]!]),
    );
  } catch {
    holds = undefined;
  }
  const back = (id: string): boolean => {
    const v = holds?.[id];
    const old = plan.old[id];
    return v !== undefined && old !== undefined && sameValue(id, v, old);
  };
  return new WriteAborted(
    error,
    written,
    written.filter(back),
    written.filter((id) => !back(id)),
    holds,
  );
}

/** The message of an aborted write: the first error, then what was undone and what the pack holds. */
export function abortedMessage(a: WriteAborted): string {
  const first = a.error instanceof Error ? a.error.message : String(a.error);
  const parts = [first.replace(/\.$/, '')];
  if (a.written.length > 0) parts.push(`sent before it stopped: ${a.written.join(', ')}`);
  if (a.restored.length > 0) parts.push(`restored to the old values: ${a.restored.join(', ')}`);
  if (a.notRestored.length > 0) parts.push(`NOT restored: ${a.notRestored.join(', ')}`);
  parts.push(
    a.holds
      ? `the pack now holds ${
          Object.entries(a.holds)
            .map(([id, v]) => `${id}=${v}`)
            .join(', ') || 'none of these values'
        }`
      : 'the pack could not be read afterwards',
  );
  return `${parts.join('; ')}.`;
}

/** The coded error an aborted write answers with: the first error's code, the whole story. */
export function abortedError(a: WriteAborted): unknown {
  if (!isBmsError(a.error)) return a.error;
  return new BmsError(a.error.code, abortedMessage(a), {
    ...a.error.details,
    written: a.written,
    rolled_back: a.restored,
    not_restored: a.notRestored,
    ...(a.holds ? { parameters: a.holds } : {}),
  });
}
