/**
 * Fuzzing: 100,000 random and mutated frames per family. Decoders and framers must never
 * throw anything but a BmsError, never emit NaN/Infinity or keys outside the catalog, and
 * never produce output out of proportion to their input (no unbounded allocation).
 *
 * Most random mutations break the checksum and would only exercise the first check, so
 * half of the mutated frames are re-sealed (checksum recomputed per family) to reach the
 * field decoders with hostile lengths, counts and values.
 */
import { describe, expect, it } from 'vitest';
import { isBmsError, prng } from '@openbms/core';
import { PROTOCOLS } from './registry.js';
import { shapeProblems } from './testing/checks.js';
import { loadVectors, vectorOptions } from './testing/vectors.js';
import type { DecodeOptions } from './types.js';
import { hexToBytes } from './util/bytes.js';
import { crc16Modbus, sum16, sum8 } from './util/checksum.js';

const ITERATIONS = Number(process.env.OPENBMS_FUZZ_ITERATIONS ?? 100_000);

const HEXCHARS = '0123456789ABCDEF';

/** Recomputes the integrity check of a frame so a mutated frame passes it. */
function seal(b: Uint8Array): void {
  const n = b.length;
  if (n >= 13 && b[0] === 0xa5 && n % 13 === 0) {
    for (let o = 0; o < n; o += 13) b[o + 12] = sum8(b, o, o + 12); // DALY, each frame
  } else if (n >= 7 && b[0] === 0xdd && b[n - 1] === 0x77) {
    const c = (0x10000 - sum16(b, 2, n - 3)) & 0xffff; // JBD
    b[n - 3] = c >> 8;
    b[n - 2] = c & 0xff;
  } else if (n >= 300 && b[0] === 0x55 && b[1] === 0xaa && b[2] === 0xeb && b[3] === 0x90) {
    b[299] = sum8(b, 0, 299); // JK record
  } else if (n >= 20 && b[0] === 0x4e && b[1] === 0x57) {
    const c = sum16(b, 0, n - 2); // JK 4E57
    b[n - 2] = c >> 8;
    b[n - 1] = c & 0xff;
  } else if (n >= 18 && b[0] === 0x7e && b[n - 1] === 0x0d) {
    let s = 0; // Pylontech ASCII
    for (let i = 1; i < n - 5; i++) s += b[i]!;
    const c = ((~s & 0xffff) + 1) & 0xffff;
    for (let k = 0; k < 4; k++) b[n - 5 + k] = HEXCHARS.charCodeAt((c >> (12 - 4 * k)) & 0xf);
  } else if (n >= 4) {
    const c = crc16Modbus(b, 0, n - 2); // Modbus RTU (DALY H/K/M/S, JK-PB, generic)
    b[n - 2] = c & 0xff;
    b[n - 1] = c >> 8;
  }
}

function mutate(src: Uint8Array, rand: () => number, ascii: boolean): Uint8Array {
  const r = rand();
  let b: Uint8Array;
  if (r < 0.4) {
    b = src.slice();
    const flips = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < flips; k++) {
      const i = Math.floor(rand() * b.length);
      b[i] =
        ascii && i > 0 && i < b.length - 1
          ? HEXCHARS.charCodeAt(Math.floor(rand() * 16))
          : Math.floor(rand() * 256);
    }
  } else if (r < 0.55) {
    b = src.slice(0, Math.floor(rand() * src.length)); // truncation
  } else if (r < 0.7) {
    const extra = Uint8Array.from({ length: 1 + Math.floor(rand() * 40) }, () =>
      Math.floor(rand() * 256),
    );
    const at = Math.floor(rand() * src.length);
    b = new Uint8Array(src.length + extra.length);
    b.set(src.subarray(0, at));
    b.set(extra, at);
    b.set(src.subarray(at), at + extra.length);
  } else if (r < 0.85) {
    // Length/count fields to extremes: set a random early byte to 0x00 or 0xFF.
    b = src.slice();
    const i = Math.floor(rand() * Math.min(b.length, 40));
    b[i] = ascii ? HEXCHARS.charCodeAt(rand() < 0.5 ? 0 : 15) : rand() < 0.5 ? 0 : 0xff;
  } else {
    b = Uint8Array.from({ length: Math.floor(rand() * 400) }, () => Math.floor(rand() * 256));
  }
  if (rand() < 0.5) seal(b);
  return b;
}

function deepSize(v: unknown): number {
  return JSON.stringify(v)?.length ?? 0;
}

describe.each(PROTOCOLS.map((p) => [p.id, p] as const))('fuzz %s', (id, def) => {
  it(`survives ${ITERATIONS} random and mutated frames`, () => {
    const vectors = loadVectors(id).vectors;
    const seeds = vectors.map((v) => ({
      bytes: hexToBytes(v.response_hex),
      opts: vectorOptions(v),
    }));
    const optionSets: DecodeOptions[] = [
      {},
      ...seeds.map((s) => s.opts),
      ...def.variants.map((variant) => ({ variant })),
      { cells: 48, tempSensors: 32 },
      { cells: 1, tempSensors: 0 },
    ];
    const rand = prng(id.length * 7919 + 17);
    const framer = def.createFramer();
    const foreign: string[] = [];
    const bad: string[] = [];
    let decoded = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const seed = seeds[Math.floor(rand() * seeds.length)]!;
      const ascii = seed.bytes[0] === 0x7e;
      const input = mutate(seed.bytes, rand, ascii);
      const opts = rand() < 0.7 ? seed.opts : optionSets[Math.floor(rand() * optionSets.length)]!;
      try {
        const r = def.decode(input, opts);
        decoded++;
        const problems = shapeProblems(r);
        if (problems.length && bad.length < 5)
          bad.push(`${Buffer.from(input).toString('hex')}: ${problems.join('; ')}`);
        if (deepSize(r) > 64 * 1024 + input.length * 64 && bad.length < 5) {
          bad.push(`${Buffer.from(input).toString('hex')}: output of ${deepSize(r)} chars`);
        }
      } catch (e) {
        if (!isBmsError(e) && foreign.length < 5) {
          foreign.push(
            `${Buffer.from(input).toString('hex')}: ${e instanceof Error ? e.stack : String(e)}`,
          );
        }
      }
      // The same bytes through the stream framer, in two pieces.
      try {
        const cut = Math.floor(rand() * (input.length + 1));
        framer.push(input.subarray(0, cut));
        framer.push(input.subarray(cut));
        if (i % 64 === 63) framer.end();
        if (framer.pending > 64 * 1024) bad.push(`framer holds ${framer.pending} bytes`);
      } catch (e) {
        if (foreign.length < 5) foreign.push(`framer: ${e instanceof Error ? e.stack : String(e)}`);
      }
    }
    expect(foreign, 'only BmsError may be thrown').toEqual([]);
    expect(bad, 'outputs must be well-formed and bounded').toEqual([]);
    // The re-sealed half must reach the decoders, or the fuzzing proves little.
    expect(decoded).toBeGreaterThan(0);
  });
});
