/**
 * `openbms start` (a separate process, the built CLI) with `storage.url` naming a fresh
 * PostgreSQL database (a real one, made for this file and dropped afterwards): the demo
 * site's readings go into PostgreSQL (no SQLite file is made), and history and the CSV
 * export are served from it; and when PostgreSQL goes away (a TCP relay between them is
 * cut) polling goes on, /health says STORAGE_UNAVAILABLE, and once it is back the samples
 * polled meanwhile are written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PgRelay, createTestDatabase, type TestDatabase } from '@openbms/storage-postgres/testing';

const BIN = fileURLToPath(new URL('../bin/openbms.js', import.meta.url));
const PACK = 'demo/rack/2';
const children: ChildProcess[] = [];
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await db?.drop();
});

async function start(
  dir: string,
  config: string,
): Promise<{ child: ChildProcess; url: string; out: string[] }> {
  const child = spawn(
    process.execPath,
    [BIN, 'start', '--data-dir', dir, '--config', config, '--port', '0'],
    {
      env: { ...process.env, OPENBMS_ADMIN_USER: 'admin', OPENBMS_ADMIN_PASSWORD: 'a-long-secret' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const out: string[] = [];
  for await (const line of createInterface({ input: child.stdout! })) {
    out.push(line);
    const m = /^OpenBMS listening on (http:\/\/[^ ]+) /.exec(line);
    if (m) return { child, url: m[1]!, out };
  }
  throw new Error(`openbms start exited: ${err}`);
}

/** Polls `fn` until it returns a value (not undefined), or fails after `ms`. */
async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function rows(sql: string, url = db.url): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query<{ n: string }>(sql)).rows[0]!.n);
  } finally {
    await c.end();
  }
}

describe('openbms start on PostgreSQL (storage.url)', () => {
  it("stores the demo site's readings in PostgreSQL and serves history and CSV exports from it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openbms-pg-'));
    const config = join(dir, 'openbms.yaml');
    writeFileSync(config, `version: 1\ndemo: true\nstorage:\n  url: ${db.url}\n`);
    const began = Date.now() - 1000;
    const s = await start(dir, config);
    expect(s.out.join('\n')).toContain(`data: PostgreSQL ${db.url}`);
    const login = await fetch(`${s.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'a-long-secret' }),
    });
    expect(login.status).toBe(200);
    const token = ((await login.json()) as { token: string }).token;
    const get = (path: string): Promise<Response> =>
      fetch(s.url + path, { headers: { authorization: `Bearer ${token}` } });

    // Readings arrive in PostgreSQL's raw table (the admin account too), never in a SQLite file.
    const stored = await eventually('samples in telemetry_raw', async () => {
      const n = await rows(
        `SELECT count(*) AS n FROM telemetry_raw r JOIN telemetry_packs p ON p.id = r.pack WHERE p.name = '${PACK}'`,
      );
      return n >= 3 ? n : undefined;
    });
    expect(await rows("SELECT count(*) AS n FROM users WHERE username = 'admin'")).toBe(1);
    expect(existsSync(join(dir, 'openbms.sqlite'))).toBe(false);

    // History of the pack, from the database: at least what was counted there.
    const h = await get(
      `/api/v1/packs/${encodeURIComponent(PACK)}/history?from=${began}&to=${Date.now() + 60_000}&fields=soc_pct,cell_mv.0&resolution=raw`,
    );
    expect(h.status).toBe(200);
    const body = (await h.json()) as { series: Record<string, { t: number[]; avg: number[] }> };
    expect(body.series['soc_pct']!.t.length).toBeGreaterThanOrEqual(stored);
    expect(body.series['cell_mv.0']!.avg.every((v) => v > 2000 && v < 4500)).toBe(true);

    // The CSV export of the same range: a header and one line per stored sample.
    const csv = await get(
      `/api/v1/exports/csv?pack=${encodeURIComponent(PACK)}&from=${began}&to=${Date.now() + 60_000}&fields=soc_pct`,
    );
    expect(csv.status).toBe(200);
    const lines = (await csv.text()).trimEnd().split('\n');
    expect(lines[0]).toBe('time,soc_pct');
    expect(lines.length - 1).toBeGreaterThanOrEqual(stored);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z,\d+(\.\d+)?$/);

    s.child.kill('SIGTERM');
    await new Promise((r) => s.child.once('exit', r));
  }, 60_000);

  it('goes on polling while PostgreSQL is unreachable, says so in /health, and writes what it polled meanwhile once it is back', async () => {
    const other = await createTestDatabase();
    const relay = new PgRelay();
    await relay.up();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'openbms-pg-'));
      const config = join(dir, 'openbms.yaml');
      writeFileSync(config, `version: 1\ndemo: true\nstorage:\n  url: ${relay.url(other.url)}\n`);
      const s = await start(dir, config);
      const health = async (): Promise<{ status: string; code?: string }> =>
        (await fetch(`${s.url}/api/v1/health`)).json() as Promise<{
          status: string;
          code?: string;
        }>;
      const login = await fetch(`${s.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'a-long-secret' }),
      });
      const token = ((await login.json()) as { token: string }).token;
      const count = (where = 'true'): Promise<number> =>
        rows(`SELECT count(*) AS n FROM telemetry_raw WHERE ${where}`, other.url);
      await eventually('first samples', async () => ((await count()) > 0 ? true : undefined));
      // The live stream, opened while the database answers, counts snapshots during the outage.
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/v1/live?token=${token}`);
      let snapshots = 0;
      ws.on('message', (raw: Buffer) => {
        if ((JSON.parse(raw.toString()) as { type: string }).type === 'snapshot') snapshots++;
      });
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ subscribe: [PACK] }));
      await eventually('a live snapshot', async () => (snapshots > 0 ? true : undefined));

      await relay.down();
      const cut = Date.now();
      const degraded = await eventually('/health degraded', async () => {
        const h = await health();
        return h.status === 'degraded' ? h : undefined;
      });
      expect(degraded.code).toBe('STORAGE_UNAVAILABLE');
      const seen = snapshots;
      await eventually('snapshots while the database is away', async () =>
        snapshots >= seen + 3 ? true : undefined,
      );
      expect(s.child.exitCode).toBeNull();

      await relay.up();
      const back = Date.now();
      await eventually('/health ok again', async () =>
        (await health()).status === 'ok' ? true : undefined,
      );
      // Samples polled while the database was away were kept and written: by the writer's
      // next batch, which may come after /health turned ok (a health probe can succeed first).
      const during = await eventually('the samples held during the outage stored', async () => {
        const n = await count(`ts > ${cut + 500} AND ts < ${back - 500}`);
        return n > 0 ? n : undefined;
      });
      expect(during).toBeGreaterThan(0);
      ws.close();
      s.child.kill('SIGTERM');
      await new Promise((r) => s.child.once('exit', r));
    } finally {
      await relay.down();
      await other.drop();
    }
  }, 90_000);
});
