/**
 * `openbms cloud` as an operator runs it: separate processes of the built CLI.
 *
 * - On the defaults (SQLite in the data directory): the first start makes the platform and the
 *   demo fleet and prints each account's random password once (and keeps them in a 0600
 *   file); the accounts log in as name@CODE (the platform's by name alone too) and see their
 *   subtree's gateways only; a second start on the same directory reuses everything.
 * - On one throwaway PostgreSQL database: two nodes started at once make one fleet between
 *   them; a login on node A is valid on node B (the session is in the database), and an
 *   organisation made on B is seen on A.
 * - A bad config is refused, naming the key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@openbms/storage-postgres/testing';
import { ACCOUNTS_FILE } from './cloud.js';
import { demoPackCount } from './cloud-demo.js';
import { DEMO_CITY, DEMO_RIDERS } from './demo-trackers.js';

const BIN = fileURLToPath(new URL('../bin/openbms.js', import.meta.url));
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode !== null) continue;
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
  }
});

interface Node {
  child: ChildProcess;
  url: string;
  out: string[];
  /** login -> password of the accounts this start made. */
  accounts: Map<string, string>;
}

async function cloud(args: string[]): Promise<Node> {
  const child = spawn(
    process.execPath,
    [BIN, 'cloud', '--port', '0', '--broker-port', '0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const out: string[] = [];
  const accounts = new Map<string, string>();
  for await (const line of createInterface({ input: child.stdout! })) {
    out.push(line);
    const a = /^ {2}(\S+@[0-9A-Z]{6}) +(\S+) {2}/.exec(line);
    if (a) accounts.set(a[1]!, a[2]!);
    const m = /^OpenBMS cloud listening on (http:\/\/[^ ]+) /.exec(line);
    if (m) return { child, url: m[1]!, out, accounts };
  }
  throw new Error(`openbms cloud exited: ${out.join('\n')}\n${err}`);
}

async function stop(n: Node): Promise<void> {
  n.child.kill('SIGTERM');
  await new Promise((r) => n.child.once('exit', r));
}

/** Logs in; answers the session cookie and the bearer token. */
async function login(
  url: string,
  username: string,
  password: string,
): Promise<{ status: number; cookie: string; token: string }> {
  const r = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await r.json()) as { token?: string };
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
  return { status: r.status, cookie, token: body.token ?? '' };
}

async function call(
  url: string,
  path: string,
  auth: { token?: string; cookie?: string },
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
      ...(auth.cookie ? { cookie: auth.cookie } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, body: await r.json() };
}

type OrgJson = { id: string; name: string; kind: string; code: string; parent_id?: string };
type PackJson = { id: string; gateway_id?: string };
/**
 * The demo sites' packs: without the riders' BMS packs (`tracker/<serial>`), which the node's
 * gateway adds as each rider connects (their number depends on when one asks).
 */
const sitePacks = (body: unknown): PackJson[] =>
  (body as PackJson[]).filter((p) => !p.id.startsWith('tracker/'));

/** Every account the demo plans: 14 (the platform's admin and 13 under it). */
const ACCOUNTS = 14;
const ORGS = 11;

describe('openbms cloud on the defaults (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openbms-cloud-'));
  let first: Node;

  it('makes the platform and the demo fleet, shows each password once and keeps them in a 0600 file', async () => {
    first = await cloud(['--data-dir', dir]);
    const text = first.out.join('\n');
    expect(text).toContain(`fleet: ${ORGS} organisations (${ORGS} made now)`);
    expect(text).toContain(`5 demo sites with ${demoPackCount()} simulated packs`);
    // Collectors connect to the embedded broker (--broker-port 0: a free port).
    expect(text).toMatch(
      /collectors: embedded MQTT broker on port \d+; collectors are told mqtt:\/\/127\.0\.0\.1:\d+/,
    );
    expect(first.accounts.size).toBe(ACCOUNTS);
    // Random passwords: 16 characters, all different.
    const passwords = [...first.accounts.values()];
    expect(new Set(passwords).size).toBe(ACCOUNTS);
    for (const p of passwords) expect(p).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const file = join(dir, ACCOUNTS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const kept = readFileSync(file, 'utf8');
    for (const [name, password] of first.accounts) {
      expect(kept).toContain(name);
      expect(kept).toContain(password);
    }
    expect(text).toContain(file);
  }, 60_000);

  it('logs the accounts in as name@CODE and shows each its own subtree only', async () => {
    const pw = (name: string): [string, string] => {
      const e = [...first.accounts].find(([l]) => l.startsWith(`${name}@`))!;
      return e;
    };
    // The platform's manager by name alone (the server's own organisation), and as name@CODE.
    const admin = await login(first.url, 'admin', pw('admin')[1]);
    expect(admin.status).toBe(200);
    expect((await login(first.url, ...pw('admin'))).status).toBe(200);
    const orgs = (await call(first.url, '/api/v1/orgs', admin)).body as OrgJson[];
    expect(orgs).toHaveLength(ORGS);
    expect(orgs.filter((o) => o.kind === 'customer')).toHaveLength(5);
    const all = (await call(first.url, '/api/v1/packs', admin)).body as PackJson[];
    const packs = sitePacks(all);
    expect(packs).toHaveLength(demoPackCount());
    expect(all.length - packs.length).toBeLessThanOrEqual(DEMO_RIDERS);
    // Every pack id names one pack across the fleet: the platform manager opens any of them.
    expect(new Set(packs.map((p) => p.id)).size).toBe(packs.length);
    const one = await call(first.url, `/api/v1/packs/${encodeURIComponent(packs[9]!.id)}`, admin);
    expect(one.status).toBe(200);
    // The demo's batteries are in the device list, each linked to a pack the fleet serves;
    // so are its riding e-bike trackers.
    const list = (await call(first.url, '/api/v1/devices?limit=100', admin)).body as {
      devices: { pack_id?: string; type: string }[];
    };
    const bms = list.devices.filter((d) => d.type === 'bms');
    expect(bms).toHaveLength(demoPackCount());
    expect(new Set(bms.map((d) => d.pack_id))).toEqual(new Set(packs.map((p) => p.id)));
    expect(list.devices.filter((d) => d.type === 'tracker')).toHaveLength(DEMO_RIDERS);

    // North's dealer: itself, its installer and three customers; their 16 packs, never South's.
    const north = await login(first.url, ...pw('north'));
    expect(north.status).toBe(200);
    const northOrgs = (await call(first.url, '/api/v1/orgs', north)).body as OrgJson[];
    expect(northOrgs.map((o) => o.name).sort()).toEqual(
      ['Harbour Cafe', 'Hill School', 'Lin Family', 'North Energy Dealer', 'North Installs'].sort(),
    );
    const northPacks = (await call(first.url, '/api/v1/packs', north)).body as PackJson[];
    expect(northPacks).toHaveLength(16);
    // The café's end user sees its own five packs.
    const cafe = await login(first.url, ...pw('cafe'));
    const cafePacks = (await call(first.url, '/api/v1/packs', cafe)).body as PackJson[];
    expect(cafePacks).toHaveLength(5);
    // South's operation manager: 404 for the café's organisation, as for one that does not exist.
    const ops = await login(first.url, ...pw('ops'));
    const cafeOrg = orgs.find((o) => o.name === 'Harbour Cafe')!;
    const r = await call(first.url, `/api/v1/orgs/${cafeOrg.id}/members`, ops);
    expect(r.status).toBe(404);
    const opsPacks = (await call(first.url, '/api/v1/packs', ops)).body as PackJson[];
    expect(opsPacks).toHaveLength(10);
    // A role of seed 000 on each: the installer is an installer of its organisation.
    const fitterOrg = orgs.find((o) => o.name === 'North Installs')!;
    const members = (await call(first.url, `/api/v1/orgs/${fitterOrg.id}/members`, admin)).body as {
      username: string;
      role: string;
    }[];
    expect(members).toMatchObject([{ username: 'fitter', role: 'installer' }]);
  }, 60_000);

  it('has its demo e-bike trackers ride around the city, each seen by its own organisations only', async () => {
    const text = first.out.join('\n');
    const port = Number(/^trackers: jt808 (\d+)$/m.exec(text)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(text).toContain(
      `demo trackers: ${DEMO_RIDERS} e-bike batteries riding around ${DEMO_CITY.name}`,
    );
    expect(text).toContain(`to port ${port}`);
    const admin = await login(first.url, 'admin', pwOf(first, 'admin'));
    type Fleet = {
      trackers: {
        serial: string;
        org_name: string;
        fix: { lat: number; lon: number; t: number };
      }[];
    };
    const all = async (who: { token: string }) =>
      ((await call(first.url, '/api/v1/trackers/positions', who)).body as Fleet).trackers;
    // Each rider has uploaded its backfill and reports on (their start is not awaited).
    await expect.poll(async () => (await all(admin)).length, { timeout: 30_000 }).toBe(DEMO_RIDERS);
    for (const x of await all(admin)) {
      expect(Math.abs(x.fix.lat - DEMO_CITY.lat), x.serial).toBeLessThan(0.3);
      expect(Math.abs(x.fix.lon - DEMO_CITY.lon), x.serial).toBeLessThan(0.5);
      expect(Date.now() - x.fix.t, x.serial).toBeLessThan(60_000);
    }
    const northOrgs = ['Harbour Cafe', 'Hill School', 'Lin Family', 'North Energy Dealer'];
    const north = await all(await login(first.url, ...pwEntry(first, 'north')));
    expect(north.length).toBeGreaterThan(0);
    for (const x of north) expect(northOrgs).toContain(x.org_name);
    const south = await all(await login(first.url, ...pwEntry(first, 'ops')));
    expect(south.length).toBeGreaterThan(0);
    for (const x of south) expect(['Green Farm Co-op', 'Park Homes']).toContain(x.org_name);
    expect(north.length + south.length).toBe(DEMO_RIDERS);
    // They move: a later fix of the first rider.
    const before = (await all(admin))[0]!;
    await expect
      .poll(async () => (await all(admin)).find((x) => x.serial === before.serial)!.fix.t, {
        timeout: 20_000,
      })
      .toBeGreaterThan(before.fix.t);
  }, 90_000);

  it('a second start on the same data directory reuses the fleet: no new organisation, account or password', async () => {
    const orgsBefore = (
      await call(first.url, '/api/v1/orgs', await login(first.url, 'admin', pwOf(first, 'admin')))
    ).body as OrgJson[];
    const packsBefore = sitePacks(
      (
        await call(
          first.url,
          '/api/v1/packs',
          await login(first.url, 'admin', pwOf(first, 'admin')),
        )
      ).body,
    );
    await stop(first);
    const again = await cloud(['--data-dir', dir]);
    expect(again.out.join('\n')).toContain(`fleet: ${ORGS} organisations (all there already)`);
    expect(again.accounts.size).toBe(0);
    const admin = await login(again.url, 'admin', pwOf(first, 'admin'));
    expect(admin.status).toBe(200);
    expect((await call(again.url, '/api/v1/orgs', admin)).body).toEqual(orgsBefore);
    // The same gateways (their ids derive from the database), the same packs.
    expect(sitePacks((await call(again.url, '/api/v1/packs', admin)).body)).toHaveLength(
      packsBefore.length,
    );
    // The same demo trackers, riding on.
    const devices = (await call(again.url, '/api/v1/devices?limit=100', admin)).body as {
      devices: { type: string }[];
    };
    expect(devices.devices.filter((d) => d.type === 'tracker')).toHaveLength(DEMO_RIDERS);
    await stop(again);
  }, 60_000);
});

function pwOf(n: Node, name: string): string {
  return [...n.accounts].find(([l]) => l.startsWith(`${name}@`))![1];
}

function pwEntry(n: Node, name: string): [string, string] {
  return [...n.accounts].find(([l]) => l.startsWith(`${name}@`))!;
}

describe('openbms cloud: two nodes on one PostgreSQL database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('cloud_');
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function count(sql: string): Promise<number> {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      return Number((await c.query<{ n: string }>(sql)).rows[0]!.n);
    } finally {
      await c.end();
    }
  }

  it('started at once they make one fleet; a login on A is valid on B, and an organisation made on B is seen on A', async () => {
    const config = join(mkdtempSync(join(tmpdir(), 'openbms-cloud-pg-')), 'cloud.yaml');
    writeFileSync(config, `version: 1\nstorage:\n  url: ${db.url}\n`);
    const dirA = mkdtempSync(join(tmpdir(), 'openbms-cloud-a-'));
    const dirB = mkdtempSync(join(tmpdir(), 'openbms-cloud-b-'));
    const [a, b] = await Promise.all([
      cloud(['--config', config, '--data-dir', dirA]),
      cloud(['--config', config, '--data-dir', dirB, '--no-gateways']),
    ]);
    // One fleet: each organisation and account once (the database's own root besides).
    expect(
      await count(
        "SELECT count(*) AS n FROM orgs WHERE kind <> 'customer' OR parent_id IS NOT NULL",
      ),
    ).toBe(ORGS);
    expect(await count('SELECT count(*) AS n FROM users')).toBe(ACCOUNTS);
    // Every account was made by one node or the other, never both.
    const made = new Map([...a.accounts, ...b.accounts]);
    expect(made.size).toBe(ACCOUNTS);
    expect(a.accounts.size + b.accounts.size).toBe(ACCOUNTS);
    expect(b.out.join('\n')).toContain('not run here: --no-gateways');

    const adminLogin = [...made.keys()].find((l) => l.startsWith('admin@'))!;
    const session = await login(a.url, adminLogin, made.get(adminLogin)!);
    expect(session.status).toBe(200);
    expect(session.cookie).toMatch(/^openbms_session=/);
    // A's session cookie on B.
    const me = await call(b.url, '/api/v1/auth/me', { cookie: session.cookie });
    expect(me).toMatchObject({ status: 200, body: { username: 'admin' } });
    // An organisation made on B, under the battery maker, is seen on A.
    const orgsA = (await call(a.url, '/api/v1/orgs', { cookie: session.cookie })).body as OrgJson[];
    const maker = orgsA.find((o) => o.kind === 'battery_maker')!;
    const made3 = await call(
      b.url,
      '/api/v1/orgs',
      { cookie: session.cookie },
      {
        parent_id: maker.id,
        name: 'East Dealer',
        kind: 'dealer',
      },
    );
    expect(made3.status).toBe(201);
    const { id } = made3.body as { id: string };
    const after = (await call(a.url, '/api/v1/orgs', { cookie: session.cookie })).body as OrgJson[];
    expect(after.find((o) => o.id === id)).toMatchObject({ name: 'East Dealer', kind: 'dealer' });
    // A runs the demo's gateways; B runs none (API only).
    expect(
      sitePacks((await call(a.url, '/api/v1/packs', { cookie: session.cookie })).body),
    ).toHaveLength(demoPackCount());
    expect((await call(b.url, '/api/v1/packs', { cookie: session.cookie })).body).toEqual([]);
    // A logout on B ends the session on A too.
    const out = await fetch(`${b.url}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { cookie: session.cookie },
    });
    expect(out.status).toBeLessThan(300);
    expect((await call(a.url, '/api/v1/auth/me', { cookie: session.cookie })).status).toBe(401);
    await Promise.all([stop(a), stop(b)]);
  }, 120_000);
});

describe('openbms cloud --no-demo', () => {
  it('starts no tracker server and no demo tracker', async () => {
    const n = await cloud([
      '--data-dir',
      mkdtempSync(join(tmpdir(), 'openbms-cloud-nodemo-')),
      '--no-demo',
    ]);
    const text = n.out.join('\n');
    expect(text).not.toMatch(/^trackers:/m);
    expect(text).not.toContain('demo trackers');
    const admin = await login(n.url, 'admin', pwOf(n, 'admin'));
    expect((await call(n.url, '/api/v1/trackers/positions', admin)).body).toEqual({
      trackers: [],
      truncated: false,
    });
    await stop(n);
  }, 60_000);
});

describe('openbms cloud: a bad config', () => {
  it('is refused at start, naming the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openbms-cloud-bad-'));
    const config = join(dir, 'cloud.yaml');
    writeFileSync(config, 'version: 1\nstorage:\n  url: 5\nhttp:\n  prot: 80\n');
    const child = spawn(process.execPath, [BIN, 'cloud', '--config', config, '--data-dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(err).toContain('CONFIG_INVALID');
    expect(err).toContain('storage.url');
    expect(err).toContain('http');
    expect(err).toContain('"prot"');
  });
});
