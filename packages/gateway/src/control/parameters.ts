/**
 * Parameter helpers of the one write path: the catalog definition with the chemistry's safe
 * limits applied (for the web table), the read-back tolerance, and seed 004's parameter
 * files (export format, structural check, validation and diff before any write).
 */
import {
  BmsError,
  CHEMISTRY_LIMITS,
  safeRange,
  parameter,
  writeProblems,
  type Chemistry,
  type PackContext,
  type ParameterDef,
  type Reading,
} from '@openbms/core';
import type { PackRef } from '../types.js';
import type { DiffIssue, ParameterDiff, ParameterFile, ParameterInfo } from './types.js';

/**
 * What the rules judge a pack by: its chemistry, the cell count and design capacity it
 * reports (or its config gives), and its C-rate ceilings from the config.
 */
export function packContextOf(ref: PackRef, snapshot: Reading | undefined): PackContext {
  const ctx: PackContext = { chemistry: ref.chemistry };
  const cells = snapshot?.cell_count;
  if (cells !== undefined && cells > 0) ctx.cellCount = cells;
  const design = ref.limits?.designAh ?? snapshot?.design_ah ?? snapshot?.full_ah;
  if (design !== undefined && design > 0) ctx.designAh = design;
  if (ref.limits?.maxChargeC !== undefined) ctx.maxChargeC = ref.limits.maxChargeC;
  if (ref.limits?.maxDischargeC !== undefined) ctx.maxDischargeC = ref.limits.maxDischargeC;
  return ctx;
}

export function parameterInfo(def: ParameterDef, pack: PackContext): ParameterInfo {
  const info: ParameterInfo = {
    id: def.id,
    label: def.label,
    unit: def.unit,
    min: def.min,
    max: def.max,
    step: def.step,
    group: def.group,
    kind: def.kind,
    ...(def.level !== undefined ? { level: def.level } : {}),
  };
  const range = safeRange(def, pack);
  if (range.safeMin !== undefined) info.safeMin = range.safeMin;
  if (range.safeMax !== undefined) info.safeMax = range.safeMax;
  return info;
}

/**
 * Two values of a parameter are the same when they differ by less than half its step: the
 * finest resolution any family writes it with. A family whose register is coarser than the
 * catalog step refuses values that do not fit it (it never rounds silently), so a read-back
 * that differs by more is a real mismatch.
 */
export function sameValue(id: string, a: number, b: number): boolean {
  const step = parameter(id)?.step ?? 0;
  return Math.abs(a - b) <= step / 2 + 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

const FILE_FORMAT = 'openbms-parameters';

export function parameterFile(
  pack: { id: string; name: string; protocol: string; chemistry: string },
  values: Record<string, number>,
  exportedAt: number,
): ParameterFile {
  return { format: FILE_FORMAT, version: 1, pack: { ...pack }, exported_at: exportedAt, values };
}

const invalidFile = (message: string, field: string): BmsError =>
  new BmsError('REQUEST_INVALID', `parameter file, ${field}: ${message}`, { field });

/** Checks the structure of an uploaded file; returns its values. Throws REQUEST_INVALID. */
export function readParameterFile(file: unknown): {
  values: Record<string, number>;
  pack?: { protocol?: unknown; chemistry?: unknown };
} {
  if (typeof file !== 'object' || file === null || Array.isArray(file)) {
    throw invalidFile('must be a JSON object', 'file');
  }
  const f = file as Record<string, unknown>;
  if (f['format'] !== FILE_FORMAT) {
    throw invalidFile(`"format" must be "${FILE_FORMAT}"`, 'file.format');
  }
  if (f['version'] !== 1) {
    throw invalidFile(
      `version ${JSON.stringify(f['version'])} is not supported (this gateway reads version 1)`,
      'file.version',
    );
  }
  const v = f['values'];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw invalidFile('"values" must be an object of parameter id -> number', 'file.values');
  }
  const values: Record<string, number> = {};
  for (const [id, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw invalidFile(`value of "${id}" must be a finite number`, `file.values.${id}`);
    }
    values[id] = x;
  }
  const pack = f['pack'];
  return typeof pack === 'object' && pack !== null
    ? { values, pack: pack as { protocol?: unknown; chemistry?: unknown } }
    : { values };
}

/**
 * Compares a file's values with the device's current ones and validates the change exactly
 * as a write would (range, step, chemistry, consistency with the merged set), collecting
 * every problem instead of stopping at the first.
 */
export function diffParameters(
  fileValues: Record<string, number>,
  current: Record<string, number>,
  writable: ReadonlySet<string>,
  pack: PackContext & { protocol: string },
  filePack?: { protocol?: unknown; chemistry?: unknown },
): ParameterDiff {
  const out: ParameterDiff = {
    valid: true,
    errors: [],
    warnings: [],
    changed: [],
    unchanged: [],
    unknown: [],
  };
  if (filePack?.protocol !== undefined && filePack.protocol !== pack.protocol) {
    out.warnings.push(
      `the file was exported from a ${String(filePack.protocol)} pack; this pack speaks ${pack.protocol}`,
    );
  }
  if (filePack?.chemistry !== undefined && filePack.chemistry !== pack.chemistry) {
    out.warnings.push(
      `the file was exported from a ${String(filePack.chemistry)} pack; this pack is ${CHEMISTRY_LIMITS[pack.chemistry as Chemistry].label}: its limits apply`,
    );
  }
  const changes: Record<string, number> = {};
  for (const [id, value] of Object.entries(fileValues)) {
    if (!parameter(id)) {
      out.unknown.push({ id, reason: 'not a parameter of the catalog' });
      continue;
    }
    // Read-only values the file holds (an export has them all) are fine while they match.
    const cur = current[id];
    if (cur !== undefined && sameValue(id, cur, value)) {
      out.unchanged.push(id);
      continue;
    }
    if (!writable.has(id)) {
      out.unknown.push({ id, reason: `${pack.protocol} cannot write it` });
      continue;
    }
    out.changed.push({ id, current: cur, file: value });
    changes[id] = value;
  }
  const errors: DiffIssue[] = writeProblems(changes, current, pack).map((p) => ({
    ids: p.ids,
    code: p.code,
    message: p.message,
  }));
  out.errors = errors;
  out.valid = errors.length === 0;
  return out;
}
