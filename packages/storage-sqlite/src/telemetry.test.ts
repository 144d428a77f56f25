import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sample } from '@openbms/storage';
import { contractSnapshot, telemetryContract } from '@openbms/storage/testing';
import { migrate, openDb, type Db } from './db.js';
import { SqliteTelemetry, TELEMETRY_MIGRATIONS } from './telemetry.js';

const dirs: string[] = [];
function tempDb(): { path: string; db: Db } {
  const dir = mkdtempSync(join(tmpdir(), 'openbms-telemetry-'));
  dirs.push(dir);
  const path = join(dir, 'openbms.sqlite');
  const db = openDb(path);
  migrate(db, TELEMETRY_MIGRATIONS);
  return { path, db };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

telemetryContract('sqlite', () => {
  const { db } = tempDb();
  return { telemetry: new SqliteTelemetry(db), close: () => db.close() };
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
      t.writeSamples(['a', 'b', 'c', 'd'].flatMap((p) => batch(p, T0 + k * 250 * 5000, 250)));
    }
    const b = t.rawBytesPerSample();
    expect(b).toBeGreaterThan(30);
    expect(b).toBeLessThanOrEqual(150);
    db.close();
  });

  it('refuses writes on a read-only handle with STORAGE_READ_ONLY and keeps what was stored', () => {
    const { path, db } = tempDb();
    new SqliteTelemetry(db).writeSamples(batch('p', T0, 10));
    db.close();
    const ro = new Database(path, { readonly: true, fileMustExist: true }) as Db;
    const t = new SqliteTelemetry(ro);
    expect(codeOf(() => t.writeSamples(batch('p', T0 + 60_000, 5)))).toBe('STORAGE_READ_ONLY');
    expect(codeOf(() => t.writeSamples(batch('new-pack', T0, 5)))).toBe('STORAGE_READ_ONLY');
    expect(
      t.history({ packId: 'p', from: T0, to: T0 + 3_600_000, fields: ['soc_pct'] }).series.soc_pct!
        .t,
    ).toHaveLength(10);
    expect(t.latest('p')?.ts).toBe(T0 + 45_000);
    ro.close();
  });

  it('reports a full disk as STORAGE_FULL, keeps earlier data, and writes again once there is room', () => {
    const { db } = tempDb();
    const t = new SqliteTelemetry(db);
    t.writeSamples(batch('p', T0, 100));
    const pages = (db.pragma('page_count', { simple: true }) as number) + 1;
    db.pragma(`max_page_count = ${pages}`);
    expect(codeOf(() => t.writeSamples(batch('q', T0, 5000)))).toBe('STORAGE_FULL');
    expect(t.dailyFiles().map((f) => [f.packId, f.samples])).toEqual([['p', 100]]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.pragma('max_page_count = 1000000');
    t.writeSamples(batch('q', T0, 50));
    expect(t.dailyFiles().map((f) => [f.packId, f.samples])).toEqual([
      ['p', 100],
      ['q', 50],
    ]);
    db.close();
  });

  it('has a committed batch on disk without close() (another connection reads it)', () => {
    const { path, db } = tempDb();
    new SqliteTelemetry(db).writeSamples(batch('p', T0, 20));
    const other = openDb(path);
    const t = new SqliteTelemetry(other);
    expect(t.dailyFiles('p')[0]?.samples).toBe(20);
    expect(t.latest('p')?.snapshot).toEqual(contractSnapshot(19));
    other.close();
    db.close();
  });

  it('reports a corrupt row as STORAGE_FAILED instead of crashing', () => {
    const { db } = tempDb();
    const t = new SqliteTelemetry(db);
    t.writeSamples(batch('p', T0, 3));
    db.prepare('UPDATE telemetry_raw SET data = ? WHERE ts = ?').run(
      Buffer.from([1, 0xff, 0xff]),
      T0 + 5000,
    );
    expect(
      codeOf(() => t.history({ packId: 'p', from: T0, to: T0 + 60_000, fields: ['cell_mv.3'] })),
    ).toBe('STORAGE_FAILED');
    db.prepare('UPDATE telemetry_raw SET data = ? WHERE ts = ?').run(Buffer.from([99]), T0 + 5000);
    expect(codeOf(() => t.exportCsv('p', T0, T0 + 60_000))).toBe('STORAGE_FAILED');
    db.close();
  });

  it('applies its migrations once', () => {
    const { db } = tempDb();
    migrate(db, TELEMETRY_MIGRATIONS);
    const ids = db
      .prepare("SELECT id FROM schema_migrations WHERE id LIKE 'telemetry/%'")
      .all() as { id: string }[];
    expect(ids.map((r) => r.id)).toEqual(['telemetry/001']);
    db.close();
  });
});
