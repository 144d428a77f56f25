/**
 * Small byte writers shared by the JK device builders: clamped little-endian fields (55AA
 * records), big-endian words (4E57, Modbus) and ASCII.
 */

export function clamp(v: number, lo: number, hi: number): number {
  if (!Number.isFinite(v)) return 0;
  return Math.min(hi, Math.max(lo, v));
}

/** Rounds and clamps a value to an integer field of `bytes` bytes. */
export function fit(v: number, bytes: number, signed: boolean): number {
  const span = 2 ** (8 * bytes);
  const lo = signed ? -span / 2 : 0;
  const hi = signed ? span / 2 - 1 : span - 1;
  return clamp(Math.round(v), lo, hi);
}

/** Little-endian writer over a fixed buffer; negative offsets (field absent) are ignored. */
export class LeWriter {
  readonly bytes: Uint8Array;
  private readonly dv: DataView;
  constructor(length: number) {
    this.bytes = new Uint8Array(length);
    this.dv = new DataView(this.bytes.buffer);
  }
  u8(o: number, v: number): void {
    if (o >= 0) this.dv.setUint8(o, fit(v, 1, false));
  }
  i8(o: number, v: number): void {
    if (o >= 0) this.dv.setInt8(o, fit(v, 1, true));
  }
  u16(o: number, v: number): void {
    if (o >= 0) this.dv.setUint16(o, fit(v, 2, false), true);
  }
  i16(o: number, v: number): void {
    if (o >= 0) this.dv.setInt16(o, fit(v, 2, true), true);
  }
  u32(o: number, v: number): void {
    if (o >= 0) this.dv.setUint32(o, fit(v, 4, false), true);
  }
  i32(o: number, v: number): void {
    if (o >= 0) this.dv.setInt32(o, fit(v, 4, true), true);
  }
  ascii(o: number, size: number, s: string): void {
    writeAscii(this.bytes, o, size, s);
  }
}

/** Printable ASCII of `s`, truncated to `size` bytes, zero-padded. */
export function writeAscii(out: Uint8Array, o: number, size: number, s: string): void {
  let k = 0;
  for (const ch of s) {
    if (k >= size) break;
    const c = ch.charCodeAt(0);
    out[o + k++] = c >= 0x20 && c < 0x7f ? c : 0x3f;
  }
}

/** Big-endian bytes of an unsigned (or two's complement) integer. */
export function beBytes(v: number, size: number): number[] {
  let w = v < 0 ? v + 2 ** (8 * size) : v;
  const out: number[] = [];
  for (let k = 0; k < size; k++) {
    out.unshift(w % 256);
    w = Math.floor(w / 256);
  }
  return out;
}

export function readBe(b: Uint8Array, o: number, size: number, signed: boolean): number {
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + b[o + i]!;
  const span = 2 ** (8 * size);
  return signed && v >= span / 2 ? v - span : v;
}

/** Float noise off a scaled value (3650 * 0.001 * 1000 -> 3650). */
export function tidy(x: number): number {
  const r = Math.round(x * 1e6) / 1e6;
  return r === 0 ? 0 : r;
}
