/**
 * File modes on disk, checked with stat: the data directory 0700, the database and its WAL
 * files 0600, whatever the umask (it is set to 0 here, the loosest), and an existing
 * database readable by others tightened.
 */
import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localScope } from '@openbms/storage';
import { openSqliteStorage } from './index.js';

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);

let oldUmask: number;
beforeEach(() => {
  oldUmask = process.umask(0);
});
afterEach(() => {
  process.umask(oldUmask);
});

const sample = (ts: number) => ({ packId: 'p/b/1', ts, snapshot: { soc_pct: 50 } });

describe('file modes of the SQLite store', () => {
  it('creates the data directory 0700 and the database, -wal, -shm and identity.json 0600 with umask 0', async () => {
    const root = mkdtempSync(join(tmpdir(), 'openbms-modes-'));
    const dir = join(root, 'nested', 'data');
    const warnings: string[] = [];
    const s = await openSqliteStorage({ dataDir: dir, onWarning: (w) => warnings.push(w) });
    try {
      await s.telemetry.writeSamples(s.identity, [sample(Date.UTC(2030, 0, 1))]);
      expect(mode(dir)).toBe('700');
      expect(mode(s.path)).toBe('600');
      expect(mode(`${s.path}-wal`)).toBe('600');
      expect(mode(`${s.path}-shm`)).toBe('600');
      expect(mode(join(dir, 'identity.json'))).toBe('600');
      expect(warnings).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('tightens an existing database and WAL files readable by others, and warns about a loose directory without changing it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openbms-modes-'));
    const first = await openSqliteStorage({ dataDir: dir });
    await first.telemetry.writeSamples(first.identity, [sample(Date.UTC(2030, 0, 1))]);
    // A crash leaves the WAL behind; here the files are simply loosened while still open.
    chmodSync(dir, 0o755);
    for (const p of [first.path, `${first.path}-wal`, `${first.path}-shm`]) chmodSync(p, 0o644);
    const warnings: string[] = [];
    const again = await openSqliteStorage({ dataDir: dir, onWarning: (w) => warnings.push(w) });
    try {
      expect(mode(again.path)).toBe('600');
      expect(mode(`${again.path}-wal`)).toBe('600');
      expect(mode(`${again.path}-shm`)).toBe('600');
      expect(mode(dir)).toBe('755');
      expect(warnings).toEqual([
        `data directory ${dir} is open to other users (mode 0755); the database in it is 0600, but consider chmod 700 ${dir}`,
      ]);
      // Nothing stored was lost on the way.
      expect(
        (await again.telemetry.latest(localScope(again.identity), 'p/b/1'))?.snapshot,
      ).toMatchObject({ soc_pct: 50 });
    } finally {
      await first.close();
      await again.close();
    }
  });

  it('refuses a data directory that is a file with a coded error', async () => {
    const root = mkdtempSync(join(tmpdir(), 'openbms-modes-'));
    const f = join(root, 'plain');
    writeFileSync(f, 'x');
    await expect(openSqliteStorage({ dataDir: f })).rejects.toEqual(
      expect.objectContaining({ code: 'STORAGE_FAILED' }),
    );
    mkdirSync(join(root, 'ok'));
    await (await openSqliteStorage({ dataDir: join(root, 'ok') })).close();
    expect(mode(join(root, 'ok', 'openbms.sqlite'))).toBe('600');
  });
});
