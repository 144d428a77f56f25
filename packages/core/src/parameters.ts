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
  | 'discharge_temp_low'
  | 'charge_pack_v_high'
  | 'mos_temp_high';

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
  /**
   * A current the pack lets flow before it acts (an over-current threshold, a current limit
   * requested from the inverter): held to a C-rate of the design capacity on this side.
   */
  currentSide?: 'charge' | 'discharge';
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
  /** The highest cell voltage a charger may be asked to hold (CV setpoint), mV. */
  charge_cell_mv_max: number;
  /** MOSFET / board over-temperature protections may not sit above this, °C. */
  mos_temp_high: number;
}

/**
 * Safe outer limits per chemistry. A parameter write outside them is refused whatever the
 * parameter's own range allows. Sources: cell makers' datasheets (LiFePO4 3.65 V charge,
 * 2.5 V discharge cut-off; NMC 4.2 V, 2.75 V) with the margins the seeds' own defaults
 * use (seed 003's ternary pack protects at 4250 mV / 2750 mV; its charge under-temperature
 * protection sits at -5 °C). The charge setpoint is the datasheets' end-of-charge voltage
 * (3.65 V LiFePO4, 4.2 V NMC): the protection may sit a little above it, the charger never.
 * MOSFETs: the BMS makers' own ceilings for their power-stage protection (JK and DALY
 * accept at most 100 °C on the board sensor; the silicon's 150-175 °C junction limit is far
 * hotter than the sensor reads).
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
    charge_cell_mv_max: 3650,
    mos_temp_high: 100,
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
    charge_cell_mv_max: 4200,
    mos_temp_high: 100,
  },
};

/** Default C-rate ceilings for current parameters (config can change them per pack). */
export const DEFAULT_MAX_CHARGE_C = 1;
export const DEFAULT_MAX_DISCHARGE_C = 2;

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
  /** Over-current thresholds: the side whose C-rate ceiling holds them. */
  currentSide?: 'charge' | 'discharge';
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
    currentSide: 'charge',
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
    currentSide: 'discharge',
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
    bound: 'mos_temp_high',
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
    bound: 'discharge_temp_high',
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
    bound: 'discharge_temp_low',
  },
];

const unitSuffix = (unit: string): string =>
  unit === 'mV' ? '_mv' : unit === 'V' ? '_v' : unit === 'A' ? '_a' : '_c';

function protectionParams(p: ProtectionSpec): ParameterDef[] {
  const out: ParameterDef[] = [];
  const suffix = unitSuffix(p.unit);
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
      ...(p.currentSide ? { currentSide: p.currentSide } : {}),
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
    bound: 'charge_pack_v_high',
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
    currentSide: 'charge',
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
    currentSide: 'discharge',
  },
  {
    id: 'full_charge_v',
    label: 'Full-charge voltage (the pack counts as full at or above it)',
    group: 'voltage',
    kind: 'setting',
    unit: 'V',
    min: 5,
    max: 150,
    step: 0.01,
    bound: 'charge_pack_v_high',
  },
  {
    id: 'full_charge_current_a',
    label: 'Full-charge current (charging tapers below it at the full-charge voltage)',
    group: 'current',
    kind: 'setting',
    unit: 'A',
    min: 0,
    max: 100,
    step: 0.01,
  },
  {
    id: 'charge_limit_start_a',
    label: 'Charge current limiter start current',
    group: 'current',
    kind: 'setting',
    unit: 'A',
    min: 1,
    max: 1000,
    step: 1,
    currentSide: 'charge',
  },
  {
    id: 'sleep_cell_mv',
    label: 'Sleep (shut-down) cell voltage',
    group: 'function',
    kind: 'setting',
    unit: 'mV',
    min: 1500,
    max: 4500,
    step: 1,
    bound: 'cell_mv_low',
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

/**
 * Parameters of the Seplos parameter block and the JBD EEPROM that the protection levels
 * above do not cover: the first over-current level's release current (Seplos alarms release
 * at a current, not after a delay), the charger-port over-voltage, no-charge and heater
 * thresholds, the balancing stop difference, the low-SOC protection and the capacity model
 * (cycle capacity, the cell voltages counted as full and empty).
 */
const BLOCK_PARAMS: ParameterDef[] = [
  {
    id: 'chg_oc_l1_recover_a',
    label: 'Charge over-current level 1 recovery current',
    group: 'current',
    kind: 'recovery',
    unit: 'A',
    min: 0,
    max: 1000,
    step: 0.01,
    level: 1,
    protects: 'chg_oc',
    direction: 'high',
  },
  {
    id: 'dsg_oc_l1_recover_a',
    label: 'Discharge over-current level 1 recovery current',
    group: 'current',
    kind: 'recovery',
    unit: 'A',
    min: 0,
    max: 2000,
    step: 0.01,
    level: 1,
    protects: 'dsg_oc',
    direction: 'high',
  },
  {
    id: 'charger_ov_v',
    label: 'Charger (port) over-voltage protection',
    group: 'voltage',
    kind: 'threshold',
    unit: 'V',
    min: 5,
    max: 150,
    step: 0.01,
    protects: 'pack_ov',
    direction: 'high',
  },
  {
    id: 'charger_ov_recover_v',
    label: 'Charger (port) over-voltage recovery',
    group: 'voltage',
    kind: 'recovery',
    unit: 'V',
    min: 5,
    max: 150,
    step: 0.01,
    protects: 'pack_ov',
    direction: 'high',
  },
  {
    id: 'cell_no_charge_mv',
    label: 'No charging below this cell voltage',
    group: 'voltage',
    kind: 'threshold',
    unit: 'mV',
    min: 500,
    max: 3500,
    step: 1,
    protects: 'low_voltage_no_charge',
    direction: 'low',
  },
  {
    id: 'heater_start_c',
    label: 'Cell heating starts below',
    group: 'temperature',
    kind: 'setting',
    unit: '°C',
    min: -40,
    max: 30,
    step: 0.1,
  },
  {
    id: 'heater_stop_c',
    label: 'Cell heating stops above',
    group: 'temperature',
    kind: 'setting',
    unit: '°C',
    min: -40,
    max: 40,
    step: 0.1,
  },
  {
    id: 'balance_stop_delta_mv',
    label: 'Balance stopping voltage difference',
    group: 'function',
    kind: 'setting',
    unit: 'mV',
    min: 1,
    max: 1000,
    step: 1,
  },
  {
    id: 'balance_charge_only',
    label: 'Balance only while charging',
    group: 'function',
    kind: 'switch',
    unit: '',
    min: 0,
    max: 1,
    step: 1,
  },
  {
    id: 'soc_low_protect_pct',
    label: 'Low SOC protection',
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
    id: 'cycle_capacity_ah',
    label: 'Full-charge (cycle) capacity',
    group: 'function',
    kind: 'setting',
    unit: 'Ah',
    min: 1,
    max: 2000,
    step: 0.01,
  },
  {
    id: 'cell_full_mv',
    label: 'Cell voltage counted as full (100 % SOC)',
    group: 'function',
    kind: 'setting',
    unit: 'mV',
    min: 1500,
    max: 4500,
    step: 1,
    bound: 'cell_mv_high',
  },
  {
    id: 'cell_empty_mv',
    label: 'Cell voltage counted as empty (0 % SOC)',
    group: 'function',
    kind: 'setting',
    unit: 'mV',
    min: 1500,
    max: 4500,
    step: 1,
    bound: 'cell_mv_low',
  },
];

export const PARAMETERS: readonly ParameterDef[] = [
  ...PROTECTIONS.flatMap(protectionParams),
  ...FUNCTION_PARAMS,
  ...BLOCK_PARAMS,
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
  /** Design capacity, Ah: current parameters are held to a C-rate of it. */
  designAh?: number;
  /** C-rate ceiling of charge currents (default DEFAULT_MAX_CHARGE_C). */
  maxChargeC?: number;
  /** C-rate ceiling of discharge currents (default DEFAULT_MAX_DISCHARGE_C). */
  maxDischargeC?: number;
}

/**
 * The chemistry's limit for a bound, in the parameter's unit; undefined when it depends on
 * the cell count and that is not known.
 */
export function boundLimit(bound: SafeBound, pack: PackContext): number | undefined {
  const lim = CHEMISTRY_LIMITS[pack.chemistry];
  const perPack = (mv: number): number | undefined =>
    pack.cellCount ? (mv * pack.cellCount) / 1000 : undefined;
  switch (bound) {
    case 'pack_v_high':
      return perPack(lim.cell_mv_high);
    case 'pack_v_low':
      return perPack(lim.cell_mv_low);
    case 'charge_pack_v_high':
      return perPack(lim.charge_cell_mv_max);
    default:
      return lim[bound];
  }
}

/** True for bounds that cap a value from above. */
export const isHighBound = (b: SafeBound): boolean => b.endsWith('_high');

/** True for bounds that need the cell count. */
export const needsCellCount = (b: SafeBound): boolean =>
  b === 'pack_v_high' || b === 'pack_v_low' || b === 'charge_pack_v_high';

/**
 * A parameter's accepted range for a pack: its catalog range narrowed by the chemistry's
 * safe limit on the bound side. The one source of limits for the parameter table
 * (safe_min / safe_max), the import check and the write path.
 */
export function safeRange(
  def: ParameterDef,
  pack: PackContext,
): { min: number; max: number; safeMin?: number; safeMax?: number } {
  const out: { min: number; max: number; safeMin?: number; safeMax?: number } = {
    min: def.min,
    max: def.max,
  };
  const limit = def.bound ? boundLimit(def.bound, pack) : undefined;
  if (limit !== undefined && def.bound) {
    if (isHighBound(def.bound)) out.max = out.safeMax = Math.min(def.max, limit);
    else out.min = out.safeMin = Math.max(def.min, limit);
  }
  return out;
}

/**
 * Checks one value against its range, step and the chemistry's safe limits (a pack-voltage
 * limit needs the cell count: without it the value is refused). Throws BmsError. The
 * chemistry's limit is checked first: a LiFePO4 cell under-voltage of 1400 mV is refused as
 * below the 2000 mV safe limit the table shows, not as outside the catalog's 1500..4000.
 */
export function validateParameterValue(id: string, value: number, pack: PackContext): void {
  const def = requireParameter(id);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new BmsError(
      'PARAM_OUT_OF_RANGE',
      `${def.label}: ${String(value)} is not a finite number`,
      { id },
    );
  }
  if (def.bound) {
    const limit = boundLimit(def.bound, pack);
    if (limit === undefined && needsCellCount(def.bound)) {
      throw new BmsError(
        'PARAM_UNSAFE_FOR_CHEMISTRY',
        `${def.label}: the pack's cell count is not known (no snapshot yet), so the ${CHEMISTRY_LIMITS[pack.chemistry].label} pack-voltage limit cannot be checked`,
        { id },
      );
    }
    // Only a limit tighter than the catalog's range speaks for the chemistry.
    const high = isHighBound(def.bound);
    const tighter = limit !== undefined && (high ? limit < def.max : limit > def.min);
    if (tighter && (high ? value > limit : value < limit)) {
      const chem = CHEMISTRY_LIMITS[pack.chemistry].label;
      throw new BmsError(
        'PARAM_UNSAFE_FOR_CHEMISTRY',
        `${def.label}: ${value} ${def.unit} is ${high ? 'above' : 'below'} the ${chem} safe limit ${round3(limit)} ${def.unit}`,
        { id, value, limit, chemistry: pack.chemistry },
      );
    }
  }
  const range = safeRange(def, pack);
  if (value < range.min || value > range.max) {
    const min = round3(range.min);
    const max = round3(range.max);
    throw new BmsError(
      'PARAM_OUT_OF_RANGE',
      `${def.label}: ${value} ${def.unit} is outside ${min}..${max} ${def.unit}`,
      { id, value, min, max },
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
}

export const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** One protection of the catalog with its per-level parameter ids. */
export interface ProtectionGroup {
  key: string;
  label: string;
  unit: string;
  direction: 'high' | 'low';
  levels: { level: 1 | 2 | 3; threshold: string; recovery?: string }[];
}

/** The protections (cell_ov, chg_ut, ...) with their threshold and recovery ids per level. */
export const PROTECTION_GROUPS: readonly ProtectionGroup[] = PROTECTIONS.map((p) => {
  const suffix = unitSuffix(p.unit);
  return {
    key: p.key,
    label: p.label,
    unit: p.unit,
    direction: p.direction,
    levels: ([1, 2, 3] as const).map((level) => ({
      level,
      threshold: `${p.key}_l${level}${suffix}`,
      ...(p.recoveryDelay ? {} : { recovery: `${p.key}_l${level}_recover${suffix}` }),
    })),
  };
});
