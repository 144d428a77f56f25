/**
 * Reply framer for every JK link. It recognises
 *  - `55 AA EB 90` records: exactly 300 bytes, sum8 at byte 299 (bytes a padded 320-byte
 *    BLE record carries after 300 are reported as discarded);
 *  - the JK-PB RS485 trailer that follows a triggered record: 0x00 + the 8-byte Modbus FC 0x10
 *    ACK (emitted as one 9-byte frame; a bare ACK without the 0x00 is accepted too), plus
 *    plain Modbus FC 0x03 replies and exceptions (official register map);
 *  - `4E 57` frames: length field + 16-bit sum.
 * The record and its trailer come out as two frames, so a record is delivered as soon as its
 * 300 bytes are in (BLE sends no trailer); the read session joins them.
 */
import type { Framer } from '../types.js';
import { crc16Modbus, sum8 } from '../util/checksum.js';
import { createFramer, type Probe } from '../util/framer.js';
import { NW_MAX_LENGTH, RECORD_LENGTH } from './fields.js';
import { nwLength, nwProblem } from './nw.js';

const MORE: Probe = { kind: 'more' };

function modbusLength(buf: Uint8Array, j: number, end: number): number | 'bad' | undefined {
  if (end - j < 2) return undefined;
  const fn = buf[j + 1]!;
  if (fn === 0x10) return 8;
  if (fn === 0x83 || fn === 0x90 || fn === 0x86) return 5;
  if (fn === 0x06) return 8;
  if (fn === 0x03) return end - j < 3 ? undefined : 5 + buf[j + 2]!;
  return 'bad';
}

function probe(buf: Uint8Array, start: number, end: number): Probe {
  const b0 = buf[start]!;
  const avail = end - start;
  if (b0 === 0x55 && (avail < 2 || buf[start + 1] === 0xaa)) {
    if (avail < 4) return MORE;
    if (buf[start + 2] === 0xeb && buf[start + 3] === 0x90) {
      if (avail < RECORD_LENGTH) return MORE;
      if (sum8(buf, start, start + RECORD_LENGTH - 1) !== buf[start + RECORD_LENGTH - 1]) {
        return { kind: 'reject', code: 'FRAME_CHECKSUM', reason: 'JK 55AA record sum8 mismatch' };
      }
      return { kind: 'frame', length: RECORD_LENGTH };
    }
  }
  if (b0 === 0x4e && (avail < 2 || buf[start + 1] === 0x57)) {
    const len = nwLength(buf, start, end);
    if (len === undefined) return MORE;
    if (len > NW_MAX_LENGTH || len < 21) {
      return {
        kind: 'reject',
        code: 'FRAME_TOO_LONG',
        reason: `4E57 length field gives ${len} bytes`,
      };
    }
    if (avail < len) return MORE;
    const problem = nwProblem(buf, start, len);
    if (problem === 'checksum')
      return { kind: 'reject', code: 'FRAME_CHECKSUM', reason: '4E57 16-bit sum mismatch' };
    if (problem) return { kind: 'reject', code: 'FRAME_MALFORMED', reason: `4E57 ${problem}` };
    return { kind: 'frame', length: len };
  }
  // Modbus reply, optionally behind the 0x00 separator JK-PB sends after a record.
  const j = b0 === 0x00 ? start + 1 : start;
  const len = modbusLength(buf, j, end);
  if (len === 'bad')
    return { kind: 'reject', code: 'FRAME_NO_START', reason: 'no JK start marker' };
  if (len === undefined || end - j < len) return MORE;
  const crc = crc16Modbus(buf, j, j + len - 2);
  if ((buf[j + len - 2]! | (buf[j + len - 1]! << 8)) !== crc) {
    return { kind: 'reject', code: 'FRAME_CHECKSUM', reason: 'Modbus CRC mismatch' };
  }
  return { kind: 'frame', length: j - start + len };
}

export function createJkFramer(): Framer {
  return createFramer({
    maxLength: NW_MAX_LENGTH,
    isStart(buf, i, end): boolean {
      const b = buf[i]!;
      if (b === 0x55 || b === 0x4e || b === 0x00) return true;
      if (i + 1 >= end) return true;
      const fn = buf[i + 1]!;
      return fn === 0x10 || fn === 0x03 || fn === 0x06 || fn === 0x83 || fn === 0x90 || fn === 0x86;
    },
    probe,
  });
}
