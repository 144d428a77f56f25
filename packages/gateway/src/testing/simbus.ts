/**
 * A simulated bus served on a real link (TCP or a socat pty) with the PackRefs that
 * describe it: what the scheduler's tests and its bench poll. Simulated time is a
 * ManualClock, so the packs' state is frozen unless a test moves it.
 */
import {
  ManualClock,
  createSimulation,
  servePty,
  serveTcp,
  type Listening,
  type Simulation,
} from '@openbms/simulator';
import { EventBus, type GatewayEvent, type PackRef } from '../types.js';
import { BusPoller, type BusPollerOptions, type RoundReport } from '../scheduler/poller.js';

export interface SimBusOptions {
  protocol: string;
  packs: number;
  baud?: number;
  turnaroundMs?: number;
  serve?: 'tcp' | 'pty';
  site?: string;
  bus?: string;
  seed?: number;
}

export interface SimBusSetup {
  sim: Simulation;
  clock: ManualClock;
  endpoint: string;
  refs: PackRef[];
  /** Stops serving (the TCP port is freed; `restart` serves again on the same port). */
  close(): Promise<void>;
  restart(): Promise<void>;
}

export const SIM_START = Date.UTC(2026, 5, 21, 10, 0, 0);

export function packRefs(
  site: string,
  bus: string,
  protocol: string,
  addresses: readonly number[],
): PackRef[] {
  return addresses.map((address) => ({
    id: `${site}/${bus}/${address}`,
    name: `pack ${address}`,
    site,
    bus,
    address,
    protocol,
    chemistry: 'lfp',
  }));
}

export async function simulatedBus(o: SimBusOptions): Promise<SimBusSetup> {
  const clock = new ManualClock(SIM_START);
  const sim = createSimulation({
    protocol: o.protocol,
    packs: o.packs,
    profile: 'constant:-8',
    seed: o.seed ?? 7,
    initialSocPct: 60,
    clock,
    ...(o.baud !== undefined ? { baud: o.baud } : {}),
    turnaroundMs: o.turnaroundMs ?? 1,
  });
  sim.packs.forEach((p, i) => p.setSoc(30 + i * 4));
  let listening: Listening | undefined =
    o.serve === 'pty' ? await servePty(sim.bus) : await serveTcp(sim.bus);
  const endpoint = listening.endpoint;
  const site = o.site ?? 'site';
  const bus = o.bus ?? 'bus';
  return {
    sim,
    clock,
    endpoint,
    refs: packRefs(
      site,
      bus,
      o.protocol,
      sim.packs.map((p) => p.address),
    ),
    close: async () => {
      const l = listening;
      listening = undefined;
      await l?.close();
    },
    restart: async () => {
      if (listening) return;
      listening = await serveTcp(sim.bus, endpoint);
    },
  };
}

/** Resolves with the first `count` events that match (no timers: it waits for the events). */
export function nextEvents(
  events: EventBus,
  match: (e: GatewayEvent) => boolean,
  count = 1,
): Promise<GatewayEvent[]> {
  return new Promise((resolve) => {
    const got: GatewayEvent[] = [];
    const off = events.on((e) => {
      if (!match(e)) return;
      got.push(e);
      if (got.length === count) {
        off();
        resolve(got);
      }
    });
  });
}

/** Resolves with the next `count` round reports of a poller. */
export function nextRounds(poller: BusPoller, count: number): Promise<RoundReport[]> {
  return new Promise((resolve) => {
    const got: RoundReport[] = [];
    const off = poller.onRound((r) => {
      got.push(r);
      if (got.length === count) {
        off();
        resolve(got);
      }
    });
  });
}

export interface PolledBus {
  bus: SimBusSetup;
  poller: BusPoller;
  events: EventBus;
  log: GatewayEvent[];
  /** Stops the poller, then the simulated bus. */
  close(): Promise<void>;
}

/** A simulated bus with a BusPoller on it (not started), its ts clock the simulation's. */
export async function polledBus(
  sim: SimBusOptions,
  o: Partial<BusPollerOptions> = {},
): Promise<PolledBus> {
  const bus = await simulatedBus(sim);
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
    ...o,
  });
  return {
    bus,
    poller,
    events,
    log,
    close: async () => {
      await poller.stop();
      await bus.close();
    },
  };
}
