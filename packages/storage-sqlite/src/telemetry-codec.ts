/**
 * Compact, lossless number encoding for telemetry rows.
 *
 * A value is stored as one varint `zigzag(scaled) * 8 + d` where `scaled = value * 10^d` for
 * the smallest d in 0..6 that gives the value back exactly (51.23 V: d = 2, 3 bytes; 25.3 °C:
 * d = 1, 2 bytes; 0/1 booleans: 1 byte). Tag 7 means a float64 follows (values with more
 * decimals). A relative value stores the difference to a base already decoded (the previous
 * cell, the minimum of a rollup), so a cell costs one byte when it is within ±7 mV of its
 * neighbour and two within ±1 V. The encoder checks that the decoder's arithmetic gives the
 * exact value back and falls back to float64 when it would not.
 */
import { BmsError } from '@openbms/core';

const TAG_FLOAT = 7;
const MAX_SCALED = 2 ** 44;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6];

const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);
const unzigzag = (z: number): number => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);

/** What the decoder computes for a relative value: base + delta, rounded to the decimals known. */
function recon(base: number, baseD: number, scaled: number, d: number): number {
  if (d === 0 && baseD === 0) return base + scaled;
  const v = base + scaled / POW10[d]!;
  if (baseD < 0) return v;
  const p = POW10[Math.max(baseD, d)]!;
  return Math.round(v * p) / p;
}

export class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  pos = 0;

  reset(): void {
    this.pos = 0;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Unsigned integer up to 2^53. */
  varint(v: number): void {
    this.room(8);
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  private float(x: number): number {
    this.varint(TAG_FLOAT);
    this.room(8);
    this.view.setFloat64(this.pos, x, true);
    this.pos += 8;
    return -1;
  }

  /** Writes x; returns its decimals (-1 for float64), the base precision of relative values. */
  abs(x: number): number {
    if (Number.isInteger(x) && Math.abs(x) <= MAX_SCALED) {
      this.varint(zigzag(x) * 8);
      return 0;
    }
    for (let d = 1; d < POW10.length; d++) {
      const r = Math.round(x * POW10[d]!);
      if (Math.abs(r) <= MAX_SCALED && r / POW10[d]! === x) {
        this.varint(zigzag(r) * 8 + d);
        return d;
      }
    }
    return this.float(x);
  }

  /** Writes x relative to `base` (decoded with decimals `baseD`); returns x's decimals. */
  rel(x: number, base: number, baseD: number): number {
    const delta = x - base;
    for (let d = 0; d < POW10.length; d++) {
      const r = Math.round(delta * POW10[d]!);
      if (Math.abs(r) <= MAX_SCALED && recon(base, baseD, r, d) === x) {
        this.varint(zigzag(r) * 8 + d);
        return baseD < 0 ? -1 : Math.max(baseD, d);
      }
    }
    return this.float(x);
  }

  /** A copy of what was written (better-sqlite3 binds Buffers as BLOBs). */
  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

export class ByteReader {
  private buf: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  pos = 0;
  /** Decimals of the value read last (-1: float64). */
  d = 0;

  reset(buf: Uint8Array): void {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    const first = this.buf[this.pos];
    if (first !== undefined && first < 128) {
      this.pos++;
      return first;
    }
    let v = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length || mul > 2 ** 49) corrupt();
      const b = this.buf[this.pos++]!;
      v += (b & 127) * mul;
      if (b < 128) return v;
      mul *= 128;
    }
  }

  private tagged(): number {
    const t = this.varint();
    const tag = t % 8;
    if (tag === TAG_FLOAT) {
      if (this.pos + 8 > this.buf.length) corrupt();
      const x = this.view.getFloat64(this.pos, true);
      this.pos += 8;
      this.d = -1;
      return x;
    }
    this.d = tag;
    return unzigzag((t - tag) / 8);
  }

  /** Steps over one value. */
  skip(): void {
    if (this.varint() % 8 === TAG_FLOAT) this.pos += 8;
  }

  abs(): number {
    const s = this.tagged();
    return this.d < 0 ? s : s / POW10[this.d]!;
  }

  rel(base: number, baseD: number): number {
    const s = this.tagged();
    if (this.d < 0) return s;
    const v = recon(base, baseD, s, this.d);
    this.d = baseD < 0 ? -1 : Math.max(baseD, this.d);
    return v;
  }
}

function corrupt(): never {
  throw new BmsError(
    'STORAGE_FAILED',
    'corrupt telemetry row (value runs past the end of its blob)',
  );
}
