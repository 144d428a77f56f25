import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BmsError, type Reading } from '@openbms/core';
import { bytesToHex, concatBytes, hexToBytes } from '../util/bytes.js';
import type { FramerEvent, ReadStep } from '../types.js';
import { lookupCanonical, matches } from '../testing/vectors.js';
import { buildFrame, definition } from './index.js';
import { codeOf } from '../testing/checks.js';

const here = dirname(fileURLToPath(import.meta.url));
const vectors = JSON.parse(readFileSync(join(here, 'fixtures', 'vectors.json'), 'utf8')) as {
  vectors: { id: string; response_hex: string }[];
};
const vec = (id: string): Uint8Array =>
  hexToBytes(vectors.vectors.find((v) => v.id === id)!.response_hex);
const MPP83_CELLS = vec('daly_a5_95_mpp83_16_frames');
const TOMA_90 = vec('daly_a5_90_toma_discharging_50a');

function errorOf(fn: () => unknown): BmsError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BmsError) return e;
    throw e;
  }
  throw new Error('expected a BmsError');
}

/** Frames of a reply, 13 bytes each, in order. */
const split = (b: Uint8Array): Uint8Array[] =>
  Array.from({ length: b.length / 13 }, (_, i) => b.subarray(i * 13, i * 13 + 13));

function feed(bytes: Uint8Array, chunk: number): FramerEvent[] {
  const f = definition.createFramer();
  const out: FramerEvent[] = [];
  for (let i = 0; i < bytes.length; i += chunk) out.push(...f.push(bytes.subarray(i, i + chunk)));
  out.push(...f.end());
  return out;
}

describe('daly framer', () => {
  it('finds frames in byte-by-byte and odd-sized chunks and reports garbage with reasons', () => {
    const bad = TOMA_90.slice();
    bad[12] = bad[12]! ^ 0x01;
    const falseStart = Uint8Array.of(0xa5, 0x01, 0x90, 0x07); // length byte is not 0x08
    // Good frames between the bad runs, so each run is reported with its own reason.
    const stream = concatBytes([
      Uint8Array.of(0x00, 0x13),
      TOMA_90,
      falseStart,
      TOMA_90,
      bad,
      MPP83_CELLS.subarray(0, 26),
      Uint8Array.of(0xa5, 0x01),
    ]);
    for (const chunk of [1, 3, 5, 13, 100]) {
      const ev = feed(stream, chunk);
      const frames = ev.filter((e) => e.type === 'frame').map((e) => bytesToHex(e.bytes));
      expect(frames, `chunk ${chunk}`).toEqual([
        bytesToHex(TOMA_90),
        bytesToHex(TOMA_90),
        bytesToHex(MPP83_CELLS.subarray(0, 13)),
        bytesToHex(MPP83_CELLS.subarray(13, 26)),
      ]);
      const discards = ev.flatMap((e) => (e.type === 'discard' ? [e] : []));
      // Runs are reported per push, so small chunks split the no-start runs further.
      expect(discards[0]!.code).toBe('FRAME_NO_START');
      const marked = discards.filter((d) => d.code !== 'FRAME_NO_START');
      expect(
        marked.map((d) => d.code),
        `chunk ${chunk}`,
      ).toEqual(['FRAME_MALFORMED', 'FRAME_CHECKSUM', 'FRAME_TRUNCATED']);
      expect(marked[0]!.reason).toMatch(/length byte/);
      expect(marked[1]!.reason).toMatch(/checksum/);
      const firstFrame = ev.findIndex((e) => e.type === 'frame');
      expect(ev.slice(0, firstFrame).reduce((n, e) => n + e.bytes.length, 0)).toBe(2);
      // Every byte comes out exactly once.
      expect(ev.reduce((n, e) => n + e.bytes.length, 0)).toBe(stream.length);
    }
  });

  it('finds a frame hidden behind a false start marker', () => {
    const stream = concatBytes([Uint8Array.of(0xa5, 0xa5, 0x40), TOMA_90]);
    const ev = feed(stream, 4);
    expect(ev.filter((e) => e.type === 'frame').map((e) => bytesToHex(e.bytes))).toEqual([
      bytesToHex(TOMA_90),
    ]);
    expect(ev[0]).toMatchObject({ type: 'discard', code: 'FRAME_MALFORMED' });
  });

  it('keeps a partial frame pending until the rest arrives', () => {
    const f = definition.createFramer();
    expect(f.push(TOMA_90.subarray(0, 9))).toEqual([]);
    expect(f.pending).toBe(9);
    const ev = f.push(TOMA_90.subarray(9));
    expect(ev).toHaveLength(1);
    expect(f.pending).toBe(0);
  });
});

describe('daly decode: validation', () => {
  it('rejects leading/trailing garbage, short replies, bad markers and checksums with codes', () => {
    expect(codeOf(() => definition.decode(concatBytes([TOMA_90, Uint8Array.of(0)])))).toBe(
      'FRAME_MALFORMED',
    );
    expect(codeOf(() => definition.decode(concatBytes([Uint8Array.of(0), TOMA_90])))).toBe(
      'FRAME_MALFORMED',
    );
    expect(codeOf(() => definition.decode(TOMA_90.subarray(0, 12)))).toBe('FRAME_TRUNCATED');
    const badSum = TOMA_90.slice();
    badSum[7] = badSum[7]! ^ 0x10;
    expect(codeOf(() => definition.decode(badSum))).toBe('FRAME_CHECKSUM');
    const badMarker = buildFrame(1, 0x90, [1, 2]);
    badMarker[0] = 0x5a;
    badMarker[12] = (badMarker[12]! + 0x5a - 0xa5) & 0xff;
    expect(codeOf(() => definition.decode(badMarker))).toBe('FRAME_MALFORMED');
    expect(codeOf(() => definition.decode(concatBytes([TOMA_90, TOMA_90])))).toBe(
      'FRAME_MALFORMED',
    );
    expect(codeOf(() => definition.decode(buildFrame(1, 0x57, [])))).toBe('DECODE_UNSUPPORTED');
  });

  it('checks every frame of a multi-frame reply separately', () => {
    const b = MPP83_CELLS.slice();
    b[13 * 9 + 12] = b[13 * 9 + 12]! ^ 0xff; // frame 10, beyond the 6 that 16 cells need
    const e = errorOf(() => definition.decode(b, { cells: 16 }));
    expect(e.code).toBe('FRAME_CHECKSUM');
    expect(e.message).toMatch(/frame 10/);
  });
});

describe('daly decode: 0x90 current sign', () => {
  const pack = (raw: number): Uint8Array =>
    buildFrame(1, 0x90, [0x02, 0x03, 0, 0, raw >> 8, raw & 0xff, 0x03, 0x38]);

  it('reads raw above 30000 as discharging (negative) and below as charging', () => {
    expect(definition.decode(pack(30500))).toMatchObject({
      current_a: -50,
      voltage_v: 51.5,
      power_w: -2575,
    });
    expect(definition.decode(pack(29500))).toMatchObject({ current_a: 50, power_w: 2575 });
    expect(definition.decode(pack(30021)).current_a).toBeCloseTo(-2.1, 6);
  });

  it('flips the sign with invertCurrent and never yields -0', () => {
    expect(definition.decode(pack(30500), { invertCurrent: true }).current_a).toBe(50);
    expect(Object.is(definition.decode(pack(30000), { invertCurrent: true }).current_a, 0)).toBe(
      true,
    );
    expect(Object.is(definition.decode(pack(30000)).power_w, 0)).toBe(true);
  });
});

describe('daly decode: 0x95 / 0x96 multi-frame', () => {
  it('truncates the 16 BLE frames by the cell count and keeps frame numbers', () => {
    const r = definition.decode(MPP83_CELLS, { cells: 16 });
    expect(r.cell_mv).toHaveLength(16);
    expect(r.cell_count).toBe(16);
    expect(r.raw?.frame_numbers).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(definition.decode(MPP83_CELLS, { cells: 14 }).cell_mv).toEqual(r.cell_mv!.slice(0, 14));
  });

  it('places cells by frame number, not by arrival order', () => {
    const frames = split(MPP83_CELLS).slice(0, 6);
    const shuffled = concatBytes([
      frames[3]!,
      frames[0]!,
      frames[5]!,
      frames[1]!,
      frames[4]!,
      frames[2]!,
    ]);
    expect(definition.decode(shuffled, { cells: 16 }).cell_mv).toEqual(
      definition.decode(MPP83_CELLS, { cells: 16 }).cell_mv,
    );
  });

  it('needs every frame the cell count implies', () => {
    const five = MPP83_CELLS.subarray(0, 13 * 5);
    const e = errorOf(() => definition.decode(five, { cells: 16 }));
    expect(e.code).toBe('FRAME_TRUNCATED');
    expect(e.message).toMatch(/frame 6/);
    expect(definition.decode(five, { cells: 15 }).cell_mv).toHaveLength(15);
  });

  it('asks for the cell count when it cannot know which slots are cells', () => {
    const e = errorOf(() => definition.decode(MPP83_CELLS));
    expect(e.code).toBe('DECODE_CONTEXT_MISSING');
    expect(e.message).toMatch(/--cells/);
    // Frame 1 alone: its three cells exist on every DALY pack (3S minimum).
    const first = definition.decode(MPP83_CELLS.subarray(0, 13));
    expect(first.cell_mv).toEqual([3325, 3326, 3326]);
    expect(first.cell_count).toBeUndefined();
    expect(first.raw?.cell_count_unknown).toBe(true);
  });

  it('rejects frame number 0, repeated frame numbers and mixed data ids', () => {
    const zero = buildFrame(1, 0x95, [0, 0x0c, 0xfd]);
    expect(codeOf(() => definition.decode(zero, { cells: 3 }))).toBe('FRAME_MALFORMED');
    const f1 = MPP83_CELLS.subarray(0, 13);
    expect(codeOf(() => definition.decode(concatBytes([f1, f1]), { cells: 6 }))).toBe(
      'FRAME_MALFORMED',
    );
    const t1 = buildFrame(1, 0x96, [1, 62]);
    expect(codeOf(() => definition.decode(concatBytes([f1, t1]), { cells: 3 }))).toBe(
      'FRAME_MALFORMED',
    );
  });

  it('decodes temperatures by the sensor count and asks for it when missing', () => {
    const temps = concatBytes([
      buildFrame(1, 0x96, [1, 40 + 25, 40 - 5, 40, 0, 0, 0, 0]),
      buildFrame(1, 0x96, [2, 40 + 60]),
    ]);
    expect(definition.decode(temps, { tempSensors: 3 }).temps_c).toEqual([25, -5, 0]);
    expect(definition.decode(temps, { tempSensors: 8 }).temps_c).toEqual([
      25, -5, 0, -40, -40, -40, -40, 60,
    ]);
    const e = errorOf(() => definition.decode(temps));
    expect(e.code).toBe('DECODE_CONTEXT_MISSING');
    expect(e.message).toMatch(/--temp-sensors/);
    expect(codeOf(() => definition.decode(temps, { tempSensors: 15 }))).toBe('FRAME_TRUNCATED');
    expect(codeOf(() => definition.decode(temps, { tempSensors: 40 }))).toBe('INVALID_ARGUMENT');
  });
});

describe('daly decode: 0x97 balancing and 0x98 faults', () => {
  it('maps balancing bits literally: cell 1 = bit 0 of data byte 0, cell 9 = bit 0 of byte 1', () => {
    const r = definition.decode(buildFrame(1, 0x97, [0b1000_0001, 0b0000_0001, 0, 0, 0, 0, 0, 0]), {
      cells: 10,
    });
    expect(r.cell_balancing).toEqual([
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      false,
    ]);
    expect(r.balancing).toBe(true);
    expect(r.raw?.balance_bits_hex).toBe('8101000000000000');
  });

  it('ignores bits beyond the cell count and reports no per-cell list without it', () => {
    const frame = buildFrame(1, 0x97, [0, 0, 0b0000_0100]); // cell 19
    expect(definition.decode(frame, { cells: 16 })).toMatchObject({ balancing: false });
    const noCount = definition.decode(frame);
    expect(noCount.balancing).toBe(true);
    expect(noCount.cell_balancing).toBeUndefined();
  });

  it('lists fault identifiers in bit order with taxonomy codes and levels', () => {
    const r = definition.decode(
      buildFrame(
        1,
        0x98,
        [0b0000_0010, 0b0001_0000, 0, 0b0001_0001, 0b0001_0001, 0b1000_0000, 0b0000_1100, 7],
      ),
    );
    expect(r.raw?.alarms).toEqual([
      'cell_ov_l2',
      'dsg_ot_l1',
      'cell_diff_l1',
      'chg_mos_ot',
      'chg_mos_adhesion',
      'internal_comm_fault',
      'short_circuit_protect_fault',
      'low_voltage_no_charge',
    ]);
    expect(r.raw?.reserved_bits).toEqual(['3.4']);
    expect(r.raw?.fault_code).toBe(7);
    expect(r.alarms).toEqual([
      { code: 'cell_ov', severity: 'protection', level: 2, source: 'cell_ov_l2' },
      { code: 'dsg_ot', severity: 'warning', level: 1, source: 'dsg_ot_l1' },
      { code: 'cell_diff', severity: 'warning', level: 1, source: 'cell_diff_l1' },
      { code: 'mos_ot', severity: 'protection', source: 'chg_mos_ot' },
      { code: 'chg_mos_fault', severity: 'fault', source: 'chg_mos_adhesion' },
      { code: 'internal_comm', severity: 'fault', source: 'internal_comm_fault' },
      { code: 'short_circuit', severity: 'protection', source: 'short_circuit_protect_fault' },
      { code: 'low_voltage_no_charge', severity: 'protection', source: 'low_voltage_no_charge' },
      { code: 'fault_other', severity: 'fault', source: 'fault_code_7' },
    ]);
  });

  it('reports an empty bitmap as no alarms', () => {
    const r = definition.decode(buildFrame(1, 0x98, []));
    expect(r.alarms).toEqual([]);
    expect(r.raw?.alarms).toEqual([]);
    expect(r.raw?.fault_code).toBe(0);
  });
});

describe('daly encode / parseRequest', () => {
  it('reproduces the doc and driver examples', () => {
    expect(bytesToHex(definition.encode({ command: 'pack_status' }))).toBe(
      'a540900800000000000000007d',
    );
    expect(
      bytesToHex(definition.encode({ command: 'set_discharge_mos', args: { on: false } })),
    ).toBe('a540d9080000000000000000c6');
    // python-daly-bms comment: "95 -> a58095080000000000000000c2" (host 0x80).
    expect(bytesToHex(definition.encode({ command: 'cell_voltages', address: 0x80 }))).toBe(
      'a58095080000000000000000c2',
    );
  });

  it('encodes set_soc with and without the clock', () => {
    const plain = definition.encode({ command: 'set_soc', args: { soc_pct: 55.5 } });
    expect(bytesToHex(plain.subarray(0, 12))).toBe('a5402108' + '000000000000' + '022b');
    const clock = definition.encode({
      command: 'set_soc',
      args: { soc_pct: 100, year: 2024, month: 5, day: 17, hour: 13, minute: 45, second: 9 },
    });
    expect(bytesToHex(clock.subarray(4, 12))).toBe('1805110d2d0903e8');
    expect(
      codeOf(() => definition.encode({ command: 'set_soc', args: { soc_pct: 50, year: 2024 } })),
    ).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => definition.encode({ command: 'set_soc', args: { soc_pct: 101 } }))).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('round-trips 0xAA-filled reads (dbus-serialbattery style)', () => {
    const b = definition.encode({ command: 'status_info', args: { fill: 0xaa } });
    expect(bytesToHex(b.subarray(4, 12))).toBe('aaaaaaaaaaaaaaaa');
    expect(definition.parseRequest(b)).toEqual({
      command: 'status_info',
      address: 0x40,
      args: { fill: 0xaa },
    });
  });

  it('rejects what is not a request', () => {
    expect(codeOf(() => definition.encode({ command: 'nope' }))).toBe('COMMAND_UNSUPPORTED');
    expect(codeOf(() => definition.encode({ command: 'set_charge_mos' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => definition.encode({ command: 'pack_status', address: 1 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => definition.parseRequest(TOMA_90))).toBe('FRAME_MALFORMED'); // a reply (address 0x01)
    expect(codeOf(() => definition.parseRequest(buildFrame(0x40, 0x57, [])))).toBe(
      'DECODE_UNSUPPORTED',
    );
    expect(codeOf(() => definition.parseRequest(buildFrame(0x40, 0x90, [0, 1])))).toBe(
      'FRAME_MALFORMED',
    );
    expect(codeOf(() => definition.parseRequest(buildFrame(0x40, 0xd9, [2])))).toBe(
      'FRAME_MALFORMED',
    );
  });

  it('decodes MOSFET and SOC acknowledgements', () => {
    // python-daly-bms comments: on reply data 0101000002006cbe, off reply 0001000002006c44.
    const on = definition.decode(buildFrame(1, 0xda, hexToBytes('0101000002006cbe')));
    expect(on.charge_mos).toBe(true);
    expect(on.discharge_mos).toBeUndefined();
    expect(on.raw).toMatchObject({ command: 'set_charge_mos', state: 1 });
    const off = definition.decode(buildFrame(1, 0xd9, hexToBytes('0001000002006c44')));
    expect(off.discharge_mos).toBe(false);
    expect(definition.decode(buildFrame(1, 0x21, [1])).raw).toMatchObject({
      command: 'set_soc',
      success: true,
    });
    expect(definition.decode(buildFrame(1, 0x21, [0])).raw).toMatchObject({ success: false });
  });
});

interface SessionFile {
  options: { address?: number };
  exchanges: { step: string; request_hex: string; response_hex: string }[];
  expected: Record<string, unknown>;
}
const session = JSON.parse(
  readFileSync(join(here, 'fixtures', 'session.json'), 'utf8'),
) as SessionFile;

/** Runs a read session against scripted replies; each reply goes through the framer. */
function runSession(
  replies: (step: ReadStep) => Uint8Array | undefined,
  opts = session.options,
): { result: Reading; steps: string[]; requests: string[] } {
  const rs = definition.readSession(opts);
  const steps: string[] = [];
  const requests: string[] = [];
  for (let step = rs.next(); step; step = rs.next()) {
    steps.push(step.name);
    requests.push(bytesToHex(step.request));
    const reply = replies(step);
    if (!reply) continue;
    const framer = definition.createFramer();
    const collected: Uint8Array[] = [];
    for (const ev of [...framer.push(reply), ...framer.end()]) {
      if (ev.type !== 'frame' || !step.accepts(ev.bytes)) continue;
      collected.push(ev.bytes);
      if (step.complete(collected)) break;
    }
    expect(step.complete(collected), step.name).toBe(true);
    rs.accept(step, collected);
  }
  return { result: rs.result(), steps, requests };
}

const scripted = (step: ReadStep): Uint8Array | undefined => {
  const ex = session.exchanges.find((e) => e.request_hex === bytesToHex(step.request));
  return ex ? hexToBytes(ex.response_hex) : undefined;
};

describe('daly read session', () => {
  it('sends the cycle in order and merges the expected snapshot (session.json)', () => {
    const { result, requests } = runSession(scripted);
    expect(requests).toEqual(session.exchanges.map((e) => e.request_hex));
    for (const [k, want] of Object.entries(session.expected)) {
      const [loc, got] = lookupCanonical(result, k);
      expect(matches(got, want), `${k} -> ${loc}: got ${JSON.stringify(got)}`).toBe(true);
    }
    expect(Object.keys(session.expected).length).toBeGreaterThan(30);
    expect(result.alarms).toEqual([
      { code: 'cell_diff', severity: 'warning', level: 1, source: 'cell_diff_l1' },
    ]);
    // The device's own extremes (0x91/0x92) are kept; derived values fill the rest.
    expect(result.max_cell_index).toBe(7);
  });

  it('expects ceil(cells/3) cell frames and drops the extra frames of a BLE module', () => {
    // A BLE module answering 0x95 with all 16 frames: complete after frames 1..6.
    const steps: string[] = [];
    const { result } = runSession((step) => {
      steps.push(step.name);
      if (step.name === 'cell_voltages') {
        const frames = split(MPP83_CELLS);
        expect(step.complete(frames.slice(0, 5))).toBe(false);
        expect(step.complete(frames.slice(0, 6))).toBe(true);
        expect(
          step.complete([frames[5]!, frames[0]!, frames[2]!, frames[1]!, frames[4]!, frames[3]!]),
        ).toBe(true);
        return MPP83_CELLS;
      }
      return scripted(step);
    });
    expect(result.cell_mv).toHaveLength(16);
    expect(result.cell_mv![0]).toBe(3325);
  });

  it('rejects echoes of its own request and frames of other steps', () => {
    const rs = definition.readSession({ address: 0x40 });
    const step = rs.next()!;
    expect(step.accepts(step.request)).toBe(false); // half-duplex echo
    expect(step.accepts(vec('daly_a5_91_toma'))).toBe(false);
    expect(step.accepts(TOMA_90)).toBe(true);
    const err = errorOf(() => rs.accept(step, [vec('daly_a5_91_toma')]));
    expect(err.code).toBe('FRAME_UNEXPECTED');
  });

  it('sizes the 0x95/0x96 steps from 0x94 and skips them for zero counts', () => {
    const status = (cells: number, sensors: number): Uint8Array =>
      buildFrame(1, 0x94, [cells, sensors]);
    const names = (cells: number, sensors: number): string[] =>
      runSession((step) => {
        if (step.name === 'status_info') return status(cells, sensors);
        if (step.name === 'cell_voltages')
          return MPP83_CELLS.subarray(0, 13 * Math.ceil(cells / 3));
        if (step.name === 'temperatures')
          return concatBytes([buildFrame(1, 0x96, [1, 65]), buildFrame(1, 0x96, [2, 65])]);
        return scripted(step);
      }).steps;
    expect(names(4, 0)).not.toContain('temperatures');
    expect(names(0, 2)).not.toContain('cell_voltages');
    expect(names(4, 8)).toContain('temperatures');
  });

  it('marks only the balance step optional and uses the host address', () => {
    const rs = definition.readSession({ address: 0x80 });
    const seen: ReadStep[] = [];
    for (let s = rs.next(); s; s = rs.next()) {
      seen.push(s);
      if (s.name === 'status_info') rs.accept(s, [vec('daly_a5_94_batmon416_4s')]);
    }
    expect(seen.filter((s) => s.optional).map((s) => s.name)).toEqual(['balance_state']);
    expect(seen.every((s) => s.request[1] === 0x80)).toBe(true);
  });
});
