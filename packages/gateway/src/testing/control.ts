/**
 * Test rig of the control service: the real simulator served over TCP, a BusPoller polling
 * it, the given audit store, and a log of every request the simulated bus received (so a
 * test can prove that a refused write never reached the device).
 */
import { createSimulation, serveTcp, ManualClock, type Simulation } from '@openbms/simulator';
import { getProtocol, type ProtocolDefinition } from '@openbms/protocols';
import type { AuditStore } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { BusPoller } from '../scheduler/poller.js';
import { SIM_START, nextEvents, packRefs } from './simbus.js';
import { EventBus, type PackRef } from '../types.js';
import { ControlService } from '../control/service.js';
import type { ResolvedPack } from '../control/types.js';

export interface RigOptions {
  protocol: string;
  /** Load profile (default idle; `constant:-10` discharges at 10 A). */
  profile?: string;
  packs?: number;
  chemistry?: 'lfp' | 'nmc';
  /** The audit store (tests pass the storage package's MemoryAudit). */
  audit: AuditStore;
  /** Start the poller and wait for every pack's first snapshot (default true). */
  poll?: boolean;
  /** The packs' record variant (PACE: v25, v20-eg4). */
  variant?: string;
  /** Config `allow_unverified` of every pack. */
  allowUnverified?: boolean;
  /** The zone BMS clocks keep (default UTC, so tests do not depend on the host's zone). */
  timeZone?: string;
}

export interface Rig {
  sim: Simulation;
  clock: ManualClock;
  def: ProtocolDefinition;
  refs: PackRef[];
  poller: BusPoller;
  events: EventBus;
  audit: AuditStore;
  service: ControlService;
  /** Every request the simulated bus received, in order. */
  requests: Uint8Array[];
  /** The requests that were not reads (writes and control commands), as command ids. */
  writes(): string[];
  close(): Promise<void>;
}

export async function controlRig(o: RigOptions): Promise<Rig> {
  const clock = new ManualClock(SIM_START);
  const def = getProtocol(o.protocol);
  const sim = createSimulation({
    protocol: o.protocol,
    ...(o.variant !== undefined ? { variant: o.variant } : {}),
    packs: o.packs ?? 1,
    profile: o.profile ?? 'idle',
    chemistry: o.chemistry ?? 'lfp',
    seed: 7,
    initialSocPct: 60,
    clock,
    baud: 115200,
    turnaroundMs: 1,
    ...(o.variant !== undefined ? { variant: o.variant } : {}),
  });
  // Let the profile's current establish itself; the clock then stays put.
  clock.advance(5000);
  sim.bus.advance();
  const requests: Uint8Array[] = [];
  const respond = sim.bus.respond.bind(sim.bus);
  sim.bus.respond = (req) => {
    requests.push(req.slice());
    return respond(req);
  };
  const listening = await serveTcp(sim.bus);
  const refs = packRefs(
    'site',
    'bus',
    o.protocol,
    sim.packs.map((p) => p.address),
  ).map((r) => ({
    ...r,
    chemistry: o.chemistry ?? 'lfp',
    ...(o.variant !== undefined ? { variant: o.variant } : {}),
    ...(o.allowUnverified ? { allowUnverified: true } : {}),
  }));
  const events = new EventBus();
  const poller = new BusPoller({
    endpoint: listening.endpoint,
    packs: refs,
    events,
    link: { baud: 115200 },
    clock,
    pollIntervalMs: 20,
    timeoutMs: 300,
  });
  const audit = o.audit;
  const service = new ControlService({
    resolve(id): ResolvedPack | undefined {
      const ref = refs.find((r) => r.id === id);
      if (!ref) return undefined;
      const snapshot = poller.statusOf(id)?.snapshot;
      return { ref, def, poller, ...(snapshot ? { snapshot } : {}) };
    },
    audit,
    origin: TEST_ORIGIN,
    events,
    clock,
    timeZone: o.timeZone ?? 'UTC',
  });
  if (o.poll ?? true) {
    const first = nextEvents(events, (e) => e.type === 'snapshot', refs.length);
    poller.start();
    await first;
  }
  const kindOf = (req: Uint8Array): string => {
    try {
      const id = def.parseRequest(req).command;
      return def.commands.find((c) => c.id === id)?.kind === 'read' ? 'read' : id;
    } catch {
      return 'unparsed';
    }
  };
  return {
    sim,
    clock,
    def,
    refs,
    poller,
    events,
    audit,
    service,
    requests,
    writes: () => requests.map(kindOf).filter((k) => k !== 'read'),
    close: async () => {
      await poller.stop();
      await listening.close();
    },
  };
}
