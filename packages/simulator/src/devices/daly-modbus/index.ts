/**
 * Device side of `daly-modbus`: a DALY H/K/M/S board answering Modbus RTU on unit 0xD2 (d2 map)
 * or 0x80 + board (p81 map, replies from 0x50 + board). See README.md.
 */
import { ensure, isBmsError } from '@openbms/core';
import {
  D2_UNIT,
  isP81Request,
  parseModbusRequestLoose,
  replyUnitOf,
  variantOfUnit,
  type LooseModbusRequest,
} from '@openbms/protocols/daly-modbus';
import type { DeviceProtocol } from '../../types.js';
import { createRequestFramer } from './framer.js';
import { readWindow } from './image.js';
import { applyWrite } from './writes.js';
import { crcOk, EX, exceptionReply, notUnderstood, readReply, writeReply } from './wire.js';

const isUnit = (u: number | undefined): u is number =>
  u !== undefined && (u === D2_UNIT || isP81Request(u));

/** Boards 1..15 at 0x81..0x8F; a 16th pack can only be the d2 unit 0xD2 (see README). */
function addresses(n: number): number[] {
  ensure(
    Number.isInteger(n) && n >= 0 && n <= 16,
    'INVALID_ARGUMENT',
    `a DALY Modbus bus holds 1..16 packs (got ${n})`,
  );
  // A lone pack answers the family's default unit (0xD2), so `openbms read` finds it with
  // no --address; a parallel bus uses the RS485 boards 0x81..0x8F, and a 16th pack 0xD2.
  if (n === 1) return [D2_UNIT];
  const out = Array.from({ length: Math.min(n, 15) }, (_, i) => 0x81 + i);
  if (n === 16) out.push(D2_UNIT);
  return out;
}

function parse(request: Uint8Array): LooseModbusRequest {
  try {
    return parseModbusRequestLoose(request);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw notUnderstood('FRAME_MALFORMED', EX.ILLEGAL_VALUE, msg);
  }
}

export const device: DeviceProtocol = {
  id: 'daly-modbus',
  createRequestFramer,
  addressOf: (request) => (request.length > 0 ? request[0] : undefined),
  addresses,

  handle(request, pack) {
    // Like any Modbus slave: silence on a bad CRC or a frame for another unit.
    if (request.length < 8 || !crcOk(request) || !isUnit(request[0])) return undefined;
    const unit = request[0]!;
    const fn = request[1]!;
    const variant = variantOfUnit(unit);
    const reply = replyUnitOf(unit);
    if (fn !== 0x03 && fn !== 0x06 && fn !== 0x10) {
      throw notUnderstood(
        'COMMAND_UNSUPPORTED',
        EX.ILLEGAL_FUNCTION,
        `function 0x${fn.toString(16)} is not supported`,
      );
    }
    const req = parse(request);
    if (fn === 0x03) {
      const count = req.count ?? 0;
      if (count < 1 || count > 125) {
        throw notUnderstood('INVALID_ARGUMENT', EX.ILLEGAL_VALUE, `cannot read ${count} registers`);
      }
      const regs = readWindow({ variant, pack, snap: pack.snapshot() }, req.start, count);
      if (!regs) {
        throw notUnderstood(
          'INVALID_ARGUMENT',
          EX.ILLEGAL_ADDRESS,
          `registers 0x${req.start.toString(16)} x ${count} are not all readable`,
        );
      }
      return readReply(reply, regs);
    }
    const values = fn === 0x06 ? [req.value!] : req.values!;
    const refused = applyWrite(variant, pack, req.start, values);
    if (refused) return exceptionReply(reply, fn, refused);
    return fn === 0x06
      ? writeReply(reply, fn, req.start, req.value!)
      : writeReply(reply, fn, req.start, values.length);
  },

  errorReply(request, err) {
    if (request.length < 4 || !crcOk(request) || !isUnit(request[0])) return undefined;
    const code = isBmsError(err) ? err.details?.exception_code : undefined;
    return exceptionReply(
      replyUnitOf(request[0]!),
      request[1]!,
      typeof code === 'number' ? code : EX.DEVICE_FAILURE,
    );
  },
};
