import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMetric, parameter, type Reading } from '@openbms/core';
import { bytesToHex, concatBytes, hexToBytes } from '../util/bytes.js';
import { crc16Modbus } from '../util/checksum.js';
import type { FramerEvent, ReadSession } from '../types.js';
import { definition } from './index.js';
import { parametersFromReading } from './requests.js';
import { codeOf } from '../testing/checks.js';

const here = dirname(fileURLToPath(import.meta.url));
const vectors = JSON.parse(readFileSync(join(here, 'fixtures/vectors.json'), 'utf8')) as {
  vectors: { id: string; request_hex: string | null; response_hex: string }[];
};
const vec = (id: string) => vectors.vectors.find((v) => v.id === id)!;
const session = JSON.parse(readFileSync(join(here, 'fixtures/session.json'), 'utf8')) as {
  options: { address: number; variant?: string };
  exchanges: { step: string; request_hex: string; response_hex: string }[];
  expected: Record<string, unknown>;
};

/** An FC 0x03 reply frame with a correct CRC. */
function reply(unit: number, regs: number[]): Uint8Array {
  const out = new Uint8Array(5 + regs.length * 2);
  out[0] = unit;
  out[1] = 3;
  out[2] = regs.length * 2;
  regs.forEach((r, i) => {
    out[3 + i * 2] = r >> 8;
    out[4 + i * 2] = r & 0xff;
  });
  const crc = crc16Modbus(out, 0, out.length - 2);
  out[out.length - 2] = crc & 0xff;
  out[out.length - 1] = crc >> 8;
  return out;
}

function regsOf(frame: Uint8Array): number[] {
  const n = frame[2]! / 2;
  return Array.from({ length: n }, (_, i) => (frame[3 + i * 2]! << 8) | frame[4 + i * 2]!);
}

const STATUS62 = hexToBytes(vec('d2_status62_8s_no_alarms').response_hex);
const REQ62 = hexToBytes('d2030000003ed7b9');

describe('daly-modbus framer', () => {
  const frames = [
    hexToBytes(vec('d2_status80_blue_frame1').response_hex),
    hexToBytes(vec('d2_balancer_switch_on').response_hex),
    hexToBytes(vec('p81_cells_ess_dl_16s').response_hex),
  ];

  it('finds every frame in a stream split into odd chunks with garbage around it', () => {
    const stream = concatBytes([
      hexToBytes('0011d2'), // garbage, including a false start marker
      frames[0]!,
      hexToBytes('ffee'),
      frames[1]!,
      frames[2]!,
      hexToBytes('51'),
    ]);
    for (const chunk of [1, 3, 7, 20, 64]) {
      const framer = definition.createFramer();
      const events: FramerEvent[] = [];
      for (let i = 0; i < stream.length; i += chunk)
        events.push(...framer.push(stream.subarray(i, i + chunk)));
      events.push(...framer.end());
      const got = events.filter((e) => e.type === 'frame').map((e) => bytesToHex(e.bytes));
      expect(got).toEqual(frames.map(bytesToHex));
      const discards = events.filter((e) => e.type === 'discard');
      expect(discards.length).toBeGreaterThan(0);
      for (const d of discards) {
        if (d.type !== 'discard') continue;
        expect(d.reason.length).toBeGreaterThan(0);
        expect([
          'FRAME_NO_START',
          'FRAME_MALFORMED',
          'FRAME_CHECKSUM',
          'FRAME_TRUNCATED',
          'FRAME_TOO_LONG',
        ]).toContain(d.code);
      }
      const discarded = discards.reduce((n, d) => n + d.bytes.length, 0);
      expect(discarded).toBe(stream.length - frames.reduce((n, f) => n + f.length, 0));
    }
  });

  it('drops a frame with a bad CRC as a coded discard', () => {
    const framer = definition.createFramer();
    const events = [
      ...framer.push(hexToBytes(vec('d2_bad_crc_derived').response_hex)),
      ...framer.end(),
    ];
    expect(events.some((e) => e.type === 'frame')).toBe(false);
    expect(events.some((e) => e.type === 'discard' && e.code === 'FRAME_CHECKSUM')).toBe(true);
  });

  it('waits for the rest of a frame (BLE notifications of 20 bytes)', () => {
    const framer = definition.createFramer();
    const f = frames[0]!;
    expect(framer.push(f.subarray(0, 20))).toEqual([]);
    expect(framer.pending).toBe(20);
    const ev = framer.push(f.subarray(20));
    expect(ev).toHaveLength(1);
    expect(framer.pending).toBe(0);
  });
});

describe('daly-modbus decode', () => {
  it('rejects trailing and leading garbage and two concatenated replies', () => {
    expect(
      codeOf(() =>
        definition.decode(concatBytes([STATUS62, hexToBytes('00')]), { request: REQ62 }),
      ),
    ).toBe('FRAME_MALFORMED');
    expect(
      codeOf(() =>
        definition.decode(concatBytes([hexToBytes('00'), STATUS62]), { request: REQ62 }),
      ),
    ).toBe('FRAME_MALFORMED');
    expect(codeOf(() => definition.decode(concatBytes([STATUS62, STATUS62])))).toBeDefined();
    expect(codeOf(() => definition.decode(STATUS62.subarray(0, 40)))).toBe('FRAME_TRUNCATED');
  });

  it('needs the request for a partial read, and checks that the reply answers it', () => {
    const partial = hexToBytes(vec('d2_partial_0x3e_9regs_mos_29c').response_hex);
    expect(codeOf(() => definition.decode(partial))).toBe('DECODE_CONTEXT_MISSING');
    // A full status block needs no request.
    expect(definition.decode(STATUS62).cell_mv).toHaveLength(8);
    // Wrong count, wrong unit.
    expect(codeOf(() => definition.decode(partial, { request: REQ62 }))).toBe('FRAME_UNEXPECTED');
    expect(
      codeOf(() => definition.decode(STATUS62, { request: hexToBytes('8103000000405bfa') })),
    ).toBe('FRAME_UNEXPECTED');
  });

  it('reports current + = charging, power signed like the current, and honours invertCurrent', () => {
    const f = hexToBytes(vec('d2_status80_blue_frame1').response_hex);
    const r = definition.decode(f, { request: hexToBytes('d203000000505655') });
    expect(r.current_a).toBe(-2.5);
    expect(r.power_w).toBe(-131);
    expect(r.raw?.power_w).toBe(131);
    expect(r.state).toBe('discharging');
    const inv = definition.decode(f, {
      request: hexToBytes('d203000000505655'),
      invertCurrent: true,
    });
    expect(inv.current_a).toBe(2.5);
    expect(inv.power_w).toBe(131);
    // Charging: raw 30123 -> +12.3 A, power positive.
    const regs = regsOf(STATUS62);
    regs[0x29] = 30123;
    regs[0x39] = 333;
    regs[0x2f] = 1;
    const c = definition.decode(reply(0xd2, regs));
    expect(c.current_a).toBe(12.3);
    expect(c.power_w).toBe(333);
    expect(c.state).toBe('charging');
  });

  it('maps the alarm registers: fault byte 2k in the low half of register 0x3A+k', () => {
    const base = regsOf(STATUS62);
    const withAlarm = (k: number, word: number): Reading => {
      const regs = base.slice();
      regs[0x3a + k] = word;
      return definition.decode(reply(0xd2, regs));
    };
    const ov = withAlarm(0, 0x0001);
    expect(ov.raw?.faults).toEqual(['cell_ov_l1']);
    expect(ov.alarms).toEqual([
      { code: 'cell_ov', severity: 'warning', level: 1, source: 'cell_ov_l1' },
    ]);
    expect(withAlarm(0, 0x0100).raw?.faults).toEqual(['chg_ot_l1']);
    const lvl2 = withAlarm(1, 0x0002);
    expect(lvl2.raw?.faults).toEqual(['chg_oc_l2']);
    expect(lvl2.alarms?.[0]).toMatchObject({ code: 'chg_oc', severity: 'protection', level: 2 });
    expect(withAlarm(1, 0x0c00).raw?.faults).toEqual(['temp_diff_l1', 'temp_diff_l2']);
    expect(withAlarm(2, 0x0100).alarms).toEqual([
      { code: 'afe_fault', severity: 'fault', source: 'afe_fault' },
    ]);
    expect(withAlarm(2, 0x0001).alarms?.[0]).toMatchObject({
      code: 'mos_ot',
      source: 'chg_mos_ot',
    });
    expect(withAlarm(3, 0x0008).raw?.faults).toEqual(['low_voltage_no_charge']);
    const code = withAlarm(3, 0x0700);
    expect(code.raw?.fault_code).toBe(7);
    expect(code.alarms).toEqual([
      { code: 'fault_other', severity: 'fault', source: 'fault_code_7' },
    ]);
    // Bit order across bytes: byte 0 bit 0 first.
    expect(withAlarm(0, 0x0181).raw?.faults).toEqual(['cell_ov_l1', 'pack_uv_l2', 'chg_ot_l1']);
    expect(definition.decode(STATUS62).alarms).toEqual([]);
  });

  it('decodes a partial read by its start register (0x3E x 9: MOS temperature)', () => {
    const v = vec('d2_partial_0x3e_9regs_mos_29c');
    const r = definition.decode(hexToBytes(v.response_hex), {
      request: hexToBytes(v.request_hex!),
    });
    expect(r.mos_temp_c).toBe(29);
    expect(r.board_temp_c).toBeUndefined(); // 0xFFFF = not supported
    expect(r.cell_mv).toBeUndefined();
    expect(r.raw?.register_start).toBe(0x3e);
  });

  it('decodes the settings block into raw keys and canonical parameter ids', () => {
    const v = vec('d2_settings_0x80_41regs');
    const r = definition.decode(hexToBytes(v.response_hex), {
      request: hexToBytes(v.request_hex!),
    });
    expect(r.design_ah).toBe(105);
    expect(r.raw?.battery_type).toBe('lfp');
    expect(r.raw?.chg_ut_warn_c).toBe(0);
    expect(r.raw?.dsg_ut_warn_c).toBe(-1);
    const p = parametersFromReading(r);
    expect(p).toMatchObject({
      design_capacity_ah: 105,
      cell_ov_l1_mv: 3500,
      cell_uv_l2_mv: 2600,
      pack_ov_l1_v: 14,
      balance_start_mv: 3200,
      balance_delta_mv: 20,
      chg_oc_l1_a: 10,
      mos_ot_l1_c: 47,
      charge_enabled: 1,
    });
    for (const id of Object.keys(p)) expect(parameter(id), id).toBeDefined();
    for (const d of definition.parameters) expect(parameter(d.id), d.id).toBeDefined();
  });

  it('reads the version strings of both field widths', () => {
    const data = new Uint8Array(64);
    data.set(
      [...'401012'].map((c) => c.charCodeAt(0)),
      0,
    );
    data.set(
      [...'SH39F003'].map((c) => c.charCodeAt(0)),
      32,
    );
    const regs = Array.from({ length: 32 }, (_, i) => (data[2 * i]! << 8) | data[2 * i + 1]!);
    const req = definition.encode({ command: 'read_version', address: 0xd2 });
    expect(definition.decode(reply(0xd2, regs), { request: req }).info).toEqual({
      sw_version: '401012',
      hw_version: 'SH39F003',
    });
    const narrow = new Uint8Array(64);
    narrow.set(
      [...'V1.2'].map((c) => c.charCodeAt(0)),
      0,
    );
    narrow.set(
      [...'HW7'].map((c) => c.charCodeAt(0)),
      16,
    );
    const regs2 = Array.from({ length: 32 }, (_, i) => (narrow[2 * i]! << 8) | narrow[2 * i + 1]!);
    expect(definition.decode(reply(0xd2, regs2), { request: req }).info).toEqual({
      sw_version: 'V1.2',
      hw_version: 'HW7',
    });
  });

  it('decodes the p81 layout (reply unit 0x51 answers request unit 0x81)', () => {
    const v = vec('p81_cells_ess_dl_16s');
    const r = definition.decode(hexToBytes(v.response_hex));
    expect(r.address).toBe(0x81);
    expect(r.cell_mv).toHaveLength(16);
    expect(r.raw?.heartbeat_counter).toBe(0xb6);
    // Block 2 (0x41 x 62): state, capacity, MOSFETs, power, temperatures.
    const regs = new Array<number>(62).fill(0);
    const at = (reg: number, v2: number): void => {
      regs[reg - 0x41] = v2;
    };
    at(0x48, 2);
    at(0x4b, 1234);
    at(0x4c, 17);
    at(0x52, 1);
    at(0x53, 1);
    at(0x55, 0);
    at(0x58, 470);
    at(0x5a, 65);
    const req = definition.encode({ command: 'read_status_ext', address: 0x81 });
    const b = definition.decode(reply(0x51, regs), { request: req });
    expect(b).toMatchObject({
      state: 'discharging',
      remaining_ah: 123.4,
      cycles: 17,
      charge_mos: true,
      heater: false,
      mos_temp_c: 25,
    });
    expect(b.raw?.power_w).toBe(470);
    expect(b.power_w).toBeUndefined(); // no current in this window: sign unknown
  });

  it('turns a Modbus exception into DEVICE_ERROR_REPLY', () => {
    const ex = new Uint8Array([0xd2, 0x83, 0x02, 0, 0]);
    const crc = crc16Modbus(ex, 0, 3);
    ex[3] = crc & 0xff;
    ex[4] = crc >> 8;
    expect(codeOf(() => definition.decode(ex))).toBe('DEVICE_ERROR_REPLY');
  });

  it('emits only catalog metrics at the top level', () => {
    for (const v of vectors.vectors) {
      let r: Reading;
      try {
        r = definition.decode(
          hexToBytes(v.response_hex),
          v.request_hex ? { request: hexToBytes(v.request_hex) } : {},
        );
      } catch {
        continue;
      }
      for (const k of Object.keys(r)) if (k !== 'raw') expect(isMetric(k), k).toBe(true);
      for (const k of Object.keys(r)) if (k !== 'raw') expect(definition.metrics, k).toContain(k);
    }
  });
});

describe('daly-modbus requests', () => {
  it('encodes the doc examples', () => {
    expect(bytesToHex(definition.encode({ command: 'read_status', address: 0xd2 }))).toBe(
      'd2030000003ed7b9',
    );
    expect(bytesToHex(definition.encode({ command: 'read_status', address: 0x81 }))).toBe(
      '8103000000405bfa',
    );
    expect(bytesToHex(definition.encode({ command: 'read_balancer_switch' }))).toBe(
      'd20300cf0001a796',
    );
    expect(
      bytesToHex(
        definition.encode({ command: 'set_charge_mos', address: 0xd2, args: { on: true } }),
      ),
    ).toMatch(/^d20600a50001/);
    expect(
      bytesToHex(definition.encode({ command: 'set_soc', address: 0xd2, args: { soc_pct: 68 } })),
    ).toMatch(/^d20600a702a8/);
    expect(
      bytesToHex(
        definition.encode({ command: 'set_discharge_mos', address: 0x81, args: { on: false } }),
      ),
    ).toMatch(/^810601220000/);
  });

  it('parses the vendor FC 0x10 example without byte count and re-encodes it', () => {
    const x = hexToBytes('d210000c0002000100027d65');
    const r = definition.parseRequest(x);
    expect(r).toEqual({
      command: 'write_registers',
      address: 0xd2,
      args: { start: 12, values: [1, 2], byte_count_field: false },
    });
    expect(bytesToHex(definition.encode(r))).toBe('d210000c0002000100027d65');
  });

  it('round-trips every vector request and every example', () => {
    for (const v of vectors.vectors) {
      if (!v.request_hex) continue;
      expect(
        bytesToHex(definition.encode(definition.parseRequest(hexToBytes(v.request_hex)))),
        v.id,
      ).toBe(v.request_hex);
    }
    for (const r of definition.requestExamples)
      expect(definition.parseRequest(definition.encode(r))).toEqual(r);
    const cmds = new Set(definition.requestExamples.map((r) => r.command));
    for (const c of definition.commands) expect(cmds, c.id).toContain(c.id);
  });

  it('refuses bad arguments and units with coded errors', () => {
    expect(codeOf(() => definition.encode({ command: 'read_status', address: 0x01 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => definition.encode({ command: 'set_soc', args: { soc_pct: 120 } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      codeOf(() =>
        definition.encode({ command: 'write_parameter', args: { id: 'chg_oc_l1_a', value: 10 } }),
      ),
    ).toBe('COMMAND_UNSUPPORTED');
    expect(
      codeOf(() =>
        definition.encode({
          command: 'write_parameter',
          args: { id: 'cell_ov_l1_mv', value: 3550.5 },
        }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => definition.encode({ command: 'nope' }))).toBe('COMMAND_UNSUPPORTED');
    expect(codeOf(() => definition.parseRequest(hexToBytes('d2030000003ed7b8')))).toBe(
      'FRAME_CHECKSUM',
    );
  });
});

function runSession(s: ReadSession, replies: Map<string, string>): Reading {
  for (let step = s.next(); step; step = s.next()) {
    const resp = replies.get(bytesToHex(step.request));
    expect(resp, `no scripted reply for step ${step.name}`).toBeDefined();
    const framer = definition.createFramer();
    const frames: Uint8Array[] = [];
    // Deliver in BLE-sized chunks, with a stale frame of another read in front.
    const stale = hexToBytes(vec('d2_balancer_switch_on').response_hex);
    const bytes = concatBytes([
      step.name === 'balancer_switch' ? new Uint8Array(0) : stale,
      hexToBytes(resp!),
    ]);
    for (let i = 0; i < bytes.length && !step.complete(frames); i += 20) {
      for (const e of framer.push(bytes.subarray(i, i + 20)))
        if (e.type === 'frame' && step.accepts(e.bytes)) frames.push(e.bytes);
    }
    expect(step.complete(frames), step.name).toBe(true);
    s.accept(step, frames);
  }
  return s.result();
}

describe('daly-modbus read session', () => {
  it('sends exactly the scripted requests and merges the expected snapshot', () => {
    const s = definition.readSession(session.options);
    const sent: string[] = [];
    const replies = new Map(session.exchanges.map((e) => [e.request_hex, e.response_hex]));
    const proxy: ReadSession = {
      next: () => {
        const st = s.next();
        if (st) sent.push(`${st.name}:${bytesToHex(st.request)}`);
        return st;
      },
      accept: (st, f) => s.accept(st, f),
      result: () => s.result(),
    };
    const r = runSession(proxy, replies);
    expect(sent).toEqual(session.exchanges.map((e) => `${e.step}:${e.request_hex}`));
    expect(r).toMatchObject(session.expected);
    expect(r.raw?.registers_u16).toBeUndefined();
  });

  it('marks the optional steps and defaults to the D2 unit', () => {
    const s = definition.readSession({});
    const first = s.next()!;
    expect(bytesToHex(first.request)).toBe('d2030000003ed7b9');
    expect(first.optional).toBeFalsy();
    const names: [string, boolean][] = [];
    for (let st = s.next(); st; st = s.next()) names.push([st.name, st.optional === true]);
    expect(names).toEqual([
      ['status_ext', true],
      ['settings', true],
      ['version', true],
      ['balancer_switch', true],
    ]);
    const p = definition.readSession({ variant: 'p81' }).next()!;
    expect(bytesToHex(p.request)).toBe('8103000000405bfa');
    expect(p.accepts(hexToBytes(vec('p81_cells_ess_dl_16s').response_hex))).toBe(true);
    expect(p.accepts(STATUS62)).toBe(false);
    expect(codeOf(() => definition.readSession({ variant: 'x' }))).toBe('VARIANT_UNKNOWN');
    expect(codeOf(() => definition.readSession({ address: 0xd2, variant: 'p81' }))).toBe(
      'INVALID_ARGUMENT',
    );
  });
});
