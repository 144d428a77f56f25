import { describe, expect, it } from 'vitest';
import type { HistoryView } from '@openbms/contract/api';
import { foldSnapshot, todayFromHistory } from './today';

const MIN = 60_000;
const series = (t: number[], v: number[]) => ({ t, avg: v, min: v, max: v });

describe('today', () => {
  it('takes max/min SOC with their times, energy in and out, and the worst delta from history', () => {
    const t = [0, MIN, 2 * MIN, 3 * MIN].map((x) => 1_000_000 + x);
    const h: HistoryView = {
      pack_id: 'p',
      resolution: '1m',
      from: t[0]!,
      to: t[3]!,
      series: {
        soc_pct: series(t, [50, 60, 40, 45]),
        // 6 kW for a minute = 100 Wh in; -3 kW for a minute = 50 Wh out; then 0.
        power_w: series(t, [6000, -3000, 0, 0]),
        delta_cell_mv: series(t, [5, 12, 7, 3]),
      },
    };
    const d = todayFromHistory(h);
    expect(d.maxSoc).toEqual({ pct: 60, at: t[1] });
    expect(d.minSoc).toEqual({ pct: 40, at: t[2] });
    expect(d.chargedKwh).toBeCloseTo(0.1, 6);
    expect(d.dischargedKwh).toBeCloseTo(0.05, 6);
    expect(d.worstDeltaMv).toBe(12);
  });

  it('extends the day with live snapshots and skips a gap it did not see', () => {
    let d = foldSnapshot({ chargedKwh: 0, dischargedKwh: 0 }, { soc_pct: 70, power_w: 1200 }, 0);
    d = foldSnapshot(d, { soc_pct: 71, power_w: 1200, delta_cell_mv: 4 }, 30 * MIN);
    expect(d.chargedKwh).toBeCloseTo(0, 6); // 30 min without a reading: not integrated
    d = foldSnapshot(d, { soc_pct: 72, power_w: 0 }, 40 * MIN);
    expect(d.chargedKwh).toBeCloseTo(0.2, 6); // 1.2 kW for 10 min
    expect(d.maxSoc).toEqual({ pct: 72, at: 40 * MIN });
    expect(d.minSoc).toEqual({ pct: 70, at: 0 });
    expect(d.worstDeltaMv).toBe(4);
    expect(foldSnapshot(d, { soc_pct: 99 }, 40 * MIN)).toBe(d); // not newer: ignored
  });
});
