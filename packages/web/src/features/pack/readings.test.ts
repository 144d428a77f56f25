// Reading a snapshot for the pack tabs: open sensors by each way a family reports them,
// named temperatures, derived running state, cell extremes and the bar scale.
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '@openbms/contract/api';
import { makeAlarm } from '@openbms/core';
import {
  alarmLines,
  cellScale,
  cellStats,
  isOpenSensor,
  rawBool,
  runState,
  snapshotTime,
  temperatureSensors,
} from './readings';

describe('open temperature sensors', () => {
  it('are recognised from -40 °C, Pylontech state 0xF0 and the simulator list', () => {
    const s: Snapshot = {
      temps_c: [25, -40, 24, 26, 23],
      raw: { temp_states: [0, 0, 0, 0xf0, 0], open_sensors: [4] },
    };
    expect([0, 1, 2, 3, 4].map((i) => isOpenSensor(s, i))).toEqual([
      false,
      true,
      false,
      true,
      true,
    ]);
    expect(isOpenSensor({ temps_c: [-39.9] }, 0)).toBe(false);
    expect(isOpenSensor({}, 0)).toBe(false);
  });
});

describe('temperatureSensors', () => {
  it('names MOS, board and ambient first, then T1..Tn, leaving out what is not reported', () => {
    const list = temperatureSensors({ mos_temp_c: 31.5, env_temp_c: -40, temps_c: [20, 21] });
    expect(list.map((x) => [x.id, x.value, x.open])).toEqual([
      ['mos', 31.5, false],
      ['ambient', -40, true],
      ['t1', 20, false],
      ['t2', 21, false],
    ]);
    expect(temperatureSensors({ voltage_v: 52 })).toEqual([]);
  });
});

describe('runState', () => {
  it('prefers the BMS state and otherwise follows the current sign', () => {
    expect(runState({ state: 'fault', current_a: 10 })).toBe('fault');
    expect(runState({ current_a: 3 })).toBe('charging');
    expect(runState({ current_a: -3 })).toBe('discharging');
    expect(runState({ current_a: 0.01 })).toBe('idle');
    expect(runState({})).toBeUndefined();
  });
});

describe('rawBool', () => {
  it('takes the first boolean among the keys', () => {
    const s: Snapshot = { raw: { precharge_mos: 'x', precharge_mos_on: true } };
    expect(rawBool(s, 'precharge_mos', 'precharge_mos_on')).toBe(true);
    expect(rawBool(s, 'nothing')).toBeUndefined();
  });
});

describe('cellStats', () => {
  it("uses the device's extremes when it gave them", () => {
    const st = cellStats({
      cell_mv: [3300, 3310, 3290, 3310],
      max_cell_index: 4,
      min_cell_index: 3,
      max_cell_mv: 3310,
      min_cell_mv: 3290,
      delta_cell_mv: 20,
      avg_cell_mv: 3302.5,
      cell_balancing: [false, true, false, false],
    });
    expect(st).toMatchObject({ maxIndex: 4, minIndex: 3, delta: 20, avg: 3302.5 });
    expect(st.balancing[1]).toBe(true);
  });

  it('computes them otherwise, and ignores an index outside the cells', () => {
    const st = cellStats({ cell_mv: [3300, 3350, 3280], max_cell_index: 9 });
    expect(st).toMatchObject({ maxIndex: 2, minIndex: 3, max: 3350, min: 3280, delta: 70 });
    expect(st.avg).toBeCloseTo(3310, 6);
    expect(cellStats({}).cells).toEqual([]);
  });
});

describe('cellScale', () => {
  it('reaches 50 mV past the extremes on 10 mV steps', () => {
    expect(cellScale(3281, 3283)).toEqual({ lo: 3230, hi: 3340 });
    expect(cellScale(3300, 3300)).toEqual({ lo: 3250, hi: 3350 });
  });
});

describe('snapshotTime', () => {
  it('reads the ISO time and rejects garbage', () => {
    expect(snapshotTime({ ts: '2026-01-02T03:04:05.000Z' })).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(snapshotTime({ ts: 'soon' })).toBeUndefined();
    expect(snapshotTime({})).toBeUndefined();
  });
});

describe('protection box lines', () => {
  it('lists "cell under-voltage · level 1" once with its cells, not eight times', () => {
    const uv = (cell: number) =>
      makeAlarm('cell_uv', { level: 1, source: `cell${cell}_voltage_low`, cell });
    const lines = alarmLines([
      ...[8, 2, 3, 1, 4, 5, 6, 7].map(uv),
      makeAlarm('cell_ut', { level: 1, sensor: 2 }),
      makeAlarm('pack_ov', { level: 2 }),
    ]);
    expect(lines).toEqual([
      {
        code: 'cell_uv',
        severity: 'warning',
        level: 1,
        cells: [1, 2, 3, 4, 5, 6, 7, 8],
        sensors: [],
      },
      { code: 'cell_ut', severity: 'warning', level: 1, cells: [], sensors: [2] },
      { code: 'pack_ov', severity: 'protection', level: 2, cells: [], sensors: [] },
    ]);
  });
});
