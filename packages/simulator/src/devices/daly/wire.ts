/** Small encoding helpers shared by the DALY A5 reply builders. */
import { BMS_ADDRESS, buildFrame } from '@openbms/protocols/daly';

/** Rounds and clamps a value to an unsigned integer field of `max`. */
export function uint(x: number | undefined, max: number): number {
  if (x === undefined || !Number.isFinite(x)) return 0;
  return Math.min(max, Math.max(0, Math.round(x)));
}

export const u8 = (x: number | undefined): number => uint(x, 0xff);
export const u16 = (x: number | undefined): number => uint(x, 0xffff);

/** Writes a big-endian u16 into `data` at `off`. */
export function put16(data: number[], off: number, v: number): void {
  data[off] = (v >> 8) & 0xff;
  data[off + 1] = v & 0xff;
}

/** Writes a big-endian u32 into `data` at `off`. */
export function put32(data: number[], off: number, v: number): void {
  data[off] = (v >>> 24) & 0xff;
  data[off + 1] = (v >>> 16) & 0xff;
  data[off + 2] = (v >>> 8) & 0xff;
  data[off + 3] = v & 0xff;
}

/** A temperature in °C as the protocol's u8 (raw - 40 = °C), clamped to -40..215 °C. */
export const temp8 = (c: number | undefined): number => (c === undefined ? 0 : u8(c + 40));

/** One reply frame from the BMS (address byte 0x01). */
export function reply(dataId: number, data: readonly number[]): Uint8Array {
  return buildFrame(BMS_ADDRESS, dataId, data);
}

/** Concatenates frames into one reply (0x95 / 0x96). */
export function concat(frames: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    out.set(f, o);
    o += f.length;
  }
  return out;
}
