import { BmsError, ensure } from '@openbms/core';

/** Parses hex with optional spaces, colons or 0x prefixes. Throws INVALID_ARGUMENT. */
export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/0x/gi, '').replace(/[\s:,-]/g, '');
  ensure(/^[0-9a-fA-F]*$/.test(clean), 'INVALID_ARGUMENT', 'hex input contains non-hex characters');
  ensure(clean.length % 2 === 0, 'INVALID_ARGUMENT', 'hex input has an odd number of digits');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b];
  return s;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Bounds-checked reader over a frame. Every read checks the offset first and throws
 * FRAME_TRUNCATED, so a decoder over a short frame fails with a coded error, never with
 * undefined arithmetic.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  private need(offset: number, size: number): void {
    if (offset < 0 || offset + size > this.bytes.length) {
      throw new BmsError(
        'FRAME_TRUNCATED',
        `frame too short: need ${offset + size} bytes, have ${this.bytes.length}`,
      );
    }
  }

  u8(o: number): number {
    this.need(o, 1);
    return this.view.getUint8(o);
  }
  i8(o: number): number {
    this.need(o, 1);
    return this.view.getInt8(o);
  }
  u16be(o: number): number {
    this.need(o, 2);
    return this.view.getUint16(o, false);
  }
  i16be(o: number): number {
    this.need(o, 2);
    return this.view.getInt16(o, false);
  }
  u32be(o: number): number {
    this.need(o, 4);
    return this.view.getUint32(o, false);
  }
  i32be(o: number): number {
    this.need(o, 4);
    return this.view.getInt32(o, false);
  }
  u16le(o: number): number {
    this.need(o, 2);
    return this.view.getUint16(o, true);
  }
  i16le(o: number): number {
    this.need(o, 2);
    return this.view.getInt16(o, true);
  }
  u32le(o: number): number {
    this.need(o, 4);
    return this.view.getUint32(o, true);
  }
  i32le(o: number): number {
    this.need(o, 4);
    return this.view.getInt32(o, true);
  }
  slice(o: number, n: number): Uint8Array {
    this.need(o, n);
    return this.bytes.subarray(o, o + n);
  }
  /** ASCII text up to the first NUL, with non-printable characters dropped. */
  ascii(o: number, n: number): string {
    const b = this.slice(o, n);
    let s = '';
    for (const c of b) {
      if (c === 0) break;
      if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    }
    return s.trim();
  }
}
