/**
 * JBD EEPROM parameter registers 0x10..0x3F (jbd.md section 7.4) as one table: each row a
 * field of a register (a whole word, one byte of a delay pair, bits of the function word),
 * its raw key, scale and the catalog parameter it is. `registerValues` turns a register word
 * into catalog values and `registerWord` the other way (read-modify-write of packed
 * registers), for the control builders and the simulated device alike.
 */
import { BmsError, round } from '@openbms/core';

/** Where in the register word a field sits. */
export type EepromKind =
  /** the whole word, unsigned */
  | 'u16'
  /** the whole word, signed */
  | 'i16'
  /** byte 0 (the high byte) */
  | 'hi'
  /** byte 1 (the low byte) */
  | 'lo'
  /** one bit of the word */
  | 'bit'
  /** a coded field: `bits` wide at `shift`, the value is `choices[code]` */
  | 'code';

export interface EepromField {
  reg: number;
  /** raw key (bms-tools' register name with the unit; the vectors' names where they have one). */
  key: string;
  kind: EepromKind;
  /** value = (raw - offset) * scale, in the key's unit. */
  scale?: number;
  offset?: number;
  bit?: number;
  shift?: number;
  bits?: number;
  choices?: readonly number[];
  /** Catalog parameter and the factor from the key's unit to the catalog's. */
  param?: string;
  toParam?: number;
  /** The wire holds the discharge direction negative; the catalog keeps the magnitude. */
  negative?: boolean;
  /** Capacity / current register scaled x10 when 0x2D bit 12 ("unit x10") is set. */
  unitX10?: boolean;
  /** Read only: never written by writeParameters. */
  readOnly?: boolean;
}

export const REG_FUNC_CONFIG = 0x2d;
/** 0x2D bit 12: capacities in 100 mAh, currents in 100 mA (newer firmware; uncertain on old). */
export const UNIT_X10_BIT = 12;

const KELVIN = 2731;
const w = (
  reg: number,
  key: string,
  scale: number,
  param?: string,
  extra: Partial<EepromField> = {},
): EepromField => ({
  reg,
  key,
  kind: 'u16',
  scale,
  ...(param ? { param, toParam: 1 } : {}),
  ...extra,
});
const temp = (reg: number, key: string, param: string): EepromField =>
  w(reg, key, 0.1, param, { offset: KELVIN });
const mv = (reg: number, key: string, param?: string): EepromField => w(reg, key, 1, param);
const v10 = (reg: number, key: string, param: string): EepromField => w(reg, key, 0.01, param);
const pair = (reg: number, hi: [string, string], lo: [string, string]): EepromField[] => [
  { reg, key: hi[0], kind: 'hi', scale: 1, param: hi[1], toParam: 1 },
  { reg, key: lo[0], kind: 'lo', scale: 1, param: lo[1], toParam: 1 },
];

export const EEPROM: readonly EepromField[] = [
  w(0x10, 'design_capacity_ah', 0.01, 'design_capacity_ah', { unitX10: true }),
  w(0x11, 'cycle_capacity_ah', 0.01, 'cycle_capacity_ah', { unitX10: true }),
  mv(0x12, 'full_charge_cell_mv', 'cell_full_mv'),
  mv(0x13, 'empty_cell_mv', 'cell_empty_mv'),
  // bms-tools: self-discharge rate 0.1 %; the V11 list: system power consumption. Uncertain.
  w(0x14, 'dsg_rate_raw', 1),
  w(0x15, 'mfg_date_raw', 1),
  w(0x16, 'serial_num', 1),
  w(0x17, 'cycle_cnt', 1),
  temp(0x18, 'chgot_c', 'chg_ot_l2_c'),
  temp(0x19, 'chgot_rel_c', 'chg_ot_l2_recover_c'),
  temp(0x1a, 'chgut_c', 'chg_ut_l2_c'),
  temp(0x1b, 'chgut_rel_c', 'chg_ut_l2_recover_c'),
  temp(0x1c, 'dsgot_c', 'dsg_ot_l2_c'),
  temp(0x1d, 'dsgot_rel_c', 'dsg_ot_l2_recover_c'),
  temp(0x1e, 'dsgut_c', 'dsg_ut_l2_c'),
  temp(0x1f, 'dsgut_rel_c', 'dsg_ut_l2_recover_c'),
  v10(0x20, 'povp_v', 'pack_ov_l2_v'),
  v10(0x21, 'povp_rel_v', 'pack_ov_l2_recover_v'),
  v10(0x22, 'puvp_v', 'pack_uv_l2_v'),
  v10(0x23, 'puvp_rel_v', 'pack_uv_l2_recover_v'),
  mv(0x24, 'covp_mv', 'cell_ov_l2_mv'),
  mv(0x25, 'covp_rel_mv', 'cell_ov_l2_recover_mv'),
  mv(0x26, 'cuvp_mv', 'cell_uv_l2_mv'),
  mv(0x27, 'cuvp_rel_mv', 'cell_uv_l2_recover_mv'),
  {
    reg: 0x28,
    key: 'chgoc_a',
    kind: 'i16',
    scale: 0.01,
    param: 'chg_oc_l2_a',
    toParam: 1,
    unitX10: true,
  },
  {
    reg: 0x29,
    key: 'dsgoc_a',
    kind: 'i16',
    scale: 0.01,
    param: 'dsg_oc_l2_a',
    toParam: 1,
    negative: true,
    unitX10: true,
  },
  mv(0x2a, 'bal_start_mv', 'balance_start_mv'),
  mv(0x2b, 'bal_window_mv', 'balance_delta_mv'),
  // 0.1 mOhm (0.01 mOhm with bit 12, or bit 15 of the value per the V11 doc: uncertain).
  w(0x2c, 'shunt_res_raw', 1),
  { reg: 0x2d, key: 'func_switch', kind: 'bit', bit: 0 },
  { reg: 0x2d, key: 'func_scrl', kind: 'bit', bit: 1 },
  { reg: 0x2d, key: 'func_balance_en', kind: 'bit', bit: 2, param: 'balance_enabled' },
  { reg: 0x2d, key: 'func_chg_balance_en', kind: 'bit', bit: 3, param: 'balance_charge_only' },
  { reg: 0x2d, key: 'func_led_en', kind: 'bit', bit: 4 },
  { reg: 0x2d, key: 'func_led_num', kind: 'bit', bit: 5 },
  w(0x2e, 'ntc_config', 1),
  w(0x2f, 'cell_cnt', 1, 'cell_count', { readOnly: true }),
  w(0x30, 'fet_ctrl_s', 1),
  w(0x31, 'led_timer_s', 1),
  mv(0x32, 'cap_80_mv'),
  mv(0x33, 'cap_60_mv'),
  mv(0x34, 'cap_40_mv'),
  mv(0x35, 'cap_20_mv'),
  mv(0x36, 'covp_high_mv', 'cell_ov_l3_mv'),
  mv(0x37, 'cuvp_high_mv', 'cell_uv_l3_mv'),
  // 0x38: AFE short-circuit and secondary over-current codes (TI bq769x0 layout): raw only.
  w(0x38, 'sc_dsgoc2_raw', 1),
  {
    reg: 0x39,
    key: 'cuvp_high_delay_s',
    kind: 'code',
    shift: 14,
    bits: 2,
    choices: [1, 4, 8, 16],
    param: 'cell_uv_l3_delay_s',
    toParam: 1,
    readOnly: true,
  },
  {
    reg: 0x39,
    key: 'covp_high_delay_s',
    kind: 'code',
    shift: 12,
    bits: 2,
    choices: [1, 2, 4, 8],
    param: 'cell_ov_l3_delay_s',
    toParam: 1,
    readOnly: true,
  },
  { reg: 0x39, key: 'sc_rel_s', kind: 'lo', scale: 1 },
  ...pair(0x3a, ['chgut_delay_s', 'chg_ut_l2_delay_s'], ['chgot_delay_s', 'chg_ot_l2_delay_s']),
  ...pair(0x3b, ['dsgut_delay_s', 'dsg_ut_l2_delay_s'], ['dsgot_delay_s', 'dsg_ot_l2_delay_s']),
  ...pair(0x3c, ['puvp_delay_s', 'pack_uv_l2_delay_s'], ['povp_delay_s', 'pack_ov_l2_delay_s']),
  ...pair(0x3d, ['cuvp_delay_s', 'cell_uv_l2_delay_s'], ['covp_delay_s', 'cell_ov_l2_delay_s']),
  ...pair(
    0x3e,
    ['chgoc_delay_s', 'chg_oc_l2_delay_s'],
    ['chgoc_rel_s', 'chg_oc_l2_recover_delay_s'],
  ),
  ...pair(
    0x3f,
    ['dsgoc_delay_s', 'dsg_oc_l2_delay_s'],
    ['dsgoc_rel_s', 'dsg_oc_l2_recover_delay_s'],
  ),
];

/** Registers a parameter read covers, in order (0x2D first: its bit 12 scales others). */
export const EEPROM_REGISTERS: readonly number[] = [
  REG_FUNC_CONFIG,
  ...[...new Set(EEPROM.map((f) => f.reg))].filter((r) => r !== REG_FUNC_CONFIG),
];

const BY_REG = new Map<number, EepromField[]>();
for (const f of EEPROM) {
  const list = BY_REG.get(f.reg) ?? [];
  list.push(f);
  BY_REG.set(f.reg, list);
}
const BY_PARAM = new Map(EEPROM.filter((f) => f.param).map((f) => [f.param!, f]));

export const fieldsOf = (reg: number): readonly EepromField[] => BY_REG.get(reg) ?? [];
export const fieldOfParam = (id: string): EepromField | undefined => BY_PARAM.get(id);

/** Catalog ids writeParameters takes. */
export const WRITABLE_IDS: readonly string[] = EEPROM.filter((f) => f.param && !f.readOnly).map(
  (f) => f.param!,
);

const x10 = (f: EepromField, unitX10: boolean): number => (f.unitX10 && unitX10 ? 10 : 1);

/** A field's value (key unit) in a register word. */
export function fieldValue(f: EepromField, word: number, unitX10 = false): number {
  switch (f.kind) {
    case 'u16':
      return round((word - (f.offset ?? 0)) * (f.scale ?? 1) * x10(f, unitX10), 6);
    case 'i16':
      return round((((word << 16) >> 16) - (f.offset ?? 0)) * (f.scale ?? 1) * x10(f, unitX10), 6);
    case 'hi':
      return (word >> 8) * (f.scale ?? 1);
    case 'lo':
      return (word & 0xff) * (f.scale ?? 1);
    case 'bit':
      return (word >> f.bit!) & 1;
    case 'code':
      return f.choices![(word >> f.shift!) & ((1 << f.bits!) - 1)]!;
  }
}

/** The catalog value of a field (magnitude for the discharge side). */
export function catalogOf(f: EepromField, word: number, unitX10 = false): number {
  const v = round(fieldValue(f, word, unitX10) * (f.toParam ?? 1), 6);
  return f.negative ? Math.abs(v) || 0 : v;
}

/** Catalog values a register word holds. */
export function registerValues(reg: number, word: number, unitX10 = false): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of fieldsOf(reg)) if (f.param) out[f.param] = catalogOf(f, word, unitX10);
  return out;
}

/**
 * The register word that holds `values` (catalog ids of this register; the fields not given
 * keep their bits of `previous`). PARAM_STEP when the wire cannot carry a value exactly,
 * PARAM_OUT_OF_RANGE when it does not fit the field.
 */
export function registerWord(
  reg: number,
  values: Readonly<Record<string, number>>,
  previous: number,
  unitX10 = false,
  /** Round to the nearest step and clamp to the field instead of refusing (device side). */
  lenient = false,
): number {
  let word = previous & 0xffff;
  for (const f of fieldsOf(reg)) {
    if (!f.param || values[f.param] === undefined) continue;
    const id = f.param;
    const v = values[id]!;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new BmsError('PARAM_OUT_OF_RANGE', `${id}: ${String(v)} is not a finite number`, {
        id,
      });
    }
    const key = (f.negative ? -v : v) / (f.toParam ?? 1);
    const exact = (kind: EepromKind): number => {
      const scale = (f.scale ?? 1) * x10(f, unitX10);
      const raw = key / scale + (f.offset ?? 0);
      const [lo, hi] =
        kind === 'i16' ? [-0x8000, 0x7fff] : kind === 'u16' ? [0, 0xffff] : [0, 0xff];
      const n = Math.round(raw);
      if (lenient) return Math.min(hi, Math.max(lo, n));
      if (Math.abs(raw - n) > 1e-6) {
        throw new BmsError(
          'PARAM_STEP',
          `${id}: ${v} is not a multiple of the register step ${round(scale * (f.toParam ?? 1), 6)}`,
          { id },
        );
      }
      if (n < lo || n > hi) {
        throw new BmsError(
          'PARAM_OUT_OF_RANGE',
          `${id}: ${v} does not fit register 0x${reg.toString(16)}`,
          { id },
        );
      }
      return n;
    };
    switch (f.kind) {
      case 'u16':
      case 'i16':
        word = exact(f.kind) & 0xffff;
        break;
      case 'hi':
        word = (exact('hi') << 8) | (word & 0xff);
        break;
      case 'lo':
        word = (word & 0xff00) | exact('lo');
        break;
      case 'bit':
        if (!lenient && v !== 0 && v !== 1) {
          throw new BmsError('PARAM_OUT_OF_RANGE', `${id}: a switch is 0 or 1 (got ${v})`, { id });
        }
        word = v >= 1 ? word | (1 << f.bit!) : word & ~(1 << f.bit!);
        break;
      case 'code': {
        let code = f.choices!.indexOf(v);
        if (code < 0 && lenient) {
          // The nearest choice.
          code = f.choices!.reduce(
            (best, c, i) => (Math.abs(c - v) < Math.abs(f.choices![best]! - v) ? i : best),
            0,
          );
        }
        if (code < 0) {
          throw new BmsError('PARAM_STEP', `${id}: ${v} is not one of ${f.choices!.join(', ')}`, {
            id,
          });
        }
        const mask = ((1 << f.bits!) - 1) << f.shift!;
        word = (word & ~mask) | (code << f.shift!);
        break;
      }
    }
  }
  return word & 0xffff;
}

/** The raw keys of a register word, in their units (raw output of a read). */
export function registerRaw(reg: number, word: number, unitX10 = false): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of fieldsOf(reg)) out[f.key] = fieldValue(f, word, unitX10);
  return out;
}
