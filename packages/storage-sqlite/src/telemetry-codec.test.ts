import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from './telemetry-codec.js';

function roundTrip(values: number[], relative = false): { back: number[]; bytes: number } {
  const w = new ByteWriter();
  let prev = 0;
  let prevD = 0;
  values.forEach((v, i) => {
    prevD = relative && i > 0 ? w.rel(v, prev, prevD) : w.abs(v);
    prev = v;
  });
  const buf = w.bytes();
  const r = new ByteReader();
  r.reset(buf);
  const back: number[] = [];
  values.forEach((_, i) => {
    const v = relative && i > 0 ? r.rel(back[i - 1]!, r.d) : r.abs();
    back.push(v);
  });
  expect(r.done).toBe(true);
  return { back, bytes: buf.length };
}

describe('telemetry number codec', () => {
  it('gives every finite number back exactly (-0 as 0)', () => {
    let seed = 1;
    const rnd = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const values = [
      0,
      1,
      -1,
      51.23,
      -12.5,
      3312,
      25.3,
      1e-7,
      123456.789,
      Math.PI,
      2 ** 50,
      -(2 ** 52),
      1e300,
    ];
    for (let i = 0; i < 5000; i++) {
      values.push(
        Math.round((rnd() - 0.5) * 10 ** (1 + (i % 8))) / 10 ** (i % 5) || 0,
        (rnd() - 0.5) * 1e6,
      );
    }
    expect(roundTrip([-0]).back).toEqual([0]);
    expect(roundTrip(values).back).toEqual(values);
    expect(roundTrip(values, true).back).toEqual(values);
  });

  it('stores typical telemetry values in one to three bytes', () => {
    expect(roundTrip([1]).bytes).toBe(1);
    expect(roundTrip([25.3]).bytes).toBe(2);
    expect(roundTrip([51.23]).bytes).toBe(3);
    // 16 cells within a few mV of each other: 3 bytes for the first, 1 for each next.
    const cells = [
      3312, 3315, 3310, 3311, 3318, 3313, 3312, 3309, 3312, 3314, 3316, 3311, 3310, 3312, 3313,
      3311,
    ];
    expect(roundTrip(cells, true).bytes).toBe(3 + 15);
  });

  it('reports a truncated value as STORAGE_FAILED', () => {
    const r = new ByteReader();
    r.reset(new Uint8Array([0xff, 0xff]));
    expect(() => r.abs()).toThrow(expect.objectContaining({ code: 'STORAGE_FAILED' }));
    r.reset(new Uint8Array([7, 1, 2]));
    expect(() => r.abs()).toThrow(expect.objectContaining({ code: 'STORAGE_FAILED' }));
  });
});
