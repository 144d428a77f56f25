import { describe, expect, it } from 'vitest';
import { ALARM_CODES, makeAlarm } from './alarms.js';
import { METRICS } from './metrics.js';
import { completeSnapshot, round, type BatterySnapshot } from './snapshot.js';

describe('completeSnapshot', () => {
  it('derives power and cell statistics from reported values', () => {
    const s = completeSnapshot<BatterySnapshot>({
      voltage_v: 52,
      current_a: -10,
      cell_mv: [3300, 3310, 3290, 3305],
    });
    expect(s.power_w).toBe(-520);
    expect(s).toMatchObject({
      cell_count: 4,
      max_cell_mv: 3310,
      max_cell_index: 2,
      min_cell_mv: 3290,
      min_cell_index: 3,
      delta_cell_mv: 20,
      avg_cell_mv: 3301.3,
    });
  });

  it('keeps what the device reported and invents nothing that is missing', () => {
    // Only part of the list arrived (2 of 16 cells): the device's own extreme stands.
    const s = completeSnapshot<BatterySnapshot>({
      cell_count: 16,
      max_cell_mv: 3400,
      cell_mv: [3300, 3310],
    });
    expect(s.max_cell_mv).toBe(3400);
    expect(completeSnapshot({ voltage_v: 50 })).toEqual({ voltage_v: 50 });
  });

  it('lowest cell equals the lowest of the cell list (DALY: "Lowest 3.239 V" beside 3.238 V)', () => {
    // DALY sends its extremes (0x91) and the cell list (0x95) in frames read apart.
    const s = completeSnapshot<BatterySnapshot>({
      cell_count: 4,
      max_cell_mv: 3301,
      max_cell_index: 1,
      min_cell_mv: 3239,
      min_cell_index: 2,
      delta_cell_mv: 62,
      cell_mv: [3300, 3240, 3238, 3299],
    });
    expect(s.min_cell_mv).toBe(Math.min(...s.cell_mv!));
    expect(s).toMatchObject({
      min_cell_mv: 3238,
      min_cell_index: 3,
      max_cell_mv: 3300,
      max_cell_index: 1,
      delta_cell_mv: 62,
    });
  });

  it('round() never returns -0', () => {
    expect(Object.is(round(-0.0001, 2), 0)).toBe(true);
  });
});

describe('alarm taxonomy and metric catalog', () => {
  it('has unique alarm codes including those the architecture names', () => {
    const codes = ALARM_CODES.map((a) => a.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of [
      'cell_ov',
      'cell_uv',
      'pack_ov',
      'pack_uv',
      'chg_oc',
      'dsg_oc',
      'short_circuit',
      'chg_ot',
      'chg_ut',
      'dsg_ot',
      'dsg_ut',
      'mos_ot',
      'env_ot',
      'env_ut',
      'cell_diff',
      'soc_low',
      'insulation',
      'comm_lost',
    ]) {
      expect(codes).toContain(c);
    }
  });

  it('makes level 1 a warning and level 2 a protection, but keeps faults faults', () => {
    expect(makeAlarm('cell_ov', { level: 1 }).severity).toBe('warning');
    expect(makeAlarm('cell_ov', { level: 2, source: 'cell_ov_l2' })).toEqual({
      code: 'cell_ov',
      severity: 'protection',
      level: 2,
      source: 'cell_ov_l2',
    });
    expect(makeAlarm('afe_fault', { level: 1 }).severity).toBe('fault');
    expect(() => makeAlarm('nope')).toThrow();
  });

  it('has unique metric keys with units in the names', () => {
    const keys = METRICS.map((m) => m.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const m of METRICS) {
      if (m.unit === 'V') expect(m.key.endsWith('_v'), m.key).toBe(true);
      if (m.unit === 'mV') expect(m.key.endsWith('_mv'), m.key).toBe(true);
      if (m.unit === 'A') expect(m.key.endsWith('_a'), m.key).toBe(true);
      if (m.unit === '°C') expect(m.key.endsWith('_c'), m.key).toBe(true);
    }
  });
});
