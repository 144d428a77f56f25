import { BmsError, makeAlarm, type Alarm, type Reading } from '@openbms/core';
import { crc16Modbus, type FramerEvent, type ReadOptions } from '@openbms/protocols';
import { definition, SETTINGS } from '@openbms/protocols/jk';
import { describe, expect, it } from 'vitest';
import { FakePack } from '../../testing/fake-pack.js';
import type { BusView, DeviceProtocol, SimPackApi } from '../../types.js';
import { device, deviceJk02_24s } from './index.js';

const frames = (ev: FramerEvent[]): Uint8Array[] =>
  ev.flatMap((e) => (e.type === 'frame' ? [e.bytes] : []));

function busOf(packs: SimPackApi[]): BusView {
  return { packs, byAddress: (a) => packs.find((p) => p.address === a) };
}

/** Sends `request` through the device's request framer and the bus, returns the reply. */
function exchange(dev: DeviceProtocol, bus: BusView, request: Uint8Array): Uint8Array | undefined {
  const req = frames(dev.createRequestFramer().push(request));
  expect(req).toHaveLength(1);
  const addr = dev.addressOf(req[0]!);
  const pack = addr === undefined ? bus.packs[0] : bus.byAddress(addr);
  expect(pack).toBeDefined();
  return dev.handle(req[0]!, pack!, bus);
}

/** A whole read cycle of the family's own read session against the device. */
function readCycle(dev: DeviceProtocol, bus: BusView, opts: ReadOptions): Reading {
  const session = definition.readSession(opts);
  for (let step = session.next(); step; step = session.next()) {
    const reply = exchange(dev, bus, step.request);
    expect(reply).toBeDefined();
    const got = frames(definition.createFramer().push(reply!));
    expect(got.every((f) => step.accepts(f))).toBe(true);
    expect(step.complete(got)).toBe(true);
    session.accept(step, got);
  }
  return session.result();
}

const PROTECTIONS: Alarm[] = [
  makeAlarm('cell_ov', { level: 2 }),
  makeAlarm('dsg_ot', { level: 2 }),
  makeAlarm('short_circuit'),
  makeAlarm('cell_diff', { level: 1 }),
];

function expectSettings(r: Reading, pack: SimPackApi, is32: boolean): void {
  const params = pack.parameters();
  const raw = r.raw!;
  for (const f of SETTINGS) {
    if (!f.param || params[f.param] === undefined || (f.only32 && !is32)) continue;
    expect(Number(raw[f.key]) * (f.paramScale ?? 1), f.param).toBeCloseTo(params[f.param]!, 6);
  }
  if (is32) expect(raw.device_address).toBe(pack.address);
}

function expectCellInfo(r: Reading, s: Reading, maxCells: number): void {
  const cells = s.cell_mv!.slice(0, maxCells);
  expect(r.cell_mv).toEqual(cells);
  expect(r.cell_count).toBe(cells.length);
  expect(r.voltage_v).toBeCloseTo(s.voltage_v!, 3);
  expect(r.current_a).toBeCloseTo(s.current_a!, 3);
  expect(Math.abs(r.soc_pct! - s.soc_pct!)).toBeLessThanOrEqual(0.5);
  expect(r.soh_pct).toBe(Math.round(s.soh_pct!));
  expect(r.remaining_ah).toBeCloseTo(s.remaining_ah!, 3);
  expect(r.full_ah).toBeCloseTo(s.full_ah!, 3);
  expect(r.design_ah).toBeCloseTo(s.design_ah!, 3);
  expect(r.cycles).toBe(s.cycles);
  expect(r.temps_c).toEqual(s.temps_c!.slice(0, 2));
  expect(r.mos_temp_c).toBeCloseTo(s.mos_temp_c!, 1);
  expect(r.charge_mos).toBe(s.charge_mos);
  expect(r.discharge_mos).toBe(s.discharge_mos);
  expect(r.balancing).toBe(s.balancing);
}

describe('jk device: JK-PB RS485 read cycle', () => {
  for (const [dev, variant, max] of [
    [device, 'JK02_32S', 32],
    [deviceJk02_24s, 'JK02_24S', 24],
  ] as const) {
    for (const cells of [4, 16, max]) {
      it(`${variant}, ${cells} cells: the session reads back the snapshot`, () => {
        const pack = new FakePack({ address: 3, cells, alarms: PROTECTIONS });
        const r = readCycle(dev, busOf([pack]), { address: 3, variant });
        const s = pack.snapshot();
        expect(r.address).toBe(3);
        expectCellInfo(r, s, max);
        expectSettings(r, pack, variant === 'JK02_32S');
        // cell_diff (a level-1 warning) has no JK bit; the protections have.
        expect(r.alarms!.map((a) => a.code).sort()).toEqual(['cell_ov', 'dsg_ot', 'short_circuit']);
        expect(r.raw!.alarms).toContain('discharge_sc');
        expect(r.info).toMatchObject({
          model: pack.info.model,
          hw_version: pack.info.hw_version,
          sw_version: pack.info.sw_version,
          serial: pack.info.serial.slice(0, 11),
        });
        if (variant === 'JK02_32S') {
          expect(r.raw!.t3_c).toBe(s.temps_c![2]);
          expect(r.raw!.t4_c).toBe(s.temps_c![3]);
        }
      });
    }
  }

  it('charging current, an open sensor and 32S-only alarm bits', () => {
    const alarms = [makeAlarm('cell_ot', { level: 2 }), makeAlarm('dsg_oc', { level: 3 })];
    const pack = new FakePack({ current_a: 42.7, openSensor: 1, alarms });
    const r = readCycle(device, busOf([pack]), {});
    expect(r.current_a).toBeCloseTo(42.7, 3);
    expect(r.charger_connected).toBe(true);
    expect(r.temps_c).toEqual([24.5, -40]);
    expect(r.alarms!.map((a) => [a.code, a.level])).toEqual([
      ['cell_ot', undefined],
      ['dsg_oc', 3],
    ]);
  });

  it('a unit more than 24 cells on a 24S layout reports the first 24', () => {
    const pack = new FakePack({ cells: 32 });
    const r = readCycle(deviceJk02_24s, busOf([pack]), { variant: 'JK02_24S' });
    expect(r.cell_mv).toEqual(pack.snapshot().cell_mv!.slice(0, 24));
  });
});

describe('jk device: 4E57', () => {
  for (const cells of [4, 16, 24, 32]) {
    it(`${cells} cells: read-all reads back the snapshot`, () => {
      const pack = new FakePack({ cells, current_a: -12.34 });
      const r = readCycle(device, busOf([pack]), { variant: '4E57' });
      const s = pack.snapshot();
      expect(r.cell_mv).toEqual(s.cell_mv);
      expect(r.cell_count).toBe(cells);
      expect(r.voltage_v).toBeCloseTo(s.voltage_v!, 2);
      expect(r.current_a).toBeCloseTo(-12.34, 2);
      expect(Math.abs(r.soc_pct! - s.soc_pct!)).toBeLessThanOrEqual(0.5);
      expect(r.cycles).toBe(s.cycles);
      expect(r.design_ah).toBe(s.design_ah);
      expect(r.full_ah).toBe(Math.round(s.full_ah!));
      r.temps_c!.forEach((t, i) => expect(Math.abs(t - s.temps_c![i]!)).toBeLessThanOrEqual(0.5));
      expect(r.temps_c).toHaveLength(2);
      expect(r.mos_temp_c).toBe(s.mos_temp_c);
      expect(r.charge_mos).toBe(true);
      expect(r.discharge_mos).toBe(true);
      expect(r.balancing).toBe(true);
      expect(r.alarms!.map((a) => a.code)).toEqual(['cell_diff']);
      expect(r.info).toMatchObject({ sw_version: '1.2.3', protocol_version: '1' });
      expect(r.raw!.board_address).toBe(pack.address);
      expect(r.raw!.cell_ovp_mv).toBe(pack.parameters().cell_ov_l2_mv);
      expect(r.raw!.pack_ovp_v).toBeCloseTo(pack.parameters().pack_ov_l2_v!, 2);
      expect(r.raw!.charge_utp_c).toBe(pack.parameters().chg_ut_l2_c);
    });
  }

  it('negative temperatures and charging current', () => {
    const pack = new FakePack({ current_a: 3.21 });
    pack.temps_c = [-5, -12.4, 0, 0];
    pack.mos_temp_c = -1;
    const r = readCycle(device, busOf([pack]), { variant: '4E57' });
    expect(r.temps_c).toEqual([-5, -12]);
    expect(r.mos_temp_c).toBe(-1);
    expect(r.current_a).toBeCloseTo(3.21, 2);
  });

  it('writes: MOS switches, parameters, refusals read back unchanged', () => {
    const pack = new FakePack({ current_a: 5 });
    const bus = busOf([pack]);
    const write = (item: number, value: number): Reading =>
      definition.decode(
        exchange(device, bus, definition.encode({ command: 'nw_write', args: { item, value } }))!,
      );
    expect(write(0xab, 0).raw!.charge_switch).toBe(0);
    expect(pack.charge_mos).toBe(false);
    // Discharge MOS off while charging: the interlock refuses, the item stays 1.
    expect(write(0xac, 0).raw!.discharge_switch).toBe(1);
    expect(pack.discharge_mos).toBe(true);
    expect(write(0x90, 3600).raw!.cell_ovp_mv).toBe(3600);
    expect(pack.parameters().cell_ov_l2_mv).toBe(3600);
    expect(write(0xa5, -5).raw!.charge_utp_c).toBe(-5);
    expect(pack.parameters().chg_ut_l2_c).toBe(-5);
    expect(write(0x8e, 5800).raw!.pack_ovp_v).toBe(58);
    // Out of range: refused, unchanged.
    expect(write(0x90, 9000).raw!.cell_ovp_mv).toBe(3600);
    const read = definition.decode(
      exchange(device, bus, definition.encode({ command: 'nw_read', args: { item: 0x85 } }))!,
    );
    expect(read.soc_pct).toBe(63);
  });
});

describe('jk device: 16-pack bus', () => {
  it('addresses are 1..16, each request reaches its pack', () => {
    const addrs = device.addresses(16);
    expect(addrs).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const packs = addrs.map(
      (address, index) =>
        new FakePack({ address, index, cells: 8 + index, current_a: -1 - index / 10 }),
    );
    const bus = busOf(packs);
    for (const pack of packs) {
      const r = readCycle(device, bus, { address: pack.address });
      expect(r.address).toBe(pack.address);
      expect(r.cell_mv).toEqual(pack.cells);
      expect(r.current_a).toBeCloseTo(pack.current_a, 3);
      expect(r.raw!.device_address).toBe(pack.address);
    }
    expect(() => device.addresses(17)).toThrow(BmsError);
  });
});

describe('jk device: JK-PB Modbus map and 55AA commands', () => {
  const mbWrite = (address: number, register: number, values: number[]): Uint8Array =>
    definition.encode({ command: 'modbus_write', address, args: { register, values } });

  it('FC 0x10 settings writes change the pack and are acknowledged', () => {
    const pack = new FakePack({ address: 2, current_a: 5 });
    const bus = busOf([pack]);
    const ack = definition.decode(exchange(device, bus, mbWrite(2, 0x100c, [0, 3600]))!);
    expect(ack).toMatchObject({ address: 2, raw: { ack_register: 0x100c, ack_count: 2 } });
    expect(pack.parameters().cell_ov_l2_mv).toBe(3600);
    // Two fields at once: charge OTP / recovery (0.1 degC, signed).
    exchange(device, bus, mbWrite(2, 0x104c, [0, 500, 0, 450]));
    expect(pack.parameters()).toMatchObject({ chg_ot_l2_c: 50, chg_ot_l2_recover_c: 45 });
    // Charge switch off (record offset 118 -> 0x1070) while charging: allowed.
    exchange(device, bus, mbWrite(2, 0x1070, [0, 0]));
    expect(pack.charge_mos).toBe(false);
    const r = readCycle(device, bus, { address: 2 });
    expect(r.raw!.cell_ovp_v).toBe(3.6);
    expect(r.raw!.charge_switch).toBe(false);
    expect(r.charge_mos).toBe(false);
  });

  it('refusals are Modbus exceptions and change nothing', () => {
    const pack = new FakePack({ address: 2, current_a: 5 });
    const bus = busOf([pack]);
    const code = (req: Uint8Array): unknown => {
      try {
        definition.decode(exchange(device, bus, req)!);
      } catch (e) {
        return (e as BmsError).details?.exception;
      }
      return 'no error';
    };
    expect(code(mbWrite(2, 0x1074, [0, 0]))).toBe(4); // discharge off while charging
    expect(pack.discharge_mos).toBe(true);
    expect(code(mbWrite(2, 0x100c, [0, 9000]))).toBe(3); // out of range
    expect(pack.parameters().cell_ov_l2_mv).toBe(3650);
    expect(code(mbWrite(2, 0x100e, [0, 1]))).toBe(2); // not a field start
    expect(code(mbWrite(2, 0x1612, [0]))).toBe(2); // unknown control register
    const single = definition.encode({
      command: 'modbus_write_single',
      address: 2,
      args: { register: 0x1600, value: 1 },
    });
    expect(code(single)).toBe(1);
  });

  it('FC 0x03 reads the map big-endian', () => {
    const pack = new FakePack({ address: 1 });
    const bus = busOf([pack]);
    const read = (register: number, count: number): number[] =>
      definition.decode(
        exchange(
          device,
          bus,
          definition.encode({ command: 'modbus_read', address: 1, args: { register, count } }),
        )!,
      ).raw!.registers as number[];
    expect(read(0x100c, 2)).toEqual([0, 3650]);
    expect(read(0x1200, 3)).toEqual(pack.cells.slice(0, 3));
    expect(read(0x1200 + 144, 2)).toEqual([0, Math.round(pack.snapshot().voltage_v! * 1000)]);
    expect(read(0x1400, 2)).toEqual([0x4f42, 0x4d53]); // "OBMS"
    expect(() => read(0x1800, 2)).toThrow(BmsError); // no such block
    expect(() => read(0x1000 + 290, 4)).toThrow(BmsError); // past the settings
  });

  it('55AA commands: records, MOS switches and settings writes', () => {
    const pack = new FakePack({ current_a: 5 });
    const bus = busOf([pack]);
    const send = (command: string, args?: Record<string, number | boolean>): Uint8Array[] =>
      frames(
        definition
          .createFramer()
          .push(exchange(device, bus, definition.encode(args ? { command, args } : { command }))!),
      );
    const [settings, cell] = send('ble_cell_info');
    expect(definition.decode(cell!, { variant: 'JK02_32S' }).cell_mv).toEqual(pack.cells);
    expect(definition.decode(settings!).design_ah).toBe(100);
    expect(definition.decode(send('ble_device_info')[0]!).info!.model).toBe(pack.info.model);
    send('set_charge_mos', { on: false });
    expect(pack.charge_mos).toBe(false);
    const w = send('ble_write', { register: 0x04, value: 3600 });
    expect(definition.decode(w[0]!).raw!.cell_ovp_v).toBe(3.6);
    expect(pack.parameters().cell_ov_l2_mv).toBe(3600);
    send('ble_write', { register: 0x22, value: 3350 });
    expect(pack.parameters().balance_start_mv).toBe(3350);
    // A setting without a catalog id (SOC-100 % voltage) is kept and reads back.
    expect(
      definition.decode(send('ble_write', { register: 0x07, value: 3500 })[0]!).raw!.soc100_v,
    ).toBe(3.5);
    // Refused: discharge off while charging; the settings record still says on.
    const refused = send('set_discharge_mos', { on: false });
    expect(definition.decode(refused[0]!).raw!.discharge_switch).toBe(true);
    expect(pack.discharge_mos).toBe(true);
  });
});

describe('jk device: garbage and unknown commands', () => {
  it('unknown Modbus functions get exception 1; bad CRC stays silent', () => {
    const pack = new FakePack({ address: 1 });
    const bus = busOf([pack]);
    const fc4 = Uint8Array.from([1, 4, 0x12, 0, 0, 2, 0, 0]);
    const c = crc16Modbus(fc4, 0, 6);
    fc4[6] = c & 0xff;
    fc4[7] = c >> 8;
    let err: unknown;
    try {
      exchange(device, bus, fc4);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BmsError);
    const exc = device.errorReply!(fc4, err);
    expect(() => definition.decode(exc!)).toThrow(/exception 1/);
    const bad = fc4.slice();
    bad[7] = bad[7]! ^ 0xff;
    expect(device.errorReply!(bad, err)).toBeUndefined();
  });

  it('random bytes never crash the framer or the device', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 0xff;
    };
    const pack = new FakePack({ address: 1 });
    const bus = busOf([pack]);
    const valid = [
      definition.encode({ command: 'pb_read_status', address: 1 }),
      definition.encode({ command: 'nw_read_all' }),
      definition.encode({ command: 'ble_device_info' }),
    ];
    for (let round = 0; round < 300; round++) {
      const junk = Uint8Array.from({ length: 1 + (rnd() % 40) }, rnd);
      const v = valid[round % valid.length]!;
      if (round % 3 === 0) junk.set(v.subarray(0, Math.min(v.length, junk.length)));
      const framer = device.createRequestFramer();
      const got = [...frames(framer.push(junk)), ...frames(framer.end()), junk];
      for (const f of got) {
        try {
          device.handle(f, pack, bus);
        } catch (e) {
          expect(e).toBeInstanceOf(BmsError);
        }
      }
    }
    // Corrupted copies of valid requests.
    for (const v of valid) {
      for (let i = 0; i < v.length; i++) {
        const c = v.slice();
        c[i] = c[i]! ^ 0x5a;
        try {
          device.handle(c, pack, bus);
        } catch (e) {
          expect(e).toBeInstanceOf(BmsError);
        }
      }
    }
  });

  it('broadcast (unit 0) is applied but never answered', () => {
    const pack = new FakePack({ address: 1, current_a: 5 });
    const req = definition.encode({
      command: 'modbus_write',
      address: 0,
      args: { register: 0x100c, values: [0, 3600] },
    });
    expect(device.handle(req, pack, busOf([pack]))).toBeUndefined();
    expect(pack.parameters().cell_ov_l2_mv).toBe(3600);
    const trig = definition.encode({ command: 'pb_read_status', address: 0 });
    expect(device.handle(trig, pack, busOf([pack]))).toBeUndefined();
  });
});
