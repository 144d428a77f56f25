/**
 * Test support (not part of the package's API): loads the recorded vectors copied into
 * src/<family>/fixtures/ and compares decoded values with their expectations.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMetric, type Reading } from '@openbms/core';
import type { DecodeOptions, ProtocolDefinition } from '../types.js';
import { hexToBytes } from '../util/bytes.js';
import { encodeModbusRequest } from '../modbus-rtu/codec.js';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface Vector {
  id: string;
  source: string;
  request_hex: string | null;
  response_hex: string;
  expected: Record<string, unknown>;
  variant?: string;
  context?: Record<string, unknown>;
  notes?: string;
}

export interface VectorFile {
  protocol: string;
  source_notes: string;
  vectors: Vector[];
}

export const FAMILY_DIRS = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'fixtures', 'vectors.json')))
  .map((d) => d.name)
  .sort();

export function loadVectors(family: string): VectorFile {
  return JSON.parse(
    readFileSync(join(here, family, 'fixtures', 'vectors.json'), 'utf8'),
  ) as VectorFile;
}

/** The vector files' names for values that have a canonical key (see the issue's conventions). */
const ALIASES: Record<string, string> = {
  pack_voltage_v: 'voltage_v',
  remaining_capacity_ah: 'remaining_ah',
  full_charge_capacity_ah: 'full_ah',
  charge_mos_on: 'charge_mos',
  discharge_mos_on: 'discharge_mos',
};

/** Keys that name lists of the protocol's own identifiers: compared with `raw`. */
const PROTOCOL_LISTS = new Set(['alarms', 'faults']);

/**
 * Vector keys that share a canonical metric's name but mean a device register with another
 * convention; they are compared with `raw`, and the canonical value is tested by the
 * family's own tests. daly-modbus `power_w`: the register is a magnitude (the protocol doc),
 * canonical power_w is signed like current_a (see docs/adr/0003).
 */
const RAW_OVERRIDES: Record<string, readonly string[]> = { 'daly-modbus': ['power_w'] };

/** Where a vector key's value is found in a Reading: [location label, value]. */
export function lookup(r: Reading, key: string, family?: string): [string, unknown] {
  if (family && RAW_OVERRIDES[family]?.includes(key)) return [`raw.${key}`, r.raw?.[key]];
  const mod = /^(?:module|pack)(\d+)_(.+)$/.exec(key);
  if (mod && key !== 'module_count') {
    const pack = r.packs?.[Number(mod[1]) - 1];
    if (!pack) return [`packs[${Number(mod[1]) - 1}]`, undefined];
    const [loc, v] = lookup(pack, mod[2]!);
    return [`packs[${Number(mod[1]) - 1}].${loc}`, v];
  }
  const canonical = ALIASES[key] ?? key;
  if (!PROTOCOL_LISTS.has(key) && isMetric(canonical)) {
    return [canonical, (r as Record<string, unknown>)[canonical]];
  }
  return [`raw.${key}`, r.raw?.[key]];
}

/**
 * Lookup for a session fixture's `expected` (written in canonical terms): `raw` is the raw
 * object (compared key by key), `alarms` the canonical list, aliases as for vectors.
 */
export function lookupCanonical(r: Reading, key: string): [string, unknown] {
  if (key === 'raw') return ['raw', r.raw];
  if (key === 'alarms') return ['alarms', r.alarms ?? []];
  return lookup(r, key);
}

function decimals(x: number): number {
  const s = String(x);
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
}

/** Compares with the vector README's tolerance: half a unit of the last decimal shown. */
export function matches(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'number') {
    if (typeof actual !== 'number' || !Number.isFinite(actual)) return false;
    const tol = 0.5 * 10 ** -decimals(expected) + 1e-9;
    return Math.abs(actual - expected) <= tol;
  }
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => matches(actual[i], e))
    );
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return false;
    return Object.entries(expected).every(([k, v]) =>
      matches((actual as Record<string, unknown>)[k], v),
    );
  }
  return actual === expected;
}

export function vectorOptions(v: Vector): DecodeOptions {
  const opts: DecodeOptions = {};
  if (v.request_hex) opts.request = hexToBytes(v.request_hex);
  else if (typeof v.context?.request_cid2 === 'string') {
    // Pylontech: the short form [CID2] or [CID2, INFO] of the request a reply answers.
    const info = v.context.request_info_hex;
    opts.request = hexToBytes(v.context.request_cid2 + (typeof info === 'string' ? info : ''));
  } else if (
    typeof v.context?.start_register === 'string' &&
    typeof v.context.function === 'number'
  ) {
    // Modbus: the request a reply answers, rebuilt from the context (unit = the reply's).
    const unit = hexToBytes(v.response_hex)[0] ?? 0;
    const count = v.context.register_count ?? v.context.coil_count;
    if (typeof count === 'number') {
      opts.request = encodeModbusRequest({
        unit,
        fn: v.context.function,
        start: parseInt(v.context.start_register, 16),
        count,
      });
    }
  }
  if (v.variant) opts.variant = v.variant;
  if (typeof v.context?.cell_count === 'number') opts.cells = v.context.cell_count;
  if (typeof v.context?.temp_sensor_count === 'number')
    opts.tempSensors = v.context.temp_sensor_count;
  return opts;
}

export async function loadDefinition(family: string): Promise<ProtocolDefinition> {
  const mod = (await import(`../${family}/index.ts`)) as { definition: ProtocolDefinition };
  return mod.definition;
}
