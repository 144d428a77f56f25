/**
 * What is particular to PostgreSQL: migrations run once when two processes open a fresh
 * database together (advisory lock), telemetry lands in day partitions made as needed (and
 * the next day's ahead), retention drops whole partitions, a BRIN index serves time scans,
 * the identity is kept in the database, the password never shown (storage.url itself is checked
 * in the contract: config/storage-url.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localScope, type Sample } from '@openbms/storage';
import { TEST_ORIGIN, contractSnapshot } from '@openbms/storage/testing';
import { MIGRATIONS } from './migrations.js';
import { PostgresStorage } from './storage.js';
import { CLUSTER_AFTER } from './telemetry-rollup.js';
import { createTestDatabase, type TestDatabase } from './testing/index.js';
import { redactUrl } from './url.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1);

describe('PostgreSQL schema', () => {
  it('migrates once when two processes open a fresh database at the same time, and keeps its identity', async () => {
    const [a, b] = await Promise.all([
      PostgresStorage.open({ url: db.url }),
      PostgresStorage.open({ url: db.url }),
    ]);
    try {
      const rows = await a.db.query<{ id: string }>(
        't',
        'SELECT id FROM schema_migrations ORDER BY id',
      );
      expect(rows.map((r) => r.id)).toEqual(MIGRATIONS.map((m) => m.id));
      expect(b.identity).toEqual(a.identity);
    } finally {
      await a.close();
      await b.close();
    }
    const again = await PostgresStorage.open({ url: db.url });
    const given = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
    try {
      expect(again.identity).toEqual(a.identity);
      expect(given.identity).toEqual(TEST_ORIGIN);
    } finally {
      await again.close();
      await given.close();
    }
  });

  it('writes raw samples into day partitions made as needed (the next day ahead) with a BRIN index on time, and drops whole days past retention', async () => {
    await db.reset();
    const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
    try {
      const samples: Sample[] = [0, 1, 2.5].map((d, i) => ({
        packId: 'p',
        ts: T0 + d * DAY,
        snapshot: contractSnapshot(i),
      }));
      await s.telemetry.writeSamples(TEST_ORIGIN, samples);
      const parts = async (): Promise<number[]> =>
        (
          await s.db.query<{ relname: string }>(
            't',
            `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'telemetry_raw'::regclass`,
          )
        )
          .map((r) => Number(/_p(\d+)$/.exec(r.relname)![1]) - T0 / DAY)
          .sort((x, y) => x - y);
      expect(await parts()).toEqual([0, 1, 2, 3]);
      const brin = await s.db.query<{ indexdef: string }>(
        't',
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'telemetry_raw' AND indexdef LIKE '%brin%'",
      );
      expect(brin[0]?.indexdef).toMatch(/USING brin \(ts\)/);
      // A query of one day reads one partition.
      const plan = await s.db.query<{ 'QUERY PLAN': string }>(
        't',
        `EXPLAIN SELECT * FROM telemetry_raw WHERE ts >= ${T0 + DAY} AND ts < ${T0 + 2 * DAY}`,
      );
      const text = plan.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).toContain(`telemetry_raw_p${T0 / DAY + 1}`);
      expect(text).not.toContain(`telemetry_raw_p${T0 / DAY + 2}`);
      await s.telemetry.applyRetention(T0 + 3 * DAY + DAY / 2, {
        raw: 1.5,
        '1m': 365,
        '15m': 730,
        '1h': Infinity,
      });
      expect(await parts()).toEqual([2, 3]);
      const left = await s.telemetry.history(localScope(TEST_ORIGIN), {
        packId: 'p',
        from: T0,
        to: T0 + 4 * DAY,
        fields: ['soc_pct'],
        resolution: 'raw',
      });
      expect(left.series['soc_pct']!.t).toEqual([T0 + 2.5 * DAY]);
      // A sample for a dropped day makes its partition again.
      await s.telemetry.writeSamples(TEST_ORIGIN, [
        { packId: 'p', ts: T0, snapshot: contractSnapshot(9) },
      ]);
      expect(await parts()).toEqual([0, 1, 2, 3]);
    } finally {
      await s.close();
    }
  });

  it('clusters a raw day partition by (pack, ts) once, after its day ended, and answers the same', async () => {
    await db.reset();
    const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
    try {
      // Two packs written interleaved over two days: the heap order is by time, not by pack.
      const samples: Sample[] = [];
      for (let i = 0; i < 2 * 48; i++) {
        for (const packId of ['a', 'b']) {
          samples.push({ packId, ts: T0 + i * (DAY / 48), snapshot: contractSnapshot(i) });
        }
      }
      await s.telemetry.writeSamples(TEST_ORIGIN, samples);
      const k0 = T0 / DAY;
      const state = async (k: number): Promise<{ clustered: boolean; file: number }> => {
        const r = await s.db.query<{ clustered: boolean; file: number }>(
          't',
          `SELECT x.indisclustered AS clustered, c.relfilenode::int8 AS file
           FROM pg_class c JOIN pg_index x ON x.indrelid = c.oid AND x.indisprimary
           WHERE c.relname = $1`,
          [`telemetry_raw_p${k}`],
        );
        return r[0]!;
      };
      const history = async (): Promise<unknown[]> =>
        Promise.all(
          ['a', 'b'].map((packId) =>
            s.telemetry.history(localScope(TEST_ORIGIN), {
              packId,
              from: T0,
              to: T0 + 2 * DAY,
              fields: ['soc_pct', 'cell_mv.0'],
              resolution: 'raw',
            }),
          ),
        );
      const before = await history();
      const heap = async (k: number): Promise<string[]> =>
        (
          await s.db.query<{ pack: number; ts: number }>(
            't',
            `SELECT pack, ts FROM telemetry_raw_p${k} ORDER BY ctid`,
          )
        ).map((r) => `${r.pack}:${r.ts}`);
      const byKey = (rows: string[]): string[] =>
        rows
          .map((r) => r.split(':').map(Number) as [number, number])
          .sort((x, y) => x[0] - y[0] || x[1] - y[1])
          .map(([p, t]) => `${p}:${t}`);
      expect(await heap(k0)).not.toEqual(byKey(await heap(k0)));

      // Within the hour after the day's end: not yet (late samples may still come).
      await s.telemetry.rollup(T0 + DAY + CLUSTER_AFTER - 1);
      expect((await state(k0)).clustered).toBe(false);

      await s.telemetry.rollup(T0 + DAY + CLUSTER_AFTER);
      const first = await state(k0);
      expect(first.clustered).toBe(true);
      expect((await state(k0 + 1)).clustered).toBe(false);
      expect(await heap(k0)).toEqual(byKey(await heap(k0)));
      expect(await history()).toEqual(before);

      // Done once: a second call leaves the partition's file as it is.
      await s.telemetry.rollup(T0 + DAY + CLUSTER_AFTER + 60_000);
      expect(await state(k0)).toEqual(first);
      expect((await state(k0 + 1)).clustered).toBe(false);
      expect(await history()).toEqual(before);
    } finally {
      await s.close();
    }
  });
});

describe('migration 005-telemetry-slots', () => {
  it('upgrades a database with per-UTC-day counters to slots without losing a sample', async () => {
    const up = await createTestDatabase();
    try {
      const S = localScope(TEST_ORIGIN);
      // 2026-03-28 21:00Z to 2026-03-30 03:00Z every 5 minutes: Berlin's 23 h day inside.
      const F0 = Date.UTC(2026, 2, 28, 21);
      const samples: Sample[] = Array.from({ length: 30 * 12 }, (_, i) => ({
        packId: 'p',
        ts: F0 + i * 300_000,
        snapshot: contractSnapshot(i),
      }));
      let s = await PostgresStorage.open({ url: up.url, identity: TEST_ORIGIN });
      await s.telemetry.writeSamples(TEST_ORIGIN, samples);
      const utc = await s.telemetry.dailyFiles(S);
      const berlin = await s.telemetry.dailyFiles(S, 'p', { timeZone: 'Europe/Berlin' });
      // Back to the schema before 004: the per-UTC-day table, filled as the old writer did.
      await s.db.tx('t', async (c) => {
        await c.query(`CREATE TABLE telemetry_days (
          pack int NOT NULL, day int NOT NULL, samples int NOT NULL, chars bigint NOT NULL,
          header int NOT NULL, cols int NOT NULL, PRIMARY KEY (pack, day))`);
        await c.query(`INSERT INTO telemetry_days
          SELECT pack, slot / 96, sum(samples), sum(chars), max(header), max(cols)
          FROM telemetry_slots GROUP BY pack, slot / 96`);
        await c.query('DROP TABLE telemetry_slots');
        await c.query("DELETE FROM schema_migrations WHERE id = '005-telemetry-slots'");
      });
      await s.close();
      s = await PostgresStorage.open({ url: up.url, identity: TEST_ORIGIN });
      try {
        const tables = await s.db.query<{ n: string }>(
          't',
          "SELECT tablename AS n FROM pg_tables WHERE tablename IN ('telemetry_days', 'telemetry_slots')",
        );
        expect(tables.map((r) => r.n)).toEqual(['telemetry_slots']);
        const count = (fs: { samples: number }[]) => fs.reduce((n, f) => n + f.samples, 0);
        const after = await s.telemetry.dailyFiles(S);
        expect(after.map((f) => [f.date, f.samples])).toEqual(utc.map((f) => [f.date, f.samples]));
        expect(count(after)).toBe(samples.length);
        const local = await s.telemetry.dailyFiles(S, 'p', { timeZone: 'Europe/Berlin' });
        expect(local.map((f) => [f.date, f.samples])).toEqual([
          ['2026-03-28', 24], // 22:00 to 23:55 local
          ['2026-03-29', 23 * 12], // the 23 h day
          ['2026-03-30', 60], // 00:00 to 04:55 local
        ]);
        expect(local.map((f) => [f.date, f.samples])).toEqual(
          berlin.map((f) => [f.date, f.samples]),
        );
        // Characters were shared out in proportion: sizes stay within 1 % of the exact ones.
        local.forEach((f, i) => {
          expect(Math.abs(f.bytes - berlin[i]!.bytes) / berlin[i]!.bytes).toBeLessThan(0.01);
        });
        expect(
          await s.telemetry.deleteDay(S, 'p', '2026-03-29', { timeZone: 'Europe/Berlin' }),
        ).toBe(23 * 12);
        expect(count(await s.telemetry.dailyFiles(S))).toBe(samples.length - 23 * 12);
      } finally {
        await s.close();
      }
    } finally {
      await up.drop();
    }
  });
});

describe('redactUrl', () => {
  it('hides the password of a URL', () => {
    expect(redactUrl('postgres://bms:hunter2@db/openbms')).toBe('postgres://bms:***@db/openbms');
    expect(redactUrl('postgres://bms@db/openbms')).toBe('postgres://bms@db/openbms');
  });
});
