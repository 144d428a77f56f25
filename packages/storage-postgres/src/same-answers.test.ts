/**
 * PostgreSQL answers history as SQLite does: the same samples (irregular times, some without
 * a series, some with fewer cells) written to both adapters, rolled up at the same instant,
 * then asked the same questions (each tier, auto, small and large maxPoints, ranges cutting
 * buckets): the same times, minima and maxima, averages within rounding (SQLite folds
 * averages already rounded to 3 decimals, PostgreSQL exact sums).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng } from '@openbms/core';
import { localScope, type HistoryQuery, type Sample, type Storage } from '@openbms/storage';
import { TEST_ORIGIN, contractSnapshot } from '@openbms/storage/testing';
import { SqliteStorage } from '@openbms/storage-sqlite';
import { PostgresStorage } from './storage.js';
import { createTestDatabase, type TestDatabase } from './testing/index.js';

let db: TestDatabase;
let pg: PostgresStorage;
let lite: SqliteStorage;
const S = localScope(TEST_ORIGIN);
const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 3, 1);

beforeAll(async () => {
  db = await createTestDatabase();
  pg = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
  lite = await SqliteStorage.open({ identity: TEST_ORIGIN });
  const r = prng(42);
  const samples: Sample[] = [];
  for (let t = T0; t < T0 + 2 * DAY; t += 1000 + Math.floor(r() * 120_000)) {
    const snap = { ...contractSnapshot(samples.length) } as Record<string, unknown>;
    if (r() < 0.2) delete snap['soc_pct'];
    if (r() < 0.1) snap['cell_mv'] = (snap['cell_mv'] as number[]).slice(0, 8);
    if (r() < 0.05) snap['voltage_v'] = 40 + r() * 20;
    samples.push({ packId: 'p', ts: t, snapshot: snap as Sample['snapshot'] });
  }
  for (const s of [pg, lite] as Storage[]) {
    await s.telemetry.writeSamples(TEST_ORIGIN, samples);
    await s.telemetry.rollup(T0 + DAY + 7 * 3_600_000); // the rest stays raw past the watermarks
  }
}, 120_000);
afterAll(async () => {
  await pg?.close();
  await lite?.close();
  await db?.drop();
});

const FIELDS = ['voltage_v', 'soc_pct', 'cell_mv.3', 'cell_mv.12'];
const QUERIES: [string, Omit<HistoryQuery, 'packId' | 'fields'>][] = [
  ['raw, all points', { from: T0, to: T0 + 3 * 3_600_000, resolution: 'raw', maxPoints: 5000 }],
  ['raw, cut to 100', { from: T0 + 17_000, to: T0 + DAY, resolution: 'raw', maxPoints: 100 }],
  [
    '1m over a rolled-up and a raw stretch',
    { from: T0 + DAY, to: T0 + 2 * DAY, resolution: '1m', maxPoints: 300 },
  ],
  ['15m, all buckets', { from: T0, to: T0 + 2 * DAY, resolution: '15m' }],
  ['1h cut to 7', { from: T0 - 5 * MIN, to: T0 + 2 * DAY, resolution: '1h', maxPoints: 7 }],
  ['auto over two days', { from: T0, to: T0 + 2 * DAY }],
  ['auto over six hours', { from: T0 + 20 * 3_600_000, to: T0 + 26 * 3_600_000, maxPoints: 50 }],
];

describe('PostgreSQL and SQLite give the same history', () => {
  for (const [name, q] of QUERIES) {
    it(name, async () => {
      const ask = { packId: 'p', fields: FIELDS, ...q };
      const [a, b] = await Promise.all([
        pg.telemetry.history(S, ask),
        lite.telemetry.history(S, ask),
      ]);
      expect(a.resolution).toBe(b.resolution);
      for (const f of FIELDS) {
        const x = a.series[f]!;
        const y = b.series[f]!;
        expect(x.t, f).toEqual(y.t);
        expect(x.min, f).toEqual(y.min);
        expect(x.max, f).toEqual(y.max);
        x.avg.forEach((v, i) => expect(v, `${f} avg ${i}`).toBeCloseTo(y.avg[i]!, 2));
      }
      expect(a.series['soc_pct']!.t.length).toBeGreaterThan(0);
    });
  }
});

describe('PostgreSQL and SQLite give the same daily files', () => {
  // Offsets of whole, half and three-quarter hours, both sides of UTC, summer time or not.
  const ZONES = [
    'UTC',
    'Europe/Berlin',
    'Asia/Shanghai',
    'America/St_Johns',
    'Asia/Kathmandu',
    'Pacific/Kiritimati',
  ];
  for (const timeZone of ZONES) {
    it(`in ${timeZone}: dates, samples and sizes`, async () => {
      const [a, b] = await Promise.all([
        pg.telemetry.dailyFiles(S, undefined, { timeZone }),
        lite.telemetry.dailyFiles(S, undefined, { timeZone }),
      ]);
      expect(a).toEqual(b);
      expect(a.reduce((n, f) => n + f.samples, 0)).toBeGreaterThan(0);
    });
  }
});
