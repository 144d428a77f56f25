import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BmsError, isMetric, type Reading } from '@openbms/core';
import { bytesToHex, concatBytes, hexToBytes } from '../util/bytes.js';
import type { FramerEvent, Request } from '../types.js';
import { buildFrame, createRequestFramer, definition, jbdChecksum } from './index.js';
import { codeOf } from '../testing/checks.js';

const here = dirname(fileURLToPath(import.meta.url));
const vectors = JSON.parse(readFileSync(join(here, 'fixtures', 'vectors.json'), 'utf8')) as {
  vectors: {
    id: string;
    request_hex: string | null;
    response_hex: string;
    expected: Record<string, unknown>;
  }[];
};
const vec = (id: string): Uint8Array =>
  hexToBytes(vectors.vectors.find((v) => v.id === id)!.response_hex);

const BASIC_4S = vec('jbd_03_sp04s034_4s_a');
const CELLS_4S = vec('jbd_04_sp04s034_cells_a');
const HWVER = vec('jbd_05_hardware_version');
const BATMON = vec('jbd_03_batmon_8s_discharging');
const EXTENDED = vec('jbd_03_dp04s007_ble_extended');
const NO_NTC = vec('jbd_03_sp25s003_16s_no_ntc');
const ERRCOUNT = vec('jbd_aa_error_counters');
const MOS_ACK = vec('jbd_e1_mos_write_ack');

/** A request frame (direction byte, register, data) with its checksum. */
const buildRequest = (dir: number, register: number, data: number[] = []): Uint8Array =>
  buildFrame(dir, register, data);

/** The data bytes of a reply frame. */
const dataOf = (frame: Uint8Array): number[] => Array.from(frame.subarray(4, frame.length - 3));

/** A 0x03 reply built from the real 4S record with some data bytes replaced. */
function basicWith(patch: Record<number, number>): Uint8Array {
  const d = dataOf(BASIC_4S);
  for (const [o, v] of Object.entries(patch)) d[Number(o)] = v;
  return buildFrame(0x03, 0x00, d);
}

/** Pushes `stream` in chunks of the given sizes (cycled) and collects every event. */
function feed(
  stream: Uint8Array,
  sizes: number[],
  framer = definition.createFramer(),
): FramerEvent[] {
  const events: FramerEvent[] = [];
  let o = 0;
  for (let i = 0; o < stream.length; i++) {
    const n = sizes[i % sizes.length]!;
    events.push(...framer.push(stream.subarray(o, o + n)));
    o += n;
  }
  events.push(...framer.end());
  return events;
}

describe('jbd checksum and frame building', () => {
  it('is the two complement of the sum from offset 2', () => {
    expect(jbdChecksum(hexToBytes('dda50300'), 2, 4)).toBe(0xfffd);
    expect(jbdChecksum(hexToBytes('dde10000'), 2, 4)).toBe(0x0000);
    expect(bytesToHex(buildFrame(0x04, 0x00, dataOf(CELLS_4S)))).toBe(bytesToHex(CELLS_4S));
  });
});

describe('jbd decode 0x03', () => {
  it('decodes the real 4S record into canonical keys', () => {
    const r = definition.decode(BASIC_4S);
    expect(r).toMatchObject({
      voltage_v: 15.6,
      current_a: 0,
      power_w: 0,
      remaining_ah: 4.98,
      design_ah: 5,
      cycles: 0,
      soc_pct: 100,
      cell_count: 4,
      cell_balancing: [false, false, false, false],
      balancing: false,
      temp_sensor_count: 3,
      temps_c: [22.4, 22.3, 21.7],
      charge_mos: true,
      discharge_mos: true,
      alarms: [],
      info: { sw_version: '8.0', manufacture_date: '2022-03-28' },
    });
    expect(r.full_ah).toBeUndefined();
    expect(r.raw?.extra_bytes_hex).toBeUndefined();
    for (const k of Object.keys(r)) expect(isMetric(k) || k === 'raw', k).toBe(true);
  });

  it('keeps the wire sign: negative = discharging, and invertCurrent flips it', () => {
    const r = definition.decode(BATMON);
    expect(r.current_a).toBeCloseTo(-6.04, 6);
    expect(r.power_w).toBeCloseTo(-159.46, 2);
    expect(definition.decode(BATMON, { invertCurrent: true }).current_a).toBeCloseTo(6.04, 6);
    // 0x07D0 = +20.00 A charging
    expect(definition.decode(basicWith({ 2: 0x07, 3: 0xd0 })).current_a).toBe(20);
    // Vendor example 0xF824 = -20.12 A
    expect(definition.decode(basicWith({ 2: 0xf8, 3: 0x24 })).current_a).toBeCloseTo(-20.12, 6);
  });

  it('maps protection bits to protocol identifiers in bit order and to taxonomy alarms', () => {
    // bits 0 (cell OV), 9 (discharge OC), 10 (short), 11 (AFE), 12 (software lock), 13 (charge timeout)
    const bits = (1 << 0) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13);
    const r = definition.decode(basicWith({ 16: bits >> 8, 17: bits & 0xff }));
    expect(r.raw?.protection_bits).toBe(bits);
    expect(r.raw?.alarms).toEqual([
      'cell_ov',
      'dsg_oc',
      'short_circuit',
      'afe_fault',
      'mos_software_lock',
      'charge_timeout',
    ]);
    expect(r.alarms).toEqual([
      { code: 'cell_ov', severity: 'protection', source: 'cell_ov' },
      { code: 'dsg_oc', severity: 'protection', source: 'dsg_oc' },
      { code: 'short_circuit', severity: 'protection', source: 'short_circuit' },
      { code: 'afe_fault', severity: 'fault', source: 'afe_fault' },
      { code: 'chg_timeout', severity: 'protection', source: 'charge_timeout' },
    ]);
    const temps = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7);
    const t = definition.decode(basicWith({ 17: temps }));
    expect(t.alarms?.map((a) => a.code)).toEqual(['chg_ot', 'chg_ut', 'dsg_ot', 'dsg_ut']);
  });

  it('maps balance bits of both words to cells, truncated to the cell count', () => {
    // 20 cells: cell 1 and cell 17 balancing; bits beyond cell 20 are ignored
    const r = definition.decode(basicWith({ 12: 0x00, 13: 0x01, 14: 0x80, 15: 0x01, 21: 20 }));
    expect(r.cell_balancing).toHaveLength(20);
    expect(r.cell_balancing!.flatMap((b, i) => (b ? [i + 1] : []))).toEqual([1, 17]);
    expect(r.balancing).toBe(true);
  });

  it('decodes the FET bits independently', () => {
    expect(definition.decode(basicWith({ 20: 0x02 }))).toMatchObject({
      charge_mos: false,
      discharge_mos: true,
    });
    expect(definition.decode(NO_NTC)).toMatchObject({
      charge_mos: true,
      discharge_mos: false,
      temps_c: [],
    });
  });

  it('keeps the bytes after the temperatures of newer firmware as opaque hex', () => {
    const r = definition.decode(EXTENDED);
    expect(r.temps_c).toEqual([26.2]);
    expect(r.raw?.extra_bytes_hex).toBe('0000004e204adf0000');
    expect(r.info?.sw_version).toBe('2.3');
  });

  it('rejects records too short for their NTC count or with absurd counts', () => {
    expect(codeOf(() => definition.decode(basicWith({ 22: 4 })))).toBe('FRAME_TRUNCATED');
    expect(codeOf(() => definition.decode(basicWith({ 21: 200 })))).toBe('FRAME_MALFORMED');
    expect(
      codeOf(() => definition.decode(buildFrame(0x03, 0x00, dataOf(BASIC_4S).slice(0, 20)))),
    ).toBe('FRAME_TRUNCATED');
  });

  it('does not report an impossible production date in info', () => {
    const r = definition.decode(basicWith({ 10: 0, 11: 0 }));
    expect(r.raw?.production_date).toBe('2000-00-00');
    expect(r.info?.manufacture_date).toBeUndefined();
  });
});

describe('jbd decode other registers', () => {
  it('0x04: cells in mV, truncated to a known cell count', () => {
    expect(definition.decode(CELLS_4S).cell_mv).toEqual([3909, 3901, 3895, 3901]);
    expect(definition.decode(CELLS_4S, { cells: 3 }).cell_mv).toEqual([3909, 3901, 3895]);
    expect(definition.decode(CELLS_4S).cell_count).toBeUndefined();
    expect(codeOf(() => definition.decode(buildFrame(0x04, 0x00, [0x0f, 0x45, 0x0f])))).toBe(
      'FRAME_MALFORMED',
    );
  });

  it('0x05: model string into info', () => {
    const r = definition.decode(HWVER);
    expect(r.info).toEqual({
      model: 'JBD-SP04S034-L4S-200A-B-U',
      hw_version: 'JBD-SP04S034-L4S-200A-B-U',
    });
    expect(r.raw?.hardware_version).toBe('JBD-SP04S034-L4S-200A-B-U');
  });

  it('0xAA: counters by position and by name', () => {
    const r = definition.decode(ERRCOUNT);
    expect((r.raw?.error_counts as Record<string, number>).cell_ov).toBe(122);
    expect((r.raw?.error_counts as Record<string, number>).cell_uv).toBe(2);
    expect(r.raw?.trailing_hex).toBe('0001');
  });

  it('write acknowledgements decode to raw status only', () => {
    expect(definition.decode(MOS_ACK)).toEqual({
      raw: { status: 0, register: 0xe1, payload_hex: '' },
    });
    expect(definition.decode(hexToBytes('dd0100000000' + '77')).raw?.register).toBe(0x01);
  });

  it('a 0x80 status is a device error', () => {
    const err = buildFrame(0x03, 0x80);
    expect(bytesToHex(err)).toBe('dd038000ff8077');
    expect(codeOf(() => definition.decode(err))).toBe('DEVICE_ERROR_REPLY');
  });

  it('rejects garbage around the frame, bad markers, checksums and unknown registers', () => {
    const withTail = concatBytes([CELLS_4S, new Uint8Array([0x00])]);
    expect(codeOf(() => definition.decode(withTail))).toBe('FRAME_MALFORMED');
    expect(codeOf(() => definition.decode(concatBytes([new Uint8Array([0x00]), CELLS_4S])))).toBe(
      'FRAME_MALFORMED',
    );
    expect(codeOf(() => definition.decode(CELLS_4S.subarray(0, 10)))).toBe('FRAME_TRUNCATED');
    const badEnd = CELLS_4S.slice();
    badEnd[badEnd.length - 1] = 0x78;
    expect(codeOf(() => definition.decode(badEnd))).toBe('FRAME_MALFORMED');
    const badSum = CELLS_4S.slice();
    badSum[5] = badSum[5]! ^ 1;
    expect(codeOf(() => definition.decode(badSum))).toBe('FRAME_CHECKSUM');
    // 0x20 is an EEPROM register now (pack over-voltage); 0x60 has no decoder.
    expect(codeOf(() => definition.decode(buildFrame(0x60, 0x00, [0, 1])))).toBe(
      'DECODE_UNSUPPORTED',
    );
    expect(codeOf(() => definition.decode(hexToBytes('dda50300fffd77')))).toBe('FRAME_MALFORMED');
  });

  it('refuses a reply to another register than the request asked for', () => {
    const request = definition.encode({ command: 'read_basic_info' });
    expect(codeOf(() => definition.decode(CELLS_4S, { request }))).toBe('FRAME_UNEXPECTED');
    expect(definition.decode(BASIC_4S, { request }).voltage_v).toBe(15.6);
  });

  it('survives random bytes: only BmsError, never NaN', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 16) & 0xff;
    for (let n = 0; n < 3000; n++) {
      const d = Array.from({ length: rnd() % 60 }, rnd);
      if (n % 3 === 0 && d.length > 22) d[22] = rnd() % 40;
      const frame = buildFrame([0x03, 0x04, 0x05, 0xaa][n % 4]!, 0x00, d);
      try {
        const r = definition.decode(frame);
        const nums = JSON.stringify(r, (_k, v: unknown) => {
          if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
          return v;
        });
        expect(nums.length).toBeGreaterThan(0);
      } catch (e) {
        expect(e).toBeInstanceOf(BmsError);
      }
    }
  });
});

describe('jbd framer', () => {
  const garbage = hexToBytes('00ff77dd'); // ends with a false start marker
  const echo = hexToBytes('dda50300fffd77'); // our own request echoed by a half-duplex adapter
  const corrupt = vec('jbd_bad_checksum_derived');
  const stream = concatBytes([
    garbage,
    BASIC_4S,
    echo,
    CELLS_4S,
    corrupt,
    HWVER,
    hexToBytes('1234'),
    MOS_ACK,
  ]);

  for (const sizes of [[1], [2, 5], [3, 20, 1], [stream.length]]) {
    it(`finds every valid frame in chunks of ${sizes.join('/')}`, () => {
      const events = feed(stream, sizes);
      const frames = events.filter((e) => e.type === 'frame').map((e) => bytesToHex(e.bytes));
      expect(frames).toEqual([BASIC_4S, CELLS_4S, HWVER, MOS_ACK].map(bytesToHex));
      const discards = events.filter((e) => e.type === 'discard');
      const codes = new Set(discards.map((e) => (e.type === 'discard' ? e.code : '')));
      expect(codes.has('FRAME_NO_START')).toBe(true);
      expect(codes.has('FRAME_MALFORMED')).toBe(true); // the echoed request, the false dd
      expect(codes.has('FRAME_CHECKSUM')).toBe(true); // the corrupted 0x03 reply
      for (const d of discards)
        if (d.type === 'discard') expect(d.reason.length).toBeGreaterThan(0);
      // Every byte is accounted for.
      const total = events.reduce((n, e) => n + e.bytes.length, 0);
      expect(total).toBe(stream.length);
    });
  }

  it('waits for the rest of a split frame and flushes a truncated one on end()', () => {
    const f = definition.createFramer();
    expect(f.push(BASIC_4S.subarray(0, 10))).toEqual([]);
    expect(f.pending).toBe(10);
    const out = f.end();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ type: 'discard', code: 'FRAME_TRUNCATED' });
  });

  it('the request framer finds requests and rejects replies', () => {
    const reqs = concatBytes([
      hexToBytes('dd'),
      definition.encode({ command: 'read_cell_voltages' }),
      CELLS_4S,
      hexToBytes('dd5ae1020001ff1c77'),
    ]);
    const events = feed(reqs, [3], createRequestFramer());
    expect(events.filter((e) => e.type === 'frame').map((e) => bytesToHex(e.bytes))).toEqual([
      'dda50400fffc77',
      'dd5ae1020001ff1c77',
    ]);
  });
});

describe('jbd requests', () => {
  it('encodes the documented examples', () => {
    const hex = (r: Request): string => bytesToHex(definition.encode(r));
    expect(hex({ command: 'read_basic_info' })).toBe('dda50300fffd77');
    expect(hex({ command: 'read_cell_voltages' })).toBe('dda50400fffc77');
    expect(hex({ command: 'read_hardware_version' })).toBe('dda50500fffb77');
    expect(hex({ command: 'read_error_counters' })).toBe('dda5aa00ff5677');
    // V4 doc: discharge off
    expect(hex({ command: 'mos_control', args: { charge: true, discharge: false } })).toBe(
      'dd5ae1020002ff1b77',
    );
    // captured: charge off
    expect(hex({ command: 'mos_control', args: { charge: false, discharge: true } })).toBe(
      'dd5ae1020001ff1c77',
    );
    // captured: exit factory mode without saving
    expect(hex({ command: 'factory_mode_exit', args: { save: false } })).toBe('dd5a01020000fffd77');
    // the widely published enter-factory frame
    expect(hex({ command: 'factory_mode_enter' })).toBe('dd5a00025678ff3077');
  });

  it('round-trips every request example and every vector request', () => {
    for (const r of definition.requestExamples)
      expect(definition.parseRequest(definition.encode(r))).toEqual(r);
    for (const v of vectors.vectors) {
      if (!v.request_hex) continue;
      expect(
        bytesToHex(definition.encode(definition.parseRequest(hexToBytes(v.request_hex)))),
      ).toBe(v.request_hex);
    }
    const ids = new Set(definition.requestExamples.map((r) => r.command));
    expect([...ids].sort()).toEqual(definition.commands.map((c) => c.id).sort());
  });

  it('rejects bad requests and arguments with coded errors', () => {
    expect(codeOf(() => definition.encode({ command: 'set_soc' }))).toBe('COMMAND_UNSUPPORTED');
    expect(
      codeOf(() => definition.encode({ command: 'mos_control', args: { charge: true } })),
    ).toBe('INVALID_ARGUMENT');
    // A read with data (other than 0xFA's number and count) is not a request.
    expect(codeOf(() => definition.parseRequest(buildRequest(0xa5, 0x10, [1])))).toBe(
      'FRAME_MALFORMED',
    );
    expect(codeOf(() => definition.parseRequest(hexToBytes('dd5ae1020004ff1977')))).toBe(
      'FRAME_MALFORMED',
    );
    expect(codeOf(() => definition.parseRequest(CELLS_4S))).toBe('FRAME_MALFORMED');
    expect(codeOf(() => definition.parseRequest(hexToBytes('dda50300fffc77')))).toBe(
      'FRAME_CHECKSUM',
    );
  });
});

describe('jbd read session', () => {
  const session = JSON.parse(readFileSync(join(here, 'fixtures', 'session.json'), 'utf8')) as {
    options: Record<string, unknown>;
    exchanges: { step: string; request_hex: string; response_hex: string }[];
    expected: Record<string, unknown>;
  };

  function run(opts = session.options, stale?: Uint8Array): Reading {
    const s = definition.readSession(opts);
    let i = 0;
    for (let step = s.next(); step; step = s.next(), i++) {
      const ex = session.exchanges[i]!;
      expect(step.name).toBe(ex.step);
      expect(bytesToHex(step.request)).toBe(ex.request_hex);
      const frames: Uint8Array[] = [];
      const incoming = [...(stale ? [stale] : []), hexToBytes(ex.response_hex)];
      for (const ev of feed(concatBytes(incoming), [7])) {
        if (ev.type !== 'frame' || !step.accepts(ev.bytes)) continue;
        frames.push(ev.bytes);
        if (step.complete(frames)) break;
      }
      expect(step.complete(frames)).toBe(true);
      s.accept(step, frames);
    }
    expect(i).toBe(session.exchanges.length);
    return s.result();
  }

  it('merges the recorded cycle into the expected snapshot', () => {
    const r = run();
    for (const [k, v] of Object.entries(session.expected))
      expect((r as Record<string, unknown>)[k], k).toEqual(v);
    expect(r.address).toBeUndefined();
  });

  it('drops a stale reply of another register', () => {
    const r = run(session.options, MOS_ACK);
    expect(r.cell_mv).toEqual(session.expected.cell_mv);
  });

  it('marks only the model step optional and rejects an error reply in accept', () => {
    const s = definition.readSession({});
    const steps = [s.next()!, s.next()!, s.next()!];
    expect(s.next()).toBeUndefined();
    expect(steps.map((x) => x.optional === true)).toEqual([false, false, true]);
    const err = buildFrame(0x05, 0x80);
    expect(steps[2]!.accepts(err)).toBe(true);
    expect(steps[2]!.accepts(CELLS_4S)).toBe(false);
    expect(codeOf(() => s.accept(steps[2]!, [err]))).toBe('DEVICE_ERROR_REPLY');
  });
});
