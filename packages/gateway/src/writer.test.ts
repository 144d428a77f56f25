/**
 * The sample writer against an asynchronous store whose writes the test finishes by hand:
 * one write at a time, samples that arrive during a write go to the next batch, a refused
 * batch goes back in front (order kept, nothing twice), a malformed one is dropped.
 */
import { describe, expect, it } from 'vitest';
import { BmsError } from '@openbms/core';
import type { Origin, Sample, TelemetryStore } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { EventBus } from './types.js';
import { SampleWriter } from './writer.js';

/** A store whose writes wait until the test settles them. */
class SlowStore {
  readonly stored: number[] = [];
  readonly calls: { origin: Origin; ts: number[]; settle: (err?: Error) => void }[] = [];
  writeSamples(origin: Origin, samples: readonly Sample[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.calls.push({
        origin,
        ts: samples.map((s) => s.ts),
        settle: (err) => {
          if (err) return reject(err);
          this.stored.push(...samples.map((s) => s.ts));
          resolve();
        },
      });
    });
  }
}

function setup() {
  const events = new EventBus();
  const store = new SlowStore();
  const writer = new SampleWriter(store as unknown as TelemetryStore, events, {
    origin: TEST_ORIGIN,
    batchMs: 60_000,
  });
  const poll = (ts: number) =>
    events.emit({ type: 'snapshot', packId: 'p', ts, snapshot: { soc_pct: 50 } });
  return { store, writer, poll };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('SampleWriter', () => {
  it('writes one batch at a time: samples polled during a write wait for the next batch', async () => {
    const { store, writer, poll } = setup();
    poll(1);
    poll(2);
    const first = writer.flush();
    await tick();
    expect(store.calls.map((c) => c.ts)).toEqual([[1, 2]]);
    expect(store.calls[0]!.origin).toEqual(TEST_ORIGIN);
    poll(3);
    const second = writer.flush(); // waits for the first
    await tick();
    expect(store.calls).toHaveLength(1);
    store.calls[0]!.settle();
    expect(await first).toBe(true);
    await tick();
    expect(store.calls.map((c) => c.ts)).toEqual([[1, 2], [3]]);
    store.calls[1]!.settle();
    expect(await second).toBe(true);
    expect(store.stored).toEqual([1, 2, 3]);
    expect(writer.status).toMatchObject({ written: 3, buffered: 0, dropped: 0 });
  });

  it('puts a refused batch back in front, in order, and writes it with the next samples', async () => {
    const { store, writer, poll } = setup();
    poll(1);
    poll(2);
    const first = writer.flush();
    await tick();
    poll(3);
    store.calls[0]!.settle(new BmsError('STORAGE_FULL', 'disk full'));
    expect(await first).toBe(false);
    expect(writer.status).toMatchObject({ buffered: 3, lastErrorCode: 'STORAGE_FULL' });
    const again = writer.flush();
    await tick();
    expect(store.calls[1]!.ts).toEqual([1, 2, 3]);
    store.calls[1]!.settle();
    expect(await again).toBe(true);
    expect(store.stored).toEqual([1, 2, 3]);
    expect(writer.status).toMatchObject({ written: 3, buffered: 0 });
    expect(writer.status.lastErrorCode).toBeUndefined();
  });

  it('drops a batch the store refuses as malformed, and keeps polling', async () => {
    const { store, writer, poll } = setup();
    poll(1);
    const first = writer.flush();
    await tick();
    poll(2);
    store.calls[0]!.settle(new BmsError('REQUEST_INVALID', 'bad sample'));
    expect(await first).toBe(false);
    expect(writer.status).toMatchObject({ dropped: 1, buffered: 1 });
    const again = writer.flush();
    await tick();
    store.calls[1]!.settle();
    await again;
    expect(store.stored).toEqual([2]);
  });

  it('stop() writes what is left and waits for it', async () => {
    const { store, writer, poll } = setup();
    writer.start();
    poll(7);
    const stopped = writer.stop();
    await tick();
    poll(8); // after stop: no longer taken
    store.calls[0]!.settle();
    await stopped;
    expect(store.stored).toEqual([7]);
  });
});
