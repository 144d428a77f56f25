import { describe, expect, it } from 'vitest';
import { decimalsFor, timeTicks } from './axis';
import {
  align,
  envelope,
  hasSpread,
  indexed,
  legendValue,
  powerOf,
  splitPower,
  spread,
} from './data';
import { fromLocalInput, presetRange, toLocalInput } from './range';

const s = (t: number[], avg: number[], min = avg, max = avg) => ({ t, avg, min, max });

describe('history data shaping', () => {
  it('keeps a shared time axis as is and computes the cell spread per point', () => {
    const t = [1000, 2000, 3000];
    const view = {
      series: {
        'cell_mv.0': s(t, [3300, 3310, 3290]),
        'cell_mv.1': s(t, [3305, 3301, 3295]),
        'cell_mv.10': s(t, [3299, 3320, 3280]),
      },
    };
    const keys = indexed(view, 'cell_mv');
    expect(keys).toEqual(['cell_mv.0', 'cell_mv.1', 'cell_mv.10']);
    const a = align(view, keys);
    expect(a.x).toBe(t);
    expect(spread(a.avg, a.x.length)).toEqual([6, 19, 15]);
    expect(hasSpread(a.min, a.max)).toBe(false);
  });

  it('joins series with different times, leaving holes as null', () => {
    const a = align(
      { series: { a: s([1000, 2000, 3000], [1, 2, 3]), b: s([2000, 3000, 4000], [20, 30, 40]) } },
      ['a', 'b'],
    );
    expect(a.x).toEqual([1000, 2000, 3000, 4000]);
    expect(a.avg).toEqual([
      [1, 2, 3, null],
      [null, 20, 30, 40],
    ]);
    expect(spread(a.avg, 4)).toEqual([null, 18, 27, null]);
  });

  it('breaks the line where the store holds nothing for a long time', () => {
    const t = [0, 10, 20, 30, 40, 1000, 1010];
    const a = align({ series: { v: s(t, [1, 2, 3, 4, 5, 6, 7]) } }, ['v']);
    expect(a.x).toEqual([0, 10, 20, 30, 40, 50, 1000, 1010]);
    expect(a.avg[0]).toEqual([1, 2, 3, 4, 5, null, 6, 7]);
  });

  it('finds the envelope of rollup ranges', () => {
    const t = [0, 60_000];
    const view = {
      series: { a: s(t, [10, 11], [9, 10], [12, 13]), b: s(t, [20, 21], [19, 18], [22, 25]) },
    };
    const a = align(view, ['a', 'b']);
    expect(hasSpread(a.min, a.max)).toBe(true);
    expect(envelope(a.min, a.max, 2)).toEqual({ lo: [9, 10], hi: [22, 25] });
  });

  it('splits power into charge and discharge areas and derives it from V x A', () => {
    expect(splitPower([100, -50, 0, null])).toEqual({
      charge: [100, 0, 0, null],
      discharge: [0, -50, 0, null],
    });
    expect(powerOf([52, 51.5, null], [10, -2, 3])).toEqual([520, -103, null]);
  });
});

describe('axis labels and ranges', () => {
  it('uses as many decimals as the tick step needs', () => {
    expect([20, 1, 0.5, 0.25, 0.1, 0.05].map(decimalsFor)).toEqual([0, 0, 1, 2, 1, 2]);
  });

  it('labels hours with the date where the day changes, months for long spans', () => {
    const base = new Date(2026, 0, 31, 22, 0).getTime();
    const h = timeTicks('en-GB', [base, base + 3600_000, base + 7200_000], 3600_000);
    expect(h[0]).toBe('22:00\n31 Jan');
    expect(h[1]).toBe('23:00');
    expect(h[2]).toBe('00:00\n1 Feb');
    const m = timeTicks('en-GB', [new Date(2026, 2, 1).getTime()], 31 * 86400_000);
    expect(m[0]).toBe('Mar 2026');
  });

  it('round-trips datetime-local values and rejects impossible dates', () => {
    const ms = new Date(2026, 10, 21, 8, 5).getTime();
    expect(toLocalInput(ms)).toBe('2026-11-21T08:05');
    expect(fromLocalInput('2026-11-21T08:05')).toBe(ms);
    expect(fromLocalInput('2026-02-31T08:05')).toBeNaN();
    expect(fromLocalInput('yesterday')).toBeNaN();
    const r = presetRange('1y', 1_000_000_000_500);
    expect(r.to - r.from).toBe(365 * 86400_000);
    expect(r.to).toBe(1_000_000_001_000);
  });
});

describe('legend values', () => {
  it('states the direction once: "Discharging 231 W", not "Discharging -231 W"', () => {
    expect(legendValue({ magnitude: true }, -231)).toBe(231);
    expect(legendValue({}, -231)).toBe(-231);
    expect(legendValue({ magnitude: true }, null)).toBeNull();
  });
});
