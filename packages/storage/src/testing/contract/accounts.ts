/**
 * Contract suite of the account store (storage accounts.ts, docs/fleet.md "Sign-up and
 * password reset", "My account"): codes of every purpose (replace, the per-address gap,
 * tries, expiry, used once), profiles (e-mail unique across the store, time zone, phone,
 * language) and input errors naming the field. Every adapter runs it with fresh stores.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CODE_PURPOSES,
  localScope,
  type AccountStore,
  type Origin,
  type UserStore,
} from '../../index.js';
import { expectCode } from './records.js';

type Stores = { accounts?: AccountStore; users: UserStore; identity?: Origin; close(): unknown };
type Opener = () => Stores | Promise<Stores>;

const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const MIN = 60_000;

export function accountContract(name: string, open: Opener, origin: Origin): void {
  describe(`${name}: AccountStore contract`, () => {
    let s: Stores;
    let a: AccountStore;
    beforeEach(async () => {
      s = await open();
      if (!s.accounts) throw new Error('this store has no accounts');
      a = s.accounts;
    });
    afterEach(async () => {
      await s.close();
    });
    const code = (purpose: (typeof CODE_PURPOSES)[number], email: string, hash: string, at = T0) =>
      a.putCode({ purpose, email, hash, createdAt: at, expiresAt: at + 10 * MIN }, MIN);

    it('keeps one code per purpose and address, each purpose apart (signup, reset, email)', async () => {
      for (const p of CODE_PURPOSES) expect(await code(p, 'ann@example.com', `h-${p}`)).toBe(true);
      // Within the gap: refused, the pending one stays.
      expect(await code('email', 'ann@example.com', 'h-new', T0 + MIN - 1)).toBe(false);
      expect(await a.useCode('email', 'ann@example.com', 'h-new', T0 + 1, 5)).toBe('wrong');
      expect(await a.useCode('email', 'ann@example.com', 'h-email', T0 + 2, 5)).toBe('ok');
      expect(await a.useCode('email', 'ann@example.com', 'h-email', T0 + 3, 5)).toBe('none');
      expect(await a.useCode('signup', 'ann@example.com', 'h-signup', T0 + 3, 5)).toBe('ok');
      // After the gap a new code replaces the old one (and its tries).
      expect(await code('reset', 'ann@example.com', 'h2', T0 + MIN)).toBe(true);
      expect(await a.useCode('reset', 'ann@example.com', 'h-reset', T0 + MIN, 5)).toBe('wrong');
      expect(await a.useCode('reset', 'ann@example.com', 'h2', T0 + MIN, 5)).toBe('ok');
    });

    it('counts tries, and an expired code is gone', async () => {
      await code('email', 'bea@example.com', 'right');
      for (let i = 0; i < 3; i++)
        expect(await a.useCode('email', 'bea@example.com', 'x', T0 + 1, 3)).toBe('wrong');
      expect(await a.useCode('email', 'bea@example.com', 'right', T0 + 1, 3)).toBe('exhausted');
      await code('signup', 'bea@example.com', 'right');
      expect(await a.useCode('signup', 'bea@example.com', 'right', T0 + 10 * MIN, 3)).toBe(
        'expired',
      );
      expect(await a.useCode('signup', 'bea@example.com', 'right', T0 + 1, 3)).toBe('none');
    });

    it('stores a profile with its language; e-mail addresses are unique, lower-cased', async () => {
      const ann = await s.users.create(
        origin,
        { username: 'ann', role: 'viewer', createdAt: T0 },
        'h',
      );
      const bob = await s.users.create(
        origin,
        { username: 'bob', role: 'viewer', createdAt: T0 },
        'h',
      );
      expect(await a.profileOf(ann.id)).toEqual({
        email: null,
        timezone: null,
        phone: null,
        language: null,
        notify: null,
      });
      await a.setProfile(ann.id, { email: 'Ann@Example.com', timezone: 'Asia/Shanghai' });
      await a.setProfile(ann.id, { language: 'zh', phone: '+86 1' });
      expect(await a.profileOf(ann.id)).toEqual({
        email: 'ann@example.com',
        timezone: 'Asia/Shanghai',
        phone: '+86 1',
        language: 'zh',
        notify: null,
      });
      expect((await a.userByEmail('ANN@example.com'))?.username).toBe('ann');
      await expectCode(
        () => a.setProfile(bob.id, { email: 'ann@example.com' }),
        'REQUEST_INVALID',
        'email',
      );
      await a.setProfile(ann.id, { language: null, phone: null });
      expect(await a.profileOf(ann.id)).toMatchObject({
        language: null,
        phone: null,
        email: 'ann@example.com',
      });
      expect(await a.profileOf('01JD0000000000000000000NOPE')).toBeUndefined();
      await s.users.delete(localScope(origin), 'ann');
      expect(await a.userByEmail('ann@example.com')).toBeUndefined();
    });

    it('keeps notification settings; the recipients are the opted-in users with an address', async () => {
      const mk = (username: string) =>
        s.users.create(origin, { username, role: 'viewer', createdAt: T0 }, 'h');
      const ann = await mk('ann');
      const bob = await mk('bob');
      const cy = await mk('cy');
      expect(await a.notifyRecipients()).toEqual([]);
      const on = { alarmsEmail: true, minSeverity: 'protection', alarmCleared: false } as const;
      await a.setProfile(ann.id, { email: 'ann@example.com', notify: on });
      // Opted in without an address, and opted out with one: neither is a recipient.
      await a.setProfile(bob.id, { notify: { ...on, minSeverity: 'fault' } });
      await a.setProfile(cy.id, { email: 'cy@example.com', notify: { ...on, alarmsEmail: false } });
      expect((await a.profileOf(ann.id))?.notify).toEqual(on);
      expect((await a.profileOf(bob.id))?.notify).toEqual({ ...on, minSeverity: 'fault' });
      const r = await a.notifyRecipients();
      expect(r.map((x) => [x.user.username, x.user.id, x.email, x.notify])).toEqual([
        ['ann', ann.id, 'ann@example.com', on],
      ]);
      // Another change keeps the settings; null clears them.
      await a.setProfile(ann.id, { phone: '+1' });
      expect((await a.profileOf(ann.id))?.notify).toEqual(on);
      await a.setProfile(ann.id, { notify: null });
      expect((await a.profileOf(ann.id))?.notify).toBeNull();
      expect(await a.notifyRecipients()).toEqual([]);
      await expectCode(
        () => a.setProfile(ann.id, { notify: { ...on, minSeverity: 'loud' } as never }),
        'REQUEST_INVALID',
        'notify.minSeverity',
      );
      await expectCode(
        () => a.setProfile(ann.id, { notify: { ...on, extra: 1 } as never }),
        'REQUEST_INVALID',
        'notify.extra',
      );
      await expectCode(
        () => a.setProfile(ann.id, { notify: { ...on, alarmsEmail: 'yes' } as never }),
        'REQUEST_INVALID',
        'notify.alarmsEmail',
      );
    });

    it('refuses bad input, naming the field', async () => {
      const u = await s.users.create(
        origin,
        { username: 'cy', role: 'viewer', createdAt: T0 },
        'h',
      );
      await expectCode(
        () => a.setProfile(u.id, { language: 'fr' as never }),
        'REQUEST_INVALID',
        'language',
      );
      await expectCode(
        () => a.setProfile(u.id, { email: 'no address' }),
        'REQUEST_INVALID',
        'email',
      );
      await expectCode(
        () => code('login' as never, 'cy@example.com', 'h'),
        'REQUEST_INVALID',
        'purpose',
      );
      await expectCode(
        () => a.useCode('login' as never, 'cy@example.com', 'h', T0, 5),
        'REQUEST_INVALID',
        'purpose',
      );
      expect(await a.profileOf(u.id)).toMatchObject({ language: null, email: null });
    });
  });
}
