/**
 * PACE control builders: the frames they build against the captured PbmsTools writes, the
 * values the wire cannot carry, and sessions run against the simulated pack in memory.
 */
import { describe, expect, it } from 'vitest';
import { isBmsError, type BmsRecord, type Reading } from '@openbms/core';
import { runStep, simulated } from '../testing/control.js';
import type { ControlTarget, ReadSession } from '../types.js';
import { bytesToHex } from '../util/bytes.js';
import type { Simulation } from '@openbms/simulator';
import { control, WRITABLE } from './control.js';
import { definition } from './index.js';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const hexOf = (b: Uint8Array): string => bytesToHex(b);

function errorOf(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (isBmsError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('did not throw');
}

/** What a parameter read of the captured Jakiper pack gave (PbmsTools' set). */
const CAPTURED: ControlTarget = {
  address: 0,
  snapshot: {
    raw: {
      parameters: {
        cell_ov_l1_mv: 3600,
        cell_ov_l2_mv: 3700,
        cell_ov_l2_recover_mv: 3380,
        cell_ov_l2_delay_s: 1,
        dsg_oc_l1_a: 105,
        dsg_oc_l2_a: 110,
        dsg_oc_l2_delay_s: 1,
        chg_oc_l1_a: 104,
        chg_oc_l2_a: 110,
        chg_oc_l2_delay_s: 1,
      },
      blocks: {
        cell_ov: { cell_ov_enabled: true },
        discharge_oc1: { discharge_oc1_enabled: true },
        charge_oc: { charge_oc_enabled: true },
      },
    },
  },
};

function run(s: Simulation, session: ReadSession): Reading {
  for (let step = session.next(); step; step = session.next()) {
    const r = s.bus.respond(step.request);
    if (!r) {
      expect(step.optional, step.name).toBe(true);
      continue;
    }
    const framer = definition.createFramer();
    const frames = r.pieces
      .flatMap((p) => framer.push(p))
      .filter((e) => e.type === 'frame')
      .map((e) => e.bytes)
      .filter((f) => step.accepts(f));
    session.accept(step, frames);
  }
  return session.result();
}

describe('builders against the captured PbmsTools frames', () => {
  it('writes one parameter of a block with the others as the pack holds them (D0, DA)', () => {
    const [d0] = control.writeParameters!(CAPTURED, { cell_ov_l1_mv: 3600 });
    expect(hexOf(d0!.request)).toBe(hexOf(ascii('~250046D0F010010E100E740D340AFA21\r')));
    // DA: the discharge currents read negative (DB) go out positive, as PbmsTools writes them.
    const [da] = control.writeParameters!(CAPTURED, { dsg_oc_l1_a: 105 });
    expect(hexOf(da!.request)).toBe(hexOf(ascii('~250046DA400C010069006E0AFAF7\r')));
  });

  it('builds the captured clock, inverter protocol and MOSFET frames', () => {
    const t = { address: 0 };
    expect(hexOf(control.setClock!(t, Date.UTC(2024, 7, 20, 14, 15, 37))[0]!.request)).toBe(
      hexOf(ascii('~250046B2400C1808140E0F25FAFC\r')),
    );
    expect(
      hexOf(control.setInverterProtocol!(t, { can: 0x13, rs485: 0x14, mode: 'auto' })[0]!.request),
    ).toBe(hexOf(ascii('~250046ECA006131400FC47\r')));
    const [off] = control.setMos!(t, 'charge', false);
    expect(hexOf(off!.request)).toBe(hexOf(ascii('~2500469AE00201FD1D\r')));
    // The captured replies: charge MOSFET off (indication 0x24), and a refusal (RTN 09).
    expect(off!.result([ascii('~25004600E00224FD32\r')]).reading).toMatchObject({
      charge_mos: false,
      discharge_mos: true,
    });
    const [dsg] = control.setMos!(t, 'discharge', false);
    const refusal = errorOf(() => dsg!.result([ascii('~25004609E00204FD2B\r')]));
    expect(refusal.code).toBe('COMMAND_REFUSED');
    expect(refusal.message).toContain('RTN 0x09');
  });

  it('sends a link it is not told about as FF (unchanged) and selects the named one (manual)', () => {
    const [s] = control.setInverterProtocol!({ address: 1 }, { rs485: 0x03 });
    expect(definition.parseRequest(s!.request).args).toEqual({
      can_protocol: 0xff,
      rs485_protocol: 0x03,
      protocol_mode: 'manual',
    });
  });

  it('refuses values the fields cannot carry exactly, before any frame exists', () => {
    const write = (values: Record<string, number>) => () =>
      control.writeParameters!(CAPTURED, values);
    expect(errorOf(write({ chg_oc_l2_a: 100.5 })).code).toBe('PARAM_STEP');
    expect(errorOf(write({ cell_ov_l2_delay_s: 30 })).code).toBe('PARAM_OUT_OF_RANGE');
    expect(errorOf(write({ short_circuit_delay_us: 310 })).code).toBe('PARAM_STEP');
    expect(errorOf(write({ sleep_delay_s: 90 })).code).toBe('PARAM_STEP');
    expect(errorOf(write({ cell_ov_l1_recover_mv: 3500 })).code).toBe('PARAM_UNKNOWN');
    // A block member the pack's value of is not known: read the parameters first.
    expect(errorOf(write({ mos_ot_l1_c: 80 })).message).toContain('read the parameters first');
  });

  it('declares what rests on one document, and EG4 has only the clock and shut-down', () => {
    expect(Object.keys(control.unverified ?? {}).sort()).toEqual([
      'calibrate',
      'clearRecords',
      'restoreDefaults',
      'setSoc',
    ]);
    expect(Object.keys(control.unverifiedParameters ?? {})).toEqual(['charge_limit_start_a']);
    const eg4 = definition.variantControl!['v20-eg4']!;
    expect(Object.keys(eg4).sort()).toEqual(['readClock', 'setClock', 'shutdown', 'unverified']);
  });
});

describe('against the simulated pack', () => {
  it('reads every writable parameter, and a block write keeps its other fields and enable byte', () => {
    const s = simulated('pace');
    const t: ControlTarget = { address: 1 };
    const before = run(s, control.readParameters!(t));
    const params = before.raw!.parameters as Record<string, number>;
    expect(Object.keys(params).sort()).toEqual([...WRITABLE].sort());
    // 3.52 V x 16 stays above the 56.0 V full-charge voltage (the pack checks the whole set).
    const steps = control.writeParameters!({ ...t, snapshot: before }, { cell_ov_l1_mv: 3520 });
    expect(steps).toHaveLength(1);
    runStep(definition, s, steps[0]!);
    const after = run(s, control.readParameters!(t));
    expect(after.raw!.parameters).toEqual({ ...params, cell_ov_l1_mv: 3520 });
    const blocks = before.raw!.blocks as Record<string, Record<string, unknown>>;
    expect(after.raw!.blocks).toEqual({
      ...blocks,
      cell_ov: { ...blocks.cell_ov, cell_ov_alarm_v: 3.52 },
    });
  });

  it('never switches a protection on or off: an enable byte the pack holds is written back as it is', () => {
    const s = simulated('pace');
    const t: ControlTarget = { address: 1 };
    // Someone (PbmsTools) switched the cell OV protection function off.
    const p = run(s, control.readParameters!(t)).raw!.blocks as Record<
      string,
      Record<string, number | boolean>
    >;
    const off = definition.encode({
      command: 'set_cell_ov',
      address: 1,
      args: { ...p.cell_ov!, cell_ov_enabled: false },
    });
    expect(s.bus.respond(off)).toBeDefined();
    const snapshot = run(s, control.readParameters!(t));
    const [step] = control.writeParameters!({ ...t, snapshot }, { cell_ov_l2_delay_s: 2 });
    expect(definition.parseRequest(step!.request).args).toMatchObject({
      cell_ov_enabled: false,
      cell_ov_delay_s: 2,
    });
    runStep(definition, s, step!);
    const after = run(s, control.readParameters!(t)).raw!.blocks as Record<
      string,
      Record<string, unknown>
    >;
    expect(after.cell_ov).toMatchObject({ cell_ov_enabled: false, cell_ov_delay_s: 2 });
  });

  it('gets the pack refusal of a write that breaks its rules as COMMAND_REFUSED (RTN 09)', () => {
    const s = simulated('pace');
    const t: ControlTarget = { address: 1 };
    const snapshot = run(s, control.readParameters!(t));
    // Release above the protection: the simulated firmware refuses the whole block.
    const [step] = control.writeParameters!({ ...t, snapshot }, { cell_ov_l2_recover_mv: 3700 });
    expect(errorOf(() => runStep(definition, s, step!)).code).toBe('COMMAND_REFUSED');
  });

  it('reads the records page by page and says where they end', () => {
    const s = simulated('pace');
    s.clock.advance(35 * 60_000); // three storage intervals of 10 minutes
    s.bus.advance();
    const held = s.packs[0]!.dataRecords().length;
    expect(held).toBeGreaterThanOrEqual(3);
    const page = run(s, control.readRecords!({ address: 1 }, { start: 0, count: 10 }));
    const records = page.raw!.records as BmsRecord[];
    expect(records.map((r) => r.index)).toEqual(Array.from({ length: held }, (_, i) => i));
    expect(page.raw!.records_end).toBe(true);
    // Newest first: index 0 is the last record the pack wrote.
    const newest = s.packs[0]!.dataRecords().at(-1)!;
    expect(records[0]!.wall_ms).toBe(Math.floor(newest.time / 1000) * 1000);
    expect(records[0]!.voltage_v).toBeCloseTo(newest.voltage_v, 2);
  });
});
