/**
 * The API when the storage fails, all real: the gateway polling a simulated pack over TCP,
 * the SQLite file, the server on a listening socket, a `ws` WebSocket client. A full disk is
 * `PRAGMA max_page_count` on the storage's own connection after the pages where new samples
 * go are filled; a damaged file has pages overwritten with random bytes before the start.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prng } from '@openbms/core';
import { Gateway, validateConfig, type GatewayEvent } from '@openbms/gateway';
import { simulatedBuses } from '@openbms/gateway/testing';
import { localScope } from '@openbms/storage';
import { openSqliteStorage, type Db, type SqliteStorage } from '@openbms/storage-sqlite';
import { inThreadStorage, pagesOf } from '@openbms/storage-sqlite/testing';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './app.js';
import { hashPassword } from './passwords.js';
import { TEST_COST } from './testing/harness.js';
import { LiveClient } from './testing/ws-client.js';

const PACK = 's/b/2';
const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

interface Rig {
  gw: Gateway;
  app: FastifyInstance;
  url: string;
  storage: SqliteStorage | ReturnType<typeof inThreadStorage>;
  get(path: string, token?: string): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  login(): Promise<string>;
  until(pred: (e: GatewayEvent) => boolean): Promise<GatewayEvent>;
}

/**
 * `onOpen` (the test reaches the connection, to stand a full disk in): the storage runs in the
 * test's own thread (storage-sqlite's inThreadStorage, the writer thread's own class); else
 * the storage with its worker threads, as `openbms start` runs it.
 */
async function rig(dir: string, onOpen?: (db: Db) => void): Promise<Rig> {
  const storage = onOpen
    ? inThreadStorage({ dataDir: dir, onOpen })
    : await openSqliteStorage({ dataDir: dir });
  stops.push(() => storage.close());
  const scope = localScope(storage.identity);
  if ((await storage.users.count(scope)) === 0) {
    await storage.users.create(
      storage.identity,
      { username: 'ann', role: 'operator', createdAt: Date.now() },
      await hashPassword('a-long-secret', TEST_COST),
    );
  }
  const config = validateConfig({
    version: 1,
    storage: { batch_ms: 2000, integrity_check_h: 0 },
    sites: [
      {
        id: 's',
        buses: [
          {
            id: 'b',
            port: 'sim',
            protocol: 'pylontech',
            poll_interval_s: 0.2,
            retries: 0,
            timeout_ms: 200,
            simulator: { speed: 1 },
            packs: [{ address: 2 }],
          },
        ],
      },
    ],
  });
  const gw = new Gateway({ config, storage, busFactory: simulatedBuses().busFactory });
  await gw.start();
  stops.push(() => gw.stop());
  const app = await buildServer({ storage, gateway: gw, passwordCost: TEST_COST });
  await app.listen({ host: '127.0.0.1', port: 0 });
  stops.push(() => app.close());
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const get = async (path: string, token?: string) => {
    const r = await fetch(url + path, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: r.status, body: (await r.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const login = async (): Promise<string> => {
    const r = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ann', password: 'a-long-secret' }),
    });
    expect(r.status).toBe(200);
    return ((await r.json()) as { token: string }).token;
  };
  const until = (pred: (e: GatewayEvent) => boolean): Promise<GatewayEvent> =>
    new Promise((resolve) => {
      const off = gw.events.on((e) => {
        if (pred(e)) {
          off();
          resolve(e);
        }
      });
    });
  return { gw, app, url, storage, get, login, until };
}

const snapshot = (r: Rig): Promise<GatewayEvent> =>
  r.until((e) => e.type === 'snapshot' && e.packId === PACK);

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'openbms-api-storage-'));
  stops.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

type Msg = Awaited<ReturnType<LiveClient['next']>>;

/** WebSocket messages until one matches (the server sends snapshots meanwhile). */
async function nextMatching(ws: LiveClient, pred: (m: Msg) => boolean): Promise<Msg> {
  for (;;) {
    const m = await ws.next();
    if (pred(m)) return m;
  }
}

describe('API on a failing storage', () => {
  it('full disk: /health says degraded STORAGE_FULL with HTTP 200, login and live data go on, the storage_full alarm reaches the alarms API and every WebSocket; ok again once the samples are written', async () => {
    let conn: Db | undefined;
    const r = await rig(dataDir(), (db) => (conn = db));
    await snapshot(r);
    expect(await r.gw.writer.flush()).toBe(true);
    expect((await r.get('/api/v1/health')).body).toMatchObject({ status: 'ok' });
    const token = await r.login();
    const ws = await LiveClient.connect(
      `${r.url.replace('http', 'ws')}/api/v1/live?token=${token}`,
    );
    stops.push(() => ws.close());
    ws.send({ subscribe: [PACK] }); // not the gateway scope: its alarms come all the same

    // Fill: cap the file, then fill the pages the next live samples go to: a day ahead
    // (which also uses up the free pages the migrations left), then ten minutes ahead (right
    // after the live samples). On the file's own class: nothing else writes meanwhile.
    conn!.pragma(`max_page_count = ${conn!.pragma('page_count', { simple: true })}`);
    const file = (r.storage as ReturnType<typeof inThreadStorage>).file;
    for (const ahead of [86_400_000, 600_000]) {
      const start = Date.now() + ahead;
      for (let i = 0; ; i++) {
        try {
          file.telemetry.writeSamples(r.storage.identity, [
            { packId: PACK, ts: start + i, snapshot: { soc_pct: 1 } },
          ]);
        } catch {
          break;
        }
      }
    }
    await snapshot(r);
    expect(await r.gw.writer.flush()).toBe(false);
    const raised = await nextMatching(
      ws,
      (m) => m.type === 'alarm' && m.alarm.code === 'storage_full',
    );
    expect(raised).toMatchObject({
      state: 'raised',
      alarm: { pack_id: 'gateway', origin: 'gateway', severity: 'fault' },
    });
    const health = await r.get('/api/v1/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'degraded',
      code: 'STORAGE_FULL',
      packs_online: 1,
    });
    expect(health.body.message).toMatch(/full/);
    expect(health.body.samples_waiting).toBeGreaterThan(0);
    // Logins and live data go on.
    const second = await r.login();
    expect((await r.get('/api/v1/auth/me', second)).body).toMatchObject({ username: 'ann' });
    await nextMatching(ws, (m) => m.type === 'snapshot' && m.pack_id === PACK);
    const active = await r.get('/api/v1/alarms?active=true', token);
    expect(
      active.body.map((a: { pack_id: string; code: string }) => `${a.pack_id}:${a.code}`),
    ).toContain('gateway:storage_full');

    conn!.pragma('max_page_count = 1073741823');
    await snapshot(r);
    expect(await r.gw.writer.flush()).toBe(true);
    await nextMatching(
      ws,
      (m) => m.type === 'alarm' && m.state === 'cleared' && m.alarm.code === 'storage_full',
    );
    expect((await r.get('/api/v1/health')).body).toMatchObject({
      status: 'ok',
      samples_waiting: 0,
    });
    expect((await r.get('/api/v1/health')).body.code).toBeUndefined();
  });

  it('a damaged database: history answers 503 STORAGE_CORRUPT instead of a bare 500, /health is degraded with storage_corrupt active, and the next query answers from the fresh file', async () => {
    const dir = dataDir();
    const seed = await openSqliteStorage({ dataDir: dir });
    const t0 = Date.now() - 86_400_000;
    await seed.telemetry.writeSamples(
      seed.identity,
      Array.from({ length: 6000 }, (_, i) => ({
        packId: 's/old/1',
        ts: t0 + i * 1000,
        snapshot: { soc_pct: i % 100, cell_mv: [3300, 3301, 3302, 3303] },
      })),
    );
    await seed.close();
    const path = join(dir, 'openbms.sqlite');
    // Garbage over pages in the middle of the raw samples (dbstat says which pages they are):
    // the history query below meets the damage, the accounts' pages stay readable.
    const raw = pagesOf(path, 'telemetry_raw');
    expect(raw.length).toBeGreaterThan(30);
    expect(statSync(path).size).toBeGreaterThan(raw.at(-1)! * 4096 - 4096);
    const rnd = prng(5);
    const fd = openSync(path, 'r+');
    const mid = Math.floor(raw.length / 2) - 10;
    for (const p of raw.slice(mid, mid + 20)) {
      writeSync(
        fd,
        Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rnd() * 256))),
        0,
        4096,
        (p - 1) * 4096,
      );
    }
    closeSync(fd);

    const r = await rig(dir);
    const token = await r.login();
    const corrupt = r.until((e) => e.type === 'alarm' && e.event.code === 'storage_corrupt');
    const old = `/api/v1/packs/${encodeURIComponent('s/old/1')}/history?from=${t0}&to=${t0 + 7_000_000}&fields=soc_pct&resolution=raw`;
    const first = await r.get(old, token);
    expect(first.status).toBe(503);
    expect(first.body).toMatchObject({ code: 'STORAGE_CORRUPT' });
    expect(first.body.error).toMatch(/set aside/);
    await corrupt;
    const health = await r.get('/api/v1/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', code: 'STORAGE_CORRUPT' });
    expect(health.body.problems[0].files[0]).toMatch(/openbms\.sqlite\.corrupt-/);
    const q = `/api/v1/packs/${encodeURIComponent(PACK)}/history?from=${t0}&to=${Date.now() + 60_000}&fields=soc_pct&resolution=raw`;
    expect((await r.get(q, token)).status).toBe(200);
    // The session made before the damage still works: accounts were carried into the fresh file.
    expect((await r.get('/api/v1/auth/me', token)).status).toBe(200);
  });
});
