import { describe, expect, it } from 'vitest';
import type { BmsError } from './errors.js';
import {
  CHEMISTRY_LIMITS,
  PARAMETERS,
  parameter,
  safeRange,
  validateParameterValue,
} from './parameters.js';

const codeOf = (fn: () => void): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as BmsError).code;
  }
  return undefined;
};

describe('parameter catalog', () => {
  it('has unique ids, sane ranges and the four groups', () => {
    const ids = PARAMETERS.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of PARAMETERS) {
      expect(p.min, p.id).toBeLessThanOrEqual(p.max);
      expect(p.step, p.id).toBeGreaterThan(0);
    }
    expect(new Set(PARAMETERS.map((p) => p.group))).toEqual(
      new Set(['voltage', 'temperature', 'current', 'function']),
    );
  });

  it('gives every protection three levels with threshold, recovery (or recovery delay) and delay', () => {
    for (const level of [1, 2, 3]) {
      expect(parameter(`cell_ov_l${level}_mv`)?.kind).toBe('threshold');
      expect(parameter(`cell_ov_l${level}_recover_mv`)?.kind).toBe('recovery');
      expect(parameter(`cell_ov_l${level}_delay_s`)?.kind).toBe('delay');
      expect(parameter(`dsg_oc_l${level}_recover_delay_s`)?.kind).toBe('recovery_delay');
    }
  });
});

describe('validateParameterValue', () => {
  it('accepts a LiFePO4 over-voltage protection at 3650 mV', () => {
    expect(() => validateParameterValue('cell_ov_l2_mv', 3650, { chemistry: 'lfp' })).not.toThrow();
  });

  it('refuses a LiFePO4 cell over-voltage threshold that NMC would allow', () => {
    expect(codeOf(() => validateParameterValue('cell_ov_l2_mv', 4200, { chemistry: 'lfp' }))).toBe(
      'PARAM_UNSAFE_FOR_CHEMISTRY',
    );
    expect(
      codeOf(() => validateParameterValue('cell_ov_l2_mv', 4200, { chemistry: 'nmc' })),
    ).toBeUndefined();
  });

  it('holds pack voltages to cells x chemistry limit when the cell count is known', () => {
    const limit = (CHEMISTRY_LIMITS.lfp.cell_mv_high * 16) / 1000; // 60 V
    expect(
      codeOf(() =>
        validateParameterValue('pack_ov_l2_v', limit + 0.01, { chemistry: 'lfp', cellCount: 16 }),
      ),
    ).toBe('PARAM_UNSAFE_FOR_CHEMISTRY');
    expect(
      codeOf(() =>
        validateParameterValue('pack_ov_l2_v', 58.4, { chemistry: 'lfp', cellCount: 16 }),
      ),
    ).toBeUndefined();
  });

  it('refuses charging protections that would allow charging below the chemistry limit', () => {
    expect(codeOf(() => validateParameterValue('chg_ut_l2_c', -20, { chemistry: 'lfp' }))).toBe(
      'PARAM_UNSAFE_FOR_CHEMISTRY',
    );
  });

  it('refuses with the limits the table shows (import said "outside 1500..4000" beside a 2000 minimum)', () => {
    const lfp = { chemistry: 'lfp' as const };
    const range = safeRange(parameter('cell_uv_l1_mv')!, lfp);
    expect(range).toMatchObject({ min: 2000, max: 4000, safeMin: 2000 });
    const refusal = (v: number) => {
      try {
        validateParameterValue('cell_uv_l1_mv', v, lfp);
      } catch (e) {
        return e as BmsError;
      }
      throw new Error('accepted');
    };
    const below = refusal(1400);
    expect(below.code).toBe('PARAM_UNSAFE_FOR_CHEMISTRY');
    expect(below.message).toBe(
      'Cell under-voltage level 1: 1400 mV is below the LiFePO4 safe limit 2000 mV',
    );
    expect(below.message).not.toContain('1500');
    const above = refusal(4100);
    expect(above.code).toBe('PARAM_OUT_OF_RANGE');
    expect(above.message).toBe('Cell under-voltage level 1: 4100 mV is outside 2000..4000 mV');
    expect(above.details).toMatchObject({ min: range.min, max: range.max });
  });

  it('checks range, step, finiteness and unknown ids', () => {
    expect(codeOf(() => validateParameterValue('cell_ov_l1_mv', 1000, { chemistry: 'nmc' }))).toBe(
      'PARAM_OUT_OF_RANGE',
    );
    expect(
      codeOf(() => validateParameterValue('cell_ov_l1_mv', 3400.5, { chemistry: 'lfp' })),
    ).toBe('PARAM_STEP');
    expect(
      codeOf(() => validateParameterValue('cell_ov_l1_mv', Number.NaN, { chemistry: 'lfp' })),
    ).toBe('PARAM_OUT_OF_RANGE');
    expect(codeOf(() => validateParameterValue('nope', 1, { chemistry: 'lfp' }))).toBe(
      'PARAM_UNKNOWN',
    );
  });
});
