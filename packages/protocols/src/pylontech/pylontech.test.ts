import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BmsError, isMetric, type Reading } from '@openbms/core';
import type { FramerEvent } from '../types.js';
import { bytesToHex, concatBytes, hexToBytes } from '../util/bytes.js';
import { definition } from './index.js';
import { buildFrame, frameChecksum, lengthChecksum } from './frame.js';
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
const session = JSON.parse(readFileSync(join(here, 'fixtures', 'session.json'), 'utf8')) as {
  options: { address: number };
  exchanges: { step: string; request_hex: string; response_hex: string }[];
  expected: Record<string, unknown>;
};

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array): string => String.fromCharCode(...b);
const vec = (id: string) => vectors.vectors.find((v) => v.id === id)!;
const frameOf = (id: string): Uint8Array => hexToBytes(vec(id).response_hex);

/** Deterministic PRNG so chunking is reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

// Real replies from a live US2000 session (Tomcat42/pylontech-python output.txt), not in vectors.json.
const US2000_ALARM_44 = ascii(
  '~20024600C04000020F000000000000000000000000000000050000000000000000000E800000F161\r',
);
const US2000_SW_96 = ascii('~20024600400C020203000605FB49\r');
// Real 4-module US3000 reply (Frankkkkk/python-pylontech tests/test_basic.py, test_us3000_4modules).
const US3000_4_MODULES = ascii(
  '~2002460061DC11040F0CFD0CFC0CFC0CFB0CFC0CFB0CFD0CFC0CFC0CFB0CFA0CFD0CFB0CFE0CFA050BE10BCD0BCD0BCD0BCD0000C2C1FFFF04FFFF002F00EFEC0121100F0CEB0CEB0CEB0CEA0CEA0CEC0CEB0CEB0CE90CE80CE60CE90CE90CEA0CE8050BE10BCD0BCD0BCD0BCDFFBCC1B2FFFF04FFFF002800F2D00121100F0CE80CE90CEA0CEA0CEA0CE90CEA0CEA0CEB0CEC0CEB0CEB0CEB0CEA0CEA050BE10BC30BC30BC30BC3FFB7C1B8FFFF04FFFF007100E7400121100F0CE90CEC0CEB0CEA0CEA0CEB0CE90CE80CEA0CEA0CEA0CEB0CEC0CEA0CEA050BD70BC30BC30BC30BB9FFBBC1B9FFFF04FFFF006B00ED080121108D63\r',
);

describe('pylontech envelope', () => {
  it('computes LENGTH and CHKSUM as in the spec examples', () => {
    const length = (lenid: number): string =>
      ((lengthChecksum(lenid) << 12) | lenid).toString(16).toUpperCase().padStart(4, '0');
    expect([2, 0x12, 0x6e, 0x142, 0].map(length)).toEqual(['E002', 'D012', 'C06E', '9142', '0000']);
    const req = ascii('~20024642E00202FD33\r');
    expect(frameChecksum(req, 1, req.length - 5)).toBe(0xfd33);
  });

  it('rejects frames with a coded error', () => {
    const good = frameOf('pylon_92_us2000');
    const opts = { request: Uint8Array.of(0x92) };
    expect(codeOf(() => definition.decode(concatBytes([ascii('x'), good]), opts))).toBe(
      'FRAME_MALFORMED',
    );
    expect(codeOf(() => definition.decode(concatBytes([good, ascii('~')]), opts))).toBe(
      'FRAME_MALFORMED',
    );
    expect(codeOf(() => definition.decode(good.subarray(0, good.length - 1), opts))).toBe(
      'FRAME_TRUNCATED',
    );
    // LCHKSUM nibble B -> A
    const badLen = good.slice();
    badLen[9] = 0x41;
    expect(codeOf(() => definition.decode(badLen, opts))).toBe('FRAME_CHECKSUM');
    // a payload digit changed: CHKSUM no longer matches
    const badSum = good.slice();
    badSum[15] = badSum[15] === 0x30 ? 0x31 : 0x30;
    expect(codeOf(() => definition.decode(badSum, opts))).toBe('FRAME_CHECKSUM');
    // a non-hex character inside INFO
    const badHex = good.slice();
    badHex[15] = 0x47;
    expect(codeOf(() => definition.decode(badHex, opts))).toBe('FRAME_MALFORMED');
    // EOI replaced
    const noEoi = good.slice();
    noEoi[noEoi.length - 1] = 0x0a;
    expect(codeOf(() => definition.decode(noEoi, opts))).toBe('FRAME_MALFORMED');
  });

  it('accepts lowercase hex (checksum over the characters as sent)', () => {
    const upper = text(frameOf('pylon_92_us2000'));
    const body = upper.slice(1, -5).toLowerCase();
    const sum = frameChecksum(ascii(body), 0, body.length);
    const lower = ascii(`~${body}${sum.toString(16).padStart(4, '0')}\r`);
    const r = definition.decode(lower, { request: Uint8Array.of(0x92) });
    expect(r.charge_voltage_limit_v).toBe(53.25);
  });
});

describe('pylontech framer', () => {
  const replies = vectors.vectors
    .filter((v) => v.expected.error !== true)
    .map((v) => hexToBytes(v.response_hex));

  it('finds every reply in a garbage-laden stream split into random chunks', () => {
    const garbage = [
      ascii('noise\r\n'),
      ascii('~20ZZ'),
      ascii('~2002460'),
      Uint8Array.of(0, 0xff, 0x7e),
      ascii('~0000'),
    ];
    const parts: Uint8Array[] = [];
    replies.forEach((f, i) => parts.push(garbage[i % garbage.length]!, f));
    const stream = concatBytes(parts);
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = rng(seed);
      const framer = definition.createFramer();
      const events: FramerEvent[] = [];
      for (let o = 0; o < stream.length;) {
        const n = 1 + Math.floor(next() * 40);
        events.push(...framer.push(stream.subarray(o, o + n)));
        o += n;
      }
      events.push(...framer.end());
      const frames = events.filter((e) => e.type === 'frame').map((e) => bytesToHex(e.bytes));
      expect(frames).toEqual(replies.map(bytesToHex));
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
        ]).toContain(d.code);
      }
      const dropped = discards.reduce((n, d) => n + d.bytes.length, 0);
      const framed = replies.reduce((n, f) => n + f.length, 0);
      expect(dropped + framed).toBe(stream.length);
    }
  });

  it('reports a corrupted frame as a checksum discard and still finds the next frame', () => {
    const good = frameOf('pylon_92_up2500');
    const bad = good.slice();
    bad[20] = bad[20] === 0x30 ? 0x31 : 0x30;
    const framer = definition.createFramer();
    const events = [...framer.push(concatBytes([bad, good])), ...framer.end()];
    expect(events[0]).toMatchObject({ type: 'discard', code: 'FRAME_CHECKSUM' });
    expect(events.filter((e) => e.type === 'frame').map((e) => bytesToHex(e.bytes))).toEqual([
      bytesToHex(good),
    ]);
  });

  it('holds an incomplete frame and reports it truncated at end of stream', () => {
    const good = frameOf('pylon_42_single_up2500_8s');
    const framer = definition.createFramer();
    expect(framer.push(good.subarray(0, 50))).toEqual([]);
    expect(framer.pending).toBe(50);
    const events = framer.end();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'discard', code: 'FRAME_TRUNCATED' });
  });

  it('drops a false start as soon as a non-hex byte shows it is not a frame', () => {
    const good = frameOf('pylon_4f_protocol_version');
    const framer = definition.createFramer();
    // '~' + a plausible header with LENGTH claiming 0x800 INFO characters, then the real frame
    const events = framer.push(concatBytes([ascii('~200246008800'), good]));
    expect(events.map((e) => e.type)).toEqual(['discard', 'frame']);
    expect(events[0]).toMatchObject({ code: 'FRAME_MALFORMED' });
    expect(framer.pending).toBe(0);
  });
});

describe('pylontech decode', () => {
  it('decodes a whole-group 0x42 reply into packs (P = 4, 16-bit capacity fields 0xFFFF)', () => {
    const r = definition.decode(US3000_4_MODULES, { request: Uint8Array.of(0x42, 0xff) });
    expect(r.raw).toMatchObject({ module_count: 4, info_flag: 0x11 });
    expect(r.packs).toHaveLength(4);
    expect(r.voltage_v).toBeUndefined();
    const [a, b, c, d] = r.packs!;
    expect(a).toMatchObject({
      voltage_v: 49.857,
      current_a: 0,
      cycles: 47,
      remaining_ah: 61.42,
      full_ah: 74,
      cell_count: 15,
    });
    expect(a!.temps_c).toEqual([31, 29, 29, 29, 29]);
    expect(b).toMatchObject({
      current_a: -6.8,
      voltage_v: 49.586,
      cycles: 40,
      remaining_ah: 62.16,
    });
    expect(c).toMatchObject({ current_a: -7.3, cycles: 113, remaining_ah: 59.2 });
    expect(d).toMatchObject({ current_a: -6.9, cycles: 107, remaining_ah: 60.68 });
    expect(d!.temps_c).toEqual([30, 28, 28, 28, 27]);
    expect(d!.board_temp_c).toBe(30);
    expect(Object.is(a!.current_a, -0)).toBe(false);
  });

  it('tells single from group by the counts when the request INFO is unknown', () => {
    const group = definition.decode(frameOf('pylon_42_all_us2000_3_modules'), {
      request: Uint8Array.of(0x42),
    });
    expect(group.packs).toHaveLength(3);
    const single = definition.decode(frameOf('pylon_42_single_us3000_charging'), {
      request: Uint8Array.of(0x42),
    });
    expect(single.packs).toBeUndefined();
    expect(single.cell_mv).toHaveLength(15);
    // With INFO = 0xFF stated, a single-pack reply (module count 2 but one block) is rejected.
    expect(
      codeOf(() =>
        definition.decode(frameOf('pylon_42_single_us3000_charging'), {
          request: Uint8Array.of(0x42, 0xff),
        }),
      ),
    ).toBe('FRAME_TRUNCATED');
  });

  it('keeps + = charging and flips the sign only on request', () => {
    const opts = { request: hexToBytes(vec('pylon_42_single_us3000_charging').request_hex!) };
    const charging = definition.decode(frameOf('pylon_42_single_us3000_charging'), opts);
    expect(charging.current_a).toBe(0.4);
    expect(charging.power_w).toBeCloseTo(19.79, 2);
    const discharging = definition.decode(frameOf('pylon_42_single_up2500_8s'), {
      request: Uint8Array.of(0x42, 2),
    });
    expect(discharging.current_a).toBe(-0.6);
    expect(discharging.power_w).toBeLessThan(0);
    const inverted = definition.decode(frameOf('pylon_42_single_up2500_8s'), {
      request: Uint8Array.of(0x42, 2),
      invertCurrent: true,
    });
    expect(inverted.current_a).toBe(0.6);
  });

  it('decodes a real 0x44 reply: MOSFETs on, charging, no alarms', () => {
    const r = definition.decode(US2000_ALARM_44, { request: Uint8Array.of(0x44, 2) });
    expect(r).toMatchObject({
      charge_mos: true,
      discharge_mos: true,
      state: 'charging',
      alarms: [],
    });
    expect(r.raw).toMatchObject({
      alarms: [],
      running_on_module_power: true,
      status2_hex: '0e',
      status3_hex: '80',
    });
    expect(r.raw!.cell_states).toHaveLength(15);
  });

  it('maps 0x44 states and status bits to identifiers (in order) and taxonomy alarms', () => {
    const cells = [0, 0, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const temps = [0xf0, 0x02, 0, 0, 0x01];
    const info = [
      0x00,
      0x02,
      15,
      ...cells,
      5,
      ...temps,
      0x02,
      0x00,
      0x00,
      0b0100_0001,
      0x02,
      0x40,
      0b0000_0010,
      0x00,
    ];
    const frame = buildFrame(0x20, 2, 0x46, 0x00, info);
    const r = definition.decode(frame, { request: Uint8Array.of(0x44, 2) });
    expect(r.raw!.alarms).toEqual([
      'cell3_voltage_low',
      'cell5_voltage_high',
      'temp1_other',
      'temp2_high',
      'temp5_low',
      'charge_current_high',
      'module_over_voltage',
      'charge_over_temperature',
      'cell2_voltage_error',
    ]);
    expect(r.alarms).toEqual([
      { code: 'cell_uv', severity: 'warning', level: 1, source: 'cell3_voltage_low', cell: 3 },
      { code: 'cell_ov', severity: 'warning', level: 1, source: 'cell5_voltage_high', cell: 5 },
      { code: 'temp_sensor_fault', severity: 'fault', source: 'temp1_other', sensor: 1 },
      { code: 'cell_ot', severity: 'warning', level: 1, source: 'temp2_high', sensor: 2 },
      { code: 'cell_ut', severity: 'warning', level: 1, source: 'temp5_low', sensor: 5 },
      { code: 'chg_oc', severity: 'warning', level: 1, source: 'charge_current_high' },
      { code: 'pack_ov', severity: 'protection', level: 2, source: 'module_over_voltage' },
      { code: 'chg_ot', severity: 'protection', level: 2, source: 'charge_over_temperature' },
      { code: 'cell_sense_fault', severity: 'fault', source: 'cell2_voltage_error', cell: 2 },
    ]);
    expect(r).toMatchObject({ charge_mos: true, discharge_mos: false, state: 'discharging' });
    expect(r.raw).toMatchObject({
      precharge_mos: false,
      running_on_module_power: false,
      effective_discharge_current: true,
    });
  });

  it('decodes 0x96 and 0x93 and 0x47 parameters', () => {
    const sw = definition.decode(US2000_SW_96, { request: Uint8Array.of(0x96, 2) });
    expect(sw.info).toEqual({ sw_version: '2.3' });
    expect(sw.raw).toMatchObject({ manufacturer_version: '2.3', main_line_version: '0.6.5' });
    const serial = buildFrame(0x20, 2, 0x46, 0, [2, ...ascii('PPTAH0212345678 ')]);
    expect(definition.decode(serial, { request: Uint8Array.of(0x93, 2) }).info).toEqual({
      serial: 'PPTAH0212345678',
    });
    const p = definition.decode(frameOf('pylon_47_system_parameters'), {
      request: Uint8Array.of(0x47),
    });
    expect(p.raw!.parameters).toEqual({
      cell_ov_l1_mv: 3650,
      cell_uv_l1_mv: 3050,
      cell_uv_l2_mv: 2900,
      chg_ot_l1_c: 61,
      chg_ut_l1_c: -11,
      chg_oc_l1_a: 102,
      pack_ov_l1_v: 54,
      pack_uv_l1_v: 46,
      pack_uv_l2_v: 44.5,
      dsg_ot_l1_c: 61,
      dsg_ut_l1_c: -11,
      dsg_oc_l1_a: 100,
    });
    for (const id of Object.keys(p.raw!.parameters as object)) {
      expect(definition.parameters.map((x) => x.id)).toContain(id);
    }
  });

  it('needs the request except for error and empty replies', () => {
    expect(codeOf(() => definition.decode(frameOf('pylon_92_us2000')))).toBe(
      'DECODE_CONTEXT_MISSING',
    );
    const err = definition.decode(frameOf('pylon_rtn_04_cid2_invalid'));
    expect(err.raw).toMatchObject({ rtn: 4, error_response: true, rtn_meaning: 'CID2 invalid' });
    expect(definition.decode(frameOf('pylon_4f_protocol_version')).raw).toEqual({
      ver: 0x20,
      adr: 2,
      rtn: 0,
    });
    expect(
      codeOf(() => definition.decode(frameOf('pylon_92_us2000'), { request: Uint8Array.of(0x60) })),
    ).toBe('DECODE_UNSUPPORTED');
    expect(
      codeOf(() =>
        definition.decode(frameOf('pylon_92_us2000'), { request: Uint8Array.of(1, 2, 3) }),
      ),
    ).toBe('INVALID_ARGUMENT');
  });

  it('emits only catalog metrics at the top level, and never NaN', () => {
    const check = (r: Reading): void => {
      for (const [k, v] of Object.entries(r)) {
        if (k === 'raw') continue;
        expect(isMetric(k), k).toBe(true);
        expect(definition.metrics, k).toContain(k);
        if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
      }
      r.packs?.forEach(check);
    };
    for (const v of vectors.vectors) {
      if (v.expected.error === true) continue;
      const ctx = (v as { context?: { request_cid2?: string; request_info_hex?: string } }).context;
      check(
        definition.decode(hexToBytes(v.response_hex), {
          request: hexToBytes((ctx?.request_cid2 ?? '') + (ctx?.request_info_hex ?? '')),
        }),
      );
    }
  });

  it('survives mutated frames: decodes or throws BmsError, never anything else', () => {
    const next = rng(42);
    const base = [...frameOf('pylon_42_all_us2000_3_modules').subarray(13, -5)]
      .map((c) => String.fromCharCode(c))
      .join('');
    const infoBytes = hexToBytes(base);
    for (let i = 0; i < 2000; i++) {
      const info = infoBytes.slice(0, Math.floor(next() * (infoBytes.length + 1)));
      for (let k = 0; k < 3; k++)
        if (info.length) info[Math.floor(next() * info.length)] = Math.floor(next() * 256);
      const frame = buildFrame(0x20, 2, 0x46, 0, info);
      for (const request of [
        Uint8Array.of(0x42),
        Uint8Array.of(0x42, 0xff),
        Uint8Array.of(0x44),
        Uint8Array.of(0x47),
        Uint8Array.of(0x51),
      ]) {
        try {
          const r = definition.decode(frame, { request });
          expect(JSON.stringify(r)).not.toMatch(/NaN|Infinity|null/);
        } catch (e) {
          expect(e).toBeInstanceOf(BmsError);
        }
      }
    }
  });
});

describe('pylontech requests', () => {
  it('encodes the doc examples', () => {
    const enc = (r: Parameters<typeof definition.encode>[0]): string => text(definition.encode(r));
    expect(enc({ command: 'analog', address: 2 })).toBe('~20024642E00202FD33\r');
    expect(enc({ command: 'analog', address: 2, args: { all: true } })).toBe(
      '~20024642E002FFFD09\r',
    );
    expect(enc({ command: 'serial_number', address: 2 })).toBe('~20024693E00202FD2D\r');
    expect(enc({ command: 'analog', address: 3 })).toBe('~20034642E00203FD31\r');
    expect(enc({ command: 'analog' })).toBe('~20024642E00202FD33\r');
  });

  it('round-trips every recorded request byte for byte', () => {
    const requests = vectors.vectors.filter((v) => v.request_hex).map((v) => v.request_hex!);
    expect(requests.length).toBeGreaterThan(5);
    for (const hex of requests) {
      const req = definition.parseRequest(hexToBytes(hex));
      expect(bytesToHex(definition.encode(req))).toBe(hex);
    }
    // the 2-byte INFO of the Tomcat42 client is kept verbatim
    expect(definition.parseRequest(hexToBytes(vec('pylon_92_us2000').request_hex!))).toEqual({
      command: 'management_info',
      address: 2,
      args: { info: [2, 1] },
    });
  });

  it('round-trips the request examples and covers every command', () => {
    for (const r of definition.requestExamples)
      expect(definition.parseRequest(definition.encode(r))).toEqual(r);
    const covered = new Set(definition.requestExamples.map((r) => r.command));
    expect([...covered].sort()).toEqual(definition.commands.map((c) => c.id).sort());
  });

  it('rejects bad requests and non-requests', () => {
    expect(codeOf(() => definition.encode({ command: 'nope' }))).toBe('COMMAND_UNSUPPORTED');
    expect(codeOf(() => definition.encode({ command: 'analog', address: 256 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => definition.encode({ command: 'analog', args: { pack: 3 } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => definition.encode({ command: 'set_management_info', address: 2 }))).toBe(
      'INVALID_ARGUMENT',
    );
    // a reply (CID2 = RTN 0x00) is not a request
    expect(codeOf(() => definition.parseRequest(frameOf('pylon_92_us2000')))).toBe(
      'COMMAND_UNSUPPORTED',
    );
  });
});

describe('pylontech read session', () => {
  it('runs the scripted cycle of session.json and merges the expected snapshot', () => {
    const s = definition.readSession(session.options);
    const byStep = new Map(session.exchanges.map((e) => [e.step, e]));
    const allReplies = session.exchanges.map((e) => hexToBytes(e.response_hex));
    const names: string[] = [];
    for (let step = s.next(); step; step = s.next()) {
      names.push(step.name);
      const ex = byStep.get(step.name);
      expect(ex, step.name).toBeDefined();
      expect(bytesToHex(step.request)).toBe(ex!.request_hex);
      // the request echo is never taken for the reply
      expect(step.accepts(step.request)).toBe(false);
      const reply = hexToBytes(ex!.response_hex);
      const framer = definition.createFramer();
      const frames = framer
        .push(reply)
        .filter((e) => e.type === 'frame')
        .map((e) => e.bytes);
      expect(frames).toHaveLength(1);
      expect(step.accepts(frames[0]!)).toBe(true);
      expect(step.complete(frames)).toBe(true);
      s.accept(step, frames);
      // replies of the other steps do not pass this step's filter (except same-shape empty replies)
      const others = allReplies.filter(
        (r) => bytesToHex(r) !== ex!.response_hex && step.accepts(r),
      );
      expect(others, step.name).toEqual([]);
    }
    expect(names).toEqual(session.exchanges.map((e) => e.step));
    const r = s.result();
    expect(r).toMatchObject(session.expected);
    expect(r.raw!.parameters).toMatchObject({ chg_oc_l1_a: 102 });
  });

  it('rejects frames from another address and turns an error reply into DEVICE_ERROR_REPLY', () => {
    const s = definition.readSession({ address: 3 });
    const step = s.next()!;
    expect(step.optional).toBeFalsy();
    expect(text(step.request)).toBe(text(definition.encode({ command: 'analog', address: 3 })));
    expect(step.accepts(buildFrame(0x20, 2, 0x46, 0, []))).toBe(false);
    const errReply = buildFrame(0x20, 3, 0x46, 0x04, []);
    expect(step.accepts(errReply)).toBe(true);
    expect(codeOf(() => s.accept(step, [errReply]))).toBe('DEVICE_ERROR_REPLY');
  });
});
