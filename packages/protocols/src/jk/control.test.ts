import { BmsError, parameter, type Reading } from '@openbms/core';
import { createSimulation, ManualClock, type Simulation } from '@openbms/simulator';
import { describe, expect, it } from 'vitest';
import type { ControlOutcome, ControlStep, ControlTarget, ReadStep } from '../types.js';
import { control } from './control.js';
import { NW_PARAMS, SETTINGS } from './fields.js';
import { definition } from './index.js';

function sim(profile: string, variant?: string): Simulation {
  const clock = new ManualClock();
  const s = createSimulation({ protocol: 'jk', clock, profile, ...(variant ? { variant } : {}) });
  // Let the load profile's current flow before the first request.
  clock.advance(10_000);
  s.bus.advance();
  return s;
}

/** Sends one step's request to the simulated bus; the reply frames this step accepts. */
function exchange(s: Simulation, step: ReadStep): Uint8Array[] {
  const r = s.bus.respond(step.request);
  expect(r, `reply to ${step.name}`).toBeDefined();
  const framer = definition.createFramer();
  const events = [...r!.pieces.flatMap((p) => framer.push(p)), ...framer.end()];
  const frames = events.flatMap((e) => (e.type === 'frame' ? [e.bytes] : []));
  return frames.filter((f) => step.accepts(f));
}

function run(s: Simulation, steps: ControlStep[]): ControlOutcome[] {
  return steps.map((step) => {
    const frames = exchange(s, step);
    expect(step.complete(frames), step.name).toBe(true);
    return step.result(frames);
  });
}

function readParams(s: Simulation, t: ControlTarget): Reading {
  const session = control.readParameters!(t);
  for (let step = session.next(); step; step = session.next()) {
    const frames = exchange(s, step);
    expect(step.complete(frames)).toBe(true);
    session.accept(step, frames);
  }
  return session.result();
}

const paramsOf = (r: Reading): Record<string, number> =>
  r.raw!.parameters as Record<string, number>;

function errorOf(f: () => unknown): BmsError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BmsError);
    return e as BmsError;
  }
  throw new Error('expected a BmsError');
}

const PB: ControlTarget = { address: 1 };
const NW: ControlTarget = { address: 1, variant: '4E57' };

/** Catalog ids of the settings record per layout (JK02_24S has no 32S-only fields). */
function settingsIds(is32: boolean): string[] {
  const ids = SETTINGS.filter((f) => f.param && (is32 || !f.only32)).map((f) => f.param!);
  return is32 ? [...ids, 'heater_enabled'] : ids;
}

describe('jk control: definition', () => {
  it('declares exactly the writable parameters as rw, and no SOC / clock write', () => {
    const rw = definition.parameters.filter((p) => p.access === 'rw').map((p) => p.id);
    expect(new Set(rw)).toEqual(new Set(control.writableParameters));
    for (const id of control.writableParameters ?? []) expect(parameter(id), id).toBeDefined();
    expect(definition.control).toBe(control);
    expect(control.setSoc).toBeUndefined();
    expect(control.setClock).toBeUndefined();
    expect(definition.capabilities).toMatchObject({
      mosControl: true,
      setSoc: false,
      setClock: false,
      parameterRead: true,
      parameterWrite: true,
    });
  });

  it('builds requests the definition parses back', () => {
    const [mos] = control.setMos!(PB, 'charge', false);
    expect(definition.parseRequest(mos!.request)).toEqual({
      command: 'modbus_write',
      address: 1,
      args: { register: 0x1070, values: [0, 0] },
    });
    const [ut] = control.writeParameters!({ address: 3 }, { chg_ut_l2_c: -5 });
    expect(definition.parseRequest(ut!.request)).toEqual({
      command: 'modbus_write',
      address: 3,
      args: { register: 0x105c, values: [0xffff, 0xffce] },
    });
    const [nw] = control.writeParameters!(NW, { pack_ov_l2_v: 57.6 });
    expect(definition.parseRequest(nw!.request)).toEqual({
      command: 'nw_write',
      args: { item: 0x8e, value: 5760 },
    });
  });
});

for (const variant of ['JK02_32S', 'JK02_24S'] as const) {
  describe(`jk control: JK-PB RS485 (${variant})`, () => {
    const t: ControlTarget = { address: 1, variant };
    const is32 = variant === 'JK02_32S';

    it('readParameters returns the pack parameters from the settings record', () => {
      const s = sim('idle', variant);
      const pack = s.packs[0]!;
      const r = readParams(s, t);
      expect(r.address).toBe(1);
      const got = paramsOf(r);
      expect(Object.keys(got).sort()).toEqual([...new Set(settingsIds(is32))].sort());
      const held = pack.parameters();
      const snap = pack.snapshot();
      for (const [id, v] of Object.entries(got)) {
        if (id === 'charge_enabled') expect(v).toBe(snap.charge_mos ? 1 : 0);
        else if (id === 'discharge_enabled') expect(v).toBe(snap.discharge_mos ? 1 : 0);
        else expect(v, id).toBeCloseTo(held[id]!, 3);
      }
      expect(got.cell_ov_l2_mv).toBe(3650);
      expect(got.chg_oc_l2_a).toBe(60);
      expect(got.balance_current_a).toBe(0.1);
    });

    it('writes parameters one field per step, and they read back', () => {
      const s = sim('idle', variant);
      const pack = s.packs[0]!;
      const values = {
        cell_ov_l2_mv: 3600,
        chg_oc_l2_a: 55.5,
        chg_ut_l2_c: -5,
        chg_oc_l2_delay_s: 3,
        balance_start_mv: 3450,
        short_circuit_delay_us: 300,
        balance_enabled: 0,
      };
      const steps = control.writeParameters!(t, values);
      expect(steps).toHaveLength(7);
      const out = run(s, steps);
      expect(out[0]!.reading).toMatchObject({ address: 1, raw: { ack_count: 2 } });
      expect(pack.parameters()).toMatchObject(values);
      const back = paramsOf(readParams(s, t));
      for (const [id, v] of Object.entries(values)) expect(back[id], id).toBe(v);
    });

    it('orders a recovery before its threshold when the BMS would refuse the other order', () => {
      // Raising the cell UV threshold to the recovery the BMS holds (2900 mV).
      const values = { cell_uv_l2_mv: 2900, cell_uv_l2_recover_mv: 3000 };
      const naive = sim('idle', variant);
      const e = errorOf(() => run(naive, control.writeParameters!(t, values)));
      expect(e.code).toBe('COMMAND_REFUSED');
      expect(e.message).toMatch(/exception 3/);
      expect(naive.packs[0]!.parameters().cell_uv_l2_mv).toBe(2600);

      const s = sim('idle', variant);
      const snapshot = readParams(s, t);
      const steps = control.writeParameters!({ ...t, snapshot }, values);
      expect(steps.map((x) => x.name)).toEqual([
        'write_cell_uv_l2_recover_mv',
        'write_cell_uv_l2_mv',
      ]);
      run(s, steps);
      expect(s.packs[0]!.parameters()).toMatchObject(values);
      // Lowering an over-temperature pair below the held recovery (high direction).
      const ot = { chg_ot_l2_c: 50, chg_ot_l2_recover_c: 45 };
      const steps2 = control.writeParameters!({ ...t, snapshot: readParams(s, t) }, ot);
      expect(steps2[0]!.name).toBe('write_chg_ot_l2_recover_c');
      run(s, steps2);
      expect(s.packs[0]!.parameters()).toMatchObject(ot);
    });

    it('a value the BMS rejects surfaces as COMMAND_REFUSED and changes nothing', () => {
      const s = sim('idle', variant);
      const e = errorOf(() => run(s, control.writeParameters!(t, { cell_ov_l2_recover_mv: 3700 })));
      expect(e.code).toBe('COMMAND_REFUSED');
      expect(e.message).toContain('unit 1 refused cell_ov_l2_recover_mv = 3700 mV');
      expect(e.details).toMatchObject({ exception: 3, register: 0x1010 });
      expect(s.packs[0]!.parameters().cell_ov_l2_recover_mv).toBe(3400);
    });

    it('switches the MOSFETs through the switch registers', () => {
      const s = sim('idle', variant);
      const pack = s.packs[0]!;
      run(s, control.setMos!(t, 'charge', false));
      expect(pack.snapshot().charge_mos).toBe(false);
      run(s, control.setMos!(t, 'discharge', false));
      expect(pack.snapshot().discharge_mos).toBe(false);
      expect(paramsOf(readParams(s, t))).toMatchObject({ charge_enabled: 0, discharge_enabled: 0 });
      run(s, control.setMos!(t, 'charge', true));
      run(s, control.setMos!(t, 'discharge', true));
      expect(pack.snapshot()).toMatchObject({ charge_mos: true, discharge_mos: true });
    });

    it('the interlock refusal (charge MOSFET off while discharging) is COMMAND_REFUSED', () => {
      const s = sim('constant:-10', variant);
      const pack = s.packs[0]!;
      expect(pack.snapshot().current_a).toBeLessThan(-5);
      const e = errorOf(() => run(s, control.setMos!(t, 'charge', false)));
      expect(e.code).toBe('COMMAND_REFUSED');
      expect(e.message).toMatch(/refused switching the charge MOSFET off.*exception 4/);
      expect(pack.snapshot().charge_mos).toBe(true);
      // The same switch written as a parameter is refused the same way.
      const e2 = errorOf(() => run(s, control.writeParameters!(t, { charge_enabled: 0 })));
      expect(e2.code).toBe('COMMAND_REFUSED');
      // Switching the discharge MOSFET off while discharging is allowed.
      run(s, control.setMos!(t, 'discharge', false));
      expect(pack.snapshot().discharge_mos).toBe(false);
    });
  });
}

describe('jk control: 4E57', () => {
  it('readParameters maps the read-all items', () => {
    const s = sim('idle');
    const held = s.packs[0]!.parameters();
    const got = paramsOf(readParams(s, NW));
    expect(Object.keys(got).sort()).toEqual(NW_PARAMS.map(([, id]) => id).sort());
    for (const [id, v] of Object.entries(got)) {
      if (id === 'charge_enabled' || id === 'discharge_enabled') expect(v).toBe(1);
      else expect(v, id).toBeCloseTo(held[id]!, 3);
    }
  });

  it('item writes change the pack and read back', () => {
    const s = sim('idle');
    const values = {
      pack_ov_l2_v: 57.6,
      cell_ov_l2_mv: 3600,
      dsg_ut_l2_c: -25,
      cell_diff_l2_mv: 400,
    };
    const out = run(s, control.writeParameters!(NW, values));
    expect(out.map((o) => o.reading?.raw)).toContainEqual({ pack_ovp_v: 57.6 });
    expect(s.packs[0]!.parameters()).toMatchObject(values);
    expect(paramsOf(readParams(s, NW))).toMatchObject(values);
  });

  it('a write the BMS refuses comes back as the old value: COMMAND_REFUSED', () => {
    const s = sim('idle');
    const e = errorOf(() => run(s, control.writeParameters!(NW, { cell_ov_l2_recover_mv: 3700 })));
    expect(e.code).toBe('COMMAND_REFUSED');
    expect(e.message).toContain('= 3400, not 3700');
    expect(s.packs[0]!.parameters().cell_ov_l2_recover_mv).toBe(3400);
  });

  it('switches the MOSFETs through items 0xAB / 0xAC, refused by the interlock', () => {
    const s = sim('idle');
    const [out] = run(s, control.setMos!(NW, 'discharge', false));
    expect(out!.reading?.discharge_mos).toBe(false);
    expect(s.packs[0]!.snapshot().discharge_mos).toBe(false);
    run(s, control.setMos!(NW, 'discharge', true));
    expect(s.packs[0]!.snapshot().discharge_mos).toBe(true);

    const busy = sim('constant:-10');
    const e = errorOf(() => run(busy, control.setMos!(NW, 'charge', false)));
    expect(e.code).toBe('COMMAND_REFUSED');
    expect(e.message).toMatch(/refused switching the charge MOSFET off/);
    expect(busy.packs[0]!.snapshot().charge_mos).toBe(true);
  });
});

describe('jk control: what cannot be written', () => {
  it('unknown ids and ids the link has no field for throw PARAM_UNKNOWN', () => {
    for (const id of [
      'no_such_parameter',
      'pack_ov_l2_v',
      'dsg_ut_l2_c',
      'heater_enabled',
      'cell_ov_l1_mv',
    ]) {
      expect(errorOf(() => control.writeParameters!(PB, { [id]: 1 })).code, id).toBe(
        'PARAM_UNKNOWN',
      );
    }
    for (const id of ['no_such_parameter', 'short_circuit_delay_us', 'balance_current_a']) {
      expect(errorOf(() => control.writeParameters!(NW, { [id]: 1 })).code, id).toBe(
        'PARAM_UNKNOWN',
      );
    }
  });

  it('values finer than the wire resolution throw PARAM_STEP before any step exists', () => {
    const e = errorOf(() =>
      control.writeParameters!(PB, { cell_ov_l2_mv: 3600, chg_oc_l2_delay_s: 2.5 }),
    );
    expect(e.code).toBe('PARAM_STEP');
    expect(e.message).toContain('chg_oc_l2_delay_s');
    expect(e.message).toContain('resolution is 1 s');
    expect(errorOf(() => control.writeParameters!(NW, { dsg_oc_l2_a: 150.5 })).code).toBe(
      'PARAM_STEP',
    );
    expect(errorOf(() => control.writeParameters!(NW, { design_capacity_ah: 100.5 })).code).toBe(
      'PARAM_STEP',
    );
    // The cell count is never written remotely (a wrong count leaves cells unprotected).
    expect(
      errorOf(() =>
        control.writeParameters!({ address: 1, variant: 'JK02_24S' }, { cell_count: 16 }),
      ).code,
    ).toBe('PARAM_UNKNOWN');
    expect(control.writableParameters).not.toContain('cell_count');
    // A value below zero has no place in an unsigned field.
    expect(errorOf(() => control.writeParameters!(NW, { mos_ot_l2_c: -1 })).code).toBe(
      'PARAM_OUT_OF_RANGE',
    );
  });

  it('refuses targets it cannot address', () => {
    expect(errorOf(() => control.setMos!({ address: 0 }, 'charge', true)).code).toBe(
      'INVALID_ARGUMENT',
    );
    expect(errorOf(() => control.readParameters!({ address: 1, variant: 'JK04' })).code).toBe(
      'VARIANT_UNKNOWN',
    );
  });
});
