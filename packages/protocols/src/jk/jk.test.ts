import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMetric, parameter, type Reading } from '@openbms/core';
import type { FramerEvent, ReadSession, Request } from '../types.js';
import { bytesToHex, concatBytes, hexToBytes } from '../util/bytes.js';
import { crc16Modbus, sum16, sum8 } from '../util/checksum.js';
import { definition } from './index.js';
import { codeOf } from '../testing/checks.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Vector {
  id: string;
  request_hex: string | null;
  response_hex: string;
  variant?: string;
  expected: Record<string, unknown>;
}
const vectors = (
  JSON.parse(readFileSync(join(here, 'fixtures/vectors.json'), 'utf8')) as { vectors: Vector[] }
).vectors;
const vec = (id: string): Vector => vectors.find((v) => v.id === id)!;
const bytesOf = (id: string): Uint8Array => hexToBytes(vec(id).response_hex);

interface SessionFixture {
  options: { address: number; variant: string };
  exchanges: { step: string; request_hex: string; response_hex: string; source: string }[];
  expected: Record<string, unknown>;
}
const sessionFixture = JSON.parse(
  readFileSync(join(here, 'fixtures/session.json'), 'utf8'),
) as SessionFixture;

/** Deterministic PRNG so failures are reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function chunked(bytes: Uint8Array, rand: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < bytes.length) {
    const n = 1 + Math.floor(rand() * 40);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

function runFramer(stream: Uint8Array, seed: number): FramerEvent[] {
  const f = definition.createFramer();
  const events: FramerEvent[] = [];
  for (const c of chunked(stream, rng(seed))) events.push(...f.push(c));
  events.push(...f.end());
  return events;
}

const frames = (ev: FramerEvent[]): Uint8Array[] =>
  ev.flatMap((e) => (e.type === 'frame' ? [e.bytes] : []));
const discards = (ev: FramerEvent[]): Extract<FramerEvent, { type: 'discard' }>[] =>
  ev.flatMap((e) => (e.type === 'discard' ? [e] : []));

/** A copy of a 55AA record with patched bytes and a fixed-up sum8. */
function patchRecord(rec: Uint8Array, patch: (b: Uint8Array, dv: DataView) => void): Uint8Array {
  const b = rec.slice(0, 300);
  patch(b, new DataView(b.buffer));
  b[299] = sum8(b, 0, 299);
  return b;
}

/** A copy of a 4E57 frame with patched bytes and a fixed-up 16-bit sum. */
function patchNw(frame: Uint8Array, patch: (b: Uint8Array) => void): Uint8Array {
  const b = frame.slice();
  patch(b);
  const s = sum16(b, 0, b.length - 2);
  b[b.length - 2] = s >> 8;
  b[b.length - 1] = s & 0xff;
  return b;
}

function ack(unit: number, register: number): Uint8Array {
  const b = new Uint8Array([unit, 0x10, register >> 8, register & 0xff, 0, 1, 0, 0]);
  const c = crc16Modbus(b, 0, 6);
  b[6] = c & 0xff;
  b[7] = c >> 8;
  return b;
}

function expectClose(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    expect(Math.abs((actual as number) - expected), path).toBeLessThan(1e-6);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    expect((actual as unknown[]).length, path).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e, `${path}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    for (const [k, v] of Object.entries(expected))
      expectClose((actual as Record<string, unknown>)?.[k], v, `${path}.${k}`);
  } else {
    expect(actual, path).toBe(expected);
  }
}

describe('jk framer', () => {
  const valid = vectors.filter((v) => v.expected.error !== true);

  it.each(valid.map((v) => [v.id, v] as const))(
    'finds %s in split, garbage-wrapped streams',
    (_id, v) => {
      const bytes = hexToBytes(v.response_hex);
      const garbage = hexToBytes('41540d0a ff 12 55 aa 4e 00 99');
      for (let seed = 1; seed <= 5; seed++) {
        const ev = runFramer(concatBytes([garbage, bytes, garbage]), seed);
        expect(bytesToHex(concatBytes(frames(ev)))).toBe(v.response_hex);
        const d = discards(ev);
        expect(d.length).toBeGreaterThan(0);
        for (const x of d) {
          expect(x.code).toMatch(/^FRAME_/);
          expect(x.reason.length).toBeGreaterThan(0);
        }
        expect(d.reduce((n, x) => n + x.bytes.length, 0)).toBe(2 * garbage.length);
      }
    },
  );

  it('splits a JK-PB reply into the record and the 0x00 + ACK trailer', () => {
    const ev = runFramer(bytesOf('jkpb_rs485_status_0x1620'), 7);
    const f = frames(ev);
    expect(f.map((x) => x.length)).toEqual([300, 9]);
    expect(bytesToHex(f[1]!)).toBe('0003101620000105a9');
  });

  it('delivers back-to-back records and drops interleaved AT\\r\\n and 320-byte padding', () => {
    const a = bytesOf('jk02_32s_pb_v19_27_cell_info_discharging');
    const padded = concatBytes([
      bytesOf('jk02_24s_v10_cell_info_24s'),
      new Uint8Array(20).fill(0xaa),
    ]);
    const at = new TextEncoder().encode('AT\r\n');
    const ev = runFramer(concatBytes([a, at, padded, a]), 3);
    expect(frames(ev).map((x) => x.length)).toEqual([300, 300, 300]);
    const d = discards(ev);
    // Runs may be reported in pieces when a chunk ends inside them.
    expect(new Set(d.map((x) => x.code))).toEqual(new Set(['FRAME_NO_START']));
    expect(bytesToHex(concatBytes(d.map((x) => x.bytes)))).toBe('41540d0a' + 'aa'.repeat(20));
  });

  it('reports a record with a bad checksum instead of emitting it', () => {
    const ev = runFramer(bytesOf('jk02_bad_checksum_derived'), 11);
    expect(frames(ev)).toEqual([]);
    expect(discards(ev)[0]!.code).toBe('FRAME_CHECKSUM');
    const nw = runFramer(bytesOf('jk_4e57_bad_checksum_derived'), 11);
    expect(frames(nw)).toEqual([]);
    expect(discards(nw)[0]!.code).toBe('FRAME_CHECKSUM');
  });

  it('finds a record hidden behind a false start marker', () => {
    const rec = bytesOf('jk02_32s_pb_v14_20_cell_info_a');
    const ev = runFramer(concatBytes([rec.subarray(0, 120), rec]), 5);
    expect(frames(ev).map(bytesToHex)).toEqual([bytesToHex(rec)]);
    expect(discards(ev)[0]!.bytes.length).toBe(120);
  });

  it('keeps a half record pending and reports it as truncated at the end of the stream', () => {
    const f = definition.createFramer();
    expect(f.push(bytesOf('jk02_32s_pb_v14_20_cell_info_a').subarray(0, 150))).toEqual([]);
    expect(f.pending).toBe(150);
    const ev = f.end();
    expect(ev).toHaveLength(1);
    expect(ev[0]!.type === 'discard' && ev[0]!.code).toBe('FRAME_TRUNCATED');
  });
});

describe('jk decode', () => {
  it('takes the responder address from the RS485 ACK and checks it against the request', () => {
    const bytes = bytesOf('jkpb_rs485_status_0x1620');
    const r = definition.decode(bytes, { variant: 'JK02_32S' });
    expect(r.address).toBe(3);
    expect(r.raw?.trigger_register).toBe(0x1620);
    const otherUnit = hexToBytes('051016200001020000cf91');
    expect(
      codeOf(() => definition.decode(bytes, { variant: 'JK02_32S', request: otherUnit })),
    ).toBe('FRAME_UNEXPECTED');
    // A settings record followed by the ACK of the status trigger is not that answer.
    const settings = concatBytes([
      bytesOf('jkpb_rs485_settings_0x161e'),
      new Uint8Array([0]),
      ack(3, 0x1620),
    ]);
    expect(codeOf(() => definition.decode(settings))).toBe('FRAME_UNEXPECTED');
    // Record + bare ACK, and record + 00 + ACK + 00, are the same reply.
    const rec = bytes.subarray(0, 300);
    expect(
      definition.decode(concatBytes([rec, ack(3, 0x1620)]), { variant: 'JK02_32S' }).address,
    ).toBe(3);
    expect(
      definition.decode(concatBytes([bytes, new Uint8Array([0])]), { variant: 'JK02_32S' }).address,
    ).toBe(3);
  });

  it('rejects garbage around a record, truncation, and bad trailers with coded errors', () => {
    const rec = bytesOf('jk02_32s_pb_v14_20_cell_info_a');
    const o = { variant: 'JK02_32S' };
    expect(codeOf(() => definition.decode(concatBytes([rec, new Uint8Array([1, 2, 3])]), o))).toBe(
      'FRAME_MALFORMED',
    );
    expect(
      codeOf(() => definition.decode(concatBytes([new Uint8Array([0x41]), rec]), o)),
    ).toBeDefined();
    expect(codeOf(() => definition.decode(rec.subarray(0, 299), o))).toBe('FRAME_TRUNCATED');
    const badAck = concatBytes([rec, new Uint8Array([0]), ack(3, 0x1620)]);
    badAck[308] = badAck[308]! ^ 0xff;
    expect(codeOf(() => definition.decode(badAck, o))).toBe('FRAME_MALFORMED');
    expect(codeOf(() => definition.decode(new Uint8Array(0)))).toBe('FRAME_TRUNCATED');
  });

  it('needs a known layout for cell-info records', () => {
    const rec = bytesOf('jk02_32s_pb_v14_20_cell_info_a');
    expect(codeOf(() => definition.decode(rec))).toBe('DECODE_CONTEXT_MISSING');
    expect(codeOf(() => definition.decode(rec, { variant: '4E57' }))).toBe(
      'DECODE_CONTEXT_MISSING',
    );
    expect(codeOf(() => definition.decode(rec, { variant: 'JK04' }))).toBe('VARIANT_UNKNOWN');
    expect(definition.decode(rec, { variant: 'jk02_32s' }).cell_count).toBe(16);
    const logbook = patchRecord(rec, (b) => (b[4] = 0x05));
    expect(codeOf(() => definition.decode(logbook, { variant: 'JK02_32S' }))).toBe(
      'DECODE_UNSUPPORTED',
    );
  });

  it('accepts the documented 320-byte padded record', () => {
    const rec = concatBytes([bytesOf('jk02_24s_v10_cell_info_24s'), new Uint8Array(20)]);
    expect(definition.decode(rec, { variant: 'JK02_24S' }).cell_count).toBe(24);
  });

  it('reports discharge as negative current and power, and honours invertCurrent', () => {
    const bytes = bytesOf('jk02_32s_pb_v19_27_cell_info_discharging');
    const r = definition.decode(bytes, { variant: 'JK02_32S' });
    expect(r.current_a).toBeCloseTo(-0.727, 6);
    expect(r.power_w).toBeCloseTo(-39.28, 2);
    // The device's own power field is unsigned: it keeps the magnitude only.
    expect(r.raw?.device_power_w).toBeCloseTo(39.278, 6);
    const inv = definition.decode(bytes, { variant: 'JK02_32S', invertCurrent: true });
    expect(inv.current_a).toBeCloseTo(0.727, 6);
    const charging = patchRecord(bytes, (_b, dv) => dv.setInt32(158, 12_500, true));
    expect(definition.decode(charging, { variant: 'JK02_32S' }).current_a).toBeCloseTo(12.5, 6);
  });

  it('maps alarm bits to protocol identifiers (bit order) and taxonomy alarms', () => {
    const rec = bytesOf('jk02_32s_pb_v14_20_cell_info_a');
    const bits = (1 << 4) | (1 << 13) | (1 << 19) | (1 << 25);
    const r = definition.decode(
      patchRecord(rec, (_b, dv) => dv.setUint32(166, bits, true)),
      { variant: 'JK02_32S' },
    );
    expect(r.raw?.alarms).toEqual([
      'cell_ovp',
      'discharge_oc',
      'modify_password_in_time',
      'discharge_oc2',
    ]);
    expect(r.raw?.alarm_bitmask_hex).toBe('02082010');
    expect(r.alarms).toEqual([
      { code: 'cell_ov', severity: 'protection', source: 'cell_ovp' },
      { code: 'dsg_oc', severity: 'protection', source: 'discharge_oc' },
      { code: 'dsg_oc', severity: 'protection', level: 2, source: 'discharge_oc2' },
    ]);
    // JK02_24S carries 16 bits at offset 136.
    const r24 = definition.decode(
      patchRecord(bytesOf('jk02_24s_v10_cell_info_24s'), (_b, dv) =>
        dv.setUint16(136, 0x8003, true),
      ),
      { variant: 'JK02_24S' },
    );
    expect(r24.raw?.alarms).toEqual(['wire_resistance', 'mos_ot', 'discharge_ot']);
    expect(r24.alarms?.map((a) => a.code)).toEqual(['wire_resistance', 'mos_ot', 'dsg_ot']);
    expect(r24.raw?.alarm_bitmask_hex).toBe('8003');
  });

  it('takes cells from the enabled-cell mask, not from non-zero values', () => {
    const rec = bytesOf('jk02_32s_pb_v14_20_cell_info_a');
    // 15 cells enabled while cell 16 still holds a value.
    const r = definition.decode(
      patchRecord(rec, (_b, dv) => dv.setUint32(70, 0x7fff, true)),
      { variant: 'JK02_32S' },
    );
    expect(r.cell_count).toBe(15);
    expect(r.cell_mv).toHaveLength(15);
    expect(r.cell_resistance_mohm).toHaveLength(15);
    // A mask with bits beyond the layout's 32 / 24 cells never grows the list.
    const r24 = definition.decode(
      patchRecord(bytesOf('jk02_24s_v10_cell_info_24s'), (_b, dv) =>
        dv.setUint32(54, 0xffffffff, true),
      ),
      { variant: 'JK02_24S' },
    );
    expect(r24.cell_mv).toHaveLength(24);
  });

  it('reports only the temperature sensors the record marks present', () => {
    const rec = bytesOf('jk02_32s_pb_v14_20_cell_info_high_delta');
    const r = definition.decode(
      patchRecord(rec, (b) => (b[214] = 0b11111101)),
      { variant: 'JK02_32S' },
    );
    expect(r.temps_c).toEqual([17.0]);
    expect(r.mos_temp_c).toBe(18.2);
    const neg = definition.decode(
      patchRecord(rec, (_b, dv) => dv.setInt16(162, -31, true)),
      { variant: 'JK02_32S' },
    );
    expect(neg.temps_c).toEqual([-3.1, 17.0]);
  });

  it('decodes settings into catalog-named values and the 32S extras', () => {
    const bytes = bytesOf('jkpb_rs485_settings_0x161e');
    const plain = definition.decode(bytes);
    expect(plain.design_ah).toBe(280);
    expect(plain.cell_count).toBe(16);
    expect(plain.raw?.device_address).toBeUndefined();
    const r = definition.decode(bytes, { variant: 'JK02_32S' });
    expect(r.raw?.device_address).toBe(3);
    expect(r.raw?.request_charge_v).toBe(3.45);
  });

  it('decodes device info into info fields and suggests the layout from the firmware', () => {
    const r = definition.decode(bytesOf('jk_device_info_b2a24s20p_v10'));
    expect(r.info).toEqual({
      model: 'JK-B2A24S20P',
      hw_version: '10.XG',
      sw_version: '10.07',
      serial: '2041803028',
      manufacture_date: '2022-05-11',
      device_name: 'JK-B2A24S20P',
    });
    expect(r.raw?.suggested_variant).toBe('JK02_24S');
    expect(definition.decode(bytesOf('jk_device_info_pb2a16s20p_v19')).raw?.suggested_variant).toBe(
      'JK02_32S',
    );
    // Passcodes are never reported.
    expect(JSON.stringify(r)).not.toContain('1234');
  });

  it('decodes the 4E57 current sign bit, the legacy offset encoding and negative temperatures', () => {
    const frame = bytesOf('jk_4e57_b1a20s15p_14s');
    // Item 0x84 sits at offset 67 (ID) / 68..69 (value); 0x81 at 58; 0xC0 value at 275.
    expect(frame[67]).toBe(0x84);
    expect(frame[274]).toBe(0xc0);
    const dis = patchNw(frame, (b) => (b[68] = 0x01));
    expect(definition.decode(dis).current_a).toBeCloseTo(-4.53, 6);
    const legacy = patchNw(frame, (b) => {
      b[275] = 0;
      b[68] = 0x27;
      b[69] = 0x74; // 10100 -> -1.00 A
    });
    const lr = definition.decode(legacy);
    expect(lr.current_a).toBeCloseTo(-1, 6);
    expect(lr.raw?.current_encoding).toBe('offset_10000_uncertain');
    const cold = patchNw(frame, (b) => (b[60] = 105));
    expect(frame[58]).toBe(0x81);
    expect(definition.decode(cold).temps_c).toEqual([-5, 30]);
    const r = definition.decode(frame);
    expect(r.info?.sw_version).toBe('11.XW_S11.261__');
    expect(r.info?.manufacture_date).toBe('2023-06');
    expect(r.design_ah).toBe(234);
    expect(JSON.stringify(r)).not.toContain('123456');
  });

  it('maps 4E57 warning bits', () => {
    const frame = bytesOf('jk_4e57_b1a20s15p_14s');
    expect(frame[85]).toBe(0x8b);
    const r = definition.decode(patchNw(frame, (b) => ((b[86] = 0x04), (b[87] = 0x82))));
    expect(r.raw?.alarms).toEqual(['mos_ot', 'cell_delta', 'cell_ov']);
    expect(r.alarms?.map((a) => a.code)).toEqual(['mos_ot', 'cell_diff', 'cell_ov']);
  });

  it('decodes bare Modbus replies and reports exceptions', () => {
    expect(definition.decode(ack(3, 0x1620))).toEqual({
      address: 3,
      raw: { function: 0x10, ack_register: 0x1620, ack_count: 1 },
    });
    const exc = new Uint8Array([3, 0x90, 2, 0, 0]);
    const c = crc16Modbus(exc, 0, 3);
    exc[3] = c & 0xff;
    exc[4] = c >> 8;
    expect(codeOf(() => definition.decode(exc))).toBe('DEVICE_ERROR_REPLY');
  });

  it('emits only catalog keys at the top level and no NaN', () => {
    for (const v of vectors.filter((x) => x.expected.error !== true)) {
      const r = definition.decode(
        hexToBytes(v.response_hex),
        v.variant ? { variant: v.variant } : {},
      );
      for (const [k, val] of Object.entries(r)) {
        if (k === 'raw') continue;
        expect(isMetric(k), `${v.id}: ${k}`).toBe(true);
        expect(definition.metrics, `${v.id}: ${k}`).toContain(k);
        if (typeof val === 'number') expect(Number.isFinite(val)).toBe(true);
      }
    }
  });
});

describe('jk definition', () => {
  it('lists only catalog parameters, once each, with write registers for the rw ones', () => {
    const ids = definition.parameters.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of definition.parameters) {
      expect(parameter(p.id), p.id).toBeDefined();
      if (p.access === 'rw') expect(p.wire, p.id).toMatch(/write reg|4E57 item/);
    }
    expect(definition.parameters.find((p) => p.id === 'cell_ov_l2_mv')?.wire).toContain('@18');
  });
});

describe('jk requests', () => {
  it('encodes the documented examples', () => {
    expect(bytesToHex(definition.encode({ command: 'ble_device_info' }))).toBe(
      'aa5590eb970000000000000000000000000000' + '11',
    );
    expect(bytesToHex(definition.encode({ command: 'ble_cell_info' }))).toBe(
      'aa5590eb960000000000000000000000000000' + '10',
    );
    expect(bytesToHex(definition.encode({ command: 'set_charge_mos', args: { on: true } }))).toBe(
      'aa5590eb1d040100000000000000000000000000'.slice(0, 38) + '9c',
    );
    expect(bytesToHex(definition.encode({ command: 'pb_read_status', address: 3 }))).toBe(
      '031016200001020000cf91',
    );
    expect(bytesToHex(definition.encode({ command: 'nw_read_all' }))).toBe(
      '4e57001300000000060300000000000068000001' + '29',
    );
  });

  it.each(vectors.filter((v) => v.request_hex).map((v) => [v.id, v.request_hex!] as const))(
    'parses and re-encodes the request of %s',
    (_id, hex) => {
      const req = definition.parseRequest(hexToBytes(hex));
      expect(bytesToHex(definition.encode(req))).toBe(hex);
    },
  );

  it('round-trips every request example and covers every command', () => {
    for (const r of definition.requestExamples)
      expect(definition.parseRequest(definition.encode(r))).toEqual(r);
    const covered = new Set(definition.requestExamples.map((r) => r.command));
    expect([...covered].sort()).toEqual(definition.commands.map((c) => c.id).sort());
  });

  it('rejects bad requests with coded errors', () => {
    const cmd = definition.encode({ command: 'ble_device_info' });
    cmd[19] = cmd[19]! ^ 1;
    expect(codeOf(() => definition.parseRequest(cmd))).toBe('FRAME_CHECKSUM');
    expect(codeOf(() => definition.encode({ command: 'nope' }))).toBe('COMMAND_UNSUPPORTED');
    expect(codeOf(() => definition.encode({ command: 'set_charge_mos' }))).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() =>
        definition.encode({ command: 'ble_write', args: { register: 4, value: 2 ** 32 } }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => definition.encode({ command: 'nw_write', args: { item: 0xb7, value: 1 } })),
    ).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => definition.parseRequest(hexToBytes('0310')))).toBe('FRAME_TRUNCATED');
  });

  it('parses generic writes with their value width and sign', () => {
    const req: Request = {
      command: 'ble_write',
      args: { register: 0x06, value: 10, length: 2, seq: 5 },
    };
    const bytes = definition.encode(req);
    expect(bytes[5]).toBe(2);
    expect(bytes[16]).toBe(5);
    expect(definition.parseRequest(bytes)).toEqual(req);
    // A trigger-shaped FC 0x10 to another register stays a generic write.
    expect(
      definition.parseRequest(
        definition.encode({
          command: 'modbus_write',
          address: 2,
          args: { register: 0x1622, values: [0] },
        }),
      ),
    ).toEqual({
      command: 'modbus_write',
      address: 2,
      args: { register: 0x1622, values: [0] },
    });
  });
});

/** Runs a read session against scripted replies, through the framer, like a transport would. */
function runSession(
  session: ReadSession,
  reply: (name: string, request: Uint8Array) => Uint8Array,
  seed = 1,
): string[] {
  const names: string[] = [];
  const rand = rng(seed);
  for (let step = session.next(); step; step = session.next()) {
    names.push(step.name);
    const framer = definition.createFramer();
    const got: Uint8Array[] = [];
    let done = false;
    for (const c of chunked(reply(step.name, step.request), rand)) {
      for (const e of framer.push(c)) {
        if (done || e.type !== 'frame' || !step.accepts(e.bytes)) continue;
        got.push(e.bytes);
        done = step.complete(got);
      }
    }
    expect(done, `step ${step.name} complete`).toBe(true);
    session.accept(step, got);
  }
  return names;
}

describe('jk read session', () => {
  const byStep = new Map(sessionFixture.exchanges.map((x) => [x.step, x]));

  it('sends exactly the recorded requests and merges the fixture replies', () => {
    const s = definition.readSession(sessionFixture.options);
    const names = runSession(s, (name, request) => {
      const x = byStep.get(name)!;
      expect(bytesToHex(request)).toBe(x.request_hex);
      return hexToBytes(x.response_hex);
    });
    expect(names).toEqual(sessionFixture.exchanges.map((x) => x.step));
    const r: Reading = s.result();
    expectClose(r, sessionFixture.expected);
    expect(r.raw?.alarms).toEqual([]);
    expect(r.raw?.cell_ovp_v).toBe(3.65);
  });

  it('ignores broadcast records, other units and other triggers until its own ACK', () => {
    const s = definition.readSession(sessionFixture.options);
    const stale = hexToBytes(byStep.get('cell_info')!.response_hex);
    runSession(s, (name) => {
      const own = hexToBytes(byStep.get(name)!.response_hex);
      const other = concatBytes([own.subarray(0, 300), new Uint8Array([0]), ack(4, 0x1620)]);
      // The master's own broadcast of a status record, a stale reply, then the real one.
      return concatBytes([stale.subarray(0, 300), other, stale, own]);
    });
    expect(s.result().info?.model).toBe('JK_PB2A16S20P');
    expect(s.result().address).toBe(3);
  });

  it('turns a Modbus exception into DEVICE_ERROR_REPLY', () => {
    const s = definition.readSession({ address: 3, variant: 'JK02_32S' });
    const step = s.next()!;
    const exc = new Uint8Array([0, 3, 0x90, 2, 0, 0]);
    const c = crc16Modbus(exc, 1, 4);
    exc[4] = c & 0xff;
    exc[5] = c >> 8;
    expect(step.optional).toBe(true);
    expect(step.accepts(exc)).toBe(true);
    expect(step.complete([exc])).toBe(true);
    expect(codeOf(() => s.accept(step, [exc]))).toBe('DEVICE_ERROR_REPLY');
  });

  it('runs the 4E57 read-all cycle', () => {
    const v = vec('jk_4e57_b1a20s15p_14s');
    const s = definition.readSession({ variant: '4E57' });
    const names = runSession(s, (_n, request) => {
      expect(bytesToHex(request)).toBe(v.request_hex);
      return hexToBytes(v.response_hex);
    });
    expect(names).toEqual(['read_all']);
    const r = s.result();
    expect(r.cell_count).toBe(14);
    expect(r.max_cell_mv).toBe(3988);
    expect(r.current_a).toBeCloseTo(4.53, 6);
    expect(r.temps_c).toEqual([28, 30]);
  });

  it('rejects unknown variants and addresses', () => {
    expect(codeOf(() => definition.readSession({ variant: 'JK04' }))).toBe('VARIANT_UNKNOWN');
    expect(codeOf(() => definition.readSession({ address: 0 }))).toBe('INVALID_ARGUMENT');
  });
});
