/**
 * Rules over a whole parameter set: what the pack will hold after a write (its current values
 * merged with the changes) must be safe as a whole, not only value by value. Every rule is a
 * relation `lower < upper` (or `<=`) between two parameters, or between a parameter and a
 * limit computed from the pack (cell count, design capacity, chemistry):
 *
 * - recovery_side: a protection releases on the safe side of its threshold;
 * - level_order: a higher level is at least as extreme as a lower one;
 * - opposite_sides: protection < recovery < opposite recovery < opposite protection, for
 *   cell and pack voltages and for the charge, discharge and ambient temperatures (an
 *   under-voltage that releases above the over-voltage recovery would make the pair fight);
 * - balance_below_ov: balancing starts below the cell over-voltage protection;
 * - charge_voltage_below_ov: the charge voltage asked of the inverter, and the voltage the
 *   pack counts as full at, stay below the pack over-voltage protection and below cells x
 *   the cell over-voltage protection;
 * - c_rate: over-current thresholds and current limits stay within a C-rate of the design
 *   capacity (1 C charge, 2 C discharge unless the pack's config says otherwise).
 *
 * `writeOrder` then finds an order of single-parameter writes in which no intermediate set
 * breaks a rule the pack did not already break, so a failure half-way leaves a safe pack.
 */
import { BmsError, type ErrorCode } from './errors.js';
import {
  DEFAULT_MAX_CHARGE_C,
  DEFAULT_MAX_DISCHARGE_C,
  PARAMETERS,
  PROTECTION_GROUPS,
  parameter,
  round3,
  validateParameterValue,
  type PackContext,
  type ProtectionGroup,
} from './parameters.js';

export type ConsistencyRule =
  | 'recovery_side'
  | 'level_order'
  | 'opposite_sides'
  | 'balance_below_ov'
  | 'charge_voltage_below_ov'
  | 'c_rate';

/** One side of a broken relation: a parameter (id) or a limit computed from the pack. */
export interface RuleOperand {
  id?: string;
  value: number;
  /** In words, with the value and unit: "Cell over-voltage level 1 (3550 mV)". */
  label: string;
  /** A computed limit, for a UI to word it in its own language. */
  limit?:
    | { kind: 'c_rate'; c: number; capacityAh: number }
    | { kind: 'cells_times'; cells: number; id: string; perCell: number };
}

export interface ConsistencyIssue {
  rule: ConsistencyRule;
  /** The parameter ids the rule relates (one for a rule against a computed limit). */
  ids: string[];
  /** `lower` must be below `upper` (strict) or not above it. */
  lower: RuleOperand;
  upper: RuleOperand;
  strict: boolean;
  message: string;
}

const WHY: Record<ConsistencyRule, string> = {
  recovery_side: 'a protection releases on the safe side of its threshold',
  level_order: 'a higher level is at least as extreme as a lower one',
  opposite_sides: 'protection < recovery < opposite recovery < opposite protection',
  balance_below_ov: 'balancing starts below the cell over-voltage protection',
  charge_voltage_below_ov:
    'a charge (to the inverter limit or to full) stays below the over-voltage protection',
  c_rate: 'currents stay within a C-rate of the design capacity',
};

function operand(id: string, value: number): RuleOperand {
  const def = parameter(id);
  return { id, value, label: `${def?.label ?? id} (${round3(value)} ${def?.unit ?? ''})`.trim() };
}

const fmt = (o: RuleOperand): string => o.label;

function relation(
  rule: ConsistencyRule,
  lower: RuleOperand,
  upper: RuleOperand,
  strict: boolean,
  /** Parameters behind a computed operand (cells x cell_ov_l1_mv relates cell_ov_l1_mv). */
  also: string[] = [],
): ConsistencyIssue | undefined {
  const ok = strict ? lower.value < upper.value : lower.value <= upper.value;
  if (ok) return undefined;
  const ids = [lower.id, upper.id, ...also].filter((x): x is string => x !== undefined);
  const issue = { rule, ids, lower, upper, strict, message: '' };
  issue.message = say(issue, lower.id !== undefined ? 'lower' : 'upper');
  return issue;
}

/** The issue in words, from one side: "X must be below Y" or "Y must be above X". */
function say(i: Omit<ConsistencyIssue, 'message'>, from: 'lower' | 'upper'): string {
  return from === 'lower'
    ? `${fmt(i.lower)} must be ${i.strict ? 'below' : 'at most'} ${fmt(i.upper)}: ${WHY[i.rule]}`
    : `${fmt(i.upper)} must be ${i.strict ? 'above' : 'at least'} ${fmt(i.lower)}: ${WHY[i.rule]}`;
}

type Values = Readonly<Record<string, number>>;

function present(values: Values, id: string | undefined): id is string {
  return id !== undefined && values[id] !== undefined;
}

/** The side values of a protection: thresholds and recoveries present in the set. */
function sideIds(g: ProtectionGroup, values: Values): string[] {
  return g.levels
    .flatMap((l) => [l.threshold, l.recovery])
    .filter((id): id is string => present(values, id));
}

/** Protections whose low and high sides must not overlap (the high side second). */
const OPPOSITES: readonly (readonly [string, string])[] = [
  ['cell_uv', 'cell_ov'],
  ['pack_uv', 'pack_ov'],
  ['chg_ut', 'chg_ot'],
  ['dsg_ut', 'dsg_ot'],
  ['env_ut', 'env_ot'],
];

const GROUP = new Map(PROTECTION_GROUPS.map((g) => [g.key, g]));

function protectionRules(values: Values, out: ConsistencyIssue[]): void {
  const push = (i: ConsistencyIssue | undefined): void => void (i && out.push(i));
  for (const g of PROTECTION_GROUPS) {
    let prev: { id: string; level: number } | undefined;
    for (const l of g.levels) {
      const t = values[l.threshold];
      if (t === undefined) continue;
      if (present(values, l.recovery)) {
        const r = values[l.recovery]!;
        push(
          g.direction === 'high'
            ? relation('recovery_side', operand(l.recovery, r), operand(l.threshold, t), true)
            : relation('recovery_side', operand(l.threshold, t), operand(l.recovery, r), true),
        );
      }
      if (prev) {
        const p = operand(prev.id, values[prev.id]!);
        const c = operand(l.threshold, t);
        push(
          g.direction === 'high'
            ? relation('level_order', p, c, false)
            : relation('level_order', c, p, false),
        );
      }
      prev = { id: l.threshold, level: l.level };
    }
  }
  for (const [lowKey, highKey] of OPPOSITES) {
    const low = sideIds(GROUP.get(lowKey)!, values);
    const high = sideIds(GROUP.get(highKey)!, values);
    for (const a of low) {
      for (const b of high) {
        push(relation('opposite_sides', operand(a, values[a]!), operand(b, values[b]!), true));
      }
    }
  }
}

const CELL_OV = GROUP.get('cell_ov')!.levels.map((l) => l.threshold);
/** Pack voltages a charge is taken to: both stay below the over-voltage protections. */
const CHARGE_VOLTAGES = ['charge_voltage_limit_v', 'full_charge_v'] as const;
const PACK_OV = GROUP.get('pack_ov')!.levels.map((l) => l.threshold);

function functionRules(values: Values, pack: PackContext | undefined, out: ConsistencyIssue[]) {
  const push = (i: ConsistencyIssue | undefined): void => void (i && out.push(i));
  const balance = values['balance_start_mv'];
  if (balance !== undefined) {
    for (const ov of CELL_OV.filter((id) => present(values, id))) {
      push(
        relation(
          'balance_below_ov',
          operand('balance_start_mv', balance),
          operand(ov, values[ov]!),
          true,
        ),
      );
    }
  }
  for (const id of CHARGE_VOLTAGES) {
    const cv = values[id];
    if (cv === undefined) continue;
    const lower = operand(id, cv);
    for (const ov of PACK_OV.filter((id) => present(values, id))) {
      push(relation('charge_voltage_below_ov', lower, operand(ov, values[ov]!), true));
    }
    const cells = pack?.cellCount;
    if (cells) {
      for (const ov of CELL_OV.filter((id) => present(values, id))) {
        const v = (values[ov]! * cells) / 1000;
        push(
          relation(
            'charge_voltage_below_ov',
            lower,
            {
              value: v,
              label: `${cells} cells x ${operand(ov, values[ov]!).label} = ${round3(v)} V`,
            },
            true,
            [ov],
          ),
        );
      }
    }
  }
  const capacity = designCapacity(values, pack);
  if (capacity !== undefined && pack) {
    for (const def of PARAMETERS) {
      if (!def.currentSide || values[def.id] === undefined) continue;
      const c = cRate(def.currentSide, pack);
      const limit = round3(c * capacity);
      push(
        relation(
          'c_rate',
          operand(def.id, values[def.id]!),
          {
            value: limit,
            label: `${c} C of the ${round3(capacity)} Ah design capacity (${limit} A)`,
            limit: { kind: 'c_rate', c, capacityAh: round3(capacity) },
          },
          false,
        ),
      );
    }
  }
}

/** The design capacity a set is judged by: the set's own parameter, else the pack's. */
export function designCapacity(values: Values, pack: PackContext | undefined): number | undefined {
  const v = values['design_capacity_ah'];
  if (v !== undefined && v > 0) return v;
  return pack?.designAh !== undefined && pack.designAh > 0 ? pack.designAh : undefined;
}

/** The C-rate ceiling of one side for a pack. */
export function cRate(side: 'charge' | 'discharge', pack: PackContext): number {
  return side === 'charge'
    ? (pack.maxChargeC ?? DEFAULT_MAX_CHARGE_C)
    : (pack.maxDischargeC ?? DEFAULT_MAX_DISCHARGE_C);
}

/**
 * Every rule the set breaks. Rules against the pack's cell count or design capacity apply
 * only when `pack` gives them (or the set holds the design capacity).
 */
export function checkConsistency(values: Values, pack?: PackContext): ConsistencyIssue[] {
  const out: ConsistencyIssue[] = [];
  protectionRules(values, out);
  functionRules(values, pack, out);
  return out;
}

/** A rule broken between the same parameters, whatever their values. */
const issueKey = (i: ConsistencyIssue): string => `${i.rule}:${i.ids.join(',')}`;

/** The rules a merged set breaks that involve a changed value. */
export function changeIssues(
  changes: Values,
  current: Values,
  pack: PackContext,
): ConsistencyIssue[] {
  return checkConsistency({ ...current, ...changes }, pack)
    .filter((i) => i.ids.some((id) => id in changes))
    .map((i) =>
      // Said from the side that changed, when only the upper one did.
      i.upper.id !== undefined &&
      i.upper.id in changes &&
      !(i.lower.id !== undefined && i.lower.id in changes)
        ? { ...i, message: say(i, 'upper') }
        : i,
    );
}

/** One reason a write is refused (a value on its own, or a rule over the set). */
export interface WriteProblem {
  ids: string[];
  code: ErrorCode;
  message: string;
  rule?: ConsistencyRule;
}

/**
 * Every reason to refuse a write of several values against a device's current set: each
 * value (range, step, chemistry, a limit that cannot be checked), then every rule over the
 * set the pack would hold. Empty when the write may go.
 */
export function writeProblems(changes: Values, current: Values, pack: PackContext): WriteProblem[] {
  const out: WriteProblem[] = [];
  const merged = { ...current, ...changes };
  for (const [id, v] of Object.entries(changes)) {
    try {
      validateParameterValue(id, v, pack);
    } catch (e) {
      if (!(e instanceof BmsError)) throw e;
      out.push({ ids: [id], code: e.code, message: e.message });
      continue;
    }
    const def = parameter(id)!;
    if (def.currentSide && designCapacity(merged, pack) === undefined) {
      out.push({
        ids: [id],
        code: 'PARAM_UNSAFE_FOR_CHEMISTRY',
        message: `${def.label}: the pack's design capacity is not known, so the ${def.currentSide} C-rate limit cannot be checked (set design_ah for this pack in the config)`,
      });
    }
  }
  if (out.length > 0) return out;
  for (const i of changeIssues(changes, current, pack)) {
    out.push({ ids: i.ids, code: 'PARAM_INCONSISTENT', message: i.message, rule: i.rule });
  }
  return out;
}

/**
 * Validates a write of several values against a device's current set (`writeProblems`).
 * Throws one BmsError naming every problem; nothing may be sent when it throws.
 */
export function validateParameterWrite(changes: Values, current: Values, pack: PackContext): void {
  const problems = writeProblems(changes, current, pack);
  const first = problems[0];
  if (!first) return;
  throw new BmsError(first.code, problems.map((p) => p.message).join('; '), {
    ids: [...new Set(problems.flatMap((p) => p.ids))],
    ...(problems.length === 1 && first.ids.length === 1 ? { id: first.ids[0] } : {}),
    issues: problems.map(({ ids, code, message, rule }) => ({
      ids,
      code,
      message,
      ...(rule ? { rule } : {}),
    })),
  });
}

/** How many partial orders `writeOrder` may try before it gives up. */
const ORDER_SEARCH_LIMIT = 20_000;

/**
 * An order of the changed ids such that every intermediate set (current + the first k
 * changes) breaks no rule the current set did not already break; undefined when there is
 * none (or the search gives up). Tries the request order first, so the usual case costs one
 * pass; a depth-first search with memo of dead ends handles the rest.
 */
export function writeOrder(
  changes: Values,
  current: Values,
  pack: PackContext,
): string[] | undefined {
  const ids = Object.keys(changes);
  const before = new Set(checkConsistency(current, pack).map(issueKey));
  const safe = (state: Values): boolean =>
    checkConsistency(state, pack).every((i) => before.has(issueKey(i)));
  const dead = new Set<string>();
  let tries = 0;
  const search = (done: string[], state: Record<string, number>): string[] | undefined => {
    if (done.length === ids.length) return done;
    const key = [...done].sort().join('\n');
    if (dead.has(key)) return undefined;
    for (const id of ids) {
      if (done.includes(id)) continue;
      if (++tries > ORDER_SEARCH_LIMIT) return undefined;
      const next = { ...state, [id]: changes[id]! };
      if (!safe(next)) continue;
      const found = search([...done, id], next);
      if (found) return found;
    }
    dead.add(key);
    return undefined;
  };
  return search([], { ...current });
}
