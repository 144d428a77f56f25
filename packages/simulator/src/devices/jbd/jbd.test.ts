import { describe, expect, it } from 'vitest';
import { BmsError, makeAlarm, type Alarm, type Reading } from '@openbms/core';
import type { Framer } from '@openbms/protocols';
import { buildFrame, decodeReply, definition, encodeRequest } from '@openbms/protocols/jbd';
import { FakePack } from '../../testing/fake-pack.js';
import type { BusView, SimPackApi } from '../../types.js';
import { device, inFactoryMode } from './index.js';
import { protectionWord, softwareByte } from './records.js';

const busOf = (packs: SimPackApi[]): BusView => ({
  packs,
  byAddress: (a) => packs.find((p) => p.address === a),
});

/** Pushes bytes through a framer and returns the single frame it yields. */
function frameOne(framer: Framer, bytes: Uint8Array): Uint8Array {
  const ev = framer.push(bytes);
  expect(ev.map((e) => e.type)).toEqual(['frame']);
  return ev[0]!.bytes;
}

/** Runs the family's read session against the device, through both framers. */
function readCycle(pack: SimPackApi, bus: BusView = busOf([pack])): Reading {
  const session = definition.readSession({});
  const reqFramer = device.createRequestFramer();
  const repFramer = definition.createFramer();
  for (let step = session.next(); step; step = session.next()) {
    const req = frameOne(reqFramer, step.request);
    expect(device.addressOf(req)).toBeUndefined();
    const rep = device.handle(req, pack, bus);
    expect(rep).toBeDefined();
    const frame = frameOne(repFramer, rep!);
    expect(step.accepts(frame)).toBe(true);
    expect(step.complete([frame])).toBe(true);
    session.accept(step, [frame]);
  }
  return session.result();
}

function send(pack: SimPackApi, command: string, args?: Record<string, boolean>): Reading {
  const req = encodeRequest(args ? { command, args } : { command });
  const rep = device.handle(req, pack, busOf([pack]));
  return decodeReply(rep!, { request: req });
}

/** Alarms JBD can carry: protections/faults with a protection bit. */
const JBD_CODES = new Set([
  'cell_ov',
  'cell_uv',
  'pack_ov',
  'pack_uv',
  'chg_ot',
  'chg_ut',
  'dsg_ot',
  'dsg_ut',
  'chg_oc',
  'dsg_oc',
  'short_circuit',
  'afe_fault',
  'chg_timeout',
]);
const expectedCodes = (alarms: readonly Alarm[]): string[] =>
  alarms
    .filter((a) => a.severity !== 'warning' && JBD_CODES.has(a.code))
    .map((a) => a.code)
    .sort();

function expectMatches(got: Reading, want: Reading): void {
  expect(got.voltage_v).toBeCloseTo(want.voltage_v!, 2);
  expect(Math.abs(got.current_a! - want.current_a!)).toBeLessThanOrEqual(0.005 + 1e-9);
  expect(Math.sign(got.current_a!)).toBe(Math.sign(want.current_a!));
  expect(Math.abs(got.soc_pct! - want.soc_pct!)).toBeLessThanOrEqual(0.5);
  expect(got.cell_count).toBe(want.cell_mv!.length);
  expect(got.cell_mv).toEqual(want.cell_mv!.map((v) => Math.round(v)));
  expect(got.temp_sensor_count).toBe(want.temps_c!.length);
  got.temps_c!.forEach((t, i) => expect(Math.abs(t - want.temps_c![i]!)).toBeLessThanOrEqual(0.05));
  expect(got.charge_mos).toBe(want.charge_mos);
  expect(got.discharge_mos).toBe(want.discharge_mos);
  expect(Math.abs(got.remaining_ah! - want.remaining_ah!)).toBeLessThanOrEqual(0.005 + 1e-9);
  expect(got.design_ah).toBeCloseTo(want.design_ah!, 2);
  expect(got.cycles).toBe(want.cycles);
  expect(got.cell_balancing).toEqual(want.cell_balancing);
  expect(got.balancing).toBe(want.balancing);
  expect(got.alarms!.map((a) => a.code).sort()).toEqual(expectedCodes(want.alarms ?? []));
  expect(got.info?.model).toBe(want.info?.model);
  expect(want.info?.sw_version?.startsWith(got.info!.sw_version!)).toBe(true);
  expect(got.info?.manufacture_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
}

describe('jbd device: read cycle', () => {
  for (const cells of [4, 16, 32]) {
    it(`round-trips a ${cells}S pack (discharging)`, () => {
      const pack = new FakePack({ cells });
      const got = readCycle(pack);
      expectMatches(got, pack.snapshot());
      expect(got.current_a).toBeLessThan(0);
    });
  }

  it('round-trips a charging pack with protections, an open sensor and balancing past cell 16', () => {
    const alarms = [
      makeAlarm('cell_ov', { level: 2 }),
      makeAlarm('chg_oc', { level: 2 }),
      makeAlarm('afe_fault'),
      makeAlarm('cell_diff', { level: 1 }),
      makeAlarm('cell_uv', { level: 1 }),
    ];
    const pack = new FakePack({ cells: 24, current_a: 37.456, alarms, openSensor: 2 });
    pack.soc_pct = 99.6;
    const orig = pack.snapshot.bind(pack);
    pack.snapshot = () => {
      const s = orig();
      s.cell_balancing = s.cell_mv!.map((_, i) => i === 1 || i === 20);
      return s;
    };
    const got = readCycle(pack);
    expectMatches(got, pack.snapshot());
    expect(got.current_a).toBeCloseTo(37.46, 2);
    expect(got.soc_pct).toBe(100);
    expect(got.temps_c![2]).toBe(-40);
    expect(got.alarms!.map((a) => a.code).sort()).toEqual(['afe_fault', 'cell_ov', 'chg_oc']);
    expect(got.cell_balancing!.filter(Boolean)).toHaveLength(2);
  });

  it('clamps values beyond the fields', () => {
    const pack = new FakePack({ cells: 8, current_a: -500 });
    const got = readCycle(pack);
    expect(got.current_a).toBe(-327.68);
  });

  it('reads the 0xAA error counters from pack.counters()', () => {
    const pack = new FakePack();
    const r = send(pack, 'read_error_counters');
    const counts = r.raw!.error_counts as Record<string, number>;
    expect(counts.cell_ov).toBe(1);
    expect(counts.dsg_oc).toBe(3);
    expect(counts.short_circuit).toBe(0);
    expect(counts.pack_uv).toBe(0);
  });
});

describe('jbd device: 16 links', () => {
  it('uses link indexes 0..n-1 and no address in the frames', () => {
    expect(device.addresses(16)).toEqual([...Array(16).keys()]);
    expect(device.addresses(0)).toEqual([]);
    expect(() => device.addresses(17)).toThrow(BmsError);
    expect(device.addressOf(encodeRequest({ command: 'read_basic_info' }))).toBeUndefined();
  });

  it('each link reaches its own pack', () => {
    const addrs = device.addresses(16);
    const packs = addrs.map(
      (address, index) =>
        new FakePack({ address, index, cells: 4 + index, current_a: -20 + 2.5 * index }),
    );
    const bus = busOf(packs);
    packs.forEach((pack) => {
      // No address in the frame: the bus hands the request to the pack of its link.
      expect(bus.byAddress(pack.address)).toBe(pack);
      expectMatches(readCycle(pack, bus), pack.snapshot());
    });
  });
});

describe('jbd device: commands', () => {
  it('0xE1 switches the MOSFETs and acknowledges with an empty OK reply', () => {
    const pack = new FakePack({ current_a: 0 });
    const req = encodeRequest({ command: 'mos_control', args: { charge: false, discharge: true } });
    const rep = device.handle(req, pack, busOf([pack]))!;
    expect(Array.from(rep)).toEqual([0xdd, 0xe1, 0x00, 0x00, 0x00, 0x00, 0x77]);
    expect(pack.charge_mos).toBe(false);
    expect(pack.discharge_mos).toBe(true);
    let basic = send(pack, 'read_basic_info');
    expect(basic.charge_mos).toBe(false);
    expect(basic.raw!.alarms).toContain('mos_software_lock');

    send(pack, 'mos_control', { charge: true, discharge: false });
    expect(pack.charge_mos).toBe(true);
    expect(pack.discharge_mos).toBe(false);

    send(pack, 'mos_control', { charge: true, discharge: true });
    basic = send(pack, 'read_basic_info');
    expect(basic.charge_mos && basic.discharge_mos).toBe(true);
    expect(basic.raw!.alarms).not.toContain('mos_software_lock');
  });

  it('0xE1 refused by the interlock answers status 0x80 and changes nothing', () => {
    const pack = new FakePack({ current_a: -12.3 });
    const req = encodeRequest({ command: 'mos_control', args: { charge: false, discharge: true } });
    const rep = device.handle(req, pack, busOf([pack]))!;
    expect(rep[2]).toBe(0x80);
    expect(() => decodeReply(rep, { request: req })).toThrow(
      expect.objectContaining({ code: 'DEVICE_ERROR_REPLY' }),
    );
    expect(pack.charge_mos).toBe(true);

    // Charging: the discharge half is refused, the charge half is put back.
    const charging = new FakePack({ current_a: 10 });
    charging.charge_mos = false;
    const both = device.handle(
      encodeRequest({ command: 'mos_control', args: { charge: true, discharge: false } }),
      charging,
      busOf([charging]),
    )!;
    expect(both[2]).toBe(0x80);
    expect(charging.charge_mos).toBe(false);
    expect(charging.discharge_mos).toBe(true);
  });

  it('factory mode enter / exit are acknowledged', () => {
    const pack = new FakePack();
    expect(send(pack, 'factory_mode_enter').raw).toMatchObject({ status: 0, register: 0x00 });
    expect(inFactoryMode(pack)).toBe(true);
    expect(send(pack, 'factory_mode_exit', { save: true }).raw).toMatchObject({ register: 0x01 });
    expect(inFactoryMode(pack)).toBe(false);
    send(pack, 'factory_mode_enter');
    send(pack, 'factory_mode_exit', { save: false });
    expect(inFactoryMode(pack)).toBe(false);
  });
});

describe('jbd device: odd input', () => {
  const pack = new FakePack();
  const bus = busOf([pack]);

  const tryHandle = (bytes: Uint8Array): Uint8Array | undefined => {
    try {
      return device.handle(bytes, pack, bus);
    } catch (e) {
      expect(e).toBeInstanceOf(BmsError);
      return device.errorReply!(bytes, e);
    }
  };

  it('answers unknown registers with status 0x80 and ignores broken frames', () => {
    for (const req of [
      buildFrame(0xa5, 0x60), // a register the board does not have
      buildFrame(0xa5, 0x03, [1]), // read with data
      buildFrame(0x5a, 0xe1, [0x00, 0x07]), // bad MOS bits
      buildFrame(0x5a, 0x00, [0x12, 0x34]), // wrong unlock word
      buildFrame(0x5a, 0xe2, [0x00, 0x01]), // balancer switch: not simulated
    ]) {
      const rep = tryHandle(req);
      expect(rep).toBeDefined();
      expect(rep![1]).toBe(req[2]);
      expect(rep![2]).toBe(0x80);
    }
    // An EEPROM register outside factory mode: 0x81, as the V1.3 capture shows.
    expect(tryHandle(buildFrame(0xa5, 0x24))![2]).toBe(0x81);
    const bad = encodeRequest({ command: 'read_basic_info' });
    bad[5] = bad[5]! ^ 1;
    expect(tryHandle(bad)).toBeUndefined();
    expect(tryHandle(new Uint8Array([]))).toBeUndefined();
    expect(tryHandle(new Uint8Array([0xdd, 0x03, 0x00, 0x00, 0x00, 0x00, 0x77]))).toBeUndefined();
  });

  it('survives random bytes', () => {
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
    for (let i = 0; i < 2000; i++) {
      const n = rnd() % 40;
      const bytes = new Uint8Array(n).map(() => rnd());
      if (n > 0 && i % 2 === 0) bytes[0] = 0xdd;
      const rep = tryHandle(bytes);
      if (rep) expect(rep[0]).toBe(0xdd);
    }
  });

  it('frames requests from a chunked stream', () => {
    const framer = device.createRequestFramer();
    const req = encodeRequest({ command: 'read_cell_voltages' });
    const stream = new Uint8Array([0x00, 0xff, ...req, ...req]);
    const frames = [...stream].flatMap((b) => framer.push(new Uint8Array([b])));
    expect(frames.filter((e) => e.type === 'frame')).toHaveLength(2);
  });
});

describe('jbd device: field helpers', () => {
  it('maps alarms to protection bits', () => {
    expect(protectionWord([makeAlarm('cell_ov', { level: 1 })], 0)).toBe(0);
    expect(protectionWord([makeAlarm('cell_ot', { level: 2 })], -5)).toBe(1 << 6);
    expect(protectionWord([makeAlarm('cell_ot', { level: 2 })], 5)).toBe(1 << 4);
    expect(protectionWord([makeAlarm('chg_timeout')], 5)).toBe(1 << 13);
    expect(protectionWord([makeAlarm('fault_other')], 5)).toBe(0);
  });
  it('packs the software version', () => {
    expect(softwareByte('1.2.3')).toBe(0x12);
    expect(softwareByte('V4')).toBe(0x40);
    expect(softwareByte('x')).toBe(0x10);
  });
});
