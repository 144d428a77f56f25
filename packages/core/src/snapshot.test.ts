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
    const s = completeSnapshot<BatterySnapshot>({ max_cell_mv: 3400, cell_mv: [3300, 3310] });
    expect(s.max_cell_mv).toBe(3400);
    expect(completeSnapshot({ voltage_v: 50 })).toEqual({ voltage_v: 50 });
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
