/**
 * The notification routes with a real NotificationService behind them and a real HTTP
 * receiver as the webhook/ntfy target: roles, secrets shown only as set/not set, counters,
 * the delivery log newest first, and the test send (ok, failure with its reason, 404).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, NotificationService, channelSchema } from '@openbms/gateway';
import { HttpReceiver } from '@openbms/gateway/testing';
import type { BoxGateway } from './gateway-api.js';
import { startHarness, type Harness } from './testing/harness.js';
import { localScope, type HistoryQuery } from '@openbms/storage';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { TEST_ORIGIN } from '@openbms/storage/testing';

const S = localScope(TEST_ORIGIN);

let h: Harness;
let rx: HttpReceiver;
let svc: NotificationService;
let admin: string;
let operator: string;
let viewer: string;

beforeAll(async () => {
  h = await startHarness();
  rx = await new HttpReceiver().start();
  admin = await h.setupAdmin();
  operator = await h.addUser(admin, 'olga', 'operator');
  viewer = await h.addUser(admin, 'vic', 'viewer');
});

afterAll(async () => {
  await svc?.stop();
  await rx.close();
  await h.close();
});

describe('notification routes', () => {
  it('lists nothing and refuses a test while no channels are configured', async () => {
    const r = await h.call('GET', '/api/v1/integrations/notifications', { token: operator });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ channels: [], log: [] });
    const t = await h.call('POST', '/api/v1/integrations/notifications/test', {
      token: admin,
      body: { channel: 'phone' },
    });
    expect(t.status).toBe(404);
    expect(t.body.code).toBe('NOT_FOUND');
  });

  it('shows channels (secrets as set/not set), counters and the log; tests a channel', async () => {
    svc = new NotificationService({
      config: [
        channelSchema.parse({
          id: 'phone',
          type: 'ntfy',
          url: rx.url,
          topic: 'secret-topic-77',
          token: 'tk_verysecret',
          quiet_hours: { from: '22:00', to: '07:00' },
        }),
        channelSchema.parse({
          id: 'hook',
          type: 'webhook',
          url: `${rx.url}/hooks/T000/B000/XXXXSECRET`,
          headers: { Authorization: 'Bearer hook-secret-1' },
          events: ['alarm_raised'],
        }),
      ],
      events: new EventBus(),
      packs: () => [],
    });
    svc.start();
    (h.gateway as BoxGateway).notifications = svc;

    expect(
      (await h.call('GET', '/api/v1/integrations/notifications', { token: viewer })).status,
    ).toBe(403);
    expect(
      (
        await h.call('POST', '/api/v1/integrations/notifications/test', {
          token: operator,
          body: { channel: 'phone' },
        })
      ).status,
    ).toBe(403);

    const ok = await h.call('POST', '/api/v1/integrations/notifications/test', {
      token: admin,
      body: { channel: 'phone' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true, channel: 'phone', status: 'sent', attempts: 1 });
    expect(JSON.parse(rx.requests[0]!.body)).toMatchObject({
      topic: 'secret-topic-77',
      title: 'OpenBMS test message',
    });

    rx.plan.push({ status: 403, body: '{"code":40301,"http":403,"error":"forbidden"}' });
    const bad = await h.call('POST', '/api/v1/integrations/notifications/test', {
      token: admin,
      body: { channel: 'hook' },
    });
    expect(bad.status).toBe(200);
    expect(bad.body).toEqual({
      ok: false,
      channel: 'hook',
      status: 'failed',
      attempts: 1,
      error: 'HTTP 403 Forbidden: forbidden',
    });

    const unknown = await h.call('POST', '/api/v1/integrations/notifications/test', {
      token: admin,
      body: { channel: 'nope' },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('no notification channel "nope"; configured: phone, hook');
    const invalid = await h.call('POST', '/api/v1/integrations/notifications/test', {
      token: admin,
      body: { chan: 'phone' },
    });
    expect(invalid.status).toBe(400);

    const r = await h.call('GET', '/api/v1/integrations/notifications', { token: operator });
    expect(r.status).toBe(200);
    expect(r.text).not.toContain('tk_verysecret');
    expect(r.text).not.toContain('secret-topic-77');
    expect(r.text).not.toContain('XXXXSECRET');
    expect(r.text).not.toContain('hook-secret-1');
    const [phone, hook] = r.body.channels;
    expect(phone).toMatchObject({
      id: 'phone',
      type: 'ntfy',
      enabled: true,
      events: ['alarm_raised', 'alarm_cleared', 'offline', 'online', 'soc_full'],
      min_severity: 'warning',
      quiet_hours: { from: '22:00', to: '07:00', mode: 'hold', critical_severity: 'protection' },
      rate_limit: { max: 10, per_s: 3600 },
      target: { server: rx.url, topic: 'set', token: 'set', priority: 3 },
      counters: { sent: 1, failed: 0, dropped: 0, rate_limited: 0, queued: 0 },
    });
    expect(typeof phone.quiet_hours.active).toBe('boolean');
    expect(hook).toMatchObject({
      id: 'hook',
      events: ['alarm_raised'],
      target: { server: rx.url, url: 'set', method: 'POST', headers: ['Authorization'] },
      counters: { sent: 0, failed: 1 },
      last_error: 'HTTP 403 Forbidden: forbidden',
    });
    expect(
      r.body.log.map((e: { channel: string; status: string }) => [e.channel, e.status]),
    ).toEqual([
      ['hook', 'failed'],
      ['phone', 'sent'],
    ]);
    expect(r.body.log[0]).toMatchObject({
      event: 'test',
      title: 'OpenBMS test message',
      attempts: 1,
      error: 'HTTP 403 Forbidden: forbidden',
    });
    expect(typeof r.body.log[0].updated_at).toBe('number');

    const audit = await h.stores.audit.list(S, { user: 'admin' });
    expect(audit.filter((a) => a.action === 'notifications.test').map((a) => a.result)).toEqual([
      'failed',
      'ok',
    ]);
  });

  it('sends the daily report so far through chosen channels (operator), audited', async () => {
    const storage = await openSqliteStorage({});
    const reporting = new NotificationService({
      config: [
        channelSchema.parse({ id: 'day', type: 'webhook', url: `${rx.url}/day` }),
        channelSchema.parse({ id: 'other', type: 'webhook', url: `${rx.url}/other` }),
      ],
      location: { latitude: 52.52, longitude: 13.4, timezone: 'Europe/Berlin' },
      events: new EventBus(),
      packs: () => [{ id: 'home/bus1/1', name: 'Rack 1' }],
      telemetry: {
        history: (q: HistoryQuery) => storage.telemetry.history(localScope(storage.identity), q),
      },
    });
    reporting.start();
    const before = svc;
    (h.gateway as BoxGateway).notifications = reporting;
    try {
      const path = '/api/v1/integrations/notifications/report';
      const body = { channels: ['day'] };
      expect((await h.call('POST', path, { token: viewer, body })).status).toBe(403);
      for (const bad of [{}, { channels: [] }, { channels: ['day', 'day'] }, { channels: [7] }]) {
        const r = await h.call('POST', path, { token: operator, body: bad });
        expect(r.status, JSON.stringify(bad)).toBe(400);
        expect(r.body.code).toBe('REQUEST_INVALID');
      }
      const unknown = await h.call('POST', path, { token: operator, body: { channels: ['x'] } });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toContain('configured: day, other');

      const n = rx.requests.length;
      const r = await h.call('POST', path, { token: operator, body });
      expect(r.status).toBe(200);
      expect(r.body.results).toEqual([{ ok: true, channel: 'day', status: 'sent', attempts: 1 }]);
      expect(['sunrise', 'sunset']).toContain(r.body.kind);
      expect(r.body.to).toBeGreaterThan(r.body.from);
      const sent = rx.requests.slice(n);
      expect(sent.map((x) => x.url)).toEqual(['/day']);
      const msg = JSON.parse(sent[0]!.body);
      expect(msg).toMatchObject({
        event: 'daily_report',
        data: { preview: true, kind: r.body.kind },
      });
      expect(msg.message).toContain('Rack 1: no data');

      const audit = await h.stores.audit.list(S, { user: 'olga' });
      expect(audit.find((a) => a.action === 'notifications.report')).toMatchObject({
        result: 'ok',
      });
    } finally {
      await reporting.stop();
      await storage.close();
      (h.gateway as BoxGateway).notifications = before;
    }
  });

  it('is in the OpenAPI document', async () => {
    const r = await h.call('GET', '/api/docs/openapi.json');
    const get = r.body.paths['/api/v1/integrations/notifications'].get;
    expect(get['x-access']).toBe('operator');
    const post = r.body.paths['/api/v1/integrations/notifications/test'].post;
    expect(post['x-access']).toBe('admin');
    expect(post.requestBody.content['application/json'].schema.required).toEqual(['channel']);
    const report = r.body.paths['/api/v1/integrations/notifications/report'].post;
    expect(report['x-access']).toBe('operator');
  });
});
