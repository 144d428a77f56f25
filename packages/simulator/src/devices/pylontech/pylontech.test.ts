import { BmsError, makeAlarm, type Alarm, type Reading } from '@openbms/core';
import type { Request } from '@openbms/protocols';
import { buildFrame, definition } from '@openbms/protocols/pylontech';
import { describe, expect, it } from 'vitest';
import { FakePack } from '../../testing/fake-pack.js';
import type { BusView, SimPackApi } from '../../types.js';
import { device } from './index.js';
import { limit, management } from './limits.js';

const busOf = (packs: SimPackApi[]): BusView => ({
  packs,
  byAddress: (a) => packs.find((p) => p.address === a),
});

/** Frames `bytes` with a fresh framer of `make` and returns the single frame. */
function frameOne(make: () => ReturnType<typeof device.createRequestFramer>, bytes: Uint8Array) {
  const events = make().push(bytes);
  expect(events).toHaveLength(1);
  const ev = events[0]!;
  if (ev.type !== 'frame') throw new Error(`not framed: ${ev.reason}`);
  return ev.bytes;
}

/** Host request -> device -> reply frame, as on the wire. */
function exchange(request: Uint8Array, pack: SimPackApi, bus: BusView): Uint8Array {
  const req = frameOne(device.createRequestFramer, request);
  expect(device.addressOf(req)).toBe(pack.address);
  let out: Uint8Array | undefined;
  try {
    out = device.handle(req, pack, bus);
  } catch (e) {
    out = device.errorReply!(req, e);
  }
  if (!out) throw new Error('device stayed silent');
  return frameOne(definition.createFramer, out);
}

const ask = (req: Request, pack: SimPackApi, bus = busOf([pack])): Reading => {
  const request = definition.encode(req);
  return definition.decode(exchange(request, pack, bus), { request });
};

function readCycle(pack: SimPackApi, bus = busOf([pack])): Reading {
  const session = definition.readSession({ address: pack.address });
  let steps = 0;
  for (let step = session.next(); step; step = session.next()) {
    const reply = exchange(step.request, pack, bus);
    expect(step.accepts(reply), step.name).toBe(true);
    expect(step.complete([reply])).toBe(true);
    session.accept(step, [reply]);
    steps++;
  }
  expect(steps).toBe(7);
  return session.result();
}

/** The alarm codes the 0x44 reply can carry for a pack's active alarms. */
function wireCodes(alarms: readonly Alarm[]): string[] {
  const map: Record<string, string[]> = {
    cell_ov: ['cell_ov'],
    cell_uv: ['cell_uv'],
    pack_ov: ['pack_ov'],
    pack_uv: ['pack_uv'],
    chg_oc: ['chg_oc'],
    dsg_oc: ['dsg_oc'],
    chg_ot: ['cell_ot'],
    dsg_ot: ['cell_ot'],
    cell_ot: ['cell_ot'],
    chg_ut: ['cell_ut'],
    dsg_ut: ['cell_ut'],
    cell_ut: ['cell_ut'],
    voltage_sense_fault: ['voltage_sense_fault'],
    current_sense_fault: ['current_sense_fault'],
  };
  const out = new Set<string>();
  for (const a of alarms) {
    for (const c of map[a.code] ?? []) out.add(c);
    // Status 1 protections keep their own code.
    if ((a.level ?? 0) >= 2 && ['chg_ot', 'dsg_ot'].includes(a.code)) out.add(a.code);
  }
  return [...out].sort();
}

const codes = (r: Reading): string[] => [...new Set((r.alarms ?? []).map((a) => a.code))].sort();

/** Every value the protocol carries, read back within its wire resolution. */
function expectMatches(got: Reading, pack: SimPackApi, snap = pack.snapshot()): void {
  const want = Math.min(snap.voltage_v!, 65.535);
  expect(got.voltage_v).toBeCloseTo(want, 3);
  expect(Math.abs(got.current_a! - snap.current_a!)).toBeLessThanOrEqual(0.05);
  expect(Math.sign(got.current_a!)).toBe(Math.sign(snap.current_a!));
  expect(got.cell_count).toBe(snap.cell_mv!.length);
  expect(got.cell_mv).toEqual(snap.cell_mv!.map((v) => Math.round(v)));
  const temps = [snap.board_temp_c!, ...snap.temps_c!];
  expect(got.temps_c).toHaveLength(temps.length);
  got.temps_c!.forEach((t, i) => expect(Math.abs(t - temps[i]!)).toBeLessThanOrEqual(0.05));
  expect(got.board_temp_c).toBeCloseTo(snap.board_temp_c!, 1);
  expect(got.remaining_ah).toBeCloseTo(snap.remaining_ah!, 3);
  expect(got.full_ah).toBeCloseTo(snap.full_ah!, 3);
  expect(got.cycles).toBe(snap.cycles);
  expect(got.charge_mos).toBe(snap.charge_mos);
  expect(got.discharge_mos).toBe(snap.discharge_mos);
  expect(got.state).toBe(snap.state);
}

function expectCycle(got: Reading, pack: SimPackApi): void {
  const snap = pack.snapshot();
  expectMatches(got, pack, snap);
  expect(got.address).toBe(pack.address);
  expect(Math.abs(got.soc_pct! - snap.soc_pct!)).toBeLessThanOrEqual(0.1);
  expect(codes(got)).toEqual(wireCodes(pack.activeAlarms()));
  expect(got.info?.model).toBe(pack.info.model.slice(0, 10));
  expect(got.info?.manufacturer).toBe(pack.info.manufacturer);
  expect(got.info?.serial).toBe(pack.info.serial.slice(0, 16));
  expect(got.info?.sw_version).toBe(pack.info.sw_version.split('.').slice(0, 2).join('.'));
  expect(got.info?.protocol_version).toBe('2.0');
  const m = management(pack, snap);
  const mv16 = (v: number): number => Math.min(v, 65.535); // uint16 mV on the wire
  expect(got.charge_voltage_limit_v).toBeCloseTo(mv16(m.charge_voltage_limit_v), 3);
  expect(got.discharge_voltage_limit_v).toBeCloseTo(mv16(m.discharge_voltage_limit_v), 3);
  expect(got.charge_current_limit_a).toBeCloseTo(m.charge_current_limit_a, 1);
  expect(got.discharge_current_limit_a).toBeCloseTo(m.discharge_current_limit_a, 1);
  const params = got.raw?.parameters as Record<string, number>;
  const have = pack.parameters();
  // The 0x47 limits (the 0x92/0x94 request limits are derived by the pack, see management()).
  for (const id of definition.parameters
    .filter((p) => p.wire.startsWith('0x47'))
    .map((p) => p.id)) {
    expect(params[id], id).toBeCloseTo(limit(have, id), 1);
  }
}

describe('pylontech device: full read cycle', () => {
  for (const cells of [4, 15, 16, 48]) {
    it(`${cells} cells round-trip through readSession`, () => {
      const pack = new FakePack({ address: 2, cells });
      expectCycle(readCycle(pack), pack);
    });
  }

  it('sends P = 2 (16-bit mAh) when the capacity fits, P = 4 otherwise', () => {
    const small = new FakePack({ address: 2, current_a: 4.2 });
    expect(small.writeParameters({ design_capacity_ah: 50 }).ok).toBe(true);
    const r = ask({ command: 'analog', address: 2 }, small);
    expect(r.raw?.user_defined_count).toBe(2);
    expectCycle(readCycle(small), small);
    const big = ask({ command: 'analog', address: 2 }, new FakePack({ address: 2 }));
    expect(big.raw?.user_defined_count).toBe(4);
  });

  it('reports an open sensor as state 0xF0 and its -40 degC reading', () => {
    const pack = new FakePack({
      address: 2,
      openSensor: 2,
      alarms: [makeAlarm('temp_sensor_fault')],
    });
    const got = readCycle(pack);
    expectMatches(got, pack);
    expect(got.temps_c![3]).toBe(-40);
    expect((got.raw?.temp_states as number[])[3]).toBe(0xf0);
    expect(codes(got)).toEqual(['temp_sensor_fault']);
  });

  it('carries the alarms the protocol can express', () => {
    const alarms = [
      makeAlarm('cell_ov', { level: 1 }),
      makeAlarm('pack_uv', { level: 2 }),
      makeAlarm('chg_oc', { level: 2 }),
      makeAlarm('dsg_ot', { level: 2 }),
      makeAlarm('chg_ut', { level: 1 }),
      makeAlarm('cell_diff', { level: 1 }), // no field for it
    ];
    const pack = new FakePack({ address: 2, alarms });
    const got = readCycle(pack);
    expectCycle(got, pack);
    const raw = got.raw as Record<string, unknown>;
    expect(raw.status1_hex).toBe('a4'); // bit 7 pack_uv, 5 dsg_ot, 2 chg_oc
    expect(raw.buzzer).toBe(true);
    const l2 = (got.alarms ?? []).filter((a) => a.level === 2).map((a) => a.code);
    expect(l2.sort()).toEqual(['chg_oc', 'dsg_ot', 'pack_uv']);
  });

  it('flags cells beyond the alarm limits and cells outside 1..4.2 V', () => {
    const pack = new FakePack({ address: 2, alarms: [] });
    pack.cells[0] = 3600; // above cell_ov_l1_mv 3550
    pack.cells[5] = 2800; // below cell_uv_l1_mv 2900
    pack.cells[9] = 900; // below 1 V: voltage error (Status 5 bit 1)
    const r = ask({ command: 'alarm', address: 2 }, pack);
    const states = r.raw?.cell_states as number[];
    expect([states[0], states[5], states[9]]).toEqual([2, 1, 1]);
    expect(r.raw?.status5_hex).toBe('02');
    expect(codes(r)).toEqual(['cell_ov', 'cell_sense_fault', 'cell_uv']);
  });

  it('INFOFLAG shows unread alarm / switch changes until 0x44 is read', () => {
    const pack = new FakePack({ address: 2, current_a: 0 });
    const flag = (): unknown => ask({ command: 'analog', address: 2 }, pack).raw?.info_flag;
    expect(flag()).toBe(0x11);
    ask({ command: 'alarm', address: 2 }, pack);
    expect(flag()).toBe(0);
    pack.setMos('charge', false);
    expect(flag()).toBe(0x10);
  });

  it('answers 0x4F with VER 2.0 and 0x96 with the software version', () => {
    const pack = new FakePack({ address: 2 });
    const v = ask({ command: 'software_version', address: 2 }, pack);
    expect(v.raw?.manufacturer_version).toBe('1.2');
    expect(v.raw?.main_line_version).toBe('1.2.3');
    const p = ask({ command: 'protocol_version', address: 2, args: { ver: 0x25 } }, pack);
    expect(p.info?.protocol_version).toBe('2.0');
  });
});

describe('pylontech device: 16 packs on one bus', () => {
  const addresses = device.addresses(16);
  const packs = addresses.map((address, index) => {
    const p = new FakePack({ address, index, cells: 16, current_a: index - 7.5 });
    p.cells = p.cells.map((mv) => mv + index * 3);
    p.board_temp_c = 20 + index;
    return p;
  });
  const bus = busOf(packs);

  it('uses ADR 2..17', () => {
    expect(addresses).toEqual(Array.from({ length: 16 }, (_, i) => 2 + i));
    expect(new Set(addresses).size).toBe(16);
    expect(() => device.addresses(17)).toThrow(BmsError);
  });

  it('each ADR reaches its own pack', () => {
    for (const p of packs) {
      const target = bus.byAddress(
        device.addressOf(definition.encode({ command: 'analog', address: p.address }))!,
      )!;
      expect(target).toBe(p);
      expectCycle(readCycle(target, bus), p);
    }
  });

  it('INFO = 0xFF at the master returns every pack (0x42 and 0x44)', () => {
    const analog = ask({ command: 'analog', address: 2, args: { all: true } }, packs[0]!, bus);
    expect(analog.raw?.module_count).toBe(16);
    expect(analog.packs).toHaveLength(16);
    analog.packs!.forEach((r, i) => expectMatches({ ...r, ...stateOf(i) }, packs[i]!));
    const alarm = ask({ command: 'alarm', address: 2, args: { all: true } }, packs[0]!, bus);
    expect(alarm.packs).toHaveLength(16);
    alarm.packs!.forEach((r, i) => {
      expect(r.charge_mos).toBe(packs[i]!.charge_mos);
      expect(r.state).toBe(packs[i]!.snapshot().state);
    });
  });

  /** 0x42 blocks carry no MOS/state: take them from the 0x44 group reply. */
  function stateOf(i: number): Reading {
    const s = packs[i]!.snapshot();
    return { charge_mos: s.charge_mos, discharge_mos: s.discharge_mos, state: s.state };
  }

  it('a slave refuses a group read with RTN 0x90', () => {
    const r = ask({ command: 'analog', address: 3, args: { all: true } }, packs[1]!, bus);
    expect(r.raw?.rtn).toBe(0x90);
  });
});

describe('pylontech device: commands that change the pack', () => {
  const limits = {
    charge_voltage_limit_v: 55.2,
    discharge_voltage_limit_v: 48,
    charge_current_limit_a: 40,
    discharge_current_limit_a: -60,
  };

  it('0x94 stores the limits and 0x92 reports them', () => {
    const pack = new FakePack({ address: 2 });
    const ack = ask({ command: 'set_management_info', address: 2, args: limits }, pack);
    expect(ack.raw?.rtn).toBe(0);
    expect(ack.raw?.error_response).toBeUndefined();
    expect(pack.parameters()).toMatchObject({
      charge_voltage_limit_v: 55.2,
      charge_current_limit_a: 40,
      discharge_current_limit_a: 60,
    });
    const m = ask({ command: 'management_info', address: 2 }, pack);
    expect(m).toMatchObject(limits);
    expect(m.raw?.charge_enable).toBe(true);
  });

  it('0x94 with unsafe values is refused with RTN 0x06 and changes nothing', () => {
    const pack = new FakePack({ address: 2 });
    const before = pack.parameters();
    const args = { ...limits, charge_voltage_limit_v: 61 }; // above 16 x 3.75 V for LFP
    const r = ask({ command: 'set_management_info', address: 2, args }, pack);
    expect(r.raw?.rtn).toBe(0x06);
    expect(pack.parameters()).toEqual(before);
  });

  it('0x95 turns both MOSFETs off when no current flows', () => {
    const pack = new FakePack({ address: 2, current_a: 0 });
    const r = ask({ command: 'turn_off', address: 2 }, pack);
    expect(r.raw?.rtn).toBe(0);
    expect([pack.charge_mos, pack.discharge_mos]).toEqual([false, false]);
    const a = ask({ command: 'alarm', address: 2 }, pack);
    expect([a.charge_mos, a.discharge_mos]).toEqual([false, false]);
    const m = ask({ command: 'management_info', address: 2 }, pack);
    expect(m.charge_current_limit_a).toBe(0);
    expect(m.discharge_current_limit_a).toBe(0);
    expect(m.raw?.status_hex).toBe('00');
  });

  for (const current_a of [-12.3, 8]) {
    it(`0x95 is refused (RTN 0x06, nothing changes) while ${current_a} A flows`, () => {
      const pack = new FakePack({ address: 2, current_a });
      const r = ask({ command: 'turn_off', address: 2 }, pack);
      expect(r.raw?.rtn).toBe(0x06);
      expect([pack.charge_mos, pack.discharge_mos]).toEqual([true, true]);
    });
  }
});

describe('pylontech device: odd input', () => {
  const pack = new FakePack({ address: 2 });
  const bus = busOf([pack]);
  const rtnOf = (bytes: Uint8Array): unknown => {
    try {
      device.handle(bytes, pack, bus);
    } catch (e) {
      expect(e).toBeInstanceOf(BmsError);
      const reply = device.errorReply!(bytes, e);
      return reply ? definition.decode(reply).raw?.rtn : undefined;
    }
    return 'answered';
  };
  const good = definition.encode({ command: 'analog', address: 2 });

  it('answers unknown CID2, bad CHKSUM, bad LCHKSUM, other CID1 with their RTN', () => {
    expect(rtnOf(buildFrame(0x20, 2, 0x46, 0x43, [2]))).toBe(0x04);
    expect(rtnOf(buildFrame(0x20, 2, 0x4a, 0x42, [2]))).toBe(0x04);
    const badChk = good.slice();
    badChk[badChk.length - 2] = badChk[badChk.length - 2] === 0x30 ? 0x31 : 0x30;
    // The request framer passes it on (the pack answers it), the reply framer would not.
    expect(frameOne(device.createRequestFramer, badChk)).toEqual(badChk);
    expect(rtnOf(badChk)).toBe(0x02);
    const badLen = good.slice();
    badLen[9] = 0x46; // 'F' instead of 'E' in LENGTH
    expect(rtnOf(badLen)).toBe(0x03);
    expect(rtnOf(buildFrame(0x20, 2, 0x46, 0x42, [5]))).toBe(0x90);
    expect(rtnOf(buildFrame(0x20, 2, 0x46, 0x42, []))).toBe(0x05);
    expect(rtnOf(buildFrame(0x20, 2, 0x46, 0x94, [2, 1]))).toBe(0x05);
  });

  it('stays silent for replies of other packs, other ADRs and non-frames', () => {
    expect(device.handle(buildFrame(0x20, 2, 0x46, 0x00, []), pack, bus)).toBeUndefined();
    expect(
      device.handle(definition.encode({ command: 'analog', address: 3 }), pack, bus),
    ).toBeUndefined();
    expect(device.handle(new Uint8Array([1, 2, 3]), pack, bus)).toBeUndefined();
    expect(
      device.errorReply!(new Uint8Array([0x7e]), new BmsError('FRAME_MALFORMED', 'x')),
    ).toBeUndefined();
    expect(device.addressOf(new Uint8Array([0x7e, 0x0d]))).toBeUndefined();
  });

  it('frames a request behind line noise and a stray "~"', () => {
    const stream = new Uint8Array([0x00, 0x7e, 0x32, 0x7e, 0xff, ...good]);
    const events = device.createRequestFramer().push(stream);
    const frames = events.filter((e) => e.type === 'frame');
    expect(frames).toHaveLength(1);
    expect(frames[0]!.bytes).toEqual(good);
  });

  it('never crashes on random input', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const hex = '0123456789ABCDEF';
    for (let k = 0; k < 2000; k++) {
      let bytes: Uint8Array;
      if (k % 2 === 0) {
        bytes = Uint8Array.from({ length: rnd(40) }, () => rnd(256));
      } else {
        // Frame-shaped: '~', hex header for ADR 2 CID1 0x46, random hex, CR.
        const body = Array.from({ length: 12 + rnd(30) }, () => hex.charCodeAt(rnd(16)));
        const head = [...'2002'].map((c) => c.charCodeAt(0));
        bytes = Uint8Array.from([0x7e, ...head, ...body, 0x0d]);
      }
      try {
        device.handle(bytes, pack, bus);
      } catch (e) {
        expect(e).toBeInstanceOf(BmsError);
        device.errorReply!(bytes, e);
      }
    }
  });
});
