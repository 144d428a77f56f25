import { describe, expect, it } from 'vitest';
import { isBmsError, type Reading } from '@openbms/core';
import type { Simulation } from '@openbms/simulator';
import {
  framesOf as framesOfFamily,
  runStep,
  simulated,
  type TestProfile,
} from '../testing/control.js';
import type { ControlOutcome, ControlStep, ControlTarget } from '../types.js';
import { codeOf } from '../testing/checks.js';
import { buildFrame, BMS_ADDRESS, control, definition, ID } from './index.js';

const HOST = 0x40;
const T: ControlTarget = { address: HOST };

const sim = (profile: TestProfile = 'idle') => simulated('daly', profile);
const framesOf = (pieces: readonly Uint8Array[]): Uint8Array[] =>
  framesOfFamily(definition, pieces);
const run = (s: Simulation, step: ControlStep): ControlOutcome => runStep(definition, s, step);

function runAll(s: Simulation, steps: ControlStep[]): ControlOutcome[] {
  return steps.map((st) => run(s, st));
}

/** What `fn` throws (undefined when it does not). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

const codeOfError = (e: unknown): string | undefined => (isBmsError(e) ? e.code : undefined);

/** The family's whole read cycle against the simulated device. */
function readCycle(s: Simulation): Reading {
  const session = definition.readSession({ address: HOST });
  for (let step = session.next(); step; step = session.next()) {
    const r = s.bus.respond(step.request);
    const got = framesOf(r!.pieces).filter((f) => step.accepts(f));
    expect(step.complete(got), step.name).toBe(true);
    session.accept(step, got);
  }
  return session.result();
}

const pack = (s: Simulation): Reading => s.packs[0]!.snapshot();

describe('daly control: declared operations', () => {
  it('has only the operations the wire protocol has', () => {
    expect(definition.control).toBe(control);
    expect(typeof control.setMos).toBe('function');
    expect(typeof control.setSoc).toBe('function');
    expect(typeof control.restart).toBe('function');
    // 0x21 has no clock-only form; parameter ids are undocumented.
    for (const k of [
      'setClock',
      'readParameters',
      'writeParameters',
      'writableParameters',
      'restoreDefaults',
      'factoryReset',
    ] as const) {
      expect(control[k], k).toBeUndefined();
    }
    expect(definition.capabilities).toMatchObject({
      mosControl: true,
      setSoc: true,
      setClock: false,
      parameterRead: false,
      parameterWrite: false,
    });
    expect(definition.parameters).toEqual([]);
  });
});

describe('daly control: setMos (0xD9 / 0xDA)', () => {
  it('builds the family requests', () => {
    const [c] = control.setMos!(T, 'charge', false);
    expect(definition.parseRequest(c!.request)).toEqual({
      command: 'set_charge_mos',
      address: HOST,
      args: { on: false },
    });
    const [d] = control.setMos!({ address: 0x80 }, 'discharge', true);
    expect(definition.parseRequest(d!.request)).toEqual({
      command: 'set_discharge_mos',
      address: 0x80,
      args: { on: true },
    });
  });

  it('switches the charge and discharge MOSFETs of an idle pack off and on', () => {
    const s = sim('idle');
    expect(pack(s).charge_mos).toBe(true);
    expect(pack(s).discharge_mos).toBe(true);

    const [off] = runAll(s, control.setMos!(T, 'charge', false));
    expect(off!.reading?.charge_mos).toBe(false);
    expect(pack(s).charge_mos).toBe(false);
    expect(pack(s).discharge_mos).toBe(true);
    expect(readCycle(s).charge_mos).toBe(false);

    const [dOff] = runAll(s, control.setMos!(T, 'discharge', false));
    expect(dOff!.reading?.discharge_mos).toBe(false);
    expect(pack(s).discharge_mos).toBe(false);

    runAll(s, control.setMos!(T, 'charge', true));
    runAll(s, control.setMos!(T, 'discharge', true));
    expect(pack(s).charge_mos).toBe(true);
    expect(pack(s).discharge_mos).toBe(true);
    const r = readCycle(s);
    expect(r.charge_mos).toBe(true);
    expect(r.discharge_mos).toBe(true);
  });

  it('asking for the state the MOSFET already has is not a refusal', () => {
    const s = sim('idle');
    const [o] = runAll(s, control.setMos!(T, 'discharge', true));
    expect(o!.reading?.discharge_mos).toBe(true);
  });

  it('surfaces the interlock (charge MOS off while discharging) as COMMAND_REFUSED', () => {
    const s = sim('constant:-10');
    expect(pack(s).current_a).toBeLessThan(-0.5);
    const e = thrown(() => run(s, control.setMos!(T, 'charge', false)[0]!));
    expect(codeOfError(e)).toBe('COMMAND_REFUSED');
    expect((e as Error).message).toMatch(/refused to switch the charge MOSFET off/);
    expect((e as Error).message).toMatch(/still on/);
    // Nothing changed on the pack.
    expect(pack(s).charge_mos).toBe(true);
    // Switching the discharge MOSFET off is allowed while discharging.
    runAll(s, control.setMos!(T, 'discharge', false));
    expect(pack(s).discharge_mos).toBe(false);
  });

  it('reads an echo that stays off as a refusal to switch on', () => {
    const [step] = control.setMos!(T, 'charge', true);
    const reply = buildFrame(BMS_ADDRESS, ID.CHG_MOS, [0]);
    expect(step!.accepts(reply)).toBe(true);
    const e = thrown(() => step!.result([reply]));
    expect(codeOfError(e)).toBe('COMMAND_REFUSED');
    expect((e as Error).message).toMatch(/still off/);
  });

  it('rejects echoes of the request, other ids and malformed states', () => {
    const [step] = control.setMos!(T, 'discharge', false);
    // A half-duplex adapter's echo of our own request is not the reply.
    expect(step!.accepts(step!.request)).toBe(false);
    expect(step!.accepts(buildFrame(BMS_ADDRESS, ID.CHG_MOS, [0]))).toBe(false);
    expect(step!.accepts(buildFrame(BMS_ADDRESS, ID.MOS, [0]))).toBe(false);
    expect(step!.complete([])).toBe(false);
    expect(() => step!.result([buildFrame(BMS_ADDRESS, ID.DSG_MOS, [2])])).toThrow(
      /not a MOSFET state/,
    );
    expect(() => step!.result([buildFrame(BMS_ADDRESS, ID.CHG_MOS, [0])])).toThrow(/data id/);
    expect(() => step!.result([])).toThrow(/no reply/);
  });
});

describe('daly control: setSoc (0x21, SOC only)', () => {
  it('sends the SOC with zero clock bytes and sets the pack SOC, leaving its clock alone', () => {
    const s = sim('idle');
    const steps = control.setSoc!(T, 42.5);
    expect(steps).toHaveLength(1);
    const req = steps[0]!.request;
    expect([...req.subarray(4, 10)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(definition.parseRequest(req)).toEqual({
      command: 'set_soc',
      address: HOST,
      args: { soc_pct: 42.5 },
    });
    const clockBefore = s.packs[0]!.clock();
    const [o] = runAll(s, steps);
    expect(o!.reading?.raw?.success).toBe(true);
    expect(pack(s).soc_pct).toBeCloseTo(42.5, 1);
    expect(s.packs[0]!.clock()).toBe(clockBefore);
    expect(readCycle(s).soc_pct).toBeCloseTo(42.5, 1);

    runAll(s, control.setSoc!(T, 100));
    expect(readCycle(s).soc_pct).toBe(100);
    runAll(s, control.setSoc!(T, 0));
    expect(pack(s).soc_pct).toBe(0);
  });

  it('surfaces the device refusal (reply byte 0 = 0) as COMMAND_REFUSED', () => {
    const s = sim('idle');
    const before = pack(s).soc_pct;
    const [step] = control.setSoc!(T, 50);
    // The simulated BMS refuses a 0x21 carrying an impossible date (Feb 30); its reply is the
    // refusal our step must recognise.
    const bad = buildFrame(HOST, ID.SET_SOC, [24, 2, 30, 12, 0, 0, 0x01, 0xf4]);
    const r = s.bus.respond(bad)!;
    const got = framesOf(r.pieces).filter((f) => step!.accepts(f));
    expect(step!.complete(got)).toBe(true);
    const e = thrown(() => step!.result(got));
    expect(codeOfError(e)).toBe('COMMAND_REFUSED');
    expect((e as Error).message).toMatch(/refused to set the SOC to 50 %.*byte 0 is 0/);
    expect(pack(s).soc_pct).toBe(before);
  });

  it('rejects SOC values the wire cannot carry', () => {
    expect(codeOf(() => control.setSoc!(T, 50.05))).toBe('PARAM_STEP');
    expect(() => control.setSoc!(T, 50.05)).toThrow(/0\.1 %/);
    for (const v of [-0.1, 100.1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(
        codeOf(() => control.setSoc!(T, v)),
        String(v),
      ).toBe('INVALID_ARGUMENT');
    }
    // Floating-point noise within the resolution is fine.
    expect(definition.parseRequest(control.setSoc!(T, 0.1 + 0.2)[0]!.request).args).toEqual({
      soc_pct: 0.3,
    });
  });

  it('rejects an acknowledgement byte that is neither 0 nor 1', () => {
    const [step] = control.setSoc!(T, 50);
    expect(() => step!.result([buildFrame(BMS_ADDRESS, ID.SET_SOC, [7])])).toThrow(
      /neither 1 \(taken\) nor 0/,
    );
    expect(step!.accepts(step!.request)).toBe(false);
  });
});

describe('daly control: restart (0x00)', () => {
  it('restarts the simulated BMS (its MOSFETs come back on)', () => {
    const s = sim('idle');
    runAll(s, control.setMos!(T, 'discharge', false));
    expect(pack(s).discharge_mos).toBe(false);
    const steps = control.restart!(T);
    expect(steps).toHaveLength(1);
    expect(steps[0]!.optional).toBe(true);
    expect(definition.parseRequest(steps[0]!.request)).toEqual({
      command: 'restart',
      address: HOST,
    });
    const [o] = runAll(s, steps);
    expect(o!.reading?.raw?.command).toBe('restart');
    expect(pack(s).discharge_mos).toBe(true);
  });
});

describe('daly control: parameters', () => {
  it('has no parameter operations: the gateway reports CAPABILITY_MISSING', () => {
    // DALY A5 parameter ids are undocumented; no id is readable or writable, so there is no
    // writeParameters that could map (or refuse with PARAM_UNKNOWN) a catalog id.
    expect(control.readParameters).toBeUndefined();
    expect(control.writeParameters).toBeUndefined();
    expect(definition.parameters.filter((p) => p.access === 'rw')).toEqual([]);
  });

  it('refuses a bad host address with the encoder error', () => {
    expect(codeOf(() => control.setMos!({ address: BMS_ADDRESS }, 'charge', true))).toBe(
      'INVALID_ARGUMENT',
    );
  });
});
