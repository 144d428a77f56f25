/**
 * Battery physics: cells in series with their own capacity, resistance and self-discharge,
 * coulomb counting, I·R sag, a lumped thermal model (cells, MOSFETs, board) with I²R
 * self-heating toward ambient, passive balancing bleed, cycle counting and capacity fade.
 * Stepped in fixed increments so the same seed always gives the same series.
 */
import { CHEMISTRIES, ocvMv, type Chemistry, type ChemistryModel } from './chemistry.js';
import { gaussian } from './clock.js';

export interface PhysicsOptions {
  chemistry: Chemistry;
  cells: number;
  capacityAh: number;
  /** Relative spread (1 sigma) of cell capacities and resistances. */
  spread?: number;
  initialSocPct?: number;
  ambientC?: number;
  tempSensors?: number;
}

export interface Cell {
  /** Capacity when new, Ah. */
  capacityAh: number;
  /** True state of charge, % (may run slightly past 0..100). */
  socPct: number;
  resistanceMohm: number;
  /** Self-discharge, fraction of capacity per second. */
  selfDischargePerS: number;
  /** Extra drain a fault injects (a cell drifting out of balance), A. */
  leakA: number;
}

const MONTH_S = 30 * 86_400;

export class BatteryPhysics {
  readonly chem: ChemistryModel;
  readonly chemistry: Chemistry;
  readonly cells: Cell[];
  readonly designAh: number;
  /** Cell temperature (lumped), MOSFET and board temperature, °C. */
  cellTempC: number;
  mosTempC: number;
  boardTempC: number;
  ambientC: number;
  /** Per-sensor offsets from the lumped cell temperature (sensor position), °C. */
  readonly sensorOffsetC: number[];
  /** Current through the pack in the last step, A (+ charging). */
  currentA = 0;
  /** Discharged Ah since new (for cycles), and fade so far (% of design). */
  dischargedAh = 0;
  fadePct = 0;
  /** Cells currently bled by the balancer. */
  balancing: boolean[];
  balanceCurrentA = 0.1;
  /** Heater power while on, W. */
  heaterW = 0;

  constructor(o: PhysicsOptions, rand: () => number) {
    this.chemistry = o.chemistry;
    this.chem = CHEMISTRIES[o.chemistry];
    this.designAh = o.capacityAh;
    const spread = o.spread ?? 0.01;
    const r0 = (this.chem.resistanceMohm100Ah * 100) / o.capacityAh;
    const soc = o.initialSocPct ?? 60;
    this.cells = Array.from({ length: o.cells }, () => ({
      capacityAh: o.capacityAh * (1 + spread * gaussian(rand)),
      socPct: soc + spread * 50 * gaussian(rand),
      resistanceMohm: r0 * (1 + 3 * spread * Math.abs(gaussian(rand))),
      selfDischargePerS:
        (this.chem.selfDischargePctPerMonth / 100 / MONTH_S) * (1 + 0.3 * gaussian(rand)),
      leakA: 0,
    }));
    this.ambientC = o.ambientC ?? 25;
    this.cellTempC = this.ambientC;
    this.mosTempC = this.ambientC;
    this.boardTempC = this.ambientC;
    const sensors = o.tempSensors ?? (o.cells >= 8 ? 4 : 2);
    this.sensorOffsetC = Array.from({ length: sensors }, () => 0.4 * gaussian(rand));
    this.balancing = this.cells.map(() => false);
  }

  get sohPct(): number {
    return Math.max(50, 100 - this.fadePct);
  }

  get fullAh(): number {
    return (this.designAh * this.sohPct) / 100;
  }

  /** Full equivalent cycles. */
  get cycles(): number {
    return Math.floor(this.dischargedAh / this.designAh + 1e-9);
  }

  /** Terminal voltage of a cell at the present current, mV. */
  cellMv(c: Cell): number {
    return ocvMv(this.chem, c.socPct) + this.currentA * c.resistanceMohm;
  }

  packResistanceMohm(): number {
    let r = 0;
    for (const c of this.cells) r += c.resistanceMohm;
    return r + 1.5; // busbars and wiring
  }

  /** Advances `dt` seconds with `current` A flowing (+ charging). */
  step(dt: number, current: number): void {
    this.currentA = current;
    const sohFactor = this.sohPct / 100;
    for (let i = 0; i < this.cells.length; i++) {
      const c = this.cells[i]!;
      const cap = c.capacityAh * sohFactor;
      const bleed = (this.balancing[i] ? this.balanceCurrentA : 0) + c.leakA;
      const ah = ((current - bleed) * dt) / 3600;
      c.socPct += (ah / cap) * 100 - c.selfDischargePerS * dt * 100;
    }
    if (current < 0) {
      const ah = (-current * dt) / 3600;
      this.dischargedAh += ah;
      this.fadePct += (ah / this.designAh) * this.chem.fadePctPerCycle;
    }
    // Heat: I²R in the cells, the MOSFETs (about 1 mΩ) and the balance resistors.
    let bleedW = 0;
    for (let i = 0; i < this.cells.length; i++) {
      if (this.balancing[i]) bleedW += this.balanceCurrentA * (this.chem.nominalMv / 1000);
    }
    const cellW = (current * current * this.packResistanceMohm()) / 1000 + this.heaterW;
    const mosW = (current * current * 1.0) / 1000;
    // Thermal masses scale with capacity (about 0.22 kg per Ah of LFP pack, 900 J/(kg K)).
    const cellMass = 200 * this.designAh;
    const cellLossWPerK = 1.2 * Math.sqrt(this.designAh); // to ambient
    this.cellTempC += ((cellW - (this.cellTempC - this.ambientC) * cellLossWPerK) * dt) / cellMass;
    this.mosTempC += ((mosW - (this.mosTempC - this.boardTempC) * 0.8) * dt) / 150;
    this.boardTempC +=
      ((bleedW +
        (this.mosTempC - this.boardTempC) * 0.8 -
        (this.boardTempC - this.ambientC) * 1.2) *
        dt) /
      400;
  }
}
