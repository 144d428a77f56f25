/**
 * Wire helpers of the simulated Pylontech pack: value encoders (clamped to the field's
 * range), the lenient request reader (a real pack answers a damaged but recognisable
 * request with a return code) and the RTN error type.
 */
import { BmsError, type ErrorCode } from '@openbms/core';
import {
  CID1_BATTERY,
  ENVELOPE_CHARS,
  EOI,
  HEADER_CHARS,
  SOI,
  frameChecksum,
  hexByteAt,
  lengthChecksum,
} from '@openbms/protocols/pylontech';

/** Return codes the simulated pack uses (the reply's CID2). */
export const RTN = {
  OK: 0x00,
  VER: 0x01,
  CHKSUM: 0x02,
  LCHKSUM: 0x03,
  CID2: 0x04,
  FORMAT: 0x05,
  DATA: 0x06,
  ADR: 0x90,
  INTERNAL: 0x91,
} as const;

/** RTN values: a frame carrying one of them in CID2 is another pack's reply, not a request. */
export const REPLY_CODES: ReadonlySet<number> = new Set(Object.values(RTN));

/** 0 degC in the protocol's 0.1 K temperatures. */
const KELVIN_OFFSET = 2731;

const clamp = (v: number, lo: number, hi: number): number =>
  Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : 0;

/** Appends big-endian 16-bit values to a byte list. */
export function put16(out: number[], v: number): void {
  const w = v & 0xffff;
  out.push(w >> 8, w & 0xff);
}

export function put24(out: number[], v: number): void {
  out.push((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
}

export const u16 = (x: number): number => clamp(Math.round(x), 0, 0xffff);
export const i16 = (x: number): number => clamp(Math.round(x), -0x8000, 0x7fff);
export const u24 = (x: number): number => clamp(Math.round(x), 0, 0xffffff);
/** degC -> int16 in 0.1 K. */
export const decikelvin = (c: number): number => i16(c * 10 + KELVIN_OFFSET);
/** A -> int16 in 0.1 A. */
export const deciamp = (a: number): number => i16(a * 10);

/** ASCII text in a fixed-size field, cut to size and padded with `pad`. */
export function asciiField(text: string, size: number, pad: number): number[] {
  const out: number[] = [];
  for (const ch of text) {
    if (out.length === size) break;
    const c = ch.charCodeAt(0);
    out.push(c >= 0x20 && c < 0x7f ? c : 0x3f);
  }
  while (out.length < size) out.push(pad);
  return out;
}

/** "1.2.3" -> [1, 2, 3] (missing or non-numeric parts are 0, each part clamped to a byte). */
export function versionBytes(version: string, parts: number): number[] {
  const nums = version.match(/\d+/g) ?? [];
  return Array.from({ length: parts }, (_, i) => Math.min(255, Number(nums[i] ?? 0)));
}

function codeOf(rtn: number): ErrorCode {
  if (rtn === RTN.CHKSUM || rtn === RTN.LCHKSUM) return 'FRAME_CHECKSUM';
  if (rtn === RTN.FORMAT || rtn === RTN.VER) return 'FRAME_MALFORMED';
  if (rtn === RTN.CID2) return 'COMMAND_UNSUPPORTED';
  return 'INVALID_ARGUMENT';
}

/** A request the pack understood well enough to answer with a return code. */
export class RtnError extends BmsError {
  constructor(
    readonly rtn: number,
    message: string,
  ) {
    super(codeOf(rtn), message, { rtn });
  }
}

/** A request after hex decoding (VER, ADR, CID1, CID2, INFO). */
export interface PylonRequest {
  ver: number;
  adr: number;
  cid1: number;
  cid2: number;
  info: Uint8Array;
}

/** VER, ADR, CID1, CID2 of something shaped like a frame ('~', hex header, CR), else undefined. */
export function readHeader(
  bytes: Uint8Array,
): { ver: number; adr: number; cid1: number; cid2: number } | undefined {
  if (bytes.length < ENVELOPE_CHARS || bytes[0] !== SOI || bytes[bytes.length - 1] !== EOI) {
    return undefined;
  }
  const ver = hexByteAt(bytes, 1);
  const adr = hexByteAt(bytes, 3);
  const cid1 = hexByteAt(bytes, 5);
  const cid2 = hexByteAt(bytes, 7);
  if ((ver | adr | cid1 | cid2) < 0) return undefined;
  return { ver, adr, cid1, cid2 };
}

/**
 * Checks a request as the pack's firmware does, in order: envelope (not a frame: BmsError
 * FRAME_MALFORMED, the pack stays silent), LCHKSUM (RTN 0x03), length and hex (RTN 0x05),
 * CHKSUM (RTN 0x02), CID1 (RTN 0x04; `cid1s`: the device types the pack answers). VER is not
 * checked: packs ignore it.
 */
export function readRequest(
  bytes: Uint8Array,
  cid1s: readonly number[] = [CID1_BATTERY],
): PylonRequest {
  const h = readHeader(bytes);
  if (!h) throw new BmsError('FRAME_MALFORMED', 'not a Pylontech frame ("~" hex header ... CR)');
  const hi = hexByteAt(bytes, 9);
  const lo = hexByteAt(bytes, 11);
  if ((hi | lo) < 0) throw new RtnError(RTN.FORMAT, 'non-hex character in LENGTH');
  const length = (hi << 8) | lo;
  const lenid = length & 0x0fff;
  if (length >> 12 !== lengthChecksum(lenid)) {
    throw new RtnError(RTN.LCHKSUM, 'LCHKSUM does not match LENID');
  }
  if (lenid % 2 !== 0 || bytes.length !== ENVELOPE_CHARS + lenid) {
    throw new RtnError(RTN.FORMAT, `LENID ${lenid} does not match the frame length`);
  }
  const info = new Uint8Array(lenid >> 1);
  for (let i = 0; i < info.length; i++) {
    const b = hexByteAt(bytes, HEADER_CHARS + 2 * i);
    if (b < 0) throw new RtnError(RTN.FORMAT, 'non-hex character in INFO');
    info[i] = b;
  }
  const end = bytes.length - 5;
  const chkHi = hexByteAt(bytes, end);
  const chkLo = hexByteAt(bytes, end + 2);
  if ((chkHi | chkLo) < 0) throw new RtnError(RTN.FORMAT, 'non-hex character in CHKSUM');
  if (((chkHi << 8) | chkLo) !== frameChecksum(bytes, 1, end)) {
    throw new RtnError(RTN.CHKSUM, 'CHKSUM mismatch');
  }
  if (!cid1s.includes(h.cid1)) {
    throw new RtnError(RTN.CID2, `CID1 0x${h.cid1.toString(16)} is not battery data (0x46)`);
  }
  return { ...h, info };
}
