/**
 * JT/T 808 wire frame: 0x7E | header | body | XOR checksum | 0x7E, with 0x7E sent as 7D 02 and
 * 0x7D as 7D 01 between the flags. Unescaping and the checks are strict: a 7D followed by
 * anything but 01/02, a wrong XOR or a body-length field that disagrees with the bytes reject
 * the frame (Traccar accepts all three; real devices send correct frames).
 */
import type { Framer } from '../../types.js';
import { createFramer, type Probe } from '../../util/framer.js';
import { check, fail } from '../common.js';

/** Largest unescaped frame: 2019 header 17 + sub-package 4 + body 1023 + checksum 1. */
export const MAX_UNESCAPED = 17 + 4 + 1023 + 1;
/** Largest wire frame: every inner byte escaped, plus both flags. */
export const MAX_WIRE = MAX_UNESCAPED * 2 + 2;

/** Problem with the inner bytes (between the flags), or undefined when they are valid. */
interface Inner {
  bytes?: Uint8Array;
  problem?: { code: 'FRAME_MALFORMED' | 'FRAME_CHECKSUM'; field: string; reason: string };
}

function unescapeInner(buf: Uint8Array, start: number, end: number): Inner {
  const out = new Uint8Array(end - start);
  let n = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b !== 0x7d) {
      out[n++] = b;
      continue;
    }
    const nx = buf[i + 1];
    if (i + 1 >= end || (nx !== 0x01 && nx !== 0x02)) {
      const what = i + 1 >= end ? 'nothing' : `0x${nx!.toString(16).padStart(2, '0')}`;
      return {
        problem: {
          code: 'FRAME_MALFORMED',
          field: 'escape',
          reason: `0x7d followed by ${what} is not a valid escape`,
        },
      };
    }
    out[n++] = nx === 0x01 ? 0x7d : 0x7e;
    i++;
  }
  return { bytes: out.subarray(0, n) };
}

/** Header length from the body attributes word (bit 14: 2019 header, bit 13: sub-package). */
export function headerLength(attrs: number): number {
  return (attrs & 0x4000 ? 17 : 12) + (attrs & 0x2000 ? 4 : 0);
}

/** Validates unescaped header+body+checksum; returns the problem or undefined. */
function innerProblem(u: Uint8Array): Inner['problem'] {
  if (u.length < 13) {
    return { code: 'FRAME_MALFORMED', field: 'header', reason: `${u.length} bytes, too short` };
  }
  const attrs = (u[2]! << 8) | u[3]!;
  const hl = headerLength(attrs);
  const declared = attrs & 0x3ff;
  const actual = u.length - hl - 1;
  if (actual !== declared) {
    return {
      code: 'FRAME_MALFORMED',
      field: 'body_length',
      reason: `attributes say ${declared} body bytes, frame carries ${Math.max(actual, 0)}`,
    };
  }
  let x = 0;
  for (let i = 0; i < u.length - 1; i++) x ^= u[i]!;
  const sent = u[u.length - 1]!;
  if (x !== sent) {
    return {
      code: 'FRAME_CHECKSUM',
      field: 'checksum',
      reason: `checksum 0x${sent.toString(16).padStart(2, '0')}, XOR is 0x${x.toString(16).padStart(2, '0')}`,
    };
  }
  return undefined;
}

/**
 * Checks one whole wire frame (both flags) and returns its unescaped inner bytes
 * (header + body + checksum). Throws a BmsError naming the field on any problem.
 */
export function unwrap(frame: Uint8Array): Uint8Array {
  check(frame.length >= 2 && frame[0] === 0x7e, 'FRAME_NO_START', 'start_flag', 'expected 0x7e');
  const last = frame.indexOf(0x7e, 1);
  check(last >= 0, 'FRAME_TRUNCATED', 'end_flag', 'no closing 0x7e: incomplete frame');
  check(
    last === frame.length - 1,
    'FRAME_MALFORMED',
    'end_flag',
    `0x7e inside the frame at byte ${last}`,
  );
  const inner = unescapeInner(frame, 1, last);
  if (inner.problem) fail(inner.problem.code, inner.problem.field, inner.problem.reason);
  const problem = innerProblem(inner.bytes!);
  if (problem) fail(problem.code, problem.field, problem.reason);
  return inner.bytes!;
}

/** Escapes inner bytes (checksum already appended) and adds both flags. */
export function wrap(inner: Uint8Array): Uint8Array {
  let extra = 0;
  for (const b of inner) if (b === 0x7e || b === 0x7d) extra++;
  const out = new Uint8Array(inner.length + extra + 2);
  let n = 0;
  out[n++] = 0x7e;
  for (const b of inner) {
    if (b === 0x7e) {
      out[n++] = 0x7d;
      out[n++] = 0x02;
    } else if (b === 0x7d) {
      out[n++] = 0x7d;
      out[n++] = 0x01;
    } else out[n++] = b;
  }
  out[n] = 0x7e;
  return out;
}

export function xor(bytes: Uint8Array): number {
  let x = 0;
  for (const b of bytes) x ^= b;
  return x;
}

function probe(buf: Uint8Array, start: number, end: number): Probe {
  const close = buf.indexOf(0x7e, start + 1);
  if (close < 0 || close >= end) {
    return end - start > MAX_WIRE
      ? { kind: 'reject', code: 'FRAME_TOO_LONG', reason: `no closing 0x7e within ${MAX_WIRE}` }
      : { kind: 'more' };
  }
  // 7E 7E: the previous frame's end flag next to this one's start, or noise: skip one flag.
  if (close === start + 1) return { kind: 'reject', code: 'FRAME_NO_START', reason: 'empty frame' };
  const inner = unescapeInner(buf, start + 1, close);
  const problem = inner.problem ?? innerProblem(inner.bytes!);
  if (problem)
    return { kind: 'reject', code: problem.code, reason: `${problem.field}: ${problem.reason}` };
  return { kind: 'frame', length: close - start + 1 };
}

/**
 * Streaming framer: survives garbage, split and merged chunks; buffers at most MAX_WIRE bytes
 * of an incomplete frame before dropping it (FRAME_TOO_LONG).
 */
export function createJt808Framer(): Framer {
  return createFramer({
    maxLength: MAX_WIRE,
    isStart: (buf, i) => buf[i] === 0x7e,
    probe,
  });
}
