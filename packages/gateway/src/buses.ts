/**
 * Where a bus's bytes come from. The gateway polls every bus through an endpoint string
 * (a serial device path or `tcp://host:port`) that a `BusFactory` opens for it. The default
 * factory takes the configured port as it is; `port: sim` needs a factory that serves a
 * simulated bus, which the composition root (`openbms start`) builds with the simulator
 * through `withSimulatedBuses`. The gateway itself never loads the simulator.
 */
import { BmsError, type Chemistry } from '@openbms/core';
import type { BusConfig } from './config.js';
import type { PackRef } from './types.js';

/** What a factory gets for one bus of the config. */
export interface BusRequest {
  site: string;
  bus: BusConfig;
  /** The bus's packs as the gateway knows them (ids, addresses, variant, chemistry). */
  packs: readonly PackRef[];
  /** The gateway clock's instant at start, ms. */
  now: number;
}

/** An opened bus: what the poller connects to, and how to let it go when the gateway stops. */
export interface OpenedBus {
  endpoint: string;
  /**
   * The devices' own clock, when it is not wall time (a simulated bus: the simulator's
   * clock, 60x in the demo). The poller integrates energy over it.
   */
  deviceClock?: { now(): number };
  close(): Promise<void>;
}

export type BusFactory = (request: BusRequest) => Promise<OpenedBus>;

/** Real ports: the configured serial path or `tcp://` URL is the endpoint; nothing to close. */
export const realBuses: BusFactory = async ({ site, bus }) => {
  if (bus.port === 'sim') {
    throw new BmsError(
      'CONFIG_INVALID',
      `bus ${site}/${bus.id}: port: sim needs the simulator, which this gateway was started without (\`openbms start\` serves simulated buses)`,
    );
  }
  return { endpoint: bus.port, close: async () => undefined };
};

/**
 * What the simulator needs for a `port: sim` bus, in its own option names: the config's
 * `simulator:` section with its defaults, the packs' count, variant and chemistry, and a
 * simulated day that starts at dawn so the demo shows the sun arriving.
 */
export interface SimulatedBusPlan {
  protocol: string;
  packs: number;
  variant?: string;
  chemistry: Chemistry;
  profile: string;
  speed: number;
  seed: number;
  initialSocPct: number;
  cells: number;
  capacityAh: number;
  faults: readonly string[];
  /** Simulated start instant, ms. */
  start: number;
  baud?: number;
}

/** A served simulated bus: its endpoint, the addresses its packs answer at, and its stop. */
export interface ServedSimulation {
  endpoint: string;
  answering: readonly number[];
  /** The simulation's clock (simulated ms since the epoch). */
  clock?: { now(): number };
  close(): Promise<void>;
}

/** Serves a simulated bus (the composition root passes the simulator's createSimulation + serveTcp). */
export type SimulationServer = (plan: SimulatedBusPlan) => Promise<ServedSimulation>;

const DAY_MS = 86_400_000;

export function simulatedBusPlan({ bus, packs, now }: BusRequest): SimulatedBusPlan {
  const s = bus.simulator;
  const first = packs[0];
  return {
    protocol: bus.protocol,
    packs: packs.length,
    ...(first?.variant ? { variant: first.variant } : {}),
    chemistry: first?.chemistry ?? 'lfp',
    profile: s?.profile ?? 'solar',
    speed: s?.speed ?? 60,
    seed: s?.seed ?? 1,
    initialSocPct: s?.soc_pct ?? 60,
    cells: s?.cells ?? 16,
    capacityAh: s?.capacity_ah ?? 100,
    faults: s?.faults ?? [],
    start: Math.floor(now / DAY_MS) * DAY_MS + 6 * 3_600_000,
    ...(bus.baud ? { baud: bus.baud } : {}),
  };
}

/**
 * A factory that serves `port: sim` buses with `serve` and hands every other bus to
 * `fallback`. A simulated bus whose packs would answer at other addresses than the config
 * names is refused (CONFIG_INVALID naming the addresses to use) and its server closed.
 */
export function withSimulatedBuses(
  serve: SimulationServer,
  fallback: BusFactory = realBuses,
): BusFactory {
  return async (request) => {
    if (request.bus.port !== 'sim') return fallback(request);
    const served = await serve(simulatedBusPlan(request));
    const configured = request.packs.map((p) => p.address);
    if (served.answering.join() !== configured.join()) {
      await served.close();
      const { site, bus } = request;
      throw new BmsError(
        'CONFIG_INVALID',
        `bus ${site}/${bus.id}: simulated ${bus.protocol} packs answer at ${served.answering.join(', ')}; set the packs' addresses to these`,
      );
    }
    return {
      endpoint: served.endpoint,
      ...(served.clock ? { deviceClock: served.clock } : {}),
      close: served.close,
    };
  };
}
