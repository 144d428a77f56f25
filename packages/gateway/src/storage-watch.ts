/**
 * Watches the storage and turns its problems into gateway alarms and the `/health` status:
 *
 * - `storage_full` while the store reports a full disk, or while samples wait in the writer
 *   because the last write failed with STORAGE_FULL. It clears when neither holds: the
 *   buffered samples are written (the store clears its own problem at the first write that
 *   succeeds), so a small alarm write that fits while the sample batch does not, does not
 *   make the alarm flap.
 * - `storage_corrupt` while the store reports a damaged file set aside (it keeps reporting it
 *   until the operator has moved the set-aside file away).
 *
 * It looks after every writer flush (once per `batch_ms`), when the store says its health
 * changed, and after each integrity check (every `storage.integrity_check_h`, off the event
 * loop: the SQLite adapter runs quick_check in a worker thread). Looks run one at a time, and
 * the last status is kept for `/health` (`current()`).
 */
import type { Storage, StorageProblem } from '@openbms/storage';
import type { AlarmEngine } from './alarms/index.js';
import type { SampleWriter } from './writer.js';

export interface StorageStatus {
  /** `degraded`: something is not being stored as it should (details in `problems`). */
  status: 'ok' | 'degraded';
  /** The most serious problem's code and message (absent when ok). */
  code?: StorageProblem['code'];
  message?: string;
  problems: StorageProblem[];
  /** Samples waiting in memory for the store. */
  buffered: number;
  /** Records (alarms, audit, sessions) waiting in memory for the store. */
  deferred: number;
}

export interface StorageWatchOptions {
  storage: Storage;
  writer: SampleWriter;
  alarms: AlarmEngine;
  clock: { now(): number };
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** How often to run the integrity check, ms (0: never). */
  checkEveryMs: number;
}

export class StorageWatch {
  private off: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<unknown> | undefined;
  private lastCodes = '';
  private stopped = true;
  /** The look in progress: looks run one after the other. */
  private looking: Promise<void> = Promise.resolve();
  /** Since when the disk has been full (kept until the samples that waited are written). */
  private fullSince: number | undefined;

  constructor(private readonly o: StorageWatchOptions) {}

  /** Starts watching; resolves after the first look. */
  start(): Promise<void> {
    this.stopped = false;
    this.off ??= this.o.storage.onHealth?.(() => void this.evaluate());
    if (this.o.checkEveryMs > 0 && this.o.storage.checkIntegrity && !this.timer) {
      this.timer = setInterval(() => void this.check(), this.o.checkEveryMs);
      this.timer.unref?.();
    }
    return this.evaluate();
  }

  stop(): void {
    this.stopped = true;
    this.off?.();
    this.off = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** After a writer flush: retries what the store keeps in memory, then looks. */
  async tick(): Promise<void> {
    try {
      await this.o.storage.retry?.();
    } catch (e) {
      this.o.log('error', `storage retry failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    await this.evaluate();
  }

  /** Runs the integrity check now (one at a time); a damaged file raises storage_corrupt. */
  async check(): Promise<void> {
    const run = this.o.storage.checkIntegrity;
    if (!run || this.checking) return;
    const p = run
      .call(this.o.storage, {})
      .then((r) => {
        if (r.result === 'corrupt') {
          this.o.log(
            'error',
            `database integrity check failed (${r.detail}); the file was set aside${r.setAside ? ` as ${r.setAside}` : ''} and a fresh one is in use`,
          );
        } else if (r.result === 'unfinished') {
          this.o.log('warn', `database integrity check did not finish: ${r.detail}`);
        }
      })
      .catch((e: unknown) =>
        this.o.log('error', `database integrity check failed to run: ${String(e)}`),
      )
      .finally(() => {
        this.checking = undefined;
      })
      .then(() => this.evaluate());
    this.checking = p;
    await p;
  }

  /** The status now: asks the store. */
  async status(): Promise<StorageStatus> {
    let health = { problems: [] as StorageProblem[], deferred: 0 };
    try {
      health = (await this.o.storage.health?.()) ?? health;
    } catch (e) {
      this.o.log(
        'error',
        `storage health unreadable: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const problems = [...health.problems];
    const w = this.o.writer.status;
    const has = (code: string): boolean => problems.some((p) => p.code === code);
    if (w.buffered > 0 && w.lastErrorCode?.startsWith('STORAGE_') && !has(w.lastErrorCode)) {
      problems.push({
        code: w.lastErrorCode as StorageProblem['code'],
        message: `${w.buffered} sample(s) wait in memory: ${w.lastError ?? w.lastErrorCode}`,
        since: this.fullSince ?? this.o.clock.now(),
      });
    }
    // Once full, full until the samples that waited are written: a small record that fits
    // while the next batch does not must not clear it (and raise it again a second later).
    if (this.fullSince !== undefined && w.buffered > 0 && !has('STORAGE_FULL')) {
      problems.push({
        code: 'STORAGE_FULL',
        message: `the disk was full; ${w.buffered} sample(s) wait for the next write`,
        since: this.fullSince,
      });
    }
    const first = problems[0];
    return {
      status: first ? 'degraded' : 'ok',
      ...(first ? { code: first.code, message: first.message } : {}),
      problems,
      buffered: w.buffered,
      deferred: health.deferred,
    };
  }

  /** Raises or clears the storage alarms to match the status now (one look at a time). */
  evaluate(): Promise<void> {
    const next = this.looking.then(() => this.look());
    this.looking = next.catch((e: unknown) =>
      this.o.log('error', `storage watch failed: ${e instanceof Error ? e.message : String(e)}`),
    );
    return this.looking;
  }

  private async look(): Promise<void> {
    if (this.stopped) return; // a check that ends after the gateway stopped changes nothing
    const s = await this.status();
    if (this.stopped) return;
    const at = this.o.clock.now();
    const full = s.problems.find((p) => p.code === 'STORAGE_FULL');
    const corrupt = s.problems.find((p) => p.code === 'STORAGE_CORRUPT');
    this.fullSince = full ? (this.fullSince ?? full.since) : undefined;
    await this.o.alarms.setGatewayAlarm('storage_full', !!full, {
      at,
      message: full
        ? `Storage full: history is not being written (${s.buffered} sample(s) wait in memory); free space on the data disk`
        : '',
    });
    await this.o.alarms.setGatewayAlarm('storage_corrupt', !!corrupt, {
      at,
      message: corrupt
        ? `Database damaged and set aside (${corrupt.files?.join(', ') ?? 'see the log'}); a fresh one is in use`
        : '',
    });
    const codes = s.problems.map((p) => p.code).join(',');
    if (codes !== this.lastCodes) {
      this.lastCodes = codes;
      if (codes)
        this.o.log('error', `storage degraded: ${s.problems.map((p) => p.message).join('; ')}`);
      else this.o.log('info', 'storage: every write is stored again');
    }
  }
}
