/**
 * The storage facade on real SQLite files, in the test's own thread (the class the writer
 * thread of SqliteStorage runs): the contract suites through it, a full disk made with
 * `PRAGMA max_page_count` (the next write that grows the file fails with SQLITE_FULL, as on
 * a full file system; the connection is reached through `onOpen`, which only works in the
 * same thread), and damaged files made by overwriting pages in the middle with random
 * bytes. The same through the worker threads is in storage.test.ts; the real full file
 * system (tmpfs) in storage-tmpfs.test.ts.
 */
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { prng } from '@openbms/core';
import {
  localScope,
  type Membership,
  type Org,
  type PointGroup,
  type Sample,
} from '@openbms/storage';
import {
  TEST_ORIGIN,
  alarmContract,
  auditContract,
  expectCode,
  promised,
  userContract,
  contractSnapshot,
  telemetryContract,
} from '@openbms/storage/testing';
import type { Db } from './db.js';
import { FileStorage } from './file-storage.js';
import { inThreadTelemetry } from './testing/in-thread.js';

const O = TEST_ORIGIN;
const S = localScope(O);

const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => Db;

const root = mkdtempSync(join(tmpdir(), 'openbms-facade-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `d${++n}`);

// The facade must be invisible when nothing fails: every contract passes through it.
const opened = (): FileStorage => new FileStorage({ identity: O, dataDir: freshDir() });
telemetryContract('sqlite facade', () => {
  const s = opened();
  return { telemetry: inThreadTelemetry(s.telemetry), close: () => s.close() };
});
alarmContract('sqlite facade', () => {
  const s = opened();
  return { alarms: promised(s.alarms), close: () => s.close() };
});
auditContract('sqlite facade', () => {
  const s = opened();
  return { audit: promised(s.audit), close: () => s.close() };
});
userContract('sqlite facade', () => {
  const s = opened();
  return { users: promised(s.users), close: () => s.close() };
});

const T0 = Date.UTC(2026, 5, 21, 10, 0, 0);
const samples = (packId: string, from: number, count: number): Sample[] =>
  Array.from({ length: count }, (_, i) => ({
    packId,
    ts: from + i * 1000,
    snapshot: contractSnapshot(i),
  }));

/** A storage whose connections the test can cap (max_page_count) at will. */
function capped(dir: string): { storage: FileStorage; fill(): void; free(): void } {
  let conn: Db | undefined;
  const storage = new FileStorage({
    identity: O,
    dataDir: dir,
    clock: () => T0,
    onOpen: (db) => {
      conn = db;
    },
  });
  return {
    storage,
    // The file may not grow any more: the next write needing a new page fails SQLITE_FULL.
    fill: () =>
      void conn!.pragma(`max_page_count = ${conn!.pragma('page_count', { simple: true })}`),
    free: () => void conn!.pragma('max_page_count = 1073741823'),
  };
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('a full disk (max_page_count)', () => {
  it('refuses samples with STORAGE_FULL, reports the problem, still reads, and takes them again when there is room', () => {
    const { storage, fill, free } = capped(freshDir());
    storage.telemetry.writeSamples(O, samples('s/b/1', T0, 10));
    storage.users.create(O, { username: 'ann', role: 'admin', createdAt: T0 }, 'hash');
    fill();
    const batch = samples('s/b/1', T0 + 10_000, 2000);
    expect(codeOf(() => storage.telemetry.writeSamples(O, batch))).toBe('STORAGE_FULL');
    expect(storage.health().problems.map((p) => p.code)).toEqual(['STORAGE_FULL']);
    // Reads go on: history, latest, the accounts a login needs.
    expect(storage.telemetry.latest(S, 's/b/1')?.ts).toBe(T0 + 9000);
    expect(storage.users.get(S, 'ann')?.role).toBe('admin');
    const h = storage.telemetry.history(S, {
      packId: 's/b/1',
      from: T0,
      to: T0 + 60_000,
      fields: ['soc_pct'],
      resolution: 'raw',
    });
    expect(h.series['soc_pct']?.t).toHaveLength(10);
    free();
    storage.telemetry.writeSamples(O, batch);
    expect(storage.health().problems).toEqual([]);
    expect(storage.telemetry.latest(S, 's/b/1')?.ts).toBe(batch.at(-1)!.ts);
    storage.close();
  });

  it('keeps alarm events, audit entries and logins in memory with their ids, and writes them in order when there is room', () => {
    const dir = freshDir();
    const { storage, fill, free } = capped(dir);
    storage.users.create(O, { username: 'ann', role: 'operator', createdAt: T0 }, 'hash');
    fill();
    // max_page_count refuses only writes that need a new page: each table is written until
    // its last page is full and the next write has to wait.
    const untilWaiting = <T>(write: (i: number) => T): T => {
      const before = storage.health().deferred;
      for (let i = 0; i < 10_000; i++) {
        const r = write(i);
        if (storage.health().deferred > before) return r;
      }
      throw new Error('the capped file never refused a write');
    };
    const { id: waiting, localId: waitingNo } = untilWaiting((i) =>
      storage.alarms.raise(O, {
        packId: 's/b/2',
        code: 'soc_low',
        severity: 'warning',
        origin: 'rule',
        ruleId: 'low',
        raisedAt: T0 + i,
        message: `filler ${i}`,
      }),
    );
    expect(storage.health().problems.map((p) => p.code)).toEqual(['STORAGE_FULL']);
    const listed = storage.alarms.list(S, { packId: 's/b/2' });
    expect(listed[0]?.id).toBe(waiting); // newest first, the waiting one included
    expect(new Set(listed.map((e) => e.id)).size).toBe(listed.length);
    expect(listed.slice(1).every((e) => e.id < waiting && e.localId < waitingNo)).toBe(true);
    // What happens to it while it waits waits behind it, in order.
    expect(storage.alarms.acknowledge(S, waiting, 'ann', T0 + 60_000)).toBe(true);
    expect(storage.alarms.acknowledge(S, waiting, 'bob', T0 + 60_001)).toBe(false);
    storage.alarms.clear(S, waiting, T0 + 70_000);
    expect(storage.alarms.list(S, { active: true }).map((e) => e.id)).not.toContain(waiting);
    let appended = 0;
    const auditId = untilWaiting((i) => {
      appended++;
      return storage.audit.append(O, {
        at: T0 + i,
        user: 'ann',
        action: 'login',
        result: 'ok',
        detail: 'x'.repeat(200),
      }).id;
    });
    expect(storage.audit.list(S, { limit: 1 })[0]).toMatchObject({ id: auditId, action: 'login' });
    const session = untilWaiting((i) => {
      const hash = `session-${i}`;
      storage.users.createToken(S, {
        hash,
        username: 'ann',
        kind: 'session',
        createdAt: T0,
        expiresAt: T0 + 3_600_000,
      });
      return hash;
    });
    // The login works meanwhile, until its session expires.
    expect(storage.users.findToken(session, T0 + 1000)).toEqual({
      userId: storage.users.get(S, 'ann')?.id,
      orgId: O.orgId,
      username: 'ann',
      kind: 'session',
      expiresAt: T0 + 3_600_000,
    });
    expect(storage.users.findToken(session, T0 + 3_600_000)).toBeUndefined();
    expect(storage.health().deferred).toBe(5);

    free();
    storage.retry();
    expect(storage.health()).toEqual({ problems: [], deferred: 0 });
    storage.close();
    // Another connection sees everything written, under the ids handed out.
    const db = new Database(join(dir, 'openbms.sqlite'));
    const row = db.prepare('SELECT * FROM alarm_events WHERE id = ?').get(waiting) as Record<
      string,
      unknown
    >;
    expect(row).toMatchObject({
      cleared_at: T0 + 70_000,
      acknowledged_by: 'ann',
      acknowledged_at: T0 + 60_000,
    });
    expect(
      db
        .prepare(
          'SELECT u.username FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?',
        )
        .get(session),
    ).toEqual({
      username: 'ann',
    });
    expect(
      db
        .prepare("SELECT count(*) AS n, max(at) AS last FROM audit_log WHERE action = 'login'")
        .get(),
    ).toEqual({
      n: appended,
      last: T0 + appended - 1,
    });
    db.close();
  });

  it('still refuses malformed records with REQUEST_INVALID while the disk is full', () => {
    const { storage, fill } = capped(freshDir());
    fill();
    expectCode(
      () =>
        storage.alarms.raise(O, {
          packId: '',
          code: 'cell_ov',
          severity: 'protection',
          origin: 'bms',
          raisedAt: T0,
          message: 'x',
        }),
      'REQUEST_INVALID',
      'packId',
    );
    expect(storage.health().deferred).toBe(0);
    storage.close();
  });
});

// ---------------------------------------------------------------- damaged files

/** Overwrites `count` pages from the middle of the file with seeded random bytes; returns the damaged bytes. */
function damage(path: string, count = 6, seed = 7): Buffer {
  const pageSize = 4096;
  const pages = Math.floor(statSync(path).size / pageSize);
  expect(pages, 'file large enough to damage its middle').toBeGreaterThan(count * 3);
  const rnd = prng(seed);
  const fd = openSync(path, 'r+');
  for (let p = Math.floor(pages / 2); p < Math.floor(pages / 2) + count; p++) {
    const junk = Buffer.from(Array.from({ length: pageSize }, () => Math.floor(rnd() * 256)));
    writeSync(fd, junk, 0, pageSize, p * pageSize);
  }
  closeSync(fd);
  return readFileSync(path);
}

/** A closed database with a pack's samples, a user, an active alarm and a cleared one. */
function populated(dir: string): {
  path: string;
  active: string;
  activeNo: number;
  orgs: Org[];
  memberships: Membership[];
  points: PointGroup[];
} {
  const s = new FileStorage({ identity: O, dataDir: dir, clock: () => T0 });
  s.telemetry.writeSamples(O, samples('s/b/1', T0, 6000));
  const ann = s.users.create(O, { username: 'ann', role: 'admin', createdAt: T0 }, 'scrypt-hash');
  // Organisations beyond the box's own, and a membership of one.
  const maker = s.orgs.createRoot({ kind: 'battery_maker', name: 'Maker', createdAt: T0 });
  const dealer = s.orgs.create([maker.id], {
    parentId: maker.id,
    kind: 'dealer',
    name: 'Dealer',
    createdAt: T0,
  });
  s.orgs.addMember([maker.id], {
    userId: ann.id,
    orgId: dealer.id,
    role: 'installer',
    createdAt: T0 + 1,
  });
  const orgs = [...s.orgs.subtree([O.orgId]), ...s.orgs.subtree([maker.id])];
  const memberships = s.orgs.membershipsOf(ann.id);
  // The dealer's end users see no cycle count.
  const points = s.points.replace(
    dealer.id,
    [
      {
        name: 'End User Group',
        kind: 'end_user',
        roles: ['end_user'],
        points: { jk: ['soc_pct'] },
      },
    ],
    T0,
  );
  const base = { packId: 's/b/1', severity: 'fault', origin: 'gateway', message: 'lost' } as const;
  const old = s.alarms.raise(O, { ...base, code: 'comm_lost', raisedAt: T0 }).id;
  s.alarms.clear(S, old, T0 + 1000);
  const active = s.alarms.raise(O, { ...base, code: 'comm_lost', raisedAt: T0 + 2000 });
  s.close();
  return { path: s.path, active: active.id, activeNo: active.localId, orgs, memberships, points };
}

describe('a damaged database', () => {
  it('found by the start check: set aside byte for byte, a fresh file takes new samples, active alarms and accounts carried over', async () => {
    const dir = freshDir();
    const { path, active, activeNo, orgs, memberships, points } = populated(dir);
    const damaged = damage(path);
    const s = new FileStorage({ identity: O, dataDir: dir, clock: () => T0 + 10_000 });
    const report = await s.checkIntegrity();
    expect(report.result).toBe('corrupt');
    expect(report.detail).toMatch(/^quick_check: /);
    expect(report.setAside).toMatch(/openbms\.sqlite\.corrupt-20260621T100010Z$/);
    expect(readFileSync(report.setAside!).equals(damaged)).toBe(true);
    const health = s.health();
    expect(health.problems).toEqual([
      expect.objectContaining({ code: 'STORAGE_CORRUPT', files: [report.setAside] }),
    ]);
    // New samples are stored in the fresh file.
    s.telemetry.writeSamples(O, samples('s/b/1', T0 + 20_000, 5));
    expect(
      s.telemetry.history(S, {
        packId: 's/b/1',
        from: T0,
        to: T0 + 60_000,
        fields: ['soc_pct'],
        resolution: 'raw',
      }).series['soc_pct']?.t,
    ).toHaveLength(5);
    // The active alarm keeps its id, so the engine can clear it; new ids continue after it.
    expect(s.alarms.list(S, { active: true }).map((e) => e.id)).toEqual([active]);
    s.alarms.clear(S, active, T0 + 30_000);
    const next = s.alarms.raise(O, {
      packId: 's/b/1',
      code: 'cell_ov',
      severity: 'protection',
      origin: 'bms',
      raisedAt: T0 + 31_000,
      message: 'new',
    });
    expect(next.localId).toBeGreaterThan(activeNo);
    expect(next.id > active).toBe(true);
    expect(s.users.get(S, 'ann')?.passwordHash).toBe('scrypt-hash');
    // Organisations keep their codes (printed, shared), and accounts their memberships.
    expect([...s.orgs.subtree([O.orgId]), ...s.orgs.subtree([orgs[1]!.id])]).toEqual(orgs);
    expect(s.orgs.membershipsOf(s.users.get(S, 'ann')!.id)).toEqual(memberships);
    expect(memberships.map((m) => m.role)).toEqual(['manager', 'installer']);
    // Point groups too: what a manager hid stays hidden.
    expect(s.points.list([points[0]!.orgId])).toEqual(points);
    expect(points[0]!.points).toEqual({ jk: ['soc_pct'] });
    expect((await s.checkIntegrity()).result).toBe('ok');
    // The problem lasts while the set-aside file is there.
    s.close();
    const again = new FileStorage({ identity: O, dataDir: dir });
    expect(again.health().problems.map((p) => p.code)).toEqual(['STORAGE_CORRUPT']);
    rmSync(report.setAside!);
    expect(again.health().problems).toEqual([]);
    again.close();
  });

  it('met by a history query: answers STORAGE_CORRUPT (not a bare failure), sets the file aside, and goes on with a fresh one', () => {
    const dir = freshDir();
    const { path } = populated(dir);
    const damaged = damage(path, 20);
    const s = new FileStorage({ identity: O, dataDir: dir, clock: () => T0 + 10_000 });
    expect(s.health().problems).toEqual([]); // nothing read the damaged pages yet
    const q = {
      packId: 's/b/1',
      from: T0,
      to: T0 + 7_000_000,
      fields: ['soc_pct'],
      resolution: 'raw' as const,
    };
    expectCode(() => s.telemetry.history(S, q), 'STORAGE_CORRUPT');
    const [problem] = s.health().problems;
    expect(problem?.code).toBe('STORAGE_CORRUPT');
    expect(readFileSync(problem!.files![0]!).equals(damaged)).toBe(true);
    expect(s.telemetry.history(S, q).series['soc_pct']?.t).toEqual([]);
    s.telemetry.writeSamples(O, samples('s/b/1', T0 + 20_000, 3));
    expect(s.telemetry.history(S, q).series['soc_pct']?.t).toHaveLength(3);
    s.close();
  });

  it('found by the periodic check while running: the samples written after it land in the fresh file', async () => {
    const dir = freshDir();
    const { path, active } = populated(dir);
    const s = new FileStorage({ identity: O, dataDir: dir, clock: () => T0 + 10_000 });
    expect((await s.checkIntegrity()).result).toBe('ok');
    damage(path);
    const report = await s.checkIntegrity();
    expect(report.result).toBe('corrupt');
    s.telemetry.writeSamples(O, samples('s/b/9', T0 + 50_000, 4));
    expect(s.telemetry.latest(S, 's/b/9')?.ts).toBe(T0 + 53_000);
    expect(s.alarms.list(S, { active: true }).map((e) => e.id)).toEqual([active]);
    s.close();
  });
});

describe('recovery: merging the set-aside file back', () => {
  it('brings back every sample its pages still hold (the damaged stretches are reported), old rollups, events and accounts; a second merge changes nothing', async () => {
    const dir = freshDir();
    const day = 86_400_000;
    const now = T0 + 40 * day;
    const s0 = new FileStorage({ identity: O, dataDir: dir, clock: () => now });
    // 40 days: hourly samples (their raw goes past the 30-day retention, rollups stay),
    // then a dense last day.
    const hourly = Array.from({ length: 40 * 24 }, (_, i) => ({
      packId: 's/b/1',
      ts: T0 + i * 3_600_000,
      snapshot: contractSnapshot(i),
    }));
    const dense = samples('s/b/1', now - day, 8000);
    s0.telemetry.writeSamples(O, hourly);
    s0.telemetry.writeSamples(O, dense);
    s0.telemetry.rollup(now);
    s0.telemetry.applyRetention(now);
    s0.users.create(O, { username: 'ann', role: 'admin', createdAt: T0 }, 'scrypt-hash');
    const evId = s0.alarms.raise(O, {
      packId: 's/b/1',
      code: 'cell_ov',
      severity: 'protection',
      origin: 'bms',
      raisedAt: now - 5000,
      message: 'over',
    }).id;
    s0.audit.append(O, { at: now - 4000, user: 'ann', action: 'login', result: 'ok' });
    const stored = new Set(
      s0.telemetry.history(S, {
        packId: 's/b/1',
        from: T0,
        to: now + 1,
        fields: ['soc_pct'],
        resolution: 'raw',
        maxPoints: 100_000,
      }).series['soc_pct']!.t,
    );
    const kept = [...hourly.filter((x) => x.ts >= now - 30 * day), ...dense].map((x) => x.ts);
    expect([...stored].sort()).toEqual([...new Set(kept)].sort());
    const old1h = s0.telemetry.history(S, {
      packId: 's/b/1',
      from: T0,
      to: T0 + 5 * day - 1,
      fields: ['soc_pct'],
      resolution: '1h',
    });
    expect(old1h.series['soc_pct']!.t.length).toBe(5 * 24);
    s0.close();
    damage(join(dir, 'openbms.sqlite'), 8, 99);

    const s1 = new FileStorage({ identity: O, dataDir: dir, clock: () => now + 1000 });
    const report = await s1.checkIntegrity();
    expect(report.result).toBe('corrupt');
    const after = samples('s/b/1', now + 10_000, 3);
    s1.telemetry.writeSamples(O, after);
    s1.close();

    // The documented step: OpenBMS stopped, merge the set-aside file.
    const s2 = new FileStorage({ identity: O, dataDir: dir, clock: () => now + 60_000 });
    const merged = s2.merge(report.setAside!);
    expect(merged.samples).toBeGreaterThan(0);
    const gaps = merged.unreadable.filter((u) => u.table === 'telemetry_raw');
    const inGap = (ts: number): boolean =>
      gaps.some((g) => ts > g.after && (g.upTo === undefined || ts < g.upTo));
    const back = new Set(
      s2.telemetry.history(S, {
        packId: 's/b/1',
        from: T0,
        to: now + 60_000,
        fields: ['soc_pct'],
        resolution: 'raw',
        maxPoints: 100_000,
      }).series['soc_pct']!.t,
    );
    expect(gaps.length).toBeGreaterThan(0); // the damage hit samples: some are lost, and said so
    expect(back.size).toBeGreaterThan(stored.size / 2);
    for (const ts of stored) if (!inGap(ts)) expect(back.has(ts), `sample ${ts}`).toBe(true);
    for (const x of after) expect(back.has(x.ts)).toBe(true);
    expect([...back].filter((ts) => !stored.has(ts) && !after.some((x) => x.ts === ts))).toEqual(
      [],
    );
    // The hourly rollups older than the raw retention are back too (unless on damaged pages).
    const h1 = s2.telemetry.history(S, {
      packId: 's/b/1',
      from: T0,
      to: T0 + 5 * day - 1,
      fields: ['soc_pct'],
      resolution: '1h',
    });
    expect(h1.series['soc_pct']!.t.length).toBeGreaterThan(0);
    const lost1h = merged.unreadable.some((u) => u.table === 'telemetry_1h');
    if (!lost1h) expect(h1.series['soc_pct']).toEqual(old1h.series['soc_pct']);
    expect(s2.alarms.list(S, {}).some((e) => e.id === evId)).toBe(true);
    expect(s2.audit.list(S, {}).some((e) => e.action === 'login' && e.at === now - 4000)).toBe(
      true,
    );
    expect(s2.users.get(S, 'ann')?.passwordHash).toBe('scrypt-hash');

    const again = s2.merge(report.setAside!);
    expect(again).toMatchObject({ alarms: 0, audit: 0, users: 0, tokens: 0, rollups: 0 });
    const count = s2.telemetry.history(S, {
      packId: 's/b/1',
      from: T0,
      to: now + 60_000,
      fields: ['soc_pct'],
      resolution: 'raw',
      maxPoints: 100_000,
    }).series['soc_pct']!.t.length;
    expect(count).toBe(back.size);
    s2.close();
  });
});

describe('merging a file with organisations', () => {
  it('adds its organisations, their tree and its memberships; what the target has stays', () => {
    const src = freshDir();
    const { path, orgs, memberships, points } = populated(src);
    const dir = freshDir();
    const s = new FileStorage({ identity: O, dataDir: dir, clock: () => T0 + 1000 });
    try {
      const ownRoot = s.orgs.subtree([O.orgId]);
      const report = s.merge(path);
      expect(report).toMatchObject({ users: 1, unreadable: [] });
      const [, maker, dealer] = orgs;
      // The target's own root (same id) keeps its code; the maker's tree comes whole.
      expect(s.orgs.subtree([O.orgId])).toEqual(ownRoot);
      expect(s.orgs.subtree([maker!.id])).toEqual([maker, dealer]);
      expect(s.orgs.subtree([dealer!.id])).toEqual([dealer]);
      const ann = s.users.get(S, 'ann')!;
      expect(s.orgs.membershipsOf(ann.id)).toEqual(memberships);
      // The dealer's point groups come too.
      expect(s.points.list([dealer!.id])).toEqual(points);
      // Twice: nothing more.
      s.merge(path);
      expect(s.orgs.membershipsOf(ann.id)).toEqual(memberships);
      expect(s.points.list([dealer!.id])).toEqual(points);
    } finally {
      s.close();
    }
  });
});
