/**
 * The read cycle of one pack at ADR: 0x42, 0x44, 0x92, then 0x4F, 0x51, 0x93 (optional
 * identity) and 0x47 (optional). Replies do not echo the command, so a step accepts a frame only if
 * it comes from ADR, is a reply (not a request echo) and has the shape of its command's reply.
 */
import { BmsError, ensure, round, type Reading } from '@openbms/core';
import type { ReadOptions, ReadSession, ReadStep } from '../types.js';
import { sequentialSession } from '../util/session.js';
import { COMMANDS, DEFAULT_ADDRESS, commandById } from './commands.js';
import { encodeRequest } from './commands.js';
import { decodeReply } from './decode.js';
import { CID1_BATTERY, HEADER_CHARS, hexByteAt, peekHeader } from './frame.js';

/** CID2 codes that only occur in requests: a frame carrying one is not a reply. */
const REQUEST_CODES = new Set(COMMANDS.map((c) => c.cid2));

const infoByte = (frame: Uint8Array, k: number): number => hexByteAt(frame, HEADER_CHARS + 2 * k);

/**
 * Whether a framed reply (RTN 0) has the shape of the reply to `cid2` from `adr`: INFO
 * length, command value and, for 0x42/0x44, a block whose counts fill INFO exactly.
 */
function replyShapeFits(frame: Uint8Array, cid2: number, adr: number, lenid: number): boolean {
  const n = lenid >> 1;
  switch (cid2) {
    case 0x4f:
      return n === 0;
    case 0x51: {
      const first = infoByte(frame, 0);
      return n >= 32 && first > 0x20 && first < 0x7f; // device name, ASCII
    }
    case 0x47:
      return n === 25;
    case 0x42: {
      // INFOFLAG, ADR, M, 2M, N, 2N, current, voltage, remaining, P, total, cycles [, 2 x 3]
      if (n < 4 || infoByte(frame, 1) !== adr) return false;
      const m = infoByte(frame, 2);
      if (3 + 2 * m >= n) return false;
      const t = infoByte(frame, 3 + 2 * m);
      const base = 4 + 2 * m + 2 * t + 11;
      return n === base || n === base + 6;
    }
    case 0x44: {
      // INFOFLAG, ADR, M, M states, N, N states, 3 states, 5 status bytes
      if (n < 4 || infoByte(frame, 1) !== adr) return false;
      const m = infoByte(frame, 2);
      if (3 + m >= n) return false;
      return n === 4 + m + infoByte(frame, 3 + m) + 8;
    }
    case 0x92:
      return n === 10 && infoByte(frame, 0) === adr;
    case 0x93:
      return n === 17 && infoByte(frame, 0) === adr;
    case 0x96:
      return n === 6 && infoByte(frame, 0) === adr;
    default:
      return true;
  }
}

export function acceptsReply(frame: Uint8Array, cid2: number, adr: number): boolean {
  const h = peekHeader(frame);
  if (!h || h.adr !== adr || h.cid1 !== CID1_BATTERY) return false;
  if (h.cid2 !== 0) return !REQUEST_CODES.has(h.cid2); // error reply (RTN), not an echo
  return replyShapeFits(frame, cid2, adr, h.lenid);
}

const single = (frames: readonly Uint8Array[]): boolean => frames.length >= 1;

function step(command: string, adr: number, optional: boolean): ReadStep {
  const c = commandById(command)!;
  const request = encodeRequest({ command, address: adr });
  const s: ReadStep = {
    name: command,
    request,
    accepts: (frame) => acceptsReply(frame, c.cid2, adr),
    complete: single,
  };
  if (optional) s.optional = true;
  return s;
}

/** SOC is not on the wire: remaining / total capacity of 0x42, as the protocol intends. */
function deriveSoc(r: Reading): Reading {
  if (
    r.soc_pct === undefined &&
    r.remaining_ah !== undefined &&
    r.full_ah !== undefined &&
    r.full_ah > 0
  ) {
    r.soc_pct = round((r.remaining_ah / r.full_ah) * 100, 1);
  }
  return r;
}

export function createReadSession(opts: ReadOptions): ReadSession {
  const adr = opts.address ?? DEFAULT_ADDRESS;
  ensure(
    Number.isInteger(adr) && adr >= 0 && adr <= 0xfe,
    'INVALID_ARGUMENT',
    `ADR must be 0..254 (got ${adr})`,
  );
  const invertCurrent = opts.invertCurrent === true;
  return sequentialSession({
    steps: [
      // The values first: a silent pack then fails after one step's tries, not after
      // every optional identity step has timed out too.
      step('analog', adr, false),
      step('alarm', adr, false),
      step('management_info', adr, false),
      step('protocol_version', adr, true),
      step('manufacturer_info', adr, true),
      step('serial_number', adr, true),
      step('system_parameters', adr, true),
    ],
    decode(s, bytes): Reading {
      const part = decodeReply(bytes, { request: s.request, invertCurrent });
      if (part.raw?.error_response === true) {
        throw new BmsError(
          'DEVICE_ERROR_REPLY',
          `${s.name}: device returned RTN 0x${Number(part.raw.rtn).toString(16).padStart(2, '0')} (${String(part.raw.rtn_meaning)})`,
          {
            rtn: part.raw.rtn,
          },
        );
      }
      if (s.name === 'system_parameters') {
        // 0x47 holds the configured maxima; the requested limits of the snapshot come from 0x92.
        delete part.charge_current_limit_a;
        delete part.discharge_current_limit_a;
      }
      return part;
    },
    finish: deriveSoc,
  });
}
