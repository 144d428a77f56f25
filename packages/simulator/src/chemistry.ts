/**
 * Cell chemistry: open-circuit voltage against state of charge, and the physical constants
 * the model uses. OCV tables are typical resting curves of LiFePO4 (flat plateau, steep
 * ends) and NMC ("ternary", sloped); beyond 0 % and 100 % the voltage runs away steeply, so
 * an uncontrolled charge or discharge reaches the BMS's protection thresholds.
 */
export type Chemistry = 'lfp' | 'nmc';

export interface ChemistryModel {
  /** [SOC %, OCV mV] points, SOC ascending. */
  ocv: readonly (readonly [number, number])[];
  /** Voltage rise per % of overcharge beyond 100 %, and drop per % below 0 %. */
  overSlopeMvPerPct: number;
  underSlopeMvPerPct: number;
  /** Cell internal resistance at 25 °C for a 100 Ah cell, mΩ (scales 1/capacity). */
  resistanceMohm100Ah: number;
  /** Self-discharge, % of capacity per 30 days. */
  selfDischargePctPerMonth: number;
  /** SOH lost per full equivalent cycle, %. */
  fadePctPerCycle: number;
  /** Cell voltage at which a charger switches to constant voltage (taper), mV. */
  cvMv: number;
  /** Nominal cell voltage, mV. */
  nominalMv: number;
}

export const CHEMISTRIES: Record<Chemistry, ChemistryModel> = {
  lfp: {
    ocv: [
      [0, 2500],
      [2, 2900],
      [5, 3050],
      [10, 3180],
      [20, 3230],
      [30, 3260],
      [40, 3275],
      [50, 3285],
      [60, 3295],
      [70, 3310],
      [80, 3330],
      [90, 3345],
      [95, 3360],
      [98, 3400],
      [100, 3450],
    ],
    overSlopeMvPerPct: 60,
    underSlopeMvPerPct: 150,
    resistanceMohm100Ah: 0.6,
    selfDischargePctPerMonth: 3,
    fadePctPerCycle: 0.01,
    cvMv: 3450,
    nominalMv: 3200,
  },
  nmc: {
    ocv: [
      [0, 3000],
      [2, 3250],
      [5, 3350],
      [10, 3450],
      [20, 3550],
      [30, 3610],
      [40, 3670],
      [50, 3730],
      [60, 3800],
      [70, 3880],
      [80, 3960],
      [90, 4060],
      [100, 4180],
    ],
    overSlopeMvPerPct: 25,
    underSlopeMvPerPct: 80,
    resistanceMohm100Ah: 1.2,
    selfDischargePctPerMonth: 2,
    fadePctPerCycle: 0.03,
    cvMv: 4150,
    nominalMv: 3700,
  },
};

/** Open-circuit voltage (mV) of a cell at `socPct` (may lie slightly outside 0..100). */
export function ocvMv(chem: ChemistryModel, socPct: number): number {
  const t = chem.ocv;
  const first = t[0]!;
  const last = t[t.length - 1]!;
  if (socPct <= first[0]) return first[1] + (socPct - first[0]) * chem.underSlopeMvPerPct;
  if (socPct >= last[0]) return last[1] + (socPct - last[0]) * chem.overSlopeMvPerPct;
  for (let i = 1; i < t.length; i++) {
    const [s1, v1] = t[i]!;
    if (socPct <= s1) {
      const [s0, v0] = t[i - 1]!;
      return v0 + ((socPct - s0) * (v1 - v0)) / (s1 - s0);
    }
  }
  return last[1];
}
