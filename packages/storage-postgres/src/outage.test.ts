/**
 * A PostgreSQL that goes away and comes back: the storage reaches the real server through a
 * TCP relay on a port of its own (port 0), and the test stops the relay (every connection
 * cut, new ones refused) and starts it again on the same port. While it is down every call
 * fails with STORAGE_UNAVAILABLE (nothing crashes, no error escapes a call), health() says
 * so and listeners hear it; once it is back the next write goes in and health clears.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localScope, type Sample } from '@openbms/storage';
import { TEST_ORIGIN, contractSnapshot, expectCode } from '@openbms/storage/testing';
import { PostgresStorage } from './storage.js';
import { PgRelay as Relay, createTestDatabase, type TestDatabase } from './testing/index.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const S = localScope(TEST_ORIGIN);
const T0 = Date.UTC(2026, 0, 5);
const batch = (from: number, n: number): Sample[] =>
  Array.from({ length: n }, (_, i) => ({
    packId: 'p',
    ts: from + i * 1000,
    snapshot: contractSnapshot(i),
  }));

describe('PostgresStorage when PostgreSQL goes away', () => {
  it('answers STORAGE_UNAVAILABLE while the server cannot be reached, and writes again once it is back', async () => {
    const relay = new Relay();
    await relay.up();
    const url = relay.url(db.url);
    const storage = await PostgresStorage.open({
      url,
      identity: TEST_ORIGIN,
      connectTimeoutMs: 2000,
    });
    let heard = 0;
    storage.onHealth(() => heard++);
    try {
      await storage.telemetry.writeSamples(TEST_ORIGIN, batch(T0, 10));
      expect((await storage.health()).problems).toEqual([]);

      await relay.down();
      await expectCode(
        () => storage.telemetry.writeSamples(TEST_ORIGIN, batch(T0 + 10_000, 10)),
        'STORAGE_UNAVAILABLE',
      );
      await expectCode(() => storage.telemetry.latest(S, 'p'), 'STORAGE_UNAVAILABLE');
      await expectCode(() => storage.alarms.list(S), 'STORAGE_UNAVAILABLE');
      const down = await storage.health();
      expect(down.problems.map((p) => p.code)).toEqual(['STORAGE_UNAVAILABLE']);
      expect(down.problems[0]!.message).not.toContain('password');
      await Promise.resolve();
      expect(heard).toBe(1);

      await relay.up();
      // The batch that was refused, written again (as the gateway's writer does), and a new one.
      await storage.telemetry.writeSamples(TEST_ORIGIN, batch(T0 + 10_000, 10));
      await storage.telemetry.writeSamples(TEST_ORIGIN, batch(T0 + 20_000, 10));
      expect((await storage.health()).problems).toEqual([]);
      expect(heard).toBe(2);
      const r = await storage.telemetry.history(S, {
        packId: 'p',
        from: T0,
        to: T0 + 60_000,
        fields: ['soc_pct'],
        resolution: 'raw',
      });
      expect(r.series['soc_pct']!.t).toHaveLength(30);
    } finally {
      await storage.close();
      await relay.down();
    }
  });

  it('fails to open with STORAGE_UNAVAILABLE naming the server without its password', async () => {
    const relay = new Relay();
    await relay.up();
    const port = relay.port;
    await relay.down();
    const url = `postgres://postgres:s3cret@127.0.0.1:${port}/${db.name}`;
    let caught: { code?: string; message: string } | undefined;
    try {
      await PostgresStorage.open({ url, connectTimeoutMs: 2000 });
    } catch (e) {
      caught = e as { code?: string; message: string };
    }
    expect(caught?.code).toBe('STORAGE_UNAVAILABLE');
    expect(caught?.message).toContain(`127.0.0.1:${port}`);
    expect(caught?.message).not.toContain('s3cret');
  });

  it('goes on when the server ends its connections (pg_terminate_backend): the pool connects anew', async () => {
    const storage = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
    try {
      await storage.telemetry.writeSamples(TEST_ORIGIN, batch(T0 + 100_000, 5));
      const admin = await PostgresStorage.open({
        url: db.url,
        identity: TEST_ORIGIN,
        connections: 1,
      });
      const killed = await admin.db.query<{ ok: boolean }>(
        'kill',
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'openbms' AND pid <> pg_backend_pid()`,
      );
      await admin.close();
      expect(killed.length).toBeGreaterThan(0);
      // An idle connection that was killed is dropped by the pool; a call made now gets a
      // fresh one (or STORAGE_UNAVAILABLE if it raced the kill, never anything else).
      let code: string | undefined;
      try {
        await storage.telemetry.writeSamples(TEST_ORIGIN, batch(T0 + 200_000, 5));
      } catch (e) {
        code = (e as { code?: string }).code;
      }
      if (code !== undefined) expect(code).toBe('STORAGE_UNAVAILABLE');
      await storage.telemetry.writeSamples(TEST_ORIGIN, batch(T0 + 200_000, 5));
      expect((await storage.telemetry.latest(S, 'p'))?.ts).toBe(T0 + 204_000);
    } finally {
      await storage.close();
    }
  });
});
