/** The link drops (a TCP converter reboots): the poller reconnects with backoff. */
import { afterEach, describe, expect, it } from 'vitest';
import { nextEvents, polledBus } from '../testing/simbus.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('reconnect', () => {
  it('after the TCP server restarts, polling continues and the packs come back online', async () => {
    const p = await polledBus(
      { protocol: 'pylontech', packs: 2, baud: 115200 },
      { timeoutMs: 200, offlineAfter: 2, reconnectMinMs: 10, reconnectMaxMs: 40 },
    );
    cleanups.push(p.close);
    const online = nextEvents(p.events, (e) => e.type === 'online' && e.online, 2);
    p.poller.start();
    await online;
    expect(p.poller.connected).toBe(true);

    // The converter goes away: every pack goes offline once reconnecting keeps failing.
    const offline = nextEvents(p.events, (e) => e.type === 'online' && !e.online, 2);
    await p.bus.close();
    const gone = await offline;
    expect(p.poller.connected).toBe(false);
    for (const e of gone) {
      expect(e.type === 'online' && e.reason).toMatch(/cannot connect to tcp:\/\/|closed/);
    }

    // It comes back on the same port: the poller reconnects and reads again.
    const back = nextEvents(p.events, (e) => e.type === 'online' && e.online, 2);
    const data = nextEvents(p.events, (e) => e.type === 'snapshot', 2);
    await p.bus.restart();
    await back;
    const snaps = await data;
    expect(p.poller.connected).toBe(true);
    expect(snaps.map((e) => e.type === 'snapshot' && e.packId).sort()).toEqual(
      p.bus.refs.map((r) => r.id).sort(),
    );
    for (const r of p.bus.refs) expect(p.poller.statusOf(r.id)!.online).toBe(true);
  });
});
