/** Online/offline with hysteresis, and the backoff of a pack that keeps failing. */
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../types.js';
import { nextEvents, nextRounds, polledBus } from '../testing/simbus.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const isOnline = (id: string, online: boolean) => (e: GatewayEvent) =>
  e.type === 'online' && e.packId === id && e.online === online;

describe('online / offline hysteresis', () => {
  it('offline after K failed polls, online again after one success', async () => {
    const p = await polledBus(
      { protocol: 'daly', packs: 2, baud: 115200 },
      { timeoutMs: 80, offlineAfter: 3, backoffMaxRounds: 1 },
    );
    cleanups.push(p.close);
    const [a, b] = p.bus.refs as [(typeof p.bus.refs)[0], (typeof p.bus.refs)[0]];
    const online = nextEvents(p.events, (e) => e.type === 'online' && e.online, 2);
    p.poller.start();
    await online;

    const failuresAtEvent: number[] = [];
    const offline = nextEvents(p.events, isOnline(b.id, false));
    p.events.on((e) => {
      if (isOnline(b.id, false)(e)) failuresAtEvent.push(p.poller.statusOf(b.id)!.link.failures);
    });
    p.bus.sim.bus.addFault({ kind: 'offline', address: b.address });
    const [off] = await offline;
    expect(failuresAtEvent).toEqual([3]);
    expect(off).toMatchObject({
      type: 'online',
      packId: b.id,
      online: false,
      ts: p.bus.clock.now(),
    });
    expect(off?.type === 'online' && off.reason).toMatch(/no answer from address 65 on tcp:\/\//);
    const st = p.poller.statusOf(b.id)!;
    expect(st.online).toBe(false);
    expect(st.link.lastError).toBe(off?.type === 'online' ? off.reason : '');
    expect(st.lastSeen).toBeDefined();
    expect(p.poller.statusOf(a.id)!.online).toBe(true);

    // The fault clears: the next attempt succeeds and the pack is online at once, with a
    // full read (device info comes back).
    const back = nextEvents(p.events, isOnline(b.id, true));
    const snap = nextEvents(p.events, (e) => e.type === 'snapshot' && e.packId === b.id);
    p.bus.sim.bus.clearFaults('offline');
    await back;
    const [s] = await snap;
    expect(s?.type === 'snapshot' && s.snapshot.soc_pct).toBeCloseTo(
      p.bus.sim.packs[1]!.snapshot().soc_pct!,
      0,
    );
    const after = p.poller.statusOf(b.id)!;
    expect(after.online).toBe(true);
    expect(after.link.lastError).toBeUndefined();
    expect(p.log.filter((e) => e.type === 'online' && e.packId === a.id)).toHaveLength(1);
  });

  it('fewer than K failures in a row do not make a pack offline', async () => {
    const p = await polledBus(
      { protocol: 'pylontech', packs: 2, baud: 115200 },
      { timeoutMs: 80, offlineAfter: 3 },
    );
    cleanups.push(p.close);
    const b = p.bus.refs[1]!;
    const online = nextEvents(p.events, (e) => e.type === 'online', 2);
    p.poller.start();
    await online;
    let failed = 0;
    p.bus.sim.bus.addFault({ kind: 'offline', address: b.address });
    // Clear the fault right after the second failed poll (round reports are synchronous,
    // so this happens before the next round starts).
    const off = p.poller.onRound((r) => {
      if (r.polls.some((x) => x.packId === b.id && !x.ok) && ++failed === 2) {
        p.bus.sim.bus.clearFaults('offline');
      }
    });
    const recovered = nextEvents(
      p.events,
      (e) => e.type === 'snapshot' && e.packId === b.id && failed === 2,
    );
    await recovered;
    off();
    expect(p.log.filter((e) => e.type === 'online' && e.packId === b.id)).toEqual([
      expect.objectContaining({ online: true }),
    ]);
    const st = p.poller.statusOf(b.id)!;
    expect(st.online).toBe(true);
    expect(st.link.failures).toBe(2);
  });
});

describe('backoff of a pack that keeps failing', () => {
  it('sits out 1, 2, 4, 8 rounds once offline, capped at backoffMaxRounds', async () => {
    for (const [cap, expected] of [
      [16, [1, 2, 3, 5, 8, 13]],
      [2, [1, 2, 3, 5, 8, 11, 14]],
    ] as const) {
      const p = await polledBus(
        { protocol: 'jk', packs: 2, baud: 115200 },
        { timeoutMs: 60, offlineAfter: 3, backoffMaxRounds: cap },
      );
      cleanups.push(p.close);
      const dead = p.bus.refs[0]!;
      p.bus.sim.bus.addFault({ kind: 'offline', address: dead.address });
      const rounds = nextRounds(p.poller, 14);
      p.poller.start();
      const got = await rounds;
      const attempts = got.flatMap((r) =>
        r.polls.some((x) => x.packId === dead.id) ? [r.round] : [],
      );
      expect(attempts, `cap ${cap}`).toEqual(expected);
      // The live pack was read in every round.
      expect(got.every((r) => r.polls.some((x) => x.packId === p.bus.refs[1]!.id && x.ok))).toBe(
        true,
      );
      await p.close();
    }
  });
});
