/**
 * Request framer of the simulated unit: Modbus RTU requests to 0xD2 or 0x81..0x8F. Unlike the
 * family's createDalyRequestFramer it also frames the vendor-sheet FC 0x10 form, which has no
 * byte-count byte (`unit 10 start count values... crc`).
 */
import { createFramer, crc16Modbus, type Framer, type Probe } from '@openbms/protocols';
import { isP81Request } from '@openbms/protocols/daly-modbus';

const crcAt = (buf: Uint8Array, start: number, len: number): boolean =>
  crc16Modbus(buf, start, start + len - 2) ===
  (buf[start + len - 2]! | (buf[start + len - 1]! << 8));

function probe(buf: Uint8Array, start: number, end: number): Probe {
  const have = end - start;
  if (have < 2) return { kind: 'more' };
  const fn = buf[start + 1]!;
  let len: number;
  if (fn >= 1 && fn <= 6) len = 8;
  else if (fn === 0x10) {
    if (have < 7) return { kind: 'more' };
    const count = (buf[start + 4]! << 8) | buf[start + 5]!;
    if (count < 1 || count > 123)
      return { kind: 'reject', code: 'FRAME_MALFORMED', reason: 'FC 0x10 count outside 1..123' };
    const vendor = 8 + count * 2;
    const standard = 9 + count * 2;
    // Vendor form first when its CRC already matches; a standard frame is one byte longer.
    if (have >= vendor && crcAt(buf, start, vendor)) return { kind: 'frame', length: vendor };
    if (buf[start + 6] !== count * 2) {
      if (have < vendor) return { kind: 'more' };
      return { kind: 'reject', code: 'FRAME_CHECKSUM', reason: 'Modbus CRC mismatch' };
    }
    len = standard;
  } else {
    return { kind: 'reject', code: 'FRAME_MALFORMED', reason: 'not a Modbus function code' };
  }
  if (have < len) return { kind: 'more' };
  if (!crcAt(buf, start, len))
    return { kind: 'reject', code: 'FRAME_CHECKSUM', reason: 'Modbus CRC mismatch' };
  return { kind: 'frame', length: len };
}

export function createRequestFramer(): Framer {
  return createFramer({
    maxLength: 256,
    isStart: (buf, i) => buf[i] === 0xd2 || isP81Request(buf[i]!),
    probe,
  });
}
