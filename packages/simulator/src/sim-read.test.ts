/**
 * End to end: every family's simulator served on a real pseudo-terminal (or TCP), read by
 * the real reader (`readPack`, what `openbms read` runs), and the reading compared with the
 * simulated pack's true state at that instant (the clock is frozen during the read).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BmsError } from '@openbms/core';
import { getProtocol } from '@openbms/protocols';
import {
  Exchanger,
  createTransport,
  readPack,
  type ExchangeOptions,
  type Transport,
} from '@openbms/transport';
import { ManualClock } from './clock.js';
import { DEVICES } from './devices/index.js';
import { servePty, serveTcp, type Listening } from './serve.js';
import { createSimulation, type Simulation, type SimulationOptions } from './simulation.js';
import type { SimPack } from './pack.js';
import { differences } from './testing/compare.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const START = Date.UTC(2026, 5, 21, 10, 0, 0);

function simulate(
  o: Partial<SimulationOptions> & { protocol: string },
): Simulation & { clock: ManualClock } {
  const clock = new ManualClock(START);
  const sim = createSimulation({
    profile: 'constant:-12.3',
    seed: 3,
    initialSocPct: 63,
    turnaroundMs: 1,
    ...o,
    clock,
  });
  // Let the packs live a little (temperatures and voltages move), then freeze time.
  clock.advance(5 * 60_000);
  sim.bus.advance();
  return { ...sim, clock };
}

async function serve(sim: Simulation, kind: 'pty' | 'tcp'): Promise<Listening> {
  const l = kind === 'pty' ? await servePty(sim.bus) : await serveTcp(sim.bus);
  cleanups.push(l.close);
  return l;
}

async function open(endpoint: string, baud: number) {
  const t = createTransport(endpoint, { baud });
  await t.open();
  cleanups.push(() => t.close());
  return t;
}

// A loaded CI machine can delay a pseudo-terminal's reply past half a second; the retry then
// meets the late first reply (one CI run read address 14's status that way). Two seconds keep
// the exchange one request, one reply.
const EX: ExchangeOptions = { timeoutMs: 2000, retries: 1, gapMs: 1 };

async function readAndCompare(def: ReturnType<typeof getProtocol>, t: Transport, pack: SimPack) {
  const { reading, stats } = await readPack(t, def, { address: pack.address }, EX);
  const truth = pack.snapshot();
  return { reading, stats, truth, diff: differences(reading, truth, def.metrics) };
}

describe.each(DEVICES.map((d) => [d.id] as const))('simulated %s read back', (id) => {
  const def = getProtocol(id);

  it('one pack over a pseudo-terminal equals the model state', async () => {
    const sim = simulate({ protocol: id });
    const l = await serve(sim, 'pty');
    const t = await open(l.endpoint, sim.bus.opts.baud);
    const { diff, stats } = await readAndCompare(def, t, sim.packs[0]!);
    expect(diff).toEqual([]);
    expect(stats.retries).toBe(0);
  });

  it('a 16-pack bus: every address answers with its own pack', async () => {
    // JBD frames carry no address: sixteen packs are sixteen links.
    const buses =
      id === 'jbd'
        ? Array.from({ length: 16 }, (_, i) => simulate({ protocol: id, seed: 10 + i }))
        : [simulate({ protocol: id, packs: 16 })];
    const packs = buses.flatMap((b) => b.packs);
    expect(packs).toHaveLength(16);
    expect(
      new Set(packs.map((p) => `${buses.findIndex((b) => b.packs.includes(p))}/${p.address}`)).size,
    ).toBe(16);
    // Make the packs differ so a reply from the wrong pack cannot pass.
    packs.forEach((p, i) => p.setSoc(20 + i * 4));
    const socs = new Set<number>();
    for (const b of buses) {
      const l = await serve(b, 'pty');
      const t = await open(l.endpoint, b.bus.opts.baud);
      for (const p of b.packs) {
        const { diff, reading } = await readAndCompare(def, t, p);
        expect(diff, `address ${p.address}`).toEqual([]);
        if (reading.soc_pct !== undefined) socs.add(Math.round(reading.soc_pct));
      }
    }
    if (def.metrics.includes('soc_pct')) expect(socs.size).toBe(16);
  });
});

describe('Pylontech parallel system (seed 002): the all-packs reply', () => {
  it('answers INFO=0xFF with every pack of the bus', async () => {
    const sim = simulate({ protocol: 'pylontech', packs: 16 });
    sim.packs.forEach((p, i) => p.setSoc(30 + i * 3));
    const def = getProtocol('pylontech');
    const l = await serve(sim, 'tcp');
    const t = await open(l.endpoint, sim.bus.opts.baud);
    const master = sim.packs[0]!;
    const request = def.encode({ command: 'analog', address: master.address, args: { all: true } });
    const got = await new Promise<Uint8Array>((resolve) => {
      const f = def.createFramer();
      const off = t.onData((chunk) => {
        for (const ev of f.push(chunk)) {
          if (ev.type !== 'frame') continue;
          off();
          resolve(ev.bytes);
        }
      });
      void t.write(request);
    });
    const r = def.decode(got, { request });
    expect(r.packs).toHaveLength(16);
    r.packs!.forEach((p, i) => {
      expect(differences(p, sim.packs[i]!.snapshot(), []), `pack ${i}`).toEqual([]);
    });
  });
});

describe('injected faults: a clear error, counted retries, recovery when cleared', () => {
  // One exchanger per link, as the gateway will keep: its counters span every read.
  async function setup(faults: string[] = [], protocol = 'pylontech') {
    const def = getProtocol(protocol);
    const sim = simulate({ protocol, packs: 2, faults });
    const l = await serve(sim, 'tcp');
    const t = await open(l.endpoint, sim.bus.opts.baud);
    const ex = new Exchanger(t, def.createFramer());
    cleanups.push(async () => ex.dispose());
    const read = (address = sim.packs[0]!.address, o: Partial<ExchangeOptions> = {}) =>
      readPack(t, def, { address }, { ...EX, retries: 2, timeoutMs: 250, ...o }, ex);
    return { sim, read, stats: ex.stats };
  }

  const failure = async (p: Promise<unknown>): Promise<BmsError> => {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(BmsError);
    return e as BmsError;
  };

  it('no answer: TRANSPORT_TIMEOUT naming the address, then reads again once cleared', async () => {
    const { sim, read, stats } = await setup(['silent']);
    const e = await failure(read());
    expect(e.code).toBe('TRANSPORT_TIMEOUT');
    expect(e.message).toMatch(
      /^no answer from address 2 on tcp:\/\/127\.0\.0\.1:\d+ after 3 tries \(timeout 250 ms\)$/,
    );
    expect(stats.timeouts).toBe(3);
    expect(stats.retries).toBe(2);
    sim.bus.clearFaults();
    const ok = await read();
    expect(ok.reading.voltage_v).toBeGreaterThan(40);
    expect(stats.timeouts).toBe(3); // nothing more failed
  });

  it('late answer beyond the timeout fails; within it, it reads', async () => {
    const { sim, read } = await setup(['late:400']);
    expect((await failure(read(undefined, { retries: 0, timeoutMs: 150 }))).code).toBe(
      'TRANSPORT_TIMEOUT',
    );
    const slow = await read(undefined, { timeoutMs: 1500 });
    expect(slow.reading.cell_mv).toHaveLength(16);
    sim.bus.clearFaults('late');
    expect((await read(undefined, { retries: 0, timeoutMs: 150 })).reading.cell_mv).toHaveLength(
      16,
    );
  });

  it('corrupt checksums: every answer bad is FRAME_CHECKSUM; some bad are retried and counted', async () => {
    const { sim, read } = await setup(['corrupt']);
    const e = await failure(read());
    expect(e.code).toBe('FRAME_CHECKSUM');
    expect(e.message).toMatch(/had a bad checksum after 3 tries/);
    sim.bus.clearFaults();
    sim.bus.addFault({ kind: 'corrupt', arg: 0.3 });
    const r = await read(undefined, { retries: 5 });
    expect(r.stats.checksum_errors).toBeGreaterThan(0);
    expect(r.stats.retries).toBeGreaterThan(0);
    sim.bus.clearFaults();
    const clean = await read();
    expect(clean.reading.cell_mv).toHaveLength(16);
  });

  it('garbage between frames is discarded and counted, the values still arrive', async () => {
    const { sim, read } = await setup(['garbage']);
    const r = await read();
    expect(r.stats.discarded_bytes).toBeGreaterThan(0);
    const truth = sim.packs[0]!.snapshot();
    expect(r.reading.cell_mv).toEqual(truth.cell_mv);
  });

  it('truncated frames: an incomplete answer, retried; clean once cleared', async () => {
    const { sim, read } = await setup(['truncate']);
    const e = await failure(read());
    expect(e.code).toBe('TRANSPORT_TIMEOUT');
    expect(e.message).toMatch(/^incomplete answer to /);
    sim.bus.clearFaults();
    sim.bus.addFault({ kind: 'truncate', arg: 0.3 });
    const r = await read(undefined, { retries: 6 });
    expect(r.stats.retries).toBeGreaterThan(0);
    sim.bus.clearFaults();
    const retries = (await read()).stats.retries;
    expect((await read()).stats.retries).toBe(retries); // a clean read needs none
  });

  it('a pack leaving the bus stops answering while the others still do, and comes back', async () => {
    const { sim, read } = await setup(['offline@3']);
    expect((await failure(read(3))).message).toMatch(/no answer from address 3/);
    expect((await read(2)).reading.cell_mv).toHaveLength(16);
    sim.bus.clearFaults('offline');
    expect((await read(3)).reading.cell_mv).toHaveLength(16);
  });

  it('a cell drifting out of balance widens the spread until the cell-difference alarm', async () => {
    // DALY carries the cell-difference alarm (Pylontech has no field for it).
    const { sim, read } = await setup(['drift:5@64'], 'daly');
    sim.packs[0]!.profile = { name: 'idle', current: () => 0 };
    const before = (await read()).reading;
    sim.clock.advance(12 * 3_600_000);
    sim.bus.advance();
    const after = (await read()).reading;
    expect(after.cell_mv![4]!).toBeLessThan(before.cell_mv![4]! - 50);
    expect(after.delta_cell_mv!).toBeGreaterThan(before.delta_cell_mv! + 50);
    expect(after.alarms!.map((a) => a.code)).toContain('cell_diff');
    sim.bus.clearFaults('drift');
    expect(sim.packs[0]!.physics.cells[4]!.leakA).toBe(0);
    sim.clock.advance(3_600_000);
    sim.bus.advance();
    const healed = (await read()).reading;
    expect(healed.cell_mv![4]!).toBeGreaterThanOrEqual(after.cell_mv![4]! - 2); // no longer sinking
  });

  it('a failing temperature sensor reads open circuit with a sensor fault, and heals', async () => {
    const { sim, read } = await setup(['sensor-open:2@2']);
    sim.clock.advance(2000);
    const r = (await read()).reading;
    const truth = sim.packs[0]!.snapshot();
    expect(truth.temps_c![1]).toBe(-40);
    // Pylontech lists its board sensor first: sensor 2 of the cells is temps_c[2].
    expect(r.temps_c![2]).toBe(-40);
    expect(r.alarms!.map((a) => a.code)).toContain('temp_sensor_fault');
    sim.bus.clearFaults();
    sim.clock.advance(2000);
    const healed = (await read()).reading;
    expect(healed.temps_c![2]).toBeGreaterThan(0);
    expect((healed.alarms ?? []).map((a) => a.code)).not.toContain('temp_sensor_fault');
  });

  it('sudden over-current trips the discharge protection; it recovers after its delay once cleared', async () => {
    const { sim, read } = await setup(['overcurrent:400@64'], 'daly');
    sim.clock.advance(5000);
    const r = (await read()).reading;
    expect(r.discharge_mos).toBe(false);
    expect(r.alarms!.map((a) => a.code)).toEqual(expect.arrayContaining(['short_circuit']));
    sim.bus.clearFaults();
    sim.clock.advance(120_000);
    const later = (await read()).reading;
    expect(later.discharge_mos).toBe(true);
  });
});

describe('link timing', () => {
  it('a reply takes at least the time its bytes need at the configured baud rate, plus turnaround', async () => {
    const sim = simulate({ protocol: 'jk', baud: 9600, turnaroundMs: 20 });
    const def = getProtocol('jk');
    const l = await serve(sim, 'tcp');
    const t = await open(l.endpoint, 9600);
    const session = def.readSession({ address: sim.packs[0]!.address });
    const step = session.next()!;
    const expected = sim.bus.respond(step.request)!;
    const bytes = expected.pieces.reduce((n, p) => n + p.length, 0);
    const minMs = 20 + (bytes * 10 * 1000) / 9600; // 300-byte record: over 300 ms at 9600 baud
    const started = performance.now();
    const received = await new Promise<number>((resolve) => {
      let n = 0;
      t.onData((chunk) => {
        n += chunk.length;
        if (n >= bytes) resolve(performance.now() - started);
      });
      void t.write(step.request);
    });
    expect(received).toBeGreaterThanOrEqual(minMs - 1);
  });
});
