/**
 * Test helpers of the collector tests with real processes (collector-e2e.test.ts,
 * collector-faults.test.ts; issue 15, docs/collectors.md): the built CLI run as
 * `openbms cloud --no-demo` (SQLite or PostgreSQL, the embedded broker or an external one) and
 * as `openbms start` with a `cloud:` section (the collector), a Mosquitto child on a free port,
 * the claim through the cloud's API, and the samples each side stored, read from its database.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';

/** A JSON answer of the API, as the tests read it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export const BIN = fileURLToPath(new URL('../../bin/openbms.js', import.meta.url));

/** A TCP port nobody listens on now (the cloud keeps its ports across restarts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Polls `fn` until it returns a value (not undefined), or fails after `ms`. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `not within ${ms} ms: ${what}${last ? ` (last error: ${String(last)})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A child process whose output lines are kept, and can be waited for. */
export class Proc {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (l: string) => {
      this.lines.push(l);
      if (this.lines.length > 2000) this.lines.shift();
      for (const w of this.waiters) w();
    };
    createInterface({ input: child.stdout! }).on('line', keep);
    createInterface({ input: child.stderr! }).on('line', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => {
      for (const w of this.waiters) w();
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first line (kept or to come) matching `re`. */
  async line(re: RegExp, ms = 30_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (const l of this.lines) {
        const m = re.exec(l);
        if (m) return m;
      }
      if (!this.running) throw new Error(`${this.name} ended before ${re}:\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no ${re} within ${ms} ms:\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, Math.min(left, 1000));
        this.waiters.add(done);
      });
    }
  }

  tail(n = 30): string {
    return this.lines.slice(-n).join('\n');
  }

  /** SIGKILL (a crash) or SIGTERM (a stop), and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.running) this.child.kill(signal);
    await this.exited;
  }
}

const all: Proc[] = [];
/** Every process the helpers started and that still runs is killed (afterAll). */
export async function killAll(): Promise<void> {
  await Promise.all(all.splice(0).map((p) => p.kill('SIGKILL')));
}

function run(name: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = new Proc(name, child);
  all.push(p);
  return p;
}

/** Mosquitto on `port` (127.0.0.1, anonymous: the cloud nodes and the test's clients). */
export async function startMosquitto(dir: string, port: number): Promise<Proc> {
  const conf = join(dir, `mosquitto-${port}.conf`);
  writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', ''].join('\n'),
  );
  const child = spawn('mosquitto', ['-c', conf, '-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const p = new Proc(`mosquitto:${port}`, child);
  all.push(p);
  await p.line(/mosquitto version .* running/);
  return p;
}

export interface CloudOptions {
  dir: string;
  httpPort: number;
  /** The embedded broker on this port, or an external broker's URL. */
  broker: { port: number } | { url: string };
  /** PostgreSQL (`storage.url`); default the data directory's SQLite. */
  storageUrl?: string;
  /** Another node's data directory holding cloud-accounts.txt (a second node on the same database). */
  accountsDir?: string;
}

export interface Cloud {
  proc: Proc;
  url: string;
  opts: CloudOptions;
  /** The platform administrator's bearer token. */
  token: string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
}

/** `openbms cloud --no-demo` on `httpPort`, its broker per `opts.broker`; logged in as the platform admin. */
export async function startCloud(opts: CloudOptions): Promise<Cloud> {
  const config = join(opts.dir, 'cloud.yaml');
  const broker =
    'port' in opts.broker
      ? `broker: { port: ${opts.broker.port}, host: 127.0.0.1, public_url: "mqtt://127.0.0.1:${opts.broker.port}" }`
      : `broker: { url: "${opts.broker.url}" }`;
  writeFileSync(
    config,
    [
      'version: 1',
      broker,
      ...(opts.storageUrl ? [`storage: { url: "${opts.storageUrl}" }`] : []),
      '',
    ].join('\n'),
  );
  const proc = run(
    `cloud:${opts.httpPort}`,
    [
      'cloud',
      '--no-demo',
      '--config',
      config,
      '--data-dir',
      opts.dir,
      '--port',
      String(opts.httpPort),
    ],
    { OPENBMS_ADMIN_USER: '', OPENBMS_ADMIN_PASSWORD: '' },
  );
  await proc.line(/^collectors: /, 60_000);
  const url = (await proc.line(/^OpenBMS cloud listening on (http:\/\/\S+) /, 60_000))[1]!;
  const accounts = readFileSync(join(opts.accountsDir ?? opts.dir, 'cloud-accounts.txt'), 'utf8');
  const m = /^ {2}(admin@\S+)\s+(\S+)\s/m.exec(accounts);
  if (!m) throw new Error(`no admin account in cloud-accounts.txt:\n${accounts}`);
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: m[1], password: m[2] }),
  });
  const { token } = (await login.json()) as { token: string };
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { status: r.status, body: parsed as Json };
  };
  return { proc, url, opts, token, api };
}

/** The same node again (after a stop or a crash): same ports, data and database. */
export const restartCloud = (c: Cloud): Promise<Cloud> => startCloud(c.opts);

/** A customer organisation and a plant in it, made through the API; the plant's id. */
export async function makePlant(cloud: Cloud, name: string): Promise<string> {
  const orgs = await cloud.api('GET', '/api/v1/orgs');
  const platform = (orgs.body as { id: string; kind: string }[]).find((o) => o.kind === 'platform');
  if (!platform) throw new Error(`no platform organisation: ${JSON.stringify(orgs.body)}`);
  const org = await cloud.api('POST', '/api/v1/orgs', {
    parent_id: platform.id,
    name: `${name} customer`,
    kind: 'customer',
  });
  if (org.status !== 201) throw new Error(`org: ${org.status} ${JSON.stringify(org.body)}`);
  const plant = await cloud.api('POST', '/api/v1/plants', {
    org_id: org.body.id,
    name,
    business_type: 'residential',
    plant_type: 'pv_storage',
    lat: 48.137,
    lon: 11.575,
    time_zone: 'Europe/Berlin',
  });
  if (plant.status !== 201) throw new Error(`plant: ${plant.status} ${JSON.stringify(plant.body)}`);
  return plant.body.id as string;
}

export interface CollectorOptions {
  dir: string;
  cloudUrl: string;
  /** `start` (with its console, on `httpPort`) or the light `collector`. */
  mode?: 'start' | 'collector';
  httpPort?: number;
  /** The site's buses, one simulated DALY pack each (`s1/<bus>/64`); default a and b. */
  buses?: string[];
}

export interface Collector {
  proc: Proc;
  opts: CollectorOptions;
  /** The console's URL (`start` only) and its admin's credentials. */
  url?: string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
}

export const COLLECTOR_ADMIN = { user: 'admin', password: 'a-long-collector-secret' };

/** `openbms start` (or `openbms collector`) with simulated DALY packs and `cloud: {url}`. */
export async function startCollector(opts: CollectorOptions): Promise<Collector> {
  const config = join(opts.dir, 'openbms.yaml');
  // One simulated DALY pack per bus (DALY's simulator answers at address 64): `s1/<bus>/64`.
  const buses = (opts.buses ?? ['a', 'b']).flatMap((bus) => [
    `      - id: ${bus}`,
    '        port: sim',
    '        protocol: daly',
    '        poll_interval_s: 1',
    '        simulator: { profile: "constant:0", speed: 1 }',
    '        packs: [{ address: 64 }]',
  ]);
  writeFileSync(
    config,
    [
      'version: 1',
      'sites:',
      '  - id: s1',
      '    buses:',
      ...buses,
      'cloud:',
      `  url: ${opts.cloudUrl}`,
      // Claims take effect at the next hello: tests do not wait the default 30 s for it.
      '  hello_interval_s: 1',
      '',
    ].join('\n'),
  );
  const mode = opts.mode ?? 'start';
  const args =
    mode === 'start'
      ? ['start', '--config', config, '--data-dir', opts.dir, '--port', String(opts.httpPort ?? 0)]
      : ['collector', '--config', config, '--data-dir', opts.dir];
  const proc = run(`collector:${opts.dir.slice(-6)}`, args, {
    OPENBMS_ADMIN_USER: COLLECTOR_ADMIN.user,
    OPENBMS_ADMIN_PASSWORD: COLLECTOR_ADMIN.password,
  });
  let url: string | undefined;
  if (mode === 'start')
    url = (await proc.line(/^OpenBMS listening on (http:\/\/\S+) /, 60_000))[1]!;
  let token: string | undefined;
  const api = async (method: string, path: string, body?: unknown) => {
    if (!url) throw new Error('openbms collector has no console');
    if (!token) {
      const r = await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: COLLECTOR_ADMIN.user,
          password: COLLECTOR_ADMIN.password,
        }),
      });
      token = ((await r.json()) as { token: string }).token;
    }
    const r = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, body: (await r.json()) as Json };
  };
  return { proc, opts, ...(url !== undefined ? { url } : {}), api };
}

/** The same collector again: same data directory (identity, outbox, history) and port. */
export const restartCollector = (c: Collector): Promise<Collector> =>
  startCollector({
    ...c.opts,
    ...(c.url ? { httpPort: Number(new URL(c.url).port) } : {}),
  });

/** `openbms link --show --json` in the collector's data directory: its serial and claim code. */
export function linkShow(dir: string): { serial: string; claim_code: string } {
  const r = spawnSync(process.execPath, [BIN, 'link', '--show', '--json', '--data-dir', dir], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`openbms link --show: ${r.status} ${r.stderr}`);
  return JSON.parse(r.stdout) as { serial: string; claim_code: string };
}

/** Claims the collector of `dir` into `plantId` through the cloud's API. */
export async function claim(cloud: Cloud, dir: string, plantId: string): Promise<string> {
  const id = await eventually('the collector has an identity', () =>
    existsSync(join(dir, 'collector.json')) ? linkShow(dir) : undefined,
  );
  // The cloud knows it once it said hello.
  await eventually(
    'the collector said hello',
    async () => {
      const r = await cloud.api('POST', '/api/v1/collectors/claim', {
        serial: id.serial,
        claim_code: id.claim_code,
        plant_id: plantId,
      });
      if (r.status === 201) return true;
      if (r.status !== 404) throw new Error(`claim: ${r.status} ${JSON.stringify(r.body)}`);
      return undefined;
    },
    45_000,
  );
  return id.serial;
}

/** Sample times per pack id in a SQLite data directory's telemetry (both ends use this file). */
export function sqliteSampleTimes(
  dir: string,
  from = 0,
  to = Number.MAX_SAFE_INTEGER,
): Map<string, number[]> {
  const db = new Database(join(dir, 'openbms.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT p.name AS pack, r.ts AS ts FROM telemetry_raw r JOIN telemetry_packs p ON p.id = r.pack
         WHERE r.ts >= ? AND r.ts <= ? ORDER BY p.name, r.ts`,
      )
      .all(from, to) as { pack: string; ts: number }[];
    return group(rows);
  } finally {
    db.close();
  }
}

/** The same from a PostgreSQL database (the cloud's `storage.url`). */
export async function pgSampleTimes(
  url: string,
  from = 0,
  to = Number.MAX_SAFE_INTEGER,
): Promise<Map<string, number[]>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = await c.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'telemetry%'`,
    );
    const names = tables.rows.map((r) => r.table_name);
    if (!names.includes('telemetry_raw') || !names.includes('telemetry_packs'))
      throw new Error(`unknown telemetry tables in PostgreSQL: ${names.join(', ')}`);
    const r = await c.query<{ pack: string; ts: string }>(
      `SELECT p.name AS pack, r.ts AS ts FROM telemetry_raw r JOIN telemetry_packs p ON p.id = r.pack
       WHERE r.ts >= $1 AND r.ts <= $2 ORDER BY p.name, r.ts`,
      [from, to],
    );
    return group(r.rows.map((x) => ({ pack: x.pack, ts: Number(x.ts) })));
  } finally {
    await c.end();
  }
}

function group(rows: { pack: string; ts: number }[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of rows) {
    const l = out.get(r.pack) ?? [];
    l.push(r.ts);
    out.set(r.pack, l);
  }
  return out;
}
