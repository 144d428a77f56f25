/**
 * The settings routes against a real Gateway (one simulated Pylontech pack, polled over TCP,
 * SQLite in memory), a real config file in a temp directory, the real Mosquitto on
 * 127.0.0.1:1883 and real Modbus TCP reads. The tests run in order: each builds on the
 * file the previous one saved.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Modbus from 'modbus-serial';
import mqtt, { type MqttClient } from 'mqtt';
import { localScope } from '@openbms/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ConfigFile, Gateway, MQTT_INTEGRATION, SECRET_MARKER } from '@openbms/gateway';
import { simulatedBuses } from '@openbms/gateway/testing';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './app.js';
import { TEST_COST } from './testing/harness.js';

const BROKER = process.env['OPENBMS_TEST_MQTT'] ?? 'mqtt://127.0.0.1:1883';
const ModbusRTU = Modbus.default;
const SECRET = `hunter2-${randomBytes(4).toString('hex')}`;
const NS = `obt-settings-${randomBytes(4).toString('hex')}`;

/** A port nothing listens on (bound by the OS, then released). */
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

const CONFIG = `version: 1
# a one-pack test site
sites:
  - id: s
    buses:
      - id: b
        port: sim
        protocol: pylontech
        poll_interval_s: 0.5
        simulator: { speed: 1 }
        packs: [{ address: 2 }]
mqtt:
  enabled: false
  url: ${BROKER}
  username: bms
  password: ${SECRET}
  base_topic: ${NS}
  interval_s: 0.5
  homeassistant: { enabled: false }
`;

let dir: string;
let file: ConfigFile;
let gw: Gateway;
let app: FastifyInstance;
let url: string;
let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let admin: string;
let operator: string;
let viewer: string;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

interface Res {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Headers;
}

async function call(
  method: string,
  path: string,
  opts: { token?: string; json?: unknown; text?: string; type?: string } = {},
): Promise<Res> {
  const headers: Record<string, string> = {};
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.text !== undefined) {
    headers['content-type'] = opts.type ?? 'text/yaml';
    body = opts.text;
  }
  const r = await fetch(url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // YAML download
  }
  return { status: r.status, body: parsed, text, headers: r.headers };
}

async function login(username: string, role: string): Promise<string> {
  const password = `${username}-password`;
  const r = await call('POST', '/api/v1/users', {
    token: admin,
    json: { username, password, role },
  });
  expect(r.status).toBe(201);
  const l = await call('POST', '/api/v1/auth/login', { json: { username, password } });
  return l.body.token as string;
}

/** Resolves with the first message on a topic matching `filter`, or rejects after `ms`. */
async function firstMessage(
  filter: string,
  ms = 15_000,
): Promise<{ topic: string; payload: string }> {
  const client: MqttClient = await mqtt.connectAsync(BROKER, {
    clientId: `obt-watch-${randomBytes(4).toString('hex')}`,
    reconnectPeriod: 0,
  });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nothing on ${filter} within ${ms} ms`)), ms);
      client.on('message', (topic, payload) => {
        clearTimeout(timer);
        resolve({ topic, payload: payload.toString('utf8') });
      });
      void client.subscribeAsync(filter, { qos: 1 }).catch(reject);
    });
  } finally {
    await client.endAsync();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-settings-'));
  writeFileSync(join(dir, 'openbms.yaml'), CONFIG, { mode: 0o600 });
  file = new ConfigFile(join(dir, 'openbms.yaml'));
  storage = await openSqliteStorage({});
  cleanups.push(() => storage.close());
  gw = new Gateway({
    config: file.read(),
    storage,
    configFile: file,
    busFactory: simulatedBuses().busFactory,
  });
  const heard = new Promise<void>((resolve) => {
    const off = gw.events.on((e) => {
      if (e.type === 'snapshot') {
        off();
        resolve();
      }
    });
  });
  await gw.start();
  cleanups.push(() => gw.stop());
  await heard;
  app = await buildServer({ storage, gateway: gw, passwordCost: TEST_COST });
  await app.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(() => app.close());
  const a = app.server.address();
  url = typeof a === 'object' && a ? `http://127.0.0.1:${a.port}` : '';
  const s = await call('POST', '/api/v1/setup', {
    json: { username: 'admin', password: 'correct horse' },
  });
  admin = s.body.token as string;
  operator = await login('olga', 'operator');
  viewer = await login('victor', 'viewer');
});

afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('settings API', () => {
  it('shows every integration section with secrets redacted, the file and live status', async () => {
    const r = await call('GET', '/api/v1/settings', { token: admin });
    expect(r.status).toBe(200);
    expect(r.text).not.toContain(SECRET);
    expect(r.body.path).toBe(file.path);
    expect(r.body.exists).toBe(true);
    expect(r.body.writable).toBe(true);
    expect(r.body.sections.mqtt).toMatchObject({
      enabled: false,
      url: BROKER,
      username: 'bms',
      password: SECRET_MARKER,
      base_topic: NS,
    });
    expect(r.body.sections.modbus_tcp).toBeNull();
    expect(r.body.sections.tunnel).toBeNull();
    expect(r.body.status.mqtt).toMatchObject({ configured: true, enabled: false, running: false });
    expect(r.body.status.modbus_tcp).toMatchObject({ configured: false, running: false });
    expect(r.body.live).toEqual(expect.arrayContaining(['mqtt', 'modbus_tcp', 'tunnel']));
    expect(r.body.restart_required).toBe(false);
  });

  it('is for admins only: viewer and operator get 403 on every route', async () => {
    for (const token of [viewer, operator]) {
      const rs = await Promise.all([
        call('GET', '/api/v1/settings', { token }),
        call('PUT', '/api/v1/settings/mqtt', { token, json: { enabled: true } }),
        call('POST', '/api/v1/settings/mqtt/test', { token, json: {} }),
        call('GET', '/api/v1/config/backup', { token }),
        call('POST', '/api/v1/config/restore', { token, text: CONFIG }),
      ]);
      expect(rs.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
      for (const r of rs) expect(r.text).not.toContain(SECRET);
    }
    expect((await call('GET', '/api/v1/settings')).status).toBe(401);
  });

  it('refuses a bad mqtt section with 422 naming the key, and leaves the file alone', async () => {
    const before = readFileSync(file.path, 'utf8');
    const r = await call('PUT', '/api/v1/settings/mqtt', {
      token: admin,
      json: { url: BROKER, base_topic: NS, bogus_key: 1, qos: 3 },
    });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('CONFIG_INVALID');
    const paths = (r.body.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['mqtt.bogus_key', 'mqtt.qos']));
    expect(r.body.error).toContain('mqtt.bogus_key');
    expect(readFileSync(file.path, 'utf8')).toBe(before);
    expect(existsSync(`${file.path}.bak`)).toBe(false);
    expect(gw.integration(MQTT_INTEGRATION)!.publisher()).toBeUndefined();
    // An unknown section is a 404.
    expect((await call('PUT', '/api/v1/settings/nope', { token: admin, json: {} })).status).toBe(
      404,
    );
  });

  it('enables MQTT live: the file keeps the secret and the gateway publishes to the broker', async () => {
    const form = (await call('GET', '/api/v1/settings', { token: admin })).body.sections.mqtt;
    const state = firstMessage(`${NS}/+/state`);
    const r = await call('PUT', '/api/v1/settings/mqtt', {
      token: admin,
      json: { ...form, enabled: true },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ section: 'mqtt', saved: true, applied: true });
    expect(r.body.restart_required).toBe(false);
    expect(r.body.value.password).toBe(SECRET_MARKER);
    expect(r.text).not.toContain(SECRET);
    const m = await state;
    expect(m.topic).toBe(`${NS}/s_b_2/state`);
    expect(JSON.parse(m.payload)).toHaveProperty('voltage_v');
    // Saved with the real secret (the marker kept it), mode 0600, old file as .bak.
    expect(file.raw()['mqtt']).toMatchObject({ enabled: true, password: SECRET });
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${file.path}.bak`, 'utf8')).toBe(CONFIG);
    expect(readFileSync(file.path, 'utf8')).toContain('# a one-pack test site');
    // Audited without the secret.
    const audit = await storage.audit.list(localScope(storage.identity), { user: 'admin' });
    const entry = audit.find((e) => e.action === 'settings.update' && e.result === 'ok');
    expect(entry?.detail).toBe('saved and applied');
    expect(JSON.stringify(audit)).not.toContain(SECRET);
    const st = (await call('GET', '/api/v1/settings', { token: admin })).body.status.mqtt;
    expect(st).toMatchObject({ configured: true, enabled: true, running: true });
  });

  it('tests MQTT: a round trip on the broker, and a clear error on a closed port', async () => {
    const ok = await call('POST', '/api/v1/settings/mqtt/test', { token: admin, json: {} });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ section: 'mqtt', ok: true });
    expect(ok.body.round_trip_ms).toBeGreaterThanOrEqual(0);
    expect(ok.body.round_trip_ms).toBeLessThan(5000);

    const closed = await freePort();
    const bad = await call('POST', '/api/v1/settings/mqtt/test', {
      token: admin,
      json: {
        value: { url: `mqtt://127.0.0.1:${closed}`, username: 'bms', password: SECRET_MARKER },
      },
    });
    expect(bad.status).toBe(200);
    expect(bad.body.ok).toBe(false);
    expect(bad.body.message).toContain(`connection refused at 127.0.0.1:${closed}`);
    // A candidate that does not check is a 422, as for a save.
    const invalid = await call('POST', '/api/v1/settings/mqtt/test', {
      token: admin,
      json: { value: { url: 'http://nope' } },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.issues[0].path).toBe('mqtt.url');
  });

  it('starts the Modbus TCP server live and reads it; a busy port is reported, config saved', async () => {
    const port = await freePort();
    const r = await call('PUT', '/api/v1/settings/modbus_tcp', {
      token: admin,
      json: { enabled: true, host: '127.0.0.1', port },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ applied: true, restart_required: false });
    expect(r.body.status).toMatchObject({ running: true, listening: `127.0.0.1:${port}` });

    const c = new ModbusRTU();
    await c.connectTCP('127.0.0.1', { port });
    c.setID(1);
    c.setTimeout(2000);
    try {
      const regs = await c.readHoldingRegisters(0, 10);
      const volts = gw.packs()[0]!.snapshot!.voltage_v!;
      expect(Math.abs(regs.data[1]! / 100 - volts)).toBeLessThan(1);
    } finally {
      await new Promise<void>((done) => c.close(() => done()));
    }
    const t = await call('POST', '/api/v1/settings/modbus_tcp/test', { token: admin, json: {} });
    expect(t.body).toMatchObject({ ok: true, address: `127.0.0.1:${port}` });
    expect(t.body.values).toHaveLength(10);

    // Another program holds the port: saved, reported, left stopped.
    const busy: Server = createServer((s) => s.resume());
    await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
    cleanups.push(() => new Promise((done) => busy.close(done)));
    const busyPort = (busy.address() as { port: number }).port;
    const r2 = await call('PUT', '/api/v1/settings/modbus_tcp', {
      token: admin,
      json: { enabled: true, host: '127.0.0.1', port: busyPort },
    });
    expect(r2.status).toBe(200);
    expect(r2.body.saved).toBe(true);
    expect(r2.body.applied).toBe(false);
    expect(r2.body.error).toMatch(/EADDRINUSE|in use/);
    expect(r2.body.status).toMatchObject({ running: false });
    expect(r2.body.status.last_error).toBe(r2.body.error);
    expect(file.read().modbus_tcp?.port).toBe(busyPort);
    const t2 = await call('POST', '/api/v1/settings/modbus_tcp/test', { token: admin, json: {} });
    expect(t2.body.ok).toBe(false);
    expect(gw.integrationRunning('modbus_tcp')).toBe(false);
    // Back to the free port for the next tests.
    const r3 = await call('PUT', '/api/v1/settings/modbus_tcp', {
      token: admin,
      json: { enabled: true, host: '127.0.0.1', port },
    });
    expect(r3.body.applied).toBe(true);
  });

  it('checks the tunnel bus, and reports sites changes as needing a restart', async () => {
    const bad = await call('PUT', '/api/v1/settings/tunnel', {
      token: admin,
      json: { enabled: true, bus: 's/nope', port: 0 },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.issues).toEqual([
      { path: 'tunnel.bus', message: expect.stringContaining('s/b') },
    ]);
    const t = await call('POST', '/api/v1/settings/tunnel/test', {
      token: admin,
      json: { value: { enabled: true, bus: 's/b', port: 0 } },
    });
    expect(t.body).toMatchObject({ ok: true });
    expect(t.body.message).toContain('s/b');

    const on = await call('PUT', '/api/v1/settings/tunnel', {
      token: admin,
      json: { enabled: true, bus: 's/b', port: 0 },
    });
    expect(on.body).toMatchObject({ applied: true, status: { running: true } });
    expect(on.body.status.listening).toMatch(/^127\.0\.0\.1:\d+$/);
    const ours = await call('POST', '/api/v1/settings/tunnel/test', { token: admin, json: {} });
    expect(ours.body).toMatchObject({ ok: true, address: on.body.status.listening });
    const off = await call('PUT', '/api/v1/settings/tunnel', {
      token: admin,
      json: { enabled: false, bus: 's/b' },
    });
    expect(off.body).toMatchObject({ applied: true, status: { running: false } });
    expect(gw.tunnelStatus()).toBeUndefined();

    const sites = file.read().sites;
    const r = await call('PUT', '/api/v1/settings/sites', {
      token: admin,
      json: [{ ...sites[0], name: 'Renamed' }],
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ applied: false, restart_required: true });
    const v = await call('GET', '/api/v1/settings', { token: admin });
    expect(v.body.pending_restart).toEqual(['sites']);
    expect(gw.sites()).toEqual([{ id: 's', name: 's', time_zone: gw.timeZone() }]);
  });

  it('starts notifications live; the test button sends through the chosen channel', async () => {
    const got: { auth: string | undefined; body: string }[] = [];
    const receiver = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        got.push({ auth: req.headers.authorization, body });
        res.end('ok');
      });
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    cleanups.push(() => new Promise((done) => receiver.close(done)));
    const port = (receiver.address() as { port: number }).port;
    const hookSecret = `hook-${randomBytes(4).toString('hex')}`;
    const r = await call('PUT', '/api/v1/settings/notifications', {
      token: admin,
      json: [
        {
          id: 'hook',
          type: 'webhook',
          url: `http://127.0.0.1:${port}/hook`,
          headers: { Authorization: `Bearer ${hookSecret}` },
        },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ applied: true, restart_required: false });
    expect(r.body.value[0].headers.Authorization).toBe(SECRET_MARKER);
    expect(r.text).not.toContain(hookSecret);
    expect(r.body.status).toMatchObject({ configured: true, running: true });

    const t = await call('POST', '/api/v1/settings/notifications/test', {
      token: admin,
      json: { channel: 'hook' },
    });
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({ section: 'notifications', ok: true });
    expect(got).toHaveLength(1);
    expect(got[0]!.auth).toBe(`Bearer ${hookSecret}`);
    const unknown = await call('POST', '/api/v1/settings/notifications/test', {
      token: admin,
      json: { channel: 'nope' },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toContain('hook');
    const noChannel = await call('POST', '/api/v1/settings/notifications/test', {
      token: admin,
      json: {},
    });
    expect(noChannel.status).toBe(400);

    const sentBefore = gw.notifications!.status().channels[0]!.counters.sent;
    expect(sentBefore).toBeGreaterThanOrEqual(1);
    const loc = await call('PUT', '/api/v1/settings/location', {
      token: admin,
      json: { latitude: 52.52, longitude: 13.4, timezone: 'Europe/Berlin' },
    });
    expect(loc.body).toMatchObject({ applied: true, restart_required: false });
    expect(gw.notifications).toBeDefined();
    // The restart behind the change keeps the deliveries made so far.
    const log = await call('GET', '/api/v1/integrations/notifications', { token: admin });
    expect(JSON.stringify(log.body)).toContain('hook');
    expect(gw.notifications!.deliveries.list().length).toBeGreaterThanOrEqual(1);
    // ...and the channel's counters (they went back to 0 on every location save).
    expect(gw.notifications!.status().channels[0]!.counters.sent).toBe(sentBefore);
    const badTz = await call('PUT', '/api/v1/settings/location', {
      token: admin,
      json: { latitude: 52.52, longitude: 13.4, timezone: 'Berlin' },
    });
    expect(badTz.status).toBe(422);
    expect(badTz.body.issues[0].path).toBe('location.timezone');
    // The saved header survives the redacted form coming back.
    const form = (await call('GET', '/api/v1/settings', { token: admin })).body.sections;
    await call('PUT', '/api/v1/settings/notifications', { token: admin, json: form.notifications });
    expect((file.raw()['notifications'] as { headers: unknown }[])[0]!.headers).toEqual({
      Authorization: `Bearer ${hookSecret}`,
    });
  });

  it('downloads a YAML backup that restore accepts; restore applies live sections', async () => {
    const b = await call('GET', '/api/v1/config/backup', { token: admin });
    expect(b.status).toBe(200);
    expect(b.headers.get('content-disposition')).toMatch(
      /^attachment; filename=openbms-config-\d{4}-\d\d-\d\d\.yaml$/,
    );
    expect(b.headers.get('content-type')).toMatch(/yaml/);
    const doc = parseYaml(b.text) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(doc['version']).toBe(1);
    expect(doc['mqtt'].password).toBe(SECRET); // a backup is complete
    expect(b.text).toBe(readFileSync(file.path, 'utf8'));
    expect(
      (await storage.audit.list(localScope(storage.identity), { user: 'admin' })).some(
        (e) => e.action === 'config.backup',
      ),
    ).toBe(true);

    // The same file back: nothing to apply.
    const same = await call('POST', '/api/v1/config/restore', { token: admin, text: b.text });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ saved: true, applied: [] });

    // MQTT off again (as JSON {yaml}): applied live, the broker connection is closed.
    const edited = b.text.replace(/enabled: true\n(\s+url: mqtt)/, 'enabled: false\n$1');
    expect(edited).not.toBe(b.text);
    const r = await call('POST', '/api/v1/config/restore', {
      token: admin,
      json: { yaml: edited },
      type: 'application/json',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ saved: true, applied: ['mqtt'] });
    expect(gw.integration(MQTT_INTEGRATION)!.publisher()).toBeUndefined();
    expect(readFileSync(file.path, 'utf8')).toBe(edited);
    expect(readFileSync(`${file.path}.bak`, 'utf8')).toBe(b.text);
  });

  it('refuses broken or invalid YAML with 422 and changes nothing', async () => {
    const before = readFileSync(file.path, 'utf8');
    const bak = readFileSync(`${file.path}.bak`, 'utf8');
    const broken = await call('POST', '/api/v1/config/restore', {
      token: admin,
      text: 'version: 1\nmqtt: { url: [unclosed\n',
      type: 'application/x-yaml',
    });
    expect(broken.status).toBe(422);
    expect(broken.body.error).toMatch(/not valid YAML/);
    const raw = { ...file.raw(), modbus_tcp: { port: 70000, colour: 'blue' } };
    const invalid = await call('POST', '/api/v1/config/restore', {
      token: admin,
      text: stringifyYaml(raw),
    });
    expect(invalid.status).toBe(422);
    const paths = (invalid.body.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['modbus_tcp.port', 'modbus_tcp.colour']));
    const huge = await call('POST', '/api/v1/config/restore', {
      token: admin,
      text: `version: 1\n# ${'x'.repeat(300 * 1024)}\n`,
    });
    expect(huge.status).toBe(413);
    expect(readFileSync(file.path, 'utf8')).toBe(before);
    expect(readFileSync(`${file.path}.bak`, 'utf8')).toBe(bak);
    expect(gw.integrationRunning('modbus_tcp')).toBe(true);
  });
});
