/**
 * A real Prometheus (Debian's `prometheus` binary) scrapes `openbms start` on the demo site:
 * one job with an API token (the metrics need one by default), one without (refused), then
 * our series are read back through Prometheus's HTTP API and compared with our own API.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/openbms.js', import.meta.url));
const GATEWAY_PKG = fileURLToPath(new URL('../../gateway/package.json', import.meta.url));
const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0;

const children: ChildProcess[] = [];

/** Ends a child we started and waits until it has gone. */
async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  c.kill('SIGKILL');
  await gone;
}

/** A port nobody listens on now: the kernel's pick for port 0, released again. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function startOpenbms(dataDir: string): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dataDir, '--port', '0'], {
    env: { ...process.env, OPENBMS_ADMIN_USER: 'admin', OPENBMS_ADMIN_PASSWORD: 'a-long-secret' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  for await (const line of createInterface({ input: child.stdout! })) {
    const m = /^OpenBMS listening on (http:\/\/[^ ]+) /.exec(line);
    if (m) return m[1]!;
  }
  throw new Error(`openbms start exited: ${err}`);
}

/** Polls `probe` every 200 ms until it returns a value, or fails after `ms`. */
async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${String(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

let openbms: string;
let token: string;
let prom: string;
let promChild: ChildProcess;
let promLog = '';

async function query(q: string): Promise<PromSample[]> {
  const r = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await r.json()) as {
    status: string;
    data: { resultType: string; result: unknown };
  };
  expect(body.status, q).toBe('success');
  expect(body.data.resultType, q).toBe('vector');
  return body.data.result as PromSample[];
}

async function api<T>(path: string): Promise<T> {
  const r = await fetch(`${openbms}/api/v1${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(r.status, path).toBe(200);
  return (await r.json()) as T;
}

beforeAll(async () => {
  if (!hasPrometheus) return;
  const dir = mkdtempSync(join(tmpdir(), 'openbms-prom-'));
  openbms = await startOpenbms(join(dir, 'data'));
  const login = await fetch(`${openbms}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'a-long-secret' }),
  });
  const session = ((await login.json()) as { token: string }).token;
  // A scraper gets an API token, as the metrics README tells a user to do.
  const created = await fetch(`${openbms}/api/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session}` },
    body: JSON.stringify({ name: 'prometheus' }),
  });
  expect(created.status).toBe(201);
  token = ((await created.json()) as { token: string }).token;
  writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
  const target = new URL(openbms).host;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: openbms',
      '    authorization:',
      '      type: Bearer',
      `      credentials_file: ${join(dir, 'token')}`,
      '    static_configs:',
      `      - targets: ['${target}']`,
      '  - job_name: openbms_no_token',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  prom = `http://127.0.0.1:${port}`;
  promChild = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(promChild);
  promChild.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
  promChild.once('exit', (code) => (promLog += `\n(prometheus exited: ${code})`));
  await until('Prometheus ready', 30_000, async () => {
    if (promChild.exitCode !== null) throw new Error(promLog);
    return (await fetch(`${prom}/-/ready`)).ok ? true : undefined;
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(children.splice(0).map(stopChild));
});

describe.skipIf(!hasPrometheus)('a real Prometheus scraping openbms start', () => {
  it('scrapes with the token (up 1), is refused without it (up 0, 401)', async () => {
    await until('up{job="openbms"} == 1', 30_000, async () => {
      const up = await query('up{job="openbms"}');
      return up[0]?.value[1] === '1' ? true : undefined;
    });
    const targets = await until('the token-less target scraped', 30_000, async () => {
      const r = await fetch(`${prom}/api/v1/targets?state=active`);
      const body = (await r.json()) as {
        data: {
          activeTargets: {
            labels: { job: string };
            health: string;
            lastError: string;
            scrapeUrl: string;
          }[];
        };
      };
      const t = body.data.activeTargets;
      return t.length === 2 && t.every((x) => x.health !== 'unknown') ? t : undefined;
    });
    const byJob = Object.fromEntries(targets.map((t) => [t.labels.job, t]));
    expect(byJob.openbms).toMatchObject({ health: 'up', lastError: '' });
    expect(byJob.openbms!.scrapeUrl).toBe(`${openbms}/metrics`);
    expect(byJob.openbms_no_token!.health).toBe('down');
    expect(byJob.openbms_no_token!.lastError).toMatch(/401/);
    expect((await query('up{job="openbms_no_token"}'))[0]?.value[1]).toBe('0');
  });

  it('holds our series with the values of our API', async () => {
    const version = (JSON.parse(readFileSync(GATEWAY_PKG, 'utf8')) as { version: string }).version;
    const build = await query('openbms_build_info{job="openbms"}');
    expect(build).toHaveLength(1);
    expect(build[0]!.metric).toMatchObject({ version, nodejs: expect.any(String) });
    expect(build[0]!.value[1]).toBe('1');

    interface PackJson {
      id: string;
      name: string;
      protocol: string;
      snapshot?: { soc_pct?: number; cell_mv?: number[] };
    }
    const packs = await api<PackJson[]>('/packs');
    expect(packs.length).toBeGreaterThan(0);

    // Every pack of the API has its info series with its name and protocol, and no other.
    const info = await query('openbms_pack_info{job="openbms"}');
    expect(info.map((s) => s.metric.pack).sort()).toEqual(packs.map((p) => p.id).sort());
    for (const p of packs) {
      expect(info.find((s) => s.metric.pack === p.id)!.metric).toMatchObject({
        name: p.name,
        protocol: p.protocol,
        site: p.id.split('/')[0],
      });
    }

    const id = 'demo/rack/2';
    const pack = packs.find((p) => p.id === id)!;
    // One series per cell, numbered from 1 as the API's cells are counted.
    const cells = await query(`openbms_cell_voltage_volts{job="openbms",pack="${id}"}`);
    expect(cells.map((s) => Number(s.metric.cell)).sort((a, b) => a - b)).toEqual(
      pack.snapshot!.cell_mv!.map((_, i) => i + 1),
    );

    // The demo's SOC moves while we look: the value Prometheus scraped must be one the
    // API's history recorded for this pack (every poll is stored at raw resolution).
    const soc = await query(`openbms_pack_soc_ratio{job="openbms",pack="${id}"}`);
    expect(soc).toHaveLength(1);
    const scraped = Number(soc[0]!.value[1]);
    const history = await until('the scraped SOC in the history', 15_000, async () => {
      const h = await api<{ series: Record<string, { t: number[]; avg: number[] }> }>(
        `/packs/${encodeURIComponent(id)}/history?from=${Date.now() - 600_000}&to=${Date.now() + 60_000}&fields=soc_pct&resolution=raw`,
      );
      const v = h.series.soc_pct?.avg ?? [];
      return v.some((x) => Math.abs(x / 100 - scraped) < 1e-9) ? v : undefined;
    });
    expect(history.length).toBeGreaterThan(0);

    // Alarm gauges: present at 0 for each severity while the API lists no active alarm.
    const active = await api<{ pack_id: string; severity: string }[]>(
      `/alarms?active=true&pack=${encodeURIComponent(id)}`,
    );
    const alarms = await query(`openbms_active_alarms{job="openbms",pack="${id}"}`);
    expect(alarms.map((s) => s.metric.severity).sort()).toEqual(['fault', 'protection', 'warning']);
    for (const s of alarms) {
      const n = active.filter((a) => a.severity === s.metric.severity).length;
      expect(Number(s.value[1]), s.metric.severity).toBe(n);
    }
    expect(active).toHaveLength(0);
  });
});
