/**
 * Test support for the families' control operations: a simulated bus in memory, and running
 * a control step against it as the gateway's scheduler would (request through the bus, reply
 * through the family framer, accepts / complete / result).
 */
import { expect } from 'vitest';
import { createSimulation, ManualClock, type Simulation } from '@openbms/simulator';
import type { ControlOutcome, ControlStep, ProtocolDefinition } from '../types.js';

export type TestProfile = 'idle' | 'constant:-10';

/** A simulation of `protocol` whose profile current has settled (5 simulated seconds). */
export function simulated(
  protocol: string,
  profile: TestProfile = 'idle',
  packs = 1,
): Simulation & { clock: ManualClock } {
  const clock = new ManualClock();
  const s = createSimulation({ protocol, clock, profile, packs });
  clock.advance(5000);
  s.bus.advance();
  return { ...s, clock };
}

/** Frames a reply with the family framer; expects only whole frames. */
export function framesOf(def: ProtocolDefinition, pieces: readonly Uint8Array[]): Uint8Array[] {
  const framer = def.createFramer();
  const ev = [...pieces.flatMap((p) => framer.push(p)), ...framer.end()];
  expect(ev.every((e) => e.type === 'frame')).toBe(true);
  return ev.map((e) => e.bytes);
}

/** Runs one control step against the simulated device. */
export function runStep(def: ProtocolDefinition, s: Simulation, step: ControlStep): ControlOutcome {
  const r = s.bus.respond(step.request);
  expect(r, step.name).toBeDefined();
  const got = framesOf(def, r!.pieces).filter((f) => step.accepts(f));
  expect(step.complete(got), step.name).toBe(true);
  return step.result(got);
}
