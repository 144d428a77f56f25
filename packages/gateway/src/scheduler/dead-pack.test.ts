/**
 * One faulty pack never delays the others by more than its timeout: a 16-pack bus with a
 * dead pack, polled at a fixed interval.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { nextRounds, polledBus } from '../testing/simbus.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

// Timeouts and slack are large against scheduling jitter: the suite runs several files at once
// on two cores (browsers included), where a timer can fire several hundred ms late.
const TIMEOUT = 500;
const INTERVAL = 2500;
const SLACK = 400;

describe('a 16-pack bus with one dead pack', () => {
  it('the live packs keep their interval; the dead one costs one timeout per attempt', async () => {
    const p = await polledBus(
      { protocol: 'pylontech', packs: 16, baud: 460800 },
      { timeoutMs: TIMEOUT, pollIntervalMs: INTERVAL, retries: 1, offlineAfter: 3 },
    );
    cleanups.push(p.close);
    const dead = p.bus.refs[7]!;
    p.bus.sim.bus.addFault({ kind: 'offline', address: dead.address });
    const live = p.bus.refs.filter((r) => r !== dead);
    const seen = new Map<string, number[]>(live.map((r) => [r.id, []]));
    p.events.on((e) => {
      if (e.type === 'snapshot') seen.get(e.packId)?.push(performance.now());
    });
    const rounds = nextRounds(p.poller, 6);
    p.poller.start();
    const got = await rounds;

    // Every live pack answers exactly once per round, and only the dead pack ever fails.
    for (const r of got) {
      const ok = r.polls.filter((x) => x.ok).map((x) => x.packId);
      expect(ok.sort()).toEqual(live.map((x) => x.id).sort());
      expect(r.polls.filter((x) => !x.ok).every((x) => x.packId === dead.id)).toBe(true);
    }
    // Attempts on the dead pack: every round until it is offline, then backing off.
    const attempted = got.flatMap((r) =>
      r.polls.some((x) => x.packId === dead.id) ? [r.round] : [],
    );
    expect(attempted).toEqual([1, 2, 3, 5]);
    // Each attempt costs one timeout (it is probed without retries), not one per try: one
    // request per attempt, and under the two timeouts a retry would take. (Timers fire late on
    // a machine busy with other test files: the bounds leave up to a whole timeout of lateness.)
    const deadMs = new Map<number, number>();
    for (const r of got) {
      const poll = r.polls.find((x) => x.packId === dead.id);
      if (!poll) continue;
      expect(poll.ms).toBeGreaterThanOrEqual(TIMEOUT - 1);
      expect(poll.ms).toBeLessThan(2 * TIMEOUT);
      deadMs.set(r.round, poll.ms);
    }
    expect(p.poller.statusOf(dead.id)!.link.requests).toBe(attempted.length);
    // A round with the dead pack takes its one timeout longer, nothing more: the live packs do
    // not wait for it. Each round's time outside its polls (the gaps between them) is what the
    // scheduler adds; a round with the dead pack adds no more than one without it. (Whole-round
    // times are not compared: fifteen live polls wander by hundreds of ms on a loaded machine.)
    // (Round 1 reads device info and settings too: compare the fast rounds 2..6.)
    const fast = got.slice(1);
    const outside = (r: (typeof got)[number]): number =>
      r.durationMs - r.polls.reduce((sum, x) => sum + x.ms, 0);
    const quiet = Math.max(...fast.filter((r) => !attempted.includes(r.round)).map(outside));
    for (const r of fast.filter((x) => attempted.includes(x.round))) {
      expect(deadMs.has(r.round)).toBe(true);
      expect(outside(r)).toBeLessThanOrEqual(quiet + SLACK);
    }
    // The fast rounds fit the interval, so each live pack is read once per interval: its
    // snapshots are INTERVAL apart, give or take the dead pack's one timeout.
    for (const r of fast) expect(r.durationMs).toBeLessThan(INTERVAL);
    for (const [id, times] of seen) {
      expect(times.length, id).toBeGreaterThanOrEqual(6);
      for (let i = 2; i < 6; i++) {
        expect(Math.abs(times[i]! - times[i - 1]! - INTERVAL), id).toBeLessThanOrEqual(2 * TIMEOUT);
      }
    }
    // The dead pack went offline after three failed polls, with the reason.
    const off = p.log.filter((e) => e.type === 'online' && e.packId === dead.id);
    expect(off).toHaveLength(1);
    expect(off[0]).toMatchObject({ online: false });
    expect(off[0]?.type === 'online' && off[0].reason).toMatch(
      new RegExp(`no answer from address ${dead.address} on tcp://`),
    );
    const st = p.poller.statusOf(dead.id)!;
    expect(st.online).toBe(false);
    expect(st.lastSeen).toBeUndefined();
    expect(st.link.timeouts).toBe(st.link.polls);
    expect(st.link.retries).toBe(0);
    for (const r of live) expect(p.poller.statusOf(r.id)!.link.failures).toBe(0);
  });
});
