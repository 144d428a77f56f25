/**
 * BMS protection and function parameters, as data (unit, range, step, group, level, kind),
 * with the chemistry safe limits every write is checked against. The table follows the
 * parameter screens of seeds 002 (levels 1-3 with return differences), 003 (voltage,
 * temperature and 3-level over-current groups with recovery delays) and 004 (alarm and
 * protection thresholds with recoveries, balance start voltage and difference).
 *
 * Ids: `<protection>_l<level>_<role>` where role is the threshold (unit suffix only),
 * `recover` (the value at which the protection releases) or `delay`.
 */
import type { Alarm } from './alarms.js';
import { BmsError } from './errors.js';

export type ParameterGroup = 'voltage' | 'temperature' | 'current' | 'function';
export type ParameterKind =
  'threshold' | 'recovery' | 'delay' | 'recovery_delay' | 'setting' | 'switch';
export type Chemistry = 'lfp' | 'nmc';

/** Which chemistry bound a value is held to. */
export type SafeBound =
  | 'cell_mv_high'
  | 'cell_mv_low'
  | 'pack_v_high'
  | 'pack_v_low'
  | 'charge_temp_high'
  | 'charge_temp_low'
  | 'discharge_temp_high'
  | 'discharge_temp_low';

export interface ParameterDef {
  id: string;
  label: string;
  group: ParameterGroup;
  kind: ParameterKind;
  unit: string;
  min: number;
  max: number;
  step: number;
  level?: 1 | 2 | 3;
  /** The alarm this threshold raises (taxonomy code). */
  protects?: Alarm['code'];
  /** The direction of the protection: 'high' trips above the threshold, 'low' below. */
  direction?: 'high' | 'low';
  /** Chemistry bound the value must respect. */
  bound?: SafeBound;
}

export interface ChemistryLimits {
  label: string;
  nominal_cell_mv: number;
  /** No threshold may let a cell go above / below these. */
  cell_mv_high: number;
  cell_mv_low: number;
  charge_temp_high: number;
  charge_temp_low: number;
  discharge_temp_high: number;
  discharge_temp_low: number;
}

/**
 * Safe outer limits per chemistry. A parameter write outside them is refused whatever the
 * parameter's own range allows. Sources: cell makers' datasheets (LiFePO4 3.65 V charge,
 * 2.5 V discharge cut-off; NMC 4.2 V, 2.75 V) with the margins the seeds' own defaults
 * use (seed 003's ternary pack protects at 4250 mV / 2750 mV; its charge under-temperature
 * protection sits at -5 °C).
 */
export const CHEMISTRY_LIMITS: Record<Chemistry, ChemistryLimits> = {
  lfp: {
    label: 'LiFePO4',
    nominal_cell_mv: 3200,
    cell_mv_high: 3750,
    cell_mv_low: 2000,
    charge_temp_high: 60,
    charge_temp_low: -5,
    discharge_temp_high: 75,
    discharge_temp_low: -30,
  },
  nmc: {
    label: 'NMC (ternary)',
    nominal_cell_mv: 3700,
    cell_mv_high: 4250,
    cell_mv_low: 2500,
    charge_temp_high: 55,
    charge_temp_low: -5,
    discharge_temp_high: 75,
    discharge_temp_low: -30,
  },
};

interface ProtectionSpec {
  key: string;
  label: string;
  group: ParameterGroup;
  unit: string;
  min: number;
  max: number;
  step: number;
  direction: 'high' | 'low';
  protects: string;
  bound?: SafeBound;
  /** Over-current protections release after a delay rather than at a value. */
  recoveryDelay?: boolean;
}

const PROTECTIONS: ProtectionSpec[] = [
  {
    key: 'cell_ov',
    label: 'Cell over-voltage',
    group: 'voltage',
    unit: 'mV',
    min: 2000,
    max: 4500,
    step: 1,
    direction: 'high',
    protects: 'cell_ov',
    bound: 'cell_mv_high',
  },
  {
    key: 'cell_uv',
    label: 'Cell under-voltage',
    group: 'voltage',
    unit: 'mV',
    min: 1500,
    max: 4000,
    step: 1,
    direction: 'low',
    protects: 'cell_uv',
    bound: 'cell_mv_low',
  },
  {
    key: 'pack_ov',
    label: 'Pack over-voltage',
    group: 'voltage',
    unit: 'V',
    min: 5,
    max: 150,
    step: 0.01,
    direction: 'high',
    protects: 'pack_ov',
    bound: 'pack_v_high',
  },
  {
    key: 'pack_uv',
    label: 'Pack under-voltage',
    group: 'voltage',
    unit: 'V',
    min: 5,
    max: 150,
    step: 0.01,
    direction: 'low',
    protects: 'pack_uv',
    bound: 'pack_v_low',
  },
  {
    key: 'cell_diff',
    label: 'Cell voltage difference',
    group: 'voltage',
    unit: 'mV',
    min: 5,
    max: 1500,
    step: 1,
    direction: 'high',
    protects: 'cell_diff',
  },
  {
    key: 'chg_oc',
    label: 'Charge over-current',
    group: 'current',
    unit: 'A',
    min: 1,
    max: 1000,
    step: 0.1,
    direction: 'high',
    protects: 'chg_oc',
    recoveryDelay: true,
  },
  {
    key: 'dsg_oc',
    label: 'Discharge over-current',
    group: 'current',
    unit: 'A',
    min: 1,
    max: 2000,
    step: 0.1,
    direction: 'high',
    protects: 'dsg_oc',
    recoveryDelay: true,
  },
  {
    key: 'chg_ot',
    label: 'Charge over-temperature',
    group: 'temperature',
    unit: '°C',
    min: 0,
    max: 100,
    step: 1,
    direction: 'high',
    protects: 'chg_ot',
    bound: 'charge_temp_high',
  },
  {
    key: 'chg_ut',
    label: 'Charge under-temperature',
    group: 'temperature',
    unit: '°C',
    min: -40,
    max: 30,
    step: 1,
    direction: 'low',
    protects: 'chg_ut',
    bound: 'charge_temp_low',
  },
  {
    key: 'dsg_ot',
    label: 'Discharge over-temperature',
    group: 'temperature',
    unit: '°C',
    min: 0,
    max: 100,
    step: 1,
    direction: 'high',
    protects: 'dsg_ot',
    bound: 'discharge_temp_high',
  },
  {
    key: 'dsg_ut',
    label: 'Discharge under-temperature',
    group: 'temperature',
    unit: '°C',
    min: -40,
    max: 30,
    step: 1,
    direction: 'low',
    protects: 'dsg_ut',
    bound: 'discharge_temp_low',
  },
  {
    key: 'mos_ot',
    label: 'MOSFET over-temperature',
    group: 'temperature',
    unit: '°C',
    min: 30,
    max: 120,
    step: 1,
    direction: 'high',
    protects: 'mos_ot',
  },
  {
    key: 'env_ot',
    label: 'Ambient over-temperature',
    group: 'temperature',
    unit: '°C',
    min: 0,
    max: 100,
    step: 1,
    direction: 'high',
    protects: 'env_ot',
  },
  {
    key: 'env_ut',
    label: 'Ambient under-temperature',
    group: 'temperature',
    unit: '°C',
    min: -40,
    max: 30,
    step: 1,
    direction: 'low',
    protects: 'env_ut',
  },
];

function protectionParams(p: ProtectionSpec): ParameterDef[] {
  const out: ParameterDef[] = [];
  const suffix = p.unit === 'mV' ? '_mv' : p.unit === 'V' ? '_v' : p.unit === 'A' ? '_a' : '_c';
  for (const level of [1, 2, 3] as const) {
    const base = `${p.key}_l${level}`;
    const name = `${p.label} level ${level}`;
    const common = { group: p.group, level, protects: p.protects, direction: p.direction };
    const bound = p.bound ? { bound: p.bound } : {};
    out.push({
      id: `${base}${suffix}`,
      label: name,
      kind: 'threshold',
      unit: p.unit,
      min: p.min,
      max: p.max,
      step: p.step,
      ...common,
      ...bound,
    });
    if (p.recoveryDelay) {
      out.push({
        id: `${base}_recover_delay_s`,
        label: `${name} recovery delay`,
        kind: 'recovery_delay',
        unit: 's',
        min: 0,
        max: 600,
        step: 1,
        ...common,
      });
    } else {
      out.push({
        id: `${base}_recover${suffix}`,
        label: `${name} recovery`,
        kind: 'recovery',
        unit: p.unit,
        min: p.min,
        max: p.max,
        step: p.step,
        ...common,
        ...bound,
      });
    }
    out.push({
      id: `${base}_delay_s`,
      label: `${name} delay`,
      kind: 'delay',
      unit: 's',
      min: 0,
      max: 120,
      step: 0.1,
      ...common,
    });
  }
  return out;
}

const FUNCTION_PARAMS: ParameterDef[] = [
  {
    id: 'short_circuit_a',
    label: 'Short-circuit protection current',
    group: 'current',
    kind: 'threshold',
    unit: 'A',
    min: 10,
    max: 5000,
    step: 1,
    protects: 'short_circuit',
    direction: 'high',
  },
  {
    id: 'short_circuit_delay_us',
    label: 'Short-circuit protection delay',
    group: 'current',
    kind: 'delay',
    unit: 'µs',
    min: 0,
    max: 2000,
    step: 1,
    protects: 'short_circuit',
  },
  {
    id: 'balance_start_mv',
    label: 'Balance starting voltage',
    group: 'function',
    kind: 'setting',
    unit: 'mV',
    min: 2000,
    max: 4500,
    step: 1,
    bound: 'cell_mv_high',
  },
  {
    id: 'balance_delta_mv',
    label: 'Balance starting voltage difference',
    group: 'function',
    kind: 'setting',
    unit: 'mV',
    min: 1,
    max: 1000,
    step: 1,
  },
  {
    id: 'balance_current_a',
    label: 'Maximum balancing current',
    group: 'function',
    kind: 'setting',
    unit: 'A',
    min: 0,
    max: 10,
    step: 0.1,
  },
  {
    id: 'balance_enabled',
    label: 'Balancing enabled',
    group: 'function',
    kind: 'switch',
    unit: '',
    min: 0,
    max: 1,
    step: 1,
  },
  {
    id: 'charge_enabled',
    label: 'Charge MOSFET enabled',
    group: 'function',
    kind: 'switch',
    unit: '',
    min: 0,
    max: 1,
    step: 1,
  },
  {
    id: 'discharge_enabled',
    label: 'Discharge MOSFET enabled',
    group: 'function',
    kind: 'switch',
    unit: '',
    min: 0,
    max: 1,
    step: 1,
  },
  {
    id: 'heater_enabled',
    label: 'Heating enabled',
    group: 'function',
    kind: 'switch',
    unit: '',
    min: 0,
    max: 1,
    step: 1,
  },
  {
    id: 'design_capacity_ah',
    label: 'Design capacity',
    group: 'function',
    kind: 'setting',
    unit: 'Ah',
    min: 1,
    max: 2000,
    step: 0.001,
  },
  {
    id: 'cell_count',
    label: 'Number of cells in series',
    group: 'function',
    kind: 'setting',
    unit: '',
    min: 1,
    max: 48,
    step: 1,
  },
  {
    id: 'soc_low_alarm_pct',
    label: 'Low SOC alarm',
    group: 'function',
    kind: 'threshold',
    unit: '%',
    min: 0,
    max: 100,
    step: 1,
    protects: 'soc_low',
    direction: 'low',
  },
  {
    id: 'charge_voltage_limit_v',
    label: 'Charge voltage limit requested from the inverter',
    group: 'voltage',
    kind: 'setting',
    unit: 'V',
    min: 5,
    max: 150,
    step: 0.01,
    bound: 'pack_v_high',
  },
  {
    id: 'charge_current_limit_a',
    label: 'Charge current limit requested from the inverter',
    group: 'current',
    kind: 'setting',
    unit: 'A',
    min: 0,
    max: 1000,
    step: 0.1,
  },
  {
    id: 'discharge_current_limit_a',
    label: 'Discharge current limit requested from the inverter',
    group: 'current',
    kind: 'setting',
    unit: 'A',
    min: 0,
    max: 2000,
    step: 0.1,
  },
  {
    id: 'sleep_delay_s',
    label: 'Sleep after idle',
    group: 'function',
    kind: 'setting',
    unit: 's',
    min: 0,
    max: 86400,
    step: 1,
  },
];

export const PARAMETERS: readonly ParameterDef[] = [
  ...PROTECTIONS.flatMap(protectionParams),
  ...FUNCTION_PARAMS,
];

const BY_ID = new Map(PARAMETERS.map((p) => [p.id, p]));

export function parameter(id: string): ParameterDef | undefined {
  return BY_ID.get(id);
}

export function requireParameter(id: string): ParameterDef {
  const p = BY_ID.get(id);
  if (!p) throw new BmsError('PARAM_UNKNOWN', `unknown parameter "${id}"`);
  return p;
}

export interface PackContext {
  chemistry: Chemistry;
  /** Needed to hold pack-voltage parameters to the chemistry's per-cell limits. */
  cellCount?: number;
}

function boundValue(bound: SafeBound, pack: PackContext): number | undefined {
  const lim = CHEMISTRY_LIMITS[pack.chemistry];
  switch (bound) {
    case 'cell_mv_high':
      return lim.cell_mv_high;
    case 'cell_mv_low':
      return lim.cell_mv_low;
    case 'pack_v_high':
      return pack.cellCount ? (lim.cell_mv_high * pack.cellCount) / 1000 : undefined;
    case 'pack_v_low':
      return pack.cellCount ? (lim.cell_mv_low * pack.cellCount) / 1000 : undefined;
    case 'charge_temp_high':
      return lim.charge_temp_high;
    case 'charge_temp_low':
      return lim.charge_temp_low;
    case 'discharge_temp_high':
      return lim.discharge_temp_high;
    case 'discharge_temp_low':
      return lim.discharge_temp_low;
  }
}

const isHighBound = (b: SafeBound): boolean => b.endsWith('_high');

/** Checks one value against its range, step and the chemistry's safe limits. Throws BmsError. */
export function validateParameterValue(id: string, value: number, pack: PackContext): void {
  const def = requireParameter(id);
  if (!Number.isFinite(value)) {
    throw new BmsError('PARAM_OUT_OF_RANGE', `${def.label}: ${value} is not a number`, { id });
  }
  if (value < def.min || value > def.max) {
    throw new BmsError(
      'PARAM_OUT_OF_RANGE',
      `${def.label}: ${value} ${def.unit} is outside ${def.min}..${def.max} ${def.unit}`,
      { id, value, min: def.min, max: def.max },
    );
  }
  const steps = value / def.step;
  if (Math.abs(steps - Math.round(steps)) > 1e-6) {
    throw new BmsError('PARAM_STEP', `${def.label}: ${value} is not a multiple of ${def.step}`, {
      id,
      value,
      step: def.step,
    });
  }
  if (def.bound) {
    const limit = boundValue(def.bound, pack);
    if (limit !== undefined) {
      const bad = isHighBound(def.bound) ? value > limit : value < limit;
      if (bad) {
        const chem = CHEMISTRY_LIMITS[pack.chemistry].label;
        throw new BmsError(
          'PARAM_UNSAFE_FOR_CHEMISTRY',
          `${def.label}: ${value} ${def.unit} is ${isHighBound(def.bound) ? 'above' : 'below'} the ${chem} safe limit ${round3(limit)} ${def.unit}`,
          { id, value, limit, chemistry: pack.chemistry },
        );
      }
    }
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export interface ConsistencyIssue {
  ids: string[];
  message: string;
}

/**
 * Consistency rules over a whole parameter set (what the device holds merged with what is
 * about to be written): a protection releases on the safe side of its threshold, and a
 * higher level is at least as extreme as a lower one.
 */
export function checkConsistency(values: Record<string, number>): ConsistencyIssue[] {
  const issues: ConsistencyIssue[] = [];
  for (const p of PROTECTIONS) {
    const suffix = p.unit === 'mV' ? '_mv' : p.unit === 'V' ? '_v' : p.unit === 'A' ? '_a' : '_c';
    let prev: { id: string; v: number } | undefined;
    for (const level of [1, 2, 3]) {
      const tId = `${p.key}_l${level}${suffix}`;
      const rId = `${p.key}_l${level}_recover${suffix}`;
      const t = values[tId];
      const r = values[rId];
      if (t !== undefined && r !== undefined) {
        const ok = p.direction === 'high' ? r < t : r > t;
        if (!ok) {
          issues.push({
            ids: [tId, rId],
            message: `${p.label} level ${level}: recovery ${r} must be ${p.direction === 'high' ? 'below' : 'above'} the threshold ${t} ${p.unit}`,
          });
        }
      }
      if (t !== undefined) {
        if (prev) {
          const ok = p.direction === 'high' ? t >= prev.v : t <= prev.v;
          if (!ok) {
            issues.push({
              ids: [prev.id, tId],
              message: `${p.label}: level ${level} (${t} ${p.unit}) must be at least as ${p.direction === 'high' ? 'high' : 'low'} as level ${level - 1} (${prev.v} ${p.unit})`,
            });
          }
        }
        prev = { id: tId, v: t };
      }
    }
  }
  return issues;
}

/** Validates a write of several values against a device's current set. Throws on the first problem. */
export function validateParameterWrite(
  changes: Record<string, number>,
  current: Record<string, number>,
  pack: PackContext,
): void {
  for (const [id, v] of Object.entries(changes)) validateParameterValue(id, v, pack);
  const issues = checkConsistency({ ...current, ...changes }).filter((i) =>
    i.ids.some((id) => id in changes),
  );
  const first = issues[0];
  if (first) {
    throw new BmsError('PARAM_INCONSISTENT', first.message, { ids: first.ids, issues });
  }
}
