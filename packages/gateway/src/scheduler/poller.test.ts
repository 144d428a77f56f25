import { afterEach, describe, expect, it } from 'vitest';
import { EventBus, type GatewayEvent } from '../types.js';
import { BusPoller, type BusPollerOptions } from './poller.js';
import { nextEvents, nextRounds, simulatedBus, type SimBusSetup } from '../testing/simbus.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(
  sim: Parameters<typeof simulatedBus>[0],
  o: Partial<BusPollerOptions> = {},
): Promise<{ bus: SimBusSetup; poller: BusPoller; events: EventBus; log: GatewayEvent[] }> {
  const bus = await simulatedBus(sim);
  cleanups.push(bus.close);
  const events = new EventBus();
  const log: GatewayEvent[] = [];
  events.on((e) => log.push(e));
  const poller = new BusPoller({
    endpoint: bus.endpoint,
    packs: bus.refs,
    events,
    link: { baud: bus.sim.bus.opts.baud },
    clock: bus.clock,
    pollIntervalMs: 0,
    timeoutMs: 300,
    gapMs: 1,
    ...o,
  });
  cleanups.push(() => poller.stop());
  return { bus, poller, events, log };
}

describe('BusPoller on a pseudo-terminal', () => {
  it('brings every pack online and publishes snapshots equal to the simulated state', async () => {
    const { bus, poller, events, log } = await setup({
      protocol: 'pylontech',
      packs: 3,
      serve: 'pty',
    });
    const snapshots = nextEvents(events, (e) => e.type === 'snapshot', 3);
    poller.start();
    const got = await snapshots;
    expect(got.map((e) => e.type === 'snapshot' && e.packId)).toEqual(bus.refs.map((r) => r.id));
    // Online before the first snapshot of each pack.
    for (const ref of bus.refs) {
      const i = log.findIndex((e) => e.type === 'online' && e.packId === ref.id && e.online);
      const j = log.findIndex((e) => e.type === 'snapshot' && e.packId === ref.id);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(i).toBeLessThan(j);
    }
    for (const [i, e] of got.entries()) {
      if (e.type !== 'snapshot') throw new Error('not a snapshot');
      const truth = bus.sim.packs[i]!.snapshot();
      expect(e.ts).toBe(bus.clock.now());
      expect(e.snapshot.ts).toBe(new Date(bus.clock.now()).toISOString());
      expect(e.snapshot.soc_pct).toBeCloseTo(truth.soc_pct!, 0);
      expect(e.snapshot.voltage_v).toBeCloseTo(truth.voltage_v!, 1);
      expect(e.snapshot.cell_mv).toEqual(truth.cell_mv);
      expect(e.snapshot.address).toBe(bus.refs[i]!.address);
      expect(e.snapshot.protocol).toBe('pylontech');
      // The first poll is a full one: device info is there.
      expect(e.snapshot.info?.serial).toBe(truth.info?.serial);
    }
    const st = poller.statusOf(bus.refs[0]!.id)!;
    expect(st.online).toBe(true);
    expect(st.lastSeen).toBe(bus.clock.now());
    expect(st.link.polls).toBeGreaterThanOrEqual(1);
    expect(st.link.requests).toBeGreaterThanOrEqual(7);
    expect(st.link.failures).toBe(0);
    expect(st.link.lastError).toBeUndefined();
  });
});

describe('BusPoller cadence: fast values every cycle, slow ones every Nth', () => {
  it('runs the optional steps every slowEvery polls and keeps their values in between', async () => {
    const { bus, poller } = await setup({ protocol: 'pylontech', packs: 2 }, { slowEvery: 3 });
    const rounds = nextRounds(poller, 7);
    const seen: { full: boolean; serial: unknown; manufacturer: unknown }[] = [];
    const ref = bus.refs[1]!;
    const off = poller.onRound((r) => {
      const poll = r.polls.find((p) => p.packId === ref.id)!;
      const s = poller.statusOf(ref.id)!.snapshot!;
      seen.push({ full: poll.full, serial: s.info?.serial, manufacturer: s.info?.manufacturer });
    });
    poller.start();
    await rounds;
    off();
    expect(seen.slice(0, 7).map((s) => s.full)).toEqual([
      true,
      false,
      false,
      true,
      false,
      false,
      true,
    ]);
    const truth = bus.sim.packs[1]!.snapshot().info!;
    for (const s of seen) {
      expect(s.serial).toBe(truth.serial);
      expect(s.manufacturer).toBe(truth.manufacturer);
    }
    await poller.stop();
    const st = poller.statusOf(ref.id)!;
    // Pylontech: 3 required steps, 4 optional ones.
    const full = Math.ceil(st.link.polls / 3);
    expect(st.link.requests).toBe(st.link.polls * 3 + full * 4);
  });

  it('stop() waits for the running poll, closes the link and publishes nothing after', async () => {
    const { poller, events, bus } = await setup({ protocol: 'daly', packs: 2 });
    const first = nextEvents(events, (e) => e.type === 'snapshot', 3);
    poller.start();
    await first;
    await poller.stop();
    expect(poller.connected).toBe(false);
    const after: GatewayEvent[] = [];
    events.on((e) => after.push(e));
    const requests = bus.sim.bus.stats.requests;
    // Nothing is pending: a macrotask later, still nothing went out.
    await new Promise((r) => setImmediate(r));
    expect(after).toEqual([]);
    expect(bus.sim.bus.stats.requests).toBe(requests);
  });
});

describe('BusPoller never throws out of its loop', () => {
  it('an endpoint that refuses connections makes the packs offline with the reason', async () => {
    const events = new EventBus();
    const refs = [
      {
        id: 's/b/2',
        name: 'a',
        site: 's',
        bus: 'b',
        address: 2,
        protocol: 'pylontech',
        chemistry: 'lfp' as const,
      },
    ];
    const poller = new BusPoller({
      endpoint: 'tcp://127.0.0.1:1',
      packs: refs,
      events,
      reconnectMinMs: 5,
      reconnectMaxMs: 10,
    });
    cleanups.push(() => poller.stop());
    const offline = nextEvents(events, (e) => e.type === 'online');
    poller.start();
    const [e] = await offline;
    expect(e).toMatchObject({ type: 'online', packId: 's/b/2', online: false });
    expect(e?.type === 'online' && e.reason).toMatch(/cannot connect to tcp:\/\/127\.0\.0\.1:1/);
    const st = poller.statusOf('s/b/2')!;
    expect(st.online).toBe(false);
    expect(st.link.failures).toBe(3);
    expect(st.link.polls).toBe(0);
  });

  it('rejects a bad bus configuration with CONFIG_INVALID naming the pack', () => {
    const events = new EventBus();
    const ref = (id: string, address: number, protocol = 'pylontech') => ({
      id,
      name: id,
      site: 's',
      bus: 'b',
      address,
      protocol,
      chemistry: 'lfp' as const,
    });
    const make =
      (packs: ReturnType<typeof ref>[], o: Partial<BusPollerOptions> = {}) =>
      () =>
        new BusPoller({ endpoint: 'tcp://127.0.0.1:1', packs, events, ...o });
    expect(make([ref('a', 2), ref('b', 2)])).toThrow(/address 2 is used twice/);
    expect(make([ref('a', 2), ref('b', 3, 'daly')])).toThrow(/differs from the bus protocol/);
    expect(make([ref('a', 300)])).toThrow(/pack a: ADR must be 0..254/);
    expect(make([ref('a', 2)], { slowEvery: 0 })).toThrow(/slowEvery must be an integer >= 1/);
    expect(make([ref('a', 2)], { link: { baud: 0 } })).toThrow(/baud/);
    try {
      make([ref('a', 2), ref('b', 2)])();
    } catch (e) {
      expect((e as { code?: string }).code).toBe('CONFIG_INVALID');
    }
  });
});
