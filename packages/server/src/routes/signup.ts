/**
 * Sign-up and password reset by e-mailed code (issue 14 "Accounts", docs/fleet.md "Sign-up
 * and password reset").
 *
 * A code is 6 digits from the CSPRNG, valid 10 minutes, usable once, 5 tries. It is stored
 * in the database as a sha256 of purpose, address and code (storage accounts.ts), so any API
 * node on the database checks a code another one sent. Rate limits: one code per address
 * and purpose a minute (in the database, shared by the nodes), and CODES_PER_IP codes per
 * client address per 15 minutes (per node, in memory).
 *
 * The answer to "send me a code" never says whether the address has an account: the same
 * reply, the same code stored; only the mail differs (a code, or "you have an account
 * already / no account uses this address"). Mails go out after the reply, so the time taken
 * does not tell either; a failed delivery is logged.
 */
import { createHash, randomInt } from 'node:crypto';
import { BmsError, isTimeZone } from '@openbms/core';
import type { AccountStore, CodeCheck, CodePurpose, OrgStore } from '@openbms/storage';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  codeSentSchema,
  emailCodeBody,
  errorResponses,
  okSchema,
  resetBody,
  signupBody,
  signupSchema,
  termsSchema,
  type EmailCodeRequest,
  type ResetRequest,
  type SignupRequest,
  type SignupTerms,
} from '@openbms/contract/api';
import { accountOrigin, accountScope } from '../auth.js';
import type { ServerContext } from '../context.js';
import { hashPassword } from '../passwords.js';
import { requireUserRoom } from '../limits.js';
import { FailureLimiter } from '../rate-limit.js';
import { endUserTokens } from '../sessions.js';
import { accountRoutes } from './account.js';

export const CODE_TTL_MS = 10 * 60 * 1000;
export const CODE_TRIES = 5;
/** One code per address and purpose per this long (shared by the nodes through the database). */
export const CODE_GAP_MS = 60 * 1000;
export const CODES_PER_IP = 10;

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

/** Config `accounts` as the server needs it (the CLI builds `send` from `accounts.email`). */
export interface SignupOptions {
  /** accounts.signup: anyone with an organisation code may make an end_user account. */
  signup: boolean;
  /** Sends a mail (nodemailer over accounts.email); absent: no e-mail, so neither sign-up nor reset. */
  send?: (mail: OutgoingMail) => Promise<void>;
  /** accounts.terms: the texts a sign-up agrees to. */
  terms?: { service: string; privacy: string };
}

export const codeHash = (purpose: CodePurpose, email: string, code: string): string =>
  createHash('sha256').update(`${purpose}\n${email}\n${code}`).digest('hex');

const WHY: Record<Exclude<CodeCheck, 'ok'>, string> = {
  wrong: 'the code is wrong',
  expired: 'the code has expired (codes are valid 10 minutes); ask for a new one',
  none: 'no code is pending for this address (used already, or never sent); ask for a new one',
  exhausted: `the code was tried ${CODE_TRIES} times; ask for a new one`,
};

export const codeRefused = (r: Exclude<CodeCheck, 'ok'>): BmsError =>
  new BmsError('CODE_INVALID', `code: ${WHY[r]}`, { field: 'code' });

export function signupRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  opts: SignupOptions | undefined,
  accounts: AccountStore | undefined,
  orgs: OrgStore | undefined,
): void {
  const perIp = new FailureLimiter({ max: CODES_PER_IP, windowMs: 15 * 60 * 1000 }, ctx.clock);
  const signupOn = (): {
    accounts: AccountStore;
    orgs: OrgStore;
    send: NonNullable<SignupOptions['send']>;
  } => {
    if (!opts?.signup || !opts.send || !accounts || !orgs)
      throw new BmsError(
        'SIGNUP_DISABLED',
        'sign-up is not turned on on this server (accounts.signup)',
      );
    return { accounts, orgs, send: opts.send };
  };
  const resetOn = (): { accounts: AccountStore; send: NonNullable<SignupOptions['send']> } => {
    if (!opts?.send || !accounts)
      throw new BmsError(
        'SIGNUP_DISABLED',
        'password reset by e-mail is not available on this server (accounts.email is not set)',
      );
    return { accounts, send: opts.send };
  };
  const later = (send: (m: OutgoingMail) => Promise<void>, mail: OutgoingMail): void => {
    send(mail).catch((e: unknown) =>
      app.log.warn({ err: e }, `accounts: the mail to ${mail.to} could not be sent`),
    );
  };

  /** Stores a new code for the address (rate limits first); returns it. */
  const newCode = async (
    store: AccountStore,
    req: FastifyRequest,
    purpose: CodePurpose,
    email: string,
    who = '',
  ): Promise<string> => {
    const wait = perIp.blockedFor(req.ip);
    if (wait > 0) throw limited(wait);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const now = ctx.clock();
    const stored = await store.putCode(
      {
        purpose,
        email,
        hash: codeHash(purpose, email, who + code),
        createdAt: now,
        expiresAt: now + CODE_TTL_MS,
      },
      CODE_GAP_MS,
    );
    if (!stored) throw limited(CODE_GAP_MS);
    perIp.fail(req.ip); // counts a code sent
    return code;
  };

  /** `who`: what the code was bound to when sent (a user id and a newline for `email`). */
  const check = async (
    store: AccountStore,
    purpose: CodePurpose,
    email: string,
    code: string,
    who = '',
  ) => {
    const r = await store.useCode(
      purpose,
      email,
      codeHash(purpose, email, who + code),
      ctx.clock(),
      CODE_TRIES,
    );
    if (r !== 'ok') throw codeRefused(r);
  };

  accountRoutes(app, ctx, {
    ...(opts?.send && accounts ? { send: opts.send, store: accounts } : {}),
    newCode,
    check,
    later,
  });

  app.get(
    '/auth/signup',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Whether sign-up and reset by e-mail are open, and the terms a sign-up agrees to',
        tags: ['auth'],
        response: { 200: termsSchema, ...errorResponses() },
      },
    },
    async (): Promise<SignupTerms> => ({
      signup: Boolean(opts?.signup && opts.send && accounts && orgs),
      reset: Boolean(opts?.send && accounts),
      ...(opts?.terms ? { service: opts.terms.service, privacy: opts.terms.privacy } : {}),
    }),
  );

  app.post<{ Body: EmailCodeRequest }>(
    '/auth/signup/code',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Send a 6-digit sign-up code to an e-mail address (valid 10 minutes)',
        tags: ['auth'],
        body: emailCodeBody,
        response: { 200: codeSentSchema, ...errorResponses(403, 429) },
      },
    },
    async (req) => {
      const on = signupOn();
      const email = req.body.email.toLowerCase();
      const code = await newCode(on.accounts, req, 'signup', email);
      const user = await on.accounts.userByEmail(email);
      later(
        on.send,
        user
          ? {
              to: email,
              subject: 'OpenBMS: you have an account already',
              text: 'Someone asked to sign up with this address, which has an account already. To set a new password, use "Forgot password" at the login. If it was not you, ignore this mail.\n',
            }
          : {
              to: email,
              subject: `OpenBMS sign-up code: ${code}`,
              text: `Your sign-up code is ${code}. It is valid for 10 minutes. If you did not ask for it, ignore this mail.\n`,
            },
      );
      return { ok: true as const, expires_in_s: CODE_TTL_MS / 1000 };
    },
  );

  app.post<{ Body: SignupRequest }>(
    '/auth/signup',
    {
      config: { access: 'public' },
      schema: {
        summary:
          'Create an account (role end_user) in the organisation with org_code, with the e-mailed code',
        tags: ['auth'],
        body: signupBody,
        response: { 200: signupSchema, ...errorResponses(403) },
      },
    },
    async (req) => {
      const on = signupOn();
      const b = req.body;
      const email = b.email.toLowerCase();
      if (!isTimeZone(b.timezone) || (!b.timezone.includes('/') && b.timezone !== 'UTC'))
        throw new BmsError(
          'REQUEST_INVALID',
          'timezone must be an IANA time zone such as Europe/Berlin',
          {
            field: 'timezone',
          },
        );
      const org = await on.orgs.byCode(b.org_code.toUpperCase());
      if (!org)
        throw new BmsError('REQUEST_INVALID', 'org_code names no organisation', {
          field: 'org_code',
        });
      const scope = accountScope(org.id);
      const nameTaken = (): BmsError =>
        new BmsError(
          'REQUEST_INVALID',
          `name ${JSON.stringify(b.name)} is taken in this organisation`,
          {
            field: 'name',
          },
        );
      // Checked before the code is used up, so a taken name does not cost a code.
      if (await ctx.users.get(scope, b.name)) throw nameTaken();
      await requireUserRoom(ctx, org.id);
      if (await on.accounts.userByEmail(email))
        throw new BmsError(
          'REQUEST_INVALID',
          'email: this address has an account; reset its password instead',
          {
            field: 'email',
          },
        );
      await check(on.accounts, 'signup', email, b.code);
      const hash = await hashPassword(b.password, ctx.passwordCost);
      const whose = { orgId: org.id, gatewayId: ctx.origin.gatewayId };
      const user = await ctx.accounts.run(async () => {
        let u;
        try {
          u = await ctx.users.create(
            whose,
            { username: b.name, role: 'viewer', createdAt: ctx.clock() },
            hash,
          );
        } catch (e) {
          if (e instanceof BmsError && e.details?.['field'] === 'username') throw nameTaken();
          throw e;
        }
        try {
          await on.orgs.setRole([org.id], org.id, u.id, 'end_user');
          await on.accounts.setProfile(u.id, {
            email,
            timezone: b.timezone,
            ...(b.phone !== undefined ? { phone: b.phone } : {}),
          });
        } catch (e) {
          // Another sign-up took the address meanwhile: the account is not kept half made.
          await ctx.users.delete(scope, u.username).catch(() => undefined);
          throw e;
        }
        return u;
      });
      await ctx.record(
        {
          user: user.username,
          userId: user.id,
          action: 'user.signup',
          new: { username: user.username, email, role: 'end_user', org_code: org.code },
          result: 'ok',
          detail: req.ip,
        },
        accountOrigin(ctx.origin, user),
      );
      return { username: user.username, login: `${user.username}@${org.code}`, org_code: org.code };
    },
  );

  app.post<{ Body: EmailCodeRequest }>(
    '/auth/reset/code',
    {
      config: { access: 'public' },
      schema: {
        summary:
          'Send a 6-digit password reset code to the address of an account (valid 10 minutes)',
        tags: ['auth'],
        body: emailCodeBody,
        response: { 200: codeSentSchema, ...errorResponses(403, 429) },
      },
    },
    async (req) => {
      const on = resetOn();
      const email = req.body.email.toLowerCase();
      const code = await newCode(on.accounts, req, 'reset', email);
      const user = await on.accounts.userByEmail(email);
      later(
        on.send,
        user
          ? {
              to: email,
              subject: `OpenBMS password reset code: ${code}`,
              text: `Your password reset code is ${code} (account ${user.username}). It is valid for 10 minutes. If you did not ask for it, ignore this mail: your password stays.\n`,
            }
          : {
              to: email,
              subject: 'OpenBMS password reset',
              text: 'Someone asked to reset the password of an account with this address, but no account uses it. If it was not you, ignore this mail.\n',
            },
      );
      return { ok: true as const, expires_in_s: CODE_TTL_MS / 1000 };
    },
  );

  app.post<{ Body: ResetRequest }>(
    '/auth/reset',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Set a new password with the e-mailed code (every session of the account ends)',
        tags: ['auth'],
        body: resetBody,
        response: { 200: okSchema, ...errorResponses(403) },
      },
    },
    async (req) => {
      const on = resetOn();
      const email = req.body.email.toLowerCase();
      await check(on.accounts, 'reset', email, req.body.code);
      const user = await on.accounts.userByEmail(email);
      // A code for an address without an account matched: as if no code were pending.
      if (!user) throw codeRefused('none');
      const scope = accountScope(user.orgId);
      const hash = await hashPassword(req.body.password, ctx.passwordCost);
      await ctx.users.setPassword(scope, user.username, hash);
      // Whoever holds a session of the account now may be who made the reset necessary.
      const ended = await endUserTokens(ctx, scope, user.username, {
        kind: 'session',
        reason: 'password reset',
      });
      await ctx.record(
        {
          user: user.username,
          userId: user.id,
          action: 'user.password.reset',
          result: 'ok',
          detail: `${req.ip}${ended > 0 ? `; ${ended} session(s) ended` : ''}`,
        },
        accountOrigin(ctx.origin, user),
      );
      return { ok: true };
    },
  );
}

function limited(ms: number): BmsError {
  const s = Math.ceil(ms / 1000);
  return new BmsError('RATE_LIMITED', `too many codes asked for; try again in ${s} s`, {
    retry_after_s: s,
  });
}
