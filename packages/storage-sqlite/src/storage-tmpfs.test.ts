/**
 * The storage on a real full file system: a 2 MB tmpfs filled with a file, through the port
 * (SqliteStorage: the writer thread meets the full disk). Mounting needs root (CI runs as
 * root); elsewhere these tests are skipped, and their names say so.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { localScope, type Sample } from '@openbms/storage';
import { TEST_ORIGIN, contractSnapshot } from '@openbms/storage/testing';
import type { Db } from './db.js';
import { SqliteStorage } from './storage.js';

const O = TEST_ORIGIN;
const S = localScope(O);

const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => Db;
const ROOT = process.getuid?.() === 0;
const T0 = Date.UTC(2026, 5, 21, 10, 0, 0);

const mounts: string[] = [];
afterEach(() => {
  for (const m of mounts.splice(0)) {
    execFileSync('umount', [m]);
    rmSync(m, { recursive: true, force: true });
  }
});

function tmpfs(): string {
  const dir = mkdtempSync(join(tmpdir(), 'openbms-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

/** Fills the file system: a file as large as it takes (ENOSPC ends the write). */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  try {
    writeFileSync(filler, Buffer.alloc(8 * 1024 * 1024));
  } catch (e) {
    expect((e as { code?: string }).code).toBe('ENOSPC');
  }
  return filler;
}

const samples = (from: number, count: number): Sample[] =>
  Array.from({ length: count }, (_, i) => ({
    packId: 's/b/1',
    ts: from + i * 1000,
    snapshot: contractSnapshot(i),
  }));

const codeOf = async (fn: () => unknown): Promise<string | undefined> => {
  try {
    await fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe.skipIf(!ROOT)(
  'on a real full file system (tmpfs; needs root to mount, skipped otherwise)',
  () => {
    it('opens an existing database on a full disk: reads work, writes say STORAGE_FULL (not STORAGE_FAILED), records wait, and all is written when space returns', async () => {
      const dir = join(tmpfs(), 'data');
      const first = await SqliteStorage.open({ identity: O, dataDir: dir, clock: () => T0 });
      await first.telemetry.writeSamples(O, samples(T0, 200));
      await first.users.create(O, { username: 'ann', role: 'admin', createdAt: T0 }, 'hash');
      await first.users.createToken(S, {
        hash: 'old',
        username: 'ann',
        kind: 'session',
        createdAt: T0,
      });
      await first.close();
      const filler = fill(dir);

      const s = await SqliteStorage.open({ identity: O, dataDir: dir, clock: () => T0 + 1000 });
      expect((await s.health()).problems.map((p) => p.code)).toEqual(['STORAGE_FULL']);
      expect((await s.users.get(S, 'ann'))?.role).toBe('admin');
      expect((await s.telemetry.latest(S, 's/b/1'))?.ts).toBe(T0 + 199_000);
      expect(await codeOf(() => s.telemetry.writeSamples(O, samples(T0 + 200_000, 50)))).toBe(
        'STORAGE_FULL',
      );
      expect(await codeOf(() => s.users.setRole(S, 'ann', 'viewer'))).toBe('STORAGE_FULL');
      // An API token is shown once and must outlive a restart: refused, not kept in memory.
      expect(
        await codeOf(() =>
          s.users.createToken(S, { hash: 'api', username: 'ann', kind: 'api', createdAt: T0 }),
        ),
      ).toBe('STORAGE_FULL');
      // A login and a logout wait in memory; the session works meanwhile, the old one does not.
      await s.users.createToken(S, {
        hash: 'new',
        username: 'ann',
        kind: 'session',
        createdAt: T0 + 1000,
      });
      await s.users.deleteToken('old');
      expect((await s.users.findToken('new'))?.username).toBe('ann');
      expect(await s.users.findToken('old')).toBeUndefined();
      const { id } = await s.alarms.raise(O, {
        packId: 'gateway',
        code: 'storage_full',
        severity: 'fault',
        origin: 'gateway',
        raisedAt: T0 + 1000,
        message: 'full',
      });
      expect((await s.alarms.list(S, { active: true })).map((e) => e.id)).toEqual([id]);
      expect((await s.health()).deferred).toBe(3);

      rmSync(filler);
      await s.telemetry.writeSamples(O, samples(T0 + 200_000, 50));
      expect(await s.health()).toEqual({ problems: [], deferred: 0 });
      // Back on a normal (shared) connection: another process can open the file again.
      const other = new Database(join(dir, 'openbms.sqlite'));
      expect(other.prepare('SELECT hash FROM tokens ORDER BY hash').all()).toEqual([
        { hash: 'new' },
      ]);
      expect(other.prepare('SELECT code FROM alarm_events WHERE id = ?').get(id)).toEqual({
        code: 'storage_full',
      });
      other.close();
      expect((await s.telemetry.latest(S, 's/b/1'))?.ts).toBe(T0 + 249_000);
      await s.close();
    });

    it('starts in a fresh data directory on a full disk on an empty stand-in, and creates the file when space returns', async () => {
      const mount = tmpfs();
      const filler = fill(mount);
      const dir = join(mount, 'data');
      const s = await SqliteStorage.open({
        identity: O,
        dataDir: dir,
        clock: () => T0,
        retryMs: 0,
      });
      expect((await s.health()).problems.map((p) => p.code)).toEqual(['STORAGE_FULL']);
      expect(await s.users.count(S)).toBe(0);
      expect(await codeOf(() => s.telemetry.writeSamples(O, samples(T0, 5)))).toBe('STORAGE_FULL');
      const { id } = await s.alarms.raise(O, {
        packId: 'gateway',
        code: 'storage_full',
        severity: 'fault',
        origin: 'gateway',
        raisedAt: T0,
        message: 'full',
      });
      expect((await s.alarms.list(S)).map((e) => e.id)).toEqual([id]);
      rmSync(filler);
      await s.telemetry.writeSamples(O, samples(T0, 5));
      expect(await s.health()).toEqual({ problems: [], deferred: 0 });
      expect((await s.telemetry.latest(S, 's/b/1'))?.ts).toBe(T0 + 4000);
      expect((await s.alarms.list(S)).map((e) => e.id)).toEqual([id]);
      await s.close();
    });
  },
);
