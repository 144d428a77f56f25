/**
 * The simulated PACE pack read by the family's own read cycle and control sessions, in
 * memory: every request through the device, every reply through the family's framer, step
 * filter and decoder, compared with the pack's true state.
 */
import { describe, expect, it } from 'vitest';
import type { BmsRecord, Reading } from '@openbms/core';
import type { ReadSession } from '@openbms/protocols';
import { definition } from '@openbms/protocols/pace';
import { ManualClock } from '../../clock.js';
import { createSimulation, type Simulation } from '../../simulation.js';
import { differences } from '../../testing/compare.js';

const START = Date.UTC(2026, 5, 21, 10, 0, 0);

function sim(
  o: { packs?: number; variant?: string; profile?: string; faults?: string[] } = {},
): Simulation & {
  clock: ManualClock;
} {
  const clock = new ManualClock(START);
  const s = createSimulation({
    protocol: 'pace',
    clock,
    profile: o.profile ?? 'constant:-12.3',
    seed: 5,
    initialSocPct: 55,
    packs: o.packs ?? 1,
    ...(o.variant ? { variant: o.variant } : {}),
    ...(o.faults ? { faults: o.faults } : {}),
  });
  clock.advance(60_000);
  s.bus.advance();
  return { ...s, clock };
}

/** Runs a session on the simulated bus; every step must be answered and accepted. */
function run(s: Simulation, session: ReadSession): Reading {
  for (let step = session.next(); step; step = session.next()) {
    const r = s.bus.respond(step.request);
    if (!r) {
      expect(step.optional, `${step.name} answered`).toBe(true);
      continue;
    }
    const framer = definition.createFramer();
    const frames = [...r.pieces.flatMap((p) => framer.push(p)), ...framer.end()]
      .filter((e) => e.type === 'frame')
      .map((e) => e.bytes)
      .filter((f) => step.accepts(f));
    expect(step.complete(frames), step.name).toBe(true);
    session.accept(step, frames);
  }
  return session.result();
}

describe('simulated PACE v25 pack', () => {
  it('reads back as the model state, with SOH and the MOSFET and ambient sensors', () => {
    const s = sim();
    const pack = s.packs[0]!;
    const r = run(s, definition.readSession({ address: 1 }));
    const truth = pack.snapshot();
    expect(differences(r, truth, definition.metrics)).toEqual([]);
    expect(r.soh_pct).toBe(Math.round(truth.soh_pct!));
    expect(r.mos_temp_c).toBeCloseTo(truth.mos_temp_c!, 0);
    expect(r.info?.serial).toBe(pack.info.serial);
  });

  it('answers a request to ADR 0 with INFO FF for the whole rack, as a master does', () => {
    const s = sim({ packs: 3 });
    const r = run(s, definition.readSession({ address: 0 }));
    expect(r.address).toBe(1); // the master answers with its own address
    expect(r.packs).toHaveLength(3);
    r.packs!.forEach((p, i) => {
      expect(differences(p, s.packs[i]!.snapshot(), definition.metrics), `pack ${i + 1}`).toEqual(
        [],
      );
      expect(p.charge_mos).toBe(s.packs[i]!.snapshot().charge_mos);
    });
  });

  it('reports a tripped protection at level 2 and writes it to the history records', () => {
    // 2 C extra discharge: over-current protection (level 2) within seconds.
    const s = sim({ faults: ['overcurrent:250'] });
    s.clock.advance(30_000);
    s.bus.advance();
    const r = run(s, definition.readSession({ address: 1 }));
    expect(r.alarms?.find((a) => a.code === 'dsg_oc')).toMatchObject({
      severity: 'protection',
      level: 2,
    });
    expect(r.discharge_mos).toBe(false);
    const records = run(
      s,
      definition.control!.readRecords!({ address: 1 }, { start: 0, count: 10 }),
    );
    const list = records.raw?.records as BmsRecord[];
    const tripped = list.find((x) => x.alarms?.some((a) => a.code === 'dsg_oc' && a.level === 2));
    expect(tripped?.kind).toBe('alarm');
    expect(tripped?.wall_ms).toBeGreaterThan(START);
  });
});

describe('simulated PACE v20 (EG4) pack', () => {
  it('reads back as the model state through the EG4 layout', () => {
    const s = sim({ variant: 'v20-eg4' });
    const pack = s.packs[0]!;
    const r = run(s, definition.readSession({ address: 1, variant: 'v20-eg4' }));
    const truth = pack.snapshot();
    // EG4 sends no design capacity.
    const metrics = definition.metrics.filter((m) => m !== 'design_ah');
    expect(differences(r, truth, metrics)).toEqual([]);
    expect(r.raw?.data_flag).toBe(0x10);
    expect(r.state).toBe('discharging');
    expect(r.info?.model).toContain(pack.info.model);
  });

  it('sets and reads its clock with the 16-bit year (0x4E / 0x4D)', () => {
    const s = sim({ variant: 'v20-eg4' });
    const ops = definition.variantControl!['v20-eg4']!;
    const t = { address: 1, variant: 'v20-eg4' };
    const wall = Date.UTC(2031, 0, 2, 3, 4, 5);
    for (const step of ops.setClock!(t, wall)) {
      const r = s.bus.respond(step.request)!;
      const framer = definition.createFramer();
      const frames = r.pieces
        .flatMap((p) => framer.push(p))
        .filter((e) => e.type === 'frame')
        .map((e) => e.bytes);
      step.result(frames.filter((f) => step.accepts(f)));
    }
    const read = run(s, ops.readClock!(t));
    expect(read.raw?.clock_wall_ms).toBe(wall);
    expect(ops.writeParameters).toBeUndefined();
  });
});
