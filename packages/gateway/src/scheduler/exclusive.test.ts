/** Exclusive sessions (commands, tunnel, firmware) take a slot between polls. */
import { afterEach, describe, expect, it } from 'vitest';
import { readPack } from '@openbms/transport';
import { nextEvents, polledBus } from '../testing/simbus.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('BusPoller.exclusive', () => {
  it('pauses polling of its bus only, runs the session, then polling resumes', async () => {
    const a = await polledBus(
      { protocol: 'pylontech', packs: 2, baud: 115200 },
      { timeoutMs: 200 },
    );
    const b = await polledBus({ protocol: 'daly', packs: 1, baud: 115200 }, { timeoutMs: 200 });
    cleanups.push(a.close, b.close);
    const firstA = nextEvents(a.events, (e) => e.type === 'snapshot', 2);
    const firstB = nextEvents(b.events, (e) => e.type === 'snapshot');
    a.poller.start();
    b.poller.start();
    await Promise.all([firstA, firstB]);

    let aDuring = 0;
    let inside = false;
    a.events.on((e) => {
      if (inside && e.type === 'snapshot') aDuring++;
    });
    const target = a.bus.refs[1]!;
    const result = await a.poller.exclusive(async (transport, exchanger) => {
      inside = true;
      const before = a.bus.sim.bus.stats.requests;
      const { reading } = await readPack(
        transport,
        a.poller.def,
        { address: target.address },
        { timeoutMs: 200, retries: 0, gapMs: 5 },
        exchanger,
      );
      // While we hold bus A, bus B keeps polling: three more snapshots arrive.
      await nextEvents(b.events, (e) => e.type === 'snapshot', 3);
      // Only our own seven requests reached bus A.
      expect(a.bus.sim.bus.stats.requests - before).toBe(7);
      inside = false;
      return reading;
    });
    expect(aDuring).toBe(0);
    expect(result.address).toBe(target.address);
    expect(result.soc_pct).toBeCloseTo(a.bus.sim.packs[1]!.snapshot().soc_pct!, 0);
    // Polling of bus A resumes.
    await nextEvents(a.events, (e) => e.type === 'snapshot', 2);
  });

  it("a session's error is the caller's; polling carries on; after stop it is refused", async () => {
    const a = await polledBus(
      { protocol: 'pylontech', packs: 1, baud: 115200 },
      { timeoutMs: 200 },
    );
    cleanups.push(a.close);
    a.poller.start();
    await expect(
      a.poller.exclusive(() => Promise.reject(new Error('firmware image rejected'))),
    ).rejects.toThrow('firmware image rejected');
    await nextEvents(a.events, (e) => e.type === 'snapshot', 2);
    await a.poller.stop();
    await expect(a.poller.exclusive(() => Promise.resolve(1))).rejects.toMatchObject({
      code: 'TRANSPORT_CLOSED',
      message: expect.stringMatching(/is stopped/),
    });
  });

  it('works before start (connecting on demand), and start then reuses the link', async () => {
    const a = await polledBus({ protocol: 'jk', packs: 1, baud: 115200 }, { timeoutMs: 300 });
    cleanups.push(a.close);
    const endpoint = await a.poller.exclusive((t) => Promise.resolve(t.endpoint));
    expect(endpoint).toBe(a.bus.endpoint);
    expect(a.poller.connected).toBe(true);
    a.poller.start();
    const [e] = await nextEvents(a.events, (x) => x.type === 'snapshot');
    expect(e?.type === 'snapshot' && e.snapshot.cell_mv).toEqual(
      a.bus.sim.packs[0]!.snapshot().cell_mv,
    );
  });
});
