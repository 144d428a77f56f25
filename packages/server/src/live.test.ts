import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveClient } from './testing/ws-client.js';
import { startHarness, type Harness } from './testing/harness.js';

let h: Harness;
let viewer: string;
let wsUrl: string;

beforeAll(async () => {
  h = await startHarness();
  const admin = await h.setupAdmin();
  viewer = await h.addUser(admin, 'vera', 'viewer');
  wsUrl = h.url.replace('http', 'ws') + '/api/v1/live';
});
afterAll(() => h.close());

const snap = (packId: string, soc: number) => ({
  type: 'snapshot' as const,
  packId,
  ts: h.clock.now(),
  snapshot: { soc_pct: soc },
});

describe('WebSocket /api/v1/live', () => {
  it('refuses the upgrade without a valid session or token (401)', async () => {
    await expect(LiveClient.connect(wsUrl)).rejects.toThrow('HTTP 401');
    await expect(LiveClient.connect(`${wsUrl}?token=forged`)).rejects.toThrow('HTTP 401');
    expect(h.gateway.listeners.size).toBe(0);
  });

  it('authenticates by ?token= and streams only the subscribed packs', async () => {
    const c = await LiveClient.connect(`${wsUrl}?token=${viewer}`);
    expect(await c.next()).toEqual({ type: 'hello', user: 'vera', role: 'viewer' });

    c.send({ subscribe: ['home/bus1/2', 'ghost/1/1'] });
    expect(await c.next()).toEqual({
      type: 'subscribed',
      packs: ['home/bus1/2', 'ghost/1/1'],
      unknown: ['ghost/1/1'],
    });
    // The current snapshot of the newly subscribed pack comes first.
    expect(await c.next()).toMatchObject({
      type: 'snapshot',
      pack_id: 'home/bus1/2',
      snapshot: { soc_pct: 81 },
      online: false,
    });

    h.gateway.emit(snap('home/bus1/1', 50)); // not subscribed: filtered out
    h.gateway.emit(snap('home/bus1/2', 51));
    h.gateway.emit({
      type: 'online',
      packId: 'home/bus1/1',
      ts: 5,
      online: false,
      reason: 'timeout',
    });
    h.gateway.emit({ type: 'online', packId: 'home/bus1/2', ts: 6, online: true });
    h.gateway.emit({
      type: 'alarm',
      state: 'raised',
      event: {
        id: '01JD0000000000000000000007',
        localId: 7,
        orgId: TEST_ORIGIN.orgId,
        gatewayId: TEST_ORIGIN.gatewayId,
        packId: 'home/bus1/2',
        code: 'soc_low',
        severity: 'warning',
        origin: 'rule',
        ruleId: 'low',
        raisedAt: 9,
        value: 9.5,
        message: 'SOC low',
      },
    });
    expect(await c.next()).toEqual({
      type: 'snapshot',
      pack_id: 'home/bus1/2',
      ts: h.clock.now(),
      sent_at: h.clock.now(),
      snapshot: { soc_pct: 51 },
    });
    expect(await c.next()).toEqual({ type: 'online', pack_id: 'home/bus1/2', ts: 6, online: true });
    expect(await c.next()).toEqual({
      type: 'alarm',
      state: 'raised',
      alarm: {
        id: 7,
        pack_id: 'home/bus1/2',
        code: 'soc_low',
        severity: 'warning',
        origin: 'rule',
        rule_id: 'low',
        raised_at: 9,
        value: 9.5,
        message: 'SOC low',
      },
    });

    c.send({ unsubscribe: '*' });
    expect(await c.next()).toEqual({ type: 'subscribed', packs: [], unknown: [] });
    h.gateway.emit(snap('home/bus1/2', 52));
    c.send({ subscribe: '*' });
    const sub = await c.next();
    expect(sub).toEqual({ type: 'subscribed', packs: '*', unknown: [] });
    expect(c.pending().every((m) => m.type === 'snapshot' && m.snapshot.soc_pct === 81)).toBe(true);
    c.close();
    expect(await c.closed).toBe(1005);
  });

  it('authenticates by the session cookie and answers bad messages with an error', async () => {
    const login = await h.call('POST', '/api/v1/auth/login', {
      body: { username: 'vera', password: 'vera-password' },
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const c = await LiveClient.connect(wsUrl, { cookie });
    expect((await c.next()).type).toBe('hello');
    c.send('not json');
    expect(await c.next()).toMatchObject({ type: 'error', code: 'REQUEST_INVALID' });
    c.send({ subscribe: 42 });
    expect(await c.next()).toMatchObject({
      type: 'error',
      code: 'REQUEST_INVALID',
      field: 'subscribe',
    });
    c.send({ subscribe: ['home/bus1/1'] });
    expect((await c.next()).type).toBe('subscribed');
    expect((await c.next()).pack_id).toBe('home/bus1/1');
    c.close();
    await c.closed;
    // The listener is removed when the socket closes.
    await h.gateway.untilNoListeners();
  });

  it('closes the stream when its session is logged out, without waiting for the minute recheck', async () => {
    const login = await h.call('POST', '/api/v1/auth/login', {
      body: { username: 'vera', password: 'vera-password' },
    });
    const c = await LiveClient.connect(`${wsUrl}?token=${login.body.token}`);
    await c.next();
    c.send({ subscribe: '*' });
    await c.next();
    for (const _ of h.gateway.packs().filter((p) => p.snapshot)) await c.next();
    await h.call('POST', '/api/v1/auth/logout', { token: login.body.token });
    // No clock advance and no event: the logout itself closes it (it used to stream on for
    // up to 61 s). sessions.test.ts measures the time.
    expect(await c.closed).toBe(4401);
  });
});
