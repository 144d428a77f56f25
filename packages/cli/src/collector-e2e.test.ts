/**
 * A collector and a fleet cloud as real processes (issue 15, docs/collectors.md): the built CLI
 * as `openbms cloud --no-demo` (SQLite, its embedded MQTT broker on a free port) and as
 * `openbms start` with two simulated DALY packs and `cloud: {url}` in its own data directory.
 * The collector says hello; the platform admin makes an organisation and a plant and claims it
 * through the API; it gets its credentials at its next hello and connects; its packs appear
 * under GET /api/v1/packs with fleet ids `<serial>/<pack>`, their history fills; SOC and MOS
 * commands sent to the cloud come back done with their read-back, run and recorded by the
 * collector's own control path; a command to a collector that went away is refused with the
 * reason. Then the credentials: another collector's password, a revoked collector's, refused.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claim,
  eventually,
  freePort,
  killAll,
  makePlant,
  restartCollector,
  startCloud,
  startCollector,
  type Cloud,
  type Collector,
} from './testing/collectors.js';

const dirs: string[] = [];
const tmp = (name: string): string => {
  const d = mkdtempSync(join(tmpdir(), `openbms-${name}-`));
  dirs.push(d);
  return d;
};

let cloud: Cloud;
let a: Collector;
let b: Collector;
let serialA: string;
let serialB: string;
let brokerPort: number;
const fleet = (serial: string, pack: string) => `${serial}/${pack}`;
const enc = encodeURIComponent;

interface PackView {
  id: string;
  online: boolean;
  snapshot: Record<string, unknown> | null;
}

beforeAll(async () => {
  brokerPort = await freePort();
  cloud = await startCloud({
    dir: tmp('cloud'),
    httpPort: await freePort(),
    broker: { port: brokerPort },
  });
  [a, b] = await Promise.all([
    startCollector({ dir: tmp('collector-a'), cloudUrl: cloud.url, buses: ['a', 'b'] }),
    startCollector({ dir: tmp('collector-b'), cloudUrl: cloud.url, buses: ['a'] }),
  ]);
  const plant = await makePlant(cloud, 'E2E farm');
  [serialA, serialB] = await Promise.all([
    claim(cloud, a.opts.dir, plant),
    claim(cloud, b.opts.dir, plant),
  ]);
}, 120_000);

afterAll(async () => {
  await killAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a collector claimed into a plant', () => {
  it("its packs appear in the cloud under fleet ids, online, with the collector's readings", async () => {
    const packs = await eventually(
      'the collector’s packs in GET /api/v1/packs',
      async () => {
        const r = await cloud.api('GET', '/api/v1/packs');
        const mine = (r.body as PackView[]).filter((p) => p.id.startsWith(`${serialA}/`));
        return mine.length === 2 && mine.every((p) => p.online && p.snapshot) ? mine : undefined;
      },
      60_000,
    );
    expect(packs.map((p) => p.id).sort()).toEqual([
      fleet(serialA, 's1/a/64'),
      fleet(serialA, 's1/b/64'),
    ]);
    // The cloud's copy is the collector's reading of the same pack.
    const local = await a.api('GET', `/api/v1/packs/${enc('s1/a/64')}`);
    expect(local.status).toBe(200);
    const remote = packs.find((p) => p.id === fleet(serialA, 's1/a/64'))!;
    expect(remote.snapshot!['cell_count']).toBe(local.body.snapshot.cell_count);
    // The collectors list shows it claimed and online.
    const list = await cloud.api('GET', '/api/v1/collectors');
    expect(list.status).toBe(200);
    expect(list.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ serial: serialA, state: 'claimed' })]),
    );
  });

  it('its history fills in the cloud', async () => {
    const id = fleet(serialA, 's1/b/64');
    const from = Date.now() - 10 * 60_000;
    const points = await eventually(
      'three raw points of history',
      async () => {
        const r = await cloud.api(
          'GET',
          `/api/v1/packs/${enc(id)}/history?from=${from}&resolution=raw&fields=voltage_v`,
        );
        if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
        const n = (r.body.series as Record<string, { t: number[] }>)['voltage_v']?.t.length ?? 0;
        return n >= 3 ? r.body : undefined;
      },
      30_000,
    );
    expect(points.pack_id).toBe(id);
  });

  it("a SOC command through the cloud is done, read back, and in the collector's own record", async () => {
    const r = await cloud.api(
      'POST',
      `/api/v1/packs/${enc(fleet(serialA, 's1/a/64'))}/commands/soc`,
      {
        pct: 55,
      },
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.command).toMatchObject({ pack_id: fleet(serialA, 's1/a/64'), status: 'done' });
    expect(r.body.readback.soc_pct).toBeCloseTo(55, 0);
    // The collector ran it through its own control path: its command record has it, done.
    const local = await a.api('GET', `/api/v1/commands?pack=${enc('s1/a/64')}`);
    expect(local.status).toBe(200);
    const done = (local.body as { action: string; status: string; txn?: string }[]).filter(
      (c) => /soc/.test(c.action) && c.status === 'done',
    );
    expect(done.length).toBeGreaterThanOrEqual(1);
    if (r.body.command.txn !== undefined)
      expect(done.map((c) => c.txn)).toContain(r.body.command.txn);
  });

  it('a MOS command through the cloud is done with its read-back', async () => {
    const id = enc(fleet(serialA, 's1/b/64'));
    const off = await cloud.api('POST', `/api/v1/packs/${id}/commands/mos`, {
      which: 'discharge',
      on: false,
    });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body).toMatchObject({
      command: { action: 'mos.discharge', status: 'done' },
      readback: { discharge_mos: false },
    });
    const on = await cloud.api('POST', `/api/v1/packs/${id}/commands/mos`, {
      which: 'discharge',
      on: true,
    });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body.readback).toMatchObject({ discharge_mos: true });
  });

  it('a command for a collector that went away is refused with the reason', async () => {
    await b.proc.kill('SIGTERM');
    const id = enc(fleet(serialB, 's1/a/64'));
    await eventually('collector B offline in the cloud', async () => {
      const r = await cloud.api('GET', `/api/v1/packs/${id}`);
      return r.status === 200 && r.body.online === false ? true : undefined;
    });
    const r = await cloud.api('POST', `/api/v1/packs/${id}/commands/mos`, {
      which: 'charge',
      on: false,
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.body.error).toMatch(new RegExp(`collector ${serialB} is offline`));
    b = await restartCollector(b);
  });
});

describe('credentials', () => {
  const creds = (dir: string): { username: string; password: string } => {
    const f = JSON.parse(readFileSync(join(dir, 'collector.json'), 'utf8')) as {
      credentials: { username: string; password: string };
    };
    return f.credentials;
  };

  /** The CONNACK of an MQTT connection with these credentials: 0 accepted, else the code. */
  const connack = (clientId: string, username: string, password: string): Promise<number> =>
    new Promise((resolve) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${brokerPort}`, {
        clientId,
        username,
        password,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
      c.once('connect', () => {
        c.end(true);
        resolve(0);
      });
      c.once('error', (e) => {
        c.end(true);
        resolve((e as { code?: number }).code ?? -1);
      });
    });

  it("another collector's password is refused; its own is taken", async () => {
    await eventually('B has credentials again', () => creds(b.opts.dir)?.password);
    const mine = creds(a.opts.dir);
    const theirs = creds(b.opts.dir);
    expect(mine.username).toBe(serialA);
    // Its own credentials are taken (this takes B's session over for a moment: B reconnects).
    expect(await connack(serialB, serialB, theirs.password)).toBe(0);
    expect(await connack(serialA, serialA, theirs.password)).toBe(4);
    expect(await connack(serialB, serialA, mine.password)).toBe(4);
    expect(await connack(serialA, serialA, 'not-a-password')).toBe(4);
  });

  it('a revoked collector is disconnected, its credentials and hellos refused', async () => {
    const theirs = creds(b.opts.dir);
    const r = await cloud.api('POST', `/api/v1/collectors/${serialB}/revoke`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    await eventually('B offline after the revocation', async () => {
      const p = await cloud.api('GET', `/api/v1/collectors/${serialB}`);
      return p.body.state === 'revoked' && p.body.online !== true ? true : undefined;
    });
    expect(await connack(`${serialB}`, serialB, theirs.password)).toBe(4);
    const id = JSON.parse(readFileSync(join(b.opts.dir, 'collector.json'), 'utf8')) as {
      serial: string;
      claim_code: string;
    };
    const gatewayId = (await cloud.api('GET', `/api/v1/collectors/${serialB}`)).body.gateway_id;
    const hello = await fetch(`${cloud.url}/api/v1/collectors/hello`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        serial: id.serial,
        claim_code: id.claim_code,
        gateway_id: gatewayId,
        version: 'test',
      }),
    });
    expect(hello.status).toBe(403);
    // The refusals are in the cloud's log (the counts are not served by the process).
    expect(cloud.proc.lines.join('\n')).not.toContain(theirs.password);
    expect(b.proc.lines.join('\n')).not.toContain(theirs.password);
  });
});
