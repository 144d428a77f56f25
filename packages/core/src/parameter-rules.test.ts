import { describe, expect, it } from 'vitest';
import { BmsError } from './errors.js';
import {
  checkConsistency,
  validateParameterWrite,
  writeOrder,
  writeProblems,
  type ConsistencyIssue,
} from './parameter-rules.js';
import { parameter, type PackContext } from './parameters.js';
import { prng } from './random.js';

const LFP16: PackContext = { chemistry: 'lfp', cellCount: 16, designAh: 100 };

/** A sane LiFePO4 16S 100 Ah set, as a BMS holds it (levels 1-2). */
const HELD: Record<string, number> = {
  cell_ov_l1_mv: 3550,
  cell_ov_l1_recover_mv: 3450,
  cell_ov_l2_mv: 3650,
  cell_ov_l2_recover_mv: 3400,
  cell_uv_l1_mv: 2900,
  cell_uv_l1_recover_mv: 3000,
  cell_uv_l2_mv: 2600,
  cell_uv_l2_recover_mv: 2900,
  pack_ov_l1_v: 56.8,
  pack_ov_l1_recover_v: 55.2,
  pack_uv_l1_v: 46.4,
  pack_uv_l1_recover_v: 48,
  chg_oc_l1_a: 50,
  chg_oc_l2_a: 60,
  dsg_oc_l1_a: 80,
  dsg_oc_l2_a: 100,
  chg_ot_l1_c: 50,
  chg_ot_l1_recover_c: 45,
  chg_ut_l1_c: 2,
  chg_ut_l1_recover_c: 5,
  dsg_ot_l1_c: 55,
  dsg_ot_l1_recover_c: 50,
  dsg_ut_l1_c: -15,
  dsg_ut_l1_recover_c: -10,
  mos_ot_l1_c: 80,
  mos_ot_l1_recover_c: 70,
  env_ot_l1_c: 60,
  env_ot_l1_recover_c: 55,
  env_ut_l1_c: -20,
  env_ut_l1_recover_c: -15,
  balance_start_mv: 3400,
  charge_voltage_limit_v: 56,
  charge_current_limit_a: 50,
  discharge_current_limit_a: 100,
};

function refusal(fn: () => void): BmsError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BmsError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const rules = (issues: ConsistencyIssue[]): string[] => issues.map((i) => i.rule);

describe('rules over the whole set', () => {
  it('the held set breaks none', () => {
    expect(checkConsistency(HELD, LFP16)).toEqual([]);
  });

  it('wants over-voltage recovery below its threshold and under-voltage recovery above', () => {
    expect(checkConsistency({ cell_ov_l2_mv: 3650, cell_ov_l2_recover_mv: 3400 })).toEqual([]);
    expect(rules(checkConsistency({ cell_ov_l2_mv: 3650, cell_ov_l2_recover_mv: 3700 }))).toEqual([
      'recovery_side',
    ]);
    expect(checkConsistency({ cell_uv_l2_mv: 2500, cell_uv_l2_recover_mv: 2900 })).toEqual([]);
    expect(rules(checkConsistency({ cell_uv_l2_mv: 2500, cell_uv_l2_recover_mv: 2400 }))).toEqual([
      'recovery_side',
    ]);
  });

  it('wants a higher level at least as extreme as the lower one', () => {
    expect(checkConsistency({ chg_oc_l1_a: 100, chg_oc_l2_a: 150, chg_oc_l3_a: 200 })).toEqual([]);
    expect(checkConsistency({ chg_oc_l1_a: 100, chg_oc_l2_a: 90 })[0]?.ids).toEqual([
      'chg_oc_l1_a',
      'chg_oc_l2_a',
    ]);
    expect(rules(checkConsistency({ dsg_ut_l1_c: -10, dsg_ut_l2_c: -5 }))).toEqual(['level_order']);
  });

  it('refuses a cell under-voltage of 3700 mV above the over-voltage of 3650 mV', () => {
    const e = refusal(() =>
      validateParameterWrite({ cell_uv_l1_mv: 3700 }, { ...HELD, cell_ov_l1_mv: 3650 }, LFP16),
    );
    expect(e.code).toBe('PARAM_INCONSISTENT');
    expect(e.message).toContain(
      'Cell under-voltage level 1 (3700 mV) must be below Cell over-voltage level 1 (3650 mV)',
    );
    expect(e.message).toContain('protection < recovery < opposite recovery < opposite protection');
    // Every broken rule is named, not only the first.
    const issues = e.details?.['issues'] as { rule: string; ids: string[] }[];
    expect(issues.map((i) => i.rule)).toContain('recovery_side');
    expect(issues.filter((i) => i.rule === 'opposite_sides').length).toBeGreaterThanOrEqual(4);
  });

  it('refuses a charge under-temperature of 25 °C above the over-temperature of 10 °C', () => {
    const e = refusal(() =>
      validateParameterWrite({ chg_ut_l1_c: 25, chg_ot_l1_c: 10 }, HELD, LFP16),
    );
    expect(e.code).toBe('PARAM_INCONSISTENT');
    expect(e.message).toContain(
      'Charge under-temperature level 1 (25 °C) must be below Charge over-temperature level 1 (10 °C)',
    );
  });

  it('refuses a balance start of 3750 mV above the cell over-voltage of 3700 mV', () => {
    const e = refusal(() =>
      validateParameterWrite(
        { balance_start_mv: 3750 },
        { ...HELD, cell_ov_l1_mv: 3700, cell_ov_l2_mv: 3700 },
        LFP16,
      ),
    );
    expect(e.code).toBe('PARAM_INCONSISTENT');
    expect(e.message).toContain(
      'Balance starting voltage (3750 mV) must be below Cell over-voltage level 1 (3700 mV)',
    );
  });

  it('refuses a 60 V charge voltage on 16S LiFePO4 (3.75 V a cell): 58.4 V at most', () => {
    const e = refusal(() =>
      validateParameterWrite(
        { charge_voltage_limit_v: 60 },
        {},
        { chemistry: 'lfp', cellCount: 16 },
      ),
    );
    expect(e.code).toBe('PARAM_UNSAFE_FOR_CHEMISTRY');
    expect(e.message).toContain('above the LiFePO4 safe limit 58.4 V');
    expect(() =>
      validateParameterWrite(
        { charge_voltage_limit_v: 56.8 },
        {},
        { chemistry: 'lfp', cellCount: 16 },
      ),
    ).not.toThrow();
  });

  it('keeps the charge voltage below the pack and cell over-voltage protections', () => {
    const issues = writeProblems(
      { charge_voltage_limit_v: 57.6 },
      { ...HELD, pack_ov_l1_v: 57.6, cell_ov_l1_mv: 3580 },
      LFP16,
    );
    expect(issues.map((i) => i.message)).toEqual([
      'Charge voltage limit requested from the inverter (57.6 V) must be below Pack over-voltage level 1 (57.6 V): a charge (to the inverter limit or to full) stays below the over-voltage protection',
      'Charge voltage limit requested from the inverter (57.6 V) must be below 16 cells x Cell over-voltage level 1 (3580 mV) = 57.28 V: a charge (to the inverter limit or to full) stays below the over-voltage protection',
    ]);
  });

  it('keeps the full-charge voltage (PACE AF/AE) below the over-voltage protections and the chemistry', () => {
    // PbmsTools' captured set: full at 56.0 V, pack OV alarm 57.6 V, cell OV alarm 3.6 V.
    const held = { ...HELD, pack_ov_l1_v: 57.6, cell_ov_l1_mv: 3600 };
    expect(writeProblems({ full_charge_v: 56 }, held, LFP16)).toEqual([]);
    const issues = writeProblems({ full_charge_v: 57.6 }, held, LFP16);
    expect(issues.map((i) => [i.rule, i.ids])).toEqual([
      ['charge_voltage_below_ov', ['full_charge_v', 'pack_ov_l1_v']],
      ['charge_voltage_below_ov', ['full_charge_v', 'cell_ov_l1_mv']],
    ]);
    // Lowering the pack OV protection under the full-charge voltage is refused from that side.
    const lower = writeProblems({ pack_ov_l1_v: 55.5 }, { ...held, full_charge_v: 56 }, LFP16);
    expect(lower.map((i) => i.message)).toContainEqual(
      expect.stringContaining(
        'Pack over-voltage level 1 (55.5 V) must be above Full-charge voltage',
      ),
    );
    // 16 x 3.65 V is the most a LiFePO4 charge may hold.
    expect(refusal(() => validateParameterWrite({ full_charge_v: 58.5 }, held, LFP16)).code).toBe(
      'PARAM_UNSAFE_FOR_CHEMISTRY',
    );
  });

  it('refuses a 1000 A charge limit on a 100 Ah pack (1 C); the ceiling is configurable', () => {
    const e = refusal(() => validateParameterWrite({ charge_current_limit_a: 1000 }, HELD, LFP16));
    expect(e.code).toBe('PARAM_INCONSISTENT');
    expect(e.message).toContain(
      'Charge current limit requested from the inverter (1000 A) must be at most 1 C of the 100 Ah design capacity (100 A)',
    );
    // 2 C discharge by default.
    expect(writeProblems({ discharge_current_limit_a: 200 }, HELD, LFP16)).toEqual([]);
    expect(writeProblems({ discharge_current_limit_a: 200.1 }, HELD, LFP16)).toHaveLength(1);
    // Over-current thresholds are held to it too.
    expect(writeProblems({ chg_oc_l2_a: 120 }, HELD, LFP16)[0]?.rule).toBe('c_rate');
    // A pack configured for 1.5 C charge takes 150 A.
    expect(
      writeProblems({ charge_current_limit_a: 150 }, HELD, { ...LFP16, maxChargeC: 1.5 }),
    ).toEqual([]);
    // The design capacity in the set itself counts (it is a parameter of some BMSs).
    expect(
      writeProblems({ charge_current_limit_a: 150 }, { ...HELD, design_capacity_ah: 200 }, LFP16),
    ).toEqual([]);
  });

  it('refuses a current limit when the design capacity is unknown, saying how to give it', () => {
    const e = refusal(() =>
      validateParameterWrite({ charge_current_limit_a: 50 }, {}, { chemistry: 'lfp' }),
    );
    expect(e.code).toBe('PARAM_UNSAFE_FOR_CHEMISTRY');
    expect(e.message).toMatch(/design capacity is not known.*design_ah/);
  });

  it('refuses a MOSFET over-temperature of 120 °C (100 °C at most) and ambient limits beyond the cells', () => {
    expect(refusal(() => validateParameterWrite({ mos_ot_l1_c: 120 }, HELD, LFP16)).code).toBe(
      'PARAM_UNSAFE_FOR_CHEMISTRY',
    );
    expect(refusal(() => validateParameterWrite({ env_ot_l1_c: 80 }, HELD, LFP16)).code).toBe(
      'PARAM_UNSAFE_FOR_CHEMISTRY',
    );
    expect(writeProblems({ mos_ot_l1_c: 95, mos_ot_l1_recover_c: 85 }, HELD, LFP16)).toEqual([]);
  });

  it('judges the change against what the device holds, not the device against itself', () => {
    const broken = { ...HELD, dsg_ot_l1_recover_c: 70 }; // already wrong on the device
    expect(writeProblems({ cell_ov_l1_mv: 3560 }, broken, LFP16)).toEqual([]);
    expect(writeProblems({ dsg_ot_l1_c: 60 }, broken, LFP16)[0]?.rule).toBe('recovery_side');
  });

  it('names every value error, not only the first', () => {
    const e = refusal(() =>
      validateParameterWrite({ cell_ov_l1_mv: 9999, cell_uv_l1_mv: 1 }, HELD, LFP16),
    );
    expect(e.code).toBe('PARAM_UNSAFE_FOR_CHEMISTRY');
    expect(e.message).toMatch(/Cell over-voltage level 1: 9999.*; Cell under-voltage level 1: 1/);
  });
});

/** Every prefix of `order` applied to `held` breaks no rule `held` did not already break. */
function everyStepSafe(
  order: string[],
  changes: Record<string, number>,
  held: Record<string, number>,
  pack: PackContext,
): boolean {
  const key = (i: ConsistencyIssue) => `${i.rule}:${i.ids.join(',')}`;
  const before = new Set(checkConsistency(held, pack).map(key));
  let state = { ...held };
  for (const id of order) {
    state = { ...state, [id]: changes[id]! };
    if (checkConsistency(state, pack).some((i) => !before.has(key(i)))) return false;
  }
  return true;
}

describe('writeOrder', () => {
  it('raising UV to 3100 and its recovery to 3200 writes the recovery first', () => {
    const held = { ...HELD, cell_uv_l1_mv: 2800, cell_uv_l1_recover_mv: 3000 };
    const changes = { cell_uv_l1_mv: 3100, cell_uv_l1_recover_mv: 3200 };
    expect(writeOrder(changes, held, LFP16)).toEqual(['cell_uv_l1_recover_mv', 'cell_uv_l1_mv']);
  });

  it('lowering them again writes the threshold first', () => {
    const held = { ...HELD, cell_uv_l1_mv: 3100, cell_uv_l1_recover_mv: 3200 };
    const changes = { cell_uv_l1_recover_mv: 3000, cell_uv_l1_mv: 2800 };
    expect(writeOrder(changes, held, LFP16)).toEqual(['cell_uv_l1_mv', 'cell_uv_l1_recover_mv']);
  });

  it('keeps the request order when it is safe', () => {
    const changes = { balance_start_mv: 3410, chg_ot_l1_c: 52, dsg_oc_l1_a: 70 };
    expect(writeOrder(changes, HELD, LFP16)).toEqual(Object.keys(changes));
  });

  it('finds a safe order for random valid moves of the whole voltage and temperature ladder', () => {
    const rand = prng(42);
    const ids = Object.keys(HELD);
    let tried = 0;
    let requestOrderUnsafe = 0;
    for (let n = 0; n < 300; n++) {
      // Shift a random subset by a common offset in the parameter's unit, keeping only
      // targets that are valid as a whole (the write is validated before it is ordered).
      const changes: Record<string, number> = {};
      const shift = Math.round((rand() - 0.5) * 200);
      for (const id of ids) {
        if (rand() < 0.4) continue;
        const def = parameter(id)!;
        const unitShift = def.unit === 'mV' ? shift : def.unit === 'V' ? shift / 100 : shift / 20;
        changes[id] = Math.round((HELD[id]! + unitShift) / def.step) * def.step;
      }
      if (writeProblems(changes, HELD, LFP16).length > 0) continue;
      tried++;
      if (!everyStepSafe(Object.keys(changes), changes, HELD, LFP16)) requestOrderUnsafe++;
      const order = writeOrder(changes, HELD, LFP16);
      expect(order, JSON.stringify(changes)).toBeDefined();
      expect(new Set(order)).toEqual(new Set(Object.keys(changes)));
      expect(everyStepSafe(order!, changes, HELD, LFP16), JSON.stringify(order)).toBe(true);
    }
    expect(tried).toBeGreaterThan(20);
    // The search matters: writing in the request order would have passed through bad sets.
    expect(requestOrderUnsafe).toBeGreaterThan(5);
  });
});
