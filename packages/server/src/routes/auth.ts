/** Login, logout, who am I, change my password. */
import { BmsError } from '@openbms/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  accountByLogin,
  accountOrigin,
  accountScope,
  actedBy,
  caller,
  issueToken,
  SESSION_COOKIE,
} from '../auth.js';
import type { Scope } from '@openbms/storage';
import { ownRole } from '../policy.js';
import type { ServerContext } from '../context.js';
import { hashPassword, verifyDummy, verifyPassword } from '../passwords.js';
import { endToken, endUserTokens } from '../sessions.js';
import {
  captchaSchema,
  credentialsBody,
  errorResponses,
  meSchema,
  okSchema,
  passwordChangeBody,
  sessionSchema,
  type CaptchaChallenge,
  type Credentials,
  type Me,
  type PasswordChange,
  type Role,
  type SessionView,
} from '@openbms/contract/api';

/**
 * Whether the session cookie gets `Secure`: always when configured so, otherwise when the
 * request came over HTTPS, directly (native TLS) or through a trusted proxy that says so in
 * X-Forwarded-Proto (Fastify's `request.protocol` honours the header only from a proxy the
 * `trustProxy` option trusts).
 */
export function cookieSecure(ctx: ServerContext, reply: FastifyReply): boolean {
  return ctx.secureCookie || reply.request.protocol.toLowerCase() === 'https';
}

/**
 * Starts a session of a user of `orgId` (default: the box's organisation): stores its hash,
 * sets the cookie, returns the body of a login reply.
 */
export async function startSession(
  ctx: ServerContext,
  reply: FastifyReply,
  username: string,
  role: Role,
  orgId = ctx.origin.orgId,
): Promise<SessionView> {
  const s = await issueToken(ctx, orgId, username, 'session');
  void reply.setCookie(SESSION_COOKIE, s.secret, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: cookieSecure(ctx, reply),
    maxAge: Math.floor(ctx.sessionTtlMs / 1000),
  });
  return { token: s.secret, expires_at: s.expiresAt, user: { username, role } };
}

/**
 * Checks the password of a user of `scope`'s organisation against the stored hash, with per
 * IP + name and per IP rate limits.
 */
export async function checkPassword(
  ctx: ServerContext,
  ip: string,
  scope: Scope,
  username: string,
  password: string,
  action: string,
): Promise<boolean> {
  const key = `${ip}|${username.toLowerCase()}`;
  // Failures are records of the organisation whose account was tried.
  const whose = accountOrigin(ctx.origin, { orgId: scope.orgIds[0] ?? ctx.origin.orgId });
  const wait = Math.max(ctx.loginLimiter.blockedFor(key), ctx.ipLimiter.blockedFor(ip));
  if (wait > 0) {
    await ctx.record(
      { user: username, action, result: 'refused', detail: `rate limited (${ip})` },
      whose,
    );
    const s = Math.ceil(wait / 1000);
    throw new BmsError('RATE_LIMITED', `too many failed attempts; try again in ${s} s`, {
      retry_after_s: s,
    });
  }
  const user = await ctx.users.get(scope, username);
  const ok = user
    ? await verifyPassword(password, user.passwordHash)
    : await verifyDummy(password, ctx.passwordCost);
  if (ok) {
    ctx.loginLimiter.reset(key);
    return true;
  }
  ctx.loginLimiter.fail(key);
  ctx.ipLimiter.fail(ip);
  await ctx.record(
    { user: username, action, result: 'failed', detail: `wrong user name or password (${ip})` },
    whose,
  );
  return false;
}

/**
 * The captcha gate of a login (accounts.captcha): a challenge sent along is used up, right or
 * wrong; when one is required (always, or after failures of that name or address) a login
 * without a right answer is refused before its password is looked at.
 */
function checkCaptcha(ctx: ServerContext, ip: string, body: Credentials): void {
  const { captcha_id: id, captcha: answer } = body;
  const solved = id !== undefined && answer !== undefined && ctx.captchas.check(id, answer);
  if (!ctx.captchas.required(body.username, ip)) return;
  if (id === undefined || answer === undefined) {
    throw new BmsError(
      'CAPTCHA_REQUIRED',
      `captcha: this login needs a captcha; fetch one from GET /api/v1/auth/captcha and send ${id === undefined ? 'captcha_id and captcha' : 'captcha'}`,
      { field: id === undefined ? 'captcha_id' : 'captcha', captcha_required: true },
    );
  }
  if (!solved) {
    throw new BmsError(
      'CAPTCHA_WRONG',
      'captcha: wrong answer, or the challenge is unknown, used or expired; fetch a new one',
      { field: 'captcha', captcha_required: true },
    );
  }
}

export function authRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/auth/captcha',
    {
      config: { access: 'public' },
      schema: {
        summary: 'A captcha challenge for the login (an SVG image; answer within 2 minutes, once)',
        tags: ['auth'],
        response: { 200: captchaSchema, ...errorResponses(429) },
      },
    },
    async (req, reply): Promise<CaptchaChallenge> => {
      // Per client address: drawing images costs CPU, and each challenge holds memory.
      const wait = ctx.captchas.fetches.blockedFor(req.ip);
      if (wait > 0) {
        const s = Math.ceil(wait / 1000);
        throw new BmsError('RATE_LIMITED', `too many captchas fetched; try again in ${s} s`, {
          retry_after_s: s,
        });
      }
      ctx.captchas.fetches.fail(req.ip); // counts a fetch
      void reply.header('cache-control', 'no-store');
      return ctx.captchas.issue();
    },
  );

  app.post<{ Body: Credentials }>(
    '/auth/login',
    {
      config: { access: 'public' },
      schema: {
        summary:
          'Log in: sets the session cookie and returns the session token (with a captcha when accounts.captcha asks for one)',
        tags: ['auth'],
        body: credentialsBody,
        response: { 200: sessionSchema, ...errorResponses(429) },
      },
    },
    async (req, reply) => {
      const { password } = req.body;
      // `name` is an account of the box's organisation, `name@CODE` one of the organisation
      // with that code (auth.ts, accountByLogin): exactly one account or none.
      const { scope, username } = await accountByLogin(ctx, req.body.username);
      try {
        checkCaptcha(ctx, req.ip, req.body);
      } catch (e) {
        // A refusal is a record of the organisation whose account was tried, as failures are.
        await ctx.record(
          {
            user: username,
            action: 'login',
            result: 'refused',
            detail: `${(e as BmsError).code} (${req.ip})`,
          },
          accountOrigin(ctx.origin, { orgId: scope.orgIds[0] ?? ctx.origin.orgId }),
        );
        throw e;
      }
      if (!(await checkPassword(ctx, req.ip, scope, username, password, 'login'))) {
        ctx.captchas.failed(req.body.username, req.ip);
        throw new BmsError('AUTH_INVALID', 'wrong user name or password', {
          ...(ctx.captchas.required(req.body.username, req.ip) ? { captcha_required: true } : {}),
        });
      }
      const user = await ctx.users.get(scope, username);
      if (!user) throw new BmsError('AUTH_INVALID', 'wrong user name or password');
      ctx.captchas.succeeded(req.body.username, req.ip);
      await ctx.record(
        { user: user.username, userId: user.id, action: 'login', result: 'ok', detail: req.ip },
        accountOrigin(ctx.origin, user),
      );
      return startSession(ctx, reply, user.username, user.role, user.orgId);
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Log out: ends this session and clears the cookie',
        tags: ['auth'],
        response: { 200: okSchema, ...errorResponses() },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      if (me.kind === 'session') await endToken(ctx, me.tokenId, 'logged out');
      void reply.clearCookie(SESSION_COOKIE, { path: '/', secure: cookieSecure(ctx, reply) });
      await ctx.record(
        { ...actedBy(me), action: 'logout', result: 'ok' },
        accountOrigin(ctx.origin, me),
      );
      return { ok: true };
    },
  );

  app.get(
    '/auth/me',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'The logged-in user',
        tags: ['auth'],
        response: { 200: meSchema, ...errorResponses() },
      },
    },
    async (req): Promise<Me> => {
      const me = caller(req);
      return { username: me.username, role: ownRole(me), via: me.kind };
    },
  );

  app.post<{ Body: PasswordChange }>(
    '/auth/password',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Change your own password (your other sessions end; API tokens stay)',
        tags: ['auth'],
        body: passwordChangeBody,
        response: { 200: okSchema, ...errorResponses(429) },
      },
    },
    async (req) => {
      const me = caller(req);
      const mine = accountScope(me.orgId);
      if (
        !(await checkPassword(
          ctx,
          req.ip,
          mine,
          me.username,
          req.body.current_password,
          'user.password',
        ))
      ) {
        throw new BmsError('AUTH_INVALID', 'the current password is wrong', {
          field: 'current_password',
        });
      }
      const hash = await hashPassword(req.body.password, ctx.passwordCost);
      await ctx.users.setPassword(mine, me.username, hash);
      // The session (or token) making the change stays; the user's other sessions end, as
      // a stolen one must not outlive the password. API tokens stay (revoke them by id).
      const ended = await endUserTokens(ctx, mine, me.username, {
        kind: 'session',
        keep: me.tokenId,
        reason: 'password changed',
      });
      await ctx.record(
        {
          ...actedBy(me),
          action: 'user.password',
          new: { username: me.username },
          result: 'ok',
          ...(ended > 0 ? { detail: `${ended} other session(s) ended` } : {}),
        },
        accountOrigin(ctx.origin, me),
      );
      return { ok: true };
    },
  );
}
