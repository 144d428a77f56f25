/** Builds a simulated bus of packs from the options `openbms sim` takes. */
import { BmsError } from '@openbms/core';
import { getProtocol } from '@openbms/protocols';
import { SimBus, parseFault } from './bus.js';
import type { Chemistry } from './chemistry.js';
import { ScaledClock, type Clock } from './clock.js';
import { deviceFor } from './devices/index.js';
import { SimPack } from './pack.js';
import { profileByName, type LoadProfile } from './profiles.js';

export interface SimulationOptions {
  protocol: string;
  /** Device layout where a family has several (JK: JK02_32S default, JK02_24S). */
  variant?: string;
  packs?: number;
  cells?: number;
  chemistry?: Chemistry;
  capacityAh?: number;
  /** Profile name (`solar`, `ebike`, `ups`, `idle`, `constant:<A>`, `csv:<file>`) or object. */
  profile?: string | LoadProfile;
  /** Reads a CSV profile's file (the CLI passes fs.readFileSync). */
  readText?: (path: string) => string;
  speed?: number;
  seed?: number;
  /** Simulated start instant, ms (default: now). */
  start?: number;
  /** Replaces the scaled real-time clock (tests pass a ManualClock). */
  clock?: Clock;
  baud?: number;
  turnaroundMs?: number;
  faults?: readonly string[];
  initialSocPct?: number;
  ambientC?: number;
  stepMs?: number;
  recordIntervalS?: number;
}

export interface Simulation {
  bus: SimBus;
  packs: SimPack[];
  clock: Clock;
}

function check(cond: boolean, message: string): void {
  if (!cond) throw new BmsError('CONFIG_INVALID', message);
}

export function createSimulation(o: SimulationOptions): Simulation {
  const device = deviceFor(o.protocol, o.variant);
  const def = getProtocol(o.protocol);
  const n = o.packs ?? 1;
  const cells = o.cells ?? 16;
  const capacityAh = o.capacityAh ?? 100;
  const speed = o.speed ?? 1;
  const seed = o.seed ?? 1;
  check(Number.isInteger(n) && n >= 1 && n <= 16, `--packs must be 1..16 (got ${n})`);
  check(
    Number.isInteger(cells) && cells >= 4 && cells <= 32,
    `--cells must be 4..32 (got ${cells})`,
  );
  check(
    capacityAh > 0 && capacityAh <= 2000,
    `--capacity-ah must be > 0 and <= 2000 (got ${capacityAh})`,
  );
  check(speed >= 0 && speed <= 100_000, `--speed must be 0..100000 (got ${speed})`);
  check(Number.isInteger(seed), `--seed must be an integer (got ${seed})`);
  const start = o.start ?? Date.now();
  const clock = o.clock ?? new ScaledClock(speed, start);
  const profile =
    typeof o.profile === 'object'
      ? o.profile
      : profileByName(o.profile ?? 'solar', {
          start,
          ...(o.readText ? { readText: o.readText } : {}),
        });
  const addresses = device.addresses(n);
  const packs = addresses.map(
    (address, index) =>
      new SimPack({
        address,
        index,
        chemistry: o.chemistry ?? 'lfp',
        cells,
        capacityAh,
        profile,
        seed,
        start: clock.now(),
        ...(o.initialSocPct !== undefined ? { initialSocPct: o.initialSocPct } : {}),
        ...(o.ambientC !== undefined ? { ambientC: o.ambientC } : {}),
        ...(device.tempSensors !== undefined ? { tempSensors: device.tempSensors } : {}),
        ...(device.factoryDefaults
          ? {
              factory: (base: Record<string, number>) =>
                device.factoryDefaults!(base, {
                  chemistry: o.chemistry ?? 'lfp',
                  cells,
                  capacityAh,
                }),
            }
          : {}),
        ...(o.stepMs !== undefined ? { stepMs: o.stepMs } : {}),
        ...(o.recordIntervalS !== undefined ? { recordIntervalS: o.recordIntervalS } : {}),
        ...(device.ownParameters ? { parameterIds: def.parameters.map((p) => p.id) } : {}),
      }),
  );
  const bus = new SimBus(device, packs, clock, {
    baud: o.baud ?? def.link.baud,
    turnaroundMs: o.turnaroundMs ?? 10,
    seed,
  });
  for (const f of o.faults ?? []) bus.addFault(parseFault(f));
  return { bus, packs, clock };
}
