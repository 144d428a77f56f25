/**
 * Conformance: every vector recorded from real devices (copied with its provenance into
 * src/<family>/fixtures/vectors.json) must decode to its expected values, and every
 * `{"error": true}` vector must be rejected with a coded BmsError.
 */
import { describe, expect, it } from 'vitest';
import { BmsError } from '@openbms/core';
import { hexToBytes } from './util/bytes.js';
import {
  FAMILY_DIRS,
  loadDefinition,
  loadVectors,
  lookup,
  matches,
  vectorOptions,
} from './testing/vectors.js';

describe.each(FAMILY_DIRS)('conformance: %s', (family) => {
  const file = loadVectors(family);
  it.each(file.vectors.map((v) => [v.id, v] as const))('%s', async (_id, v) => {
    const def = await loadDefinition(family);
    const bytes = hexToBytes(v.response_hex);
    const opts = vectorOptions(v);
    if (v.expected.error === true) {
      let err: unknown;
      try {
        def.decode(bytes, opts);
      } catch (e) {
        err = e;
      }
      expect(err, 'an {"error": true} vector must be rejected').toBeInstanceOf(BmsError);
      if (v.expected.device_error === true) {
        // A valid frame the device sent to refuse: the error says so, with its status.
        const e = err as BmsError;
        expect(e.code).toBe('DEVICE_ERROR_REPLY');
        for (const k of ['status', 'register'] as const) {
          if (v.expected[k] !== undefined) expect(e.details?.[k], k).toBe(v.expected[k]);
        }
      }
      return;
    }
    const r = def.decode(bytes, opts);
    const failures: string[] = [];
    for (const [key, want] of Object.entries(v.expected)) {
      const [loc, got] = lookup(r, key, family);
      if (!matches(got, want)) {
        failures.push(
          `${key} -> ${loc}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`,
        );
      }
    }
    expect(failures).toEqual([]);
  });
});
