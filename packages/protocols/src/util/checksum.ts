/** Low 8 bits of the byte sum (DALY 0xA5, JK 55AA records). */
export function sum8(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += bytes[i]!;
  return s & 0xff;
}

/** 16-bit byte sum (JK 4E57). */
export function sum16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += bytes[i]!;
  return s & 0xffff;
}

// CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF). A 256-entry table: the bench's
// 200,000 frames/s target needs table-driven CRC; no maintained npm package gives a
// dependency-free, Uint8Array-range CRC for this polynomial, so it is written here.
const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

export function crc16Modbus(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return crc;
}
