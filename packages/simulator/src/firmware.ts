/**
 * BMS firmware behaviour: protection thresholds from the parameter set (levels 1-3 with
 * recovery values or recovery delays, as seeds 002-004 show), trip after the delay and
 * release at the recovery value, alarms (level 1) before protections (level 2+), which open
 * the charge and/or discharge MOSFET; protection counters (seed 003 Stats) and the alarm
 * record log (seed 004).
 */
import { makeAlarm, type Alarm } from '@openbms/core';
import type { Chemistry } from './chemistry.js';
import type { AlarmRecord } from './types.js';

/** What the BMS measures, the inputs of every rule. */
export interface Measurements {
  maxCellMv: number;
  minCellMv: number;
  deltaMv: number;
  packV: number;
  currentA: number;
  maxCellTempC: number;
  minCellTempC: number;
  mosTempC: number;
  envTempC: number;
  socPct: number;
  openSensors: number;
}

interface Rule {
  code: string;
  /** Parameter id prefix and unit suffix: `${key}_l${level}${suffix}`. */
  key: string;
  suffix: '_mv' | '_v' | '_a' | '_c';
  direction: 'high' | 'low';
  measure(m: Measurements): number;
  /** What a level-2+ trip switches off. */
  cuts: { charge: boolean; discharge: boolean };
  /** Over-current: releases after a delay (the cause vanished when the MOSFET opened). */
  recoverByDelay?: boolean;
}

const RULES: readonly Rule[] = [
  {
    code: 'cell_ov',
    key: 'cell_ov',
    suffix: '_mv',
    direction: 'high',
    measure: (m) => m.maxCellMv,
    cuts: { charge: true, discharge: false },
  },
  {
    code: 'cell_uv',
    key: 'cell_uv',
    suffix: '_mv',
    direction: 'low',
    measure: (m) => m.minCellMv,
    cuts: { charge: false, discharge: true },
  },
  {
    code: 'pack_ov',
    key: 'pack_ov',
    suffix: '_v',
    direction: 'high',
    measure: (m) => m.packV,
    cuts: { charge: true, discharge: false },
  },
  {
    code: 'pack_uv',
    key: 'pack_uv',
    suffix: '_v',
    direction: 'low',
    measure: (m) => m.packV,
    cuts: { charge: false, discharge: true },
  },
  {
    code: 'cell_diff',
    key: 'cell_diff',
    suffix: '_mv',
    direction: 'high',
    measure: (m) => m.deltaMv,
    cuts: { charge: true, discharge: true },
  },
  {
    code: 'chg_oc',
    key: 'chg_oc',
    suffix: '_a',
    direction: 'high',
    measure: (m) => Math.max(0, m.currentA),
    cuts: { charge: true, discharge: false },
    recoverByDelay: true,
  },
  {
    code: 'dsg_oc',
    key: 'dsg_oc',
    suffix: '_a',
    direction: 'high',
    measure: (m) => Math.max(0, -m.currentA),
    cuts: { charge: false, discharge: true },
    recoverByDelay: true,
  },
  {
    code: 'chg_ot',
    key: 'chg_ot',
    suffix: '_c',
    direction: 'high',
    measure: (m) => m.maxCellTempC,
    cuts: { charge: true, discharge: false },
  },
  {
    code: 'chg_ut',
    key: 'chg_ut',
    suffix: '_c',
    direction: 'low',
    measure: (m) => m.minCellTempC,
    cuts: { charge: true, discharge: false },
  },
  {
    code: 'dsg_ot',
    key: 'dsg_ot',
    suffix: '_c',
    direction: 'high',
    measure: (m) => m.maxCellTempC,
    cuts: { charge: false, discharge: true },
  },
  {
    code: 'dsg_ut',
    key: 'dsg_ut',
    suffix: '_c',
    direction: 'low',
    measure: (m) => m.minCellTempC,
    cuts: { charge: false, discharge: true },
  },
  {
    code: 'mos_ot',
    key: 'mos_ot',
    suffix: '_c',
    direction: 'high',
    measure: (m) => m.mosTempC,
    cuts: { charge: true, discharge: true },
  },
  {
    code: 'env_ot',
    key: 'env_ot',
    suffix: '_c',
    direction: 'high',
    measure: (m) => m.envTempC,
    cuts: { charge: true, discharge: true },
  },
  {
    code: 'env_ut',
    key: 'env_ut',
    suffix: '_c',
    direction: 'low',
    measure: (m) => m.envTempC,
    cuts: { charge: true, discharge: true },
  },
];

/**
 * Factory parameter set for a chemistry, cell count and capacity (seed 002-004 style).
 * `extended` adds the settings only some BMSs have (PACE: level-2 ambient protections,
 * full-charge, sleep, limiter); a pack keeps them only when its protocol carries them.
 */
export function factoryDefaults(
  chem: Chemistry,
  cells: number,
  capacityAh: number,
  extended = false,
): Record<string, number> {
  const lfp = chem === 'lfp';
  const pack = (mv: number): number => Math.round((mv * cells) / 10) / 100;
  const amps = (c: number): number => Math.round(c * capacityAh * 10) / 10;
  const ov = lfp ? [3550, 3450, 3650, 3400] : [4150, 4100, 4250, 4150];
  const uv = lfp ? [2900, 3000, 2600, 2900] : [3100, 3200, 2750, 3000];
  return {
    cell_ov_l1_mv: ov[0]!,
    cell_ov_l1_recover_mv: ov[1]!,
    cell_ov_l1_delay_s: 2,
    cell_ov_l2_mv: ov[2]!,
    cell_ov_l2_recover_mv: ov[3]!,
    cell_ov_l2_delay_s: 1,
    cell_uv_l1_mv: uv[0]!,
    cell_uv_l1_recover_mv: uv[1]!,
    cell_uv_l1_delay_s: 2,
    cell_uv_l2_mv: uv[2]!,
    cell_uv_l2_recover_mv: uv[3]!,
    cell_uv_l2_delay_s: 1,
    pack_ov_l1_v: pack(ov[0]!),
    pack_ov_l1_recover_v: pack(ov[1]!),
    pack_ov_l1_delay_s: 2,
    pack_ov_l2_v: pack(ov[2]!),
    pack_ov_l2_recover_v: pack(ov[3]!),
    pack_ov_l2_delay_s: 1,
    pack_uv_l1_v: pack(uv[0]!),
    pack_uv_l1_recover_v: pack(uv[1]!),
    pack_uv_l1_delay_s: 2,
    pack_uv_l2_v: pack(uv[2]!),
    pack_uv_l2_recover_v: pack(uv[3]!),
    pack_uv_l2_delay_s: 1,
    cell_diff_l1_mv: 300,
    cell_diff_l1_recover_mv: 200,
    cell_diff_l1_delay_s: 5,
    cell_diff_l2_mv: 500,
    cell_diff_l2_recover_mv: 300,
    cell_diff_l2_delay_s: 5,
    chg_oc_l1_a: amps(0.5),
    chg_oc_l1_delay_s: 10,
    chg_oc_l1_recover_delay_s: 5,
    chg_oc_l2_a: amps(0.6),
    chg_oc_l2_delay_s: 5,
    chg_oc_l2_recover_delay_s: 30,
    chg_oc_l3_a: amps(0.8),
    chg_oc_l3_delay_s: 1,
    chg_oc_l3_recover_delay_s: 30,
    dsg_oc_l1_a: amps(0.8),
    dsg_oc_l1_delay_s: 10,
    dsg_oc_l1_recover_delay_s: 5,
    dsg_oc_l2_a: amps(1.0),
    dsg_oc_l2_delay_s: 5,
    dsg_oc_l2_recover_delay_s: 30,
    dsg_oc_l3_a: amps(1.5),
    dsg_oc_l3_delay_s: 1,
    dsg_oc_l3_recover_delay_s: 30,
    short_circuit_a: amps(3),
    short_circuit_delay_us: 200,
    chg_ot_l1_c: 50,
    chg_ot_l1_recover_c: 45,
    chg_ot_l1_delay_s: 2,
    chg_ot_l2_c: 55,
    chg_ot_l2_recover_c: 50,
    chg_ot_l2_delay_s: 2,
    chg_ut_l1_c: 2,
    chg_ut_l1_recover_c: 5,
    chg_ut_l1_delay_s: 2,
    chg_ut_l2_c: 0,
    chg_ut_l2_recover_c: 5,
    chg_ut_l2_delay_s: 2,
    dsg_ot_l1_c: 55,
    dsg_ot_l1_recover_c: 50,
    dsg_ot_l1_delay_s: 2,
    dsg_ot_l2_c: 60,
    dsg_ot_l2_recover_c: 55,
    dsg_ot_l2_delay_s: 2,
    dsg_ut_l1_c: -15,
    dsg_ut_l1_recover_c: -10,
    dsg_ut_l1_delay_s: 2,
    dsg_ut_l2_c: -20,
    dsg_ut_l2_recover_c: -15,
    dsg_ut_l2_delay_s: 2,
    mos_ot_l1_c: 80,
    mos_ot_l1_recover_c: 70,
    mos_ot_l1_delay_s: 2,
    mos_ot_l2_c: 90,
    mos_ot_l2_recover_c: 80,
    mos_ot_l2_delay_s: 2,
    env_ot_l1_c: 60,
    env_ot_l1_recover_c: 55,
    env_ot_l1_delay_s: 5,
    env_ut_l1_c: -20,
    env_ut_l1_recover_c: -15,
    env_ut_l1_delay_s: 5,
    balance_start_mv: lfp ? 3400 : 3950,
    balance_delta_mv: 10,
    balance_current_a: 0.1,
    balance_enabled: 1,
    heater_enabled: 0,
    design_capacity_ah: capacityAh,
    cell_count: cells,
    soc_low_alarm_pct: 10,
    sleep_delay_s: 3600,
    ...(extended
      ? {
          // Ambient protections at level 2, full-charge, sleep and limiter settings: what a
          // PACE board has (PbmsTools' captured set, per cell), the other families do not.
          env_ot_l2_c: 65,
          env_ot_l2_recover_c: 60,
          env_ot_l2_delay_s: 5,
          env_ut_l2_c: -25,
          env_ut_l2_recover_c: -20,
          env_ut_l2_delay_s: 5,
          full_charge_v: pack(lfp ? 3500 : 4100),
          full_charge_current_a: Math.round(capacityAh * 2) / 100,
          sleep_cell_mv: lfp ? 3100 : 3300,
          charge_limit_start_a: Math.round(capacityAh),
        }
      : {}),
  };
}

interface LevelState {
  active: boolean;
  /** When the condition started holding (pending trip), ms. */
  since: number | undefined;
  trippedAt: number;
}

const SHORT_RECOVER_MS = 60_000;

/** Parameter ids and state of one rule level, built once (evaluate() runs every step). */
interface Level {
  rule: Rule;
  level: number;
  threshold: string;
  recover: string;
  delay: string;
  recoverDelay: string;
  s: LevelState;
}

export class Firmware {
  private readonly levels: Level[] = RULES.flatMap((rule) =>
    [1, 2, 3].map((level) => ({
      rule,
      level,
      threshold: `${rule.key}_l${level}${rule.suffix}`,
      recover: `${rule.key}_l${level}_recover${rule.suffix}`,
      delay: `${rule.key}_l${level}_delay_s`,
      recoverDelay: `${rule.key}_l${level}_recover_delay_s`,
      s: { active: false, since: undefined, trippedAt: 0 },
    })),
  );
  private readonly state = new Map<string, LevelState>(
    this.levels.map((l) => [`${l.rule.code}/${l.level}`, l.s]),
  );
  private shortSince: number | undefined;
  private shortAt: number | undefined;
  readonly counters: Record<string, number> = {};
  readonly alarmLog: AlarmRecord[] = [];
  private sensorFault = false;

  constructor(
    private readonly params: () => Record<string, number>,
    private readonly logLimit = 2000,
  ) {}

  private log(rec: AlarmRecord): void {
    this.alarmLog.push(rec);
    if (this.alarmLog.length > this.logLimit)
      this.alarmLog.splice(0, this.alarmLog.length - this.logLimit);
  }

  /** Evaluates every rule at time t (ms, the BMS clock) against the measurements. */
  evaluate(m: Measurements, t: number): void {
    const p = this.params();
    for (const lv of this.levels) {
      const threshold = p[lv.threshold];
      if (threshold === undefined) continue;
      const { rule, level, s } = lv;
      const value = rule.measure(m);
      const beyond = rule.direction === 'high' ? value >= threshold : value <= threshold;
      if (!s.active) {
        if (!beyond) {
          s.since = undefined;
          continue;
        }
        s.since ??= t;
        if (t - s.since >= (p[lv.delay] ?? 0) * 1000) {
          s.active = true;
          s.trippedAt = t;
          s.since = undefined;
          if (level >= 2) this.counters[rule.code] = (this.counters[rule.code] ?? 0) + 1;
          this.log({ time: t, code: rule.code, level, event: 'raised', value });
        }
        continue;
      }
      let release: boolean;
      if (rule.recoverByDelay) {
        release = t - s.trippedAt >= (p[lv.recoverDelay] ?? 0) * 1000 && (level >= 2 || !beyond);
      } else {
        const rec = p[lv.recover] ?? threshold;
        release = rule.direction === 'high' ? value < rec : value > rec;
      }
      if (release) {
        s.active = false;
        this.log({ time: t, code: rule.code, level, event: 'cleared', value });
      }
    }
    // Short circuit: microsecond delays, so it trips within the step it happens in.
    const sc = p.short_circuit_a;
    const short = sc !== undefined && -m.currentA >= sc;
    if (this.shortAt === undefined) {
      if (short) {
        this.shortSince ??= t;
        if (t - this.shortSince >= (p.short_circuit_delay_us ?? 0) / 1000) {
          this.shortAt = t;
          this.counters.short_circuit = (this.counters.short_circuit ?? 0) + 1;
          this.log({
            time: t,
            code: 'short_circuit',
            level: 2,
            event: 'raised',
            value: m.currentA,
          });
        }
      } else this.shortSince = undefined;
    } else if (t - this.shortAt >= SHORT_RECOVER_MS) {
      this.shortAt = undefined;
      this.shortSince = undefined;
      this.log({ time: t, code: 'short_circuit', level: 2, event: 'cleared', value: m.currentA });
    }
    const sensorFault = m.openSensors > 0;
    if (sensorFault !== this.sensorFault) {
      this.log({
        time: t,
        code: 'temp_sensor_fault',
        level: 3,
        event: sensorFault ? 'raised' : 'cleared',
        value: m.openSensors,
      });
      if (sensorFault) this.counters.temp_sensor_fault = (this.counters.temp_sensor_fault ?? 0) + 1;
      this.sensorFault = sensorFault;
    }
  }

  /** Highest active level per rule as alarms, plus short circuit and sensor faults. */
  alarms(socPct: number): Alarm[] {
    const out: Alarm[] = [];
    for (const rule of RULES) {
      let top = 0;
      for (const level of [1, 2, 3])
        if (this.state.get(`${rule.code}/${level}`)?.active) top = level;
      if (top) out.push(makeAlarm(rule.code, { level: top }));
    }
    if (this.shortAt !== undefined) out.push(makeAlarm('short_circuit', { level: 2 }));
    if (this.sensorFault) out.push(makeAlarm('temp_sensor_fault'));
    const low = this.params().soc_low_alarm_pct;
    if (low !== undefined && socPct < low) out.push(makeAlarm('soc_low', { level: 1 }));
    return out;
  }

  /** Whether active protections (level 2+) keep the charge / discharge MOSFET open. */
  cuts(): { charge: boolean; discharge: boolean } {
    let charge = this.sensorFault;
    let discharge = this.shortAt !== undefined;
    for (const rule of RULES) {
      for (const level of [2, 3]) {
        if (!this.state.get(`${rule.code}/${level}`)?.active) continue;
        charge ||= rule.cuts.charge;
        discharge ||= rule.cuts.discharge;
      }
    }
    return { charge, discharge };
  }

  isActive(code: string, level: number): boolean {
    return this.state.get(`${code}/${level}`)?.active ?? false;
  }

  /** Firmware restart: protections re-evaluated from scratch. */
  reset(): void {
    for (const l of this.levels)
      Object.assign(l.s, { active: false, since: undefined, trippedAt: 0 });
    this.shortAt = undefined;
    this.shortSince = undefined;
    this.sensorFault = false;
  }

  clearCounters(): void {
    for (const k of Object.keys(this.counters)) delete this.counters[k];
  }
}
