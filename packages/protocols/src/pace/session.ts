/**
 * The read cycle of one pack. v25: 0x42 and 0x44 (required), then 0xC1 and 0xC2 (identity,
 * optional). EG4 v20: 0x42 and 0x44 without INFO, then 0x51 (optional). Address 0 (a pack on
 * the RS232 port) asks for every pack behind it (INFO 0xFF): a single pack answers for
 * itself, a master for the whole rack (`packs`).
 *
 * Replies do not echo the command, so a step accepts a frame only if it comes from the pack
 * (any ADR when the request went to ADR 0: a pack answers with its own), is a reply (not a
 * request echo) and has the shape of its command's reply.
 */
import { BmsError, ensure, round, type Reading } from '@openbms/core';
import type { ReadOptions, ReadSession, ReadStep } from '../types.js';
import { peekHeader, HEADER_CHARS, hexByteAt } from '../pylontech/frame.js';
import { mergeReading, sequentialSession } from '../util/session.js';
import { DEFAULT_ADDRESS, REQUEST_CODES, encodeRequest } from './commands.js';
import { decodeReply } from './decode.js';
import {
  DEFAULT_VARIANT,
  RTN_MEANINGS,
  TEXT_FIELD,
  VARIANTS,
  VARIANT_ENVELOPE,
  analogFixedBytes,
  type Variant,
} from './fields.js';

const infoByte = (frame: Uint8Array, k: number): number => hexByteAt(frame, HEADER_CHARS + 2 * k);

export function checkVariant(v: string | undefined): Variant {
  const variant = v ?? DEFAULT_VARIANT;
  if (!(VARIANTS as readonly string[]).includes(variant)) {
    throw new BmsError(
      'VARIANT_UNKNOWN',
      `PACE variant must be ${VARIANTS.join(' or ')} (got ${variant})`,
    );
  }
  return variant as Variant;
}

export function checkAddress(adr: number): number {
  ensure(
    Number.isInteger(adr) && adr >= 0 && adr <= 0xfe,
    'INVALID_ARGUMENT',
    `ADR must be 0..254 (got ${adr})`,
  );
  return adr;
}

/** Whether an RTN 0 frame has the shape of the reply to `command` (INFO of `n` bytes). */
function shapeFits(frame: Uint8Array, command: string, n: number, variant: Variant): boolean {
  switch (command) {
    case 'analog':
    case 'status': {
      if (variant === 'v20-eg4') return n > 20;
      if (n < 4) return false;
      const m = infoByte(frame, 2);
      if (m < 1 || (command === 'analog' ? 3 + 2 * m : 3 + m) >= n) {
        // a group reply: count, then equal blocks
        const count = infoByte(frame, 1);
        return count >= 1 && (n - 2) % count === 0;
      }
      const t = infoByte(frame, command === 'analog' ? 3 + 2 * m : 3 + m);
      return command === 'analog' ? n >= 2 + analogFixedBytes(m, t) : n >= 4 + m + t + 12;
    }
    case 'software_version':
    case 'product_info': {
      const first = infoByte(frame, 0);
      return (n === TEXT_FIELD || n === 2 * TEXT_FIELD) && first >= 0x20 && first < 0x7f;
    }
    case 'eg4_identity':
      return n >= 8;
    case 'read_clock':
      return n === 6;
    case 'eg4_read_clock':
      return n === 7;
    default:
      return true;
  }
}

/** A step's frame filter: from the pack, a reply, shaped like `command`'s reply. */
export function acceptsReply(
  frame: Uint8Array,
  command: string,
  adr: number,
  variant: Variant,
): boolean {
  const h = peekHeader(frame);
  if (!h || h.cid1 !== VARIANT_ENVELOPE[variant].cid1) return false;
  if (adr !== 0 && h.adr !== adr) return false;
  // An error reply, unless it is a request echo (a CID2 that is no return code).
  if (h.cid2 !== 0) return !REQUEST_CODES.has(h.cid2) || RTN_MEANINGS[h.cid2] !== undefined;
  return shapeFits(frame, command, h.lenid >> 1, variant);
}

export const single = (frames: readonly Uint8Array[]): boolean => frames.length >= 1;

function step(
  command: string,
  adr: number,
  variant: Variant,
  optional: boolean,
  args?: Record<string, number | boolean>,
): ReadStep {
  const request = encodeRequest({
    command,
    address: adr,
    ...(args || variant !== 'v25'
      ? { args: { ...args, ...(variant !== 'v25' ? { variant } : {}) } }
      : {}),
  });
  const s: ReadStep = {
    name: command,
    request,
    accepts: (frame) => acceptsReply(frame, command, adr, variant),
    complete: single,
  };
  if (optional) s.optional = true;
  return s;
}

/** The throw for an RTN != 0 reply to a read step. */
export function rtnError(name: string, raw: Record<string, unknown>): BmsError {
  return new BmsError(
    'DEVICE_ERROR_REPLY',
    `${name}: device returned RTN 0x${Number(raw.rtn).toString(16).padStart(2, '0')} (${String(raw.rtn_meaning)})`,
    { rtn: raw.rtn },
  );
}

/** SOC and SOH where the firmware does not send them: remaining / full, full / design. */
function derive(r: Reading): Reading {
  if (
    r.soc_pct === undefined &&
    r.remaining_ah !== undefined &&
    r.full_ah !== undefined &&
    r.full_ah > 0
  ) {
    r.soc_pct = round(Math.min(100, (r.remaining_ah / r.full_ah) * 100), 1);
  }
  if (
    r.soh_pct === undefined &&
    r.full_ah !== undefined &&
    r.design_ah !== undefined &&
    r.design_ah > 0
  ) {
    r.soh_pct = round(Math.min(100, (r.full_ah / r.design_ah) * 100), 1);
  }
  for (const p of r.packs ?? []) derive(p);
  return r;
}

export function createReadSession(opts: ReadOptions): ReadSession {
  const adr = checkAddress(opts.address ?? DEFAULT_ADDRESS);
  const variant = checkVariant(opts.variant);
  const invertCurrent = opts.invertCurrent === true;
  const group = variant === 'v25' ? (adr === 0 ? { all: true } : undefined) : undefined;
  const steps: ReadStep[] =
    variant === 'v25'
      ? [
          step('analog', adr, variant, false, group),
          step('status', adr, variant, false, group),
          step('software_version', adr, variant, true),
          step('product_info', adr, variant, true),
        ]
      : [
          step('analog', adr, variant, false),
          step('status', adr, variant, false),
          step('eg4_identity', adr, variant, true),
        ];
  return sequentialSession({
    steps,
    decode(s, bytes, soFar): Reading {
      const part = decodeReply(bytes, { request: s.request, variant, invertCurrent });
      if (part.raw?.error_response === true) throw rtnError(s.name, part.raw);
      // A rack's 0x44 blocks complete the 0x42 blocks of the same packs, pack by pack.
      if (part.packs && soFar.packs && part.packs.length === soFar.packs.length) {
        part.packs = soFar.packs.map((p, i) => mergeReading({ ...p }, part.packs![i]!));
      }
      return part;
    },
    finish: derive,
  });
}
