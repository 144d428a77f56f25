/**
 * Control and parameter operations against the simulated Pylontech pack, in memory: every
 * request goes through the device side of the simulator and every reply through the family's
 * framer, step filter and decoder.
 */
import { isBmsError, type Reading } from '@openbms/core';
import { createSimulation, ManualClock, type Simulation } from '@openbms/simulator';
import { describe, expect, it } from 'vitest';
import type { ControlStep, ReadSession, ReadStep } from '../types.js';
import { buildFrame } from './frame.js';
import { definition } from './index.js';
import { control } from './control.js';

const sim = (profile = 'idle', packs = 1): Simulation =>
  createSimulation({ protocol: 'pylontech', clock: new ManualClock(), profile, packs });

/** Sends a step's request to the simulated bus; returns the reply frames the step accepts. */
function exchange(s: Simulation, step: ReadStep): Uint8Array[] {
  const r = s.bus.respond(step.request);
  if (!r) throw new Error(`${step.name}: no reply`);
  const framer = definition.createFramer();
  const frames: Uint8Array[] = [];
  const events = [...r.pieces.flatMap((p) => framer.push(p)), ...framer.end()];
  for (const ev of events) if (ev.type === 'frame' && step.accepts(ev.bytes)) frames.push(ev.bytes);
  expect(step.complete(frames), `${step.name} complete`).toBe(true);
  return frames;
}

function runSession(s: Simulation, session: ReadSession): Reading {
  for (let step = session.next(); step; step = session.next()) {
    session.accept(step, exchange(s, step));
  }
  return session.result();
}

const snapshotOf = (s: Simulation, address = 2): Reading =>
  runSession(s, definition.readSession({ address }));

const readParams = (s: Simulation, address = 2): Record<string, number> =>
  runSession(s, control.readParameters!({ address })).raw!.parameters as Record<string, number>;

const run = (s: Simulation, steps: ControlStep[]): (Reading | undefined)[] =>
  steps.map((st) => st.result(exchange(s, st)).reading);

function errorOf(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isBmsError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('did not throw');
}

/** Wire resolution of each readable parameter, in catalog units. */
const RESOLUTION: Record<string, number> = {
  cell_ov_l1_mv: 1,
  cell_uv_l1_mv: 1,
  cell_uv_l2_mv: 1,
  chg_ot_l1_c: 0.1,
  chg_ut_l1_c: 0.1,
  chg_oc_l1_a: 0.1,
  pack_ov_l1_v: 0.001,
  pack_uv_l1_v: 0.001,
  pack_uv_l2_v: 0.001,
  dsg_ot_l1_c: 0.1,
  dsg_ut_l1_c: 0.1,
  dsg_oc_l1_a: 0.1,
  charge_voltage_limit_v: 0.001,
  charge_current_limit_a: 0.1,
  discharge_current_limit_a: 0.1,
};

describe('pylontech control: what the family offers', () => {
  it('declares parameter read and write only, and no MOS / SOC / clock operations', () => {
    expect(definition.control).toBe(control);
    expect(definition.capabilities).toMatchObject({
      mosControl: false,
      setSoc: false,
      setClock: false,
      parameterRead: true,
      parameterWrite: true,
    });
    expect(control.setMos).toBeUndefined(); // 0x95 is a module shutdown, not a MOS switch
    expect(control.setSoc).toBeUndefined();
    expect(control.setClock).toBeUndefined();
    expect(control.restoreDefaults).toBeUndefined();
    expect(control.restart).toBeUndefined();
    expect(control.factoryReset).toBeUndefined();
    const rw = definition.parameters.filter((p) => p.access === 'rw').map((p) => p.id);
    expect([...control.writableParameters!].sort()).toEqual([...rw].sort());
    expect(rw.sort()).toEqual([
      'charge_current_limit_a',
      'charge_voltage_limit_v',
      'discharge_current_limit_a',
    ]);
    expect(Object.keys(RESOLUTION).sort()).toEqual(definition.parameters.map((p) => p.id).sort());
  });
});

describe('pylontech control: readParameters (0x47 + 0x92)', () => {
  it("returns every declared parameter, equal to the pack's within the wire resolution", () => {
    const s = sim();
    const pack = s.packs[0]!;
    const got = readParams(s);
    expect(Object.keys(got).sort()).toEqual(definition.parameters.map((p) => p.id).sort());
    const have = pack.parameters();
    for (const [id, v] of Object.entries(got)) {
      if (have[id] !== undefined) {
        expect(Math.abs(v - have[id]), id).toBeLessThanOrEqual(RESOLUTION[id]! / 2 + 1e-9);
      }
    }
    // The requested currents default to the level-1 over-current limits (0x92 of the device).
    expect(got.charge_current_limit_a).toBeCloseTo(have.chg_oc_l1_a!, 1);
    expect(got.discharge_current_limit_a).toBeCloseTo(have.dsg_oc_l1_a!, 1);
    expect(got.charge_voltage_limit_v).toBeGreaterThan(40);
  });

  it('follows a change of the pack (a write made elsewhere)', () => {
    const s = sim();
    expect(s.packs[0]!.writeParameters({ cell_uv_l1_mv: 2950, dsg_oc_l1_a: 80 }).ok).toBe(true);
    expect(readParams(s)).toMatchObject({ cell_uv_l1_mv: 2950, dsg_oc_l1_a: 80 });
  });

  it('leaves out a current limit while that direction is disabled (the pack requests 0 A)', () => {
    const s = sim();
    expect(s.packs[0]!.setMos('charge', false).ok).toBe(true);
    const got = readParams(s);
    expect(got.charge_current_limit_a).toBeUndefined();
    expect(got.discharge_current_limit_a).toBeDefined();
  });

  it('reads the pack at its own ADR on a multi-pack bus', () => {
    const s = sim('idle', 2);
    expect(s.packs[1]!.writeParameters({ chg_oc_l1_a: 55 }).ok).toBe(true);
    expect(readParams(s, 3).chg_oc_l1_a).toBe(55);
    expect(readParams(s, 2).chg_oc_l1_a).not.toBe(55);
  });
});

describe('pylontech control: writeParameters (0x94)', () => {
  it('writes one limit, keeps the others as the pack reports them, and reads it back', () => {
    const s = sim();
    const pack = s.packs[0]!;
    const snap = snapshotOf(s);
    const steps = control.writeParameters!(
      { address: 2, snapshot: snap },
      { charge_current_limit_a: 42.5 },
    );
    expect(steps).toHaveLength(1);
    expect(definition.parseRequest(steps[0]!.request)).toEqual({
      command: 'set_management_info',
      address: 2,
      args: {
        charge_voltage_limit_v: snap.charge_voltage_limit_v,
        discharge_voltage_limit_v: snap.discharge_voltage_limit_v,
        charge_current_limit_a: 42.5,
        discharge_current_limit_a: snap.discharge_current_limit_a, // negative on the wire
      },
    });
    const [reading] = run(s, steps);
    expect(reading?.raw?.rtn).toBe(0);
    expect(pack.parameters()).toMatchObject({
      charge_current_limit_a: 42.5,
      charge_voltage_limit_v: snap.charge_voltage_limit_v,
      discharge_current_limit_a: Math.abs(snap.discharge_current_limit_a!),
    });
    expect(readParams(s).charge_current_limit_a).toBe(42.5);
    // The discharge voltage limit (no catalog id) went back unchanged.
    expect(snapshotOf(s).discharge_voltage_limit_v).toBe(snap.discharge_voltage_limit_v);
  });

  it('writes all three limits while the pack discharges, and they read back', () => {
    const s = sim('constant:-10');
    (s.clock as ManualClock).advance(10_000);
    const pack = s.packs[0]!;
    const snap = snapshotOf(s);
    expect(snap.current_a).toBeLessThan(-5);
    const values = {
      charge_voltage_limit_v: 55.2,
      charge_current_limit_a: 37.5,
      discharge_current_limit_a: 90.1,
    };
    run(s, control.writeParameters!({ address: 2, snapshot: snap }, values));
    expect(pack.parameters()).toMatchObject(values);
    expect(readParams(s)).toMatchObject(values);
    const after = snapshotOf(s);
    expect(after.charge_voltage_limit_v).toBe(55.2);
    expect(after.discharge_current_limit_a).toBe(-90.1);
  });

  it('writes to the pack at the target ADR only', () => {
    const s = sim('idle', 2);
    const snap = snapshotOf(s, 3);
    run(
      s,
      control.writeParameters!({ address: 3, snapshot: snap }, { charge_current_limit_a: 12 }),
    );
    expect(s.packs[1]!.parameters().charge_current_limit_a).toBe(12);
    expect(s.packs[0]!.parameters().charge_current_limit_a).toBeUndefined();
  });

  it("surfaces the pack's refusal (RTN 0x06) as COMMAND_REFUSED and changes nothing", () => {
    const s = sim();
    const pack = s.packs[0]!;
    const before = pack.parameters();
    const snap = snapshotOf(s);
    // 61 V is beyond 16 x 3.75 V of LFP: the pack refuses it (the gateway would not send it).
    const [step] = control.writeParameters!(
      { address: 2, snapshot: snap },
      { charge_voltage_limit_v: 61 },
    );
    const frames = exchange(s, step!);
    const err = errorOf(() => step!.result(frames));
    expect(err.code).toBe('COMMAND_REFUSED');
    expect(err.message).toMatch(/RTN 0x06 \(invalid data\)/);
    expect(err.message).toMatch(/ADR 2/);
    expect(pack.parameters()).toEqual(before);
  });

  it('accepts only an empty ack or an RTN reply from the target ADR', () => {
    const s = sim();
    const [step] = control.writeParameters!(
      { address: 2, snapshot: snapshotOf(s) },
      { charge_current_limit_a: 20 },
    );
    expect(step!.accepts(step!.request)).toBe(false); // request echo
    expect(step!.accepts(buildFrame(0x20, 2, 0x46, 0, []))).toBe(true);
    expect(step!.accepts(buildFrame(0x20, 2, 0x46, 0x06, []))).toBe(true);
    expect(step!.accepts(buildFrame(0x20, 3, 0x46, 0, []))).toBe(false); // other pack
    expect(step!.accepts(buildFrame(0x20, 2, 0x46, 0, [2, 0xd7, 0x70]))).toBe(false); // data
  });

  it('rejects ids it cannot write with PARAM_UNKNOWN, before sending anything', () => {
    const target = { address: 2, snapshot: snapshotOf(sim()) };
    for (const id of ['cell_ov_l1_mv', 'chg_oc_l1_a', 'balance_start_mv', 'no_such_id']) {
      const err = errorOf(() => control.writeParameters!(target, { [id]: 1 }));
      expect(err.code, id).toBe('PARAM_UNKNOWN');
      expect(err.message).toContain(id);
    }
    expect(
      errorOf(() =>
        control.writeParameters!(target, { charge_current_limit_a: 10, cell_uv_l2_mv: 2800 }),
      ).code,
    ).toBe('PARAM_UNKNOWN');
  });

  it('rejects values the wire cannot carry (PARAM_STEP, PARAM_OUT_OF_RANGE)', () => {
    const target = { address: 2, snapshot: snapshotOf(sim()) };
    const step = errorOf(() => control.writeParameters!(target, { charge_current_limit_a: 42.55 }));
    expect(step.code).toBe('PARAM_STEP');
    expect(step.message).toMatch(/charge_current_limit_a.*0\.1 A/);
    const mv = errorOf(() => control.writeParameters!(target, { charge_voltage_limit_v: 55.2345 }));
    expect(mv.code).toBe('PARAM_STEP');
    expect(mv.message).toMatch(/charge_voltage_limit_v.*0\.001 V/);
    expect(
      errorOf(() => control.writeParameters!(target, { charge_voltage_limit_v: 70 })).code,
    ).toBe('PARAM_OUT_OF_RANGE');
    expect(
      errorOf(() => control.writeParameters!(target, { discharge_current_limit_a: -5 })).code,
    ).toBe('PARAM_OUT_OF_RANGE');
  });

  it('refuses a charge voltage at or below the discharge voltage limit (PARAM_INCONSISTENT)', () => {
    const snap = snapshotOf(sim());
    const err = errorOf(() =>
      control.writeParameters!(
        { address: 2, snapshot: snap },
        { charge_voltage_limit_v: snap.discharge_voltage_limit_v! },
      ),
    );
    expect(err.code).toBe('PARAM_INCONSISTENT');
  });

  it('needs the snapshot for what 0x94 carries but the caller does not change', () => {
    const all = {
      charge_voltage_limit_v: 55,
      charge_current_limit_a: 30,
      discharge_current_limit_a: 30,
    };
    // No snapshot: the discharge voltage limit (no catalog id) is unknown.
    expect(errorOf(() => control.writeParameters!({ address: 2 }, all)).code).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      errorOf(() => control.writeParameters!({ address: 2 }, { charge_current_limit_a: 30 }))
        .message,
    ).toMatch(/give charge_voltage_limit_v too/);
    // Charging disabled: 0x92 reports 0 A, which must not be written back as the limit.
    const s = sim();
    expect(s.packs[0]!.setMos('charge', false).ok).toBe(true);
    const snap = snapshotOf(s);
    const err = errorOf(() =>
      control.writeParameters!({ address: 2, snapshot: snap }, { discharge_current_limit_a: 50 }),
    );
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/charge_current_limit_a/);
    // Given explicitly, it is fine.
    run(
      s,
      control.writeParameters!(
        { address: 2, snapshot: snap },
        { discharge_current_limit_a: 50, charge_current_limit_a: 25 },
      ),
    );
    expect(s.packs[0]!.parameters()).toMatchObject({
      charge_current_limit_a: 25,
      discharge_current_limit_a: 50,
    });
    expect(errorOf(() => control.writeParameters!({ address: 2, snapshot: snap }, {})).code).toBe(
      'INVALID_ARGUMENT',
    );
  });
});
