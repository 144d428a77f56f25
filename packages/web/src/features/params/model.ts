/**
 * The parameter table's logic, free of React: the API shapes, the rows (writable parameters
 * from the capabilities plus read-only values the device reports), and the browser-side
 * validation with the same core rules the server applies (range, step, chemistry safe
 * limits, consistency of the merged set), broken down per row so every problem shows where
 * it is.
 */
import {
  PARAMETERS,
  changeIssues,
  designCapacity,
  isBmsError,
  needsCellCount,
  parameter,
  validateParameterValue,
  type Chemistry,
  type ConsistencyIssue,
  type PackContext,
  type ParameterGroup,
} from '@openbms/core';
import type { Capabilities, ParamInfo } from '@openbms/contract/api';

// The API's shapes of the parameter and command routes (from the contract's JSON schemas).
export type {
  Capabilities,
  CommandOutcome,
  CommandView,
  ParamDiff,
  ParamFile,
  ParamInfo,
  ParamResult,
  WriteResult,
} from '@openbms/contract/api';
export { parseInput } from '../../ui/input';

export const GROUPS: readonly ParameterGroup[] = ['voltage', 'temperature', 'current', 'function'];

export interface Row {
  id: string;
  info: ParamInfo;
  /** The family can write it (it is in the capabilities). */
  writable: boolean;
}

const ORDER = new Map(PARAMETERS.map((p, i) => [p.id, i]));

/** Info for a value the device reports but the family cannot write (from the core catalog). */
function readOnlyInfo(id: string): ParamInfo | undefined {
  const def = parameter(id);
  if (!def) return undefined;
  return {
    id,
    label: def.label,
    unit: def.unit,
    min: def.min,
    max: def.max,
    step: def.step,
    group: def.group,
    kind: def.kind,
    ...(def.level !== undefined ? { level: def.level } : {}),
  };
}

/** Every row of the table: writable parameters, then read-only values the device reported. */
export function buildRows(caps: Capabilities, values: Record<string, number> | undefined): Row[] {
  const rows: Row[] = caps.parameters.map((info) => ({ id: info.id, info, writable: true }));
  const seen = new Set(rows.map((r) => r.id));
  for (const id of Object.keys(values ?? {})) {
    if (seen.has(id)) continue;
    const info = readOnlyInfo(id);
    if (info) rows.push({ id, info, writable: false });
  }
  return rows.sort((a, b) => (ORDER.get(a.id) ?? 1e9) - (ORDER.get(b.id) ?? 1e9));
}

/** Decimals a value of this step shows (0.01 -> 2). */
export function decimalsOf(step: number): number {
  if (!(step > 0) || step >= 1) return 0;
  return Math.min(6, Math.max(0, Math.round(-Math.log10(step))));
}

/** Two values of a parameter are the same within half its step (as the server compares). */
export function sameValue(step: number, a: number, b: number): boolean {
  return Math.abs(a - b) <= step / 2 + 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** One problem of one row, localised by the component. */
export type Issue =
  | { kind: 'nan' }
  | { kind: 'range'; min: number; max: number }
  | { kind: 'step'; step: number }
  | { kind: 'unsafe'; limit: number; chemistry: string; high: boolean }
  | { kind: 'cells' }
  | { kind: 'capacity' }
  | {
      kind: 'relation';
      /** The other parameter of the rule and its value in the merged set. */
      other: string;
      value: number;
      /** below / above: strictly; notBelow / notAbove: or equal. */
      must: Must;
    }
  | { kind: 'cRate'; must: Must; c: number; capacityAh: number; value: number }
  | { kind: 'cellsTimes'; must: Must; cells: number; other: string; value: number }
  | { kind: 'server'; message: string };

type Must = 'below' | 'above' | 'notBelow' | 'notAbove';

/**
 * What the browser judges a pack by: the chemistry, and the cell count, design capacity and
 * C-rate ceilings the server's capabilities give (the snapshot's cell count before they load).
 */
export function packContext(
  chemistry: string,
  limits: Capabilities['limits'] | undefined,
  snapshotCells?: number,
): PackContext {
  const ctx: PackContext = { chemistry: (chemistry === 'nmc' ? 'nmc' : 'lfp') as Chemistry };
  const cells = limits?.cell_count ?? snapshotCells;
  if (cells !== undefined) ctx.cellCount = cells;
  if (limits?.design_ah !== undefined) ctx.designAh = limits.design_ah;
  if (limits) {
    ctx.maxChargeC = limits.max_charge_c;
    ctx.maxDischargeC = limits.max_discharge_c;
  }
  return ctx;
}

/** A rule broken over the merged set, as the issue of one of its rows. */
function ruleIssue(c: ConsistencyIssue, row: string): Issue | undefined {
  const strict = c.strict;
  if (row === c.lower.id) {
    const must: Must = strict ? 'below' : 'notAbove';
    const lim = c.upper.limit;
    if (lim?.kind === 'c_rate') {
      return { kind: 'cRate', must, c: lim.c, capacityAh: lim.capacityAh, value: c.upper.value };
    }
    if (lim?.kind === 'cells_times') {
      return { kind: 'cellsTimes', must, cells: lim.cells, other: lim.id, value: c.upper.value };
    }
    return c.upper.id !== undefined
      ? { kind: 'relation', other: c.upper.id, value: c.upper.value, must }
      : undefined;
  }
  if (row === c.upper.id && c.lower.id !== undefined) {
    return {
      kind: 'relation',
      other: c.lower.id,
      value: c.lower.value,
      must: strict ? 'above' : 'notBelow',
    };
  }
  // A parameter behind a computed limit (the cell over-voltage behind "cells x OV"): it
  // must stay above the lower side, per cell.
  const lim = c.upper.limit;
  if (lim?.kind === 'cells_times' && lim.id === row && c.lower.id !== undefined) {
    return {
      kind: 'relation',
      other: c.lower.id,
      value: Math.round((c.lower.value * 1000 * 1000) / lim.cells) / 1000,
      must: strict ? 'above' : 'notBelow',
    };
  }
  return undefined;
}

function valueIssue(id: string, v: number, ctx: PackContext): Issue | undefined {
  if (Number.isNaN(v)) return { kind: 'nan' };
  const def = parameter(id);
  if (def?.bound && needsCellCount(def.bound) && ctx.cellCount === undefined)
    return { kind: 'cells' };
  try {
    validateParameterValue(id, v, ctx);
    return undefined;
  } catch (e) {
    if (!isBmsError(e)) throw e;
    const d = e.details ?? {};
    switch (e.code) {
      case 'PARAM_OUT_OF_RANGE':
        return typeof d['min'] === 'number' && typeof d['max'] === 'number'
          ? { kind: 'range', min: d['min'], max: d['max'] }
          : { kind: 'nan' };
      case 'PARAM_STEP':
        return { kind: 'step', step: Number(d['step']) };
      case 'PARAM_UNSAFE_FOR_CHEMISTRY':
        return {
          kind: 'unsafe',
          limit: Math.round(Number(d['limit']) * 1000) / 1000,
          chemistry: String(d['chemistry'] ?? ctx.chemistry),
          high: def?.bound?.endsWith('_high') ?? true,
        };
      default:
        return { kind: 'server', message: e.message };
    }
  }
}

/**
 * Validates a set of changes against the device's current values, per row: each value on
 * its own first, then the consistency rules over the merged set (a rule that involves a
 * changed value marks every changed row of it, naming the other parameter).
 */
export function validateChanges(
  changes: Record<string, number>,
  current: Record<string, number>,
  ctx: PackContext,
): Map<string, Issue[]> {
  const out = new Map<string, Issue[]>();
  const add = (id: string, i: Issue) => out.set(id, [...(out.get(id) ?? []), i]);
  const good: Record<string, number> = {};
  for (const [id, v] of Object.entries(changes)) {
    const issue = valueIssue(id, v, ctx);
    if (issue) add(id, issue);
    else good[id] = v;
  }
  const merged = { ...current, ...good };
  for (const id of Object.keys(good)) {
    const def = parameter(id);
    if (def?.currentSide && designCapacity(merged, ctx) === undefined)
      add(id, { kind: 'capacity' });
  }
  for (const c of changeIssues(good, current, ctx)) {
    for (const id of c.ids) {
      if (!(id in good)) continue;
      const issue = ruleIssue(c, id);
      if (issue) add(id, issue);
    }
  }
  return out;
}

/**
 * Finds the row a server validation message is about: core messages start with the
 * parameter's English label ("Cell over-voltage level 2: ..."); the longest match wins.
 */
export function rowOfMessage(message: string, rows: readonly Row[]): string | undefined {
  let best: Row | undefined;
  for (const r of rows) {
    if (message.startsWith(`${r.info.label}:`)) {
      if (!best || r.info.label.length > best.info.label.length) best = r;
    }
  }
  return best?.id;
}

/** The export's file name, as the server names it. */
export const exportFileName = (packId: string): string =>
  `${packId.replace(/[^A-Za-z0-9_.-]+/g, '-')}-parameters.json`;
