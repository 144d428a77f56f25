/**
 * Sunrise and sunset against published tables, within 2 minutes (the tables round to the
 * minute), and polar day / polar night without events.
 *
 * Sources:
 * 1. U.S. Naval Observatory, Astronomical Applications Dept., "Rise and Set for the Sun for
 *    2008", Cupertino CA (W121°55', N37°24'), zone 8h west of Greenwich (standard time all
 *    year), as reproduced at https://khuang.blogspot.com/2008/09/sunrise-sunset-time-for-one-year.html
 *    (days 1 and 3 of each month used here).
 * 2. Sunrise/sunset for Cleveland OH "according to the United States Naval Observatory",
 *    local clock time (EDT/EST), Nov 2018 - Jun 2019, published by cleveland.com on
 *    2018-12-07: https://www.cleveland.com/datacentral/2018/12/getting-out-of-the-dark-cleveland-sunsets-begin-getting-later-on-saturday.html
 *    Position: USNO's Cleveland entry W081°40' N41°29' (https://www.cs.cornell.edu/insight/FVL/InsightData/11_1/SunriseSunsetData.zip, ReadMe.txt).
 */
import { describe, expect, it } from 'vitest';
import { SunScheduler } from './scheduler.js';
import { sunEvents, type SunEvent, type SunKind } from './sun.js';
import { formatLocal } from './time.js';
import { ManualTimers } from '../../testing/notify.js';

const TOLERANCE_MS = 2 * 60_000;

/** The event of `kind` on the local day of `expected` nearest to it. */
function nearest(kind: SunKind, expected: number, place: { latitude: number; longitude: number }) {
  const events = sunEvents(expected - 12 * 3_600_000, expected + 12 * 3_600_000, place).filter(
    (e) => e.kind === kind,
  );
  let best: SunEvent | undefined;
  for (const e of events) {
    if (!best || Math.abs(e.at - expected) < Math.abs(best.at - expected)) best = e;
  }
  return best;
}

/** "hhmm" local clock time at a fixed UTC offset (hours, west negative) -> UTC ms. */
function at(y: number, m: number, d: number, hhmm: string, offsetH: number): number {
  const h = Number(hhmm.slice(0, hhmm.length - 2));
  const min = Number(hhmm.slice(-2));
  return Date.UTC(y, m - 1, d, h, min) - offsetH * 3_600_000;
}

describe('sunrise and sunset vs published tables', () => {
  const cupertino = { latitude: 37 + 24 / 60, longitude: -(121 + 55 / 60) };
  // [month, day, rise, set], USNO 2008, UTC-8.
  const table: [number, number, string, string][] = [
    [1, 1, '0722', '1700'],
    [2, 1, '0711', '1732'],
    [3, 1, '0638', '1802'],
    [4, 1, '0552', '1831'],
    [5, 1, '0512', '1858'],
    [6, 1, '0448', '1923'],
    [7, 1, '0451', '1932'],
    [8, 1, '0512', '1915'],
    [9, 1, '0539', '1836'],
    [10, 1, '0604', '1750'],
    [11, 1, '0633', '1709'],
    [12, 1, '0704', '1650'],
    [3, 3, '0635', '1804'],
    [4, 3, '0549', '1833'],
    [9, 3, '0540', '1833'],
    [10, 3, '0605', '1747'],
  ];

  it.each(table)('Cupertino 2008-%i-%i: rise %s, set %s (USNO)', (m, d, rise, set) => {
    for (const [kind, hhmm] of [
      ['sunrise', rise],
      ['sunset', set],
    ] as const) {
      const expected = at(2008, m, d, hhmm, -8);
      const got = nearest(kind, expected, cupertino);
      expect(got, `${kind} found`).toBeDefined();
      expect(Math.abs(got!.at - expected), `${kind} ${hhmm}`).toBeLessThanOrEqual(TOLERANCE_MS);
    }
  });

  const cleveland = { latitude: 41 + 29 / 60, longitude: -(81 + 40 / 60) };
  // [y, m, d, rise, set, UTC offset], local clock time as published.
  const cle: [number, number, number, string, string, number][] = [
    [2018, 11, 1, '0758', '1822', -4],
    [2018, 11, 2, '0800', '1820', -4],
    [2018, 11, 3, '0801', '1819', -4],
    [2018, 11, 4, '0702', '1718', -5],
    [2018, 11, 10, '0709', '1711', -5],
    [2018, 11, 15, '0715', '1707', -5],
    [2018, 12, 21, '0750', '1700', -5],
    [2019, 6, 21, '0553', '2104', -4],
  ];

  it.each(cle)(
    'Cleveland %i-%i-%i: rise %s, set %s (USNO via cleveland.com)',
    (y, m, d, rise, set, off) => {
      for (const [kind, hhmm] of [
        ['sunrise', rise],
        ['sunset', set],
      ] as const) {
        const expected = at(y, m, d, hhmm, off);
        const got = nearest(kind, expected, cleveland);
        expect(got, `${kind} found`).toBeDefined();
        expect(Math.abs(got!.at - expected), `${kind} ${hhmm}`).toBeLessThanOrEqual(TOLERANCE_MS);
      }
    },
  );

  it('prints local clock time with daylight saving from the IANA zone', () => {
    // Summer (EDT, UTC-4) and winter (EST, UTC-5): the zone picks the offset.
    const rise = nearest('sunrise', at(2019, 6, 21, '0553', -4), cleveland)!;
    expect(['2019-06-21 05:51', '2019-06-21 05:52', '2019-06-21 05:53']).toContain(
      formatLocal(rise.at, 'America/New_York'),
    );
    const winter = nearest('sunset', at(2018, 12, 21, '1700', -5), cleveland)!;
    expect(['2018-12-21 16:58', '2018-12-21 16:59', '2018-12-21 17:00']).toContain(
      formatLocal(winter.at, 'America/New_York'),
    );
  });
});

describe('polar day and polar night', () => {
  const tromso = { latitude: 69.65, longitude: 18.96 };

  it('has no sunrise or sunset in Tromsø around the solstices', () => {
    const midwinter = Date.UTC(2026, 11, 21);
    const midsummer = Date.UTC(2026, 5, 21);
    expect(sunEvents(midwinter - 86_400_000, midwinter + 86_400_000, tromso)).toEqual([]);
    expect(sunEvents(midsummer - 86_400_000, midsummer + 86_400_000, tromso)).toEqual([]);
    // ...but in March it has both.
    const march = Date.UTC(2026, 2, 20);
    expect(
      sunEvents(march, march + 86_400_000, tromso)
        .map((e) => e.kind)
        .sort(),
    ).toEqual(['sunrise', 'sunset']);
  });

  it('the scheduler fires nothing through a polar night and every event elsewhere', () => {
    const start = Date.UTC(2026, 11, 20);
    const run = (place: { latitude: number; longitude: number }): SunEvent[] => {
      const timers = new ManualTimers(start);
      const fired: SunEvent[] = [];
      const s = new SunScheduler({ place, clock: timers, timers, onEvent: (e) => fired.push(e) });
      s.start();
      timers.advance(2 * 86_400_000);
      s.stop();
      return fired;
    };
    expect(run(tromso)).toEqual([]);
    const berlin = run({ latitude: 52.52, longitude: 13.4 });
    expect(berlin.map((e) => e.kind)).toEqual(['sunrise', 'sunset', 'sunrise', 'sunset']);
    // Berlin 2026-12-20: sunrise about 08:15 CET (07:15 UTC), sunset about 15:54 CET.
    expect(formatLocal(berlin[0]!.at, 'Europe/Berlin')).toMatch(/^2026-12-20 08:1\d$/);
    expect(formatLocal(berlin[1]!.at, 'Europe/Berlin')).toMatch(/^2026-12-20 15:5\d$/);
  });
});
