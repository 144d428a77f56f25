/**
 * JBD `DD ... 77` framing: one shape for both directions.
 *
 *   request: DD  A5|5A  register  L  data[L]  chk_hi chk_lo  77
 *   reply:   DD  register  status  L  data[L]  chk_hi chk_lo  77
 *
 * The checksum is the 16-bit two's complement of the byte sum from offset 2 up to the last
 * data byte (request: register, L, data; reply: status, L, data).
 */
import { BmsError, ensure } from '@openbms/core';
import { createFramer, type Probe } from '../util/framer.js';
import type { Framer } from '../types.js';

export const START = 0xdd;
export const END = 0x77;
export const READ = 0xa5;
export const WRITE = 0x5a;
/** Reply status bytes. */
export const STATUS_OK = 0x00;
export const STATUS_ERROR = 0x80;
/** Start, two header bytes, length, two checksum bytes, end. */
export const OVERHEAD = 7;
export const MAX_FRAME = OVERHEAD + 255;

/** Two's complement of the 16-bit sum of buf[start..end). */
export function jbdChecksum(buf: Uint8Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s += buf[i]!;
  return (0x10000 - (s & 0xffff)) & 0xffff;
}

/** Builds a frame from its two header bytes and data (the checksum and markers are added). */
export function buildFrame(b1: number, b2: number, data: ArrayLike<number> = []): Uint8Array {
  const n = data.length;
  ensure(n <= 255, 'INVALID_ARGUMENT', `JBD data is limited to 255 bytes (got ${n})`);
  const out = new Uint8Array(OVERHEAD + n);
  out[0] = START;
  out[1] = b1;
  out[2] = b2;
  out[3] = n;
  for (let i = 0; i < n; i++) out[4 + i] = data[i]!;
  const chk = jbdChecksum(out, 2, 4 + n);
  out[4 + n] = chk >> 8;
  out[5 + n] = chk & 0xff;
  out[6 + n] = END;
  return out;
}

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');
const hex4 = (v: number): string => v.toString(16).padStart(4, '0');

/**
 * Checks markers, length and checksum of exactly one frame occupying all of `bytes`.
 * Returns the data length. Throws FRAME_TRUNCATED / FRAME_MALFORMED / FRAME_CHECKSUM.
 */
export function checkFrame(bytes: Uint8Array, what: string): number {
  const n = bytes.length;
  ensure(
    n >= OVERHEAD,
    'FRAME_TRUNCATED',
    `JBD ${what} of ${n} bytes is shorter than the ${OVERHEAD}-byte minimum`,
  );
  ensure(
    bytes[0] === START,
    'FRAME_MALFORMED',
    `JBD ${what} must start with 0xdd (got 0x${hex2(bytes[0]!)})`,
  );
  const len = bytes[3]!;
  const total = OVERHEAD + len;
  ensure(n >= total, 'FRAME_TRUNCATED', `JBD ${what} length byte says ${total} bytes, have ${n}`);
  ensure(
    n === total,
    'FRAME_MALFORMED',
    `JBD ${what} has ${n - total} bytes after the ${total}-byte frame`,
  );
  ensure(
    bytes[n - 1] === END,
    'FRAME_MALFORMED',
    `JBD ${what} must end with 0x77 (got 0x${hex2(bytes[n - 1]!)})`,
  );
  const want = jbdChecksum(bytes, 2, 4 + len);
  const got = (bytes[4 + len]! << 8) | bytes[5 + len]!;
  if (want !== got) {
    throw new BmsError(
      'FRAME_CHECKSUM',
      `JBD checksum mismatch: frame has 0x${hex4(got)}, computed 0x${hex4(want)}`,
    );
  }
  return len;
}

/**
 * Probe shared by both framers. `header` rejects a candidate whose header bytes cannot
 * belong to this direction (so a request echoed by a half-duplex adapter is not taken for
 * a reply, and a false 0xdd in garbage is dropped before we wait for its "length").
 */
function probeWith(header: (b1: number, b2: number) => string | undefined) {
  return (buf: Uint8Array, start: number, end: number): Probe => {
    const have = end - start;
    if (have >= 3) {
      const bad = header(buf[start + 1]!, buf[start + 2]!);
      if (bad) return { kind: 'reject', code: 'FRAME_MALFORMED', reason: bad };
    }
    if (have < 4) return { kind: 'more' };
    const len = buf[start + 3]!;
    const total = OVERHEAD + len;
    if (have < total) return { kind: 'more' };
    if (buf[start + total - 1] !== END) {
      return {
        kind: 'reject',
        code: 'FRAME_MALFORMED',
        reason: 'no 0x77 end byte where the length byte puts it',
      };
    }
    const want = jbdChecksum(buf, start + 2, start + 4 + len);
    const got = (buf[start + 4 + len]! << 8) | buf[start + 5 + len]!;
    if (want !== got)
      return { kind: 'reject', code: 'FRAME_CHECKSUM', reason: 'JBD checksum mismatch' };
    return { kind: 'frame', length: total };
  };
}

const isStart = (buf: Uint8Array, i: number): boolean => buf[i] === START;

/** Error statuses (V11 doc): 0x80 no such register, 0x81 not in factory mode / password, 0x82 checksum, 0x83 pairing. */
export const STATUS_NOT_FACTORY = 0x81;
const isStatus = (b: number): boolean => b === STATUS_OK || (b >= STATUS_ERROR && b <= 0x83);

const replyHeader = (b1: number, b2: number): string | undefined => {
  if (b1 === READ || b1 === WRITE) return 'a request (0xa5/0x5a), not a reply';
  if (!isStatus(b2)) return `status byte 0x${hex2(b2)} is neither 0x00 nor 0x80..0x83`;
  return undefined;
};

const requestHeader = (b1: number): string | undefined =>
  b1 === READ || b1 === WRITE ? undefined : `0x${hex2(b1)} is neither read (0xa5) nor write (0x5a)`;

/** Framer for device -> host replies. */
export function createReplyFramer(): Framer {
  return createFramer({ maxLength: MAX_FRAME, isStart, probe: probeWith(replyHeader) });
}

/** Framer for host -> device requests (simulators, sniffers). */
export function createRequestFramer(): Framer {
  return createFramer({ maxLength: MAX_FRAME, isStart, probe: probeWith(requestHeader) });
}
