/**
 * Batches snapshots into the telemetry store: one transaction per batch interval (≤ 2 s, so a
 * `kill -9` loses at most that much). When the store refuses (disk full, read-only data
 * directory) the samples stay buffered, up to a bound, and the writer retries at the next
 * interval; polling never stops because of storage.
 */
import { isBmsError } from '@openbms/core';
import type { Sample, TelemetryStore } from '@openbms/storage';
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
  readonly status: WriterStatus = { written: 0, buffered: 0, dropped: 0 };

  constructor(
    private readonly store: TelemetryStore,
    events: EventBus,
    private readonly opts: {
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
      const max = this.opts.maxBuffered ?? 200_000;
      if (this.buffer.length > max) {
        const drop = this.buffer.length - max;
        this.buffer.splice(0, drop);
        this.status.dropped += drop;
      }
      this.status.buffered = this.buffer.length;
    });
  }

  start(): void {
    this.timer ??= setInterval(() => this.flush(), this.opts.batchMs);
    this.timer.unref?.();
  }

  /** Writes what is buffered; returns false (keeping the samples) when the store refused. */
  flush(): boolean {
    const stored = this.write();
    this.opts.afterFlush?.(stored);
    return stored;
  }

  private write(): boolean {
    if (this.buffer.length === 0) return true;
    const batch = this.buffer;
    try {
      this.store.writeSamples(batch);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (isBmsError(e) && e.code === 'REQUEST_INVALID') {
        // A malformed sample would be refused forever: drop the batch, keep polling.
        this.opts.onError?.(`dropped ${batch.length} sample(s) the store refused: ${message}`);
        this.status.dropped += batch.length;
        this.buffer = [];
        this.status.buffered = 0;
        return false;
      }
      if (this.status.lastError !== message) this.opts.onError?.(message);
      this.status.lastError = message;
      if (isBmsError(e)) this.status.lastErrorCode = e.code;
      return false;
    }
    this.buffer = []; // writeSamples is synchronous: nothing arrived meanwhile
    this.status.written += batch.length;
    this.status.buffered = this.buffer.length;
    delete this.status.lastError;
    delete this.status.lastErrorCode;
    return true;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
    this.off();
  }
}
