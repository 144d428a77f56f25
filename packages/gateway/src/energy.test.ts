/**
 * Energy meters in device time. The symptom (issue 12): the demo's "Today" card said
 * 0.09 kWh discharged while the simulated SOC went 100 → 0 %, because power was integrated
 * over wall time while the simulator ran at 60x. Here a simulated pack at speed 60 discharges
 * at a known current for one simulated hour (one wall minute), polled over TCP by the real
 * poller; the meters must give V × I × 1 h.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, ScaledClock, createSimulation, serveTcp } from '@openbms/simulator';
import type { Reading } from '@openbms/core';
import { EnergyCounters, MAX_GAP_MS } from './energy.js';
import { BusPoller } from './scheduler/poller.js';
import { packRefs, SIM_START } from './testing/simbus.js';
import { EventBus } from './types.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('energy meters', () => {
  it('a pack simulated at 60x for one simulated hour at 40 A gives V × 40 A × 1 h (within 2 %)', async () => {
    const wall = new ManualClock(Date.UTC(2026, 11, 7, 12, 0, 0));
    const device = new ScaledClock(60, SIM_START, () => wall.now());
    const sim = createSimulation({
      protocol: 'pylontech',
      packs: 1,
      profile: 'constant:-40',
      initialSocPct: 90,
      clock: device,
      turnaroundMs: 1,
    });
    const listening = await serveTcp(sim.bus);
    cleanups.push(() => listening.close());
    const events = new EventBus();
    const energy = new EnergyCounters();
    const refs = packRefs('site', 'bus', 'pylontech', [sim.packs[0]!.address]);
    const poller = new BusPoller({
      endpoint: listening.endpoint,
      packs: refs,
      events,
      link: { baud: sim.bus.opts.baud },
      clock: wall,
      deviceClock: device,
      energy,
      pollIntervalMs: 0,
      timeoutMs: 500,
      gapMs: 1,
    });
    cleanups.push(() => poller.stop());

    // Each snapshot: 2 wall seconds (2 simulated minutes) pass before the next poll. The first
    // reading is at the simulation's start (no current yet): the hour runs from the second.
    const volts: number[] = [];
    let start: number | undefined;
    let socAtStart: number | undefined;
    let first: { charged: number; discharged: number } | undefined;
    let last: { charged: number; discharged: number } | undefined;
    let seen = 0;
    const done = new Promise<void>((resolve) => {
      events.on((e) => {
        if (e.type !== 'snapshot') return;
        const s = e.snapshot;
        const now = { charged: s.energy_charged_kwh!, discharged: s.energy_discharged_kwh! };
        if (seen++ > 0) {
          currents.push(s.current_a!);
          volts.push(s.voltage_v!);
          if (start === undefined) {
            start = wall.now();
            socAtStart = sim.packs[0]!.snapshot().soc_pct!;
            first = now;
          }
          last = now;
          if (wall.now() - start >= 60_000) return resolve();
        }
        wall.advance(2_000);
      });
    });
    const currents: number[] = [];
    poller.start();
    await done;
    await poller.stop();

    for (const a of currents) expect(a).toBeCloseTo(-40, 0);
    // Trapezoid: the first and last readings weigh half.
    const meanV =
      (volts.slice(1, -1).reduce((a, b) => a + b, 0) + (volts[0]! + volts.at(-1)!) / 2) /
      (volts.length - 1);
    const expected = (meanV * 40 * 1) / 1000; // kWh in one (simulated) hour
    const got = last!.discharged - first!.discharged;
    expect(last!.charged).toBe(0);
    expect(Math.abs(got - expected) / expected).toBeLessThan(0.02);
    // Wall-time integration would have given 1/60 of it (the bug).
    expect(got).toBeGreaterThan(1.5);
    // The truth of the simulator agrees: 40 Ah out of a 100 Ah pack.
    expect(socAtStart! - sim.packs[0]!.snapshot().soc_pct!).toBeCloseTo(40, 0);
  });

  it('integrates over the device clock, not the wall clock', () => {
    const e = new EnergyCounters();
    const r = (w: number) => ({ power_w: w }) as Reading;
    const a = r(-1000);
    e.add('p', a, 0, 0);
    const b = r(-1000);
    // 1 wall minute, 1 device hour.
    e.add('p', b, 60_000, 3_600_000);
    expect(b['energy_discharged_kwh']).toBe(1);
    expect(b['energy_charged_kwh']).toBe(0);
  });

  it('splits a sign change between charge and discharge (trapezoid halves)', () => {
    const e = new EnergyCounters();
    const a: Reading = { power_w: 2000 };
    e.add('p', a, 0, 0);
    const b: Reading = { power_w: -1000 };
    e.add('p', b, 1000, 3_600_000);
    expect(b['energy_charged_kwh']).toBe(1);
    expect(b['energy_discharged_kwh']).toBe(0.5);
  });

  it('adds nothing over a gap longer than MAX_GAP_MS of wall time', () => {
    const e = new EnergyCounters();
    e.add('p', { power_w: 500 }, 0, 0);
    const b: Reading = { power_w: 500 };
    e.add('p', b, MAX_GAP_MS + 1, MAX_GAP_MS + 1);
    expect(b['energy_charged_kwh']).toBe(0);
    const c: Reading = { power_w: 500 };
    e.add('p', c, MAX_GAP_MS + 1 + 3_600_000 / 2, MAX_GAP_MS + 1 + 3_600_000 / 2);
    expect(c['energy_charged_kwh']).toBe(0); // 30 min is a gap too
  });

  it('goes on from the seeded counters (a restart does not reset them); bad seeds count from 0', () => {
    const e = new EnergyCounters();
    e.seed('p', { energy_charged_kwh: 12.3456, energy_discharged_kwh: 7 });
    e.seed('q', { energy_charged_kwh: -5, energy_discharged_kwh: Number.NaN });
    const a: Reading = { power_w: 1000 };
    e.add('p', a, 0, 0);
    expect(a['energy_charged_kwh']).toBe(12.3456);
    const b: Reading = { power_w: 1000 };
    e.add('p', b, 60_000, 60_000);
    expect(b['energy_charged_kwh']).toBeCloseTo(12.3456 + 1 / 60, 4);
    expect(b['energy_discharged_kwh']).toBe(7);
    const q: Reading = { voltage_v: 50, current_a: 2 };
    e.add('q', q, 0, 0);
    expect(q).toMatchObject({ energy_charged_kwh: 0, energy_discharged_kwh: 0 });
    // A second seed of a pack that counts already changes nothing.
    e.seed('p', { energy_charged_kwh: 0, energy_discharged_kwh: 0 });
    const c: Reading = {};
    e.add('p', c, 120_000, 120_000);
    expect(c['energy_charged_kwh']).toBeCloseTo(12.3456 + 1 / 60, 4);
  });
});
