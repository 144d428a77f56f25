/**
 * The protection parameter blocks of the simulated PACE pack (pace.md section 6): a read
 * encodes the pack's catalog parameters with the family's field table; a write decodes the
 * block and hands the catalog values to the pack, which validates them like firmware does
 * (range, chemistry, the whole set) and refuses with RTN 09 (nothing stored).
 */
import { isBmsError } from '@openbms/core';
import {
  PARAM_BLOCKS,
  PARAM_KIND_SIZE,
  paramWire,
  putParam,
  readParam,
  type ParamBlock,
} from '@openbms/protocols/pace';
import { ByteReader } from '@openbms/protocols';
import type { CommandResult, SimPackApi } from '../../types.js';
import { stateOf } from './state.js';

/** Wire value of a catalog value: rounded to the field (a pack may hold finer values). */
function wire(block: ParamBlock, key: string, pack: SimPackApi): number {
  const field = block.fields.find((f) => f.key === key)!;
  if (field.kind === 'enable') return stateOf(pack).enables[block.name] === false ? 0 : 1;
  const v = pack.parameters()[field.param!];
  if (v === undefined) return 0;
  let raw = v / (field.paramScale ?? 1);
  if (field.kind === 'amp_neg') raw = -raw; // read back negative, as the captured pack does
  // Round to the field's resolution before the exact encoder.
  for (const step of [0.001, 0.01, 0.1, 1, 25]) {
    try {
      return paramWire(key, field.kind, Math.round(raw / step) * step);
    } catch {
      // try the next coarser resolution
    }
  }
  return 0;
}

/** The INFO of a parameter read reply. */
export function readBlock(block: ParamBlock, pack: SimPackApi): number[] {
  const out: number[] = [];
  for (const field of block.fields) putParam(out, field.kind, wire(block, field.key, pack));
  return out;
}

/** Applies a parameter write; the reason on a refusal. */
export function writeBlock(block: ParamBlock, info: Uint8Array, pack: SimPackApi): CommandResult {
  const r = new ByteReader(info);
  const changes: Record<string, number> = {};
  let enable: boolean | undefined;
  let o = 0;
  for (const field of block.fields) {
    if (o === info.length && field.optional) break;
    const size = PARAM_KIND_SIZE[field.kind];
    if (o + size > info.length) return { ok: false, reason: `${block.name}: INFO too short` };
    let v: number | boolean;
    try {
      v = readParam(r, o, field.kind);
    } catch (e) {
      if (isBmsError(e)) return { ok: false, reason: e.message };
      throw e;
    }
    o += size;
    if (typeof v === 'boolean') enable = v;
    else if (field.param) {
      const value = (field.kind === 'amp_neg' ? Math.abs(v) : v) * (field.paramScale ?? 1);
      changes[field.param] = Math.round(value * 1e6) / 1e6;
    }
  }
  if (o !== info.length)
    return { ok: false, reason: `${block.name}: INFO has ${info.length - o} extra bytes` };
  const held = pack.parameters();
  const changed = Object.fromEntries(
    Object.entries(changes).filter(
      ([id, v]) => held[id] === undefined || Math.abs(held[id]! - v) > 1e-9,
    ),
  );
  if (Object.keys(changed).length > 0) {
    const res = pack.writeParameters(changed);
    if (!res.ok) return res;
  }
  if (enable !== undefined) stateOf(pack).enables[block.name] = enable;
  return { ok: true };
}

export const BLOCK_BY_READ = new Map(PARAM_BLOCKS.map((b) => [b.read, b]));
export const BLOCK_BY_WRITE = new Map(PARAM_BLOCKS.map((b) => [b.write, b]));
