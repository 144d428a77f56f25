import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { localScope, type Sample } from '@openbms/storage';
import { TEST_ORIGIN, contractSnapshot, telemetryContract } from '@openbms/storage/testing';
import { openDb, type Db } from './db.js';
import { migrateSchema } from './file-storage.js';
import { SqliteTelemetry } from './telemetry.js';
import { inThreadTelemetry } from './testing/in-thread.js';

const O = TEST_ORIGIN;
const S = localScope(O);

const dirs: string[] = [];
function tempDb(): { path: string; db: Db } {
  const dir = mkdtempSync(join(tmpdir(), 'openbms-telemetry-'));
  dirs.push(dir);
  const path = join(dir, 'openbms.sqlite');
  const db = openDb(path);
  migrateSchema(db, () => O);
  return { path, db };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// One connection, synchronous (the worker threads' own class), seen through promises.
telemetryContract('sqlite', () => {
  const { db } = tempDb();
  return { telemetry: inThreadTelemetry(new SqliteTelemetry(db)), close: () => db.close() };
});

const T0 = Date.UTC(2024, 0, 10);
const batch = (packId: string, from: number, n: number, every = 5000): Sample[] =>
  Array.from({ length: n }, (_, i) => ({
    packId,
    ts: from + i * every,
    snapshot: contractSnapshot(i),
  }));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code';
  }
  return undefined;
}

describe('SqliteTelemetry on a real database file', () => {
  it('stores a 16-cell, 4-temperature sample in at most 150 bytes on disk', () => {
    const { db } = tempDb();
    const t = new SqliteTelemetry(db);
    for (let k = 0; k < 20; k++) {
      t.writeSamples(
        O,
        ['a', 'b', 'c', 'd'].flatMap((p) => batch(p, T0 + k * 250 * 5000, 250)),
      );
    }
    const b = t.rawBytesPerSample();
    expect(b).toBeGreaterThan(30);
    expect(b).toBeLessThanOrEqual(150);
    db.close();
  });

  it('refuses writes on a read-only handle with STORAGE_READ_ONLY and keeps what was stored', () => {
    const { path, db } = tempDb();
    new SqliteTelemetry(db).writeSamples(O, batch('p', T0, 10));
    db.close();
    const ro = new Database(path, { readonly: true, fileMustExist: true }) as Db;
    const t = new SqliteTelemetry(ro);
    expect(codeOf(() => t.writeSamples(O, batch('p', T0 + 60_000, 5)))).toBe('STORAGE_READ_ONLY');
    expect(codeOf(() => t.writeSamples(O, batch('new-pack', T0, 5)))).toBe('STORAGE_READ_ONLY');
    expect(
      t.history(S, { packId: 'p', from: T0, to: T0 + 3_600_000, fields: ['soc_pct'] }).series
        .soc_pct!.t,
    ).toHaveLength(10);
    expect(t.latest(S, 'p')?.ts).toBe(T0 + 45_000);
    ro.close();
  });

  it('reports a full disk as STORAGE_FULL, keeps earlier data, and writes again once there is room', () => {
    const { db } = tempDb();
    const t = new SqliteTelemetry(db);
    t.writeSamples(O, batch('p', T0, 100));
    const pages = (db.pragma('page_count', { simple: true }) as number) + 1;
    db.pragma(`max_page_count = ${pages}`);
    expect(codeOf(() => t.writeSamples(O, batch('q', T0, 5000)))).toBe('STORAGE_FULL');
    expect(t.dailyFiles(S).map((f) => [f.packId, f.samples])).toEqual([['p', 100]]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.pragma('max_page_count = 1000000');
    t.writeSamples(O, batch('q', T0, 50));
    expect(t.dailyFiles(S).map((f) => [f.packId, f.samples])).toEqual([
      ['p', 100],
      ['q', 50],
    ]);
    db.close();
  });

  it('has a committed batch on disk without close() (another connection reads it)', () => {
    const { path, db } = tempDb();
    new SqliteTelemetry(db).writeSamples(O, batch('p', T0, 20));
    const other = openDb(path);
    const t = new SqliteTelemetry(other);
    expect(t.dailyFiles(S, 'p')[0]?.samples).toBe(20);
    expect(t.latest(S, 'p')?.snapshot).toEqual(contractSnapshot(19));
    other.close();
    db.close();
  });

  it('reports a corrupt row as STORAGE_FAILED instead of crashing', () => {
    const { db } = tempDb();
    const t = new SqliteTelemetry(db);
    t.writeSamples(O, batch('p', T0, 3));
    db.prepare('UPDATE telemetry_raw SET data = ? WHERE ts = ?').run(
      Buffer.from([1, 0xff, 0xff]),
      T0 + 5000,
    );
    expect(
      codeOf(() => t.history(S, { packId: 'p', from: T0, to: T0 + 60_000, fields: ['cell_mv.3'] })),
    ).toBe('STORAGE_FAILED');
    db.prepare('UPDATE telemetry_raw SET data = ? WHERE ts = ?').run(Buffer.from([99]), T0 + 5000);
    const plan = t.planExport(S, { packId: 'p', from: T0, to: T0 + 60_000, fields: ['soc_pct'] });
    expect(codeOf(() => t.csvChunk(plan, T0))).toBe('STORAGE_FAILED');
    db.close();
  });

  it('finds every series of an export without fields, layouts numbered past one byte included', () => {
    const { db } = tempDb();
    const t = new SqliteTelemetry(db);
    // 300 samples with 1, 2, ... 300 cells: 300 layouts, most of them numbered above 127.
    t.writeSamples(
      O,
      Array.from({ length: 300 }, (_, i) => ({
        packId: 'p',
        ts: T0 + i * 1000,
        snapshot: { cell_mv: Array.from({ length: i + 1 }, (_, c) => 3000 + c) },
      })),
    );
    const plan = t.planExport(S, { packId: 'p', from: T0, to: T0 + 300_000 });
    expect(plan.fields).toEqual(Array.from({ length: 300 }, (_, c) => `cell_mv.${c}`));
    const last = t
      .csvChunk(plan, T0 + 299_000)
      .text.trimEnd()
      .split(',');
    expect(last).toHaveLength(301);
    expect(last[300]).toBe('3299');
    db.close();
  });

  it('applies its migrations once', () => {
    const { db } = tempDb();
    migrateSchema(db, () => O);
    const ids = db
      .prepare("SELECT id FROM schema_migrations WHERE id LIKE 'telemetry/%'")
      .all() as { id: string }[];
    expect(ids.map((r) => r.id)).toEqual(['telemetry/001', 'telemetry/002', 'telemetry/003']);
    db.close();
  });
});
