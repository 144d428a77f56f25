import { describe, expect, it } from 'vitest';
import type { HistoryView } from '@openbms/contract/api';
import { foldSnapshot, todayFromHistory, withEnergy } from './today';

const MIN = 60_000;
const series = (t: number[], v: number[]) => ({ t, avg: v, min: v, max: v });
const row = (charged: number, discharged: number) => ({
  period: '2026-12-07',
  start: 0,
  charged_kwh: charged,
  discharged_kwh: discharged,
});

describe('today', () => {
  it('takes max/min SOC with their times and the worst delta from history', () => {
    const t = [0, MIN, 2 * MIN, 3 * MIN].map((x) => 1_000_000 + x);
    const h: HistoryView = {
      pack_id: 'p',
      resolution: '1m',
      from: t[0]!,
      to: t[3]!,
      series: {
        soc_pct: series(t, [50, 60, 40, 45]),
        delta_cell_mv: series(t, [5, 12, 7, 3]),
      },
    };
    const d = todayFromHistory(h);
    expect(d.maxSoc).toEqual({ pct: 60, at: t[1] });
    expect(d.minSoc).toEqual({ pct: 40, at: t[2] });
    expect(d.worstDeltaMv).toBe(12);
    expect(d.lastAt).toBe(t[3]);
  });

  it("shows the server's energy for today, then adds what the pack's meters gained live", () => {
    // The demo's symptom: power over wall time gave 0.09 kWh while SOC went 100 -> 0 %; the
    // server's figure comes from meters counted in the device's time.
    let d = withEnergy({ chargedKwh: 0, dischargedKwh: 0 }, row(1.5, 5.12), {
      energy_charged_kwh: 40,
      energy_discharged_kwh: 100,
    });
    expect([d.chargedKwh, d.dischargedKwh]).toEqual([1.5, 5.12]);
    d = foldSnapshot(
      d,
      { soc_pct: 70, energy_charged_kwh: 40.25, energy_discharged_kwh: 100 },
      MIN,
    );
    expect(d.chargedKwh).toBeCloseTo(1.75, 6);
    expect(d.dischargedKwh).toBeCloseTo(5.12, 6);
    // A meter that went down (a reset) adds nothing, never a negative figure.
    d = foldSnapshot(
      d,
      { soc_pct: 71, energy_charged_kwh: 0.1, energy_discharged_kwh: 3 },
      2 * MIN,
    );
    expect([d.chargedKwh, d.dischargedKwh]).toEqual([1.5, 5.12]);
    expect(d.maxSoc).toEqual({ pct: 71, at: 2 * MIN });
    expect(foldSnapshot(d, { soc_pct: 99 }, 2 * MIN)).toBe(d); // not newer: ignored
  });

  it('takes the first live meters as the reference when the snapshot at the answer had none', () => {
    let d = withEnergy({ chargedKwh: 0, dischargedKwh: 0 }, row(2, 1), undefined);
    d = foldSnapshot(d, { energy_charged_kwh: 10, energy_discharged_kwh: 20 }, MIN);
    expect([d.chargedKwh, d.dischargedKwh]).toEqual([2, 1]);
    d = foldSnapshot(d, { energy_charged_kwh: 10.5, energy_discharged_kwh: 20 }, 2 * MIN);
    expect([d.chargedKwh, d.dischargedKwh]).toEqual([2.5, 1]);
  });
});
