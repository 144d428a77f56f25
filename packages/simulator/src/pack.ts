/**
 * A simulated pack: physics + BMS firmware + a load profile, seen by device protocols
 * through SimPackApi. Time advances only through advanceTo(), in fixed steps, so a run is a
 * pure function of its seed, options and the instants it is observed at.
 */
import {
  BmsError,
  completeSnapshot,
  isBmsError,
  validateParameterWrite,
  type Alarm,
  type Reading,
} from '@openbms/core';
import type { Chemistry } from './chemistry.js';
import { prng } from './clock.js';
import { Firmware, factoryDefaults, type Measurements } from './firmware.js';
import { BatteryPhysics } from './physics.js';
import type { LoadProfile } from './profiles.js';
import type { AlarmRecord, CommandResult, DataRecord, SimPackApi } from './types.js';

export interface PackOptions {
  address: number;
  index: number;
  chemistry: Chemistry;
  cells: number;
  capacityAh: number;
  profile: LoadProfile;
  seed: number;
  /** Simulated start time, ms. */
  start: number;
  initialSocPct?: number;
  ambientC?: number;
  tempSensors?: number;
  /** Simulation step, ms (default 1000). */
  stepMs?: number;
  /** On-board data record interval, s (default 600). */
  recordIntervalS?: number;
  /**
   * The family's own factory settings on top of the generic ones (DeviceProtocol
   * .factoryDefaults): the values its wire can carry and the parameters only it has.
   */
  factory?: (base: Record<string, number>) => Record<string, number>;
  /**
   * The parameters the BMS has (catalog ids; default: every one of the factory set). A
   * family whose BMS has fewer (PACE has no level-1 recoveries) keeps only these, so the
   * pack never refuses a write for a rule about a parameter its protocol cannot show.
   */
  parameterIds?: readonly string[];
}

/** How long a pack sleeps after a shut-down before its button is "pressed" again, ms. */
export const SLEEP_MS = 60_000;
/**
 * Parameters every firmware keeps whatever its protocol shows (no rule relates them): the
 * short-circuit current, the balancer and heater switches, the over-current recovery delays
 * (a BMS releases an over-current protection after a time even when no register shows it).
 */
const INTERNAL_PARAMETERS = [
  'short_circuit_a',
  'balance_enabled',
  'balance_current_a',
  'heater_enabled',
  'design_capacity_ah',
  'cell_count',
  ...['chg_oc', 'dsg_oc'].flatMap((k) => [1, 2, 3].map((l) => `${k}_l${l}_recover_delay_s`)),
];

/** Faults injected into a pack (the bus-level ones live in the bus). */
export interface PackFaults {
  /** Extra discharge current, A (sudden over-current or short circuit). */
  overcurrentA: number;
  /** Temperature sensors reading open circuit (indexes into temps_c). */
  openSensors: Set<number>;
}

const OPEN_SENSOR_C = -40;
const round = (x: number, d: number): number => {
  const f = 10 ** d;
  const r = Math.round(x * f) / f;
  return r === 0 ? 0 : r;
};

export class SimPack implements SimPackApi {
  readonly address: number;
  readonly index: number;
  readonly chemistry: Chemistry;
  readonly info;
  readonly physics: BatteryPhysics;
  readonly firmware: Firmware;
  readonly faults: PackFaults = { overcurrentA: 0, openSensors: new Set() };
  profile: LoadProfile;
  private readonly rand: () => number;
  private params: Record<string, number>;
  private readonly factory: Record<string, number>;
  private t: number;
  private readonly stepMs: number;
  private rtcOffset = 0;
  private userCharge = true;
  private userDischarge = true;
  private remainingAh: number;
  private heater = false;
  private readonly records: DataRecord[] = [];
  private nextRecord: number;
  private readonly recordMs: number;
  /** Calibration: reported = true x gain (+ offset for the current). */
  private voltageGain = 1;
  private currentGain = { charge: 1, discharge: 1 };
  private currentOffset = 0;
  private cycleOffset = 0;
  private fullAhSet: number | undefined;
  private designAhSet: number | undefined;
  private sleepUntil: number | undefined;

  constructor(o: PackOptions) {
    this.address = o.address;
    this.index = o.index;
    this.chemistry = o.chemistry;
    this.profile = o.profile;
    this.rand = prng(o.seed * 7919 + o.index * 104_729 + 1);
    this.physics = new BatteryPhysics(
      {
        chemistry: o.chemistry,
        cells: o.cells,
        capacityAh: o.capacityAh,
        initialSocPct: o.initialSocPct ?? 60,
        ...(o.ambientC !== undefined ? { ambientC: o.ambientC } : {}),
        ...(o.tempSensors !== undefined ? { tempSensors: o.tempSensors } : {}),
      },
      this.rand,
    );
    const base = factoryDefaults(o.chemistry, o.cells, o.capacityAh, o.parameterIds !== undefined);
    const all = o.factory ? o.factory(base) : base;
    const keep = o.parameterIds ? new Set([...o.parameterIds, ...INTERNAL_PARAMETERS]) : undefined;
    this.factory = keep
      ? Object.fromEntries(Object.entries(all).filter(([id]) => keep.has(id)))
      : all;
    this.params = { ...this.factory };
    this.firmware = new Firmware(() => this.params);
    this.t = o.start;
    this.stepMs = o.stepMs ?? 1000;
    this.recordMs = (o.recordIntervalS ?? 600) * 1000;
    this.nextRecord = o.start + this.recordMs;
    this.remainingAh = (this.physics.fullAh * (o.initialSocPct ?? 60)) / 100;
    const serial = `OBS${o.chemistry.toUpperCase()}${String(o.seed % 10_000).padStart(4, '0')}${String(o.index + 1).padStart(2, '0')}`;
    this.info = {
      model: `OBMS-${o.chemistry === 'lfp' ? 'LFP' : 'NMC'}-${o.cells}S${Math.round(o.capacityAh)}`,
      manufacturer: 'OpenBMS Simulator',
      hw_version: 'HW1.2',
      sw_version: '3.81',
      serial,
      barcode: `BC${serial}`,
    };
    this.evaluate();
  }

  /** Simulated time of the pack's state, ms. */
  get time(): number {
    return this.t;
  }

  /** Advances the simulation to time `t` in whole steps. */
  advanceTo(t: number): void {
    while (this.t + this.stepMs <= t) this.step();
  }

  private cellTemps(): number[] {
    const p = this.physics;
    return p.sensorOffsetC.map((o, i) =>
      this.faults.openSensors.has(i) ? OPEN_SENSOR_C : p.cellTempC + o,
    );
  }

  private readonly cellMv: number[] = [];

  private measure(): Measurements {
    const p = this.physics;
    let max = -Infinity;
    let min = Infinity;
    let sum = 0;
    for (let i = 0; i < p.cells.length; i++) {
      const v = p.cellMv(p.cells[i]!);
      this.cellMv[i] = v;
      sum += v;
      if (v > max) max = v;
      if (v < min) min = v;
    }
    let maxT = -Infinity;
    let minT = Infinity;
    for (let i = 0; i < p.sensorOffsetC.length; i++) {
      if (this.faults.openSensors.has(i)) continue;
      const v = p.cellTempC + p.sensorOffsetC[i]!;
      if (v > maxT) maxT = v;
      if (v < minT) minT = v;
    }
    return {
      maxCellMv: max,
      minCellMv: min,
      deltaMv: max - min,
      packV: sum / 1000,
      currentA: p.currentA,
      maxCellTempC: maxT === -Infinity ? p.cellTempC : maxT,
      minCellTempC: minT === Infinity ? p.cellTempC : minT,
      mosTempC: p.mosTempC,
      envTempC: p.ambientC,
      socPct: this.socPct,
      openSensors: this.faults.openSensors.size,
    };
  }

  /** The full-charge capacity the BMS counts with (set by a capacity calibration). */
  private get fullAh(): number {
    return this.fullAhSet ?? this.physics.fullAh;
  }

  private get socPct(): number {
    return Math.min(100, Math.max(0, (this.remainingAh / this.fullAh) * 100));
  }

  private get chargeMos(): boolean {
    return this.userCharge && !this.firmware.cuts().charge;
  }

  private get dischargeMos(): boolean {
    return this.userDischarge && !this.firmware.cuts().discharge;
  }

  private evaluate(): void {
    const before = this.firmware.cuts();
    const logged = this.firmware.alarmLog.length;
    this.firmware.evaluate(this.measure(), this.t);
    // An alarm raised or cleared is written to the history at once (PACE 0xA1 records).
    for (const rec of this.firmware.alarmLog.slice(logged)) {
      this.takeRecord(`${rec.code} ${rec.event}`);
    }
    const after = this.firmware.cuts();
    // Recalibrate the coulomb counter where the cells say where they are.
    if (!before.charge && after.charge && this.firmware.isActive('cell_ov', 2))
      this.remainingAh = this.fullAh;
    if (!before.discharge && after.discharge && this.firmware.isActive('cell_uv', 2))
      this.remainingAh = 0;
  }

  private step(): void {
    const dt = this.stepMs / 1000;
    const p = this.physics;
    const m = this.measure();
    let want = this.profile.current({
      t: this.t,
      rand: this.rand,
      capacityAh: p.designAh,
      socPct: this.socPct,
      maxCellMv: m.maxCellMv,
      cvMv: p.chem.cvMv,
    });
    want -= this.faults.overcurrentA;
    const current = (want > 0 && !this.chargeMos) || (want < 0 && !this.dischargeMos) ? 0 : want;
    // Passive balancing: cells above the start voltage and more than delta above the lowest.
    const balanceOn = (this.params.balance_enabled ?? 1) >= 1;
    const start = this.params.balance_start_mv ?? Infinity;
    const delta = this.params.balance_delta_mv ?? 10;
    p.balanceCurrentA = this.params.balance_current_a ?? 0.1;
    for (let i = 0; i < p.cells.length; i++) {
      const v = this.cellMv[i]!; // measured by measure() above
      p.balancing[i] = balanceOn && v >= start && v - m.minCellMv >= delta;
    }
    // Heater: below 5 °C while a charger offers current, until 10 °C.
    if ((this.params.heater_enabled ?? 0) >= 1 && want > 0) {
      if (m.minCellTempC < 5) this.heater = true;
      else if (m.minCellTempC >= 10) this.heater = false;
    } else this.heater = false;
    p.heaterW = this.heater ? p.designAh : 0;
    p.step(dt, current);
    this.remainingAh = Math.min(this.fullAh, Math.max(0, this.remainingAh + (current * dt) / 3600));
    this.t += this.stepMs;
    this.evaluate();
    if (this.t >= this.nextRecord) {
      this.takeRecord();
      this.nextRecord += this.recordMs;
    }
  }

  private takeRecord(event?: string): void {
    const s = this.snapshot();
    const rec: DataRecord = {
      time: this.clock(),
      voltage_v: s.voltage_v!,
      current_a: s.current_a!,
      soc_pct: s.soc_pct!,
      max_cell_mv: s.max_cell_mv!,
      min_cell_mv: s.min_cell_mv!,
      max_temp_c: s.max_temp_c!,
      min_temp_c: s.min_temp_c!,
      alarms: (s.alarms ?? []).map((a) => a.code),
      active: s.alarms ?? [],
      cell_mv: s.cell_mv!,
      temps_c: s.temps_c!,
      remaining_ah: s.remaining_ah!,
      full_ah: s.full_ah!,
      cycles: s.cycles!,
      charge_mos: s.charge_mos!,
      discharge_mos: s.discharge_mos!,
    };
    if (event !== undefined) rec.event = event;
    this.records.push(rec);
    if (this.records.length > 2000) this.records.splice(0, this.records.length - 2000);
  }

  snapshot(): Reading {
    const p = this.physics;
    const cells = p.cells.map((c) => Math.round(p.cellMv(c)));
    const voltage = (cells.reduce((a, b) => a + b, 0) / 1000) * this.voltageGain;
    const trueI = p.currentA;
    const gain = trueI >= 0 ? this.currentGain.charge : this.currentGain.discharge;
    const current = round(trueI * gain + this.currentOffset, 2);
    const temps = this.cellTemps().map((t) => round(t, 1));
    const r: Reading = {
      voltage_v: round(voltage, 3),
      current_a: current,
      power_w: round(voltage * current, 1),
      soc_pct: round(this.socPct, 1),
      soh_pct: round(p.sohPct, 1),
      remaining_ah: round(this.remainingAh, 2),
      full_ah: round(this.fullAh, 2),
      design_ah: this.designAhSet ?? p.designAh,
      cycles: p.cycles + this.cycleOffset,
      cell_count: cells.length,
      cell_mv: cells,
      cell_balancing: [...p.balancing],
      balancing: p.balancing.some(Boolean),
      temp_sensor_count: temps.length,
      temps_c: temps,
      mos_temp_c: round(p.mosTempC, 1),
      board_temp_c: round(p.boardTempC, 1),
      env_temp_c: round(p.ambientC, 1),
      charge_mos: this.chargeMos,
      discharge_mos: this.dischargeMos,
      heater: this.heater,
      state: current > 0.05 ? 'charging' : current < -0.05 ? 'discharging' : 'idle',
      alarms: this.activeAlarms(),
      info: { ...this.info },
    };
    const valid = temps.filter((_, i) => !this.faults.openSensors.has(i));
    if (valid.length) {
      r.max_temp_c = Math.max(...valid);
      r.min_temp_c = Math.min(...valid);
    }
    if (this.faults.openSensors.size)
      r.raw = { open_sensors: [...this.faults.openSensors].sort((a, b) => a - b) };
    if ((r.alarms ?? []).some((a) => a.severity === 'fault')) r.state = 'fault';
    return completeSnapshot(r);
  }

  parameters(): Record<string, number> {
    return { ...this.params };
  }

  defaults(): Record<string, number> {
    return { ...this.factory };
  }

  /**
   * Parameters the firmware refuses to change (as some BMSs lock settings behind a password
   * or while charging): a write that touches one is refused whole. Tests use it to make a
   * device refuse part of a multi-parameter write.
   */
  readonly lockedParameters = new Set<string>();

  writeParameters(changes: Record<string, number>): CommandResult {
    const locked = Object.keys(changes).filter((id) => this.lockedParameters.has(id));
    if (locked.length > 0) {
      return {
        ok: false,
        reason: `${locked.join(', ')} ${locked.length > 1 ? 'are' : 'is'} locked by the BMS`,
        code: 'COMMAND_REFUSED',
      };
    }
    try {
      validateParameterWrite(changes, this.params, {
        chemistry: this.chemistry,
        cellCount: this.physics.cells.length,
      });
    } catch (e) {
      if (!isBmsError(e)) throw e;
      return { ok: false, reason: e.message, code: e.code };
    }
    this.params = { ...this.params, ...changes };
    this.evaluate();
    return { ok: true };
  }

  restoreDefaults(): void {
    this.params = { ...this.factory };
    this.evaluate();
  }

  setMos(which: 'charge' | 'discharge', on: boolean): CommandResult {
    const i = this.physics.currentA;
    // Seed 004's interlock: no opening a FET while current flows through the other one.
    if (!on && which === 'charge' && i < -0.5) {
      return {
        ok: false,
        reason: `discharge current flows (${round(i, 1)} A): the charge MOSFET cannot be switched off now`,
      };
    }
    if (!on && which === 'discharge' && i > 0.5) {
      return {
        ok: false,
        reason: `charge current flows (${round(i, 1)} A): the discharge MOSFET cannot be switched off now`,
      };
    }
    if (which === 'charge') this.userCharge = on;
    else this.userDischarge = on;
    return { ok: true };
  }

  /** Sets the BMS's state-of-charge estimate (its coulomb counter), as a BMS app does. */
  setSoc(pct: number): CommandResult {
    if (!(pct >= 0 && pct <= 100)) return { ok: false, reason: `SOC ${pct} % is outside 0..100 %` };
    this.remainingAh = (this.fullAh * pct) / 100;
    return { ok: true };
  }

  calibrate(kind: string, value: number): CommandResult {
    if (!Number.isFinite(value)) return { ok: false, reason: 'not a number' };
    const p = this.physics;
    const trueV = p.cells.reduce((a, c) => a + Math.round(p.cellMv(c)), 0) / 1000;
    const trueI = p.currentA;
    const within = (gain: number): boolean => gain >= 0.9 && gain <= 1.1;
    switch (kind) {
      case 'total_voltage': {
        const gain = value / trueV;
        if (!within(gain))
          return {
            ok: false,
            reason: `${value} V is more than 10 % off the measured ${round(trueV, 3)} V`,
          };
        this.voltageGain = gain;
        return { ok: true };
      }
      case 'current_zero':
        if (Math.abs(trueI) > 0.5)
          return { ok: false, reason: `${round(trueI, 2)} A flows: no zero point now` };
        this.currentOffset = -trueI;
        return { ok: true };
      case 'charge_current':
      case 'discharge_current': {
        const charge = kind === 'charge_current';
        if (charge ? trueI <= 0.5 : trueI >= -0.5) {
          return {
            ok: false,
            reason: `no ${charge ? 'charge' : 'discharge'} current flows (${round(trueI, 2)} A)`,
          };
        }
        const gain = (charge ? value : -value) / trueI;
        if (!within(gain))
          return { ok: false, reason: `${value} A is more than 10 % off the measured current` };
        this.currentGain = { ...this.currentGain, [charge ? 'charge' : 'discharge']: gain };
        return { ok: true };
      }
      case 'remaining_capacity':
        if (value < 0 || value > this.fullAh)
          return {
            ok: false,
            reason: `remaining ${value} Ah is outside 0..${round(this.fullAh, 2)} Ah`,
          };
        this.remainingAh = value;
        return { ok: true };
      case 'full_capacity':
        if (value <= 0 || value < this.remainingAh)
          return { ok: false, reason: `full ${value} Ah is below the remaining capacity` };
        this.fullAhSet = value;
        return { ok: true };
      case 'design_capacity':
        if (value <= 0) return { ok: false, reason: 'the design capacity must be above 0' };
        this.designAhSet = value;
        return { ok: true };
      case 'soc':
        return this.setSoc(value);
      case 'cycles':
        if (!Number.isInteger(value) || value < 0)
          return { ok: false, reason: 'cycles must be a whole number' };
        this.cycleOffset = value - p.cycles;
        return { ok: true };
      default:
        return { ok: false, reason: `this BMS cannot calibrate ${kind}` };
    }
  }

  shutdown(): CommandResult {
    // A flowing current restarts the BMS at once (pace.md 7.3).
    if (Math.abs(this.physics.currentA) > 0.5) return { ok: true };
    this.sleepUntil = this.t + SLEEP_MS;
    return { ok: true };
  }

  asleep(): boolean {
    if (this.sleepUntil !== undefined && this.t >= this.sleepUntil) {
      this.sleepUntil = undefined;
      this.takeRecord('power_on');
    }
    return this.sleepUntil !== undefined;
  }

  clock(): number {
    return this.t + this.rtcOffset;
  }

  setClock(ms: number): void {
    if (!Number.isFinite(ms)) throw new BmsError('INVALID_ARGUMENT', 'clock must be a finite time');
    this.rtcOffset = ms - this.t;
  }

  counters(): Record<string, number> {
    return { ...this.firmware.counters };
  }

  dataRecords(): readonly DataRecord[] {
    return this.records;
  }

  alarmRecords(): readonly AlarmRecord[] {
    return this.firmware.alarmLog;
  }

  clearRecords(kind: 'data' | 'alarm' | 'all'): void {
    if (kind !== 'alarm') this.records.length = 0;
    if (kind !== 'data') this.firmware.alarmLog.length = 0;
  }

  activeAlarms(): Alarm[] {
    return this.firmware.alarms(this.socPct);
  }

  restart(): void {
    this.userCharge = true;
    this.userDischarge = true;
    this.firmware.reset();
    this.evaluate();
  }
}
