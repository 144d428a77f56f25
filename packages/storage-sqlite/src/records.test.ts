import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { alarmContract, auditContract, expectCode, userContract } from '@openbms/storage/testing';
import { migrate, openDb, type Db } from './db.js';
import { RECORDS_MIGRATIONS, SqliteAlarms, SqliteAudit, SqliteUsers } from './records.js';

// Loaded untyped: the repository has no @types/better-sqlite3 yet (a plain import would not
// type-check); only the read-only open below needs the constructor itself.
const Database = createRequire(import.meta.url)('better-sqlite3') as new (
  path: string,
  opts: { readonly: boolean },
) => Db;

const dir = mkdtempSync(join(tmpdir(), 'openbms-records-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A fresh database file with the records schema. */
function fresh(): { db: Db; path: string } {
  const path = join(dir, `records-${++n}.sqlite`);
  const db = openDb(path);
  migrate(db, RECORDS_MIGRATIONS);
  return { db, path };
}

alarmContract('sqlite', () => {
  const { db } = fresh();
  return { alarms: new SqliteAlarms(db), close: () => db.close() };
});
auditContract('sqlite', () => {
  const { db } = fresh();
  return { audit: new SqliteAudit(db), close: () => db.close() };
});
userContract('sqlite', () => {
  const { db } = fresh();
  return { users: new SqliteUsers(db), close: () => db.close() };
});

const T0 = Date.UTC(2025, 5, 1);
const raise = (a: SqliteAlarms, packId = 'p/b/1'): number =>
  a.raise({
    packId,
    code: 'cell_ov',
    severity: 'protection',
    origin: 'bms',
    raisedAt: T0,
    message: 'over',
  });

describe('sqlite records', () => {
  it('uses ordered migration ids records/NNN, and migrating twice changes nothing', () => {
    expect(RECORDS_MIGRATIONS.map((m) => m.id)).toEqual([
      'records/001',
      'records/002',
      'records/003',
    ]);
    const { db } = fresh();
    migrate(db, RECORDS_MIGRATIONS);
    const ids = (
      db
        .prepare("SELECT id FROM schema_migrations WHERE id LIKE 'records/%' ORDER BY id")
        .all() as { id: string }[]
    ).map((r) => r.id);
    expect(ids).toEqual(['records/001', 'records/002', 'records/003']);
    db.close();
  });

  it('keeps events, audit, users and tokens across a close and reopen of the file', () => {
    const { db, path } = fresh();
    const alarms = new SqliteAlarms(db);
    const id = raise(alarms);
    alarms.acknowledge(id, 'alice', T0 + 1);
    new SqliteAudit(db).append({
      at: T0,
      user: 'alice',
      action: 'mos.charge',
      old: true,
      new: false,
      result: 'ok',
    });
    const users = new SqliteUsers(db);
    users.create({ username: 'alice', role: 'admin', createdAt: T0 }, 'hash');
    users.createToken({ hash: 'tok', username: 'alice', kind: 'api', createdAt: T0 });
    db.close();

    const again = openDb(path);
    migrate(again, RECORDS_MIGRATIONS);
    expect(new SqliteAlarms(again).list()).toMatchObject([{ id, acknowledgedBy: 'alice' }]);
    expect(new SqliteAudit(again).list()).toMatchObject([
      { action: 'mos.charge', old: true, new: false },
    ]);
    const u = new SqliteUsers(again);
    expect(u.get('alice')?.role).toBe('admin');
    expect(u.findToken('tok', T0)).toEqual({ username: 'alice', kind: 'api' });
    // A new event after reopening never reuses an id.
    expect(raise(new SqliteAlarms(again))).toBeGreaterThan(id);
    again.close();
  });

  it('refuses writes to a read-only database with STORAGE_READ_ONLY, and reads still work', () => {
    const { db, path } = fresh();
    raise(new SqliteAlarms(db));
    new SqliteUsers(db).create({ username: 'bob', role: 'viewer', createdAt: T0 }, 'h');
    db.close();
    const ro = new Database(path, { readonly: true });
    const alarms = new SqliteAlarms(ro);
    const users = new SqliteUsers(ro);
    expectCode(() => raise(alarms), 'STORAGE_READ_ONLY');
    expectCode(
      () => new SqliteAudit(ro).append({ at: T0, user: 'bob', action: 'login', result: 'ok' }),
      'STORAGE_READ_ONLY',
    );
    expectCode(
      () => users.create({ username: 'eve', role: 'viewer', createdAt: T0 }, 'h'),
      'STORAGE_READ_ONLY',
    );
    expectCode(
      () => users.createToken({ hash: 't', username: 'bob', kind: 'session', createdAt: T0 }),
      'STORAGE_READ_ONLY',
    );
    expect(alarms.list()).toHaveLength(1);
    expect(users.count()).toBe(1);
    ro.close();
  });

  it('reports a full disk as STORAGE_FULL and keeps every earlier row intact', () => {
    const { db } = fresh();
    const audit = new SqliteAudit(db);
    const pages = (db.pragma('page_count', { simple: true }) as number) + 2;
    db.pragma(`max_page_count = ${pages}`);
    const detail = 'x'.repeat(2000);
    let stored = 0;
    let error: unknown;
    try {
      for (;;) {
        audit.append({
          at: T0 + stored,
          user: 'alice',
          action: 'parameter.write',
          result: 'ok',
          detail,
        });
        stored++;
      }
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).toBe('STORAGE_FULL');
    expect(stored).toBeGreaterThan(0);
    expect(audit.list()).toHaveLength(stored);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('says the migrations are missing instead of failing later', () => {
    const db = openDb(join(dir, `empty-${++n}.sqlite`));
    expectCode(() => new SqliteAlarms(db), 'STORAGE_FAILED');
    expectCode(() => new SqliteAudit(db), 'STORAGE_FAILED');
    expectCode(() => new SqliteUsers(db), 'STORAGE_FAILED');
    db.close();
  });

  it('finds a user among many by any letter case through the index', () => {
    const { db } = fresh();
    const users = new SqliteUsers(db);
    for (let i = 0; i < 200; i++)
      users.create({ username: `user${i}`, role: 'viewer', createdAt: T0 + i }, 'h');
    expect(users.get('USER150')?.username).toBe('user150');
    const plan = db
      .prepare('EXPLAIN QUERY PLAN SELECT * FROM users WHERE username = ?')
      .all('x') as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (INDEX|PRIMARY KEY)/);
    db.close();
  });
});
