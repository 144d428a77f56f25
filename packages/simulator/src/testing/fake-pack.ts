/**
 * Test support: a SimPackApi with fixed, hand-set state (no physics), for unit tests of the
 * device protocols. The real pack is SimPack (pack.ts); both satisfy the same interface.
 */
import {
  completeSnapshot,
  makeAlarm,
  validateParameterWrite,
  type Alarm,
  type Reading,
} from '@openbms/core';
import type { AlarmRecord, CommandResult, DataRecord, SimPackApi } from '../types.js';

export interface FakePackOptions {
  address?: number;
  index?: number;
  cells?: number;
  chemistry?: 'lfp' | 'nmc';
  current_a?: number;
  alarms?: Alarm[];
  openSensor?: number;
}

const DEFAULTS: Record<string, number> = {
  cell_ov_l1_mv: 3550,
  cell_ov_l1_recover_mv: 3450,
  cell_ov_l1_delay_s: 2,
  cell_ov_l2_mv: 3650,
  cell_ov_l2_recover_mv: 3400,
  cell_ov_l2_delay_s: 1,
  cell_uv_l1_mv: 2900,
  cell_uv_l1_recover_mv: 3000,
  cell_uv_l1_delay_s: 2,
  cell_uv_l2_mv: 2600,
  cell_uv_l2_recover_mv: 2900,
  cell_uv_l2_delay_s: 1,
  pack_ov_l2_v: 58.4,
  pack_ov_l2_recover_v: 54.4,
  pack_uv_l2_v: 41.6,
  pack_uv_l2_recover_v: 46.4,
  chg_oc_l1_a: 105,
  chg_oc_l2_a: 120,
  chg_oc_l2_delay_s: 5,
  chg_oc_l2_recover_delay_s: 30,
  dsg_oc_l1_a: 105,
  dsg_oc_l2_a: 150,
  dsg_oc_l2_delay_s: 5,
  dsg_oc_l2_recover_delay_s: 30,
  chg_ot_l2_c: 55,
  chg_ot_l2_recover_c: 50,
  chg_ut_l2_c: 0,
  chg_ut_l2_recover_c: 5,
  dsg_ot_l2_c: 60,
  dsg_ot_l2_recover_c: 55,
  dsg_ut_l2_c: -20,
  dsg_ut_l2_recover_c: -15,
  mos_ot_l2_c: 90,
  mos_ot_l2_recover_c: 80,
  cell_diff_l1_mv: 300,
  cell_diff_l1_recover_mv: 200,
  balance_start_mv: 3400,
  balance_delta_mv: 10,
  design_capacity_ah: 100,
  short_circuit_a: 500,
  short_circuit_delay_us: 200,
};

export class FakePack implements SimPackApi {
  readonly address: number;
  readonly index: number;
  readonly chemistry: 'lfp' | 'nmc';
  readonly info = {
    model: 'OBMS-SIM-16S100',
    manufacturer: 'OpenBMS',
    hw_version: 'H1.0',
    sw_version: '1.2.3',
    serial: 'SIM0000000001',
    barcode: 'BC0000000001',
  };
  cells: number[];
  current_a: number;
  soc_pct = 62.5;
  charge_mos = true;
  discharge_mos = true;
  temps_c = [24.5, 25, 25.5, 26];
  mos_temp_c = 31;
  board_temp_c = 28;
  env_temp_c = 22;
  private params = { ...DEFAULTS };
  private rtc = Date.UTC(2026, 10, 21, 12, 0, 0);
  private readonly alarms: Alarm[];
  private readonly openSensor: number | undefined;
  private readonly data: DataRecord[] = [];
  private readonly alarmLog: AlarmRecord[] = [];

  constructor(o: FakePackOptions = {}) {
    this.address = o.address ?? 1;
    this.index = o.index ?? 0;
    this.chemistry = o.chemistry ?? 'lfp';
    const n = o.cells ?? 16;
    this.cells = Array.from({ length: n }, (_, i) => 3300 + ((i * 7) % 23) - (i === 3 ? 15 : 0));
    this.current_a = o.current_a ?? -12.3;
    this.alarms = o.alarms ?? [makeAlarm('cell_diff', { level: 1 })];
    this.openSensor = o.openSensor;
    for (let i = 0; i < 5; i++) {
      this.data.push({
        time: this.rtc - (5 - i) * 600_000,
        voltage_v: 52.8 - i * 0.1,
        current_a: -10 - i,
        soc_pct: 70 - i,
        max_cell_mv: 3320,
        min_cell_mv: 3290,
        max_temp_c: 26,
        min_temp_c: 24,
        alarms: [],
      });
    }
    this.alarmLog.push({
      time: this.rtc - 3_600_000,
      code: 'cell_diff',
      level: 1,
      event: 'raised',
      value: 310,
    });
  }

  snapshot(): Reading {
    const temps = this.temps_c.map((t, i) => (i === this.openSensor ? -40 : t));
    const voltage = this.cells.reduce((a, b) => a + b, 0) / 1000;
    const design = this.params.design_capacity_ah!;
    const r: Reading = {
      voltage_v: Math.round(voltage * 1000) / 1000,
      current_a: this.current_a,
      soc_pct: this.soc_pct,
      soh_pct: 98,
      remaining_ah: (design * 0.98 * this.soc_pct) / 100,
      full_ah: design * 0.98,
      design_ah: design,
      cycles: 42,
      cell_mv: [...this.cells],
      cell_balancing: this.cells.map((_, i) => i === 1),
      balancing: true,
      temps_c: temps,
      mos_temp_c: this.mos_temp_c,
      board_temp_c: this.board_temp_c,
      env_temp_c: this.env_temp_c,
      charge_mos: this.charge_mos,
      discharge_mos: this.discharge_mos,
      heater: false,
      state: this.current_a > 0.05 ? 'charging' : this.current_a < -0.05 ? 'discharging' : 'idle',
      alarms: this.alarms.map((a) => ({ ...a })),
      info: { ...this.info },
    };
    if (this.openSensor !== undefined) r.raw = { open_sensors: [this.openSensor] };
    return completeSnapshot(r);
  }

  parameters(): Record<string, number> {
    return { ...this.params };
  }
  defaults(): Record<string, number> {
    return { ...DEFAULTS };
  }
  writeParameters(changes: Record<string, number>): CommandResult {
    try {
      validateParameterWrite(changes, this.params, {
        chemistry: this.chemistry,
        cellCount: this.cells.length,
      });
    } catch (e) {
      const err = e as { message: string; code?: string };
      return { ok: false, reason: err.message, ...(err.code ? { code: err.code } : {}) };
    }
    Object.assign(this.params, changes);
    return { ok: true };
  }
  restoreDefaults(): void {
    this.params = { ...DEFAULTS };
  }
  setMos(which: 'charge' | 'discharge', on: boolean): CommandResult {
    if (!on && which === 'charge' && this.current_a < -0.5) {
      return { ok: false, reason: 'discharge current flows: the charge MOSFET stays on' };
    }
    if (!on && which === 'discharge' && this.current_a > 0.5) {
      return { ok: false, reason: 'charge current flows: the discharge MOSFET stays on' };
    }
    if (which === 'charge') this.charge_mos = on;
    else this.discharge_mos = on;
    return { ok: true };
  }
  setSoc(pct: number): CommandResult {
    if (!(pct >= 0 && pct <= 100)) return { ok: false, reason: `SOC ${pct} is outside 0..100 %` };
    this.soc_pct = pct;
    return { ok: true };
  }
  clock(): number {
    return this.rtc;
  }
  setClock(ms: number): void {
    this.rtc = ms;
  }
  counters(): Record<string, number> {
    return { cell_ov: 1, dsg_oc: 3, short_circuit: 0 };
  }
  dataRecords(): readonly DataRecord[] {
    return this.data;
  }
  alarmRecords(): readonly AlarmRecord[] {
    return this.alarmLog;
  }
  clearRecords(kind: 'data' | 'alarm' | 'all'): void {
    if (kind !== 'alarm') this.data.length = 0;
    if (kind !== 'data') this.alarmLog.length = 0;
  }
  activeAlarms(): Alarm[] {
    return this.alarms.map((a) => ({ ...a }));
  }
  restart(): void {
    this.charge_mos = true;
    this.discharge_mos = true;
  }
  calibrate(kind: string, value: number): CommandResult {
    if (kind === 'soc') return this.setSoc(value);
    return { ok: false, reason: `the fake pack cannot calibrate ${kind}` };
  }
  shutdown(): CommandResult {
    return { ok: true };
  }
  asleep(): boolean {
    return false;
  }
}
