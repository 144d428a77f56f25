import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './testing/harness.js';
import { localScope } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';

const S = localScope(TEST_ORIGIN);

let h: Harness;
let admin: string;
let operator: string;
let viewer: string;
let alarmId: number;

beforeAll(async () => {
  h = await startHarness();
  admin = await h.setupAdmin();
  operator = await h.addUser(admin, 'otto', 'operator');
  viewer = await h.addUser(admin, 'vera', 'viewer');
  alarmId = (
    await h.gateway.raise({
      packId: 'home/bus1/1',
      code: 'cell_ov',
      severity: 'protection',
      level: 2,
      origin: 'bms',
      raisedAt: h.clock.now(),
      message: 'cell over-voltage',
    })
  ).localId;
});
afterAll(() => h.close());

describe('roles admin > operator > viewer', () => {
  it('a viewer reads but gets 403 acknowledging an alarm or managing users', async () => {
    expect((await h.call('GET', '/api/v1/packs', { token: viewer })).status).toBe(200);
    expect((await h.call('GET', '/api/v1/alarms', { token: viewer })).status).toBe(200);

    const ack = await h.call('POST', `/api/v1/alarms/${alarmId}/ack`, { token: viewer });
    expect(ack.status).toBe(403);
    expect(ack.body.code).toBe('FORBIDDEN');
    expect(ack.body.error).toMatch(/operator role/);

    for (const [method, path, body] of [
      ['GET', '/api/v1/users', undefined],
      ['POST', '/api/v1/users', { username: 'x', password: 'xxxxxxxx', role: 'admin' }],
      ['PATCH', '/api/v1/users/vera', { role: 'admin' }],
      ['DELETE', '/api/v1/users/ada', undefined],
      ['GET', '/api/v1/audit', undefined],
      ['DELETE', '/api/v1/exports/daily/home%2Fbus1%2F1/2030-01-01.csv', undefined],
    ] as const) {
      const r = await h.call(method, path, { token: viewer, ...(body ? { body } : {}) });
      expect(r.status, `${method} ${path}`).toBe(403);
    }
    expect((await h.stores.users.get(S, 'vera'))?.role).toBe('viewer');
  });

  it('an operator acknowledges (audited) but cannot manage users', async () => {
    const r = await h.call('POST', `/api/v1/alarms/${alarmId}/ack`, { token: operator });
    expect(r.status).toBe(200);
    expect((await h.stores.alarms.list(S)).find((a) => a.localId === alarmId)?.acknowledgedBy).toBe(
      'otto',
    );
    expect(
      (await h.stores.audit.list(S, { user: 'otto' })).some((e) => e.action === 'alarm.ack'),
    ).toBe(true);
    expect(
      (await h.call('POST', `/api/v1/alarms/${alarmId}/ack`, { token: operator })).status,
    ).toBe(404);
    expect((await h.call('GET', '/api/v1/users', { token: operator })).status).toBe(403);
  });

  it('an admin manages users; changes are audited; the last admin stays', async () => {
    const add = await h.call('POST', '/api/v1/users', {
      token: admin,
      body: { username: 'walt', password: 'walt-password', role: 'viewer' },
    });
    expect(add.status).toBe(201);
    const dup = await h.call('POST', '/api/v1/users', {
      token: admin,
      body: { username: 'walt', password: 'walt-password', role: 'viewer' },
    });
    expect(dup.status).toBe(400);
    expect(dup.body.field).toBe('username');

    const walt = (
      await h.call('POST', '/api/v1/auth/login', {
        body: { username: 'walt', password: 'walt-password' },
      })
    ).body.token;
    const waltApi = (
      await h.call('POST', '/api/v1/tokens', { token: walt, body: { name: 'script' } })
    ).body.token;
    expect(
      (await h.call('PATCH', '/api/v1/users/walt', { token: admin, body: { role: 'operator' } }))
        .body.role,
    ).toBe('operator');
    // A role change ends walt's sessions; his API token acts with the new role at once.
    expect((await h.call('GET', '/api/v1/auth/me', { token: walt })).status).toBe(401);
    expect((await h.call('GET', '/api/v1/auth/me', { token: waltApi })).body.role).toBe('operator');

    expect((await h.call('DELETE', '/api/v1/users/walt', { token: admin })).status).toBe(200);
    expect((await h.call('GET', '/api/v1/auth/me', { token: waltApi })).status).toBe(401);

    const last = await h.call('PATCH', '/api/v1/users/admin', {
      token: admin,
      body: { role: 'viewer' },
    });
    expect(last.status).toBe(403);
    expect((await h.call('DELETE', '/api/v1/users/admin', { token: admin })).status).toBe(403);
    expect((await h.call('DELETE', '/api/v1/users/nobody', { token: admin })).status).toBe(404);

    const actions = (await h.stores.audit.list(S, { user: 'admin' })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.add', 'user.role', 'user.delete']));
    const audit = await h.call('GET', '/api/v1/audit?user=admin&limit=50', { token: admin });
    expect(audit.status).toBe(200);
    expect(audit.body.find((e: { action: string }) => e.action === 'user.role')).toMatchObject({
      old: { role: 'viewer' },
      new: { username: 'walt', role: 'operator' },
      result: 'ok',
    });
  });

  it("a user cannot revoke another user's token; an admin can", async () => {
    const t = await h.call('POST', '/api/v1/tokens', { token: operator, body: { name: 'script' } });
    expect((await h.call('DELETE', `/api/v1/tokens/${t.body.id}`, { token: viewer })).status).toBe(
      403,
    );
    expect((await h.call('DELETE', `/api/v1/tokens/${t.body.id}`, { token: admin })).status).toBe(
      200,
    );
  });

  it('every /api/v1 route declares its access (the OpenAPI document lists it)', async () => {
    const doc = (await h.call('GET', '/api/docs/openapi.json')).body;
    const ops = Object.values(
      doc.paths as Record<string, Record<string, { 'x-access': string }>>,
    ).flatMap((p) => Object.values(p));
    expect(ops.length).toBeGreaterThan(20);
    for (const op of ops)
      expect(['public', 'viewer', 'operator', 'admin']).toContain(op['x-access']);
    const publicOps = Object.entries(
      doc.paths as Record<string, Record<string, { 'x-access': string }>>,
    )
      .flatMap(([path, p]) => Object.entries(p).map(([m, op]) => [`${m} ${path}`, op['x-access']]))
      .filter(([, a]) => a === 'public')
      .map(([k]) => k)
      .sort();
    expect(publicOps).toEqual([
      // The login's picture code: fetched before anyone is logged in (rate-limited per address).
      'get /api/v1/auth/captcha',
      // Sign-up and reset by e-mailed code (routes/signup.ts): for people not logged in.
      'get /api/v1/auth/signup',
      'get /api/v1/health',
      'get /api/v1/setup',
      'post /api/v1/auth/login',
      'post /api/v1/auth/reset',
      'post /api/v1/auth/reset/code',
      'post /api/v1/auth/signup',
      'post /api/v1/auth/signup/code',
      'post /api/v1/setup',
    ]);
  });
});
