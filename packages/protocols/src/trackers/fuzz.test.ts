/**
 * Fuzzing the tracker codecs: random, mutated, truncated and re-sealed frames (checksum, CRC
 * or BCC recomputed so hostile lengths and counts reach the field decoders). Decoders throw
 * nothing but BmsError and their output stays in proportion to the input; framers never throw,
 * never emit more bytes than they were given, and hold at most their bounded buffer.
 */
import { describe, expect, it } from 'vitest';
import { isBmsError, prng } from '@openbms/core';
import type { Framer } from '../types.js';
import { hexToBytes, loadTrackerVectors } from '../testing/trackers.js';
import { createJt808Framer, decodeJt808, MAX_WIRE, unwrap, wrap } from './jt808/index.js';
import { createGt06Framer, crcItu, decodeGt06, MAX_FRAME as GT06_MAX } from './gt06/index.js';
import { createGb32960Framer, decodeGb32960, MAX_FRAME as GB_MAX } from './gb32960/index.js';
import { parseOsmandQuery } from './osmand/index.js';

const ITERATIONS = Number(process.env.OPENBMS_FUZZ_ITERATIONS ?? 30_000);

function xorSeal(b: Uint8Array, from: number, at: number): void {
  let x = 0;
  for (let i = from; i < at; i++) x ^= b[i]!;
  b[at] = x;
}

/** Makes the integrity check of a (mutated) frame pass again. */
const SEAL: Record<string, (b: Uint8Array) => Uint8Array> = {
  jt808(b) {
    // Re-escape the inner bytes with a fresh XOR so the mutation reaches the decoder.
    if (b.length < 4) return b;
    const inner = b.slice(1, -1);
    try {
      unwrap(b);
      return b;
    } catch {
      const raw = inner.filter((x) => x !== 0x7d && x !== 0x7e);
      if (raw.length < 2) return b;
      xorSeal(raw, 0, raw.length - 1);
      return wrap(raw);
    }
  },
  gt06(b) {
    const n = b.length;
    if (n >= 10) {
      const c = crcItu(b, 2, n - 4);
      b[n - 4] = c >> 8;
      b[n - 3] = c & 0xff;
    }
    return b;
  },
  gb32960(b) {
    if (b.length >= 25) xorSeal(b, 2, b.length - 1);
    return b;
  },
};

function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const r = rand();
  let b: Uint8Array;
  if (r < 0.4) {
    b = src.slice();
    for (let k = 0, n = 1 + Math.floor(rand() * 4); k < n; k++)
      b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
  } else if (r < 0.55) {
    b = src.slice(0, Math.floor(rand() * src.length));
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
    b = src.slice();
    b[Math.floor(rand() * Math.min(b.length, 40))] = rand() < 0.5 ? 0 : 0xff;
  } else {
    b = Uint8Array.from({ length: Math.floor(rand() * 400) }, () => Math.floor(rand() * 256));
  }
  return b;
}

const CASES: [string, (b: Uint8Array) => unknown, () => Framer, number][] = [
  ['jt808', (b) => decodeJt808(b), createJt808Framer, MAX_WIRE],
  ['gt06', (b) => decodeGt06(b), createGt06Framer, GT06_MAX],
  ['gb32960', (b) => decodeGb32960(b), createGb32960Framer, GB_MAX],
];

describe.each(CASES)('fuzz %s', (name, decode, makeFramer, maxFrame) => {
  it(`survives ${ITERATIONS} random and mutated frames`, () => {
    const seeds = loadTrackerVectors(name).map((v) => hexToBytes(v.frame_hex!));
    const rand = prng(name.length * 7919 + 3);
    const framer = makeFramer();
    const foreign: string[] = [];
    const bad: string[] = [];
    let decoded = 0;
    let fed = 0;
    let emitted = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      let input = mutate(seeds[Math.floor(rand() * seeds.length)]!, rand);
      if (rand() < 0.5) input = SEAL[name]!(input);
      try {
        const out = decode(input);
        decoded++;
        const size = JSON.stringify(out).length;
        if (size > 64 * 1024 + input.length * 64 && bad.length < 5)
          bad.push(`output of ${size} chars`);
      } catch (e) {
        if (!isBmsError(e) && foreign.length < 5)
          foreign.push(`${Buffer.from(input).toString('hex')}: ${String(e)}`);
      }
      try {
        const cut = Math.floor(rand() * (input.length + 1));
        fed += input.length;
        for (const part of [input.subarray(0, cut), input.subarray(cut)]) {
          for (const e of framer.push(part)) if (e.type === 'frame') emitted += e.bytes.length;
        }
        if (i % 64 === 63)
          for (const e of framer.end()) if (e.type === 'frame') emitted += e.bytes.length;
        if (framer.pending > maxFrame + 1) bad.push(`framer holds ${framer.pending} bytes`);
      } catch (e) {
        if (foreign.length < 5) foreign.push(`framer: ${String(e)}`);
      }
    }
    expect(foreign).toEqual([]);
    expect(bad.slice(0, 5)).toEqual([]);
    expect(emitted).toBeLessThanOrEqual(fed);
    // The sealing reaches the decoders: a good share of inputs decode.
    expect(decoded).toBeGreaterThan(ITERATIONS / 20);
  });
});

describe('fuzz osmand', () => {
  it(`survives ${ITERATIONS} mutated queries`, () => {
    const seeds = loadTrackerVectors('osmand')
      .filter((v) => v.request!.includes('?'))
      .map((v) => v.request!.split(' ')[1]!.slice(2));
    const rand = prng(42);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789=&%,.-+:TZ ';
    const foreign: string[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const chars = [...seeds[Math.floor(rand() * seeds.length)]!];
      for (let k = 0, n = 1 + Math.floor(rand() * 5); k < n; k++) {
        const at = Math.floor(rand() * chars.length);
        const c = alphabet[Math.floor(rand() * alphabet.length)]!;
        if (rand() < 0.5) chars[at] = c;
        else chars.splice(at, rand() < 0.5 ? 1 : 0, c);
      }
      try {
        parseOsmandQuery(chars.join(''), { receivedAtMs: 0 });
      } catch (e) {
        if (!isBmsError(e) && foreign.length < 5) foreign.push(`${chars.join('')}: ${String(e)}`);
      }
    }
    expect(foreign).toEqual([]);
  });
});
