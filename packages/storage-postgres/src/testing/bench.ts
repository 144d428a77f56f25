/**
 * PostgreSQL figures for `npm run bench` (scripts/bench.mjs calls `bench()`; prints nothing),
 * on a database of its own (`openbms_t_<random>`, dropped at the end), through the port:
 * - pg_ingest_datapoints_per_s: sustained ingest of stored values (one value of one series; a
 *   16-cell snapshot holds 41): 16 packs, a day at 5 s each (276,480 snapshots), written in
 *   batches of BATCH snapshots, one statement and one transaction each;
 * - pg_cluster_day_ms: the maintenance call (rollup()) an hour after the day ended, which
 *   clusters that day's raw partition by (pack, ts), as a live gateway's writer would have
 *   done before anyone asks for the day (telemetry-rollup.ts, CLUSTER_AFTER);
 * - pg_history_24h_ms: one pack's last 24 h at raw resolution (17,280 samples) for the 16
 *   cell series, cut to 2,000 points in SQL, from the clustered day (best of 9 after a
 *   warm-up);
 * - pg_history_1y_ms: the same pack over 365 days (auto: the 1 h tier; a year of 15 min rows
 *   is written directly, then rollup() folds them and the raw day into 1 h) (best of 9).
 * The snapshots are the same random walk as storage-sqlite's bench, so the figures compare.
 */
import { performance } from 'node:perf_hooks';
import { completeSnapshot, prng, type Reading } from '@openbms/core';
import { localScope, newId, type Sample } from '@openbms/storage';
import { PostgresStorage } from '../storage.js';
import { WIDTH } from '../telemetry-context.js';
import { CLUSTER_AFTER } from '../telemetry-rollup.js';
import { flatten } from '../telemetry-write.js';
import { createTestDatabase } from './index.js';

const PACKS = 16;
const POLL_MS = 5000;
const BATCH = Number(process.env['OPENBMS_BENCH_PG_BATCH'] ?? 2048);
const POOL = 1024;
const DAY = 86_400_000;
const CELLS = Array.from({ length: 16 }, (_, i) => `cell_mv.${i}`);

function snapshots(seed: number, n: number): Reading[] {
  const r = prng(seed);
  const cells = Array.from({ length: 16 }, () => 3300 + Math.floor(r() * 20));
  let current = 10;
  let soc = 60;
  const out: Reading[] = [];
  for (let i = 0; i < n; i++) {
    current = Math.max(-80, Math.min(80, current + (r() - 0.5) * 4));
    soc = Math.max(5, Math.min(100, soc + current / 2000));
    for (let c = 0; c < 16; c++) cells[c] = cells[c]! + Math.round((r() - 0.5) * 4);
    const cell_mv = [...cells];
    const temps_c = [0, 1, 2, 3].map((k) => Math.round((24 + k + r() * 2) * 10) / 10);
    out.push(
      completeSnapshot({
        protocol: 'pylontech',
        address: 1,
        voltage_v: Math.round(cell_mv.reduce((a, b) => a + b, 0) / 10) / 100,
        current_a: Math.round(current * 100) / 100,
        soc_pct: Math.round(soc),
        soh_pct: 99,
        remaining_ah: Math.round(soc * 10) / 10,
        full_ah: 100,
        cycles: 312,
        state: current > 0.5 ? 'charging' : current < -0.5 ? 'discharging' : 'idle',
        cell_mv,
        temps_c,
        mos_temp_c: Math.round((30 + r() * 3) * 10) / 10,
        charge_mos: true,
        discharge_mos: true,
        balancing: r() < 0.2,
        alarms: [],
      }),
    );
  }
  return out;
}

async function timed(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return Math.round(best * 100) / 100;
}

/** A year of 15 min rollup rows of one pack's cells, ending where its raw samples begin. */
async function seedRollups(s: PostgresStorage, packId: string, end: number): Promise<void> {
  const step = 15 * 60_000;
  const from = end - 365 * DAY;
  const found = await s.db.query<{ id: number }>(
    'bench',
    'SELECT id FROM telemetry_packs WHERE name = $1',
    [packId],
  );
  const pack = found[0]!.id;
  const series = new Map(
    (
      await s.db.query<{ id: number; name: string }>(
        'bench',
        'SELECT id, name FROM telemetry_series',
      )
    ).map((r) => [r.name, r.id]),
  );
  const w = WIDTH['15m'];
  for (let k = Math.floor(from / w); k <= Math.floor(end / w); k++) {
    await s.db.query(
      'bench',
      `CREATE TABLE IF NOT EXISTS telemetry_15m_p${k} PARTITION OF telemetry_15m FOR VALUES FROM (${k * w}) TO (${(k + 1) * w})`,
    );
  }
  const len = Math.max(...series.values());
  const pool = snapshots(7, POOL);
  let ts: number[] = [];
  let rows: string[][] = [];
  const flush = async (): Promise<void> => {
    if (ts.length === 0) return;
    await s.db.query(
      'bench',
      `INSERT INTO telemetry_15m (pack, ts, n, mn, mx, sm)
       SELECT $1, t, n::int[], mn::float8[], mx::float8[], sm::float8[]
       FROM unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(t, n, mn, mx, sm)`,
      [pack, ts, ...[0, 1, 2, 3].map((c) => rows.map((r) => r[c]!))],
    );
    ts = [];
    rows = [];
  };
  for (let b = from, k = 0; b < end; b += step, k++) {
    const snap = pool[k % POOL]!;
    const n = new Array<string>(len).fill('0');
    const mn = new Array<string>(len).fill('NULL');
    const mx = new Array<string>(len).fill('NULL');
    const sm = new Array<string>(len).fill('NULL');
    const f = flatten(snap);
    f.names.forEach((name, i) => {
      const at = series.get(name);
      if (at === undefined) return;
      const v = f.values[i]!;
      n[at - 1] = '180';
      mn[at - 1] = String(v - 3);
      mx[at - 1] = String(v + 4);
      sm[at - 1] = String(v * 180);
    });
    ts.push(b);
    rows.push([`{${n.join(',')}}`, `{${mn.join(',')}}`, `{${mx.join(',')}}`, `{${sm.join(',')}}`]);
    if (ts.length === 2000) await flush();
  }
  await flush();
}

export async function bench(): Promise<Record<string, number>> {
  const db = await createTestDatabase();
  const identity = { orgId: newId(), gatewayId: newId() };
  const storage = await PostgresStorage.open({ url: db.url, identity });
  try {
    const pools = Array.from({ length: PACKS }, (_, p) => snapshots(p + 1, POOL));
    const polls = DAY / POLL_MS;
    const end = Date.UTC(2025, 5, 1);
    const start = end - DAY;
    let batch: Sample[] = [];
    let points = 0;
    const t0 = performance.now();
    for (let i = 0; i < polls; i++) {
      for (let p = 0; p < PACKS; p++) {
        const snapshot = pools[p]![i % POOL]!;
        batch.push({ packId: `bench/bus/${p}`, ts: start + i * POLL_MS + p * 10, snapshot });
        if (batch.length === BATCH) {
          await storage.telemetry.writeSamples(identity, batch);
          batch = [];
        }
      }
    }
    if (batch.length > 0) await storage.telemetry.writeSamples(identity, batch);
    const seconds = (performance.now() - t0) / 1000;
    for (let i = 0; i < polls; i++)
      for (let p = 0; p < PACKS; p++) points += flatten(pools[p]![i % POOL]!).values.length;
    const ingest = Math.round(points / seconds);

    await seedRollups(storage, 'bench/bus/0', start);
    await storage.telemetry.rollup(end);
    // The day is in the past: the next maintenance call clusters its raw partition.
    const c0 = performance.now();
    await storage.telemetry.rollup(end + CLUSTER_AFTER);
    const cluster = Math.round(performance.now() - c0);
    await storage.db.query('bench', 'ANALYZE');
    const scope = localScope(identity);
    const q = { packId: 'bench/bus/0', to: end, fields: CELLS, maxPoints: 2000 };
    const h24 = await timed(9, () =>
      storage.telemetry.history(scope, { ...q, from: end - DAY, resolution: 'raw' }),
    );
    const h1y = await timed(9, () =>
      storage.telemetry.history(scope, { ...q, from: end - 365 * DAY }),
    );
    const tier = (await storage.telemetry.history(scope, { ...q, from: end - 365 * DAY }))
      .resolution;
    if (tier !== '1h') throw new Error(`the year was answered from ${tier}, not 1h`);
    return {
      pg_ingest_datapoints_per_s: ingest,
      pg_ingest_snapshots_per_s: Math.round((polls * PACKS) / seconds),
      pg_cluster_day_ms: cluster,
      pg_history_24h_ms: h24,
      pg_history_1y_ms: h1y,
    };
  } finally {
    await storage.close();
    // OPENBMS_BENCH_PG_KEEP=1 keeps the database for a look at the plans (its name is printed).
    if (process.env['OPENBMS_BENCH_PG_KEEP']) process.stderr.write(`kept ${db.name}\n`);
    else await db.drop();
  }
}
