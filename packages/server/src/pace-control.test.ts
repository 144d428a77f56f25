/**
 * The clock, records, inverter protocol, calibration and unverified-switch routes over HTTP:
 * the real server (app.inject), a real Gateway polling two simulated PACE packs over TCP (one
 * allowing unverified commands, one not), real SQLite. The simulator's clock is frozen.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway, validateConfig } from '@openbms/gateway';
import { simulatedBuses } from '@openbms/gateway/testing';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from './app.js';
import { TEST_COST } from './testing/harness.js';

let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let gw: Gateway;
let app: FastifyInstance;
const buses = simulatedBuses();
const tokens: Record<'admin' | 'operator' | 'viewer', string> = {
  admin: '',
  operator: '',
  viewer: '',
};

const LOCKED = 's/rack/1';
const OPEN = 's/rack/2';
const p = (id: string, rest: string): string => `/api/v1/packs/${encodeURIComponent(id)}${rest}`;

interface Res {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Record<string, unknown>;
}

async function call(
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  who: keyof typeof tokens,
  body?: unknown,
): Promise<Res> {
  const r = await app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${tokens[who]}` },
    ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.body);
  } catch {
    parsed = undefined;
  }
  return { status: r.statusCode, body: parsed, text: r.body, headers: r.headers };
}

beforeAll(async () => {
  storage = await openSqliteStorage({ dataDir: mkdtempSync(join(tmpdir(), 'obt-pace-')) });
  const config = validateConfig({
    version: 1,
    location: { latitude: 31.2, longitude: 121.5, timezone: 'Asia/Shanghai' },
    sites: [
      {
        id: 's',
        buses: [
          {
            id: 'rack',
            port: 'sim',
            protocol: 'pace',
            poll_interval_s: 0.2,
            simulator: { speed: 0, profile: 'idle' },
            packs: [
              { address: 1, name: 'Locked' },
              { address: 2, name: 'Open', allow_unverified: true },
            ],
          },
        ],
      },
    ],
  });
  gw = new Gateway({ config, storage, busFactory: buses.busFactory });
  const ready = new Promise<void>((resolve) => {
    const seen = new Set<string>();
    const off = gw.events.on((e) => {
      if (e.type !== 'snapshot') return;
      seen.add(e.packId);
      if (seen.size === 2) {
        off();
        resolve();
      }
    });
  });
  await gw.start();
  await ready;
  app = await buildServer({ storage, gateway: gw, passwordCost: TEST_COST });
  const setup = await app.inject({
    method: 'POST',
    url: '/api/v1/setup',
    payload: { username: 'admin', password: 'a-long-password' },
  });
  expect(setup.statusCode, setup.body).toBe(201);
  tokens.admin = JSON.parse(setup.body).token;
  for (const role of ['operator', 'viewer'] as const) {
    const user = { username: role, password: `${role}-long-password`, role };
    const added = await call('POST', '/api/v1/users', 'admin', user);
    expect(added.status, added.text).toBe(201);
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: role, password: user.password },
    });
    tokens[role] = JSON.parse(login.body).token;
  }
});

afterAll(async () => {
  await app?.close();
  await gw?.stop();
  await storage?.close();
});

describe('PACE over HTTP', () => {
  it('lists what the family has, what rests on one source, and the switch per pack', async () => {
    const locked = await call('GET', p(LOCKED, '/capabilities'), 'viewer');
    expect(locked.status).toBe(200);
    expect(locked.body).toMatchObject({
      protocol: 'pace',
      allow_unverified: false,
      operations: {
        read_clock: true,
        records: true,
        set_inverter_protocol: true,
        calibrate: true,
        shutdown: true,
      },
      records: { kinds: ['data', 'alarm'], per_read: 10 },
    });
    expect(Object.keys(locked.body.unverified).sort()).toEqual([
      'calibrate',
      'clear_records',
      'param:charge_limit_start_a',
      'restore_defaults',
      'set_soc',
    ]);
    expect(locked.body.inverter_protocols.can).toContainEqual({ code: 19, name: 'Afore' });
    expect(locked.body.calibrations).toContainEqual(
      expect.objectContaining({ kind: 'current_zero', unit: 'A', takes_value: false }),
    );
    expect((await call('GET', p(OPEN, '/capabilities'), 'viewer')).body.allow_unverified).toBe(
      true,
    );
  });

  it('sets the clock in the site zone and reads it back', async () => {
    const ms = Date.UTC(2026, 5, 1, 0, 0, 0);
    const set = await call('POST', p(LOCKED, '/commands/clock'), 'operator', { ms });
    expect(set.status, set.text).toBe(200);
    expect(set.body.readback).toMatchObject({ bms_time: '2026-06-01 08:00:00' });
    const read = await call('GET', p(LOCKED, '/clock'), 'viewer');
    expect(read.body).toMatchObject({
      bms_time: '2026-06-01 08:00:00',
      ms,
      time_zone: 'Asia/Shanghai',
    });
    expect((await call('POST', p(LOCKED, '/commands/clock'), 'viewer', { ms })).status).toBe(403);
  });

  it('reads records in pages and exports them as CSV', async () => {
    const page = await call('GET', p(LOCKED, '/records?start=0&count=5'), 'viewer');
    expect(page.status, page.text).toBe(200);
    expect(page.body.time_zone).toBe('Asia/Shanghai');
    expect(Array.isArray(page.body.records)).toBe(true);
    const csv = await call('GET', p(LOCKED, '/records/export?max=20'), 'viewer');
    expect(csv.status).toBe(200);
    expect(String(csv.headers['content-type'])).toMatch(/^text\/csv/);
    expect(String(csv.headers['content-disposition'])).toContain('s-rack-1-records.csv');
    expect(csv.text.split('\r\n')[0]).toMatch(/^index,kind,bms_time,event,/);
    const tooMany = await call('GET', p(LOCKED, '/records?count=11'), 'viewer');
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.field).toBe('count');
  });

  it('changes the inverter protocol and reads it back; a code outside the list is 400', async () => {
    const set = await call('POST', p(LOCKED, '/commands/inverter-protocol'), 'operator', {
      can: 2,
      mode: 'manual',
    });
    expect(set.status, set.text).toBe(200);
    expect(set.body.readback.inverter_protocol).toMatchObject({ can: 2, mode: 'manual' });
    const read = await call('GET', p(LOCKED, '/inverter-protocol'), 'viewer');
    expect(read.body.setting).toMatchObject({ can: 2, mode: 'manual' });
    const bad = await call('POST', p(LOCKED, '/commands/inverter-protocol'), 'operator', {
      rs485: 99,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('setting.rs485');
  });

  it('refuses calibration on the pack without the switch (409, naming it) and does it on the other', async () => {
    const locked = await call('POST', p(LOCKED, '/commands/calibrate'), 'operator', {
      kind: 'cycles',
      value: 321,
    });
    expect(locked.status).toBe(409);
    expect(locked.body.code).toBe('COMMAND_REFUSED');
    expect(locked.body.error).toContain('allow_unverified');
    const open = await call('POST', p(OPEN, '/commands/calibrate'), 'operator', {
      kind: 'cycles',
      value: 321,
    });
    expect(open.status, open.text).toBe(200);
    expect(open.body.readback).toEqual({ cycles: 321 });
    const unknown = await call('POST', p(OPEN, '/commands/calibrate'), 'operator', {
      kind: 'temperature',
      value: 20,
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.field).toBe('kind');
    expect(
      (await call('POST', p(OPEN, '/commands/calibrate'), 'viewer', { kind: 'cycles', value: 1 }))
        .status,
    ).toBe(403);
  });
  it('audits the new commands in the stored log, done and refused, with who and what', async () => {
    // Every command above went through the async audit store (SQLite on its writer thread).
    const locked = await call('GET', `/api/v1/audit?pack=${encodeURIComponent(LOCKED)}`, 'admin');
    expect(locked.status, locked.text).toBe(200);
    const seen = (locked.body as { action: string; result: string; user: string }[]).map((e) => [
      e.action,
      e.result,
      e.user,
    ]);
    expect(seen).toContainEqual(['clock.set', 'ok', 'operator']);
    expect(seen).toContainEqual(['inverter_protocol.set', 'ok', 'operator']);
    expect(seen).toContainEqual(['inverter_protocol.set', 'refused', 'operator']);
    expect(seen).toContainEqual(['calibrate.cycles', 'refused', 'operator']);
    // A viewer's 403 never reached the service: nothing audited for it.
    expect(seen.filter(([, , user]) => user === 'viewer')).toEqual([]);
    const open = await call('GET', `/api/v1/audit?pack=${encodeURIComponent(OPEN)}`, 'admin');
    expect(open.body).toContainEqual(
      expect.objectContaining({
        action: 'calibrate.cycles',
        result: 'ok',
        user: 'operator',
        new: { kind: 'cycles', value: 321 },
      }),
    );
    expect((await call('GET', '/api/v1/audit', 'operator')).status).toBe(403);
  });
});
