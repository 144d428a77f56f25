/**
 * Alarm e-mails to users (My account's notification settings; alarm-mail.ts): the settings
 * through GET/PATCH /auth/account (strict, fields named, audited), and mails through a real
 * SMTP server for alarms of two dealers' gateways: a dealer's member gets their subtree's
 * alarms only, at their least severity, cleared ones when asked, once per alarm, at most the
 * hourly limit. Real SQLite, the real server over HTTP, smtp-server.
 *
 * Synchronisation: the mailer handles events one at a time, in order, and mails recipients
 * oldest account first, so a mail received proves every earlier one was handled; the last
 * user created (ann) is mailed last for any event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { END_USER_GROUP, POINTS, newId, type Org, type User } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import type { AlarmEvent } from '@openbms/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountMailer, type AccountMailer } from './mailer.js';
import { hashPassword } from './passwords.js';
import { FakeGateway, fakePack } from './testing/fake-gateway.js';
import { startHarness, TEST_COST, type Harness } from './testing/harness.js';
import { smtpServer } from './testing/smtp.js';

const PA = 'alpha/rack/1';
const PB = 'bravo/rack/1';
const T0 = Date.UTC(2030, 0, 1);

describe('alarm e-mails to users (sqlite)', { timeout: 10_000 }, () => {
  let dir: string;
  let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
  let h: Harness;
  let bare: Harness;
  let smtp: Awaited<ReturnType<typeof smtpServer>>;
  let mailer: AccountMailer;
  let gwA: FakeGateway;
  let custA: Org;
  let gwB: FakeGateway;
  const users: Record<string, User> = {};
  const tok: Record<string, string> = {};

  const patch = (who: string, body: unknown, on = h) =>
    on.call('PATCH', '/api/v1/auth/account', { token: tok[who], body });
  const optIn = (min: string, cleared = false) => ({
    notify: { alarms_email: true, min_severity: min, alarm_cleared: cleared },
  });
  let n = 0;
  const raise = async (gw: FakeGateway, packId: string, code: string, severity: string) => {
    const ev = await gw.raise({
      packId,
      code,
      severity: severity as AlarmEvent['severity'],
      origin: 'bms',
      raisedAt: T0 + ++n,
      message: `${code} on ${packId}`,
    });
    gw.emit({ type: 'alarm', state: 'raised', event: ev });
    return ev;
  };
  const mailTo = async (name: string) => (await smtp.next(`${name}@example.com`)).raw;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openbms-alarm-mail-'));
    storage = await openSqliteStorage({ dataDir: dir });
    smtp = await smtpServer();
    mailer = accountMailer({
      host: '127.0.0.1',
      port: smtp.port,
      secure: false,
      starttls: false,
      from: 'OpenBMS <bms@example.com>',
      insecure: false,
      timeout_s: 10,
    });
    const o = storage.orgs;
    const platform = await o.createRoot({ kind: 'platform', name: 'Platform', createdAt: T0 });
    const under = (p: Org, kind: Org['kind'], name: string) =>
      o.create([p.id], { parentId: p.id, kind, name, createdAt: T0 });
    const maker = await under(platform, 'battery_maker', 'Maker');
    const dA = await under(maker, 'dealer', 'Dealer A');
    const dB = await under(maker, 'dealer', 'Dealer B');
    const cA = await under(dA, 'customer', 'Customer A');
    const cB = await under(dB, 'customer', 'Customer B');
    custA = cA;
    gwA = new FakeGateway([fakePack(PA)], storage.alarms, () => T0, {
      orgId: cA.id,
      gatewayId: newId(),
    });
    gwB = new FakeGateway([fakePack(PB)], storage.alarms, () => T0, {
      orgId: cB.id,
      gatewayId: newId(),
    });
    h = await startHarness({
      storage,
      identity: TEST_ORIGIN,
      gateways: [gwA.link, gwB.link],
      captcha: { mode: 'off' },
      signup: { signup: false, send: mailer.send },
      alarmMailsPerHour: 4,
    });
    // The same store without accounts.email: the setting is refused there.
    bare = await startHarness({ storage, identity: TEST_ORIGIN, captcha: { mode: 'off' } });
    // Created in this order (user ids ascend): ann is mailed last for any event.
    for (const [name, org] of [
      ['dan', dA],
      ['cat', dA],
      ['bob', dB],
      ['eli', dA],
      ['ann', dA],
    ] as const) {
      const origin = { orgId: org.id, gatewayId: TEST_ORIGIN.gatewayId };
      const hash = await hashPassword(`${name}-password`, TEST_COST);
      users[name] = await storage.users.create(
        origin,
        { username: name, role: 'viewer', createdAt: T0 + n++ },
        hash,
      );
      if (name !== 'eli')
        await storage.accounts.setProfile(users[name]!.id, { email: `${name}@example.com` });
      const r = await h.call('POST', '/api/v1/auth/login', {
        body: { username: `${name}@${org.code}`, password: `${name}-password` },
      });
      expect(r.status, r.text).toBe(200);
      tok[name] = r.body.token;
    }
  });

  afterAll(async () => {
    await h?.close();
    await bare?.close();
    mailer?.close();
    await smtp?.close();
    await storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads and changes the settings through My account (strict bodies, fields named, audited)', async () => {
    const r = await h.call('GET', '/api/v1/auth/account', { token: tok['ann'] });
    expect(r.status).toBe(200);
    expect(r.body.notify).toEqual({
      alarms_email: false,
      min_severity: 'protection',
      alarm_cleared: false,
    });
    for (const [body, field] of [
      [
        { notify: { alarms_email: true, min_severity: 'loud', alarm_cleared: false } },
        'min_severity',
      ],
      [
        { notify: { alarms_email: 'yes', min_severity: 'fault', alarm_cleared: false } },
        'alarms_email',
      ],
      [{ notify: { alarms_email: true, min_severity: 'fault' } }, 'alarm_cleared'],
      [{ notify: { ...optIn('fault').notify, sms: true } }, 'sms'],
      [{ notify: 'on' }, 'notify'],
    ] as const) {
      const bad = await patch('ann', body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.code).toBe('REQUEST_INVALID');
      expect(JSON.stringify(bad.body), JSON.stringify(body)).toContain(field);
    }
    // No address: refused, the field named.
    const noMail = await patch('eli', optIn('warning'));
    expect(noMail.status).toBe(400);
    expect(noMail.body.field).toBe('notify.alarms_email');
    // A server without accounts.email refuses alarm e-mails, the field named; off is fine.
    const off = await patch('ann', optIn('warning'), bare);
    expect(off.status).toBe(400);
    expect(off.body.field).toBe('notify.alarms_email');
    expect(off.text).toMatch(/accounts\.email/);
    expect(
      (
        await patch(
          'ann',
          { notify: { alarms_email: false, min_severity: 'fault', alarm_cleared: false } },
          bare,
        )
      ).status,
    ).toBe(200);

    const ok = await patch('ann', optIn('warning'));
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.notify).toEqual({
      alarms_email: true,
      min_severity: 'warning',
      alarm_cleared: false,
    });
    expect(
      (await h.call('GET', '/api/v1/auth/account', { token: tok['ann'] })).body.notify,
    ).toEqual(ok.body.notify);
    const audit = await storage.audit.list({ orgIds: [users['ann']!.orgId] });
    expect(
      audit.find((e) => e.action === 'user.profile' && e.userId === users['ann']!.id),
    ).toMatchObject({
      new: { notify: { alarmsEmail: true, minSeverity: 'warning', alarmCleared: false } },
    });
    expect((await patch('bob', optIn('warning', true))).status).toBe(200);
    expect((await patch('cat', optIn('fault'))).status).toBe(200);
    // dan keeps alarm e-mails off.
    expect(
      (
        await patch('dan', {
          notify: { alarms_email: false, min_severity: 'warning', alarm_cleared: true },
        })
      ).status,
    ).toBe(200);
  });

  it("mails each dealer's member their own subtree's alarms at their severity, once, cleared when asked", async () => {
    // A's protection alarm: ann (A, warning+) gets it; cat (fault+) and bob (B) do not.
    const a1 = await raise(gwA, PA, 'cell_ov', 'protection');
    const first = await mailTo('ann');
    expect(first).toContain(`Where: pack ${PA}`);
    expect(first).toContain('Code: cell_ov');
    // The same event again (a replay): not mailed twice.
    gwA.emit({ type: 'alarm', state: 'raised', event: a1 });
    // B's alarm: bob gets it, and it is his first mail (A's never reached him).
    const b1 = await raise(gwB, PB, 'cell_uv', 'warning');
    const bobs = await mailTo('bob');
    expect(bobs).toContain(`Where: pack ${PB}`);
    expect(bobs).toContain('Code: cell_uv');
    // A fault on A: cat gets it as her first; ann too, as her second (the replay sent nothing).
    await raise(gwA, PA, 'short_circuit', 'fault');
    expect(await mailTo('cat')).toContain('Code: short_circuit');
    expect(await mailTo('ann')).toContain('Code: short_circuit');
    // Cleared: bob asked for it; ann did not.
    await gwB.clear(b1, T0 + 100);
    gwB.emit({ type: 'alarm', state: 'cleared', event: { ...b1, clearedAt: T0 + 100 } });
    await gwA.clear(a1, T0 + 101);
    gwA.emit({ type: 'alarm', state: 'cleared', event: { ...a1, clearedAt: T0 + 101 } });
    expect(await mailTo('bob')).toMatch(/Alarm cleared: cell_uv/);
    // A warning on A: ann's third mail is it (not the clear), cat (fault+) gets none.
    await raise(gwA, PA, 'soc_low', 'warning');
    expect(await mailTo('ann')).toContain('Code: soc_low');
    // Everything before ann's last mail is handled: nothing else went out.
    for (const who of ['bob', 'cat', 'dan', 'eli'])
      expect(smtp.pending(`${who}@example.com`)).toBe(0);
  });

  it('mails a user at most the hourly limit; the rest is dropped until the hour has passed', async () => {
    // ann had 3 mails this hour; the limit is 4.
    await raise(gwA, PA, 'pack_ov', 'protection');
    expect(await mailTo('ann')).toContain('Code: pack_ov');
    await raise(gwA, PA, 'pack_uv', 'protection'); // dropped (a log line)
    // B's next alarm reaches bob once A's was handled (events are handled in order).
    await raise(gwB, PB, 'dsg_oc', 'protection');
    expect(await mailTo('bob')).toContain('Code: dsg_oc');
    h.clock.advance(3_600_000);
    await raise(gwA, PA, 'chg_oc', 'protection');
    expect(await mailTo('ann')).toContain('Code: chg_oc');
    expect(smtp.pending('ann@example.com')).toBe(0);
  });

  it("leaves the reading out for a user whose point groups hide the alarm's point", async () => {
    // eve: an end user of A's customer, whose End User Group hides cell_mv.
    const hash = await hashPassword('eve-password', TEST_COST);
    const eve = await storage.users.create(
      { orgId: custA.id, gatewayId: TEST_ORIGIN.gatewayId },
      { username: 'eve', role: 'viewer', createdAt: T0 + 1_000 },
      hash,
    );
    await storage.orgs.setRole([custA.id], custA.id, eve.id, 'end_user');
    await storage.points.replace(
      custA.id,
      [
        {
          name: END_USER_GROUP,
          kind: 'end_user',
          roles: ['end_user'],
          points: { '*': POINTS.filter((p) => p !== 'cell_mv') },
        },
      ],
      T0,
    );
    await storage.accounts.setProfile(eve.id, {
      email: 'eve@example.com',
      notify: { alarmsEmail: true, minSeverity: 'warning', alarmCleared: false },
    });
    const ev = await gwA.raise({
      packId: PA,
      code: 'cell_ov',
      severity: 'protection',
      origin: 'bms',
      raisedAt: T0 + ++n,
      value: 3712,
      message: 'cell 3 at 3712 mV',
    });
    gwA.emit({ type: 'alarm', state: 'raised', event: ev });
    // ann sees every point: the reading; eve (mailed after her) does not.
    const anns = await mailTo('ann');
    expect(anns).toContain('Value: 3712');
    expect(anns).toContain('cell 3 at 3712 mV');
    const eves = await mailTo('eve');
    expect(eves).toContain('Code: cell_ov');
    expect(eves).not.toContain('3712');
  });
});
