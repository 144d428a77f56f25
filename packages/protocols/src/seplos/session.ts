/**
 * Framing, decoding and the read cycles of both Seplos generations. V2 (ASCII) and V3
 * (Modbus RTU) share nothing on the wire, so one framer knows both rules: a candidate that
 * starts with '~' is tried as an ASCII frame first, anything else (and a rejected '~') as a
 * Modbus reply. Inside ASCII text no Modbus rule can match (hex digits are no function
 * codes), so neither rule hides the other's frames.
 */
import { BmsError, ensure, type Reading } from '@openbms/core';
import type { DecodeOptions, Framer, ReadOptions, ReadSession, ReadStep } from '../types.js';
import { createFramer, type Probe } from '../util/framer.js';
import { sequentialSession } from '../util/session.js';
import { modbusFrameRule } from '../modbus-rtu/codec.js';
import {
  CID1_BATTERY,
  HEADER_CHARS,
  MAX_FRAME_CHARS,
  SOI,
  hexByteAt,
  peekHeader,
  probeFrame,
} from '../pylontech/frame.js';
import { DEFAULT_ADR, REQUEST_CID2S, encodeV2, v2CommandById } from './ascii.js';
import { decodeV2 } from './ascii-decode.js';
import { BLOCK, CID2 } from './fields.js';
import { DEFAULT_UNIT, V3_BLOCKS, encodeV3 } from './modbus.js';
import { decodeV3 } from './modbus-decode.js';

export const VARIANTS = ['v2', 'v3'] as const;
export type Variant = (typeof VARIANTS)[number];

/** The variant a name selects (v2 when none); VARIANT_UNKNOWN otherwise. */
export function variantOf(name: string | undefined): Variant {
  if (name === undefined) return 'v2';
  const v = VARIANTS.find((x) => x === name.toLowerCase());
  if (!v) {
    throw new BmsError(
      'VARIANT_UNKNOWN',
      `unknown Seplos variant "${name}" (known: ${VARIANTS.join(', ')})`,
    );
  }
  return v;
}

const modbusReply = modbusFrameRule('reply');

function probe(buf: Uint8Array, start: number, end: number): Probe {
  if (buf[start] === SOI) {
    const p = probeFrame(buf, start, end);
    if (p.kind !== 'reject') return p;
  }
  return modbusReply.probe(buf, start, end);
}

/** Framer for replies of both generations. */
export function createSeplosFramer(): Framer {
  return createFramer({ maxLength: MAX_FRAME_CHARS, isStart: () => true, probe });
}

/** Decodes one reply: V2 when it is an ASCII frame, V3 otherwise (or as opts.variant says). */
export function decodeSeplos(bytes: Uint8Array, opts: DecodeOptions = {}): Reading {
  const ascii = bytes.length > 0 && bytes[0] === SOI;
  if (opts.variant !== undefined) {
    const v = variantOf(opts.variant);
    ensure(
      (v === 'v2') === ascii,
      'FRAME_MALFORMED',
      v === 'v2'
        ? 'variant v2 expects an ASCII frame ("~...\\r")'
        : 'variant v3 expects a Modbus RTU frame, not an ASCII one',
    );
  }
  if (ascii) return decodeV2(bytes, opts);
  const r = decodeV3(bytes, opts);
  if (opts.invertCurrent === true && r.current_a !== undefined && r.current_a !== 0) {
    r.current_a = -r.current_a;
    if (r.power_w !== undefined) r.power_w = -r.power_w;
  }
  return r;
}

const infoByte = (frame: Uint8Array, k: number): number => hexByteAt(frame, HEADER_CHARS + 2 * k);

/** Whether an RTN 0 reply has the shape of the reply to `cid2` (INFO length and counts). */
function v2ShapeFits(frame: Uint8Array, cid2: number, lenid: number): boolean {
  const n = lenid >> 1;
  switch (cid2) {
    case CID2.TELEMETRY: {
      // flag, group, M, 2M, N, 2N, current, voltage, remaining, P, 2P
      if (n < 4) return false;
      const m = infoByte(frame, 2);
      if (3 + 2 * m >= n) return false;
      const t = infoByte(frame, 3 + 2 * m);
      const pAt = 4 + 2 * m + 2 * t + 6;
      if (pAt >= n) return false;
      return n === pAt + 1 + 2 * infoByte(frame, pAt);
    }
    case CID2.TELESIGNALLING: {
      // flag, group, M, M, N, N, current state, voltage state, P, P
      if (n < 4) return false;
      const m = infoByte(frame, 2);
      if (3 + m >= n) return false;
      const pAt = 4 + m + infoByte(frame, 3 + m) + 2;
      if (pAt >= n) return false;
      return n === pAt + 1 + infoByte(frame, pAt);
    }
    case CID2.PARAMETERS:
      return n === BLOCK.length;
    case CID2.DEVICE_INFO: {
      const first = infoByte(frame, 0);
      return n >= 32 && first >= 0x20 && first < 0x7f;
    }
    case CID2.CLOCK_READ:
      return n === 7;
    case CID2.PROTOCOL_VERSION:
      return n === 0;
    default:
      // Write acknowledgements carry no INFO.
      return n === 0;
  }
}

/** True when `frame` is a V2 reply from ADR to `cid2` (or an error reply from ADR). */
export function acceptsV2(frame: Uint8Array, cid2: number, adr: number): boolean {
  const h = peekHeader(frame);
  if (!h || h.adr !== adr || h.cid1 !== CID1_BATTERY) return false;
  // An error reply (RTN) is the answer too; a request echo (CID2 of a command) is not.
  if (h.cid2 !== 0) return !REQUEST_CID2S.has(h.cid2);
  return v2ShapeFits(frame, cid2, h.lenid);
}

/** True when `frame` is the V3 reply (or exception) of unit to function `fn` with `bytes` data. */
export function acceptsV3(frame: Uint8Array, unit: number, fn: number, bytes: number): boolean {
  if (frame.length < 5 || frame[0] !== unit) return false;
  if (frame[1] === (fn | 0x80)) return true;
  return frame[1] === fn && frame[2] === bytes;
}

const single = (frames: readonly Uint8Array[]): boolean => frames.length >= 1;

export function checkAdr(adr: number): number {
  ensure(
    Number.isInteger(adr) && adr >= 0 && adr <= 0xfe,
    'INVALID_ARGUMENT',
    `ADR must be 0..254 (got ${adr})`,
  );
  return adr;
}

/** A V2 read step: the command's request to ADR, accepting its reply shape. */
export function v2Step(command: string, adr: number, optional = false): ReadStep {
  const c = v2CommandById(command)!;
  const s: ReadStep = {
    name: command,
    request: encodeV2({ command, address: adr }),
    accepts: (f) => acceptsV2(f, c.cid2, adr),
    complete: single,
  };
  if (optional) s.optional = true;
  return s;
}

/** A V3 read step of a named block at `unit`. */
export function v3Step(command: string, unit: number, optional = false): ReadStep {
  const b = V3_BLOCKS.find((x) => x.id === command)!;
  const bytes = b.fn === 0x01 ? Math.ceil(b.count / 8) : 2 * b.count;
  const s: ReadStep = {
    name: command,
    request: encodeV3({ command, address: unit }),
    accepts: (f) => acceptsV3(f, unit, b.fn, bytes),
    complete: single,
  };
  if (optional) s.optional = true;
  return s;
}

/** A decoded reply, refused when it is the device's error answer. */
export function checked(name: string, part: Reading): Reading {
  const raw = part.raw ?? {};
  if (raw.error_response === true) {
    const rtn = Number(raw.rtn);
    throw new BmsError(
      'DEVICE_ERROR_REPLY',
      `${name}: device returned RTN 0x${rtn.toString(16).padStart(2, '0')} (${String(raw.rtn_meaning)})`,
      { rtn },
    );
  }
  if (raw.exception === true) {
    throw new BmsError(
      'DEVICE_ERROR_REPLY',
      `${name}: device answered Modbus exception ${String(raw.exception_code)} (${String(raw.exception_name)})`,
      { exception_code: raw.exception_code },
    );
  }
  return part;
}

/**
 * V2: 0x42 telemetry and 0x44 telesignalling (required), 0x51 device information
 * (optional). V3: PIA, PIB, PIC (required), VIA (optional), all at the pack's unit.
 */
export function createReadSession(opts: ReadOptions): ReadSession {
  const variant = variantOf(opts.variant);
  const invertCurrent = opts.invertCurrent === true;
  const steps =
    variant === 'v2'
      ? ((adr: number) => [
          v2Step('telemetry', adr),
          v2Step('telesignalling', adr),
          v2Step('device_info', adr, true),
        ])(checkAdr(opts.address ?? DEFAULT_ADR))
      : ((unit: number) => [
          v3Step('read_pia', unit),
          v3Step('read_pib', unit),
          v3Step('read_pic', unit),
          v3Step('read_via', unit, true),
        ])(checkAdr(opts.address ?? DEFAULT_UNIT));
  return sequentialSession({
    steps,
    decode(s, bytes): Reading {
      return checked(s.name, decodeSeplos(bytes, { request: s.request, variant, invertCurrent }));
    },
  });
}
