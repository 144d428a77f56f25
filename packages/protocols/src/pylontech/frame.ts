/**
 * The Pylontech ASCII envelope: `~ VER ADR CID1 CID2 LENGTH INFO CHKSUM CR`, every field
 * between SOI and EOI written as hexadecimal characters (two per byte). This file knows the
 * envelope only (LENGTH with its LCHKSUM nibble, CHKSUM, hex validation, stream framing);
 * the meaning of INFO is in decode.ts.
 */
import { BmsError, ensure } from '@openbms/core';
import { createFramer, type Probe } from '../util/framer.js';
import type { Framer } from '../types.js';

export const SOI = 0x7e; // '~'
export const EOI = 0x0d; // CR
/** CID1 of battery data, the only device type this family speaks. */
export const CID1_BATTERY = 0x46;
/** VER written into requests (V2.0). */
export const DEFAULT_VER = 0x20;

/** SOI + VER, ADR, CID1, CID2 (8 chars) + LENGTH (4 chars). INFO starts here. */
export const HEADER_CHARS = 13;
/** Envelope size without INFO: SOI, 12 header chars, 4 CHKSUM chars, EOI. */
export const ENVELOPE_CHARS = 18;
/** LENID is 12 bits and counts INFO characters, which come in pairs: at most 4094. */
export const MAX_LENID = 4094;
export const MAX_FRAME_CHARS = ENVELOPE_CHARS + MAX_LENID;

/** Value of an ASCII hex digit, -1 for anything else (upper and lower case accepted). */
const HEX_VALUE = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) t[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[0x41 + i] = 10 + i;
    t[0x61 + i] = 10 + i;
  }
  return t;
})();

/** ASCII codes of the uppercase hex digits, for encoding. */
const HEX_DIGIT = Uint8Array.from('0123456789ABCDEF', (c) => c.charCodeAt(0));

/** The byte written as two hex characters at buf[i], or -1 if either is not a hex digit. */
export function hexByteAt(buf: Uint8Array, i: number): number {
  const h = HEX_VALUE[buf[i]!]!;
  const l = HEX_VALUE[buf[i + 1]!]!;
  return (h | l) < 0 ? -1 : (h << 4) | l;
}

/** Index of the first non-hex character in buf[from..to), or -1 when all are hex digits. */
function firstNonHex(buf: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (HEX_VALUE[buf[i]!]! < 0) return i;
  return -1;
}

/** LCHKSUM: two's complement (mod 16) of the sum of LENID's three nibbles. */
export function lengthChecksum(lenid: number): number {
  const s = (lenid & 0xf) + ((lenid >> 4) & 0xf) + ((lenid >> 8) & 0xf);
  return (16 - (s & 0xf)) & 0xf;
}

/** CHKSUM: two's complement (mod 65536) of the sum of the ASCII codes in buf[from..to). */
export function frameChecksum(buf: Uint8Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += buf[i]!;
  return (0x10000 - (s & 0xffff)) & 0xffff;
}

function readU16Hex(buf: Uint8Array, i: number): number {
  const hi = hexByteAt(buf, i);
  const lo = hexByteAt(buf, i + 2);
  return (hi | lo) < 0 ? -1 : (hi << 8) | lo;
}

/** One envelope, hex-decoded. For replies `cid2` holds the return code RTN. */
export interface PylonFrame {
  ver: number;
  adr: number;
  cid1: number;
  cid2: number;
  /** INFO bytes (after hex decoding). */
  info: Uint8Array;
}

/**
 * Validates a whole frame (markers, hex characters, LENGTH with LCHKSUM, CHKSUM, EOI,
 * nothing before or after it) and hex-decodes it. Throws BmsError.
 */
export function parseFrame(bytes: Uint8Array): PylonFrame {
  ensure(
    bytes.length > 0 && bytes[0] === SOI,
    'FRAME_MALFORMED',
    'frame does not start with SOI "~"',
  );
  if (bytes.length < ENVELOPE_CHARS) {
    throw new BmsError(
      'FRAME_TRUNCATED',
      `frame too short: ${bytes.length} bytes, an empty frame has ${ENVELOPE_CHARS}`,
    );
  }
  ensure(
    firstNonHex(bytes, 1, HEADER_CHARS) < 0,
    'FRAME_MALFORMED',
    'non-hex character in the frame header',
  );
  const length = readU16Hex(bytes, 9);
  const lenid = length & 0x0fff;
  if (length >> 12 !== lengthChecksum(lenid)) {
    throw new BmsError('FRAME_CHECKSUM', `LCHKSUM mismatch in LENGTH ${hex4(length)}`);
  }
  if (lenid % 2 !== 0)
    throw new BmsError('FRAME_MALFORMED', `LENID ${lenid} is odd (INFO is whole bytes)`);
  const total = ENVELOPE_CHARS + lenid;
  if (bytes.length < total) {
    throw new BmsError(
      'FRAME_TRUNCATED',
      `frame too short: LENID says ${total} bytes, have ${bytes.length}`,
    );
  }
  if (bytes.length !== total) {
    throw new BmsError(
      'FRAME_MALFORMED',
      `${bytes.length - total} bytes after the end of the frame`,
    );
  }
  ensure(bytes[total - 1] === EOI, 'FRAME_MALFORMED', 'frame does not end with EOI (CR)');
  // One pass over INFO: hex-decode (any non-hex digit gives a negative value).
  const info = new Uint8Array(lenid >> 1);
  let bad = 0;
  for (let i = 0, p = HEADER_CHARS; i < info.length; i++, p += 2) {
    const v = hexByteAt(bytes, p);
    bad |= v;
    info[i] = v;
  }
  const chk = readU16Hex(bytes, total - 5);
  ensure(bad >= 0 && chk >= 0, 'FRAME_MALFORMED', 'non-hex character in INFO or CHKSUM');
  const want = frameChecksum(bytes, 1, total - 5);
  if (chk !== want) {
    throw new BmsError(
      'FRAME_CHECKSUM',
      `CHKSUM mismatch: frame has ${hex4(chk)}, computed ${hex4(want)}`,
    );
  }
  return {
    ver: hexByteAt(bytes, 1),
    adr: hexByteAt(bytes, 3),
    cid1: hexByteAt(bytes, 5),
    cid2: hexByteAt(bytes, 7),
    info,
  };
}

const hex4 = (v: number): string => v.toString(16).toUpperCase().padStart(4, '0');

/**
 * Reads VER, ADR, CID1, CID2 and LENID of a frame the framer already validated, without
 * checking anything again (for cheap filtering in read sessions). Undefined if too short.
 */
export function peekHeader(
  bytes: Uint8Array,
): { ver: number; adr: number; cid1: number; cid2: number; lenid: number } | undefined {
  if (bytes.length < ENVELOPE_CHARS || bytes[0] !== SOI) return undefined;
  const ver = hexByteAt(bytes, 1);
  const adr = hexByteAt(bytes, 3);
  const cid1 = hexByteAt(bytes, 5);
  const cid2 = hexByteAt(bytes, 7);
  const length = readU16Hex(bytes, 9);
  if ((ver | adr | cid1 | cid2 | length) < 0) return undefined;
  return { ver, adr, cid1, cid2, lenid: length & 0x0fff };
}

/** Builds a frame around binary INFO bytes (uppercase hex, as the spec writes it). */
export function buildFrame(
  ver: number,
  adr: number,
  cid1: number,
  cid2: number,
  info: ArrayLike<number>,
): Uint8Array {
  const lenid = info.length * 2;
  if (!(lenid <= MAX_LENID))
    throw new BmsError(
      'INVALID_ARGUMENT',
      `INFO of ${info.length} bytes is longer than LENID allows`,
    );
  const out = new Uint8Array(ENVELOPE_CHARS + lenid);
  out[0] = SOI;
  let p = 1;
  const put = (b: number): void => {
    out[p++] = HEX_DIGIT[(b >> 4) & 0xf]!;
    out[p++] = HEX_DIGIT[b & 0xf]!;
  };
  put(ver);
  put(adr);
  put(cid1);
  put(cid2);
  const length = (lengthChecksum(lenid) << 12) | lenid;
  put(length >> 8);
  put(length & 0xff);
  for (let i = 0; i < info.length; i++) put(info[i]!);
  const chk = frameChecksum(out, 1, p);
  put(chk >> 8);
  put(chk & 0xff);
  out[p] = EOI;
  return out;
}

/**
 * Stream framer rule. A candidate starts at '~'; it is rejected as soon as a byte that
 * cannot belong to it arrives (non-hex character, bad LCHKSUM), so a false '~' in line
 * noise never holds back the real frame behind it for long.
 */
export function probeFrame(buf: Uint8Array, start: number, end: number): Probe {
  const headerEnd = Math.min(end, start + HEADER_CHARS);
  if (firstNonHex(buf, start + 1, headerEnd) >= 0) {
    return {
      kind: 'reject',
      code: 'FRAME_MALFORMED',
      reason: 'non-hex character in the frame header',
    };
  }
  if (end - start < HEADER_CHARS) return { kind: 'more' };
  const length = readU16Hex(buf, start + 9);
  const lenid = length & 0x0fff;
  if (length >> 12 !== lengthChecksum(lenid)) {
    return { kind: 'reject', code: 'FRAME_CHECKSUM', reason: 'LCHKSUM does not match LENID' };
  }
  if (lenid % 2 !== 0) {
    return { kind: 'reject', code: 'FRAME_MALFORMED', reason: 'LENID is odd' };
  }
  const total = ENVELOPE_CHARS + lenid;
  const bodyEnd = Math.min(end, start + total - 1);
  if (firstNonHex(buf, start + HEADER_CHARS, bodyEnd) >= 0) {
    return {
      kind: 'reject',
      code: 'FRAME_MALFORMED',
      reason: 'non-hex character before the end LENID announces',
    };
  }
  if (end - start < total) return { kind: 'more' };
  if (buf[start + total - 1] !== EOI) {
    return {
      kind: 'reject',
      code: 'FRAME_MALFORMED',
      reason: 'no EOI (CR) where LENID says the frame ends',
    };
  }
  const chk = readU16Hex(buf, start + total - 5);
  if (chk !== frameChecksum(buf, start + 1, start + total - 5)) {
    return { kind: 'reject', code: 'FRAME_CHECKSUM', reason: 'CHKSUM mismatch' };
  }
  return { kind: 'frame', length: total };
}

/** Framer for the ASCII envelope; requests and replies share it (they have the same shape). */
export function createPylonFramer(): Framer {
  return createFramer({
    maxLength: MAX_FRAME_CHARS,
    isStart: (buf, i) => buf[i] === SOI,
    probe: probeFrame,
  });
}
