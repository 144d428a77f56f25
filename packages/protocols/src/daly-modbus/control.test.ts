/**
 * Control and parameter operations of daly-modbus against the real simulated DALY H/K/M/S
 * board (packages/simulator/src/devices/daly-modbus), in memory: every step's request goes
 * through the simulated bus, its reply through the family framer, accepts/complete/result.
 */
import { describe, expect, it } from 'vitest';
import { isBmsError, type Reading } from '@openbms/core';
import type { Simulation } from '@openbms/simulator';
import {
  framesOf as framesOfFamily,
  runStep,
  simulated,
  type TestProfile,
} from '../testing/control.js';
import type { ControlOutcome, ControlStep, ControlTarget, ReadSession } from '../types.js';
import { codeOf } from '../testing/checks.js';
import { control } from './control.js';
import { definition, PARAM_MAP, paramRegister } from './index.js';

const D2: ControlTarget = { address: 0xd2 };
const P81: ControlTarget = { address: 0x81 };

const sim = (profile: TestProfile = 'idle', packs = 1) => simulated('daly-modbus', profile, packs);
const framesOf = (pieces: readonly Uint8Array[]): Uint8Array[] =>
  framesOfFamily(definition, pieces);
const run = (s: Simulation, step: ControlStep): ControlOutcome => runStep(definition, s, step);

const runAll = (s: Simulation, steps: ControlStep[]): ControlOutcome[] =>
  steps.map((st) => run(s, st));

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

function drive(s: Simulation, session: ReadSession): Reading {
  for (let step = session.next(); step; step = session.next()) {
    const r = s.bus.respond(step.request);
    expect(r, step.name).toBeDefined();
    const got = framesOf(r!.pieces).filter((f) => step.accepts(f));
    expect(step.complete(got), step.name).toBe(true);
    session.accept(step, got);
  }
  return session.result();
}

const readParams = (s: Simulation, t: ControlTarget): Record<string, number> =>
  drive(s, control.readParameters!(t)).raw!.parameters as Record<string, number>;

const readCycle = (s: Simulation, t: ControlTarget): Reading =>
  drive(s, definition.readSession({ address: t.address }));

/** Wire resolution of a catalog id on this family. */
function resolution(id: string): number {
  const p = PARAM_MAP.find((m) => m.id === id);
  return p?.conv === 'x10' || p?.conv === 'cur_mag' ? 0.1 : 1;
}

const VARIANTS: [string, ControlTarget, number, number][] = [
  // name, target, packs on the bus, index of the target pack
  ['d2', D2, 1, 0],
  ['p81', P81, 2, 0],
  ['p81 board 2', { address: 0x82 }, 2, 1],
];

describe('daly-modbus control: declared operations', () => {
  it('has the operations the wire protocol has, and capabilities to match', () => {
    expect(definition.control).toBe(control);
    for (const k of [
      'setMos',
      'setSoc',
      'readParameters',
      'writeParameters',
      'restoreDefaults',
      'restart',
    ] as const)
      expect(typeof control[k], k).toBe('function');
    // No clock register and no separate factory reset are known for DALY Modbus.
    expect(control.setClock).toBeUndefined();
    expect(control.factoryReset).toBeUndefined();
    expect(definition.capabilities).toMatchObject({
      mosControl: true,
      setSoc: true,
      setClock: false,
      parameterRead: true,
      parameterWrite: true,
    });
  });

  it('declares rw exactly for the writable parameters', () => {
    const rw = definition.parameters.filter((p) => p.access === 'rw').map((p) => p.id);
    expect([...rw].sort()).toEqual([...control.writableParameters!].sort());
    // The over-current thresholds and the MOS switches are read-only parameters.
    for (const id of ['chg_oc_l1_a', 'dsg_oc_l2_a', 'charge_enabled', 'discharge_enabled'])
      expect(control.writableParameters).not.toContain(id);
  });

  it('builds requests with the family encoder, parseable as the family commands', () => {
    const [mos] = control.setMos!(D2, 'charge', false);
    expect(definition.parseRequest(mos!.request)).toEqual({
      command: 'set_charge_mos',
      address: 0xd2,
      args: { on: false },
    });
    const [soc] = control.setSoc!(P81, 42.5);
    expect(definition.parseRequest(soc!.request)).toEqual({
      command: 'set_soc',
      address: 0x81,
      args: { soc_pct: 42.5 },
    });
    const [w] = control.writeParameters!(D2, { pack_uv_l2_v: 41.6 });
    expect(definition.parseRequest(w!.request)).toEqual({
      command: 'write_parameter',
      address: 0xd2,
      args: { id: 'pack_uv_l2_v', value: 41.6 },
    });
    const [rs] = control.restart!(D2);
    expect(definition.parseRequest(rs!.request)).toEqual({
      command: 'write_register',
      address: 0xd2,
      args: { register: 0xf0, value: 1 },
    });
  });
});

describe.each(VARIANTS)('daly-modbus control (%s)', (_name, t, packs, index) => {
  it('reads every parameter of the pack through the settings block', () => {
    const s = sim('idle', packs);
    const pack = s.packs[index]!;
    const got = readParams(s, t);
    const want = pack.parameters();
    for (const p of PARAM_MAP) {
      expect(got[p.id], p.id).toBeDefined();
      expect(Math.abs(got[p.id]! - want[p.id]!), p.id).toBeLessThanOrEqual(resolution(p.id) / 2);
    }
    expect(got.balance_enabled).toBe(1);
    expect(got.charge_enabled).toBe(1);
    expect(got.discharge_enabled).toBe(1);
    expect(Object.keys(got).sort()).toEqual(
      [
        ...PARAM_MAP.map((p) => p.id),
        'balance_enabled',
        'charge_enabled',
        'discharge_enabled',
      ].sort(),
    );
  });

  it('switches the charge and discharge MOSFETs off and on', () => {
    const s = sim('idle', packs);
    const pack = s.packs[index]!;
    const [off] = runAll(s, control.setMos!(t, 'charge', false));
    expect(off!.reading?.raw?.charge_mos_switch).toBe(false);
    expect(pack.snapshot().charge_mos).toBe(false);
    expect(readCycle(s, t).charge_mos).toBe(false);
    runAll(s, control.setMos!(t, 'discharge', false));
    expect(pack.snapshot().discharge_mos).toBe(false);
    runAll(s, control.setMos!(t, 'charge', true));
    runAll(s, control.setMos!(t, 'discharge', true));
    expect(pack.snapshot()).toMatchObject({ charge_mos: true, discharge_mos: true });
  });

  it('surfaces the MOSFET interlock (exception 4) as COMMAND_REFUSED', () => {
    const s = sim('constant:-10', packs);
    const pack = s.packs[index]!;
    expect(pack.snapshot().current_a).toBeLessThan(-5);
    const e = thrown(() => runAll(s, control.setMos!(t, 'charge', false)));
    expect(isBmsError(e) && e.code).toBe('COMMAND_REFUSED');
    expect((e as Error).message).toMatch(/switch the charge MOSFET off.*exception 4/);
    expect(pack.snapshot().charge_mos).toBe(true);
    // Switching the discharge MOSFET off is allowed while discharging.
    runAll(s, control.setMos!(t, 'discharge', false));
    expect(pack.snapshot().discharge_mos).toBe(false);
  });

  it('sets the SOC in 0.1 % steps', () => {
    const s = sim('idle', packs);
    const pack = s.packs[index]!;
    runAll(s, control.setSoc!(t, 42.5));
    expect(pack.snapshot().soc_pct).toBeCloseTo(42.5, 1);
    expect(readCycle(s, t).soc_pct).toBeCloseTo(42.5, 1);
    expect(codeOf(() => control.setSoc!(t, 42.55))).toBe('PARAM_STEP');
    expect(codeOf(() => control.setSoc!(t, 101))).toBe('INVALID_ARGUMENT');
  });

  it('writes parameters in catalog units and reads them back', () => {
    const s = sim('idle', packs);
    const pack = s.packs[index]!;
    const values = {
      cell_ov_l1_mv: 3500,
      pack_ov_l1_v: 56.2,
      chg_ut_l1_c: 3,
      dsg_ut_l2_c: -25,
      design_capacity_ah: 120.5,
      sleep_delay_s: 1800,
      balance_enabled: 0,
    };
    const steps = control.writeParameters!(t, values);
    expect(steps).toHaveLength(7);
    runAll(s, steps);
    expect(pack.parameters()).toMatchObject(values);
    expect(readParams(s, t)).toMatchObject(values);
    // Each step is one FC 0x06 to the variant's register (balancer switch 0x00CF on both).
    const variant = t.address === 0xd2 ? 'd2' : 'p81';
    const wrote = steps.map((st) => [
      st.request[0],
      st.request[1],
      (st.request[2]! << 8) | st.request[3]!,
    ]);
    const want = Object.keys(values).map((id) => [
      t.address,
      0x06,
      id === 'balance_enabled'
        ? 0xcf
        : paramRegister(
            variant,
            PARAM_MAP.find((p) => p.id === id)!,
          ),
    ]);
    expect(wrote).toEqual(want);
    expect(want[0]![2]).toBe(variant === 'd2' ? 0x8b : 0x10b);
  });

  it('surfaces a value the device refuses (exception 3) as COMMAND_REFUSED and stores nothing', () => {
    const s = sim('idle', packs);
    const pack = s.packs[index]!;
    const before = pack.parameters().cell_ov_l2_mv;
    // 3800 mV is above the LFP safe limit: the simulated BMS validates and refuses.
    const e = thrown(() => runAll(s, control.writeParameters!(t, { cell_ov_l2_mv: 3800 })));
    expect(isBmsError(e) && e.code).toBe('COMMAND_REFUSED');
    expect((e as Error).message).toMatch(/set cell_ov_l2_mv to 3800.*exception 3/);
    expect(pack.parameters().cell_ov_l2_mv).toBe(before);
  });
});

describe('daly-modbus control: parameter writes', () => {
  it('orders single-register writes so that no intermediate state is inconsistent', () => {
    // Raise both over-voltage levels above the current level 2 (3650 mV): level 2 must go first.
    const values = { cell_ov_l1_mv: 3660, cell_ov_l2_mv: 3700 };
    const s = sim();
    const snapshot = readCycle(s, D2); // the cycle's settings read carries the current values
    const steps = control.writeParameters!({ ...D2, snapshot }, values);
    expect(steps.map((st) => st.name)).toEqual(['write_cell_ov_l2_mv', 'write_cell_ov_l1_mv']);
    runAll(s, steps);
    expect(s.packs[0]!.parameters()).toMatchObject(values);

    // Without the current values the catalog order is used; the device refuses level 1
    // above its level 2 and the refusal surfaces before anything inconsistent is stored.
    const s2 = sim();
    const blind = control.writeParameters!(D2, values);
    expect(blind.map((st) => st.name)).toEqual(['write_cell_ov_l1_mv', 'write_cell_ov_l2_mv']);
    expect(codeOf(() => run(s2, blind[0]!))).toBe('COMMAND_REFUSED');
    expect(s2.packs[0]!.parameters().cell_ov_l1_mv).toBe(3550);
  });

  it('throws PARAM_UNKNOWN for ids it cannot write, before building any step', () => {
    for (const id of [
      'no_such_parameter',
      'chg_oc_l1_a', // read-only: sign convention of the register not established
      'charge_enabled', // MOSFETs: setMos
      'short_circuit_a', // no register
      'cell_ov_l1_recover_mv',
    ]) {
      const e = thrown(() => control.writeParameters!(D2, { cell_ov_l1_mv: 3500, [id]: 1 }));
      expect(isBmsError(e) && e.code, id).toBe('PARAM_UNKNOWN');
      expect((e as Error).message, id).toContain(id);
    }
  });

  it('throws PARAM_STEP for values the registers cannot hold exactly', () => {
    for (const [id, v, res] of [
      ['pack_ov_l1_v', 56.25, '0.1 V'],
      ['design_capacity_ah', 100.05, '0.1 Ah'],
      ['cell_ov_l1_mv', 3500.5, '1 mV'],
      ['chg_ot_l1_c', 45.5, '1 °C'],
      ['balance_enabled', 0.5, '1'],
    ] as const) {
      const e = thrown(() => control.writeParameters!(P81, { [id]: v }));
      expect(isBmsError(e) && e.code, id).toBe('PARAM_STEP');
      expect((e as Error).message, id).toContain(id);
      if (id !== 'balance_enabled') expect((e as Error).message, id).toContain(res);
    }
    expect(codeOf(() => control.writeParameters!(D2, { sleep_delay_s: 86400 }))).toBe(
      'PARAM_OUT_OF_RANGE',
    );
  });

  it('rejects a variant that does not match the unit', () => {
    expect(codeOf(() => control.setMos!({ address: 0xd2, variant: 'p81' }, 'charge', true))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => control.readParameters!({ address: 0x42 }))).toBe('INVALID_ARGUMENT');
  });
});

describe('daly-modbus control: reply matching', () => {
  it('accepts only the echo of its own register from its own reply unit', () => {
    const s = sim('idle', 2);
    const [step] = control.setMos!(P81, 'charge', true);
    const reply = framesOf(s.bus.respond(step!.request)!.pieces);
    expect(reply[0]![0]).toBe(0x51);
    expect(step!.accepts(reply[0]!)).toBe(true);
    // Another register's echo, another board's reply and a read reply are not this step's.
    const [other] = control.setMos!(P81, 'discharge', true);
    expect(other!.accepts(reply[0]!)).toBe(false);
    const [board2] = control.setMos!({ address: 0x82 }, 'charge', true);
    expect(board2!.accepts(reply[0]!)).toBe(false);
    const status = framesOf(
      s.bus.respond(definition.encode({ command: 'read_status', address: 0x81 }))!.pieces,
    );
    expect(step!.accepts(status[0]!)).toBe(false);
  });
});

describe('daly-modbus control: restart and restore defaults (d2 command registers)', () => {
  it('restart (0x00F0) puts the user MOS switches back on', () => {
    const s = sim();
    runAll(s, control.setMos!(D2, 'charge', false));
    expect(s.packs[0]!.snapshot().charge_mos).toBe(false);
    runAll(s, control.restart!(D2));
    expect(s.packs[0]!.snapshot().charge_mos).toBe(true);
  });

  it('restore defaults (0x00F3) brings back the factory parameters', () => {
    const s = sim();
    const pack = s.packs[0]!;
    runAll(s, control.writeParameters!(D2, { cell_ov_l1_mv: 3500, balance_start_mv: 3450 }));
    expect(pack.parameters().cell_ov_l1_mv).toBe(3500);
    runAll(s, control.restoreDefaults!(D2));
    expect(pack.parameters()).toEqual(pack.defaults());
    expect(readParams(s, D2).cell_ov_l1_mv).toBe(pack.defaults().cell_ov_l1_mv);
  });

  it('has no command registers on the p81 map', () => {
    expect(codeOf(() => control.restart!(P81))).toBe('CAPABILITY_MISSING');
    expect(codeOf(() => control.restoreDefaults!(P81))).toBe('CAPABILITY_MISSING');
    // And the simulated p81 board indeed refuses 0x00F0 (illegal data address).
    const s = sim('idle', 2);
    const req = definition.encode({
      command: 'write_register',
      address: 0x81,
      args: { register: 0xf0, value: 1 },
    });
    const f = framesOf(s.bus.respond(req)!.pieces);
    expect(Array.from(f[0]!.subarray(0, 3))).toEqual([0x51, 0x86, 0x02]);
  });
});
