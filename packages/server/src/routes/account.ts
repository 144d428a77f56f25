/**
 * My account (seed 003 "Mine", issue 14 "Accounts"): one's own profile (e-mail, phone, time
 * zone, language) and logging out everywhere. The caller changes only their own account, so
 * the scope is the caller's own organisation's accounts (as `/auth/password`).
 *
 * A new e-mail address is confirmed by a 6-digit code mailed to it (the account_codes store,
 * purpose `email`, the same limits as sign-up codes). The code is bound to the user who asked
 * for it (the user id is part of what is hashed), so another account asking for a code for the
 * same address cannot use it, and the address is checked once more when the code is used
 * (two accounts racing for one address: the unique index refuses the second, field `email`).
 */
import { BmsError, isTimeZone } from '@openbms/core';
import {
  isSwitchableAlarm,
  type AccountStore,
  type CodePurpose,
  type Profile,
} from '@openbms/storage';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  accountChangeBody,
  accountSchema,
  codeSentSchema,
  emailChangeBody,
  emailCodeBody,
  errorResponses,
  loggedOutSchema,
  type Account,
  type AccountChange,
  type EmailChange,
  type EmailCodeRequest,
} from '@openbms/contract/api';
import { accountOrigin, accountScope, actedBy, caller, SESSION_COOKIE } from '../auth.js';
import type { ServerContext } from '../context.js';
import { ownRole } from '../policy.js';
import { endUserTokens } from '../sessions.js';
import { cookieSecure } from './auth.js';
import type { OutgoingMail } from './signup.js';

/** What the sign-up module shares: its code store, mailer and limits. */
export interface AccountCodes {
  /** Present when accounts.email is set and the store keeps codes. */
  send?: (mail: OutgoingMail) => Promise<void>;
  store?: AccountStore;
  newCode(
    store: AccountStore,
    req: FastifyRequest,
    purpose: CodePurpose,
    email: string,
    who?: string,
  ): Promise<string>;
  check(
    store: AccountStore,
    purpose: CodePurpose,
    email: string,
    code: string,
    who?: string,
  ): Promise<void>;
  later(send: (m: OutgoingMail) => Promise<void>, mail: OutgoingMail): void;
}

const noStore = (): BmsError =>
  new BmsError('NOT_FOUND', 'this server keeps no account profiles (its store has no accounts)');

export function accountRoutes(app: FastifyInstance, ctx: ServerContext, codes: AccountCodes): void {
  const store = (): AccountStore => {
    if (!ctx.accountStore) throw noStore();
    return ctx.accountStore;
  };
  const mailOn = (): { store: AccountStore; send: (m: OutgoingMail) => Promise<void> } => {
    if (!codes.send || !codes.store)
      throw new BmsError(
        'SIGNUP_DISABLED',
        'e-mail is not available on this server (accounts.email is not set): the address cannot be confirmed',
      );
    return { store: codes.store, send: codes.send };
  };

  const view = async (req: FastifyRequest): Promise<Account> => {
    const me = caller(req);
    const p = await store().profileOf(me.userId);
    if (!p) throw new BmsError('AUTH_REQUIRED', 'the account is gone (log in again)');
    const own = me.orgId === ctx.origin.orgId;
    const org = own ? undefined : await ctx.orgs?.get([me.orgId], me.orgId);
    return {
      user_id: me.userId,
      username: me.username,
      login: org ? `${me.username}@${org.code}` : me.username,
      ...(org ? { org_code: org.code } : {}),
      role: ownRole(me),
      memberships: me.fleet.map((m) => ({ org_id: m.orgId, role: m.role })),
      email: p.email,
      phone: p.phone,
      timezone: p.timezone,
      language: p.language,
      notify: p.notify
        ? {
            alarms_email: p.notify.alarmsEmail,
            min_severity: p.notify.minSeverity,
            alarm_cleared: p.notify.alarmCleared,
            ...(p.notify.alarmTypes ? { alarm_types: p.notify.alarmTypes } : {}),
          }
        : { alarms_email: false, min_severity: 'protection', alarm_cleared: false },
    };
  };

  app.get(
    '/auth/account',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'My account: login name, e-mail, phone, time zone, language, notification settings',
        tags: ['auth'],
        response: { 200: accountSchema, ...errorResponses(404) },
      },
    },
    async (req) => view(req),
  );

  app.patch<{ Body: AccountChange }>(
    '/auth/account',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Change my phone, time zone, language or notification settings (the e-mail address needs a code)',
        tags: ['auth'],
        body: accountChangeBody,
        response: { 200: accountSchema, ...errorResponses(404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const b = req.body;
      if (
        typeof b.timezone === 'string' &&
        (!isTimeZone(b.timezone) || (!b.timezone.includes('/') && b.timezone !== 'UTC'))
      )
        throw new BmsError(
          'REQUEST_INVALID',
          'timezone must be an IANA time zone such as Europe/Berlin',
          { field: 'timezone' },
        );
      for (const code of Object.keys(b.notify?.alarm_types ?? {}))
        if (!isSwitchableAlarm(code))
          throw new BmsError(
            'REQUEST_INVALID',
            `notify.alarm_types.${code}: is not an alarm code`,
            { field: `notify.alarm_types.${code}` },
          );
      const s = store();
      const before = await s.profileOf(me.userId);
      if (!before) throw new BmsError('AUTH_REQUIRED', 'the account is gone (log in again)');
      if (b.notify?.alarms_email) {
        if (!codes.send)
          throw new BmsError(
            'REQUEST_INVALID',
            'notify.alarms_email: e-mail is not available on this server (accounts.email is not set)',
            { field: 'notify.alarms_email' },
          );
        if (!before.email)
          throw new BmsError(
            'REQUEST_INVALID',
            'notify.alarms_email: set and confirm your e-mail address first',
            { field: 'notify.alarms_email' },
          );
      }
      const change: Profile = {
        ...(b.phone !== undefined ? { phone: b.phone } : {}),
        ...(b.timezone !== undefined ? { timezone: b.timezone } : {}),
        ...(b.language !== undefined ? { language: b.language } : {}),
        ...(b.notify !== undefined
          ? {
              notify: {
                alarmsEmail: b.notify.alarms_email,
                minSeverity: b.notify.min_severity,
                alarmCleared: b.notify.alarm_cleared,
                // Absent: the types switched before stay (My account's form does not show them).
                ...(b.notify.alarm_types !== undefined
                  ? { alarmTypes: b.notify.alarm_types }
                  : before.notify?.alarmTypes
                    ? { alarmTypes: before.notify.alarmTypes }
                    : {}),
              },
            }
          : {}),
      };
      await s.setProfile(me.userId, change);
      const old = Object.fromEntries(
        Object.keys(change).map((k) => [k, before[k as keyof typeof before]]),
      );
      await ctx.record(
        { ...actedBy(me), action: 'user.profile', old, new: change, result: 'ok' },
        accountOrigin(ctx.origin, me),
      );
      return view(req);
    },
  );

  app.post<{ Body: EmailCodeRequest }>(
    '/auth/account/email/code',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Send a 6-digit code to a new e-mail address of mine (valid 10 minutes)',
        tags: ['auth'],
        body: emailCodeBody,
        response: { 200: codeSentSchema, ...errorResponses(403, 429) },
      },
    },
    async (req) => {
      const me = caller(req);
      const on = mailOn();
      const email = req.body.email.toLowerCase();
      const code = await codes.newCode(on.store, req, 'email', email, `${me.userId}\n`);
      const holder = await on.store.userByEmail(email);
      codes.later(
        on.send,
        holder && holder.id !== me.userId
          ? {
              to: email,
              subject: 'OpenBMS: this address has an account already',
              text: 'Someone asked to move their account to this address, which another account uses already, so no code was sent. If it was not you, ignore this mail.\n',
            }
          : {
              to: email,
              subject: `OpenBMS e-mail confirmation code: ${code}`,
              text: `Your e-mail confirmation code is ${code} (account ${me.username}). It is valid for 10 minutes. If you did not ask for it, ignore this mail.\n`,
            },
      );
      return { ok: true as const, expires_in_s: 600 };
    },
  );

  app.post<{ Body: EmailChange }>(
    '/auth/account/email',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Set my e-mail address with the code mailed to it',
        tags: ['auth'],
        body: emailChangeBody,
        response: { 200: accountSchema, ...errorResponses(403) },
      },
    },
    async (req) => {
      const me = caller(req);
      const on = mailOn();
      const email = req.body.email.toLowerCase();
      await codes.check(on.store, 'email', email, req.body.code, `${me.userId}\n`);
      const before = await on.store.profileOf(me.userId);
      await on.store.setProfile(me.userId, { email });
      await ctx.record(
        {
          ...actedBy(me),
          action: 'user.email',
          old: { email: before?.email ?? null },
          new: { email },
          result: 'ok',
          detail: req.ip,
        },
        accountOrigin(ctx.origin, me),
      );
      // The old address hears of it: if the change was not its owner's doing, they know.
      if (before?.email && before.email !== email)
        codes.later(on.send, {
          to: before.email,
          subject: 'OpenBMS: your e-mail address was changed',
          text: `The account ${me.username} now uses another e-mail address. If it was not you, ask your administrator at once.\n`,
        });
      return view(req);
    },
  );

  app.post(
    '/auth/logout/all',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Log out everywhere: ends every session of my account, this one too (API tokens stay)',
        tags: ['auth'],
        response: { 200: loggedOutSchema, ...errorResponses() },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const ended = await endUserTokens(ctx, accountScope(me.orgId), me.username, {
        kind: 'session',
        reason: 'logged out everywhere',
      });
      void reply.clearCookie(SESSION_COOKIE, { path: '/', secure: cookieSecure(ctx, reply) });
      await ctx.record(
        { ...actedBy(me), action: 'logout.all', result: 'ok', detail: `${ended} session(s) ended` },
        accountOrigin(ctx.origin, me),
      );
      return { ok: true as const, ended };
    },
  );
}
