/**
 * Login by e-mail address and My account (profile, e-mail change by mailed code, log out
 * everywhere) on the real server over a real SQLite store and a real PostgreSQL database, the
 * codes mailed through a real SMTP server by the production mailer (docs/fleet.md "My account").
 */
import type { Org } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountMailer, type AccountMailer } from './mailer.js';
import { startHarness, type Harness } from './testing/harness.js';
import { codeIn, smtpServer } from './testing/smtp.js';
import { storeAdapters, type Store } from './testing/adapters.js';

const ADAPTERS = storeAdapters('webauth');

const PW = 'long enough pw';

for (const [adapter, openStore] of ADAPTERS) {
  describe(`login by e-mail and my account (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    let smtp: Awaited<ReturnType<typeof smtpServer>>;
    let mailer: AccountMailer;
    let org: Org;
    const T0 = Date.UTC(2030, 0, 1);

    /** Signs up `name` with `email` through the mailed code; returns nothing (log in next). */
    const signUp = async (email: string, name: string): Promise<void> => {
      expect((await h.call('POST', '/api/v1/auth/signup/code', { body: { email } })).status).toBe(
        200,
      );
      const code = codeIn(await smtp.next(email));
      const r = await h.call('POST', '/api/v1/auth/signup', {
        body: {
          email,
          code,
          name,
          password: PW,
          timezone: 'Europe/Berlin',
          org_code: org.code,
          agree: true,
        },
      });
      expect(r.status, r.text).toBe(200);
      h.clock.advance(61_000); // the per-address gap, for the next code
    };
    const login = (username: string, password = PW) =>
      h.call('POST', '/api/v1/auth/login', { body: { username, password } });
    const tokenOf = async (username: string): Promise<string> => {
      const r = await login(username);
      expect(r.status, r.text).toBe(200);
      return r.body.token as string;
    };

    beforeAll(async () => {
      ({ storage, done } = await openStore());
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
      const platform = await storage.orgs.createRoot({
        kind: 'platform',
        name: 'Platform',
        createdAt: T0,
      });
      org = await storage.orgs.create([platform.id], {
        parentId: platform.id,
        kind: 'customer',
        name: 'Customer',
        createdAt: T0,
      });
      h = await startHarness({
        storage,
        identity: TEST_ORIGIN,
        signup: { signup: true, send: mailer.send },
      });
      await signUp('ann@example.com', 'ann');
      await signUp('bea@example.com', 'bea');
    });

    afterAll(async () => {
      await h?.close();
      mailer?.close();
      await smtp?.close();
      await storage?.close();
      await done?.();
    });

    it('logs in by e-mail address in any case; name@CODE keeps its meaning', async () => {
      const byMail = await login('Ann@Example.COM');
      expect(byMail.status, byMail.text).toBe(200);
      expect(byMail.body.user).toEqual({ username: 'ann', role: 'viewer' });
      expect((await login(`bea@${org.code}`)).body.user).toEqual({
        username: 'bea',
        role: 'viewer',
      });
      // A wrong password, an address nobody has: the same refusal.
      const wrong = await login('ann@example.com', 'not the password');
      expect([wrong.status, wrong.body.code]).toEqual([401, 'AUTH_INVALID']);
      const nobody = await login('nobody@example.com');
      expect([nobody.status, nobody.body.code]).toEqual([401, 'AUTH_INVALID']);
      const audit = await storage.audit.list({ orgIds: [org.id] });
      expect(audit.some((e) => e.action === 'login' && e.user === 'ann' && e.result === 'ok')).toBe(
        true,
      );
    });

    it("a box account named exactly like an address wins (today's logins keep their meaning)", async () => {
      const admin = await h.setupAdmin();
      const r = await h.call('POST', '/api/v1/users', {
        token: admin,
        body: { username: 'bea@example.com', password: 'box password', role: 'viewer' },
      });
      expect(r.status, r.text).toBe(201);
      const box = await login('bea@example.com', 'box password');
      expect(box.status, box.text).toBe(200);
      expect(box.body.user.username).toBe('bea@example.com');
      expect((await login('bea@example.com', PW)).status).toBe(401);
      expect((await login(`bea@${org.code}`, PW)).status).toBe(200);
    });

    it('shows and changes my phone, time zone and language, strictly, audited', async () => {
      const ann = await tokenOf('ann@example.com');
      const me = await h.call('GET', '/api/v1/auth/account', { token: ann });
      expect(me.status, me.text).toBe(200);
      expect(me.body).toEqual({
        user_id: expect.any(String),
        username: 'ann',
        login: `ann@${org.code}`,
        org_code: org.code,
        role: 'viewer',
        memberships: [{ org_id: org.id, role: 'end_user' }],
        email: 'ann@example.com',
        phone: null,
        timezone: 'Europe/Berlin',
        language: null,
        notify: { alarms_email: false, min_severity: 'protection', alarm_cleared: false },
      });
      const patch = (body: unknown) =>
        h.call('PATCH', '/api/v1/auth/account', { token: ann, body });
      const ok = await patch({
        phone: '+86 10 1234 5678',
        timezone: 'Asia/Shanghai',
        language: 'zh',
      });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body).toMatchObject({
        phone: '+86 10 1234 5678',
        timezone: 'Asia/Shanghai',
        language: 'zh',
      });
      expect((await patch({ phone: null })).body.phone).toBeNull();
      for (const [body, field] of [
        [{ timezone: 'Mars/Olympus' }, 'timezone'],
        [{ timezone: 'EST' }, 'timezone'],
        [{ language: 'fr' }, 'language'],
        [{ language: 1 }, 'language'],
        [{ phone: 'call me' }, 'phone'],
        [{ email: 'x@example.com' }, 'email'],
      ] as const) {
        const r = await patch(body);
        expect([r.status, r.body.code, r.body.field], JSON.stringify(body)).toEqual([
          400,
          'REQUEST_INVALID',
          field,
        ]);
      }
      expect((await patch({})).status).toBe(400);
      const still = await h.call('GET', '/api/v1/auth/account', { token: ann });
      expect(still.body).toMatchObject({ phone: null, timezone: 'Asia/Shanghai', language: 'zh' });
      const audit = await storage.audit.list({ orgIds: [org.id] });
      expect(audit.find((e) => e.action === 'user.profile' && e.user === 'ann')).toMatchObject({
        result: 'ok',
      });
      expect((await h.call('GET', '/api/v1/auth/account')).status).toBe(401);
    });

    it('changes my e-mail address with a code mailed to it, bound to me', async () => {
      const ann = await tokenOf('ann@example.com');
      const bea = await tokenOf(`bea@${org.code}`);
      const ask = (token: string, email: string) =>
        h.call('POST', '/api/v1/auth/account/email/code', { token, body: { email } });
      const confirm = (token: string, email: string, code: string) =>
        h.call('POST', '/api/v1/auth/account/email', { token, body: { email, code } });

      // An address another account has: answered alike, the mail sends no code.
      expect((await ask(ann, 'bea@example.com')).body).toEqual({ ok: true, expires_in_s: 600 });
      expect((await smtp.next('bea@example.com')).raw).toMatch(
        /Subject: OpenBMS: this address has an account already/,
      );

      expect((await ask(ann, 'ann@new.example')).status).toBe(200);
      const code = codeIn(await smtp.next('ann@new.example'));
      // Bea cannot use the code mailed for Ann, nor a wrong one change anything.
      const stolen = await confirm(bea, 'ann@new.example', code);
      expect([stolen.status, stolen.body.code, stolen.body.field]).toEqual([
        400,
        'CODE_INVALID',
        'code',
      ]);
      const r = await confirm(ann, 'Ann@New.Example', code);
      expect(r.status, r.text).toBe(200);
      expect(r.body.email).toBe('ann@new.example');
      expect((await smtp.next('ann@example.com')).raw).toMatch(
        /Subject: OpenBMS: your e-mail address was changed/,
      );
      expect((await login('ann@new.example')).status).toBe(200);
      expect((await login('ann@example.com')).status).toBe(401);
      // Used once.
      expect((await confirm(ann, 'ann@new.example', code)).body.code).toBe('CODE_INVALID');
      const audit = await storage.audit.list({ orgIds: [org.id] });
      expect(audit.find((e) => e.action === 'user.email')).toMatchObject({
        user: 'ann',
        old: { email: 'ann@example.com' },
        new: { email: 'ann@new.example' },
      });

      // Two accounts asking for one address: the second to confirm is refused, naming email.
      h.clock.advance(61_000);
      expect((await ask(bea, 'shared@example.com')).status).toBe(200);
      const beaCode = codeIn(await smtp.next('shared@example.com'));
      expect((await confirm(bea, 'shared@example.com', beaCode)).status).toBe(200);
      h.clock.advance(61_000);
      expect((await ask(ann, 'shared@example.com')).status).toBe(200);
      expect((await smtp.next('shared@example.com')).raw).toMatch(
        /Subject: OpenBMS: this address has an account already/,
      );
    });

    it('logs out everywhere: every session of mine ends, audited', async () => {
      const one = await tokenOf(`bea@${org.code}`);
      const two = await tokenOf(`bea@${org.code}`);
      const ann = await tokenOf(`ann@${org.code}`);
      const r = await h.call('POST', '/api/v1/auth/logout/all', { token: one });
      expect(r.status, r.text).toBe(200);
      expect(r.body.ended).toBeGreaterThanOrEqual(2);
      expect(r.headers.get('set-cookie')).toMatch(/openbms_session=;/);
      for (const t of [one, two])
        expect((await h.call('GET', '/api/v1/auth/me', { token: t })).status).toBe(401);
      // Another account's session stays.
      expect((await h.call('GET', '/api/v1/auth/me', { token: ann })).status).toBe(200);
      const audit = await storage.audit.list({ orgIds: [org.id] });
      expect(audit.some((e) => e.action === 'logout.all' && e.user === 'bea')).toBe(true);
    });
  });
}
