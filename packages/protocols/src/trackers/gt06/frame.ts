/**
 * GT06 wire frame: 78 78 | len BYTE | protocol | content | serial WORD | CRC WORD | 0D 0A, or
 * 79 79 with a WORD length. len counts protocol + content + serial + CRC. CRC is CRC-16/X-25
 * (CRC-ITU) over the length field through the serial.
 *
 * Real units send frames whose length byte is wrong but whose CRC is right (vector
 * gt06_heartbeat_bad_length_byte): when the length does not land on 0D 0A, the next 0D 0A
 * that closes a frame with a good CRC is taken instead (Traccar's fallback, made strict by
 * the CRC). Scanning alone would be wrong: 0D 0A can occur inside content.
 */
import type { Framer } from '../../types.js';
import { createFramer, type Probe } from '../../util/framer.js';
import { check, fail } from '../common.js';

/** Largest frame accepted (79 79 long packets carry lists; 1 KiB is plenty for the family). */
export const MAX_FRAME = 1024;
/** How far past the length field's end a wrong-length frame's real end is looked for. */
const SLACK = 32;

// CRC-16/X-25: no maintained npm package for this one small function that is not also a
// dependency tree of its own; the table is built at load time from the polynomial.
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

export function crcItu(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return ~crc & 0xffff;
}

export interface FrameShape {
  /** Offset of the protocol number. */
  protoAt: number;
  /** Whole frame length. */
  length: number;
  /** The length field disagreed with the bytes; the CRC fallback found the end. */
  lengthMismatch: boolean;
}

type Check =
  | { ok: true; shape: FrameShape }
  | { ok: false; more: true }
  | {
      ok: false;
      more: false;
      code: 'FRAME_MALFORMED' | 'FRAME_CHECKSUM' | 'FRAME_TOO_LONG';
      field: string;
      reason: string;
    };

function crcOk(buf: Uint8Array, start: number, total: number): boolean {
  const sent = (buf[start + total - 4]! << 8) | buf[start + total - 3]!;
  return crcItu(buf, start + 2, start + total - 4) === sent;
}

/** Examines buf[start..end) for one frame. */
function examine(buf: Uint8Array, start: number, end: number): Check {
  const avail = end - start;
  if (avail < 2) return { ok: false, more: true };
  const long = buf[start] === 0x79;
  const hl = long ? 4 : 3;
  if (avail < hl) return { ok: false, more: true };
  const len = long ? (buf[start + 2]! << 8) | buf[start + 3]! : buf[start + 2]!;
  const total = hl + len + 2;
  if (total > MAX_FRAME) {
    return {
      ok: false,
      more: false,
      code: 'FRAME_TOO_LONG',
      field: 'length',
      reason: `${len} bytes announced`,
    };
  }
  const shape = (length: number, lengthMismatch: boolean): Check => ({
    ok: true,
    shape: { protoAt: hl, length, lengthMismatch },
  });
  if (
    len >= 5 &&
    avail >= total &&
    buf[start + total - 2] === 0x0d &&
    buf[start + total - 1] === 0x0a
  ) {
    if (crcOk(buf, start, total)) return shape(total, false);
    const sent = ((buf[start + total - 4]! << 8) | buf[start + total - 3]!)
      .toString(16)
      .padStart(4, '0');
    const calc = crcItu(buf, start + 2, start + total - 4)
      .toString(16)
      .padStart(4, '0');
    return {
      ok: false,
      more: false,
      code: 'FRAME_CHECKSUM',
      field: 'crc',
      reason: `CRC field 0x${sent}, computed 0x${calc}`,
    };
  }
  if (len < 5) {
    return {
      ok: false,
      more: false,
      code: 'FRAME_MALFORMED',
      field: 'length',
      reason: `${len} is shorter than protocol + serial + CRC`,
    };
  }
  // Fallback: the first 0D 0A within SLACK bytes of where the length says the frame ends
  // that closes a frame with a correct CRC.
  const limit = Math.min(end, start + total + SLACK, start + MAX_FRAME);
  for (let i = start + hl + 5; i + 1 < limit; i++) {
    if (buf[i] === 0x0d && buf[i + 1] === 0x0a && crcOk(buf, start, i + 2 - start)) {
      return shape(i + 2 - start, true);
    }
  }
  if (end - start >= total + SLACK || end - start >= MAX_FRAME) {
    const stop = `${buf[start + total - 2]!.toString(16).padStart(2, '0')}${buf[start + total - 1]!.toString(16).padStart(2, '0')}`;
    return {
      ok: false,
      more: false,
      code: 'FRAME_MALFORMED',
      field: 'stop_bytes',
      reason: `stop bytes ${stop}, expected 0d0a`,
    };
  }
  return { ok: false, more: true };
}

/** Checks one whole frame; throws BmsError naming the field. */
export function checkFrame(frame: Uint8Array): FrameShape {
  const s0 = frame[0];
  check(
    frame.length >= 2 && (s0 === 0x78 || s0 === 0x79) && frame[1] === s0,
    'FRAME_NO_START',
    'start_bytes',
    'expected 7878 or 7979',
  );
  const c = examine(frame, 0, frame.length);
  if (c.ok) {
    check(
      c.shape.length === frame.length,
      'FRAME_MALFORMED',
      'length',
      `${frame.length - c.shape.length} bytes after the frame`,
    );
    return c.shape;
  }
  if (c.more) {
    const long = s0 === 0x79;
    const len = frame.length > 3 ? (long ? (frame[2]! << 8) | frame[3]! : frame[2]!) : 0;
    // A complete-looking frame whose stop bytes are not 0D 0A.
    if (frame.length >= (long ? 4 : 3) + len + 2 && len >= 5) {
      const stop = frame.subarray(frame.length - 2);
      fail(
        'FRAME_MALFORMED',
        'stop_bytes',
        `stop bytes ${Array.from(stop, (b) => b.toString(16).padStart(2, '0')).join('')}, expected 0d0a`,
      );
    }
    fail('FRAME_TRUNCATED', 'length', `incomplete: length field announces ${len} bytes`);
  }
  fail(c.code, c.field, c.reason);
}

function probe(buf: Uint8Array, start: number, end: number): Probe {
  if (end - start >= 2 && buf[start + 1] !== buf[start]) {
    return { kind: 'reject', code: 'FRAME_NO_START', reason: 'no 7878/7979 start' };
  }
  const c = examine(buf, start, end);
  if (c.ok) return { kind: 'frame', length: c.shape.length };
  if (c.more) return { kind: 'more' };
  return { kind: 'reject', code: c.code, reason: `${c.field}: ${c.reason}` };
}

/** Streaming framer: garbage, split and merged chunks; buffers at most MAX_FRAME bytes. */
export function createGt06Framer(): Framer {
  return createFramer({
    maxLength: MAX_FRAME,
    isStart: (buf, i) => buf[i] === 0x78 || buf[i] === 0x79,
    probe,
  });
}

/** Wraps protocol + content + serial into a whole frame (short form when it fits). */
export function wrapFrame(protocol: number, content: Uint8Array, serial: number): Uint8Array {
  check(
    Number.isInteger(serial) && serial >= 0 && serial <= 0xffff,
    'INVALID_ARGUMENT',
    'serial',
    '0..65535',
  );
  const len = 1 + content.length + 2 + 2;
  const long = len > 0xff;
  const hl = long ? 4 : 3;
  check(
    hl + len + 2 <= MAX_FRAME,
    'INVALID_ARGUMENT',
    'content',
    `${content.length} bytes, too long`,
  );
  const out = new Uint8Array(hl + len + 2);
  out[0] = out[1] = long ? 0x79 : 0x78;
  if (long) {
    out[2] = len >> 8;
    out[3] = len & 0xff;
  } else out[2] = len;
  out[hl] = protocol;
  out.set(content, hl + 1);
  const so = hl + 1 + content.length;
  out[so] = serial >> 8;
  out[so + 1] = serial & 0xff;
  const crc = crcItu(out, 2, so + 2);
  out[so + 2] = crc >> 8;
  out[so + 3] = crc & 0xff;
  out[so + 4] = 0x0d;
  out[so + 5] = 0x0a;
  return out;
}
