/**
 * GT06 conformance against the shared vectors (decode; required acks byte for byte), the
 * documented 0x8A time reply, round trips of the terminal-side encoders, and framing.
 */
import { describe, expect, it } from 'vitest';
import { BmsError } from '@openbms/core';
import { bytesToHex, differences, hexToBytes, loadTrackerVectors } from '../../testing/trackers.js';
import {
  COMMAND_WORDS,
  createGt06Framer,
  crcItu,
  decodeGt06,
  encodeAlarm,
  encodeCommand,
  encodeHeartbeat,
  encodeLocation,
  encodeLogin,
  encodeTimeResponse,
  requiredResponse,
  type Gt06Message,
} from './index.js';

const vectors = loadTrackerVectors('gt06');

function flat(m: Gt06Message): Record<string, unknown> {
  return { ...m, protocol: `0x${m.protocol.toString(16).padStart(2, '0')}` };
}

describe('gt06 vectors', () => {
  it.each(vectors.map((v) => [v.id, v] as const))('%s', (_id, v) => {
    const frame = hexToBytes(v.frame_hex!);
    if (v.expected.error === true) {
      let err: unknown;
      try {
        decodeGt06(frame);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BmsError);
      const f = createGt06Framer();
      expect([...f.push(frame), ...f.end()].filter((e) => e.type === 'frame')).toEqual([]);
      return;
    }
    const m = decodeGt06(frame);
    expect(differences(flat(m), v.expected)).toEqual([]);
    if (v.expected.length_byte_mismatch === undefined) expect(m.length_byte_mismatch).toBe(false);
    const reply = requiredResponse(m, Date.UTC(2015, 11, 29, 0, 0, 21));
    if (m.message === 'time_request') {
      // The vendor document's reply for 2015-12-29 00:00:21 UTC and serial 6.
      expect(bytesToHex(reply!)).toBe('78780b8a0f0c1d0000150006f0860d0a');
    } else expect(reply && bytesToHex(reply)).toBe(v.expected_response_hex);
    // Every frame the codec accepts is also found by the framer.
    expect(
      createGt06Framer()
        .push(frame)
        .map((e) => e.type),
    ).toEqual(['frame']);
  });

  it('names the failing field for each malformed vector', () => {
    const got = Object.fromEntries(
      vectors
        .filter((v) => v.expected.error === true)
        .map((v) => {
          try {
            decodeGt06(hexToBytes(v.frame_hex!));
            return [v.id, 'accepted'];
          } catch (e) {
            return [v.id, `${(e as BmsError).code} ${String((e as BmsError).details?.field)}`];
          }
        }),
    );
    expect(got).toEqual({
      gt06_error_crc_doc_example: 'FRAME_CHECKSUM crc',
      gt06_error_crc: 'FRAME_CHECKSUM crc',
      gt06_error_stop_bytes: 'FRAME_MALFORMED stop_bytes',
      gt06_error_truncated: 'FRAME_TRUNCATED length',
    });
  });

  it('encodes the 0x80 command of the Traccar encoder test byte for byte', () => {
    expect(bytesToHex(encodeCommand('Relay,1#', 0, 0))).toBe(
      '787812800c0000000052656c61792c312300009dee0d0a',
    );
  });

  it('encodes an instruction word with its server flag byte for byte', () => {
    // 78 78 | len 14 | 80 | cmd len 0e | flag 00000001 | "DEFENSE,1#" | serial 0001 | CRC | 0D 0A
    expect(bytesToHex(encodeCommand(COMMAND_WORDS.arm, 1, 1))).toBe(
      '787814800e00000001444546454e53452c31230001abf50d0a',
    );
    for (const w of Object.values(COMMAND_WORDS)) {
      const m = decodeGt06(encodeCommand(w, 0xfffffffe, 7));
      expect(m).toMatchObject({ message: 'command', server_flag_hex: 'fffffffe', command: w });
    }
  });

  it('has the CRC-ITU check value of the vendor document', () => {
    expect(crcItu(hexToBytes('05010005'))).toBe(0x9ff8);
  });
});

describe('gt06 framer', () => {
  const good = vectors
    .filter((v) => v.expected.error !== true)
    .map((v) => hexToBytes(v.frame_hex!));
  const stream = Uint8Array.from(good.flatMap((g) => [0x78, 0x0d, 0x0a, 0x79, 0x79, ...g]));

  it('finds every frame among garbage, whole and byte by byte', () => {
    const whole = createGt06Framer()
      .push(stream)
      .filter((e) => e.type === 'frame');
    expect(whole.map((e) => bytesToHex(e.bytes))).toEqual(good.map(bytesToHex));
    const f = createGt06Framer();
    const frames: string[] = [];
    for (const b of stream)
      for (const e of f.push(Uint8Array.of(b)))
        if (e.type === 'frame') frames.push(bytesToHex(e.bytes));
    frames.push(
      ...f
        .end()
        .filter((e) => e.type === 'frame')
        .map((e) => bytesToHex(e.bytes)),
    );
    expect(frames).toEqual(good.map(bytesToHex));
  });

  it('keeps the buffer bounded on a long frame that never ends', () => {
    const f = createGt06Framer();
    const junk = new Uint8Array(5000).fill(0x11);
    junk.set([0x79, 0x79, 0x03, 0x00]);
    f.push(junk);
    expect(f.pending).toBeLessThan(1100);
  });
});

describe('gt06 terminal encoders round-trip', () => {
  const pos = {
    time_ms: Date.UTC(2026, 2, 4, 5, 6, 7),
    valid: true,
    lat: -33.865143,
    lon: -151.2099,
    speed_kmh: 31,
    course_deg: 270,
    satellites: 11,
    mcc: 460,
    mnc: 1,
    lac: 0x1234,
    cell_id: 0xabcdef,
  };

  it('login, heartbeat, location and alarm', () => {
    expect(decodeGt06(encodeLogin('352887071911998', 4))).toMatchObject({
      message: 'login',
      imei: '352887071911998',
      serial: 4,
    });
    expect(
      decodeGt06(
        encodeHeartbeat({ armed: true, charging: true, voltage_level: 5, gsm_level: 3 }, 9),
      ),
    ).toMatchObject({
      message: 'heartbeat',
      armed: true,
      charging: true,
      acc_on: false,
      voltage_level: 5,
      gsm_level: 3,
    });
    const loc = decodeGt06(encodeLocation(pos, 10, true, true));
    expect(loc).toMatchObject({
      message: 'location',
      time_utc: '2026-03-04T05:06:07Z',
      lat: -33.865143,
      lon: -151.2099,
      speed_kmh: 31,
      course_deg: 270,
      satellites: 11,
      valid: true,
      acc_on: true,
      reupload: true,
      mcc: 460,
      mnc: 1,
      lac: 0x1234,
      cell_id: 0xabcdef,
    });
    const al = decodeGt06(
      encodeAlarm(pos, { armed: true, voltage_level: 4, gsm_level: 4 }, 0x03, 11),
    );
    expect(al).toMatchObject({
      message: 'alarm',
      alarm: 'vibration',
      armed: true,
      lat: -33.865143,
    });
    expect(bytesToHex(requiredResponse(al, 0)!).slice(0, 12)).toBe('78780526000b');
  });

  it('the time reply is UTC', () => {
    expect(bytesToHex(encodeTimeResponse(Date.UTC(2015, 11, 29, 0, 0, 21), 6))).toBe(
      '78780b8a0f0c1d0000150006f0860d0a',
    );
  });

  it('refuses bad arguments naming the field', () => {
    expect(() => encodeLogin('12345', 1)).toThrow(/imei/);
    expect(() => encodeCommand('命令', 0, 1)).toThrow(/command/);
    expect(() => encodeLocation({ ...pos, lat: 95 }, 1)).toThrow(/lat/);
  });
});
