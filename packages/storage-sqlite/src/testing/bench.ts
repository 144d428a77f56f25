/**
 * Telemetry figures for `npm run bench` (scripts/bench.mjs calls `bench(dir)`; prints nothing),
 * measured through the port (SqliteStorage: each call crosses to a worker thread and back):
 * - ingest_snapshots_per_s: 16 packs (16 cells, 4 temperatures, ~18 scalars each), a day at
 *   5 s each, written in batches of 256 samples, one transaction each, into a fresh database
 *   file (smaller batches pay more per commit: about 19,000/s at 64 on a loaded 2-core box);
 * - sqlite_ingest_datapoints_per_s: the same rate in stored values (one value of one series;
 *   these snapshots hold 41: 16 cells, 4 temperatures, 21 scalars), beside PostgreSQL's;
 * - bytes_per_sample: raw table + index pages on disk (dbstat) per stored sample;
 * - history_24h_ms: one pack's last 24 h at raw resolution (17,280 samples at 5 s) for the 16
 *   cell series, cut to 2,000 points (best of 9 runs);
 * - history_1y_ms: the same pack over 365 days (auto: the 1 h tier; a year of 15 min rows is
 *   generated directly, then rollup() folds them and the raw day into 1 h) (best of 9).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { completeSnapshot, type Reading, prng } from '@openbms/core';
import { localScope, type Origin, type Sample } from '@openbms/storage';
import { openDb } from '../db.js';
import { migrateSchema } from '../file-storage.js';
import { newIdentity } from '../identity.js';
import { SqliteStorage } from '../storage.js';
import { TelemetryCtx } from '../telemetry-context.js';
import { extract } from '../telemetry-fields.js';
import { Aggregator, seriesId } from '../telemetry-rows.js';
import { DAY, STEP } from '../telemetry-schema.js';

const PACKS = 16;
const POLL_MS = 5000;
const BATCH = 256;
const POOL = 1024;
const CELLS = Array.from({ length: 16 }, (_, i) => `cell_mv.${i}`);

const rng = prng;

/** A random walk of plausible 16S LiFePO4 snapshots. */
function snapshots(seed: number, n: number): Reading[] {
  const r = rng(seed);
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
    const s: Reading = {
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
    };
    out.push(completeSnapshot(s));
  }
  return out;
}

/**
 * Best of `runs` after one warm-up: interference from other processes only ever adds time,
 * so the minimum is the steadiest estimate of the query's own cost on a shared machine.
 */
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

/** A year of 15 min rollup rows for one pack, ending where its raw samples begin. */
function seedRollups(ctx: TelemetryCtx, origin: Origin, packId: string, end: number): void {
  const step = STEP['15m'];
  const pool = snapshots(7, POOL);
  const agg = new Aggregator();
  ctx.write('bench seed', () => {
    const pack = ctx.packFor(origin, packId);
    const insert = ctx.stmt('INSERT INTO telemetry_15m (pack, ts, data) VALUES (?, ?, ?)');
    for (let b = end - 365 * DAY, k = 0; b < end; b += step, k++) {
      for (let j = 0; j < 180; j += 15) {
        const s = pool[(k * 12 + j) % POOL]!;
        s.cell_mv!.forEach((v, i) => agg.add(seriesId(`cell_mv.${i}`), 15, v - 3, v + 4, v * 15));
        s.temps_c!.forEach((v, i) => agg.add(seriesId(`temps_c.${i}`), 15, v, v + 0.3, v * 15 + 2));
        agg.add(seriesId('voltage_v'), 15, s.voltage_v!, s.voltage_v! + 0.05, s.voltage_v! * 15);
        agg.add(seriesId('soc_pct'), 15, s.soc_pct!, s.soc_pct!, s.soc_pct! * 15);
      }
      insert.run(pack, b, agg.encode(ctx.w, ctx.layoutFor(agg.fields())));
      agg.reset();
    }
  });
}

export async function bench(dir: string): Promise<Record<string, number>> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'bench-telemetry.sqlite');
  const files = [path, `${path}-wal`, `${path}-shm`];
  for (const f of files) rmSync(f, { force: true });
  const identity = newIdentity();
  const pools = Array.from({ length: PACKS }, (_, p) => snapshots(p + 1, POOL));
  const polls = DAY / POLL_MS; // one day per pack: 17,280 polls
  const end = Date.UTC(2025, 5, 1);
  const start = end - DAY;
  // The year of 15 min rows goes in directly, before the storage opens the file.
  const db = openDb(path);
  try {
    migrateSchema(db, () => identity);
    seedRollups(new TelemetryCtx(db), identity, 'bench/bus/0', start);
  } finally {
    db.close();
  }
  const storage = await SqliteStorage.open({ path, identity });
  try {
    // Ingest: 16 packs polled round-robin, one transaction per BATCH samples.
    let batch: Sample[] = [];
    let written = 0;
    const t0 = performance.now();
    for (let i = 0; i < polls; i++) {
      for (let p = 0; p < PACKS; p++) {
        batch.push({
          packId: `bench/bus/${p}`,
          ts: start + i * POLL_MS + p * 10,
          snapshot: pools[p]![i % POOL]!,
        });
        if (batch.length === BATCH) {
          await storage.telemetry.writeSamples(identity, batch);
          written += batch.length;
          batch = [];
        }
      }
    }
    if (batch.length > 0) await storage.telemetry.writeSamples(identity, batch);
    written += batch.length;
    const seconds = (performance.now() - t0) / 1000;
    const ingest = Math.round(written / seconds);
    const values: number[] = [];
    let points = 0;
    for (let i = 0; i < polls; i++)
      for (let p = 0; p < PACKS; p++) points += extract(pools[p]![i % POOL]!, values, []).count;
    const bytes = Math.round((await storage.rawBytesPerSample()) * 10) / 10;

    await storage.telemetry.rollup(end);
    const scope = localScope(identity);
    const q = { packId: 'bench/bus/0', to: end, fields: CELLS, maxPoints: 2000 };
    const h24 = await timed(9, () =>
      storage.telemetry.history(scope, { ...q, from: end - DAY, resolution: 'raw' }),
    );
    const h1y = await timed(9, () =>
      storage.telemetry.history(scope, { ...q, from: end - 365 * DAY }),
    );
    return {
      ingest_snapshots_per_s: ingest,
      sqlite_ingest_datapoints_per_s: Math.round(points / seconds),
      history_24h_ms: h24,
      history_1y_ms: h1y,
      bytes_per_sample: bytes,
    };
  } finally {
    await storage.close();
    for (const f of files) rmSync(f, { force: true });
  }
}
