/**
 * The HTTP channels against a real local HTTP receiver: request shapes (ntfy, Pushover,
 * webhook), retries then success, permanent 4xx failures with their reason, rate limiting
 * with a summary, quiet hours (injected clock), routing per channel, and alarm, offline and
 * SOC messages from a real EventBus and AlarmEngine.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../alarms/index.js';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { FakeAlarmStore } from '../../testing/alarms.js';
import { EventBus } from '../../types.js';
import { channelSchema, type ChannelConfigInput } from './schema.js';
import { NotificationService, type NotificationServiceOptions } from './service.js';
import { HttpReceiver, ManualTimers, waitFor } from '../../testing/notify.js';
import type { DeliveryEntry, Message } from './types.js';

const PACKS = [
  { id: 'home/rack/2', name: 'Rack 1' },
  { id: 'home/rack/3', name: 'Rack 2' },
];

// 2026-01-15 10:00 in Berlin (CET, UTC+1).
const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);

let rx: HttpReceiver;
let services: NotificationService[] = [];

beforeEach(async () => {
  rx = await new HttpReceiver().start();
});

afterEach(async () => {
  for (const s of services) await s.stop();
  services = [];
  await rx.close();
});

function service(
  channels: ChannelConfigInput[],
  over: Partial<NotificationServiceOptions> = {},
): { svc: NotificationService; bus: EventBus } {
  const bus = new EventBus((e) => {
    throw e;
  });
  const svc = new NotificationService({
    // Alarm grouping (group_s) is tested on its own; here each alarm goes at once.
    config: channels.map((c) => channelSchema.parse({ group_s: 0, ...c })),
    events: bus,
    packs: () => PACKS,
    location: { latitude: 52.52, longitude: 13.4, timezone: 'Europe/Berlin' },
    ...over,
  });
  svc.start();
  services.push(svc);
  return { svc, bus };
}

function alarm(severity: 'warning' | 'protection' | 'fault', title = `alarm ${severity}`): Message {
  return {
    event: 'alarm_raised',
    title,
    body: `${title} body`,
    urgency: severity === 'fault' ? 'critical' : severity === 'protection' ? 'high' : 'normal',
    at: T0,
    severity,
    pack: PACKS[0]!,
    data: { code: 'cell_ov' },
  };
}

const entries = (svc: NotificationService, channel?: string): DeliveryEntry[] =>
  svc.deliveries.list(channel);

describe('request shapes', () => {
  it('ntfy: JSON to the server root with topic, title, message, priority, tags and the token', async () => {
    const { svc } = service([
      {
        id: 'phone',
        type: 'ntfy',
        url: `${rx.url}/`,
        topic: 'bms-alerts_42',
        token: 'tk_secret123',
        priority: 'default',
      },
    ]);
    svc.dispatch(alarm('fault', 'Rack 1: Cell overvoltage'));
    await rx.received(1);
    const r = rx.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['authorization']).toBe('Bearer tk_secret123');
    const body = JSON.parse(r.body);
    expect(body).toEqual({
      topic: 'bms-alerts_42',
      title: 'Rack 1: Cell overvoltage',
      message: 'Rack 1: Cell overvoltage body',
      priority: 5, // default 3, +2 for a critical (fault) alarm
      tags: ['rotating_light', 'battery'],
    });
    await waitFor(() => entries(svc)[0]?.status === 'sent', 5000, 'sent');
    expect(entries(svc)[0]).toMatchObject({ channel: 'phone', event: 'alarm_raised', attempts: 1 });
  });

  it('Pushover: a form POST with token, user, message, title, priority, device and timestamp', async () => {
    const { svc } = service([
      {
        id: 'po',
        type: 'pushover',
        url: `${rx.url}/1/messages.json`,
        token: 'azGDORePK8gMaC0QOYAMyEEuzJnyUi',
        user: 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG',
        device: 'phone',
      },
    ]);
    svc.dispatch(alarm('protection', 'Rack 1: Cell undervoltage'));
    await rx.received(1);
    const r = rx.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/1/messages.json');
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = Object.fromEntries(new URLSearchParams(r.body));
    expect(form).toEqual({
      token: 'azGDORePK8gMaC0QOYAMyEEuzJnyUi',
      user: 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG',
      title: 'Rack 1: Cell undervoltage',
      message: 'Rack 1: Cell undervoltage body',
      priority: '1',
      timestamp: String(Math.floor(T0 / 1000)),
      device: 'phone',
    });
  });

  it('webhook: the chosen method, extra headers and the JSON body', async () => {
    const { svc } = service([
      {
        id: 'hook',
        type: 'webhook',
        url: `${rx.url}/hooks/abc`,
        method: 'PUT',
        headers: { 'X-Api-Key': 'k-123456' },
      },
    ]);
    svc.dispatch(alarm('warning', 'Rack 1: Cell difference high'));
    await rx.received(1);
    const r = rx.requests[0]!;
    expect(r.method).toBe('PUT');
    expect(r.url).toBe('/hooks/abc');
    expect(r.headers['x-api-key']).toBe('k-123456');
    expect(JSON.parse(r.body)).toEqual({
      source: 'openbms',
      event: 'alarm_raised',
      title: 'Rack 1: Cell difference high',
      message: 'Rack 1: Cell difference high body',
      urgency: 'normal',
      severity: 'warning',
      pack: { id: 'home/rack/2', name: 'Rack 1' },
      at: new Date(T0).toISOString(),
      ts: T0,
      data: { code: 'cell_ov' },
    });
  });
});

describe('delivery', () => {
  it('retries a 500 and a 429 (honouring Retry-After) and then succeeds', async () => {
    rx.plan.push(
      { status: 500, body: '{"error":"boom"}' },
      { status: 429, body: '', headers: { 'retry-after': '0' } },
    );
    const { svc } = service([
      {
        id: 'hook',
        type: 'webhook',
        url: `${rx.url}/h`,
        retry: { attempts: 5, backoff_s: 0.02, max_backoff_s: 0.05 },
      },
    ]);
    svc.dispatch(alarm('warning'));
    await rx.received(3);
    await waitFor(() => entries(svc)[0]?.status === 'sent', 5000, 'sent');
    expect(rx.requests.map((r) => r.status)).toEqual([500, 429, 200]);
    const e = entries(svc)[0]!;
    expect(e.attempts).toBe(3);
    expect(e.error).toBeUndefined();
    expect(svc.status().channels[0]!.counters).toMatchObject({ sent: 1, failed: 0, queued: 0 });
  });

  it('fails at once on a 400 with the server reason, and never shows the secrets', async () => {
    rx.plan.push({
      status: 400,
      body: '{"user":"invalid","errors":["user identifier is not a valid user, group, or subscribed user key"],"status":0}',
    });
    const { svc } = service([
      {
        id: 'po',
        type: 'pushover',
        url: `${rx.url}/1/messages.json`,
        token: 'azGDORePK8gMaC0QOYAMyEEuzJnyUi',
        user: 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG',
        retry: { attempts: 5, backoff_s: 0.01 },
      },
    ]);
    svc.dispatch(alarm('warning'));
    await waitFor(() => entries(svc)[0]?.status === 'failed', 5000, 'failed');
    const e = entries(svc)[0]!;
    expect(e.attempts).toBe(1);
    expect(e.error).toBe(
      'HTTP 400 Bad Request: user identifier is not a valid user, group, or subscribed user key',
    );
    expect(rx.requests).toHaveLength(1);
    const shown = JSON.stringify(svc.status());
    expect(shown).not.toContain('azGDORePK8gMaC0QOYAMyEEuzJnyUi');
    expect(shown).not.toContain('uQiRzpo4DXghDmr9QzzfQu27cmVRsG');
    expect(svc.status().channels[0]!.target).toEqual({ token: 'set', user: 'set' });
    expect(svc.status().channels[0]!.last_error).toBe(e.error);
  });

  it('gives up after the configured attempts on a server that keeps failing', async () => {
    rx.fallback = { status: 503, body: 'down for maintenance' };
    const { svc } = service([
      { id: 'hook', type: 'webhook', url: `${rx.url}/h`, retry: { attempts: 3, backoff_s: 0.01 } },
    ]);
    svc.dispatch(alarm('warning'));
    await waitFor(() => entries(svc)[0]?.status === 'failed', 5000, 'failed');
    expect(entries(svc)[0]).toMatchObject({
      attempts: 3,
      error: 'HTTP 503 Service Unavailable: down for maintenance (gave up after 3 attempts)',
    });
    expect(rx.requests).toHaveLength(3);
  });

  it('times out a server that does not answer, and retries an unreachable one', async () => {
    rx.hang = true;
    const dead = await new HttpReceiver().start();
    const deadUrl = dead.url;
    await dead.close();
    const { svc } = service([
      {
        id: 'slow',
        type: 'webhook',
        url: `${rx.url}/h`,
        timeout_s: 0.2,
        retry: { attempts: 1 },
      },
      { id: 'gone', type: 'webhook', url: `${deadUrl}/h`, retry: { attempts: 2, backoff_s: 0.01 } },
    ]);
    svc.dispatch(alarm('warning'));
    await waitFor(() => entries(svc).every((e) => e.status === 'failed'), 5000, 'both failed');
    expect(entries(svc, 'slow')[0]!.error).toBe(
      'no answer within 0.2 s (gave up after 1 attempts)',
    );
    expect(entries(svc, 'gone')[0]!.error).toMatch(
      /^cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED \(gave up after 2 attempts\)$/,
    );
    expect(entries(svc, 'gone')[0]!.attempts).toBe(2);
  });

  it('a test message goes through one channel now and answers with the result', async () => {
    rx.plan.push({ status: 401, body: '{"code":40101,"http":401,"error":"unauthorized"}' });
    const { svc } = service([
      { id: 'phone', type: 'ntfy', url: rx.url, topic: 'x1', enabled: false },
    ]);
    const bad = await svc.test('phone');
    expect(bad).toEqual({
      ok: false,
      channel: 'phone',
      status: 'failed',
      attempts: 1,
      error: 'HTTP 401 Unauthorized: unauthorized',
    });
    const good = await svc.test('phone');
    expect(good).toEqual({ ok: true, channel: 'phone', status: 'sent', attempts: 1 });
    expect(JSON.parse(rx.requests[1]!.body).title).toBe('OpenBMS test message');
    expect(entries(svc).map((e) => [e.event, e.status])).toEqual([
      ['test', 'sent'],
      ['test', 'failed'],
    ]);
    await expect(svc.test('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('Telegram', () => {
  const TOKEN = '123456789:AAE-tg_secret_token_0123456789';

  it('sendMessage: JSON to /bot<token>/sendMessage with the chat id and the text; reports are silent', async () => {
    const { svc } = service([
      { id: 'tg', type: 'telegram', api_url: `${rx.url}/`, token: TOKEN, chat_id: -1001234567890 },
    ]);
    svc.dispatch(alarm('fault', 'Rack 1: Cell overvoltage'));
    await rx.received(1);
    const r = rx.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe(`/bot${TOKEN}/sendMessage`);
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual({
      chat_id: -1001234567890,
      text: 'Rack 1: Cell overvoltage\n\nRack 1: Cell overvoltage body',
      disable_notification: false,
      link_preview_options: { is_disabled: true },
    });
    await waitFor(() => entries(svc)[0]?.status === 'sent', 5000, 'sent');
    expect(svc.status().channels[0]!.target).toEqual({
      server: rx.url,
      token: 'set',
      chat_id: '-1001234567890',
    });
    expect(JSON.stringify(svc.status())).not.toContain('tg_secret_token');
  });

  it("retries a 429 after the body's retry_after and a 502, then succeeds", async () => {
    rx.plan.push(
      {
        status: 429,
        body: '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 0.05","parameters":{"retry_after":0.05}}',
      },
      { status: 502, body: '<html><body>Bad Gateway</body></html>' },
    );
    const timers = new ManualTimers(T0);
    const { svc } = service(
      [
        {
          id: 'tg',
          type: 'telegram',
          api_url: rx.url,
          token: TOKEN,
          chat_id: '@bms_site',
          // Without the body's retry_after the first wait would be this backoff.
          retry: { attempts: 5, backoff_s: 60, max_backoff_s: 120 },
        },
      ],
      { timers, clock: timers },
    );
    svc.dispatch(alarm('warning'));
    await rx.received(1);
    await waitFor(() => entries(svc)[0]?.status === 'retrying', 5000, 'retrying');
    expect(timers.size).toBe(1);
    timers.advance(49);
    expect(timers.size).toBe(1); // 50 ms, as the body said
    timers.advance(1);
    await rx.received(2);
    await waitFor(() => entries(svc)[0]?.attempts === 2 && timers.size === 1, 5000, 'armed');
    timers.advance(119_999);
    expect(timers.size).toBe(1); // 60 s doubled, capped at 120 s
    timers.advance(1);
    await waitFor(() => entries(svc)[0]?.status === 'sent', 5000, 'sent');
    expect(rx.requests.map((r) => r.status)).toEqual([429, 502, 200]);
    expect(JSON.parse(rx.requests[2]!.body).chat_id).toBe('@bms_site');
    expect(entries(svc)[0]!.attempts).toBe(3);
  });

  it('a bad token fails at once with the reason; neither errors nor the log show the token', async () => {
    rx.plan.push({
      status: 401,
      body: '{"ok":false,"error_code":401,"description":"Unauthorized"}',
    });
    const lines: string[] = [];
    const { svc } = service(
      [{ id: 'tg', type: 'telegram', api_url: rx.url, token: TOKEN, chat_id: 42 }],
      { log: (_l, m) => lines.push(m) },
    );
    const bad = await svc.test('tg');
    expect(bad).toEqual({
      ok: false,
      channel: 'tg',
      status: 'failed',
      attempts: 1,
      error: 'HTTP 401 Unauthorized: Unauthorized',
    });
    const good = await svc.test('tg');
    expect(good.ok).toBe(true);
    expect(JSON.parse(rx.requests[1]!.body).text).toMatch(/^OpenBMS test message/);
    // An unreachable Bot API server: the error names the origin only, never the path.
    const dead = await new HttpReceiver().start();
    const deadUrl = dead.url;
    await dead.close();
    const { svc: gone } = service(
      [
        {
          id: 'tg2',
          type: 'telegram',
          api_url: deadUrl,
          token: TOKEN,
          chat_id: 42,
          retry: { attempts: 1 },
        },
      ],
      { log: (_l, m) => lines.push(m) },
    );
    gone.dispatch(alarm('warning'));
    await waitFor(() => entries(gone)[0]?.status === 'failed', 5000, 'failed');
    expect(entries(gone)[0]!.error).toMatch(
      /^cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/,
    );
    expect(lines.some((l) => l.includes('not delivered'))).toBe(true);
    const all = JSON.stringify([svc.status(), gone.status(), lines]);
    expect(all).not.toContain('tg_secret_token');
  });

  it('the schema names the field for a bad token or chat id', () => {
    const bad = channelSchema.safeParse({ id: 't', type: 'telegram', token: 'abc', chat_id: 1 });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({ path: ['token'] });
    const chat = channelSchema.safeParse({
      id: 't',
      type: 'telegram',
      token: TOKEN,
      chat_id: 'me',
    });
    expect(chat.error!.issues[0]).toMatchObject({ path: ['chat_id'] });
    expect(chat.error!.issues[0]!.message).toMatch(/^chat_id must be a numeric chat id/);
    const ok = channelSchema.parse({ id: 't', type: 'telegram', token: TOKEN, chat_id: '-100123' });
    expect(ok).toMatchObject({ api_url: 'https://api.telegram.org', chat_id: '-100123' });
  });
});

describe('alarm grouping', () => {
  it('alarms raised within group_s go as one message listing them; one alone goes as itself', async () => {
    const timers = new ManualTimers(T0);
    const { svc } = service([{ id: 'hook', type: 'webhook', url: `${rx.url}/h`, group_s: 5 }], {
      timers,
      clock: timers,
    });
    // One poll raises three alarms on one pack; a cleared alarm is never held.
    svc.dispatch(alarm('warning', 'Rack 1: Cell imbalance'));
    timers.advance(1000);
    svc.dispatch({ ...alarm('fault', 'Rack 1: Cell overvoltage'), at: T0 + 1000 });
    svc.dispatch({ ...alarm('protection', 'Rack 1: Charge overcurrent'), at: T0 + 1000 });
    svc.dispatch({ ...alarm('warning', 'Rack 1: Cell imbalance'), event: 'alarm_cleared' });
    await rx.received(1);
    expect(JSON.parse(rx.requests[0]!.body).event).toBe('alarm_cleared');
    await waitFor(() => entries(svc)[0]?.status === 'sent', 5000, 'cleared sent');
    expect(svc.status().channels[0]!.counters.queued).toBe(3);
    timers.advance(3999);
    expect(timers.size).toBe(1); // the window opened by the first alarm is still open
    timers.advance(1);
    await rx.received(2);
    const grouped = JSON.parse(rx.requests[1]!.body);
    expect(grouped).toMatchObject({
      event: 'alarm_raised',
      title: '3 alarms raised on Rack 1',
      urgency: 'critical',
      severity: 'fault',
      pack: PACKS[0],
      data: { grouped: 3 },
    });
    expect(grouped.message.split('\n')).toEqual([
      '10:00 Rack 1: Cell imbalance',
      '10:00 Rack 1: Cell overvoltage',
      '10:00 Rack 1: Charge overcurrent',
    ]);
    expect(grouped.data.alarms.map((a: { title: string }) => a.title)).toEqual([
      'Rack 1: Cell imbalance',
      'Rack 1: Cell overvoltage',
      'Rack 1: Charge overcurrent',
    ]);

    // A later alarm opens a new window and, alone in it, goes as itself.
    svc.dispatch(alarm('protection', 'Rack 1: Cell undervoltage'));
    timers.advance(5000);
    await rx.received(3);
    expect(JSON.parse(rx.requests[2]!.body).title).toBe('Rack 1: Cell undervoltage');
    await waitFor(() => entries(svc).every((e) => e.status === 'sent'), 5000, 'all sent');
    expect(entries(svc).map((e) => e.title)).toEqual([
      'Rack 1: Cell undervoltage',
      '3 alarms raised on Rack 1',
      'Rack 1: Cell imbalance',
    ]);
  });

  it('alarms of several packs name no pack; group_s 0 sends each at once', async () => {
    const timers = new ManualTimers(T0);
    const { svc } = service(
      [
        { id: 'grouped', type: 'webhook', url: `${rx.url}/g`, group_s: 2 },
        { id: 'single', type: 'webhook', url: `${rx.url}/s`, group_s: 0 },
      ],
      { timers, clock: timers },
    );
    svc.dispatch(alarm('warning', 'Rack 1: Cell imbalance'));
    svc.dispatch({ ...alarm('warning', 'Rack 2: Cell imbalance'), pack: PACKS[1]! });
    await rx.received(2);
    expect(rx.requests.map((r) => r.url)).toEqual(['/s', '/s']);
    timers.advance(2000);
    await rx.received(3);
    const g = JSON.parse(rx.requests[2]!.body);
    expect(g.title).toBe('2 alarms raised');
    expect(g.pack).toBeUndefined();
    expect(channelSchema.parse({ id: 'x', type: 'webhook', url: 'http://a' }).group_s).toBe(2);
    expect(
      channelSchema.safeParse({ id: 'x', type: 'webhook', url: 'http://a', group_s: 301 }).error!
        .issues[0],
    ).toMatchObject({ path: ['group_s'], message: 'group_s must be 0..300 s' });
  });
});

describe('rate limit', () => {
  it('sends up to max per window, counts the rest and sends one summary when the window frees', async () => {
    const timers = new ManualTimers(T0);
    const { svc } = service(
      [
        {
          id: 'hook',
          type: 'webhook',
          url: `${rx.url}/h`,
          rate_limit: { max: 2, per_s: 60 },
        },
      ],
      { clock: timers, timers },
    );
    for (let i = 1; i <= 5; i++) svc.dispatch(alarm('warning', `warning ${i}`));
    await rx.received(2);
    await waitFor(() => svc.status().channels[0]!.counters.sent === 2, 5000, 'two sent');
    const c = svc.status().channels[0]!.counters;
    expect(c).toMatchObject({ sent: 2, dropped: 3, rate_limited: 3, queued: 0 });
    expect(
      entries(svc)
        .filter((e) => e.status === 'dropped')
        .map((e) => e.error),
    ).toEqual([
      'rate limit: more than 2 messages in 60 s',
      'rate limit: more than 2 messages in 60 s',
      'rate limit: more than 2 messages in 60 s',
    ]);
    // A critical alarm still goes (up to twice the limit).
    svc.dispatch(alarm('fault', 'fault!'));
    await rx.received(3);
    expect(JSON.parse(rx.requests[2]!.body).title).toBe('fault!');
    expect(rx.requests).toHaveLength(3);
    timers.advance(60_001);
    await rx.received(4);
    const summary = JSON.parse(rx.requests[3]!.body);
    expect(summary.event).toBe('rate_summary');
    expect(summary.title).toBe('3 notifications held back (rate limit)');
    expect(summary.message).toContain('warning 3');
    expect(summary.message).toContain('warning 5');
  });
});

describe('quiet hours', () => {
  const quiet = {
    id: 'hook',
    type: 'webhook' as const,
    url: '',
    quiet_hours: { from: '22:00', to: '07:00' },
  };

  it('holds non-critical messages for one digest at the end; critical alarms go at once', async () => {
    // 23:30 in Berlin.
    const timers = new ManualTimers(Date.UTC(2026, 0, 15, 22, 30));
    const { svc } = service([{ ...quiet, url: `${rx.url}/h` }], { clock: timers, timers });
    expect(svc.status().channels[0]!.quiet_hours).toMatchObject({ active: true });
    svc.dispatch(alarm('warning', 'warning at night'));
    svc.dispatch({ ...alarm('warning', 'soc full'), event: 'soc_full', severity: undefined });
    svc.dispatch(alarm('protection', 'protection at night'));
    await rx.received(1);
    expect(JSON.parse(rx.requests[0]!.body).title).toBe('protection at night');
    await waitFor(
      () => entries(svc).some((e) => e.title === 'protection at night' && e.status === 'sent'),
      5000,
      'critical sent',
    );
    expect(
      entries(svc).filter((e) => e.status === 'queued' && e.note?.startsWith('held')),
    ).toHaveLength(2);
    expect(svc.status().channels[0]!.counters.queued).toBe(2);
    // 06:59 Berlin: still quiet.
    timers.advanceTo(Date.UTC(2026, 0, 16, 5, 59));
    expect(rx.requests).toHaveLength(1);
    timers.advanceTo(Date.UTC(2026, 0, 16, 6, 0, 30));
    await rx.received(2);
    const digest = JSON.parse(rx.requests[1]!.body);
    expect(digest.event).toBe('digest');
    expect(digest.title).toBe('2 messages during quiet hours');
    expect(digest.message).toBe('10:00 warning at night\n10:00 soc full');
    await waitFor(
      // the critical alarm, the digest and the two messages folded into it
      () => entries(svc).filter((e) => e.status === 'sent').length === 4,
      5000,
      'held entries sent',
    );
    expect(entries(svc).find((e) => e.title === 'warning at night')!.note).toBe(
      'held for quiet hours; in the digest',
    );
  });

  it('drop mode drops non-critical messages during quiet hours and logs why', async () => {
    const timers = new ManualTimers(Date.UTC(2026, 0, 15, 22, 30));
    const { svc } = service(
      [
        {
          ...quiet,
          url: `${rx.url}/h`,
          quiet_hours: { from: '22:00', to: '07:00', mode: 'drop', critical_severity: 'fault' },
        },
      ],
      { clock: timers, timers },
    );
    svc.dispatch(alarm('protection', 'protection at night'));
    svc.dispatch(alarm('fault', 'fault at night'));
    await rx.received(1);
    expect(JSON.parse(rx.requests[0]!.body).title).toBe('fault at night');
    expect(entries(svc).find((e) => e.title === 'protection at night')).toMatchObject({
      status: 'dropped',
      error: 'quiet hours (22:00-07:00)',
    });
    // Outside quiet hours (10:00 Berlin) everything goes.
    timers.advanceTo(Date.UTC(2026, 0, 16, 9, 0));
    svc.dispatch(alarm('warning', 'day warning'));
    await rx.received(2);
    expect(JSON.parse(rx.requests[1]!.body).title).toBe('day warning');
  });
});

describe('events from the gateway', () => {
  it('a storage alarm of the gateway scope is sent naming the gateway, not a pack', async () => {
    const { bus } = service([
      { id: 'hook', type: 'webhook', url: `${rx.url}/a`, events: ['alarm_raised'] },
    ]);
    const engine = await new AlarmEngine({
      bus,
      store: new FakeAlarmStore(),
      origin: TEST_ORIGIN,
      now: () => T0,
    }).start();
    await engine.setGatewayAlarm('storage_full', true, {
      at: T0,
      message: 'Storage full: free space',
    });
    await rx.received(1);
    const m = JSON.parse(rx.requests[0]!.body);
    expect(m).toMatchObject({
      event: 'alarm_raised',
      title: 'OpenBMS gateway: Storage full: free space',
      severity: 'fault',
      pack: { id: 'gateway', name: 'OpenBMS gateway' },
      data: { code: 'storage_full', origin: 'gateway' },
    });
    expect(m.message).toContain('Source: OpenBMS gateway (storage)');
    engine.stop();
  });

  it('routes alarms, offline/online and SOC 100 % per channel from a real AlarmEngine', async () => {
    const alarmsRx = rx;
    const packRx = await new HttpReceiver().start();
    try {
      const { svc, bus } = service([
        {
          id: 'alarms',
          type: 'webhook',
          url: `${alarmsRx.url}/a`,
          events: ['alarm_raised', 'alarm_cleared'],
          min_severity: 'protection',
        },
        {
          id: 'packs',
          type: 'webhook',
          url: `${packRx.url}/p`,
          events: ['offline', 'online', 'soc_full'],
        },
      ]);
      const engine = await new AlarmEngine({
        bus,
        store: new FakeAlarmStore(),
        origin: TEST_ORIGIN,
        now: () => T0,
      }).start();
      try {
        const id = PACKS[0]!.id;
        let ts = T0;
        const snap = (soc: number, alarms: { code: string; severity: string }[] = []) =>
          bus.emit({
            type: 'snapshot',
            packId: id,
            ts: (ts += 5000),
            snapshot: { soc_pct: soc, alarms: alarms as never },
          });
        snap(90);
        snap(96, [{ code: 'cell_diff', severity: 'warning' }]); // below min_severity
        snap(99, [{ code: 'cell_ov', severity: 'protection' }]);
        snap(100, [{ code: 'cell_ov', severity: 'protection' }]);
        snap(100);
        snap(97);
        snap(100); // not re-armed (never below 95 %)
        snap(94);
        snap(100);
        bus.emit({
          type: 'online',
          packId: id,
          ts: (ts += 5000),
          online: false,
          reason: 'timeout',
        });
        bus.emit({ type: 'online', packId: id, ts: (ts += 65_000), online: true });

        await alarmsRx.received(4);
        const a = alarmsRx.requests.map((r) => JSON.parse(r.body));
        expect(a.map((m) => [m.event, m.data.code])).toEqual([
          ['alarm_raised', 'cell_ov'],
          ['alarm_cleared', 'cell_ov'],
          // comm_lost (a fault): this channel does not take offline, so it gets the alarm.
          ['alarm_raised', 'comm_lost'],
          ['alarm_cleared', 'comm_lost'],
        ]);
        expect(a[0].title).toBe('Rack 1: Cell over-voltage');
        expect(a[0].severity).toBe('protection');

        await packRx.received(4);
        const p = packRx.requests.map((r) => JSON.parse(r.body));
        expect(p.map((m) => m.event)).toEqual(['soc_full', 'soc_full', 'offline', 'online']);
        expect(p[0].title).toBe('Rack 1: fully charged (100 %)');
        expect(p[2].title).toBe('Rack 1 is offline');
        expect(p[2].message).toContain('Last error: timeout');
        expect(p[3].message).toContain('after 1 min');
        // The comm_lost alarm and its clearing did not go to the channel that has offline/online.
        await waitFor(() => svc.status().channels.every((c) => c.counters.queued === 0));
        expect(packRx.requests).toHaveLength(4);
        expect(alarmsRx.requests).toHaveLength(4);
      } finally {
        engine.stop();
      }
    } finally {
      await packRx.close();
    }
  });
});
