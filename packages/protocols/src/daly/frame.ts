/**
 * DALY A5 frame layer: every frame, in both directions, is 13 bytes
 *   A5 | address | data id | 08 | 8 data bytes | sum8 of bytes 0..11
 * Pure functions, no I/O.
 */
import { BmsError } from '@openbms/core';
import { createFramer, type FrameRule, type Probe } from '../util/framer.js';
import type { Framer } from '../types.js';

export const FRAME_LEN = 13;
export const START = 0xa5;
export const DATA_LEN = 0x08;
/** Offset of the first data byte inside a frame. */
export const DATA = 4;
/** Address byte the BMS uses in its replies (BMS master) in every capture. */
export const BMS_ADDRESS = 0x01;

/** Low 8 bits of the sum of frame bytes start..start+11. */
function frameSum(buf: Uint8Array, start: number): number {
  let s = 0;
  for (let i = start; i < start + 12; i++) s += buf[i]!;
  return s & 0xff;
}

const MORE: Probe = { kind: 'more' };
const BAD_LEN: Probe = {
  kind: 'reject',
  code: 'FRAME_MALFORMED',
  reason: 'data length byte is not 0x08 (DALY A5 frames are always 13 bytes)',
};
const BAD_SUM: Probe = {
  kind: 'reject',
  code: 'FRAME_CHECKSUM',
  reason: 'DALY A5 checksum (sum of bytes 0..11) does not match',
};
const WHOLE: Probe = { kind: 'frame', length: FRAME_LEN };

/** The stream rule; the frame shape is the same for requests and replies. */
export const FRAME_RULE: FrameRule = {
  maxLength: FRAME_LEN,
  isStart: (buf, i) => buf[i] === START,
  probe(buf, start, end): Probe {
    const have = end - start;
    // Reject a false start marker as early as its length byte is known.
    if (have >= 4 && buf[start + 3] !== DATA_LEN) return BAD_LEN;
    if (have < FRAME_LEN) return MORE;
    return frameSum(buf, start) === buf[start + 12] ? WHOLE : BAD_SUM;
  },
};

/** Stream framer for DALY A5 traffic (replies; requests have the same shape). */
export function createDalyFramer(): Framer {
  return createFramer(FRAME_RULE);
}

/**
 * Checks the frame at bytes[start..start+13): marker, length byte and checksum. Throws a
 * coded BmsError naming the frame's position (`which`) in the reply.
 */
export function checkFrame(bytes: Uint8Array, start: number, which: number): void {
  if (bytes.length - start < FRAME_LEN) {
    throw new BmsError(
      'FRAME_TRUNCATED',
      `DALY A5 frame ${which} is ${bytes.length - start} bytes, frames are ${FRAME_LEN}`,
    );
  }
  if (bytes[start] !== START) {
    throw new BmsError(
      'FRAME_MALFORMED',
      `DALY A5 frame ${which} starts with 0x${hex2(bytes[start]!)}, expected 0xa5`,
    );
  }
  if (bytes[start + 3] !== DATA_LEN) {
    throw new BmsError(
      'FRAME_MALFORMED',
      `DALY A5 frame ${which} has data length 0x${hex2(bytes[start + 3]!)}, expected 0x08`,
    );
  }
  const sum = frameSum(bytes, start);
  if (sum !== bytes[start + 12]) {
    throw new BmsError(
      'FRAME_CHECKSUM',
      `DALY A5 frame ${which}: checksum 0x${hex2(bytes[start + 12]!)} does not match the byte sum 0x${hex2(sum)}`,
    );
  }
}

/** Checks every 13-byte frame of a (possibly multi-frame) reply; returns the frame count. */
export function checkFrames(bytes: Uint8Array): number {
  if (bytes.length < FRAME_LEN) {
    throw new BmsError(
      'FRAME_TRUNCATED',
      `DALY A5 reply is ${bytes.length} bytes, a frame is ${FRAME_LEN}`,
    );
  }
  if (bytes.length % FRAME_LEN !== 0) {
    throw new BmsError(
      'FRAME_MALFORMED',
      `DALY A5 reply is ${bytes.length} bytes, not a whole number of ${FRAME_LEN}-byte frames (leading or trailing bytes?)`,
    );
  }
  const n = bytes.length / FRAME_LEN;
  for (let f = 0; f < n; f++) checkFrame(bytes, f * FRAME_LEN, f + 1);
  return n;
}

/** Builds one frame from address, data id and up to 8 data bytes (rest zero-filled). */
export function buildFrame(address: number, dataId: number, data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(FRAME_LEN);
  out[0] = START;
  out[1] = address;
  out[2] = dataId;
  out[3] = DATA_LEN;
  for (let i = 0; i < data.length && i < 8; i++) out[DATA + i] = data[i]!;
  out[12] = frameSum(out, 0);
  return out;
}

export function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}
