/**
 * Read cycles. ReadOptions.variant selects the link:
 *  - 'JK02_32S' (default) or 'JK02_24S': JK-PB RS485 bus-master triggers (FC 0x10 to
 *    0x161C device info, 0x161E settings, 0x1620 status); each reply is a 55AA record
 *    followed by 0x00 + the unit's FC 0x10 ACK, which is what proves who answered;
 *  - '4E57': one 4E57 read-all request (JK-B* RS485 / TTL port).
 */
import { BmsError, ensure, type Reading } from '@openbms/core';
import type { ReadOptions, ReadSession, ReadStep } from '../types.js';
import { crc16Modbus } from '../util/checksum.js';
import { sequentialSession } from '../util/session.js';
import { NW_CMD, NW_VARIANT, PB_TRIGGERS, RECORD_LENGTH, type PbTrigger } from './fields.js';
import { decodeNw, isNwStart } from './nw.js';
import { decodeRecord, isRecordHeader, layoutOf, parseAck } from './record.js';
import { DEFAULT_ADDRESS, encodeRequest } from './requests.js';

/** The Modbus exception (FC 0x90) a unit may send instead of a record, if `f` is one. */
function exceptionOf(f: Uint8Array, unit: number): number | undefined {
  const o = f.length === 6 && f[0] === 0 ? 1 : 0;
  if (f.length - o !== 5 || f[o] !== unit || f[o + 1] !== 0x90) return undefined;
  const crc = crc16Modbus(f, o, o + 3);
  return (f[o + 3]! | (f[o + 4]! << 8)) === crc ? f[o + 2]! : undefined;
}

/** True for the trailer frame (0x00 + ACK, or a bare ACK) of `unit` for `register`. */
function isAckOf(f: Uint8Array, unit: number, register: number): boolean {
  if (f.length !== 8 && !(f.length === 9 && f[0] === 0)) return false;
  const ack = parseAck(f, f.length - 8);
  return ack !== undefined && ack.unit === unit && ack.register === register;
}

/**
 * Picks the answer out of a step's frames (records of the asked type, then the ACK): the
 * master also broadcasts records of its own, so the record that counts is the one right
 * before the ACK.
 */
export function pbReply(bytes: Uint8Array, unit: number): Uint8Array {
  const n = bytes.length;
  const exc = n >= 5 ? exceptionOf(bytes.subarray(n - 5), unit) : undefined;
  if (exc !== undefined) {
    throw new BmsError(
      'DEVICE_ERROR_REPLY',
      `JK-PB unit ${unit} answered with Modbus exception ${exc}`,
      { exception: exc },
    );
  }
  if (
    n >= RECORD_LENGTH + 9 &&
    bytes[n - 9] === 0 &&
    isRecordHeader(bytes, n - RECORD_LENGTH - 9)
  ) {
    return bytes.subarray(n - RECORD_LENGTH - 9);
  }
  if (n >= RECORD_LENGTH + 8 && isRecordHeader(bytes, n - RECORD_LENGTH - 8))
    return bytes.subarray(n - RECORD_LENGTH - 8);
  throw new BmsError(
    'FRAME_TRUNCATED',
    `JK-PB unit ${unit} acknowledged the trigger but no whole record came before the ACK`,
  );
}

export function pbStep(
  name: string,
  command: PbTrigger,
  unit: number,
  optional: boolean,
): ReadStep {
  const trig = PB_TRIGGERS[command];
  const step: ReadStep = {
    name,
    request: encodeRequest({ command, address: unit }),
    accepts(f: Uint8Array): boolean {
      if (isRecordHeader(f)) return f[4] === trig.record;
      return isAckOf(f, unit, trig.register) || exceptionOf(f, unit) !== undefined;
    },
    complete(frames: readonly Uint8Array[]): boolean {
      const last = frames[frames.length - 1];
      return last !== undefined && !isRecordHeader(last);
    },
  };
  if (optional) step.optional = true;
  return step;
}

export function nwStep(): ReadStep {
  return {
    name: 'read_all',
    request: encodeRequest({ command: 'nw_read_all' }),
    accepts: (f) =>
      isNwStart(f) && f[10] !== 0 && (f[8] === NW_CMD.read || f[8] === NW_CMD.read_all),
    complete: (frames) => frames.length >= 1,
  };
}

export function createReadSession(opts: ReadOptions): ReadSession {
  const invert = opts.invertCurrent === true;
  if (opts.variant !== undefined && opts.variant.toUpperCase() === NW_VARIANT) {
    return sequentialSession({
      steps: [nwStep()],
      decode: (_step, bytes) => decodeNw(bytes, invert),
    });
  }
  const layout = opts.variant === undefined ? 'JK02_32S' : layoutOf(opts.variant);
  if (!layout) {
    throw new BmsError(
      'VARIANT_UNKNOWN',
      `unknown JK variant "${String(opts.variant)}" (known: JK02_32S, JK02_24S, 4E57)`,
    );
  }
  const unit = opts.address ?? DEFAULT_ADDRESS;
  ensure(
    Number.isInteger(unit) && unit >= 1 && unit <= 247,
    'INVALID_ARGUMENT',
    `JK-PB address must be 1..247 (got ${unit})`,
  );
  return sequentialSession({
    steps: [
      pbStep('device_info', 'pb_read_about', unit, true),
      pbStep('settings', 'pb_read_settings', unit, false),
      pbStep('cell_info', 'pb_read_status', unit, false),
    ],
    decode: (_step, bytes): Reading => decodeRecord(pbReply(bytes, unit), layout, invert),
  });
}
