import { describe, expect, it } from 'vitest';
import { BmsError, makeAlarm, type Alarm, type Reading } from '@openbms/core';
import {
  buildFrame,
  decodeDaly,
  definition,
  encodeDaly,
  FAULT_BITS,
} from '@openbms/protocols/daly';
import type { Request } from '@openbms/protocols';
import { FakePack, type FakePackOptions } from '../../testing/fake-pack.js';
import type { BusView, SimPackApi } from '../../types.js';
import { device } from './index.js';

const HOST = 0x40;

/** A FakePack at board 1 (host byte 0x40), the address a single DALY answers on. */
const fake = (o: FakePackOptions = {}): FakePack => new FakePack({ address: HOST, ...o });

function busOf(packs: SimPackApi[]): BusView {
  return { packs, byAddress: (a) => packs.find((p) => p.address === a) };
}

/** Frames `bytes` with a fresh framer; expects only whole frames. */
function frames(
  framer: ReturnType<typeof definition.createFramer>,
  bytes: Uint8Array,
): Uint8Array[] {
  const ev = [...framer.push(bytes), ...framer.end()];
  expect(ev.every((e) => e.type === 'frame')).toBe(true);
  return ev.map((e) => e.bytes);
}

/** Routes one request like the bus does: framer -> addressOf -> pack -> handle. */
function transact(bus: BusView, request: Uint8Array): Uint8Array | undefined {
  const [req] = frames(device.createRequestFramer(), request);
  expect(req).toEqual(request);
  const addr = device.addressOf(req!);
  const pack = addr === undefined ? bus.packs[0] : bus.byAddress(addr);
  return pack ? device.handle(req!, pack, bus) : undefined;
}

/** Runs the family's whole read cycle against the simulated device. */
function readCycle(bus: BusView, host = HOST): Reading {
  const session = definition.readSession({ address: host });
  let steps = 0;
  for (let step = session.next(); step; step = session.next()) {
    steps++;
    const reply = transact(bus, step.request);
    expect(reply, step.name).toBeDefined();
    const got = frames(definition.createFramer(), reply!).filter((f) => step.accepts(f));
    expect(step.complete(got), step.name).toBe(true);
    session.accept(step, got);
  }
  expect(steps).toBeGreaterThanOrEqual(8);
  return session.result();
}

const near = (got: number | undefined, want: number | undefined, res: number): void => {
  expect(got).toBeDefined();
  expect(Math.abs(got! - want!)).toBeLessThanOrEqual(res / 2 + 1e-9);
};

const alarmKeys = (alarms: readonly Alarm[]): string[] =>
  alarms.map((a) => `${a.code}/${a.level ?? '-'}`).sort();

/** Compares a read cycle's result with the pack's snapshot, field by field. */
function expectMatches(r: Reading, s: Reading): void {
  near(r.voltage_v, s.voltage_v, 0.1);
  near(r.current_a, s.current_a, 0.1);
  near(r.soc_pct, s.soc_pct, 0.1);
  near(r.remaining_ah, s.remaining_ah, 0.001);
  expect(r.cycles).toBe(s.cycles);
  expect(r.cell_count).toBe(s.cell_mv!.length);
  expect(r.cell_mv).toEqual(s.cell_mv);
  // One frame per three cells, numbered from 1.
  const cellFrames = Math.ceil(s.cell_mv!.length / 3);
  expect(r.raw?.cell_frame_numbers).toEqual(Array.from({ length: cellFrames }, (_, i) => i + 1));
  expect(r.max_cell_mv).toBe(s.max_cell_mv);
  expect(r.min_cell_mv).toBe(s.min_cell_mv);
  expect(r.max_cell_index).toBe(s.max_cell_index);
  expect(r.min_cell_index).toBe(s.min_cell_index);
  expect(r.temp_sensor_count).toBe(s.temps_c!.length);
  expect(r.temps_c!.length).toBe(s.temps_c!.length);
  r.temps_c!.forEach((t, i) => near(t, s.temps_c![i], 1));
  near(r.max_temp_c, s.max_temp_c, 1);
  near(r.min_temp_c, s.min_temp_c, 1);
  expect(r.charge_mos).toBe(s.charge_mos);
  expect(r.discharge_mos).toBe(s.discharge_mos);
  expect(r.state).toBe(s.state);
  expect(r.cell_balancing).toEqual(s.cell_balancing);
  expect(r.balancing).toBe(s.cell_balancing!.some(Boolean));
  expect(r.charger_connected).toBe(s.current_a! > 0.05);
  expect(r.load_connected).toBe(s.current_a! < -0.05);
  expect(alarmKeys(r.alarms ?? [])).toEqual(alarmKeys(s.alarms ?? []));
}

/** A FakePack with a chosen balancing pattern. */
class BalancingPack extends FakePack {
  constructor(
    o: FakePackOptions,
    private readonly balancingCells: readonly number[],
  ) {
    super({ address: HOST, ...o });
  }
  override snapshot(): Reading {
    const s = super.snapshot();
    s.cell_balancing = s.cell_mv!.map((_, i) => this.balancingCells.includes(i));
    s.balancing = s.cell_balancing.some(Boolean);
    return s;
  }
}

describe('daly device: full read cycle', () => {
  for (const cells of [4, 16, 48]) {
    it(`round-trips a ${cells}S pack`, () => {
      const pack = fake({ cells });
      const r = readCycle(busOf([pack]));
      expectMatches(r, pack.snapshot());
      expect(r.current_a).toBeLessThan(0); // discharging -12.3 A
    });
  }

  it('carries the current sign, 2 and 3 temperature frames, an open sensor and balancing', () => {
    const pack = new BalancingPack({ cells: 48, current_a: 20.5, openSensor: 2 }, [0, 7, 8, 47]);
    pack.temps_c = Array.from({ length: 9 }, (_, i) => 20 + i * 1.4);
    expectMatches(readCycle(busOf([pack])), pack.snapshot());
    pack.temps_c = Array.from({ length: 21 }, (_, i) => -10 + i * 3);
    const r = readCycle(busOf([pack]));
    expectMatches(r, pack.snapshot());
    expect(r.temps_c![2]).toBe(-40);
    expect(r.state).toBe('charging');
    expect(r.raw?.temp_frame_numbers).toEqual([1, 2, 3]);
  });

  it('reports idle at zero current', () => {
    const pack = fake({ cells: 16, current_a: 0 });
    const r = readCycle(busOf([pack]));
    expectMatches(r, pack.snapshot());
    expect(r.current_a).toBe(0);
  });

  it('maps active alarms back to the 0x98 flags with their levels', () => {
    const alarms = [
      makeAlarm('cell_ov', { level: 2 }),
      makeAlarm('cell_uv', { level: 1 }),
      makeAlarm('dsg_oc', { level: 1 }),
      makeAlarm('chg_ot', { level: 2 }),
      makeAlarm('soc_low', { level: 1 }),
      makeAlarm('cell_diff', { level: 1 }),
      makeAlarm('temp_diff', { level: 2 }),
      makeAlarm('mos_ot'),
      makeAlarm('temp_sensor_fault'),
      makeAlarm('short_circuit'),
      makeAlarm('low_voltage_no_charge'),
      makeAlarm('eeprom_fault'),
      makeAlarm('chg_mos_fault'),
    ];
    const pack = fake({ alarms });
    const r = readCycle(busOf([pack]));
    expect(alarmKeys(r.alarms!)).toEqual(alarmKeys(alarms));
  });

  it('puts alarms without a DALY flag on the nearest flag or the fault code', () => {
    const pack = fake({
      current_a: 5,
      alarms: [
        makeAlarm('cell_ot', { level: 2 }),
        makeAlarm('fault_other', { source: 'fault_code_7' }),
        makeAlarm('insulation'),
      ],
    });
    const reply = transact(busOf([pack]), encodeDaly({ command: 'failure_status' }))!;
    const d = decodeDaly(reply);
    expect(d.raw?.alarms).toEqual(['chg_ot_l2']);
    expect(d.raw?.fault_code).toBe(7);
  });

  it('answers reads with the 0xAA filler and the Bluetooth host byte', () => {
    const pack = fake({ address: 0x40 });
    const bus = busOf([pack]);
    const aa = encodeDaly({ command: 'pack_status', args: { fill: 0xaa } });
    near(decodeDaly(transact(bus, aa)!).voltage_v, pack.snapshot().voltage_v, 0.1);
    expect(readCycle(bus, 0x80).cell_mv).toEqual(pack.snapshot().cell_mv);
  });
});

describe('daly device: 16 boards on one RS485 bus', () => {
  it('gives 0x40..0x4F and each request reaches its own pack', () => {
    const addrs = device.addresses(16);
    expect(addrs).toEqual(Array.from({ length: 16 }, (_, i) => 0x40 + i));
    const packs = addrs.map((address, index) => {
      const p = new FakePack({ address, index, cells: 4 + index, current_a: index - 8 });
      p.soc_pct = 10 + index * 5;
      return p;
    });
    const bus = busOf(packs);
    for (const p of packs) {
      expect(device.addressOf(encodeDaly({ command: 'pack_status', address: p.address }))).toBe(
        p.address,
      );
      expectMatches(readCycle(bus, p.address), p.snapshot());
    }
  });

  it('rejects more than 16 boards', () => {
    expect(() => device.addresses(17)).toThrow(BmsError);
  });
});

describe('daly device: writes', () => {
  const send = (pack: FakePack, req: Request | Uint8Array): Reading => {
    const bytes = req instanceof Uint8Array ? req : encodeDaly(req);
    return decodeDaly(transact(busOf([pack]), bytes)!);
  };

  it('switches the MOSFETs and echoes the new state', () => {
    const pack = fake({ current_a: 0 });
    expect(send(pack, { command: 'set_charge_mos', args: { on: false } }).charge_mos).toBe(false);
    expect(pack.charge_mos).toBe(false);
    expect(send(pack, { command: 'set_discharge_mos', args: { on: false } }).discharge_mos).toBe(
      false,
    );
    expect(pack.discharge_mos).toBe(false);
    expect(send(pack, { command: 'set_charge_mos', args: { on: true } }).raw?.state).toBe(1);
    expect(pack.charge_mos).toBe(true);
    const r = readCycle(busOf([pack]));
    expect([r.charge_mos, r.discharge_mos]).toEqual([true, false]);
  });

  it('echoes the unchanged state when the pack refuses', () => {
    const pack = fake({ current_a: -12.3 });
    const r = send(pack, { command: 'set_charge_mos', args: { on: false } });
    expect(r.charge_mos).toBe(true);
    expect(r.raw?.state).toBe(1);
    expect(pack.charge_mos).toBe(true);
  });

  it('sets the SOC and the clock with 0x21', () => {
    const pack = fake();
    const r = send(pack, {
      command: 'set_soc',
      args: { soc_pct: 80.5, year: 2024, month: 5, day: 17, hour: 13, minute: 45, second: 9 },
    });
    expect(r.raw?.success).toBe(true);
    expect(pack.soc_pct).toBe(80.5);
    expect(pack.clock()).toBe(Date.UTC(2024, 4, 17, 13, 45, 9));
    const before = pack.clock();
    expect(send(pack, { command: 'set_soc', args: { soc_pct: 12 } }).raw?.success).toBe(true);
    expect(pack.soc_pct).toBe(12);
    expect(pack.clock()).toBe(before);
    near(readCycle(busOf([pack])).soc_pct, 12, 0.1);
  });

  it('refuses a SOC above 100 % or an impossible date, changing nothing', () => {
    const pack = fake();
    const clock = pack.clock();
    const tooHigh = buildFrame(HOST, 0x21, [0, 0, 0, 0, 0, 0, 0x03, 0xf3]); // 101.1 %
    expect(send(pack, tooHigh).raw?.success).toBe(false);
    const feb30 = buildFrame(HOST, 0x21, [24, 2, 30, 10, 0, 0, 0x01, 0xf4]); // 50 %
    expect(send(pack, feb30).raw?.success).toBe(false);
    expect(pack.soc_pct).toBe(62.5);
    expect(pack.clock()).toBe(clock);
  });

  it('restarts: user switches back on, zero ack frame', () => {
    const pack = fake({ current_a: 0 });
    pack.setMos('discharge', false);
    const r = send(pack, { command: 'restart' });
    expect(r.raw?.command).toBe('restart');
    expect(pack.discharge_mos).toBe(true);
  });
});

describe('daly device: garbage and unknown commands', () => {
  const pack = fake();
  const bus = busOf([pack]);
  const tryHandle = (b: Uint8Array): void => {
    try {
      const out = device.handle(b, pack, bus);
      if (out !== undefined)
        expect(() => decodeDaly(out, { cells: 16, tempSensors: 4 })).not.toThrow();
    } catch (e) {
      expect(e).toBeInstanceOf(BmsError);
    }
  };

  it('stays silent on broken frames and on other BMS replies', () => {
    expect(device.handle(new Uint8Array(0), pack, bus)).toBeUndefined();
    const req = encodeDaly({ command: 'pack_status' });
    const bad = req.slice();
    bad[12] = req[12]! ^ 0xff;
    expect(device.handle(bad, pack, bus)).toBeUndefined();
    expect(device.handle(buildFrame(0x01, 0x90, []), pack, bus)).toBeUndefined();
    expect(device.addressOf(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });

  it('throws BmsError for unknown data ids and survives every id and random bytes', () => {
    expect(() => device.handle(buildFrame(HOST, 0x50, []), pack, bus)).toThrow(BmsError);
    for (let id = 0; id < 256; id++) {
      for (const fill of [0x00, 0x01, 0xaa, 0xff]) {
        const p = fake({ current_a: 0 });
        try {
          const out = device.handle(buildFrame(HOST, id, new Array<number>(8).fill(fill)), p, bus);
          if (out !== undefined) decodeDaly(out, { cells: 16, tempSensors: 4 });
        } catch (e) {
          expect(e).toBeInstanceOf(BmsError);
        }
      }
    }
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const framer = device.createRequestFramer();
    for (let n = 0; n < 2000; n++) {
      const len = 1 + (rnd() % 40);
      const buf = Uint8Array.from({ length: len }, () => (rnd() < 40 ? 0xa5 : rnd()));
      if (len >= 13 && rnd() < 128) {
        buf.set(buildFrame(rnd(), rnd() < 128 ? 0x90 + (rnd() % 9) : rnd(), [rnd(), rnd()]), 0);
      }
      tryHandle(buf);
      for (const ev of framer.push(buf)) if (ev.type === 'frame') tryHandle(ev.bytes);
    }
  });

  it('every fault bit of the family table is reachable from its own alarm', () => {
    FAULT_BITS.forEach((b, i) => {
      if (!b) return;
      const alarm = makeAlarm(b.code, { source: b.id, ...(b.level ? { level: b.level } : {}) });
      const p = fake({ alarms: [alarm] });
      const d = decodeDaly(device.handle(encodeDaly({ command: 'failure_status' }), p, bus)!);
      expect(d.raw?.alarms, `bit ${i}`).toEqual([b.id]);
    });
  });
});
