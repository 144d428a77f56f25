/**
 * The `notifications:` and `location:` config sections through the gateway's one config
 * schema (clear messages naming the key), and the wiring into the Gateway.
 */
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../../config.js';
import { Gateway } from '../../gateway.js';
import { HttpReceiver } from '../../testing/notify.js';

const cfg = (extra: Record<string, unknown>) => ({ version: 1, ...extra });

const errorOf = (raw: unknown): string => {
  try {
    validateConfig(raw);
  } catch (e) {
    return (e as Error).message;
  }
  return 'valid';
};

describe('config', () => {
  it('accepts every channel type and fills the defaults', () => {
    const c = validateConfig(
      cfg({
        location: { latitude: 45.6758, longitude: 6.166, timezone: 'Europe/Rome' },
        notifications: [
          {
            id: 'phone',
            type: 'ntfy',
            topic: 'my-bms',
            quiet_hours: { from: '22:00', to: '07:00' },
          },
          { id: 'po', type: 'pushover', token: 'a'.repeat(30), user: 'u'.repeat(30) },
          {
            id: 'mail',
            type: 'email',
            host: 'smtp.example.com',
            username: 'me',
            password: 'secret',
            from: 'OpenBMS <bms@example.com>',
            to: ['me@example.com'],
            events: ['alarm_raised', 'daily_report'],
            min_severity: 'protection',
          },
          {
            id: 'hook',
            type: 'webhook',
            url: 'https://example.com/hook',
            headers: { Authorization: 'Bearer x' },
            rate_limit: { max: 5, per_s: 60 },
          },
        ],
      }),
    );
    const [ntfy, po, mail, hook] = c.notifications!;
    expect(ntfy).toMatchObject({
      url: 'https://ntfy.sh',
      priority: 3,
      enabled: true,
      min_severity: 'warning',
      rate_limit: { max: 10, per_s: 3600 },
      retry: { attempts: 5, backoff_s: 5, max_backoff_s: 300 },
      timeout_s: 10,
      quiet_hours: { from: '22:00', to: '07:00', mode: 'hold', critical_severity: 'protection' },
    });
    expect(po).toMatchObject({ url: 'https://api.pushover.net/1/messages.json' });
    expect(mail).toMatchObject({ secure: false, starttls: true, insecure: false });
    expect(hook).toMatchObject({ method: 'POST', rate_limit: { max: 5, per_s: 60 } });
    expect(c.location).toEqual({ latitude: 45.6758, longitude: 6.166, timezone: 'Europe/Rome' });
  });

  it('names the bad key and what is accepted', () => {
    expect(
      errorOf(cfg({ location: { latitude: 52, longitude: 13, timezone: 'Europe/Berln' } })),
    ).toContain(
      'location.timezone: unknown time zone "Europe/Berln"; use an IANA name such as "Europe/Berlin"',
    );
    expect(errorOf(cfg({ location: { latitude: 95, longitude: 13, timezone: 'UTC' } }))).toContain(
      'location.latitude: latitude must be -90..90',
    );
    expect(
      errorOf(cfg({ notifications: [{ id: 'a', type: 'ntfy', topic: 't', events: ['soc_ful'] }] })),
    ).toContain(
      'notifications[0].events[0]: invalid value; accepted: alarm_raised, alarm_cleared, offline, online, soc_full, daily_report',
    );
    expect(errorOf(cfg({ notifications: [{ id: 'a', type: 'sms', topic: 't' }] }))).toContain(
      'notifications[0].type: type must be one of ntfy, pushover, telegram, email, webhook',
    );
    expect(
      errorOf(cfg({ notifications: [{ id: 'a', type: 'ntfy', topic: 't', colour: 'red' }] })),
    ).toContain('notifications[0]: unknown key "colour"');
    expect(
      errorOf(
        cfg({
          notifications: [
            { id: 'a', type: 'ntfy', topic: 't' },
            { id: 'a', type: 'webhook', url: 'http://x.example' },
          ],
        }),
      ),
    ).toContain('notifications[1].id: channel id "a" is used twice');
    expect(
      errorOf(
        cfg({
          notifications: [
            { id: 'a', type: 'ntfy', topic: 't', quiet_hours: { from: '22:00', to: '7:00' } },
          ],
        }),
      ),
    ).toContain('notifications[0].quiet_hours.to: must be a time "HH:MM"');
    expect(
      errorOf(
        cfg({
          notifications: [
            { id: 'm', type: 'email', host: 'h', username: 'me', from: 'a@b.c', to: ['x@y.z'] },
          ],
        }),
      ),
    ).toContain('notifications[0].password: username and password go together');
    expect(
      errorOf(cfg({ notifications: [{ id: 'w', type: 'webhook', url: 'ftp://x.example' }] })),
    ).toContain('notifications[0].url: url must be an http:// or https:// URL');
  });
});

describe('gateway wiring', () => {
  let rx: HttpReceiver | undefined;
  afterEach(async () => {
    await rx?.close();
    rx = undefined;
  });

  it('starts the channels with the gateway, takes its events, and stops with it', async () => {
    rx = await new HttpReceiver().start();
    const storage = await openSqliteStorage({});
    const gw = new Gateway({
      config: validateConfig(
        cfg({ notifications: [{ id: 'hook', type: 'webhook', url: `${rx.url}/h` }] }),
      ),
      storage,
    });
    try {
      await gw.start();
      expect(gw.notifications?.status().channels.map((c) => c.id)).toEqual(['hook']);
      gw.events.emit({ type: 'online', packId: 'x/y/1', ts: Date.now(), online: false });
      await rx.received(1);
      expect(JSON.parse(rx.requests[0]!.body)).toMatchObject({
        event: 'offline',
        title: 'x/y/1 is offline',
      });
    } finally {
      await gw.stop();
      storage.close();
    }
    expect(gw.notifications).toBeUndefined();
  });

  it('refuses daily_report without a location, naming the channel', async () => {
    const storage = await openSqliteStorage({});
    const gw = new Gateway({
      config: validateConfig(
        cfg({
          notifications: [
            { id: 'hook', type: 'webhook', url: 'http://127.0.0.1:9/h', events: ['daily_report'] },
          ],
        }),
      ),
      storage,
    });
    try {
      await expect(gw.start()).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('notifications[0].events: daily_report needs'),
      });
    } finally {
      await gw.stop();
      storage.close();
    }
  });
});
