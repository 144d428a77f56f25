/**
 * JT/T 808 conformance against the shared vectors (decode, and the required reply byte for byte
 * after the server serial, which the vectors fix at 0), round trips and framing.
 */
import { describe, expect, it } from 'vitest';
import { BmsError } from '@openbms/core';
import { bytesToHex, differences, hexToBytes, loadTrackerVectors } from '../../testing/trackers.js';
import {
  CONTROL,
  createJt808Framer,
  createJt808Reassembler,
  encodeAuth,
  encodeJt808Frame,
  encodeLocation,
  decodeJt808,
  encodeGeneralResponse,
  encodeLocateNow,
  encodeLocationBatch,
  encodeLocationReport,
  encodeHeartbeat,
  encodeRegisterResponse,
  encodeTerminalControl,
  encodeTextMessage,
  encodePassthroughDown,
  encodePassthroughUp,
  passthroughBytes,
  PASSTHROUGH,
  requiredResponse,
  type Jt808Message,
} from './index.js';

const vectors = loadTrackerVectors('jt808');

/** The vector's view of a message: header, body fields and the location's fields on top. */
function flat(m: Jt808Message): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...m,
    msg_id: `0x${m.msg_id.toString(16).padStart(4, '0')}`,
  };
  if ('location' in m) Object.assign(out, m.location, { msg_id: out.msg_id });
  if (m.message === 'location') out.imei = m.location.imei;
  if ('location' in m) out.time_bcd_gmt8 = m.location.time_bcd;
  if (m.message === 'location_batch') {
    out.positions = m.positions.map((p) => ({ ...p, time_bcd_gmt8: p.time_bcd }));
  }
  if (m.message === 'location_batch') {
    out.timezone_item = m.positions.find((p) => p.timezone_item)?.timezone_item;
  }
  return out;
}

describe('jt808 vectors', () => {
  it.each(vectors.map((v) => [v.id, v] as const))('%s', (_id, v) => {
    const frame = hexToBytes(v.frame_hex!);
    if (v.expected.error === true) {
      let err: unknown;
      try {
        decodeJt808(frame);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BmsError);
      expect((err as BmsError).details?.field, 'the error names the field').toMatch(/^[a-z_]+$/);
      // The framer never emits it as a frame either.
      const f = createJt808Framer();
      const events = [...f.push(frame), ...f.end()];
      expect(events.filter((e) => e.type === 'frame')).toEqual([]);
      return;
    }
    const m = decodeJt808(frame);
    expect(differences(flat(m), v.expected, ['checksum_hex', 'body_length', 'layout'])).toEqual([]);
    const reply = requiredResponse(m, 0);
    expect(reply && bytesToHex(reply)).toBe(v.expected_response_hex);
    // Any server serial: same body, checksum recomputed (decode checks it).
    const r2 = requiredResponse(m, 0x1234)!;
    const back = decodeJt808(r2);
    expect(back.serial).toBe(0x1234);
    expect(back.phone).toBe(m.phone);
  });

  it('names the failing field for each malformed vector', () => {
    const reasons = Object.fromEntries(
      vectors
        .filter((v) => v.expected.error === true)
        .map((v) => {
          try {
            decodeJt808(hexToBytes(v.frame_hex!));
            return [v.id, 'accepted'];
          } catch (e) {
            return [v.id, `${(e as BmsError).code} ${String((e as BmsError).details?.field)}`];
          }
        }),
    );
    expect(reasons).toEqual({
      jt808_error_length_and_checksum: 'FRAME_MALFORMED body_length',
      jt808_error_bad_checksum: 'FRAME_CHECKSUM checksum',
      jt808_error_bad_escape: 'FRAME_MALFORMED escape',
      jt808_error_body_length: 'FRAME_MALFORMED body_length',
      jt808_error_truncated: 'FRAME_TRUNCATED end_flag',
    });
  });
});

describe('jt808 framer', () => {
  const good = vectors
    .filter((v) => v.expected.error !== true)
    .map((v) => hexToBytes(v.frame_hex!));
  const stream = Uint8Array.from(good.flatMap((g) => [0x00, 0x7e, 0x7d, 0x03, ...g]));

  it('finds every frame among garbage, in one chunk and byte by byte', () => {
    const one = createJt808Framer()
      .push(stream)
      .filter((e) => e.type === 'frame');
    expect(one.map((e) => bytesToHex(e.bytes))).toEqual(good.map(bytesToHex));
    const f = createJt808Framer();
    const frames: string[] = [];
    for (const b of stream)
      for (const e of f.push(Uint8Array.of(b)))
        if (e.type === 'frame') frames.push(bytesToHex(e.bytes));
    expect(frames).toEqual(good.map(bytesToHex));
  });

  it('keeps its buffer bounded when no closing flag comes', () => {
    const f = createJt808Framer();
    const junk = new Uint8Array(10_000).fill(0x41);
    junk[0] = 0x7e;
    const ev = f.push(junk);
    expect(f.pending).toBe(0);
    expect(ev.some((e) => e.type === 'discard' && e.code === 'FRAME_TOO_LONG')).toBe(true);
  });
});

describe('jt808 encoders', () => {
  const t2013 = { protocol_version: '2013' as const, phone: '013511221122' };
  const t2019 = { protocol_version: '2019' as const, phone: '00000866496077582164' };

  it('round-trips a location report with items, south-west, in 2013 and 2019 headers', () => {
    for (const t of [t2013, t2019]) {
      const frame = encodeLocationReport(t, 77, {
        valid: true,
        lat: -33.865143,
        lon: -151.2099,
        altitude_m: -12,
        speed_kmh: 23.4,
        course_deg: 271,
        time_ms: Date.UTC(2026, 0, 2, 3, 4, 5),
        mileage_km: 1234.5,
        rssi: 20,
        satellites: 9,
        status_flags: 1,
        alarm_flags: 1 << 8,
      });
      const m = decodeJt808(frame);
      expect(m.message).toBe('location');
      if (m.message !== 'location') return;
      expect(m).toMatchObject({ phone: t.phone, serial: 77, protocol_version: t.protocol_version });
      expect(m.location).toMatchObject({
        valid: true,
        lat: -33.865143,
        lon: -151.2099,
        altitude_m: -12,
        speed_kmh: 23.4,
        course_deg: 271,
        time_utc: '2026-01-02T03:04:05Z',
        mileage_km: 1234.5,
        rssi: 20,
        satellites: 9,
        acc_on: true,
        alarms: ['power_cut'],
      });
    }
  });

  it('round-trips a batch and a heartbeat', () => {
    const pos = [0, 1, 2].map((i) => ({
      valid: true,
      lat: 22.5 + i / 1000,
      lon: 114,
      time_ms: Date.UTC(2026, 5, 1, 0, 0, i),
    }));
    const m = decodeJt808(encodeLocationBatch(t2013, 5, 1, pos));
    expect(m.message === 'location_batch' && m.positions.map((p) => p.lat)).toEqual([
      22.5, 22.501, 22.502,
    ]);
    expect(decodeJt808(encodeHeartbeat(t2019, 9))).toMatchObject({
      message: 'heartbeat',
      serial: 9,
      device_id: '866496077582164',
    });
  });

  it('encodes the platform commands with the terminal header form', () => {
    // 7E | id 8201 | attrs 0000 (empty body) | phone 013511221122 | serial 0001 | XOR b6 | 7E
    expect(bytesToHex(encodeLocateNow(t2013, 1))).toBe('7e820100000135112211220001b67e');
    const ctl = decodeJt808(encodeTerminalControl(t2019, 2, CONTROL.factory_reset));
    expect(ctl).toMatchObject({ msg_id: 0x8105, protocol_version: '2019', serial: 2 });
    expect(ctl.message === 'unknown' && ctl.body_hex).toBe('05');
    const txt = decodeJt808(encodeTextMessage(t2013, 3, 0x01, 'ARM'));
    expect(txt.message === 'unknown' && txt.body_hex).toBe('0141524d');
    expect(() => encodeTextMessage(t2013, 3, 1, '苏')).toThrow(/text/);
    const reg = decodeJt808(encodeRegisterResponse({ ...t2013, serial: 5 }, 0, 3, 'x'));
    expect(reg.message === 'unknown' && reg.body_hex).toBe('000503');
    const ack = decodeJt808(
      encodeGeneralResponse({ ...t2013, serial: 0xabcd, msg_id: 0x0200 }, 7, 4),
    );
    expect(ack.message === 'unknown' && ack.body_hex).toBe('abcd020004');
  });

  it('refuses bad arguments naming the field', () => {
    expect(() => encodeLocateNow({ protocol_version: '2013', phone: '12x' }, 1)).toThrow(/phone/);
    expect(() => encodeLocateNow(t2013, 70000)).toThrow(/serial/);
    expect(() =>
      encodeLocationReport(t2013, 1, { valid: true, lat: 91, lon: 0, time_ms: 0 }),
    ).toThrow(/lat/);
  });
});

describe('jt808 sub-packages', () => {
  const t = { protocol_version: '2013' as const, phone: '013511221122' };
  const positions = Array.from({ length: 40 }, (_, i) => ({
    valid: true,
    lat: 22.5 + i / 1000,
    lon: 114,
    time_ms: Date.UTC(2026, 5, 1, 0, i),
  }));
  // A 0x0704 batch too long for one frame, cut into 100-byte packages (serials 50, 51, ...).
  const parts = positions.map((p) => encodeLocation(p));
  const body = Uint8Array.from([
    0,
    parts.length,
    1,
    ...parts.flatMap((p) => [p.length >> 8, p.length & 0xff, ...p]),
  ]);
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < body.length; o += 100) chunks.push(body.subarray(o, o + 100));
  const frames = chunks.map((c, i) =>
    encodeJt808Frame(t, 0x0704, 50 + i, c, { total: chunks.length, index: i + 1 }),
  );

  it('decodes each package as a fragment, acks it, and joins them in any order', () => {
    const r = createJt808Reassembler();
    const order = frames.map((_, i) => i).reverse();
    const out: Jt808Message[] = [];
    for (const i of order) {
      const m = decodeJt808(frames[i]!);
      expect(m).toMatchObject({
        message: 'fragment',
        package: { total: frames.length, index: i + 1 },
      });
      expect(decodeJt808(requiredResponse(m, 1)!)).toMatchObject({ msg_id: 0x8001 });
      const whole = r.add(m);
      if (whole) out.push(whole);
    }
    expect(out).toHaveLength(1);
    const m = out[0]!;
    expect(m).toMatchObject({ message: 'location_batch', serial: 50, count: 40 });
    expect(m.message === 'location_batch' && m.positions.map((p) => p.lat)).toEqual(
      positions.map((p) => p.lat),
    );
    expect(r.pending).toBe(0);
    expect(Object.keys(m)).not.toContain('body_hex');
    expect(Object.keys(m)).not.toContain('package');
  });

  it('stays bounded when packages never complete', () => {
    const r = createJt808Reassembler({ maxMessages: 2, maxBytes: 1000 });
    for (let k = 0; k < 50; k++) {
      const f = encodeJt808Frame(t, 0x0704, k * 10, new Uint8Array(300), { total: 5, index: 1 });
      expect(r.add(decodeJt808(f))).toBeNull();
      expect(r.pending).toBeLessThanOrEqual(1000);
    }
    const huge = encodeJt808Frame(t, 0x0704, 1, new Uint8Array(1), { total: 5000, index: 1 });
    expect(() => r.add(decodeJt808(huge))).toThrow(/package_total/);
  });

  it('round-trips a 2019 auth', () => {
    const t19 = { protocol_version: '2019' as const, phone: '00000866496077582164' };
    expect(decodeJt808(encodeAuth(t19, 3, 'code-1', '866496077582164', 'V1.2'))).toMatchObject({
      message: 'auth',
      auth_code: 'code-1',
      imei: '866496077582164',
      software_version: 'V1.2',
    });
  });
});

describe('jt808 pass-through (0x0900 up, 0x8900 down)', () => {
  const t = { protocol_version: '2013' as const, phone: '013800000001' };
  // A JBD basic-info request, plus the two bytes JT/T 808 must escape (0x7e, 0x7d).
  const bms = Uint8Array.from([0xdd, 0xa5, 0x03, 0x00, 0xff, 0xfd, 0x77, 0x7e, 0x7d]);

  it('carries the bytes behind the content type, escaped on the wire', () => {
    const down = encodePassthroughDown(t, 7, PASSTHROUGH.serial_1, bms);
    // Header: id 0x8900, attributes = body length 10, BCD phone, serial 7; body: 0x41, bytes.
    expect(bytesToHex(down)).toBe(
      '7e' +
        '8900' +
        '000a' +
        '013800000001' +
        '0007' +
        '41' +
        'dda50300fffd77' +
        '7d02' +
        '7d01' +
        bytesToHex(
          Uint8Array.from([
            xorOf([0x89, 0x00, 0x00, 0x0a, 0x01, 0x38, 0, 0, 0, 0x01, 0, 7, 0x41, ...bms]),
          ]),
        ) +
        '7e',
    );
    const m = decodeJt808(down);
    expect(m).toMatchObject({ msg_id: 0x8900, serial: 7, message: 'unknown' });
  });

  it('decodes an uplink as passthrough with its type and bytes, acked with 0x8001', () => {
    const up = encodePassthroughUp(t, 12, PASSTHROUGH.serial_1, bms);
    const m = decodeJt808(up);
    expect(m).toMatchObject({ message: 'passthrough', data_type: 0x41, serial: 12 });
    expect(m.message === 'passthrough' && passthroughBytes(m)).toEqual(bms);
    const ack = decodeJt808(requiredResponse(m, 3)!);
    expect(ack).toMatchObject({ msg_id: 0x8001, serial: 3 });
    expect(ack.message === 'unknown' && ack.body_hex).toBe('000c090000');
  });

  it('refuses a type or a size that does not fit, naming the field', () => {
    expect(() => encodePassthroughDown(t, 1, 256, bms)).toThrow(/data_type/);
    expect(() => encodePassthroughUp(t, 1, 0x41, new Uint8Array(1023))).toThrow(/data/);
    expect(decodeJt808(encodePassthroughUp(t, 1, 0x41, new Uint8Array(1022)))).toMatchObject({
      message: 'passthrough',
    });
  });
});

function xorOf(bytes: number[]): number {
  return bytes.reduce((a, b) => a ^ b, 0);
}
