/**
 * GB/T 32960 conformance against the shared vectors (decode; the login reply built from the
 * vectors' template with a fixed server time), the BMS reading of a report, round trips and
 * framing.
 */
import { describe, expect, it } from 'vitest';
import { BmsError } from '@openbms/core';
import { bytesToHex, differences, hexToBytes, loadTrackerVectors } from '../../testing/trackers.js';
import {
  createGb32960Framer,
  decodeGb32960,
  encodeBatteryReport,
  encodeGb32960Frame,
  encodeLogin,
  encodeResponse,
  toReading,
  type Gb32960Message,
} from './index.js';

const vectors = loadTrackerVectors('gb32960');

/** The vectors' flat names for the first motor, the first subsystem and the block fields. */
function flat(m: Gb32960Message): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...m,
    cmd: `0x${m.cmd.toString(16).padStart(2, '0')}`,
    response_flag: `0x${m.response_flag.toString(16).padStart(2, '0')}`,
  };
  if (m.message === 'realtime' || m.message === 'resend') {
    Object.assign(out, m.vehicle, m.location, m.extremes);
    if (m.alarms) {
      Object.assign(out, m.alarms, {
        fault_code_counts: m.alarms.fault_codes.map((l) => l.length),
      });
    }
    if (m.motors) {
      out.motor_count = m.motors.length;
      const m1 = m.motors[0];
      if (m1) {
        for (const [k, v] of Object.entries(m1)) out[`motor1_${k}`] = v;
      }
    }
    const s = m.ress_voltages?.[0];
    if (s) {
      Object.assign(out, {
        ress_subsystems: m.ress_voltages!.length,
        ress_voltage_v: s.voltage_v,
        ress_current_wire_a: s.current_wire_a,
        cells_total: s.cells_total,
        frame_first_cell: s.frame_first_cell,
        frame_cell_count: s.frame_cell_count,
        cell_mv: s.cell_mv,
      });
    }
    const t = m.ress_temps?.[0];
    if (t) Object.assign(out, { temp_probe_count: t.temps_c.length, temps_c: t.temps_c });
  }
  return out;
}

function fieldOf(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    expect(e).toBeInstanceOf(BmsError);
    return `${(e as BmsError).code} ${String((e as BmsError).details?.field)}`;
  }
}

describe('gb32960 vectors', () => {
  it.each(vectors.map((v) => [v.id, v] as const))('%s', (_id, v) => {
    const frame = hexToBytes(v.frame_hex!);
    if (v.expected.error === true) {
      expect(fieldOf(() => decodeGb32960(frame))).not.toBe('accepted');
      const f = createGb32960Framer();
      expect([...f.push(frame), ...f.end()].filter((e) => e.type === 'frame')).toEqual([]);
      return;
    }
    const m = decodeGb32960(frame);
    expect(differences(flat(m), v.expected)).toEqual([]);
    expect(
      createGb32960Framer()
        .push(frame)
        .map((e) => e.type),
    ).toEqual(['frame']);
    const template = v.expected_response_template;
    if (template) {
      // "2323 01 01 <vin> 01 001e <server time> <login data after the time, echoed> <BCC>"
      const now = Date.UTC(2026, 11, 7, 12, 34, 56); // 2026-12-07 20:34:56 in Beijing
      const reply = encodeResponse(frame, now)!;
      const head = template.split('<')[0]!.replace(/ /g, '');
      const echoed = v.frame_hex!.slice(2 * (24 + 6), -2);
      const body = `${head}1a0c07142238${echoed}`;
      let x = 0;
      for (const b of hexToBytes(body).subarray(2)) x ^= b;
      expect(bytesToHex(reply)).toBe(body + x.toString(16).padStart(2, '0'));
    } else {
      expect(v.expected_response_hex).toBeNull();
      if (m.message === 'realtime') {
        expect(encodeResponse(frame, 0)).toBeNull();
        const ack = decodeGb32960(encodeResponse(frame, 0, { ackReports: true })!);
        expect(ack).toMatchObject({ cmd: 2, response_flag: 1, vin: m.vin, data_length: 6 });
      }
    }
  });

  it('names the failing field for each malformed vector', () => {
    const got = Object.fromEntries(
      vectors
        .filter((v) => v.expected.error === true)
        .map((v) => [v.id, fieldOf(() => decodeGb32960(hexToBytes(v.frame_hex!)))]),
    );
    expect(got).toEqual({
      gb32960_error_bcc: 'FRAME_CHECKSUM bcc',
      gb32960_error_truncated: 'FRAME_TRUNCATED data_length',
      gb32960_error_start: 'FRAME_NO_START start_bytes',
    });
  });

  it('reads a whole-pack report as a BMS reading (current + = charging)', () => {
    const v = vectors.find((x) => x.id === 'gb32960_realtime_nevt')!;
    const m = decodeGb32960(hexToBytes(v.frame_hex!));
    if (m.message !== 'realtime') throw new Error('not a report');
    const r = toReading(m);
    expect(r).toMatchObject({ voltage_v: 547.1, current_a: 11, soc_pct: 87, cell_count: 162 });
    expect(r.cell_mv).toHaveLength(162);
    expect(r.temps_c).toHaveLength(48);
    expect(r.max_cell_mv).toBe(3380);
    expect(r.min_cell_mv).toBe(3360);
  });

  it('keeps a slice or an all-zero cell list out of cell_mv', () => {
    for (const id of ['gb32960_realtime_qitool', 'gb32960_realtime_lh0']) {
      const m = decodeGb32960(hexToBytes(vectors.find((x) => x.id === id)!.frame_hex!));
      if (m.message !== 'realtime') throw new Error('not a report');
      const r = toReading(m);
      expect(r.cell_mv, id).toBeUndefined();
      expect(r.raw?.cells_total, id).toBeGreaterThan(0);
    }
  });
});

describe('gb32960 encoders', () => {
  const vin = 'LTEST000000000001';

  it('round-trips a login and a battery report', () => {
    const t = Date.UTC(2026, 0, 2, 3, 4, 5);
    expect(decodeGb32960(encodeLogin(vin, t, 7, '89860000000000000001'))).toMatchObject({
      message: 'vehicle_login',
      vin,
      login_seq: 7,
      iccid: '89860000000000000001',
      time_utc: '2026-01-02T03:04:05Z',
      time_local_gmt8: '2026-01-02T11:04:05',
    });
    const m = decodeGb32960(
      encodeBatteryReport(vin, {
        time_ms: t,
        pack_voltage_v: 52.3,
        current_a: -12.5,
        soc_pct: 64,
        cell_mv: Array.from({ length: 16 }, (_, i) => 3260 + i),
        temps_c: [21, 22, -5],
        lat: -33.865143,
        lon: 151.2099,
      }),
    );
    if (m.message !== 'realtime') throw new Error('not a report');
    expect(toReading(m)).toMatchObject({
      voltage_v: 52.3,
      current_a: -12.5,
      soc_pct: 64,
      cell_count: 16,
      temps_c: [21, 22, -5],
    });
    expect(m.location).toMatchObject({ lat: -33.865143, lon: 151.2099, valid: true });
    expect(m.vehicle?.current_wire_a).toBe(12.5);
  });

  it('answers heartbeat and time calibration', () => {
    const hb = encodeGb32960Frame(
      { cmd: 7, response_flag: 0xfe, vin, encryption: 1 },
      new Uint8Array(0),
    );
    expect(decodeGb32960(encodeResponse(hb, 0)!)).toMatchObject({
      message: 'heartbeat',
      response_flag: 1,
      data_length: 0,
    });
    const tc = encodeGb32960Frame(
      { cmd: 8, response_flag: 0xfe, vin, encryption: 1 },
      new Uint8Array(0),
    );
    expect(bytesToHex(encodeResponse(tc, Date.UTC(2026, 11, 7, 12, 34, 56))!).slice(48, 60)).toBe(
      '1a0c07142238',
    );
  });

  it('refuses bad arguments naming the field', () => {
    expect(() => encodeLogin('SHORT', 0, 1, '89860000000000000001')).toThrow(/vin/);
    expect(() => encodeLogin(vin, 0, 1, 'x')).toThrow(/iccid/);
  });
});

describe('gb32960 framer', () => {
  const good = vectors
    .filter((v) => v.expected.error !== true)
    .map((v) => hexToBytes(v.frame_hex!));
  const stream = Uint8Array.from(good.flatMap((g) => [0x23, 0x00, 0x23, 0x23, 0x01, ...g]));
  it('finds every frame among garbage, whole and in 7-byte chunks', () => {
    expect(
      createGb32960Framer()
        .push(stream)
        .filter((e) => e.type === 'frame')
        .map((e) => bytesToHex(e.bytes)),
    ).toEqual(good.map(bytesToHex));
    const f = createGb32960Framer();
    const frames: string[] = [];
    for (let i = 0; i < stream.length; i += 7) {
      for (const e of f.push(stream.subarray(i, i + 7)))
        if (e.type === 'frame') frames.push(bytesToHex(e.bytes));
    }
    for (const e of f.end()) if (e.type === 'frame') frames.push(bytesToHex(e.bytes));
    expect(frames).toEqual(good.map(bytesToHex));
  });
});
