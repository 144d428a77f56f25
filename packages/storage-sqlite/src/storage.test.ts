/**
 * SqliteStorage, the port with its queries in worker threads, on real files: the contract
 * suites through the threads, errors keeping their codes across the thread boundary, the
 * main thread kept free during a long query, a damaged file met by a reader thread, and the
 * gateway's ids kept in the data directory. (The facade's full-disk and damage handling in
 * the writer thread's own class: file-storage.test.ts; a real full disk: storage-tmpfs.test.ts.)
 */
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prng } from '@openbms/core';
import { isId, localScope, type Sample } from '@openbms/storage';
import {
  TEST_ORIGIN,
  accountContract,
  alarmContract,
  auditContract,
  chunksOf,
  contractSnapshot,
  expectCode,
  orgContract,
  deviceContract,
  plantContract,
  pointGroupContract,
  positionContract,
  instructionContract,
  geofenceContract,
  renewalContract,
  remoteCollectorContract,
  telemetryContract,
  userContract,
} from '@openbms/storage/testing';
import { SqliteStorage } from './storage.js';

const root = mkdtempSync(join(tmpdir(), 'openbms-storage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `d${++n}`);

const O = TEST_ORIGIN;
const S = localScope(O);
const T0 = Date.UTC(2026, 5, 21, 10, 0, 0);

const open = (dataDir = freshDir(), more: Parameters<typeof SqliteStorage.open>[0] = {}) =>
  SqliteStorage.open({ dataDir, identity: O, ...more });

telemetryContract('sqlite threads', () => open());
alarmContract('sqlite threads', () => open());
auditContract('sqlite threads', () => open());
userContract('sqlite threads', () => open());
orgContract('sqlite threads', () => open());
deviceContract('sqlite threads', () => open());
renewalContract('sqlite threads', () => open());
plantContract('sqlite threads', () => open());
pointGroupContract('sqlite threads', () => open());
positionContract('sqlite threads', () => open());
instructionContract('sqlite threads', () => open());
geofenceContract('sqlite threads', () => open());
remoteCollectorContract('sqlite threads', () => open());
accountContract('sqlite threads', () => open(), O);

const samples = (packId: string, from: number, count: number, every = 1000): Sample[] =>
  Array.from({ length: count }, (_, i) => ({
    packId,
    ts: from + i * every,
    snapshot: contractSnapshot(i),
  }));

describe('SqliteStorage threads', () => {
  it('keeps BmsError codes, messages and fields across the thread boundary', async () => {
    const s = await open();
    try {
      await expectCode(
        () =>
          s.alarms.raise(O, {
            packId: 'p',
            code: 'cell_ov',
            severity: 'loud' as never,
            origin: 'bms',
            raisedAt: T0,
            message: '',
          }),
        'REQUEST_INVALID',
        'severity',
      );
      await expectCode(() => s.users.setRole(S, 'nobody', 'admin'), 'NOT_FOUND');
      await expectCode(
        () => s.telemetry.applyRetention(T0, { raw: -1, '1m': 1, '15m': 1, '1h': 1 }),
        'CONFIG_INVALID',
      );
      // A value that cannot even cross to the thread is the caller's input, not a crash.
      await expectCode(
        () =>
          s.telemetry.writeSamples(O, [{ packId: 'p', ts: T0, snapshot: { f: () => 1 } as never }]),
        'REQUEST_INVALID',
      );
      await expectCode(
        () => s.audit.append(O, { at: T0, user: 'a', action: 'x', result: 'ok', new: () => 1 }),
        'REQUEST_INVALID',
        'new',
      );
      const err = await s.users.setRole(S, 'nobody', 'admin').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toBe('no user named "nobody"');
    } finally {
      await s.close();
    }
    await expectCode(() => s.users.count(S), 'STORAGE_FAILED');
  });

  it('keeps the main thread free while a long query runs in a thread', async () => {
    const s = await open();
    try {
      for (let i = 0; i < 6; i++)
        await s.telemetry.writeSamples(O, samples('p', T0 + i * 10_000_000, 10_000));
      // The main thread's timer keeps firing while the query runs; a query on the main thread
      // would hold it for the whole query.
      let ticks = 0;
      let last = performance.now();
      let longest = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
        ticks++;
      }, 2);
      const t0 = performance.now();
      const r = await s.telemetry.history(S, {
        packId: 'p',
        from: T0,
        to: T0 + 60_000_000,
        fields: [],
        resolution: 'raw',
        maxPoints: 1_000_000,
      });
      const took = performance.now() - t0;
      clearInterval(timer);
      expect(r.series['soc_pct']!.t).toHaveLength(60_000);
      expect(ticks, `the timer fired during a ${took.toFixed(0)} ms query`).toBeGreaterThan(0);
      expect(longest).toBeLessThan(took);
    } finally {
      await s.close();
    }
  });

  it('streams an export held by a slow consumer without reading ahead more than a chunk', async () => {
    const s = await open();
    try {
      await s.telemetry.writeSamples(O, samples('p', T0, 30_000));
      const it = (await s.telemetry.exportCsv(S, { packId: 'p', from: T0, to: T0 + 40_000_000 }))[
        Symbol.asyncIterator
      ]();
      const head = await it.next();
      expect(head.value).toMatch(/^time,/);
      // Reads that arrive while the export waits for its consumer are answered at once.
      const writes = samples('q', T0, 1);
      await s.telemetry.writeSamples(O, writes);
      expect((await s.telemetry.latest(S, 'q'))?.ts).toBe(T0);
      const rest = [];
      for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
      expect(rest.join('').split('\n').length - 1).toBe(30_000);
    } finally {
      await s.close();
    }
  });
});

// ---------------------------------------------------------------- damaged file

function damage(path: string, count: number, seed: number): Buffer {
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

describe('a damaged database met by a reader thread', () => {
  it('answers STORAGE_CORRUPT, has the writer set the file aside (health says so at once), and the next read finds the fresh file', async () => {
    const dir = freshDir();
    const first = await open(dir, { clock: () => T0 });
    await first.telemetry.writeSamples(O, samples('s/b/1', T0, 6000));
    const alarm = await first.alarms.raise(O, {
      packId: 's/b/1',
      code: 'comm_lost',
      severity: 'fault',
      origin: 'gateway',
      raisedAt: T0,
      message: 'lost',
    });
    await first.close();
    const damaged = damage(join(dir, 'openbms.sqlite'), 20, 7);
    const s = await open(dir, { clock: () => T0 + 10_000 });
    try {
      let told = 0;
      s.onHealth(() => told++);
      const q = {
        packId: 's/b/1',
        from: T0,
        to: T0 + 7_000_000,
        fields: ['soc_pct'],
        resolution: 'raw' as const,
      };
      await expectCode(() => s.telemetry.history(S, q), 'STORAGE_CORRUPT');
      const [problem] = (await s.health()).problems;
      expect(problem?.code).toBe('STORAGE_CORRUPT');
      expect(readFileSync(problem!.files![0]!).equals(damaged)).toBe(true);
      expect(told).toBeGreaterThan(0);
      expect((await s.telemetry.history(S, q)).series['soc_pct']?.t).toEqual([]);
      await s.telemetry.writeSamples(O, samples('s/b/1', T0 + 20_000, 3));
      expect((await s.telemetry.history(S, q)).series['soc_pct']?.t).toHaveLength(3);
      // The active alarm came along under its ids.
      expect((await s.alarms.list(S, { active: true })).map((e) => [e.id, e.localId])).toEqual([
        [alarm.id, alarm.localId],
      ]);
    } finally {
      await s.close();
    }
  });
});

// ---------------------------------------------------------------- identity

describe("the gateway's ids", () => {
  it('are made once, kept in the data directory (0600) and the database, and survive a fresh file', async () => {
    const dir = freshDir();
    const a = await SqliteStorage.open({ dataDir: dir });
    const id = a.identity;
    expect(isId(id.orgId) && isId(id.gatewayId)).toBe(true);
    await a.close();
    const file = join(dir, 'identity.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      org_id: id.orgId,
      gateway_id: id.gatewayId,
    });
    const b = await SqliteStorage.open({ dataDir: dir });
    expect(b.identity).toEqual(id);
    await b.close();
    // The database is gone (deleted, or set aside): the fresh one takes the same ids.
    for (const f of ['openbms.sqlite', 'openbms.sqlite-wal', 'openbms.sqlite-shm'])
      rmSync(join(dir, f), { force: true });
    const c = await SqliteStorage.open({ dataDir: dir });
    expect(c.identity).toEqual(id);
    await c.close();
    // The directory's file is lost: the database still knows, and the file is written again.
    rmSync(file);
    const d = await SqliteStorage.open({ dataDir: dir });
    expect(d.identity).toEqual(id);
    await d.close();
    expect(existsSync(file)).toBe(true);
  });

  it("keeps a database's own ids when the directory's file names others, and says so", async () => {
    const dir = freshDir();
    const a = await SqliteStorage.open({ dataDir: dir, identity: O });
    await a.close();
    rmSync(join(dir, 'identity.json'));
    const warnings: string[] = [];
    const other = { orgId: '01JD0000000000000000000RG2', gatewayId: '01JD000000000000000000GW03' };
    const b = await SqliteStorage.open({
      dataDir: dir,
      identity: other,
      onWarning: (w) => warnings.push(w),
    });
    expect(b.identity).toEqual(O);
    await b.close();
    expect(warnings.join('\n')).toContain(`belongs to gateway ${O.gatewayId}`);
  });

  it('refuses an identity file it cannot read, with a coded error naming it', async () => {
    const dir = freshDir();
    const a = await SqliteStorage.open({ dataDir: dir });
    await a.close();
    rmSync(join(dir, 'openbms.sqlite'));
    rmSync(join(dir, 'openbms.sqlite-wal'), { force: true });
    rmSync(join(dir, 'openbms.sqlite-shm'), { force: true });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'identity.json'), '{"org_id": 1}');
    await expect(SqliteStorage.open({ dataDir: dir })).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining('identity.json'),
    });
  });
});

describe('exports through the threads', () => {
  it('gives the same rows as CSV and as numbers', async () => {
    const s = await open();
    try {
      await s.telemetry.writeSamples(O, samples('p', T0, 12_000));
      const q = { packId: 'p', from: T0, to: T0 + 12_000_000, fields: ['soc_pct', 'cell_mv.2'] };
      const csv = (await chunksOf(s.telemetry.exportCsv(S, q))).join('').trimEnd().split('\n');
      const rows = await s.telemetry.exportRows(S, q);
      const batches = await chunksOf(rows.batches);
      const asCsv = batches.flatMap((b) =>
        [...b.times].map(
          (t, r) => `${new Date(t).toISOString()},${b.values[r * 2]},${b.values[r * 2 + 1]}`,
        ),
      );
      expect(csv).toEqual(['time,soc_pct,cell_mv.2', ...asCsv]);
    } finally {
      await s.close();
    }
  });
});
