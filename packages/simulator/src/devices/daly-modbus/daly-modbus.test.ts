import { describe, expect, it } from 'vitest';
import { BmsError, makeAlarm, type Alarm, type Reading } from '@openbms/core';
import { bytesToHex, crc16Modbus, type FramerEvent, type Request } from '@openbms/protocols';
import { definition, PARAM_MAP } from '@openbms/protocols/daly-modbus';
import { FakePack } from '../../testing/fake-pack.js';
import type { BusView, SimPackApi } from '../../types.js';
import { device } from './index.js';

const frames = (evs: FramerEvent[]): Uint8Array[] =>
  evs.flatMap((e) => (e.type === 'frame' ? [e.bytes] : []));

const busOf = (packs: SimPackApi[]): BusView => ({
  packs,
  byAddress: (a) => packs.find((p) => p.address === a),
});

/** Sends one request through the device and returns the framed reply (or the error reply). */
function exchange(req: Uint8Array, pack: SimPackApi, bus = busOf([pack])): Uint8Array | undefined {
  const f = device.createRequestFramer();
  expect(frames(f.push(req)).map(bytesToHex)).toEqual([bytesToHex(req)]);
  let reply: Uint8Array | undefined;
  try {
    reply = device.handle(req, pack, bus);
  } catch (e) {
    expect(e).toBeInstanceOf(BmsError);
    reply = device.errorReply!(req, e);
  }
  if (!reply) return undefined;
  const got = frames(definition.createFramer().push(reply));
  expect(got).toHaveLength(1);
  return got[0];
}

/** Runs the family's read session against the device; returns the merged reading. */
function cycle(pack: SimPackApi, address: number, bus = busOf([pack])): Reading {
  const s = definition.readSession({ address });
  for (let step = s.next(); step; step = s.next()) {
    const reqFramer = device.createRequestFramer();
    expect(frames(reqFramer.push(step.request))).toHaveLength(1);
    expect(device.addressOf(step.request)).toBe(address);
    const reply = device.handle(step.request, pack, bus);
    expect(reply, step.name).toBeDefined();
    const got = frames(definition.createFramer().push(reply!));
    expect(got).toHaveLength(1);
    expect(step.accepts(got[0]!)).toBe(true);
    expect(step.complete(got)).toBe(true);
    s.accept(step, got);
  }
  return s.result();
}

const near = (a: number | undefined, b: number | undefined, tol: number): void => {
  expect(a).toBeDefined();
  expect(Math.abs(a! - b!)).toBeLessThanOrEqual(tol + 1e-9);
};

function expectSnapshot(r: Reading, pack: SimPackApi, variant: 'd2' | 'p81'): void {
  const s = pack.snapshot();
  near(r.voltage_v, s.voltage_v, 0.05);
  near(r.current_a, s.current_a, 0.05);
  expect(Math.sign(r.current_a!)).toBe(Math.sign(s.current_a!));
  near(r.power_w, s.power_w, 0.5 + 0.05 * (Math.abs(s.voltage_v!) + Math.abs(s.current_a!)));
  near(r.soc_pct, s.soc_pct, 0.05);
  near(r.remaining_ah, s.remaining_ah, 0.05);
  near(r.design_ah, s.design_ah, 0.05);
  expect(r.cycles).toBe(s.cycles);
  expect(r.state).toBe(s.state);
  expect(r.cell_count).toBe(s.cell_count);
  expect(r.cell_mv).toEqual(s.cell_mv!.map(Math.round));
  expect(r.max_cell_mv).toBe(s.max_cell_mv);
  expect(r.min_cell_mv).toBe(s.min_cell_mv);
  expect(r.max_cell_index).toBe(s.max_cell_index);
  expect(r.min_cell_index).toBe(s.min_cell_index);
  expect(r.delta_cell_mv).toBe(s.delta_cell_mv);
  near(r.avg_cell_mv, s.avg_cell_mv, 0.5);
  expect(r.temps_c).toEqual(s.temps_c!.map(Math.round));
  near(r.max_temp_c, s.max_temp_c, 0.5);
  near(r.min_temp_c, s.min_temp_c, 0.5);
  near(r.mos_temp_c, s.mos_temp_c, 0.5);
  near(r.board_temp_c, s.board_temp_c, 0.5);
  expect(r.charge_mos).toBe(s.charge_mos);
  expect(r.discharge_mos).toBe(s.discharge_mos);
  expect(r.balancing).toBe(s.balancing);
  expect(r.info?.sw_version).toBe(pack.info.sw_version);
  expect(r.info?.hw_version).toBe(pack.info.hw_version);
  if (variant === 'p81') {
    expect(r.info?.serial).toBe(pack.info.serial);
    expect(r.heater).toBe(s.heater);
  } else {
    // Codes match; levels where DALY has level bits (voltage, current, temperature, SOC...).
    const codes = (a: Alarm[] | undefined) => (a ?? []).map((x) => x.code).sort();
    expect(codes(r.alarms)).toEqual(codes(s.alarms));
    for (const a of r.alarms ?? []) {
      if (a.level !== undefined)
        expect(s.alarms!.find((x) => x.code === a.code)?.level).toBe(a.level);
    }
  }
  // Settings: every catalog parameter the pack holds reads back under its raw key.
  const params = pack.parameters();
  for (const p of PARAM_MAP) {
    if (params[p.id] === undefined) expect(r.raw?.[p.rawKey]).toBeUndefined();
    else {
      const want = p.conv === 'cur_mag' ? Math.abs(params[p.id]!) : params[p.id]!;
      near(r.raw?.[p.rawKey] as number, want, 0.05);
    }
  }
  expect(r.raw?.charge_mos_switch).toBe(s.charge_mos);
  expect(r.raw?.discharge_mos_switch).toBe(s.discharge_mos);
  expect(r.raw?.balancer_enabled).toBe(true);
  expect(r.raw?.battery_type).toBe(pack.chemistry);
}

describe('daly-modbus device: read cycle', () => {
  for (const [variant, unit, counts] of [
    ['d2', 0xd2, [4, 16, 32]],
    ['p81', 0x81, [4, 16, 48]],
  ] as const) {
    for (const cells of counts) {
      it(`${variant}: ${cells} cells round-trip through the real decoder`, () => {
        const pack = new FakePack({ address: unit, cells, current_a: -12.3 });
        const r = cycle(pack, unit);
        expect(r.address).toBe(unit);
        expectSnapshot(r, pack, variant);
      });
    }
  }

  it('charging, with an open sensor: + current, state charging, -40 °C', () => {
    const pack = new FakePack({ address: 0x83, current_a: 25.55, openSensor: 2, alarms: [] });
    const r = cycle(pack, 0x83);
    expectSnapshot(r, pack, 'p81');
    expect(r.temps_c![2]).toBe(-40);
    expect(r.state).toBe('charging');
    expect(r.power_w).toBeGreaterThan(0);
  });

  it('d2: alarms become fault bits and read back as the same codes and levels', () => {
    const alarms = [
      makeAlarm('cell_ov', { level: 2 }),
      makeAlarm('dsg_oc', { level: 1 }),
      makeAlarm('mos_ot'),
      makeAlarm('temp_sensor_fault'),
      makeAlarm('short_circuit', { level: 2 }),
      makeAlarm('fault_other', { source: 'fault_code_7' }),
    ];
    const pack = new FakePack({ address: 0xd2, alarms });
    const r = cycle(pack, 0xd2);
    expectSnapshot(r, pack, 'd2');
    expect(r.raw?.faults).toEqual([
      'cell_ov_l2',
      'dsg_oc_l1',
      'dsg_mos_ot',
      'cell_temp_sensor_fault',
      'short_circuit_protect_fault',
    ]);
    expect(r.raw?.fault_code).toBe(7);
  });

  it('d2: a pack with more than 32 cells reports the first 32', () => {
    const pack = new FakePack({ address: 0xd2, cells: 40 });
    const r = cycle(pack, 0xd2);
    expect(r.cell_mv).toEqual(pack.snapshot().cell_mv!.slice(0, 32));
  });

  it('answers the 80-register blue-series read and decodes it without the request', () => {
    const pack = new FakePack({ address: 0xd2 });
    const req = definition.encode({
      command: 'read_registers',
      address: 0xd2,
      args: { start: 0, count: 80 },
    });
    const r = definition.decode(exchange(req, pack)!);
    expect(r.cell_mv).toEqual(pack.cells);
    expect(r.mos_temp_c).toBe(31);
  });
});

describe('daly-modbus device: 16-pack bus', () => {
  it('addresses: boards 0x81..0x8F, the 16th pack on 0xD2', () => {
    expect(device.addresses(3)).toEqual([0x81, 0x82, 0x83]);
    const a = device.addresses(16);
    expect(new Set(a).size).toBe(16);
    expect(a.slice(0, 15)).toEqual(Array.from({ length: 15 }, (_, i) => 0x81 + i));
    expect(a[15]).toBe(0xd2);
    expect(() => device.addresses(17)).toThrow(BmsError);
  });

  it('each address reaches its own pack', () => {
    const packs = device
      .addresses(16)
      .map(
        (address, index) =>
          new FakePack({ address, index, cells: 4 + index, current_a: -10 + index * 1.5 }),
      );
    const bus = busOf(packs);
    for (const pack of packs) {
      const target = bus.byAddress(
        device.addressOf(definition.encode({ command: 'read_status', address: pack.address }))!,
      );
      expect(target).toBe(pack);
      const r = cycle(target!, pack.address, bus);
      expect(r.address).toBe(pack.address);
      expectSnapshot(r, pack, pack.address === 0xd2 ? 'd2' : 'p81');
    }
  });
});

describe('daly-modbus device: writes', () => {
  const send = (pack: FakePack, req: Request): Reading => {
    const bytes = definition.encode(req);
    return definition.decode(exchange(bytes, pack)!, { request: bytes });
  };
  const exceptionOf = (fn: () => unknown): number | undefined => {
    try {
      fn();
    } catch (e) {
      return (e as BmsError).details?.exception_code as number;
    }
    return undefined;
  };

  for (const unit of [0xd2, 0x81]) {
    it(`0x${unit.toString(16)}: MOS switches, with the current interlock refused as exception 4`, () => {
      const pack = new FakePack({ address: unit, current_a: -12.3 });
      expect(
        send(pack, { command: 'set_discharge_mos', address: unit, args: { on: false } }).raw
          ?.write_ack,
      ).toBe(true);
      expect(pack.discharge_mos).toBe(false);
      expect(
        exceptionOf(() =>
          send(pack, { command: 'set_charge_mos', address: unit, args: { on: false } }),
        ),
      ).toBe(4);
      expect(pack.charge_mos).toBe(true);
      pack.current_a = 0;
      send(pack, { command: 'set_charge_mos', address: unit, args: { on: false } });
      expect(pack.charge_mos).toBe(false);
      send(pack, { command: 'set_charge_mos', address: unit, args: { on: true } });
      expect(pack.charge_mos).toBe(true);
      // The settings block reports the switches.
      const st = send(pack, { command: 'read_settings', address: unit });
      expect(st.raw?.discharge_mos_switch).toBe(false);
      expect(st.raw?.charge_mos_switch).toBe(true);
      // 2 is not a switch value.
      const bad = definition.encode({
        command: 'write_register',
        address: unit,
        args: { register: unit === 0xd2 ? 0xa5 : 0x121, value: 2 },
      });
      expect(exceptionOf(() => definition.decode(exchange(bad, pack)!))).toBe(3);
    });

    it(`0x${unit.toString(16)}: SOC, parameters and the balancer switch`, () => {
      const pack = new FakePack({ address: unit });
      send(pack, { command: 'set_soc', address: unit, args: { soc_pct: 68 } });
      expect(pack.soc_pct).toBe(68);
      send(pack, {
        command: 'write_parameter',
        address: unit,
        args: { id: 'cell_ov_l1_mv', value: 3500 },
      });
      send(pack, {
        command: 'write_parameter',
        address: unit,
        args: { id: 'dsg_ut_l1_c', value: -10 },
      });
      send(pack, {
        command: 'write_parameter',
        address: unit,
        args: { id: 'design_capacity_ah', value: 280 },
      });
      expect(pack.parameters()).toMatchObject({
        cell_ov_l1_mv: 3500,
        dsg_ut_l1_c: -10,
        design_capacity_ah: 280,
      });
      const st = send(pack, { command: 'read_settings', address: unit });
      expect(st.raw).toMatchObject({
        cell_ov_warn_mv: 3500,
        dsg_ut_warn_c: -10,
        soc_setting_pct: 68,
      });
      expect(st.design_ah).toBe(280);
      // Refused by the pack (outside the catalog range): exception 3, nothing stored.
      expect(
        exceptionOf(() =>
          send(pack, {
            command: 'write_parameter',
            address: unit,
            args: { id: 'cell_ov_l1_mv', value: 5000 },
          }),
        ),
      ).toBe(3);
      expect(pack.parameters().cell_ov_l1_mv).toBe(3500);
      send(pack, { command: 'set_balancer', address: unit, args: { on: false } });
      expect(pack.parameters().balance_enabled).toBe(0);
      expect(
        send(pack, { command: 'read_balancer_switch', address: unit }).raw?.balancer_enabled,
      ).toBe(false);
    });

    it(`0x${unit.toString(16)}: FC 0x10 in the standard and the vendor form`, () => {
      const pack = new FakePack({ address: unit });
      const base = unit === 0xd2 ? 0x8b : 0x10b;
      const ack = send(pack, {
        command: 'write_registers',
        address: unit,
        args: { start: base, values: [3520, 3640] },
      });
      expect(ack.raw).toMatchObject({ write_ack: true, register_start: base, register_count: 2 });
      expect(pack.parameters()).toMatchObject({ cell_ov_l1_mv: 3520, cell_ov_l2_mv: 3640 });
      send(pack, {
        command: 'write_registers',
        address: unit,
        args: { start: base, values: [3510, 3630], byte_count_field: false },
      });
      expect(pack.parameters()).toMatchObject({ cell_ov_l1_mv: 3510, cell_ov_l2_mv: 3630 });
      // Inconsistent (level 2 below level 1): refused as a whole.
      expect(
        exceptionOf(() =>
          send(pack, {
            command: 'write_registers',
            address: unit,
            args: { start: base, values: [3600, 3500] },
          }),
        ),
      ).toBe(3);
      expect(pack.parameters()).toMatchObject({ cell_ov_l1_mv: 3510, cell_ov_l2_mv: 3630 });
    });
  }

  it('d2 command registers: restart, reset, zero-current ack, shutdown refused', () => {
    const pack = new FakePack({ address: 0xd2, current_a: 0 });
    const w = (register: number, value = 1) =>
      send(pack, { command: 'write_register', address: 0xd2, args: { register, value } });
    send(pack, { command: 'set_discharge_mos', address: 0xd2, args: { on: false } });
    w(0xf0);
    expect(pack.discharge_mos).toBe(true);
    send(pack, {
      command: 'write_parameter',
      address: 0xd2,
      args: { id: 'cell_ov_l1_mv', value: 3500 },
    });
    w(0xf3);
    expect(pack.parameters().cell_ov_l1_mv).toBe(3550);
    expect(w(0xf2).raw?.write_ack).toBe(true);
    expect(exceptionOf(() => w(0xf1))).toBe(4);
  });

  it('read-only and unknown registers answer exception 2', () => {
    const pack = new FakePack({ address: 0xd2 });
    const before = pack.parameters();
    expect(
      exceptionOf(() =>
        send(pack, {
          command: 'write_register',
          address: 0xd2,
          args: { register: 0x81, value: 3300 },
        }),
      ),
    ).toBe(2);
    expect(
      exceptionOf(() =>
        send(pack, {
          command: 'write_register',
          address: 0x81,
          args: { register: 0xf0, value: 1 },
        }),
      ),
    ).toBe(2);
    expect(
      exceptionOf(() =>
        send(pack, { command: 'read_registers', address: 0xd2, args: { start: 0x300, count: 4 } }),
      ),
    ).toBe(2);
    expect(
      exceptionOf(() =>
        send(pack, { command: 'read_registers', address: 0xd2, args: { start: 0x4e, count: 4 } }),
      ),
    ).toBe(2);
    expect(pack.parameters()).toEqual(before);
  });
});

describe('daly-modbus device: garbage and unknown commands', () => {
  const withCrc = (body: number[]): Uint8Array => {
    const b = Uint8Array.from([...body, 0, 0]);
    const crc = crc16Modbus(b, 0, body.length);
    b[body.length] = crc & 0xff;
    b[body.length + 1] = crc >> 8;
    return b;
  };
  const pack = new FakePack({ address: 0xd2 });
  const bus = busOf([pack]);

  it('unknown function: exception 1; count 0: exception 3; other unit or bad CRC: silence', () => {
    const fc4 = withCrc([0xd2, 0x04, 0, 0, 0, 1]);
    expect(() => device.handle(fc4, pack, bus)).toThrow(BmsError);
    expect(bytesToHex(exchange(fc4, pack)!)).toBe(bytesToHex(withCrc([0xd2, 0x84, 1])));
    expect(bytesToHex(exchange(withCrc([0x82, 0x03, 0, 0, 0, 0]), pack)!)).toBe(
      bytesToHex(withCrc([0x52, 0x83, 3])),
    );
    expect(device.handle(withCrc([0x01, 0x03, 0, 0, 0, 1]), pack, bus)).toBeUndefined();
    const bad = withCrc([0xd2, 0x03, 0, 0, 0, 1]);
    bad[7] = bad[7]! ^ 0xff;
    expect(device.handle(bad, pack, bus)).toBeUndefined();
    expect(device.errorReply!(bad, new BmsError('FRAME_CHECKSUM', 'x'))).toBeUndefined();
  });

  it('random bytes and random CRC-valid frames never crash', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let k = 0; k < 3000; k++) {
      const len = rnd(20);
      const body = Array.from({ length: len }, () => rnd(256));
      if (k % 2 === 0 && len > 1) body[0] = [0xd2, 0x81, 0x85][rnd(3)]!;
      if (k % 4 === 0 && len > 2) body[1] = [3, 6, 0x10][rnd(3)]!;
      const req = k % 3 === 0 ? Uint8Array.from(body) : withCrc(body);
      try {
        const r = device.handle(req, pack, bus);
        if (r) expect(frames(definition.createFramer().push(r))).toHaveLength(1);
      } catch (e) {
        expect(e).toBeInstanceOf(BmsError);
        device.errorReply!(req, e);
      }
    }
  });

  it('the request framer finds requests in a chunked stream with noise', () => {
    const reqs = [
      definition.encode({ command: 'read_status', address: 0xd2 }),
      definition.encode({
        command: 'write_registers',
        address: 0x81,
        args: { start: 0x10b, values: [1, 2] },
      }),
      definition.encode({
        command: 'write_registers',
        address: 0xd2,
        args: { start: 0x0c, values: [1, 2], byte_count_field: false },
      }),
      definition.encode({ command: 'set_soc', address: 0x8f, args: { soc_pct: 50 } }),
    ];
    const stream = [0x00, 0x13, ...reqs[0]!, 0xff, ...reqs[1]!, ...reqs[2]!, 0x37, ...reqs[3]!];
    const f = device.createRequestFramer();
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += 5)
      out.push(...frames(f.push(Uint8Array.from(stream.slice(i, i + 5)))));
    out.push(...frames(f.end()));
    expect(out.map(bytesToHex)).toEqual(reqs.map(bytesToHex));
  });
});
