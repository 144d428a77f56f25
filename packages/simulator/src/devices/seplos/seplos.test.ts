/**
 * The simulated Seplos packs (V2 and V3) against the family's own read sessions and control
 * builders, in memory through the simulated bus (request framer, reply framer), and read by
 * the real reader over a pseudo-terminal and over TCP for V3.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeAlarm, type Reading } from '@openbms/core';
import {
  getProtocol,
  type ControlOps,
  type ControlStep,
  type ReadSession,
  type ReadStep,
} from '@openbms/protocols';
import { createTransport, readPack } from '@openbms/transport';
import { ManualClock } from '../../clock.js';
import { servePty, serveTcp } from '../../serve.js';
import { createSimulation, type Simulation } from '../../simulation.js';
import { differences } from '../../testing/compare.js';
import { canProtocolOfPack } from './index.js';

const def = getProtocol('seplos');
const v2 = def.control!;
const v3 = def.variantControl!.v3!;
const START = Date.UTC(2026, 5, 21, 10, 0, 0);

function simulate(
  variant: 'v2' | 'v3',
  profile = 'idle',
  packs = 1,
): Simulation & { clock: ManualClock } {
  const clock = new ManualClock(START);
  const sim = createSimulation({ protocol: 'seplos', variant, clock, profile, packs, seed: 4 });
  clock.advance(5000);
  sim.bus.advance();
  return { ...sim, clock };
}

/** The reply frames of one step from the simulated bus, through the family framer. */
function exchange(sim: Simulation, step: ReadStep): Uint8Array[] {
  const r = sim.bus.respond(step.request);
  expect(r, step.name).toBeDefined();
  const framer = def.createFramer();
  const frames = [...r!.pieces.flatMap((p) => framer.push(p)), ...framer.end()]
    .filter((e) => e.type === 'frame')
    .map((e) => e.bytes)
    .filter((f) => step.accepts(f));
  expect(step.complete(frames), step.name).toBe(true);
  return frames;
}

function run(sim: Simulation, session: ReadSession): Reading {
  for (let s = session.next(); s; s = session.next()) session.accept(s, exchange(sim, s));
  return session.result();
}

const send = (sim: Simulation, steps: ControlStep[]): void => {
  for (const s of steps) s.result(exchange(sim, s));
};

const params = (sim: Simulation, ops: ControlOps, address: number): Record<string, number> =>
  run(sim, ops.readParameters!({ address })).raw!.parameters as Record<string, number>;

/** V3's read cycle has no rated (design) capacity: PIA/PIB/PIC carry none. */
const metricsOf = (variant: 'v2' | 'v3'): readonly string[] =>
  variant === 'v2' ? def.metrics : def.metrics.filter((m) => m !== 'design_ah');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe.each(['v2', 'v3'] as const)('simulated seplos %s', (variant) => {
  const ops = variant === 'v2' ? v2 : v3;

  it('reads back as the pack model is (read cycle through the bus)', () => {
    const sim = simulate(variant, 'constant:-12.3');
    const pack = sim.packs[0]!;
    const r = run(sim, def.readSession({ address: pack.address, variant }));
    expect(differences(r, pack.snapshot(), metricsOf(variant))).toEqual([]);
    expect(r.alarms).toEqual([]);
    expect(r.state).toBe('discharging');
  });

  it("reports every catalog parameter the family maps, equal to the pack's", () => {
    const sim = simulate(variant);
    const pack = sim.packs[0]!;
    const got = params(sim, ops, pack.address);
    const held = pack.parameters();
    const mapped = def.parameters.filter((p) => got[p.id] !== undefined).map((p) => p.id);
    expect(mapped.length).toBeGreaterThan(variant === 'v2' ? 60 : 70);
    for (const id of mapped) {
      if (id === 'cell_count') expect(got[id]).toBe(16);
      else expect(got[id], id).toBeCloseTo(held[id]!, 6);
    }
  });

  it('takes a write, refuses an unsafe one whole (nothing stored)', () => {
    const sim = simulate(variant);
    const pack = sim.packs[0]!;
    const t = { address: pack.address, variant };
    const snapshot = run(sim, ops.readParameters!(t));
    send(sim, ops.writeParameters!({ ...t, snapshot }, { cell_ov_l1_mv: 3520 }));
    expect(pack.parameters().cell_ov_l1_mv).toBe(3520);
    const before = pack.parameters();
    // Above the LFP chemistry limit: the firmware refuses it, the reply says so.
    const steps = ops.writeParameters!(
      { ...t, snapshot: run(sim, ops.readParameters!(t)) },
      { cell_ov_l2_mv: 3900 },
    );
    expect(() => send(sim, steps)).toThrow(/refused/);
    expect(pack.parameters()).toEqual(before);
  });

  it('sets and reads its clock as wall time', () => {
    const sim = simulate(variant);
    const pack = sim.packs[0]!;
    const wall = Date.UTC(2027, 0, 2, 3, 4, 5);
    send(sim, ops.setClock!({ address: pack.address }, wall));
    expect(pack.clock()).toBe(wall);
    sim.clock.advance(2000);
    sim.bus.advance();
    expect(run(sim, ops.readClock!({ address: pack.address })).raw?.clock_wall_ms).toBe(
      wall + 2000,
    );
  });

  it('restores its defaults and shuts down (the unverified commands, as the simulator models them)', () => {
    const sim = simulate(variant);
    const pack = sim.packs[0]!;
    pack.writeParameters({ balance_start_mv: 3390 });
    send(sim, ops.restoreDefaults!({ address: pack.address }));
    expect(pack.parameters().balance_start_mv).toBe(pack.defaults().balance_start_mv);
    send(sim, ops.shutdown!({ address: pack.address }));
    expect(pack.snapshot()).toMatchObject({ charge_mos: false, discharge_mos: false });
  });

  it('answers only its own address on a bus of 16', () => {
    const sim = simulate(variant, 'idle', 16);
    sim.packs.forEach((p, i) => p.setSoc(20 + 4 * i));
    for (const p of sim.packs) {
      const r = run(sim, def.readSession({ address: p.address, variant }));
      expect(r.soc_pct).toBeCloseTo(p.snapshot().soc_pct!, 0);
    }
  });
});

describe('simulated seplos v2 only', () => {
  it('carries alarms with their levels in the 0x44 events', () => {
    const sim = simulate('v2');
    const pack = sim.packs[0]!;
    pack.activeAlarms = () => [
      makeAlarm('cell_ov', { level: 2 }),
      makeAlarm('mos_ot', { level: 1 }),
      makeAlarm('dsg_oc', { level: 3 }),
      makeAlarm('temp_sensor_fault'),
    ];
    const r = run(sim, def.readSession({ address: 0 }));
    expect(r.raw?.alarms).toEqual([
      'temp_sensor_fault',
      'cell_ov_protect',
      'power_ot_alarm',
      'transient_oc_protect',
    ]);
  });

  it('switches the MOSFETs with 0x45 and keeps the interlock', () => {
    const sim = simulate('v2', 'constant:-10');
    const pack = sim.packs[0]!;
    // Charge MOSFET off while discharging: the firmware refuses (RTN 06).
    expect(() => send(sim, v2.setMos!({ address: 0 }, 'charge', false))).toThrow(/refused/);
    send(sim, v2.setMos!({ address: 0 }, 'discharge', false));
    expect(pack.snapshot().discharge_mos).toBe(false);
  });

  it('selects the CAN protocol with 0xA6 and names it in 0x51', () => {
    const sim = simulate('v2');
    const pack = sim.packs[0]!;
    send(sim, v2.setInverterProtocol!({ address: 0 }, { can: 3 }));
    expect(canProtocolOfPack(pack)).toBe(3);
    const r = run(sim, v2.readInverterProtocol!({ address: 0 }));
    expect(r.raw?.inverter_protocol).toEqual({ can: 3 });
    expect(r.raw?.manufacturer).toBe('CANProtocol:Victron');
  });

  it('answers the clone tool request with LENGTH in bytes (F001) like a standard one', () => {
    const sim = simulate('v2');
    const req = def.encode({
      command: 'telesignalling',
      address: 0,
      args: { length_in_bytes: true },
    });
    expect(String.fromCharCode(...req.subarray(9, 13))).toBe('F001');
    const r = sim.bus.respond(req);
    const reply = def.decode(
      r!.pieces.reduce((a, b) => Uint8Array.from([...a, ...b])),
      { request: req },
    );
    expect(reply.raw?.rtn).toBe(0);
    expect(reply.cell_count).toBe(16);
  });

  it('answers a CID2 it does not have with RTN 04 (as real units do to 0x93)', () => {
    const sim = simulate('v2');
    const req = def.encode({ command: 'raw_request', address: 0, args: { cid2: 0x93 } });
    const r = sim.bus.respond(req);
    const reply = def.decode(r!.pieces.reduce((a, b) => Uint8Array.from([...a, ...b])));
    expect(reply.raw).toMatchObject({ rtn: 4, error_response: true });
  });
});

describe('simulated seplos v3 over real links', () => {
  it.each(['pty', 'tcp'] as const)('is read by readPack over %s', async (kind) => {
    const sim = simulate('v3', 'constant:-12.3');
    const l = kind === 'pty' ? await servePty(sim.bus) : await serveTcp(sim.bus);
    cleanups.push(l.close);
    const t = createTransport(l.endpoint, { baud: sim.bus.opts.baud });
    await t.open();
    cleanups.push(() => t.close());
    const { reading, stats } = await readPack(
      t,
      def,
      { address: 0, variant: 'v3' },
      { timeoutMs: 500, retries: 1, gapMs: 1 },
    );
    expect(differences(reading, sim.packs[0]!.snapshot(), metricsOf('v3'))).toEqual([]);
    expect(reading.info?.model).toBe(sim.packs[0]!.info.model);
    expect(stats.retries).toBe(0);
  });

  it('refuses a read outside its register map with exception 02', () => {
    const sim = simulate('v3');
    const req = def.encode({
      command: 'read_input',
      address: 0,
      args: { start: 0x1f00, count: 2 },
    });
    const r = sim.bus.respond(req);
    const reply = def.decode(
      r!.pieces.reduce((a, b) => Uint8Array.from([...a, ...b])),
      { request: req },
    );
    expect(reply.raw).toMatchObject({ exception: true, exception_code: 2 });
  });
});
