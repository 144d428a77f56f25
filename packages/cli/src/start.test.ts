/**
 * `openbms start` as a user runs it: a separate process on the demo site, reached over HTTP
 * and the WebSocket, killed with SIGKILL and started again on the same data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { selfSignedCert } from '@openbms/gateway/testing';
import { listenAdvice } from './start.js';

const BIN = fileURLToPath(new URL('../bin/openbms.js', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

async function start(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dataDir, '--port', '0'], {
    env: { ...process.env, OPENBMS_ADMIN_USER: 'admin', OPENBMS_ADMIN_PASSWORD: 'a-long-secret' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  for await (const line of createInterface({ input: child.stdout! })) {
    const m = /^OpenBMS listening on (http:\/\/[^ ]+) /.exec(line);
    if (m) return { child, url: m[1]! };
  }
  throw new Error(`openbms start exited: ${err}`);
}

async function login(url: string): Promise<string> {
  const r = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'a-long-secret' }),
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

const get = async (url: string, token: string): Promise<unknown> => {
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status, url).toBe(200);
  return r.json();
};

interface PackJson {
  id: string;
  online: boolean;
  snapshot?: { soc_pct?: number; cell_mv?: number[] };
}

/**
 * A live WebSocket subscription to one pack: `next()` resolves at the next snapshot event.
 * (The server sends the pack's current snapshot right after subscribing; that one counts.)
 */
function live(
  url: string,
  token: string,
  packId: string,
): Promise<{ next(): Promise<void>; close(): void }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/live?token=${token}`);
    const waiting: (() => void)[] = [];
    let pending = 0;
    ws.on('open', () => {
      ws.send(JSON.stringify({ subscribe: [packId] }));
      resolve({
        next: () =>
          pending > 0 ? Promise.resolve(void pending--) : new Promise<void>((r) => waiting.push(r)),
        close: () => ws.close(),
      });
    });
    ws.on('message', (raw: Buffer) => {
      const m = JSON.parse(raw.toString()) as { type: string };
      if (m.type !== 'snapshot') return;
      const w = waiting.shift();
      if (w) w();
      else pending++;
    });
    ws.on('error', reject);
  });
}

const historyCount = async (
  url: string,
  token: string,
  id: string,
  from: number,
): Promise<number> => {
  const h = (await get(
    `${url}/api/v1/packs/${encodeURIComponent(id)}/history?from=${from}&to=${Date.now() + 60_000}&fields=soc_pct&resolution=raw`,
    token,
  )) as { series: Record<string, { t: number[] }> };
  return h.series.soc_pct?.t.length ?? 0;
};

describe('openbms start (a separate process)', () => {
  it('serves the demo packs live, keeps history across kill -9, and continues', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openbms-start-'));
    const began = Date.now() - 1000;
    const first = await start(dir);
    const token = await login(first.url);
    // Unauthenticated requests are refused.
    expect((await fetch(`${first.url}/api/v1/packs`)).status).toBe(401);
    const id = 'demo/rack/2';
    const stream = await live(first.url, token, id);
    for (let i = 0; i < 3; i++) await stream.next();
    const packs = (await get(`${first.url}/api/v1/packs`, token)) as PackJson[];
    expect(packs.map((p) => p.id).sort()).toEqual(
      [
        'demo/daly/64',
        'demo/jk/1',
        'demo/pylon/2',
        'demo/rack/1',
        'demo/rack/2',
        'demo/rack/3',
        'demo/rack/4',
      ].sort(),
    );
    for (const p of packs.filter((x) => x.online)) expect(p.snapshot?.cell_mv).toHaveLength(16);
    expect(packs.filter((p) => p.online).length).toBeGreaterThanOrEqual(5);
    // History grows: wait for more snapshots, then the stored count has risen.
    let before = 0;
    for (let i = 0; i < 10 && before === 0; i++) {
      await stream.next();
      before = await historyCount(first.url, token, id, began);
    }
    stream.close();
    expect(before).toBeGreaterThan(0);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await start(dir);
    const token2 = await login(second.url);
    const after = await historyCount(second.url, token2, id, began);
    expect(after).toBeGreaterThanOrEqual(before); // nothing stored before the kill is lost
    const stream2 = await live(second.url, token2, id);
    let grown = after;
    for (let i = 0; i < 10 && grown <= after; i++) {
      await stream2.next();
      grown = await historyCount(second.url, token2, id, began);
    }
    stream2.close();
    expect(grown).toBeGreaterThan(after); // and it continues
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }, 60_000);
});

/** Runs `openbms start` with these arguments; resolves at the listening line or the exit. */
async function startWith(
  args: string[],
  opts: { cwd?: string; linesAfter?: number } = {},
): Promise<{ child: ChildProcess; url?: string; out: string; err: string; code?: number }> {
  const child = spawn(process.execPath, [BIN, 'start', '--port', '0', ...args], {
    env: { ...process.env, OPENBMS_ADMIN_USER: 'admin', OPENBMS_ADMIN_PASSWORD: 'a-long-secret' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((r) => child.once('exit', (c) => r(c ?? -1)));
  let url: string | undefined;
  let after = 0;
  for await (const line of createInterface({ input: child.stdout! })) {
    out += `${line}\n`;
    if (url !== undefined && ++after >= (opts.linesAfter ?? 0)) return { child, url, out, err };
    const m = /^OpenBMS listening on (\S+) /.exec(line);
    if (m) {
      url = m[1]!;
      if (!opts.linesAfter) return { child, url, out, err };
    }
  }
  return { child, out, err, code: await exited };
}

describe('openbms start with http.tls', () => {
  it('listens on https with the configured certificate, prints https URLs, sets a Secure cookie; data files are private', async () => {
    const cert = selfSignedCert();
    const dir = mkdtempSync(join(tmpdir(), 'openbms-start-tls-'));
    const config = join(dir, 'openbms.yaml');
    writeFileSync(
      config,
      `version: 1\nhttp:\n  tls: { cert: ${cert.certPath}, key: ${cert.keyPath} }\n`,
    );
    const dataDir = join(dir, 'data');
    const s = await startWith(['--config', config, '--data-dir', dataDir]);
    expect(s.url, s.out + s.err).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(s.out).toContain(`tls: ${cert.certPath} (CN=localhost, valid until `);
    expect(s.out).toContain(`web console ${s.url}/, API ${s.url}/api/v1`);
    const login = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
      const req = request(
        `${s.url}/api/v1/auth/login`,
        { method: 'POST', ca: cert.cert, headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, cookie: String(res.headers['set-cookie']) }),
          );
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ username: 'admin', password: 'a-long-secret' }));
    });
    expect(login.status).toBe(200);
    expect(login.cookie).toMatch(/;\s*Secure/i);
    expect((statSync(dataDir).mode & 0o777).toString(8)).toBe('700');
    expect((statSync(join(dataDir, 'openbms.sqlite')).mode & 0o777).toString(8)).toBe('600');
    s.child.kill('SIGTERM');
    await new Promise((r) => s.child.once('exit', r));
  }, 30_000);

  it('refuses to start with an unreadable certificate, naming http.tls.cert', async () => {
    const cert = selfSignedCert();
    const dir = mkdtempSync(join(tmpdir(), 'openbms-start-tls-'));
    const config = join(dir, 'openbms.yaml');
    writeFileSync(
      config,
      `version: 1\nhttp:\n  tls: { cert: ${join(dir, 'missing.pem')}, key: ${cert.keyPath} }\n`,
    );
    const s = await startWith(['--config', config, '--data-dir', join(dir, 'data')]);
    expect(s.url).toBeUndefined();
    expect(s.code).not.toBe(0);
    expect(s.err).toContain(`http.tls.cert: cannot read ${join(dir, 'missing.pem')}: no such file`);
  }, 30_000);
});

describe('openbms start: where the console can be opened, where the config lives', () => {
  const stop = async (c: ChildProcess) => {
    c.kill('SIGTERM');
    await new Promise((r) => c.once('exit', r));
  };

  it('lists the LAN addresses on 0.0.0.0, and says how to open to the LAN on 127.0.0.1', () => {
    const nets = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [
        { address: '192.168.1.20', family: 'IPv4', internal: false },
        { address: 'fe80::1', family: 'IPv6', internal: false },
      ],
    } as unknown as Parameters<typeof listenAdvice>[3];
    expect(listenAdvice('0.0.0.0', 'http://0.0.0.0:8080', 'x.yaml', nets)).toEqual([
      '  on your network: http://192.168.1.20:8080/',
    ]);
    const local = listenAdvice('127.0.0.1', 'http://127.0.0.1:8080', '/d/openbms.yaml', nets);
    expect(local).toHaveLength(1);
    expect(local[0]).toMatch(/only this computer can open it/);
    expect(local[0]).toContain('0.0.0.0');
    expect(local[0]).toContain('/d/openbms.yaml');
    expect(listenAdvice('192.168.1.20', 'http://192.168.1.20:8080', 'x', nets)).toEqual([]);
  });

  it('keeps a new config in the data directory and says so; tells a 127.0.0.1 listener how to open to the LAN', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openbms-start-cfg-'));
    const s = await startWith(['--data-dir', 'data'], { cwd: dir, linesAfter: 1 });
    expect(s.url, s.out + s.err).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.out).toContain(`the settings page saves to ${join('data', 'openbms.yaml')}`);
    expect(s.out).toMatch(/only this computer can open it.*0\.0\.0\.0/);
    await stop(s.child);
  }, 30_000);

  it('still reads ./openbms.yaml of an earlier install, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openbms-start-cfg-'));
    writeFileSync(join(dir, 'openbms.yaml'), 'version: 1\nhttp:\n  host: 0.0.0.0\n');
    const s = await startWith(['--data-dir', 'data'], { cwd: dir, linesAfter: 1 });
    expect(s.url, s.out + s.err).toMatch(/^http:\/\/[\d.]+:\d+$/);
    expect(s.out).toContain('config: ./openbms.yaml (the place earlier versions used');
    // Listening on every interface: the addresses to open from the LAN.
    expect(s.out).toMatch(/\n {2}on your network: /);
    await stop(s.child);
  }, 30_000);
});
