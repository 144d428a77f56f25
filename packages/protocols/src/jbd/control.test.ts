/**
 * JBD control operations against the simulated JBD device, in memory: every request goes
 * through `sim.bus.respond` and every reply through the family's framer.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Reading } from '@openbms/core';
import { createSimulation, ManualClock, type Simulation } from '@openbms/simulator';
import { jbdEeprom, jbdInFactoryMode } from '@openbms/simulator/testing';
import type { ControlOutcome, ControlStep, ReadSession, ReadStep } from '../types.js';
import { codeOf } from '../testing/checks.js';
import { bytesToHex, hexToBytes } from '../util/bytes.js';
import { encodeRequest } from './encode.js';
import { control } from './control.js';
import { buildFrame } from './frame.js';
import { definition } from './index.js';

const here = dirname(fileURLToPath(import.meta.url));
const { vectors } = JSON.parse(readFileSync(join(here, 'fixtures', 'vectors.json'), 'utf8')) as {
  vectors: { id: string; request_hex: string | null; response_hex: string }[];
};

function simulate(profile: string): Simulation {
  const clock = new ManualClock();
  const sim = createSimulation({ protocol: 'jbd', clock, profile });
  // Let the load profile act on the pack (the current is set as simulated time passes).
  clock.advance(1000);
  return sim;
}

/** Sends a step's request to the simulated bus; returns the reply frames it accepts. */
function exchange(sim: Simulation, step: ReadStep): Uint8Array[] {
  const r = sim.bus.respond(step.request);
  expect(r).toBeDefined();
  const framer = definition.createFramer();
  const frames = r!.pieces
    .flatMap((p) => framer.push(p))
    .filter((e) => e.type === 'frame')
    .map((e) => e.bytes)
    .filter((f) => step.accepts(f));
  expect(step.complete(frames)).toBe(true);
  return frames;
}

function run(sim: Simulation, steps: ControlStep[]): ControlOutcome[] {
  return steps.map((s) => s.result(exchange(sim, s)));
}

/** A full read cycle of the family, as the gateway would run it. */
function read(sim: Simulation): Reading {
  const session = definition.readSession({});
  for (let step = session.next(); step; step = session.next()) {
    session.accept(step, exchange(sim, step));
  }
  return session.result();
}

const target = (snapshot?: Reading): { address: number; snapshot?: Reading } =>
  snapshot ? { address: 0, snapshot } : { address: 0 };

describe('jbd control: declared operations', () => {
  it('has setMos and the EEPROM parameters; no SOC or clock', () => {
    expect(definition.control).toBe(control);
    expect(Object.keys(control).sort()).toEqual(
      ['readParameters', 'setMos', 'writableParameters', 'writeParameters'].sort(),
    );
    expect(control.setSoc).toBeUndefined();
    expect(control.setClock).toBeUndefined();
    expect(definition.capabilities).toMatchObject({
      mosControl: true,
      setSoc: false,
      setClock: false,
      parameterRead: true,
      parameterWrite: true,
    });
    // Every writable id is a declared rw parameter of the family.
    const rw = definition.parameters.filter((p) => p.access === 'rw').map((p) => p.id);
    expect([...control.writableParameters!].sort()).toEqual([...rw].sort());
    expect(control.writableParameters).not.toContain('cell_count');
  });
});

/** Runs a read session against the simulated device. */
function runSession(sim: Simulation, s: ReadSession): Reading {
  for (let step = s.next(); step; step = s.next()) s.accept(step, exchange(sim, step));
  return s.result();
}

describe('jbd control: EEPROM parameters in factory mode', () => {
  it('enters factory mode, reads 0x2D then 0x10..0x3F, leaves without saving', () => {
    const sim = simulate('idle');
    const pack = sim.packs[0]!;
    const session = control.readParameters!(target());
    const names: string[] = [];
    for (let step = session.next(); step; step = session.next()) {
      names.push(step.name);
      // Every step after the enter carries the discard exit as its cleanup.
      if (step.name !== 'factory_mode_enter') {
        expect(
          step.cleanup?.map((c) => bytesToHex(c.request)),
          step.name,
        ).toEqual(['dd5a01020000fffd77']);
      }
      session.accept(step, exchange(sim, step));
    }
    expect(names[0]).toBe('factory_mode_enter');
    expect(names[1]).toBe('read_0x2d');
    expect(names.at(-1)).toBe('factory_mode_exit_discard');
    expect(jbdInFactoryMode(pack)).toBe(false);
    expect(jbdEeprom(pack).exits).toEqual(['discard']);
    const p = session.result().raw!.parameters as Record<string, number>;
    const held = pack.parameters();
    for (const id of control.writableParameters!) expect(p[id], id).toBeCloseTo(held[id]!, 6);
    expect(p.cell_count).toBe(16);
  });

  it('writes: enter, write, read back, exit saving; a packed register keeps its other half', () => {
    const sim = simulate('idle');
    const pack = sim.packs[0]!;
    const snapshot = runSession(sim, control.readParameters!(target()));
    const steps = control.writeParameters!(target(snapshot), { cell_ov_l2_delay_s: 3 });
    expect(steps.map((s) => s.name)).toEqual([
      'factory_mode_enter',
      'write_0x3d',
      'read_back_0x3d',
      'factory_mode_exit_save',
    ]);
    // 0x3D: byte 0 = cell UV delay (kept), byte 1 = cell OV delay.
    const uv = pack.parameters().cell_uv_l2_delay_s!;
    expect(bytesToHex(steps[1]!.request)).toBe(
      bytesToHex(
        encodeRequest({
          command: 'write_register',
          args: { register: 0x3d, value: (uv << 8) | 3 },
        }),
      ),
    );
    run(sim, steps);
    expect(pack.parameters()).toMatchObject({ cell_ov_l2_delay_s: 3, cell_uv_l2_delay_s: uv });
    expect(jbdEeprom(pack).exits).toEqual(['discard', 'save']);
    expect(jbdInFactoryMode(pack)).toBe(false);
  });

  it('refuses what the register cannot carry, and read-only ids', () => {
    const t = target(runSession(simulate('idle'), control.readParameters!(target())));
    expect(codeOf(() => control.writeParameters!(t, { cell_ov_l2_delay_s: 2.5 }))).toBe(
      'PARAM_STEP',
    );
    expect(codeOf(() => control.writeParameters!(t, { chg_oc_l2_recover_delay_s: 300 }))).toBe(
      'PARAM_OUT_OF_RANGE',
    );
    expect(codeOf(() => control.writeParameters!(t, { cell_count: 15 }))).toBe('PARAM_UNKNOWN');
    expect(codeOf(() => control.writeParameters!(t, { cell_ov_l3_delay_s: 2 }))).toBe(
      'PARAM_UNKNOWN',
    );
    // A packed register needs the words read first.
    expect(codeOf(() => control.writeParameters!(target(), { cell_ov_l2_delay_s: 3 }))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('turns a write that reads back differently into READBACK_MISMATCH, a refused read into COMMAND_REFUSED', () => {
    const sim = simulate('idle');
    const pack = sim.packs[0]!;
    const snapshot = runSession(sim, control.readParameters!(target()));
    const steps = control.writeParameters!(target(snapshot), { cell_ov_l2_mv: 3600 });
    jbdEeprom(pack).faults.write = 'ignore';
    steps[0]!.result(exchange(sim, steps[0]!));
    steps[1]!.result(exchange(sim, steps[1]!));
    expect(codeOf(() => steps[2]!.result(exchange(sim, steps[2]!)))).toBe('READBACK_MISMATCH');
    jbdEeprom(pack).faults.read = 'refuse';
    expect(codeOf(() => steps[2]!.result(exchange(sim, steps[2]!)))).toBe('COMMAND_REFUSED');
  });

  it('reads parameter numbers of the newer 0xFA block (vendor example)', () => {
    const v = vectors.find((x) => x.id === 'jbd_fa_read_vendor_example')!;
    const r = definition.decode(hexToBytes(v.response_hex));
    expect(r.raw).toMatchObject({
      param_start: 1,
      param_values: [4000, 4150],
      cycle_capacity_ah: 40,
    });
  });
});

describe('jbd control: setMos', () => {
  it('builds the 0xE1 request of the real capture (charge off, discharge kept on)', () => {
    const v = vectors.find((x) => x.id === 'jbd_e1_mos_write_ack')!;
    const [step] = control.setMos!(
      target({ charge_mos: true, discharge_mos: true }),
      'charge',
      false,
    );
    expect(Buffer.from(step!.request).toString('hex')).toBe(v.request_hex);
    const ack = Uint8Array.from(Buffer.from(v.response_hex, 'hex'));
    expect(step!.accepts(ack)).toBe(true);
    expect(step!.result([ack]).reading?.raw).toMatchObject({ status: 0, register: 0xe1 });
  });

  it('switches the charge MOSFET off and on again on the simulated pack', () => {
    const sim = simulate('idle');
    const pack = sim.packs[0]!;
    let snap = read(sim);
    expect(snap.charge_mos).toBe(true);
    expect(snap.discharge_mos).toBe(true);

    const steps = control.setMos!(target(snap), 'charge', false);
    expect(steps).toHaveLength(1);
    expect(steps[0]!.name).toBe('mos_control');
    const [out] = run(sim, steps);
    expect(out!.reading?.raw).toMatchObject({ status: 0, register: 0xe1, payload_hex: '' });
    expect(pack.snapshot().charge_mos).toBe(false);
    expect(pack.snapshot().discharge_mos).toBe(true);

    snap = read(sim);
    expect(snap.charge_mos).toBe(false);
    expect(snap.discharge_mos).toBe(true);
    expect(snap.raw!.alarms).toContain('mos_software_lock');

    run(sim, control.setMos!(target(snap), 'charge', true));
    expect(pack.snapshot().charge_mos).toBe(true);
    snap = read(sim);
    expect(snap.charge_mos && snap.discharge_mos).toBe(true);
    expect(snap.raw!.alarms).not.toContain('mos_software_lock');
  });

  it('carries the other MOSFET unchanged from the snapshot', () => {
    const sim = simulate('idle');
    const pack = sim.packs[0]!;
    run(sim, control.setMos!(target(read(sim)), 'discharge', false));
    expect(pack.snapshot()).toMatchObject({ charge_mos: true, discharge_mos: false });
    // Charge off while discharge is already off: both bits set (data 00 03).
    const [both] = control.setMos!(target(read(sim)), 'charge', false);
    expect(Array.from(both!.request.subarray(0, 6))).toEqual([0xdd, 0x5a, 0xe1, 0x02, 0x00, 0x03]);
    run(sim, [both!]);
    expect(pack.snapshot()).toMatchObject({ charge_mos: false, discharge_mos: false });
    // Discharge back on keeps charge off.
    run(sim, control.setMos!(target(read(sim)), 'discharge', true));
    expect(pack.snapshot()).toMatchObject({ charge_mos: false, discharge_mos: true });
  });

  it('surfaces the interlock refusal (status 0x80) as COMMAND_REFUSED and changes nothing', () => {
    const sim = simulate('constant:-10');
    const pack = sim.packs[0]!;
    const snap = read(sim);
    expect(snap.current_a).toBeLessThan(-5);
    const [step] = control.setMos!(target(snap), 'charge', false);
    const frames = exchange(sim, step!);
    expect(frames[0]![2]).toBe(0x80);
    let err: unknown;
    try {
      step!.result(frames);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'COMMAND_REFUSED' });
    expect((err as Error).message).toMatch(/refused the MOSFET write 0xE1.*status 0x80/);
    expect(pack.snapshot()).toMatchObject({ charge_mos: true, discharge_mos: true });
    // Switching the discharge MOSFET off is allowed while discharging.
    run(sim, control.setMos!(target(snap), 'discharge', false));
    expect(pack.snapshot().discharge_mos).toBe(false);
  });

  it('needs the current state of the other MOSFET', () => {
    expect(() => control.setMos!(target(), 'charge', false)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/discharge MOSFET state/),
      }),
    );
    expect(() => control.setMos!(target({ charge_mos: true }), 'charge', false)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => control.setMos!(target({ charge_mos: true }), 'discharge', true)).not.toThrow();
    expect(() =>
      control.setMos!(target({ charge_mos: true, discharge_mos: true }), 'both' as never, true),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('accepts only 0xE1 replies and rejects an empty reply list', () => {
    const [step] = control.setMos!(
      target({ charge_mos: true, discharge_mos: true }),
      'charge',
      true,
    );
    expect(step!.accepts(buildFrame(0x03, 0x00, [1, 2]))).toBe(false);
    expect(step!.accepts(buildFrame(0xe1, 0x00))).toBe(true);
    expect(step!.accepts(buildFrame(0xe1, 0x80))).toBe(true);
    expect(step!.complete([])).toBe(false);
    expect(() => step!.result([])).toThrow(expect.objectContaining({ code: 'FRAME_TRUNCATED' }));
  });
});
