import { BmsError, isBmsError, type ErrorCode, type Reading } from '@openbms/core';
import type {
  Framer,
  FramerEvent,
  ProtocolDefinition,
  ReadOptions,
  ReadStep,
} from '@openbms/protocols';
import type { Transport } from './transport.js';

export interface ExchangeOptions {
  /** Time allowed for a reply, restarted by each accepted frame of a multi-frame reply. */
  timeoutMs: number;
  /** Extra tries after the first one. */
  retries: number;
  /** Quiet time before each request (RS485 turnaround, slow BMS firmware). */
  gapMs?: number;
  /** Address shown in error messages. */
  address?: number | string;
}

/** Counters of one link, for `read` output and (later) the gateway's link statistics. */
export interface LinkStats {
  requests: number;
  replies: number;
  retries: number;
  timeouts: number;
  checksum_errors: number;
  decode_errors: number;
  unexpected_frames: number;
  discarded_bytes: number;
  /** Discarded byte runs by error code. */
  discards: Partial<Record<ErrorCode, number>>;
  skipped_steps: string[];
}

export function emptyStats(): LinkStats {
  return {
    requests: 0,
    replies: 0,
    retries: 0,
    timeouts: 0,
    checksum_errors: 0,
    decode_errors: 0,
    unexpected_frames: 0,
    discarded_bytes: 0,
    discards: {},
    skipped_steps: [],
  };
}

type Attempt =
  | { ok: true; frames: Uint8Array[] }
  | { ok: false; kind: 'timeout'; partial: boolean }
  | { ok: false; kind: 'checksum' }
  | { ok: false; kind: 'closed'; error: BmsError };

const delay = (ms: number): Promise<void> =>
  ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();

/**
 * Runs request/reply transactions on one link, one at a time (RS485 is half-duplex). It
 * owns the link's framer: received bytes are framed continuously; frames that answer the
 * current step are collected, anything else is counted, never silently dropped.
 */
export class Exchanger {
  readonly stats: LinkStats = emptyStats();
  private readonly framer: Framer;
  private waiter: ((ev: FramerEvent) => void) | undefined;
  private closeWaiter: ((err: BmsError) => void) | undefined;
  private lastRx = 0;
  private busy = false;
  private readonly unsubscribe: (() => void)[];

  constructor(
    private readonly transport: Transport,
    framer: Framer,
  ) {
    this.framer = framer;
    this.unsubscribe = [
      transport.onData((chunk) => {
        this.lastRx = Date.now();
        for (const ev of this.framer.push(chunk)) this.dispatch(ev);
      }),
      transport.onClose((err) => {
        this.closeWaiter?.(
          new BmsError(
            'TRANSPORT_CLOSED',
            `${transport.endpoint} closed during a transaction${err ? `: ${err.message}` : ''}`,
          ),
        );
      }),
    ];
  }

  dispose(): void {
    for (const u of this.unsubscribe) u();
  }

  private dispatch(ev: FramerEvent): void {
    if (ev.type === 'discard') {
      this.stats.discarded_bytes += ev.bytes.length;
      this.stats.discards[ev.code] = (this.stats.discards[ev.code] ?? 0) + 1;
      if (ev.code === 'FRAME_CHECKSUM') this.stats.checksum_errors++;
    } else if (!this.waiter) {
      this.stats.unexpected_frames++;
    }
    this.waiter?.(ev);
  }

  /** Waits until no byte has arrived for `quietMs` (at most `maxMs`), then drops partial bytes. */
  private async settle(quietMs: number, maxMs: number): Promise<void> {
    const until = Date.now() + maxMs;
    while (Date.now() < until && Date.now() - this.lastRx < quietMs) {
      await delay(Math.min(quietMs, until - Date.now()));
    }
    for (const ev of this.framer.end()) this.dispatch(ev);
  }

  private attempt(step: ReadStep, timeoutMs: number): Promise<Attempt> {
    return new Promise((resolve) => {
      const frames: Uint8Array[] = [];
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (a: Attempt): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.waiter = undefined;
        this.closeWaiter = undefined;
        resolve(a);
      };
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(
          () =>
            finish({
              ok: false,
              kind: 'timeout',
              partial: frames.length > 0 || this.framer.pending > 0,
            }),
          timeoutMs,
        );
      };
      this.waiter = (ev) => {
        if (ev.type === 'discard') {
          if (ev.code === 'FRAME_CHECKSUM') finish({ ok: false, kind: 'checksum' });
          return;
        }
        if (!step.accepts(ev.bytes)) {
          this.stats.unexpected_frames++;
          return;
        }
        frames.push(ev.bytes);
        if (step.complete(frames)) finish({ ok: true, frames });
        else arm();
      };
      this.closeWaiter = (error) => finish({ ok: false, kind: 'closed', error });
      arm();
      this.stats.requests++;
      this.transport.write(step.request).catch((e: unknown) =>
        finish({
          ok: false,
          kind: 'closed',
          error: isBmsError(e) ? e : new BmsError('TRANSPORT_WRITE_FAILED', String(e)),
        }),
      );
    });
  }

  /**
   * Sends a step's request and returns its reply frames, retrying on silence, bad
   * checksums and replies the `validate` callback rejects. Throws a BmsError after the
   * last try.
   */
  async transact<T>(
    step: ReadStep,
    opts: ExchangeOptions,
    validate: (frames: Uint8Array[]) => T,
  ): Promise<T> {
    if (this.busy) throw new Error('Exchanger.transact called while a transaction is running');
    this.busy = true;
    try {
      const tries = opts.retries + 1;
      const who = `address ${opts.address ?? '?'} on ${this.transport.endpoint}`;
      let lastDecodeError: BmsError | undefined;
      let checksumFailures = 0;
      let partial = false;
      for (let i = 0; i < tries; i++) {
        if (i > 0) {
          this.stats.retries++;
          await this.settle(Math.max(opts.gapMs ?? 0, 20), opts.timeoutMs);
        }
        await delay(opts.gapMs ?? 0);
        const a = await this.attempt(step, opts.timeoutMs);
        if (a.ok) {
          this.stats.replies++;
          try {
            return validate(a.frames);
          } catch (e) {
            if (!isBmsError(e)) throw e;
            this.stats.decode_errors++;
            lastDecodeError = e;
            continue;
          }
        }
        if (a.kind === 'closed') throw a.error;
        if (a.kind === 'checksum') checksumFailures++;
        else {
          this.stats.timeouts++;
          partial ||= a.partial;
        }
      }
      // Drop the remains of the last failed try before the next transaction.
      await this.settle(Math.max(opts.gapMs ?? 0, 20), opts.timeoutMs);
      const trySuffix = `after ${tries} ${tries === 1 ? 'try' : 'tries'} (timeout ${opts.timeoutMs} ms)`;
      if (lastDecodeError) {
        throw new BmsError(
          lastDecodeError.code,
          `invalid answer to ${step.name} from ${who} ${trySuffix}: ${lastDecodeError.message}`,
          { step: step.name },
        );
      }
      if (checksumFailures === tries) {
        throw new BmsError(
          'FRAME_CHECKSUM',
          `every answer to ${step.name} from ${who} had a bad checksum ${trySuffix}`,
          {
            step: step.name,
          },
        );
      }
      throw new BmsError(
        'TRANSPORT_TIMEOUT',
        partial
          ? `incomplete answer to ${step.name} from ${who} ${trySuffix}`
          : `no answer from ${who} ${trySuffix}`,
        { step: step.name },
      );
    } finally {
      this.busy = false;
    }
  }
}

export interface ReadResult {
  reading: Reading;
  stats: LinkStats;
}

/**
 * Runs a family's full read cycle for one pack over an open transport. Optional steps that
 * fail are skipped (and listed in stats.skipped_steps); any other failure throws.
 */
export async function readPack(
  transport: Transport,
  def: ProtocolDefinition,
  readOpts: ReadOptions,
  exOpts: ExchangeOptions,
  exchanger?: Exchanger,
): Promise<ReadResult> {
  const ex = exchanger ?? new Exchanger(transport, def.createFramer());
  const session = def.readSession(readOpts);
  const opts: ExchangeOptions = {
    ...exOpts,
    address: exOpts.address ?? readOpts.address ?? def.link.defaultAddress,
  };
  try {
    let cleanup: readonly ReadStep[] | undefined;
    for (let step = session.next(); step; step = session.next()) {
      const current = step;
      cleanup = current.cleanup ?? cleanup;
      try {
        await ex.transact(current, opts, (frames) => session.accept(current, frames));
      } catch (e) {
        if (current.optional && isBmsError(e) && e.code !== 'TRANSPORT_CLOSED') {
          ex.stats.skipped_steps.push(current.name);
          continue;
        }
        // Undo a mode the cycle entered (ReadStep.cleanup), best effort, then fail.
        for (const c of cleanup ?? []) {
          try {
            await ex.transact(c, opts, () => undefined);
          } catch {
            // the cycle's own error is the one reported
          }
        }
        throw e;
      }
    }
    const reading = session.result();
    reading.protocol = def.id;
    if (typeof opts.address === 'number') reading.address ??= opts.address;
    reading.ts = new Date().toISOString();
    return { reading, stats: ex.stats };
  } finally {
    if (!exchanger) ex.dispose();
  }
}
