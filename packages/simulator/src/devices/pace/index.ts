/**
 * Device side of the PACE "paceic" protocol: packs at ADR 1 (the master on the RS232 link
 * bus), 2, 3... answering v25 (PbmsTools) requests, and a second device for the EG4 v20
 * layout. Every command of the family is served, the single-source ones too, so each is
 * testable end to end. See README.md.
 */
import { BmsError, isBmsError } from '@openbms/core';
import { buildFrame } from '@openbms/protocols/pylontech';
import { CAN_PROTOCOLS, RS485_PROTOCOLS, ZERO_POINT_INFO } from '@openbms/protocols/pace';
import type { BusView, CommandResult, DeviceProtocol, SimPackApi } from '../../types.js';
import { createRequestFramer } from '../pylontech/index.js';
import {
  RtnError,
  asciiField,
  readHeader,
  readRequest,
  type PylonRequest,
} from '../pylontech/wire.js';
import { analogBlock, historyRecord, indication, statusBlock } from './blocks.js';
import { eg4Handle } from './eg4.js';
import { BLOCK_BY_READ, BLOCK_BY_WRITE, readBlock, writeBlock } from './params.js';
import { stateOf } from './state.js';

export const VER = 0x25;
export const CID1 = 0x46;
/** Return codes of the simulated PACE pack. */
export const RTN = {
  OK: 0x00,
  CHKSUM: 0x02,
  LCHKSUM: 0x03,
  CID2: 0x04,
  FORMAT: 0x05,
  REFUSED: 0x09,
} as const;
/** The most packs one PACE link bus has (newer firmware: 32; the simulator's bus: 16). */
const MAX_PACKS = 16;

/** Return codes: a frame carrying one of them in CID2 is another pack's reply. */
const REPLY_CODES: ReadonlySet<number> = new Set([
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x09, 0x91,
]);

const refused = (reason: string): RtnError => new RtnError(RTN.REFUSED, reason);

function ok(res: CommandResult): void {
  if (!res.ok) throw refused(res.reason);
}

const reply = (pack: SimPackApi, info: readonly number[], rtn: number = RTN.OK): Uint8Array =>
  buildFrame(VER, pack.address, CID1, rtn, info);

/** 0x42 / 0x44: INFO = ADR (one pack) or 0xFF (the master answers for the whole bus). */
function blocks(
  req: PylonRequest,
  pack: SimPackApi,
  bus: BusView,
  block: (p: SimPackApi) => number[],
): Uint8Array {
  const value = req.info[0];
  if (value === undefined || req.info.length !== 1)
    throw new RtnError(RTN.FORMAT, 'INFO must be the pack number or FF');
  if (value === 0xff) {
    const packs = pack.index === 0 ? bus.packs.slice(0, MAX_PACKS) : [pack];
    return reply(pack, [0x00, packs.length, ...packs.flatMap(block)]);
  }
  if (value !== pack.address && value !== 0)
    throw new RtnError(RTN.REFUSED, `pack ${value} is not this pack`);
  return reply(pack, [0x00, value, ...block(pack)]);
}

const u16at = (info: Uint8Array, o: number): number => (info[o]! << 8) | info[o + 1]!;

function need(req: PylonRequest, n: number): void {
  if (req.info.length !== n)
    throw new RtnError(RTN.FORMAT, `INFO must be ${n} bytes (got ${req.info.length})`);
}

function clockInfo(pack: SimPackApi): number[] {
  const d = new Date(pack.clock());
  return [
    d.getUTCFullYear() - 2000,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ];
}

function setClock(pack: SimPackApi, info: Uint8Array): void {
  const [y, mo, d, h, mi, s] = Array.from(info) as [number, number, number, number, number, number];
  const ms = Date.UTC(2000 + y, mo - 1, d, h, mi, s);
  const t = new Date(ms);
  if (mo < 1 || mo > 12 || t.getUTCDate() !== d || h > 23 || mi > 59 || s > 59)
    throw refused('not a valid date');
  pack.setClock(ms);
}

/** 0x99 codes and the control-status bit each sets (1) or clears (0): pace.md 7.1 captures. */
const CONTROL: Record<number, [number, 0 | 1]> = {
  0x0c: [0, 0],
  0x0d: [0, 1],
  0x08: [3, 0],
  0x09: [3, 1],
  0x06: [5, 0],
  0x07: [5, 1],
  0x0a: [4, 0],
  0x0b: [4, 1],
};

function inverter(pack: SimPackApi, info: Uint8Array): void {
  const [can, rs485, mode] = [info[0]!, info[1]!, info[2]!];
  const known = (list: readonly { code: number }[], c: number): boolean =>
    c === 0xff || list.some((x) => x.code === c);
  if (!known(CAN_PROTOCOLS, can) || !known(RS485_PROTOCOLS, rs485) || mode > 1)
    throw refused('unknown protocol code');
  const s = stateOf(pack).inverter;
  if (can !== 0xff) s.can = can;
  if (rs485 !== 0xff) s.rs485 = rs485;
  s.mode = mode;
}

function capacities(pack: SimPackApi, info: Uint8Array): void {
  const s = pack.snapshot();
  const [remaining, full, design] = [
    u16at(info, 0) / 100,
    u16at(info, 2) / 100,
    u16at(info, 4) / 100,
  ];
  if (remaining > full) throw refused('remaining above full capacity');
  if (design !== s.design_ah) ok(pack.calibrate('design_capacity', design));
  if (full !== s.full_ah) {
    // A lower full capacity than the remaining one: set the remaining first.
    if (remaining <= full && remaining < (s.remaining_ah ?? 0))
      ok(pack.calibrate('remaining_capacity', remaining));
    ok(pack.calibrate('full_capacity', full));
  }
  ok(pack.calibrate('remaining_capacity', remaining));
}

function handle(request: Uint8Array, pack: SimPackApi, bus: BusView): Uint8Array | undefined {
  const h = readHeader(request);
  if (!h || REPLY_CODES.has(h.cid2)) return undefined;
  if (pack.asleep()) return undefined;
  const req = readRequest(request, [CID1]);
  const info = req.info;
  switch (req.cid2) {
    case 0x42:
      return blocks(req, pack, bus, (p) => analogBlock(p.snapshot()));
    case 0x44:
      return blocks(req, pack, bus, (p) => statusBlock(p.snapshot(), p));
    case 0x90:
      return reply(pack, [pack.index === 0 ? Math.min(MAX_PACKS, bus.packs.length) : 1]);
    case 0xc1:
      return reply(pack, asciiField(`${pack.info.model}-${pack.info.sw_version}`, 20, 0x20));
    case 0xc2:
      return reply(pack, [
        ...asciiField(pack.info.serial, 20, 0x20),
        ...asciiField(pack.info.barcode, 20, 0x20),
      ]);
    case 0x99: {
      need(req, 1);
      const c = CONTROL[info[0]!];
      if (!c) throw refused(`control code 0x${info[0]!.toString(16)} is not supported`);
      const s = stateOf(pack);
      s.control = c[1] ? s.control | (1 << c[0]) : s.control & ~(1 << c[0]);
      return reply(pack, [info[0]!, s.control]);
    }
    case 0x9a:
    case 0x9b: {
      need(req, 1);
      if (info[0]! > 1) throw new RtnError(RTN.FORMAT, 'INFO must be 00 (on) or 01 (off)');
      const res = pack.setMos(req.cid2 === 0x9a ? 'charge' : 'discharge', info[0] === 0);
      // A refusal still carries the unchanged indication byte (vector pace25_9b_refused_rtn09).
      return reply(pack, [indication(pack.snapshot())], res.ok ? RTN.OK : RTN.REFUSED);
    }
    case 0x9c:
      ok(pack.shutdown());
      return reply(pack, []);
    case 0xb1:
      return reply(pack, clockInfo(pack));
    case 0xb2:
      need(req, 6);
      setClock(pack, info);
      return reply(pack, []);
    case 0xa1: {
      need(req, 2);
      const records = pack.dataRecords();
      const k = u16at(info, 0);
      const rec = records[records.length - 1 - k];
      return reply(pack, rec ? historyRecord(rec) : []);
    }
    case 0xb3:
      pack.clearRecords('all');
      return reply(pack, []);
    case 0xa6: {
      const s = pack.snapshot();
      const out = [s.remaining_ah ?? 0, s.full_ah ?? 0, s.design_ah ?? 0].flatMap((v) => {
        const n = Math.min(0xffff, Math.round(v * 100));
        return [n >> 8, n & 0xff];
      });
      return reply(pack, out);
    }
    case 0xa7:
      need(req, 6);
      capacities(pack, info);
      return reply(pack, []);
    case 0xbd:
      need(req, 2);
      ok(pack.calibrate('cycles', u16at(info, 0)));
      return reply(pack, []);
    case 0xa4:
      pack.restoreDefaults();
      stateOf(pack).enables = {};
      return reply(pack, []);
    case 0xa9:
      need(req, 2);
      return reply(pack, []); // the reference voltage: accepted, no effect on the model
    case 0xaa:
      need(req, 2);
      if (u16at(info, 0) !== ZERO_POINT_INFO) throw refused('the zero point takes INFO 4321 only');
      ok(pack.calibrate('current_zero', 0));
      return reply(pack, []);
    case 0xab:
    case 0xac:
      need(req, 2);
      ok(
        pack.calibrate(
          req.cid2 === 0xac ? 'charge_current' : 'discharge_current',
          u16at(info, 0) / 100,
        ),
      );
      return reply(pack, []);
    case 0xad:
      need(req, 2);
      ok(pack.calibrate('total_voltage', u16at(info, 0) / 1000));
      return reply(pack, []);
    case 0xeb: {
      const s = stateOf(pack).inverter;
      return reply(pack, [s.can, s.rs485, s.mode]);
    }
    case 0xec:
      need(req, 3);
      inverter(pack, info);
      return reply(pack, []);
    default: {
      const read = BLOCK_BY_READ.get(req.cid2);
      if (read) return reply(pack, readBlock(read, pack));
      const write = BLOCK_BY_WRITE.get(req.cid2);
      if (write) {
        ok(writeBlock(write, info, pack));
        return reply(pack, []);
      }
      throw new RtnError(RTN.CID2, `CID2 0x${req.cid2.toString(16)} is not a command`);
    }
  }
}

/** RTN for a coded error that is not already an RtnError. */
function rtnOf(err: BmsError): number {
  switch (err.code) {
    case 'FRAME_CHECKSUM':
      return RTN.CHKSUM;
    case 'COMMAND_UNSUPPORTED':
      return RTN.CID2;
    case 'FRAME_MALFORMED':
    case 'FRAME_TRUNCATED':
    case 'FRAME_TOO_LONG':
      return RTN.FORMAT;
    default:
      return RTN.REFUSED;
  }
}

function errorReplyOf(ver: number, cid1: number) {
  return (request: Uint8Array, err: unknown): Uint8Array | undefined => {
    const h = readHeader(request);
    if (!h || REPLY_CODES.has(h.cid2) || !isBmsError(err)) return undefined;
    const rtn = err instanceof RtnError ? err.rtn : rtnOf(err);
    return buildFrame(ver, h.adr === 0 ? 1 : h.adr, cid1, rtn, []);
  };
}

/** ADR 0 is "the pack on my cable" (RS232, PbmsTools): the master, ADR 1. */
const addressOf = (request: Uint8Array): number | undefined => {
  const adr = readHeader(request)?.adr;
  return adr === 0 ? 1 : adr;
};

function addresses(n: number): number[] {
  if (!(Number.isInteger(n) && n >= 0 && n <= MAX_PACKS)) {
    throw new BmsError('INVALID_ARGUMENT', `a PACE link bus has 0..${MAX_PACKS} packs`);
  }
  return Array.from({ length: n }, (_, i) => i + 1);
}

export const device: DeviceProtocol = {
  id: 'pace',
  createRequestFramer,
  addressOf,
  addresses,
  handle,
  errorReply: errorReplyOf(VER, CID1),
  // Cells 1-4 (the other two sensors are the MOSFET and the ambient).
  tempSensors: 4,
  ownParameters: true,
};

/** EG4 LifePower4 (v20): telemetry, status, identity, clock, shut-down. */
export const deviceEg4: DeviceProtocol = {
  id: 'pace',
  createRequestFramer,
  addressOf,
  addresses,
  handle: eg4Handle,
  errorReply: errorReplyOf(0x20, 0x4a),
  tempSensors: 4,
  ownParameters: true,
};
