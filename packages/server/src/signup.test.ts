/**
 * Sign-up and password reset by e-mailed code on the real server over a real SQLite store and
 * a real PostgreSQL database (`fleet4_…`, dropped afterwards), the codes mailed through a real
 * SMTP server (smtp-server) by the production mailer (nodemailer). The clock is the harness's
 * manual one: expiry and the per-address gap are reached by moving it, never by waiting.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Org } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { PostgresStorage } from '@openbms/storage-postgres';
import { createTestDatabase } from '@openbms/storage-postgres/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountMailer, type AccountMailer } from './mailer.js';
import { startHarness, type Harness } from './testing/harness.js';
import { codeIn, smtpServer } from './testing/smtp.js';

type Store = Awaited<ReturnType<typeof openSqliteStorage>> | PostgresStorage;

interface Opened {
  storage: Store;
  done(): Promise<void>;
  /** Another node's store on the same database (PostgreSQL only: the fleet's API nodes). */
  another?: () => Promise<Store>;
}

const ADAPTERS: [string, () => Promise<Opened>][] = [
  [
    'sqlite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'openbms-signup-'));
      const storage = await openSqliteStorage({ dataDir: dir, identity: TEST_ORIGIN });
      return { storage, done: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'postgres',
    async () => {
      const db = await createTestDatabase('fleet4_');
      const storage = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
      return {
        storage,
        done: () => db.drop(),
        another: () => PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN }),
      };
    },
  ],
];

for (const [adapter, openStore] of ADAPTERS) {
  describe(`sign-up and reset by e-mailed code (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let another: Opened['another'];
    let h: Harness;
    let smtp: Awaited<ReturnType<typeof smtpServer>>;
    let mailer: AccountMailer;
    let org: Org;
    const T0 = Date.UTC(2030, 0, 1);

    const signupBody = (email: string, code: string, name: string, over: object = {}) => ({
      email,
      code,
      name,
      password: 'long enough pw',
      timezone: 'Europe/Berlin',
      phone: '+49 30 1234567',
      org_code: org.code,
      agree: true,
      ...over,
    });
    const askCode = (email: string, what = 'signup') =>
      h.call('POST', `/api/v1/auth/${what}/code`, { body: { email } });

    beforeAll(async () => {
      ({ storage, done, another } = await openStore());
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
        signup: {
          signup: true,
          send: mailer.send,
          terms: { service: 'Be nice.', privacy: 'We keep your e-mail.' },
        },
      });
    });

    afterAll(async () => {
      await h?.close();
      mailer?.close();
      await smtp?.close();
      await storage?.close();
      await done?.();
    });

    it('mails a code that signs up an end user, who then logs in as name@ORGCODE', async () => {
      const info = await h.call('GET', '/api/v1/auth/signup');
      expect(info.body).toEqual({
        signup: true,
        reset: true,
        service: 'Be nice.',
        privacy: 'We keep your e-mail.',
      });
      const sent = await askCode('Ann@Example.com');
      expect(sent.status).toBe(200);
      expect(sent.body).toEqual({ ok: true, expires_in_s: 600 });
      const code = codeIn(await smtp.next('ann@example.com'));
      const r = await h.call('POST', '/api/v1/auth/signup', {
        body: signupBody('ann@example.com', code, 'ann'),
      });
      expect(r.status, r.text).toBe(200);
      expect(r.body).toEqual({ username: 'ann', login: `ann@${org.code}`, org_code: org.code });
      const members = await storage.orgs.members([org.id], org.id);
      expect(members.map((m) => [m.username, m.role])).toEqual([['ann', 'end_user']]);
      const login = await h.call('POST', '/api/v1/auth/login', {
        body: { username: `ann@${org.code.toLowerCase()}`, password: 'long enough pw' },
      });
      expect(login.status, login.text).toBe(200);
      expect(login.body.user).toEqual({ username: 'ann', role: 'viewer' });
      const audit = await storage.audit.list({ orgIds: [org.id] });
      expect(audit.some((e) => e.action === 'user.signup' && e.user === 'ann')).toBe(true);
      // The code worked once.
      const again = await h.call('POST', '/api/v1/auth/signup', {
        body: signupBody('ann@example.com', code, 'ann2'),
      });
      expect(again.status).toBe(400);
    });

    it('answers alike for an address that has an account (the mail says so, with no code)', async () => {
      h.clock.advance(61_000);
      const r = await askCode('ann@example.com');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ ok: true, expires_in_s: 600 });
      const mail = await smtp.next('ann@example.com');
      expect(mail.raw).toMatch(/has an account already/);
      expect(mail.raw).not.toMatch(/code is \d{6}/);
    });

    it('refuses a wrong code, and after 5 wrong tries the right one too', async () => {
      await askCode('bob@example.com');
      const code = codeIn(await smtp.next('bob@example.com'));
      const wrong = code === '000000' ? '000001' : '000000';
      for (let i = 0; i < 5; i++) {
        const r = await h.call('POST', '/api/v1/auth/signup', {
          body: signupBody('bob@example.com', wrong, 'bob'),
        });
        expect(r.status).toBe(400);
        expect(r.body).toMatchObject({
          code: 'CODE_INVALID',
          field: 'code',
          error: expect.stringMatching(/wrong/),
        });
      }
      const sixth = await h.call('POST', '/api/v1/auth/signup', {
        body: signupBody('bob@example.com', code, 'bob'),
      });
      expect(sixth.status).toBe(400);
      expect(sixth.body.error).toMatch(/tried 5 times/);
      expect(await storage.users.get({ orgIds: [org.id] }, 'bob')).toBeUndefined();
    });

    it('refuses an expired code (after 10 minutes), and a second code within a minute', async () => {
      await askCode('carol@example.com');
      const code = codeIn(await smtp.next('carol@example.com'));
      const soon = await askCode('carol@example.com');
      expect(soon.status).toBe(429);
      expect(soon.body.code).toBe('RATE_LIMITED');
      h.clock.advance(10 * 60 * 1000);
      const r = await h.call('POST', '/api/v1/auth/signup', {
        body: signupBody('carol@example.com', code, 'carol'),
      });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 'CODE_INVALID', field: 'code' });
      expect(r.body.error).toMatch(/expired/);
    });

    it('checks every field strictly and names it, without using the code up', async () => {
      h.clock.advance(61_000);
      await askCode('dave@example.com');
      const code = codeIn(await smtp.next('dave@example.com'));
      const cases: [object, string][] = [
        [{ agree: false }, 'agree'],
        [{ timezone: 'Mars/Olympus' }, 'timezone'],
        [{ timezone: 1 }, 'timezone'],
        [{ org_code: 'ZZZZZZ' }, 'org_code'],
        [{ name: 'ann' }, 'name'],
        [{ password: 'short' }, 'password'],
        [{ phone: 'call me' }, 'phone'],
        [{ extra: 1 }, 'extra'],
      ];
      for (const [over, field] of cases) {
        const r = await h.call('POST', '/api/v1/auth/signup', {
          body: signupBody('dave@example.com', code, 'dave', over),
        });
        expect(r.status, JSON.stringify(over)).toBe(400);
        expect(r.body.code).toBe('REQUEST_INVALID');
        expect(JSON.stringify(r.body), JSON.stringify(over)).toContain(field);
      }
      const ok = await h.call('POST', '/api/v1/auth/signup', {
        body: signupBody('dave@example.com', code, 'dave', { phone: undefined }),
      });
      expect(ok.status, ok.text).toBe(200);
    });

    it('resets a password by e-mailed code and ends every session of the account', async () => {
      const login = (password: string) =>
        h.call('POST', '/api/v1/auth/login', {
          body: { username: `ann@${org.code}`, password },
        });
      const s1 = (await login('long enough pw')).body.token as string;
      const s2 = (await login('long enough pw')).body.token as string;
      expect((await h.call('GET', '/api/v1/auth/me', { token: s1 })).status).toBe(200);
      const sent = await askCode('ANN@example.com', 'reset');
      expect(sent.status).toBe(200);
      const code = codeIn(await smtp.next('ann@example.com'));
      const r = await h.call('POST', '/api/v1/auth/reset', {
        body: { email: 'ann@example.com', code, password: 'a new password' },
      });
      expect(r.status, r.text).toBe(200);
      for (const t of [s1, s2])
        expect((await h.call('GET', '/api/v1/auth/me', { token: t })).status).toBe(401);
      expect((await login('long enough pw')).status).toBe(401);
      expect((await login('a new password')).status).toBe(200);
      const reused = await h.call('POST', '/api/v1/auth/reset', {
        body: { email: 'ann@example.com', code, password: 'another password' },
      });
      expect(reused.status).toBe(400);
      expect(reused.body.error).toMatch(/no code is pending/);
      // An address without an account gets the same answer, and a mail without a code.
      const nobody = await askCode('nobody@example.com', 'reset');
      expect(nobody.body).toEqual(sent.body);
      expect((await smtp.next('nobody@example.com')).raw).not.toMatch(/code is \d{6}/);
    });

    it.runIf(adapter === 'postgres')(
      'checks on one API node the code another node sent (codes live in the database)',
      async () => {
        const other = await another!();
        const b = await startHarness({
          storage: other,
          identity: TEST_ORIGIN,
          signup: { signup: true, send: mailer.send },
        });
        try {
          b.clock.set(h.clock.now());
          expect((await askCode('fay@example.com')).status).toBe(200);
          const code = codeIn(await smtp.next('fay@example.com'));
          // The per-address limit is shared too.
          const soon = await b.call('POST', '/api/v1/auth/signup/code', {
            body: { email: 'fay@example.com' },
          });
          expect(soon.status).toBe(429);
          const r = await b.call('POST', '/api/v1/auth/signup', {
            body: signupBody('fay@example.com', code, 'fay'),
          });
          expect(r.status, r.text).toBe(200);
          const login = await h.call('POST', '/api/v1/auth/login', {
            body: { username: `fay@${org.code}`, password: 'long enough pw' },
          });
          expect(login.status).toBe(200);
        } finally {
          await b.close();
          await other.close();
        }
      },
    );

    it('refuses sign-up and reset with SIGNUP_DISABLED when they are off', async () => {
      const off = await startHarness({ storage, identity: TEST_ORIGIN });
      try {
        for (const path of ['/api/v1/auth/signup/code', '/api/v1/auth/reset/code']) {
          const r = await off.call('POST', path, { body: { email: 'eve@example.com' } });
          expect(r.status).toBe(403);
          expect(r.body.code).toBe('SIGNUP_DISABLED');
        }
        const r = await off.call('POST', '/api/v1/auth/signup', {
          body: signupBody('eve@example.com', '123456', 'eve'),
        });
        expect(r.status).toBe(403);
        expect((await off.call('GET', '/api/v1/auth/signup')).body).toEqual({
          signup: false,
          reset: false,
        });
      } finally {
        await off.close();
      }
      const resetOnly = await startHarness({
        storage,
        identity: TEST_ORIGIN,
        signup: { signup: false, send: mailer.send },
      });
      try {
        const r = await resetOnly.call('POST', '/api/v1/auth/signup/code', {
          body: { email: 'eve@example.com' },
        });
        expect(r.status).toBe(403);
        expect(r.body.code).toBe('SIGNUP_DISABLED');
      } finally {
        await resetOnly.close();
      }
    });
  });
}
