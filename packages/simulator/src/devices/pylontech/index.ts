/**
 * Device side of the Pylontech low-voltage RS485 protocol: a pack at ADR 2 (master), 3, 4...
 * answering the ASCII-hex requests of `@openbms/protocols/pylontech`. See README.md.
 */
import { BmsError, isBmsError, type Reading } from '@openbms/core';
import { createFramer, type Framer, type Probe } from '@openbms/protocols';
import {
  CID1_BATTERY,
  DEFAULT_VER,
  ENVELOPE_CHARS,
  EOI,
  MAX_FRAME_CHARS,
  MAX_MODULES,
  SOI,
  buildFrame,
} from '@openbms/protocols/pylontech';
import type { BusView, CommandResult, DeviceProtocol, SimPackApi } from '../../types.js';
import { alarmBlock, analogBlock, infoFlag, markRead } from './blocks.js';
import { managementInfo, setManagement, systemParameters } from './limits.js';
import {
  REPLY_CODES,
  RTN,
  RtnError,
  asciiField,
  readHeader,
  readRequest,
  versionBytes,
  type PylonRequest,
} from './wire.js';

/** ADR of the master pack; slaves follow (3, 4, ...). */
export const MASTER_ADDRESS = 2;
const MAX_INFO_BYTES = (MAX_FRAME_CHARS - ENVELOPE_CHARS) >> 1;

const isHexChar = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/**
 * Request framing as the pack's UART does it: '~', hex characters, CR. LENGTH and CHKSUM
 * are checked later by handle(), so a damaged request is still answered with its RTN.
 */
function probeRequest(buf: Uint8Array, start: number, end: number): Probe {
  for (let i = start + 1; i < end; i++) {
    const c = buf[i]!;
    if (c === EOI) {
      return i + 1 - start < ENVELOPE_CHARS
        ? { kind: 'reject', code: 'FRAME_TRUNCATED', reason: 'frame shorter than its envelope' }
        : { kind: 'frame', length: i + 1 - start };
    }
    if (!isHexChar(c)) {
      return { kind: 'reject', code: 'FRAME_MALFORMED', reason: 'non-hex character in a frame' };
    }
    if (i + 1 - start >= MAX_FRAME_CHARS) {
      return { kind: 'reject', code: 'FRAME_TOO_LONG', reason: 'no CR within the longest frame' };
    }
  }
  return { kind: 'more' };
}

/** The request framer of the Pylontech envelope (PACE and Seplos V2 packs share it). */
export function createRequestFramer(): Framer {
  return createFramer({
    maxLength: MAX_FRAME_CHARS,
    isStart: (buf, i) => buf[i] === SOI,
    probe: probeRequest,
  });
}

const reply = (adr: number, info: readonly number[], rtn: number = RTN.OK): Uint8Array => {
  if (info.length > MAX_INFO_BYTES) throw new RtnError(RTN.INTERNAL, 'reply longer than LENID');
  return buildFrame(DEFAULT_VER, adr, CID1_BATTERY, rtn, info);
};

/** The one-byte command value must be the pack's ADR (a missing one is tolerated). */
function checkValue(req: PylonRequest, pack: SimPackApi): void {
  const v = req.info[0];
  if (v !== undefined && v !== pack.address) {
    throw new RtnError(RTN.ADR, `command value 0x${v.toString(16)} is not this pack's ADR`);
  }
}

/**
 * 0x42 / 0x44: one module (INFO = ADR) or, at the master, the whole group (INFO = 0xFF:
 * module count and one block per pack of the bus). INFOFLAG is the OR of the modules'.
 */
function blocks(
  req: PylonRequest,
  pack: SimPackApi,
  bus: BusView,
  block: (r: Reading, p: SimPackApi) => number[],
  read: boolean,
): Uint8Array {
  const value = req.info[0];
  if (value === undefined) throw new RtnError(RTN.FORMAT, 'command value (ADR or 0xFF) missing');
  let packs: readonly SimPackApi[];
  if (value === 0xff) {
    if (pack.index !== 0) throw new RtnError(RTN.ADR, 'only the master answers a group read');
    packs = bus.packs.slice(0, MAX_MODULES);
  } else {
    checkValue(req, pack);
    packs = [pack];
  }
  let flag = 0;
  const body: number[] = [];
  for (const p of packs) {
    const r = p.snapshot();
    flag |= infoFlag(p, r);
    body.push(...block(r, p));
    if (read) markRead(p, r);
  }
  return reply(pack.address, [flag, value === 0xff ? packs.length : value, ...body]);
}

/** 0x95 "turn off module": both MOSFETs open, or nothing changes when the pack refuses. */
function turnOff(pack: SimPackApi): CommandResult {
  const wasOn = pack.snapshot().discharge_mos === true;
  const dsg = pack.setMos('discharge', false);
  if (!dsg.ok) return dsg;
  const chg = pack.setMos('charge', false);
  if (!chg.ok && wasOn) pack.setMos('discharge', true);
  return chg;
}

function handle(request: Uint8Array, pack: SimPackApi, bus: BusView): Uint8Array | undefined {
  const h = readHeader(request);
  // Not a frame, another pack's reply on the bus, or a request for another ADR: silence.
  if (!h || REPLY_CODES.has(h.cid2) || h.adr !== pack.address) return undefined;
  const req = readRequest(request);
  const adr = pack.address;
  switch (req.cid2) {
    case 0x4f: // protocol version: the reply's VER says it
      return reply(adr, []);
    case 0x51:
      return reply(adr, [
        ...asciiField(pack.info.model, 10, 0),
        ...versionBytes(pack.info.sw_version, 2),
        ...asciiField(pack.info.manufacturer, 20, 0x2d), // '-' padded, as Pylontech does
      ]);
    case 0x42:
      return blocks(req, pack, bus, analogBlock, false);
    case 0x44:
      return blocks(req, pack, bus, alarmBlock, true);
    case 0x47:
      return reply(adr, systemParameters(pack, infoFlag(pack, pack.snapshot())));
    case 0x92:
      checkValue(req, pack);
      return reply(adr, managementInfo(pack, adr));
    case 0x93:
      checkValue(req, pack);
      return reply(adr, [adr, ...asciiField(pack.info.serial, 16, 0)]);
    case 0x94: {
      if (req.info.length !== 9) throw new RtnError(RTN.FORMAT, '0x94 INFO must be 9 bytes');
      checkValue(req, pack);
      const res = setManagement(pack, req.info);
      if (!res.ok) throw new RtnError(RTN.DATA, res.reason);
      return reply(adr, []);
    }
    case 0x95: {
      checkValue(req, pack);
      const res = turnOff(pack);
      if (!res.ok) throw new RtnError(RTN.DATA, res.reason);
      return reply(adr, []);
    }
    case 0x96:
      checkValue(req, pack);
      return reply(adr, [
        adr,
        ...versionBytes(pack.info.sw_version, 2),
        ...versionBytes(pack.info.sw_version, 3),
      ]);
    default:
      throw new RtnError(RTN.CID2, `CID2 0x${req.cid2.toString(16)} is not a command`);
  }
}

/** RTN for a coded error that is not already an RtnError. */
function rtnOf(err: BmsError): number {
  switch (err.code) {
    case 'FRAME_CHECKSUM':
      return RTN.CHKSUM;
    case 'FRAME_MALFORMED':
    case 'FRAME_TRUNCATED':
    case 'FRAME_TOO_LONG':
      return RTN.FORMAT;
    case 'COMMAND_UNSUPPORTED':
      return RTN.CID2;
    default:
      return RTN.DATA;
  }
}

/** The RTN reply (no INFO) to a recognisable request the pack could not carry out. */
function errorReply(request: Uint8Array, err: unknown): Uint8Array | undefined {
  const h = readHeader(request);
  if (!h || REPLY_CODES.has(h.cid2) || !isBmsError(err)) return undefined;
  const rtn = err instanceof RtnError ? err.rtn : rtnOf(err);
  return buildFrame(DEFAULT_VER, h.adr, CID1_BATTERY, rtn, []);
}

export const device: DeviceProtocol = {
  id: 'pylontech',
  createRequestFramer,
  addressOf: (request) => readHeader(request)?.adr,
  addresses(n: number): number[] {
    if (!(Number.isInteger(n) && n >= 0 && n <= MAX_MODULES)) {
      throw new BmsError('INVALID_ARGUMENT', `a Pylontech group has 0..${MAX_MODULES} packs`);
    }
    return Array.from({ length: n }, (_, i) => MASTER_ADDRESS + i);
  },
  handle,
  errorReply,
};
