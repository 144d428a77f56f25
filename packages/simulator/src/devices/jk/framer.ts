/**
 * Frames host -> JK requests: 20-byte `AA 55 90 EB` commands, `4E 57` frames and Modbus RTU
 * requests (JK-PB triggers and the official map, FC 0x01..0x06 and 0x10).
 */
import { createFramer, crc16Modbus, sum8, type Framer, type Probe } from '@openbms/protocols';
import { COMMAND_LENGTH, nwLength, nwProblem } from '@openbms/protocols/jk';

const MORE: Probe = { kind: 'more' };
const MAX_REQUEST = 300;

function isModbusFn(fn: number): boolean {
  return (fn >= 1 && fn <= 6) || fn === 0x10;
}

function probeBle(buf: Uint8Array, start: number, end: number): Probe {
  if (end - start < COMMAND_LENGTH) return MORE;
  if (sum8(buf, start, start + COMMAND_LENGTH - 1) !== buf[start + COMMAND_LENGTH - 1]) {
    return { kind: 'reject', code: 'FRAME_CHECKSUM', reason: 'JK host command sum8 mismatch' };
  }
  return { kind: 'frame', length: COMMAND_LENGTH };
}

function probeNw(buf: Uint8Array, start: number, end: number): Probe {
  const len = nwLength(buf, start, end);
  if (len === undefined) return MORE;
  if (len < 21 || len > MAX_REQUEST) {
    return { kind: 'reject', code: 'FRAME_TOO_LONG', reason: `4E57 length field gives ${len}` };
  }
  if (end - start < len) return MORE;
  const problem = nwProblem(buf, start, len);
  if (problem === 'checksum') {
    return { kind: 'reject', code: 'FRAME_CHECKSUM', reason: '4E57 16-bit sum mismatch' };
  }
  if (problem) return { kind: 'reject', code: 'FRAME_MALFORMED', reason: `4E57 ${problem}` };
  return { kind: 'frame', length: len };
}

function probeModbus(buf: Uint8Array, start: number, end: number): Probe {
  const avail = end - start;
  if (avail < 2) return MORE;
  const fn = buf[start + 1]!;
  if (!isModbusFn(fn)) {
    return { kind: 'reject', code: 'FRAME_NO_START', reason: 'no JK request start' };
  }
  if (fn === 0x10 && avail < 7) return MORE;
  const len = fn === 0x10 ? 9 + buf[start + 6]! : 8;
  if (avail < len) return MORE;
  const crc = crc16Modbus(buf, start, start + len - 2);
  if ((buf[start + len - 2]! | (buf[start + len - 1]! << 8)) !== crc) {
    return { kind: 'reject', code: 'FRAME_CHECKSUM', reason: 'Modbus CRC mismatch' };
  }
  return { kind: 'frame', length: len };
}

function probe(buf: Uint8Array, start: number, end: number): Probe {
  const b0 = buf[start]!;
  const avail = end - start;
  if (b0 === 0xaa && (avail < 2 || buf[start + 1] === 0x55)) {
    if (avail < 4) return MORE;
    if (buf[start + 2] === 0x90 && buf[start + 3] === 0xeb) return probeBle(buf, start, end);
  }
  if (b0 === 0x4e && (avail < 2 || buf[start + 1] === 0x57)) return probeNw(buf, start, end);
  return probeModbus(buf, start, end);
}

export function createJkRequestFramer(): Framer {
  return createFramer({
    maxLength: MAX_REQUEST,
    isStart(buf, i, end): boolean {
      const b = buf[i]!;
      if (b === 0xaa || b === 0x4e || i + 1 >= end) return true;
      return isModbusFn(buf[i + 1]!);
    },
    probe,
  });
}
