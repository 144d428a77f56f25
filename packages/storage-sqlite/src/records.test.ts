import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { localScope } from '@openbms/storage';
import {
  TEST_ORIGIN,
  alarmContract,
  auditContract,
  expectCode,
  promised,
  userContract,
} from '@openbms/storage/testing';
import { openDb, type Db } from './db.js';
import { migrateSchema } from './file-storage.js';
import {
  RECORDS_MIGRATIONS,
  SqliteAlarms,
  SqliteAudit,
  SqliteOrgs,
  SqliteUsers,
} from './records.js';

// Loaded untyped: the repository has no @types/better-sqlite3 yet (a plain import would not
// type-check); only the read-only open below needs the constructor itself.
const Database = createRequire(import.meta.url)('better-sqlite3') as new (
  path: string,
  opts: { readonly: boolean },
) => Db;

const dir = mkdtempSync(join(tmpdir(), 'openbms-records-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const O = TEST_ORIGIN;
const S = localScope(O);

let n = 0;
/** A fresh database file with the schema, holding TEST_ORIGIN's records. */
function fresh(): { db: Db; path: string } {
  const path = join(dir, `records-${++n}.sqlite`);
  const db = openDb(path);
  migrateSchema(db, () => O);
  return { db, path };
}

// The stores on one connection are synchronous; the contracts see them through promises.
alarmContract('sqlite', () => {
  const { db } = fresh();
  return { alarms: promised(new SqliteAlarms(db)), close: () => db.close() };
});
auditContract('sqlite', () => {
  const { db } = fresh();
  return { audit: promised(new SqliteAudit(db)), close: () => db.close() };
});
userContract('sqlite', () => {
  const { db } = fresh();
  return { users: promised(new SqliteUsers(db)), close: () => db.close() };
});

const T0 = Date.UTC(2025, 5, 1);
const raise = (a: SqliteAlarms, packId = 'p/b/1'): string =>
  a.raise(O, {
    packId,
    code: 'cell_ov',
    severity: 'protection',
    origin: 'bms',
    raisedAt: T0,
    message: 'over',
  }).id;

describe('sqlite records', () => {
  it('uses ordered migration ids records/NNN, and migrating twice changes nothing', () => {
    expect(RECORDS_MIGRATIONS.map((m) => m.id)).toEqual([
      'records/001',
      'records/002',
      'records/003',
      'records/004',
      'records/005',
      'records/006',
      'records/007',
      'records/008',
      'records/009',
      'records/010',
      'records/011',
      'records/012',
      'records/013',
      'records/014',
      'records/015',
      'records/017',
      'records/018',
    ]);
    const { db } = fresh();
    migrateSchema(db, () => O);
    const ids = (
      db
        .prepare("SELECT id FROM schema_migrations WHERE id LIKE 'records/%' ORDER BY id")
        .all() as { id: string }[]
    ).map((r) => r.id);
    expect(ids).toEqual([
      'records/001',
      'records/002',
      'records/003',
      'records/004',
      'records/005',
      'records/006',
      'records/007',
      'records/008',
      'records/009',
      'records/010',
      'records/011',
      'records/012',
      'records/013',
      'records/014',
      'records/015',
      'records/017',
      'records/018',
    ]);
    db.close();
  });

  it('keeps events, audit, users and tokens across a close and reopen of the file', () => {
    const { db, path } = fresh();
    const alarms = new SqliteAlarms(db);
    const id = raise(alarms);
    alarms.acknowledge(S, id, 'alice', T0 + 1);
    new SqliteAudit(db).append(O, {
      at: T0,
      user: 'alice',
      action: 'mos.charge',
      old: true,
      new: false,
      result: 'ok',
    });
    const users = new SqliteUsers(db);
    users.create(O, { username: 'alice', role: 'admin', createdAt: T0 }, 'hash');
    users.createToken(S, { hash: 'tok', username: 'alice', kind: 'api', createdAt: T0 });
    db.close();

    const again = openDb(path);
    migrateSchema(again, () => O);
    expect(new SqliteAlarms(again).list(S)).toMatchObject([{ id, acknowledgedBy: 'alice' }]);
    expect(new SqliteAudit(again).list(S)).toMatchObject([
      { action: 'mos.charge', old: true, new: false },
    ]);
    const u = new SqliteUsers(again);
    expect(u.get(S, 'alice')?.role).toBe('admin');
    expect(u.findToken('tok', T0)).toMatchObject({ username: 'alice', kind: 'api' });
    // A new event after reopening never reuses a local number.
    const before = new SqliteAlarms(again).get(S, { id })!.localId;
    const next = raise(new SqliteAlarms(again));
    expect(new SqliteAlarms(again).get(S, { id: next })!.localId).toBeGreaterThan(before);
    again.close();
  });

  it('refuses writes to a read-only database with STORAGE_READ_ONLY, and reads still work', async () => {
    const { db, path } = fresh();
    raise(new SqliteAlarms(db));
    new SqliteUsers(db).create(O, { username: 'bob', role: 'viewer', createdAt: T0 }, 'h');
    db.close();
    const ro = new Database(path, { readonly: true });
    const alarms = new SqliteAlarms(ro);
    const users = new SqliteUsers(ro);
    await expectCode(() => raise(alarms), 'STORAGE_READ_ONLY');
    await expectCode(
      () => new SqliteAudit(ro).append(O, { at: T0, user: 'bob', action: 'login', result: 'ok' }),
      'STORAGE_READ_ONLY',
    );
    await expectCode(
      () => users.create(O, { username: 'eve', role: 'viewer', createdAt: T0 }, 'h'),
      'STORAGE_READ_ONLY',
    );
    await expectCode(
      () => users.createToken(S, { hash: 't', username: 'bob', kind: 'session', createdAt: T0 }),
      'STORAGE_READ_ONLY',
    );
    expect(alarms.list(S)).toHaveLength(1);
    expect(users.count(S)).toBe(1);
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
        audit.append(O, {
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
    expect(audit.list(S)).toHaveLength(stored);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('says the migrations are missing instead of failing later', async () => {
    const db = openDb(join(dir, `empty-${++n}.sqlite`));
    await expectCode(() => new SqliteAlarms(db), 'STORAGE_FAILED');
    await expectCode(() => new SqliteAudit(db), 'STORAGE_FAILED');
    await expectCode(() => new SqliteUsers(db), 'STORAGE_FAILED');
    db.close();
  });

  it('finds a user among many by any letter case through the index', () => {
    const { db } = fresh();
    const users = new SqliteUsers(db);
    for (let i = 0; i < 200; i++)
      users.create(O, { username: `user${i}`, role: 'viewer', createdAt: T0 + i }, 'h');
    expect(users.get(S, 'USER150')?.username).toBe('user150');
    const plan = db
      .prepare('EXPLAIN QUERY PLAN SELECT * FROM users WHERE org_id = ? AND username = ?')
      .all('o', 'x') as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (INDEX|PRIMARY KEY)/);
    db.close();
  });

  it('filters lists by scope in the database, through an index', () => {
    const { db } = fresh();
    const plan = (sql: string) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[])
        .map((p) => p.detail)
        .join(' ');
    expect(
      plan(
        "SELECT * FROM alarm_events WHERE org_id IN (SELECT value FROM json_each('[]')) AND gateway_id = 'g' AND pack_id = 'p' ORDER BY raised_at DESC",
      ),
    ).toMatch(/USING INDEX alarm_events_/);
    expect(
      plan(
        "SELECT * FROM audit_log WHERE org_id IN (SELECT value FROM json_each('[]')) ORDER BY at DESC",
      ),
    ).toMatch(/USING INDEX audit_log_/);
    db.close();
  });
});

describe('sqlite records/011 (user language, e-mail codes)', () => {
  it('keeps the pending codes when the codes table is made again with the wider purposes', () => {
    const db = openDb(join(dir, `m011-${++n}.sqlite`));
    // The two tables as records/007 left them, with a pending code.
    db.exec(`
      CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT);
      CREATE TABLE account_codes (
        purpose TEXT NOT NULL CHECK (purpose IN ('signup', 'reset')), email TEXT NOT NULL,
        hash TEXT NOT NULL, tries INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL, PRIMARY KEY (purpose, email)) WITHOUT ROWID;
      INSERT INTO account_codes VALUES ('reset', 'ann@example.com', 'h', 2, 10, 20);
    `);
    const m = RECORDS_MIGRATIONS.find((x) => x.id === 'records/011')!;
    m.up(db, { identity: O, newId: () => 'x' });
    expect(db.prepare('SELECT * FROM account_codes').all()).toEqual([
      {
        purpose: 'reset',
        email: 'ann@example.com',
        hash: 'h',
        tries: 2,
        created_at: 10,
        expires_at: 20,
      },
    ]);
    db.prepare("INSERT INTO account_codes VALUES ('email', 'a@b.c', 'h', 0, 1, 2)").run();
    expect(() =>
      db.prepare("INSERT INTO account_codes VALUES ('login', 'a@b.c', 'h', 0, 1, 2)").run(),
    ).toThrow(/CHECK constraint/);
    db.prepare("INSERT INTO users (id) VALUES ('u1')").run();
    db.prepare("UPDATE users SET language = 'zh' WHERE id = 'u1'").run();
    expect(() => db.prepare("UPDATE users SET language = 'fr'").run()).toThrow(/CHECK constraint/);
    db.close();
  });
});

describe('sqlite organisations', () => {
  it('draws a code again when the drawn one is taken, in the same transaction', () => {
    const { db } = fresh();
    const drawn = ['AAAAAA', 'AAAAAA', 'BBBBBB'];
    const orgs = new SqliteOrgs(db, () => drawn.shift()!);
    const first = orgs.createRoot({ kind: 'platform', name: 'P', createdAt: 1 });
    const second = orgs.createRoot({ kind: 'platform', name: 'Q', createdAt: 2 });
    expect([first.code, second.code]).toEqual(['AAAAAA', 'BBBBBB']);
    expect(drawn).toEqual([]);
    // A generator that only repeats itself: refused after a few tries, nothing half-made.
    const stuck = new SqliteOrgs(db, () => 'AAAAAA');
    expect(() => stuck.createRoot({ kind: 'platform', name: 'R', createdAt: 3 })).toThrow(
      /no free organisation code/,
    );
    expect(db.prepare('SELECT count(*) AS n FROM org_closure').get()).toEqual({ n: 3 });
    db.close();
  });
});
