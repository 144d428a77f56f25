/**
 * Test support for the tracker codecs (not part of the package's API): loads the shared
 * vectors copied with their provenance into trackers/<protocol>/fixtures/vectors.json and
 * compares flattened decoded messages with the vectors' expectations.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { matches } from './vectors.js';

const here = join(dirname(fileURLToPath(import.meta.url)), '..', 'trackers');

export interface TrackerVector {
  id: string;
  source: string;
  frame_hex?: string;
  request?: string;
  headers?: Record<string, string>;
  body?: string;
  expected: Record<string, unknown>;
  expected_response_hex: string | null;
  expected_response_template?: string;
  expected_response?: { status: number };
  notes?: string;
}

export function loadTrackerVectors(protocol: string): TrackerVector[] {
  const file = JSON.parse(
    readFileSync(join(here, protocol, 'fixtures', 'vectors.json'), 'utf8'),
  ) as { vectors: TrackerVector[] };
  return file.vectors;
}

/** Differences between `expected` and `actual` (keys in `skip` are descriptive only). */
export function differences(
  actual: Record<string, unknown>,
  expected: Record<string, unknown>,
  skip: readonly string[] = [],
): string[] {
  const out: string[] = [];
  for (const [k, want] of Object.entries(expected)) {
    if (skip.includes(k)) continue;
    if (!matches(actual[k], want)) {
      out.push(`${k}: expected ${JSON.stringify(want)}, got ${JSON.stringify(actual[k])}`);
    }
  }
  return out;
}

export { hexToBytes, bytesToHex } from '../util/bytes.js';
