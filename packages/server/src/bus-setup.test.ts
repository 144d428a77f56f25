/**
 * The bus setup routes (admin) against a real Gateway and a simulated USB adapter: a socat
 * pseudo-terminal serving two Pylontech packs. Ports list, scan with progress, test read
 * with cells; a viewer is refused; a bad body is 400 naming the field.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigFile, Gateway } from '@openbms/gateway';
import { createSimulation, servePty, type Listening } from '@openbms/simulator';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { buildServer } from './app.js';
import { TEST_COST } from './testing/harness.js';
import { LiveClient } from './testing/ws-client.js';

let url: string;
let admin: string;
let viewer: string;
let pty: Listening;
let configPath: string;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

async function call(method: string, path: string, token: string, json?: unknown) {
  const r = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  return { status: r.status, body: (await r.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

beforeAll(async () => {
  const sim = createSimulation({ protocol: 'pylontech', packs: 2, seed: 9, turnaroundMs: 1 });
  pty = await servePty(sim.bus);
  cleanups.push(() => pty.close());
  const dir = mkdtempSync(join(tmpdir(), 'openbms-bus-setup-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'openbms.yaml'), 'version: 1\n');
  configPath = join(dir, 'openbms.yaml');
  const file = new ConfigFile(configPath);
  const storage = await openSqliteStorage({});
  cleanups.push(() => storage.close());
  const gw = new Gateway({ config: file.read(), storage, configFile: file, log: () => {} });
  await gw.start();
  cleanups.push(() => gw.stop());
  const app: FastifyInstance = await buildServer({
    storage,
    gateway: gw,
    passwordCost: TEST_COST,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => app.close());
  const a = app.server.address();
  url = typeof a === 'object' && a ? `http://127.0.0.1:${a.port}` : '';
  const s = await fetch(`${url}/api/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'correct horse' }),
  });
  admin = ((await s.json()) as { token: string }).token;
  await call('POST', '/api/v1/users', admin, {
    username: 'vera',
    password: 'vera-password',
    role: 'viewer',
  });
  const l = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'vera', password: 'vera-password' }),
  });
  viewer = ((await l.json()) as { token: string }).token;
});

async function packIds(): Promise<string[]> {
  const r = await call('GET', '/api/v1/packs', admin);
  return (r.body as { id: string }[]).map((p) => p.id).sort();
}

afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('bus setup API', () => {
  it('lists the serial ports for an admin only', async () => {
    const r = await call('GET', '/api/v1/setup/serial-ports', admin);
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body)).toBe(true);
    expect((await call('GET', '/api/v1/setup/serial-ports', viewer)).status).toBe(403);
  });

  it('scans the pty adapter: progress, then the packs that answered with their cell count', async () => {
    const start = await call('POST', '/api/v1/setup/scans', admin, {
      port: pty.endpoint,
      protocol: 'pylontech',
      addresses: [1, 2, 3],
    });
    expect(start.status).toBe(202);
    expect(start.body).toMatchObject({ state: 'running', total: 3 });
    await expect
      .poll(async () => (await call('GET', `/api/v1/setup/scans/${start.body.id}`, admin)).body, {
        timeout: 10_000,
      })
      .toMatchObject({ state: 'done', probed: 3 });
    const done = (await call('GET', `/api/v1/setup/scans/${start.body.id}`, admin)).body;
    expect(done.found.map((f: { address: number }) => f.address)).toEqual([2, 3]);
    expect(done.found[0].cell_count).toBe(16);
  });

  it('test-reads one pack (cells), refuses a viewer and a bad body naming the field', async () => {
    const r = await call('POST', '/api/v1/setup/test-read', admin, {
      port: pty.endpoint,
      protocol: 'pylontech',
      address: 2,
    });
    expect(r.status).toBe(200);
    expect(r.body.cell_mv).toHaveLength(16);
    const body = { port: pty.endpoint, protocol: 'pylontech', address: 2 };
    expect((await call('POST', '/api/v1/setup/test-read', viewer, body)).status).toBe(403);
    const bad = await call('POST', '/api/v1/setup/test-read', admin, { ...body, address: 300 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('address');
  });

  it('saves the bus with named packs and polls it at once, no restart; removes it again', async () => {
    expect(await packIds()).toEqual([]);
    const bus = {
      port: pty.endpoint,
      protocol: 'pylontech',
      poll_interval_s: 0.5,
      packs: [
        { address: 2, name: 'Garage rack 1' },
        { address: 3, name: 'Garage rack 2' },
      ],
    };
    const viewerSave = await call('PUT', '/api/v1/setup/sites/home/buses/rs485', viewer, { bus });
    expect(viewerSave.status).toBe(403);
    const bad = await call('PUT', '/api/v1/setup/sites/home/buses/rs485', admin, {
      bus: { ...bus, protocol: 'nope' },
    });
    expect(bad.status, JSON.stringify(bad.body)).toBe(422);
    expect(await packIds()).toEqual([]);
    const r = await call('PUT', '/api/v1/setup/sites/home/buses/rs485', admin, {
      bus,
      site_name: 'Home',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.started).toEqual(['home/rs485']);
    expect(await packIds()).toEqual(['home/rs485/2', 'home/rs485/3']);
    // Polled without a restart: a snapshot with the cells arrives.
    await expect
      .poll(
        async () =>
          (await call('GET', '/api/v1/packs/home%2Frs485%2F3', admin)).body.snapshot?.cell_mv
            ?.length,
        { timeout: 10_000 },
      )
      .toBe(16);
    expect((await call('GET', '/api/v1/settings', admin)).body.pending_restart).not.toContain(
      'sites',
    );
    // The polled port is the bus's now: a scan of it is refused.
    const scan = await call('POST', '/api/v1/setup/scans', admin, {
      port: pty.endpoint,
      protocol: 'pylontech',
    });
    expect(scan.status).toBe(409);
    const del = await call('DELETE', '/api/v1/setup/sites/home/buses/rs485', admin);
    expect(del.status).toBe(200);
    expect(del.body.stopped).toEqual(['home/rs485']);
    expect(await packIds()).toEqual([]);
  }, 30_000);

  it('offers parity and stop bits only where the family allows them', async () => {
    const r = await call('GET', '/api/v1/setup/protocols', admin);
    expect(r.status).toBe(200);
    const by = Object.fromEntries((r.body as { id: string }[]).map((p) => [p.id, p]));
    expect(by['modbus-rtu']).toMatchObject({
      parity: 'none',
      stop_bits: 1,
      parities: ['none', 'even', 'odd'],
      stop_bits_choices: [1, 2],
    });
    // Pylontech's line is 8N1 by its protocol: nothing else is offered.
    expect(by['pylontech']).toMatchObject({ parities: ['none'], stop_bits_choices: [1] });
    expect((await call('GET', '/api/v1/setup/protocols', viewer)).status).toBe(403);
  });

  it('refuses a parity or stop bits the family does not use, or of the wrong type, naming the field', async () => {
    const scan = { port: pty.endpoint, protocol: 'pylontech', addresses: [2] };
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ parity: 'even' }, 'parity', /pylontech.*8N1/],
      [{ parity: 'E' }, 'parity', /none, even, odd/],
      [{ stop_bits: 2 }, 'stop_bits', /pylontech.*8N1/],
      [{ stop_bits: '2' }, 'stop_bits', /1 or 2/], // a string is not coerced
      [{ stop_bits: 1.5 }, 'stop_bits', /1 or 2/],
    ];
    for (const [line, field, message] of cases) {
      const r = await call('POST', '/api/v1/setup/scans', admin, { ...scan, ...line });
      expect(r.status, JSON.stringify(line)).toBe(400);
      expect(r.body.error).toContain(`${field}:`);
      expect(r.body.error).toMatch(message);
    }
    const t = await call('POST', '/api/v1/setup/test-read', admin, {
      port: pty.endpoint,
      protocol: 'modbus-rtu',
      address: 1,
      parity: 'mark',
    });
    expect(t.status).toBe(400);
    expect(t.body.error).toContain('parity:');

    const bus = { port: pty.endpoint, protocol: 'pylontech', packs: [{ address: 2 }] };
    for (const [line, field] of [
      [{ parity: 'odd' }, 'parity'],
      [{ stop_bits: 2 }, 'stop_bits'],
      [{ parity: 'EVEN' }, 'parity'],
      [{ stop_bits: '1' }, 'stop_bits'],
    ] as const) {
      const r = await call('PUT', '/api/v1/setup/sites/home/buses/rs485', admin, {
        bus: { ...bus, ...line },
      });
      expect(r.status, JSON.stringify(line)).toBe(422);
      expect(JSON.stringify(r.body)).toContain(field);
    }
    expect(await packIds()).toEqual([]);
    expect(readFileSync(configPath, 'utf8')).not.toContain('rs485');
  });

  it('saves parity and stop bits with a Modbus RTU bus, shows them and opens the port with them', async () => {
    const r = await call('PUT', '/api/v1/setup/sites/home/buses/meter', admin, {
      bus: {
        port: pty.endpoint,
        protocol: 'modbus-rtu',
        baud: 19200,
        parity: 'even',
        stop_bits: 2,
        poll_interval_s: 0.5,
        packs: [{ address: 1, name: 'Meter' }],
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const buses = (await call('GET', '/api/v1/buses', admin)).body as Record<string, unknown>[];
    expect(buses.find((b) => b.id === 'meter')).toMatchObject({
      protocol: 'modbus-rtu',
      baud: 19200,
      parity: 'even',
      stop_bits: 2,
    });
    expect(readFileSync(configPath, 'utf8')).toMatch(/parity: even\n\s+stop_bits: 2/);
    // The terminal the poller opened runs at 19200 baud with 2 stop bits (read back with stty).
    // A pseudo-terminal keeps no parity (Linux's pty driver clears PARENB), so parity is read
    // back from the bus above; the gateway's bus-setup test checks it reaches the port's options.
    await expect
      .poll(() => execFileSync('stty', ['-F', pty.endpoint, '-a'], { encoding: 'utf8' }), {
        timeout: 10_000,
      })
      .toMatch(/speed 19200 baud/);
    const stty = execFileSync('stty', ['-F', pty.endpoint, '-a'], { encoding: 'utf8' });
    expect(stty.split(/\s+/)).toEqual(expect.arrayContaining(['cstopb', 'cs8']));
    const del = await call('DELETE', '/api/v1/setup/sites/home/buses/meter', admin);
    expect(del.status).toBe(200);
  }, 30_000);

  it('pushes scan progress on the live socket to admins (address k of n, packs as they answer), not to viewers', async () => {
    type Msg = Awaited<ReturnType<LiveClient['next']>>;
    const open = async (token: string): Promise<{ c: LiveClient; got: Msg[] }> => {
      const c = await LiveClient.connect(`${url.replace('http', 'ws')}/api/v1/live?token=${token}`);
      const got: Msg[] = [];
      for (let m = await c.next(); ; m = await c.next()) {
        got.push(m);
        if (m.type === 'hello') return { c, got };
      }
    };
    /** Takes messages until one matches. */
    const until = async (x: { c: LiveClient; got: Msg[] }, pred: (m: Msg) => boolean) => {
      for (let m = await x.c.next(); ; m = await x.c.next()) {
        x.got.push(m);
        if (pred(m)) return;
      }
    };
    const a = await open(admin);
    const v = await open(viewer);
    const start = await call('POST', '/api/v1/setup/scans', admin, {
      port: pty.endpoint,
      protocol: 'pylontech',
      addresses: [1, 2, 3],
    });
    expect(start.status).toBe(202);
    const mine = () => a.got.filter((m) => m.type === 'scan' && m.scan.id === start.body.id);
    await until(
      a,
      (m) => m.type === 'scan' && m.scan.id === start.body.id && m.scan.state === 'done',
    );
    const steps = mine().map((m) => m.scan);
    // Each address as it is asked (k of n), each pack as it answers, then the end.
    expect(steps.map((s) => [s.current, s.probed, s.found.length])).toEqual([
      [1, 0, 0], // asking 1 (silent)
      [2, 1, 0], // asking 2
      [2, 1, 1], // 2 answered
      [3, 2, 1], // asking 3
      [3, 2, 2], // 3 answered
      [undefined, 3, 2], // done
    ]);
    expect(steps.at(-1)).toMatchObject({ state: 'done', probed: 3, total: 3 });
    expect(steps.at(-1).current).toBeUndefined();
    // The viewer's socket answers a later request, so anything sent to it before has arrived.
    v.c.send({ subscribe: '*' });
    await until(v, (m) => m.type === 'subscribed');
    expect(v.got.filter((m) => m.type === 'scan')).toEqual([]);
    a.c.close();
    v.c.close();
  });
});
