/**
 * `openbms start` (a separate process, the built CLI) on a failing storage:
 * - a data directory on a 2 MB tmpfs filled with a file (mounting needs root: CI runs as
 *   root; elsewhere that test is skipped and its name says so);
 * - a database whose middle pages were overwritten with random bytes before the start.
 * Waiting on the other process is a bounded poll with a deadline.
 */
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Modbus from 'modbus-serial';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { prng } from '@openbms/core';
import { hashPassword } from '@openbms/server';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { pagesOf } from '@openbms/storage-sqlite/testing';
import { BROKER, Watcher, namespace } from '@openbms/gateway/testing';

const BIN = fileURLToPath(new URL('../bin/openbms.js', import.meta.url));
const ROOT = process.getuid?.() === 0;
/** The Modbus port of the full-disk test (this work's port range is 18400-18499). */
const MODBUS_PORT = 18_417;
const PACK = 'demo/rack/2';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  // Every cleanup runs (an unmount must not be skipped because another one failed).
  let first: unknown;
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch (e) {
      first ??= e;
    }
  }
  if (first) throw first;
});

interface Started {
  child: ChildProcess;
  url: string;
  out: string[];
  /** The first standard-error line matching `re` (already read or still to come). */
  errLine(re: RegExp, ms?: number): Promise<string>;
}

async function start(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [BIN, 'start', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited; // it holds files on the tmpfs until it is gone
  });
  const out: string[] = [];
  const err: string[] = [];
  const waiting: { re: RegExp; resolve: (l: string) => void }[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => {
    err.push(l);
    for (const w of waiting.splice(0)) {
      if (w.re.test(l)) w.resolve(l);
      else waiting.push(w);
    }
  });
  // Standard error is a pipe of its own: a line written before "listening" may be read after.
  const errLine = (re: RegExp, ms = 10_000): Promise<string> => {
    const seen = err.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no stderr line ${re} in ${ms} ms: ${err.join('\n')}`)),
        ms,
      );
      waiting.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  };
  for await (const line of createInterface({ input: child.stdout! })) {
    out.push(line);
    const m = /^OpenBMS listening on (http:\/\/[^ ]+) /.exec(line);
    if (m) return { child, url: m[1]!, out, errLine };
  }
  throw new Error(`openbms start exited: ${err.join('\n')}`);
}

/** Polls `fn` until it returns a value (not undefined), or fails after `ms`. */
async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function client(url: string) {
  let token = '';
  const get = async (path: string): Promise<{ status: number; body: Json }> => {
    const r = await fetch(url + path, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: r.status, body: await r.json() };
  };
  const login = async (): Promise<string> => {
    const r = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'a-long-secret' }),
    });
    expect(r.status).toBe(200);
    token = ((await r.json()) as { token: string }).token;
    return token;
  };
  const rawCount = async (from: number, to: number): Promise<number> => {
    const h = await get(
      `/api/v1/packs/${encodeURIComponent(PACK)}/history?from=${from}&to=${to}&fields=soc_pct&resolution=raw`,
    );
    expect(h.status).toBe(200);
    return (h.body.series.soc_pct?.t ?? []).length;
  };
  return { get, login, rawCount, token: () => token };
}

/** Snapshots of a pack over the live WebSocket: resolves after `n`. */
function liveSnapshots(url: string, token: string, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/live?token=${token}`);
    let seen = 0;
    ws.on('open', () => ws.send(JSON.stringify({ subscribe: [PACK] })));
    ws.on('message', (raw: Buffer) => {
      const m = JSON.parse(raw.toString()) as { type: string };
      if (m.type === 'snapshot' && ++seen === n) {
        ws.close();
        resolve();
      }
    });
    ws.on('error', reject);
  });
}

/** A data directory with an admin (password a-long-secret) and, optionally, old samples. */
async function prepare(dataDir: string, samples = 0): Promise<void> {
  const s = await openSqliteStorage({ dataDir });
  await s.users.create(
    s.identity,
    { username: 'admin', role: 'admin', createdAt: Date.now() },
    await hashPassword('a-long-secret', { N: 1024, r: 8, p: 1 }),
  );
  const t0 = Date.now() - 2 * 86_400_000;
  if (samples > 0) {
    await s.telemetry.writeSamples(
      s.identity,
      Array.from({ length: samples }, (_, i) => ({
        packId: 'demo/old/9',
        ts: t0 + i * 1000,
        snapshot: { soc_pct: i % 100, voltage_v: 52.3, cell_mv: [3301, 3302, 3303, 3304] },
      })),
    );
  }
  await s.close();
}

describe.skipIf(!ROOT)(
  'openbms start on a full disk (tmpfs; needs root to mount, skipped otherwise)',
  () => {
    it('starts degraded STORAGE_FULL with login, live data, alarms, MQTT and Modbus; writes the buffered samples and clears the alarm when space returns', async () => {
      const mount = mkdtempSync(join(tmpdir(), 'openbms-full-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount]);
      cleanups.push(() => {
        execFileSync('umount', [mount]);
        rmSync(mount, { recursive: true, force: true });
      });
      const dataDir = join(mount, 'data');
      await prepare(dataDir);
      const filler = join(mount, 'filler');
      try {
        writeFileSync(filler, Buffer.alloc(8 * 1024 * 1024));
      } catch (e) {
        expect((e as { code?: string }).code).toBe('ENOSPC');
      }
      const { base } = namespace();
      const watch = await Watcher.open([`${base}/gateway/alarms`, `${base}/+/state`]);
      cleanups.push(async () => {
        await watch.clear([`${base}/gateway/alarms`]);
        await watch.close();
      });
      const cfgDir = mkdtempSync(join(tmpdir(), 'openbms-full-cfg-'));
      cleanups.push(() => rmSync(cfgDir, { recursive: true, force: true }));
      const cfg = join(cfgDir, 'openbms.yaml');
      writeFileSync(
        cfg,
        [
          'version: 1',
          'demo: true',
          `modbus_tcp: { port: ${MODBUS_PORT} }`,
          `mqtt: { url: "${BROKER}", base_topic: ${base}, interval_s: 1, homeassistant: { enabled: false } }`,
          '',
        ].join('\n'),
      );

      const began = Date.now();
      const app = await start(['--data-dir', dataDir, '--config', cfg]);
      await app.errLine(/warning: storage: the disk holding .* is full/);
      const api = client(app.url);
      const health = await api.get('/api/v1/health');
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'degraded', code: 'STORAGE_FULL' });
      // Login works: the session lives in memory while the disk cannot take it.
      const token = await api.login();
      expect((await api.get('/api/v1/auth/me')).body).toMatchObject({ username: 'admin' });
      await liveSnapshots(app.url, token, 3);
      const alarms = await api.get('/api/v1/alarms?active=true');
      expect(alarms.body.map((a: Json) => `${a.pack_id}:${a.code}`)).toContain(
        'gateway:storage_full',
      );
      const mqttAlarm = await watch.on(`${base}/gateway/alarms`, (p) => JSON.parse(p).active === 1);
      expect(JSON.parse(mqttAlarm.payload).alarms[0].code).toBe('storage_full');
      await watch.on(`${base}/demo_rack_2/state`, () => true);
      const modbus = new Modbus.default();
      await modbus.connectTCP('127.0.0.1', { port: MODBUS_PORT });
      cleanups.push(() => new Promise<void>((r) => modbus.close(() => r())));
      modbus.setID(1);
      const { data } = await modbus.readHoldingRegisters(0, 36);
      expect(data[0]).toBeGreaterThanOrEqual(0); // SOC, %
      expect(data[0]).toBeLessThanOrEqual(100);
      expect(data[35]).toBe(16); // the demo rack's cells
      const waiting = await api.get('/api/v1/health');
      expect(waiting.body.samples_waiting).toBeGreaterThan(0);
      const fullUntil = Date.now();

      rmSync(filler);
      await eventually('health ok after space returned', async () => {
        const h = await api.get('/api/v1/health');
        return h.body.status === 'ok' ? h.body : undefined;
      });
      expect(
        (await api.get('/api/v1/alarms?active=true')).body.map((a: Json) => a.code),
      ).not.toContain('storage_full');
      await watch.on(`${base}/gateway/alarms`, (p) => JSON.parse(p).active === 0);
      // The samples polled while the disk was full were kept and are now stored.
      expect(await api.rawCount(began, fullUntil)).toBeGreaterThan(0);
      // And the session made during the full disk was written: it survives.
      expect((await api.get('/api/v1/auth/me')).status).toBe(200);
    });
  },
);

describe('openbms start on a damaged database', () => {
  it('detects it at start (storage_corrupt, /health degraded, the file kept aside byte for byte, new samples stored, login works), and the documented recovery brings the old samples back', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openbms-corrupt-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    await prepare(dataDir, 6000);
    const path = join(dataDir, 'openbms.sqlite');
    // Garbage over 8 pages in the middle of the raw samples (the accounts' pages stay readable).
    const raw = pagesOf(path, 'telemetry_raw');
    expect(raw.length).toBeGreaterThan(24);
    const rnd = prng(3);
    const fd = openSync(path, 'r+');
    const mid = Math.floor(raw.length / 2) - 4;
    for (const p of raw.slice(mid, mid + 8)) {
      const junk = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rnd() * 256)));
      writeSync(fd, junk, 0, 4096, (p - 1) * 4096);
    }
    closeSync(fd);
    const damaged = readFileSync(path);

    const began = Date.now();
    const app = await start(['--data-dir', dataDir]);
    const said = await app.errLine(
      /the database is damaged \(quick_check: .*\); it was set aside as /,
    );
    const aside = /set aside as (\S+) and a fresh one/.exec(said)?.[1];
    expect(aside && existsSync(aside)).toBe(true);
    expect(readFileSync(aside!).equals(damaged)).toBe(true);

    const api = client(app.url);
    const health = await api.get('/api/v1/health');
    expect(health.body).toMatchObject({ status: 'degraded', code: 'STORAGE_CORRUPT' });
    expect(health.body.problems[0].files).toEqual([aside]);
    await api.login();
    const alarms = await api.get('/api/v1/alarms?active=true');
    expect(alarms.body.map((a: Json) => `${a.pack_id}:${a.code}`)).toContain(
      'gateway:storage_corrupt',
    );
    await eventually('new samples stored in the fresh file', async () =>
      (await api.rawCount(began, Date.now() + 60_000)) >= 2 ? true : undefined,
    );

    // The recovery the README gives: stop, merge the set-aside file, move it away, start.
    const stopped = new Promise((r) => app.child.once('exit', r));
    app.child.kill('SIGTERM');
    await stopped;
    const merge = spawnSync(
      process.execPath,
      [BIN, 'db', 'merge', aside!, '--data-dir', dataDir, '--json'],
      {
        encoding: 'utf8',
      },
    );
    expect(merge.status, merge.stderr).toBe(0);
    const report = JSON.parse(merge.stdout) as { samples: number; unreadable: { table: string }[] };
    expect(report.samples).toBeGreaterThan(0);
    expect(report.samples).toBeLessThan(6000); // the damaged pages' samples are lost...
    expect(report.unreadable.some((u) => u.table === 'telemetry_raw')).toBe(true); // ...and said so
    const kept = join(dataDir, '..', `${dataDir.split('/').pop()}-damaged.sqlite`);
    renameSync(aside!, kept);
    cleanups.push(() => rmSync(kept, { force: true }));
    for (const suffix of ['-wal', '-shm']) if (existsSync(aside + suffix)) rmSync(aside + suffix);

    const again = await start(['--data-dir', dataDir]);
    const api2 = client(again.url);
    expect((await api2.get('/api/v1/health')).body).toMatchObject({ status: 'ok' });
    await api2.login();
    // Every sample the merge read is stored again (the daily files count them).
    const files = await api2.get(`/api/v1/exports/daily?pack=${encodeURIComponent('demo/old/9')}`);
    expect(files.body.reduce((n: number, f: Json) => n + f.samples, 0)).toBe(report.samples);
    expect(
      (await api2.get('/api/v1/alarms?active=true')).body.map((a: Json) => a.code),
    ).not.toContain('storage_corrupt');
  });
});
