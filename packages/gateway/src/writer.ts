/**
 * Batches snapshots into the telemetry store: one transaction per batch interval (≤ 2 s), so a
 * `kill -9` loses at most what arrived in the last interval plus the batch being written (the
 * store commits a batch before its promise resolves; SQLite's WAL keeps a commit through a
 * killed process). Writes run one at a time: samples that arrive while a batch is being
 * written wait for the next interval, and a tick that finds a write still running does
 * nothing. When the store refuses (disk full, read-only data directory) the batch goes back
 * in front of the buffer, up to a bound, and is retried at the next interval; polling never
 * waits for storage.
 */
import { isBmsError } from '@openbms/core';
import type { Origin, Sample, TelemetryStore } from '@openbms/storage';
import type { EventBus } from './types.js';

export interface WriterStatus {
  written: number;
  buffered: number;
  dropped: number;
  lastError?: string;
  lastErrorCode?: string;
}

export class SampleWriter {
  private buffer: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly off: () => void;
  /** The write in flight, if any (one at a time). */
  private writing: Promise<boolean> | undefined;
  readonly status: WriterStatus = { written: 0, buffered: 0, dropped: 0 };

  constructor(
    private readonly store: TelemetryStore,
    events: EventBus,
    private readonly opts: {
      /** Whose samples these are (the gateway's identity). */
      origin: Origin;
      batchMs: number;
      maxBuffered?: number;
      onError?: (message: string) => void;
      /** Called after every flush (also an empty one): the gateway's storage watch looks then. */
      afterFlush?: (stored: boolean) => void;
    },
  ) {
    this.off = events.on((e) => {
      if (e.type !== 'snapshot') return;
      this.buffer.push({ packId: e.packId, ts: e.ts, snapshot: e.snapshot });
      this.bound();
    });
  }

  /** Keeps at most maxBuffered samples waiting (the oldest go first). */
  private bound(): void {
    const max = this.opts.maxBuffered ?? 200_000;
    if (this.buffer.length > max) {
      const drop = this.buffer.length - max;
      this.buffer.splice(0, drop);
      this.status.dropped += drop;
    }
    this.status.buffered = this.buffer.length;
  }

  start(): void {
    this.timer ??= setInterval(() => {
      if (!this.writing) void this.flush();
    }, this.opts.batchMs);
    this.timer.unref?.();
  }

  /**
   * Writes what is buffered; resolves false (keeping the samples) when the store refused.
   * A flush asked for while one runs waits for it, then writes what came meanwhile.
   */
  async flush(): Promise<boolean> {
    while (this.writing) await this.writing;
    const run = this.write();
    this.writing = run;
    let stored = false;
    try {
      stored = await run;
    } finally {
      this.writing = undefined;
    }
    this.opts.afterFlush?.(stored);
    return stored;
  }

  private async write(): Promise<boolean> {
    if (this.buffer.length === 0) return true;
    // The batch leaves the buffer: what arrives while it is written waits for the next one.
    const batch = this.buffer;
    this.buffer = [];
    this.status.buffered = 0;
    try {
      await this.store.writeSamples(this.opts.origin, batch);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (isBmsError(e) && e.code === 'REQUEST_INVALID') {
        // A malformed sample would be refused forever: drop the batch, keep polling.
        this.opts.onError?.(`dropped ${batch.length} sample(s) the store refused: ${message}`);
        this.status.dropped += batch.length;
        this.status.buffered = this.buffer.length;
        return false;
      }
      // Back in front, in order, for the next try.
      this.buffer = batch.concat(this.buffer);
      this.bound();
      if (this.status.lastError !== message) this.opts.onError?.(message);
      this.status.lastError = message;
      if (isBmsError(e)) this.status.lastErrorCode = e.code;
      return false;
    }
    this.status.written += batch.length;
    this.status.buffered = this.buffer.length;
    delete this.status.lastError;
    delete this.status.lastErrorCode;
    return true;
  }

  /** Stops the timer and writes what is left (resolves when it is stored or refused). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.off();
    await this.flush();
  }
}
