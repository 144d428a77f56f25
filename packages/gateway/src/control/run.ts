/**
 * Runs a family's control transactions and parameter reads on a link the caller holds
 * (inside `BusPoller.exclusive`). A device refusal is final: it is never retried (retrying
 * would send a refused command again), while silence and bad checksums are retried like
 * any read, because every control write is absolute (set X to V), so a repeat is harmless.
 */
import { BmsError, isBmsError, type Reading } from '@openbms/core';
import type {
  ControlOutcome,
  ControlStep,
  ProtocolDefinition,
  ReadSession,
  ReadStep,
} from '@openbms/protocols';
import { readPack, type ExchangeOptions, type Exchanger, type Transport } from '@openbms/transport';

type Attempt = { ok: true; outcome: ControlOutcome } | { ok: false; error: BmsError };

export interface StepRun {
  /** Steps whose request went out (a refused or failed step counts: it may have acted). */
  sent: number;
  outcomes: ControlOutcome[];
}

/** Thrown when a step fails after earlier steps were sent; `sent` says how far it got. */
export class PartialRun extends Error {
  constructor(
    readonly error: unknown,
    readonly sent: number,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

/**
 * Sends the steps one after the other. The first refusal or failure stops the run:
 * COMMAND_REFUSED (device said no) or the transport's error, wrapped in PartialRun when an
 * earlier step already went out. An optional step that gets no answer (a restart the
 * firmware does not acknowledge) counts as sent.
 */
export async function runSteps(
  ex: Exchanger,
  steps: readonly ControlStep[],
  opts: ExchangeOptions,
): Promise<StepRun> {
  const run: StepRun = { sent: 0, outcomes: [] };
  let cleanup: readonly ReadStep[] | undefined;
  for (const step of steps) {
    cleanup = step.cleanup ?? cleanup;
    let attempt: Attempt;
    try {
      attempt = await ex.transact(step, opts, (frames): Attempt => {
        try {
          return { ok: true, outcome: step.result(frames) };
        } catch (e) {
          // A refusal is an answer, not a bad frame: stop here instead of retrying.
          if (isBmsError(e) && e.code === 'COMMAND_REFUSED') return { ok: false, error: e };
          throw e;
        }
      });
    } catch (e) {
      if (step.optional && isBmsError(e) && e.code === 'TRANSPORT_TIMEOUT') {
        run.sent++;
        run.outcomes.push({});
        continue;
      }
      await runCleanup(ex, cleanup, opts);
      throw run.sent > 0 ? new PartialRun(e, run.sent + 1) : e;
    }
    run.sent++;
    if (!attempt.ok) {
      await runCleanup(ex, cleanup, opts);
      throw run.sent > 1 ? new PartialRun(attempt.error, run.sent) : attempt.error;
    }
    run.outcomes.push(attempt.outcome);
  }
  return run;
}

/**
 * Sends a failed run's cleanup steps (ReadStep.cleanup), best effort: each reply is taken
 * as it comes, and a cleanup step that fails does not stop the next one nor hide the run's
 * own error (the caller throws that).
 */
export async function runCleanup(
  ex: Exchanger,
  cleanup: readonly ReadStep[] | undefined,
  opts: ExchangeOptions,
): Promise<void> {
  for (const step of cleanup ?? []) {
    try {
      await ex.transact(step, opts, () => undefined);
    } catch (e) {
      // A closed link ends the cleanup: nothing more can be sent.
      if (isBmsError(e) && e.code === 'TRANSPORT_CLOSED') return;
    }
  }
}

/** Runs a read session (the family's readParameters) and returns its result. */
export async function runSession(
  ex: Exchanger,
  session: ReadSession,
  opts: ExchangeOptions,
): Promise<Reading> {
  let cleanup: readonly ReadStep[] | undefined;
  for (let step = session.next(); step; step = session.next()) {
    const current = step;
    cleanup = current.cleanup ?? cleanup;
    try {
      await ex.transact(current, opts, (frames) => session.accept(current, frames));
    } catch (e) {
      if (current.optional && isBmsError(e) && e.code !== 'TRANSPORT_CLOSED') continue;
      await runCleanup(ex, cleanup, opts);
      throw e;
    }
  }
  return session.result();
}

/** `raw.parameters` of a readParameters result, checked: catalog id -> finite number. */
export function parametersOf(reading: Reading, family: string): Record<string, number> {
  const p = reading.raw?.['parameters'];
  if (typeof p !== 'object' || p === null || Array.isArray(p)) {
    throw new BmsError(
      'DECODE_UNSUPPORTED',
      `${family}: the parameter read gave no raw.parameters (a bug in the family's readParameters)`,
    );
  }
  const out: Record<string, number> = {};
  for (const [id, v] of Object.entries(p as Record<string, unknown>)) {
    if (typeof v === 'number' && Number.isFinite(v)) out[id] = v;
  }
  return out;
}

/** A fresh read cycle of the pack (readPack) on the held link. */
export async function freshRead(
  transport: Transport,
  ex: Exchanger,
  def: ProtocolDefinition,
  target: { address: number; variant?: string },
  opts: ExchangeOptions,
): Promise<Reading> {
  const readOpts =
    target.variant !== undefined
      ? { address: target.address, variant: target.variant }
      : { address: target.address };
  const { reading } = await readPack(transport, def, readOpts, opts, ex);
  return reading;
}
