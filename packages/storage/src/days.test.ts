/**
 * Local days of a time zone (days.ts): the spans of constant offset, found wherever the
 * change falls in the range (also in its last 12 hours), the instants of a date (23 h, 25 h,
 * whole, half and three-quarter hour offsets), the zone check and the CSV headings.
 */
import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  columnHeading,
  csvHeaderLength,
  dayRanges,
  localDate,
  offsetAt,
  zoneOf,
  zoneSpans,
} from './days.js';

const H = 3_600_000;
/** Berlin goes to summer time at 2024-03-31T01:00Z and back at 2024-10-27T01:00Z. */
const SPRING = Date.UTC(2024, 2, 31, 1);
const AUTUMN = Date.UTC(2024, 9, 27, 1);
const dayOf = (date: string): number => Date.parse(`${date}T00:00:00Z`) / DAY_MS;

describe('zoneSpans', () => {
  it('finds a change to the millisecond, however close it is to the end of the range', () => {
    for (const before of [1, 10 * 60_000, 11 * H, 13 * H, 5 * 24 * H]) {
      for (const after of [1, 15 * 60_000, 6 * H, 30 * H]) {
        const spans = zoneSpans(SPRING - before, SPRING + after, 'Europe/Berlin');
        expect(spans, `${before} ${after}`).toEqual([
          { start: SPRING - before, end: SPRING, offset: H },
          { start: SPRING, end: SPRING + after, offset: 2 * H },
        ]);
      }
    }
    // Ending at the change: one span, nothing empty.
    expect(zoneSpans(SPRING - 20 * H, SPRING, 'Europe/Berlin')).toEqual([
      { start: SPRING - 20 * H, end: SPRING, offset: H },
    ]);
  });

  it('gives each change of a year, and one span for UTC or a zone without summer time', () => {
    const y0 = Date.UTC(2024, 0, 1);
    const y1 = Date.UTC(2025, 0, 1);
    expect(zoneSpans(y0, y1, 'Europe/Berlin').map((s) => [s.start, s.offset])).toEqual([
      [y0, H],
      [SPRING, 2 * H],
      [AUTUMN, H],
    ]);
    expect(zoneSpans(y0, y1, 'Asia/Shanghai')).toEqual([{ start: y0, end: y1, offset: 8 * H }]);
    expect(zoneSpans(y0, y1, 'UTC')).toEqual([{ start: y0, end: y1, offset: 0 }]);
    expect(zoneSpans(y1, y0, 'UTC')).toEqual([]);
  });
});

describe('dayRanges and localDate', () => {
  it('runs a day from local midnight to local midnight: 23 h and 25 h on the change days', () => {
    expect(dayRanges(dayOf('2024-03-31'), 'Europe/Berlin')).toEqual([
      [Date.UTC(2024, 2, 30, 23), Date.UTC(2024, 2, 31, 22)],
    ]);
    expect(dayRanges(dayOf('2024-10-27'), 'Europe/Berlin')).toEqual([
      [Date.UTC(2024, 9, 26, 22), Date.UTC(2024, 9, 27, 23)],
    ]);
    expect(dayRanges(dayOf('2024-06-01'), 'Asia/Shanghai')).toEqual([
      [Date.UTC(2024, 4, 31, 16), Date.UTC(2024, 5, 1, 16)],
    ]);
    expect(dayRanges(dayOf('2024-06-01'), 'Asia/Kathmandu')).toEqual([
      [Date.UTC(2024, 4, 31, 18, 15), Date.UTC(2024, 5, 1, 18, 15)],
    ]);
    expect(dayRanges(dayOf('2024-06-01'), 'UTC')).toEqual([
      [Date.UTC(2024, 5, 1), Date.UTC(2024, 5, 2)],
    ]);
  });

  it('names the local date of an instant, the first instant of a day on that day', () => {
    expect(localDate(Date.UTC(2024, 2, 30, 23), 'Europe/Berlin')).toBe('2024-03-31');
    expect(localDate(Date.UTC(2024, 2, 30, 23) - 1, 'Europe/Berlin')).toBe('2024-03-30');
    expect(localDate(Date.UTC(2024, 0, 1, 10, 30), 'America/St_Johns')).toBe('2024-01-01');
    expect(localDate(Date.UTC(2024, 0, 1, 3, 29), 'America/St_Johns')).toBe('2023-12-31');
    expect(offsetAt(Date.UTC(2024, 0, 1), 'America/St_Johns')).toBe(-3.5 * H);
  });
});

describe('zoneOf', () => {
  it('takes an IANA zone, UTC by default, and refuses anything else naming timeZone', () => {
    expect(zoneOf(undefined)).toBe('UTC');
    expect(zoneOf({})).toBe('UTC');
    expect(zoneOf({ timeZone: 'Asia/Shanghai' })).toBe('Asia/Shanghai');
    for (const bad of ['', 'Mars/Olympus', 8, null]) {
      let err: unknown;
      try {
        zoneOf({ timeZone: bad as string });
      } catch (e) {
        err = e;
      }
      expect(err, String(bad)).toMatchObject({
        code: 'REQUEST_INVALID',
        details: { field: 'timeZone' },
      });
    }
  });
});

describe('CSV headings', () => {
  it('numbers array elements from 1 and counts the header line as written', () => {
    expect(columnHeading('cell_mv.0')).toBe('cell_mv.1');
    expect(columnHeading('cell_mv.15')).toBe('cell_mv.16');
    expect(columnHeading('soc_pct')).toBe('soc_pct');
    const fields = Array.from({ length: 16 }, (_, i) => `cell_mv.${i}`);
    const line = ['time', ...fields.map(columnHeading)].join(',');
    expect(csvHeaderLength(fields)).toBe(line.length);
  });
});
