/**
 * User administration (admin only): an admin manages the accounts of their own organisation
 * (the single box: the local one); no other organisation's account is ever found here. The
 * last admin can be neither demoted nor deleted.
 * A role change ends the user's sessions; a password reset ends their sessions and API
 * tokens; deleting a user ends everything of theirs (sessions.ts). The acting admin's own
 * session survives a change to their own account.
 */
import { BmsError } from '@openbms/core';
import type { Role, Scope } from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import {
  accountOrigin,
  accountScope,
  actedBy,
  caller,
  refreshStanding,
  type Principal,
} from '../auth.js';
import { requireRole } from '../policy.js';
import type { ServerContext } from '../context.js';
import { hashPassword } from '../passwords.js';
import { endUser, endUserTokens } from '../sessions.js';
import {
  errorResponses,
  okSchema,
  userCreateBody,
  userSchema,
  userUpdateBody,
  usernameParams,
} from '@openbms/contract/api';
import { userView } from '../views.js';
import { requireUserRoom } from '../limits.js';

export function userRoutes(app: FastifyInstance, ctx: ServerContext): void {
  /** The organisation whose accounts the admin manages: their own (403 unless admin there). */
  const orgOf = (me: Principal, what: string) => {
    requireRole(me, 'admin', me.orgId, what);
    return accountScope(me.orgId);
  };
  const mustExist = async (scope: Scope, username: string) => {
    const u = await ctx.users.get(scope, username);
    if (!u) throw new BmsError('NOT_FOUND', `no user "${username}"`);
    return u;
  };
  const isLastAdmin = async (scope: Scope, username: string): Promise<boolean> => {
    const admins = (await ctx.users.list(scope)).filter((u) => u.role === 'admin');
    return admins.length === 1 && admins[0]?.username === username;
  };

  app.get(
    '/users',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'List users',
        tags: ['users'],
        response: { 200: { type: 'array', items: userSchema }, ...errorResponses(403) },
      },
    },
    async (req) => (await ctx.users.list(orgOf(caller(req), 'listing users'))).map(userView),
  );

  app.post<{ Body: { username: string; password: string; role: Role } }>(
    '/users',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Add a user',
        tags: ['users'],
        body: userCreateBody,
        response: { 201: userSchema, ...errorResponses(403) },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const scope = orgOf(me, 'adding a user');
      const { username, password, role } = req.body;
      if (await ctx.users.get(scope, username)) {
        throw new BmsError('REQUEST_INVALID', `body field "username": user "${username}" exists`, {
          field: 'username',
        });
      }
      await requireUserRoom(ctx, me.orgId);
      const user = { username, role, createdAt: ctx.clock() };
      const whose = accountOrigin(ctx.origin, me);
      await ctx.users.create(whose, user, await hashPassword(password, ctx.passwordCost));
      await ctx.record(
        { ...actedBy(me), action: 'user.add', new: { username, role }, result: 'ok' },
        whose,
      );
      return reply.status(201).send(userView(user));
    },
  );

  app.patch<{ Params: { username: string }; Body: { role?: Role; password?: string } }>(
    '/users/:username',
    {
      config: { access: 'admin' },
      schema: {
        summary:
          "Change a user's role (their sessions end) and/or password (their sessions and API tokens end)",
        tags: ['users'],
        params: usernameParams,
        body: userUpdateBody,
        response: { 200: userSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const scope = orgOf(me, 'changing a user');
      const whose = accountOrigin(ctx.origin, me);
      const { role, password } = req.body;
      // Hashed first (slow), then the check and the change without another request between.
      const hash =
        password !== undefined ? await hashPassword(password, ctx.passwordCost) : undefined;
      return ctx.accounts.run(async () => {
        const u = await mustExist(scope, req.params.username);
        // An admin changing their own account keeps the session (or token) doing it.
        const keepOwn = (userId: string): { keep?: string } =>
          userId === me.userId ? { keep: me.tokenId } : {};
        if (role !== undefined && role !== u.role) {
          if (u.role === 'admin' && (await isLastAdmin(scope, u.username))) {
            throw new BmsError(
              'FORBIDDEN',
              `${u.username} is the last admin; make another admin first`,
            );
          }
          await ctx.users.setRole(scope, u.username, role);
          // New rights, new sessions; API tokens act with the current role and stay, and
          // their open streams act with the new memberships at once (and are told the role).
          const ended = await endUserTokens(ctx, scope, u.username, {
            kind: 'session',
            ...keepOwn(u.id),
            reason: 'role changed: log in again',
          });
          await refreshStanding(ctx, { ...u, role });
          await ctx.record(
            {
              ...actedBy(me),
              action: 'user.role',
              old: { role: u.role },
              new: { username: u.username, role },
              result: 'ok',
              ...(ended > 0 ? { detail: `${ended} session(s) ended` } : {}),
            },
            whose,
          );
        }
        if (hash !== undefined) {
          await ctx.users.setPassword(scope, u.username, hash);
          // A reset is what an admin does for a compromised account: every session and API
          // token of the user ends.
          const ended = await endUserTokens(ctx, scope, u.username, {
            ...keepOwn(u.id),
            reason: 'password reset by an admin',
          });
          await ctx.record(
            {
              ...actedBy(me),
              action: 'user.password',
              new: { username: u.username },
              result: 'ok',
              ...(ended > 0 ? { detail: `${ended} session(s) and token(s) ended` } : {}),
            },
            whose,
          );
        }
        return userView({ ...u, role: role ?? u.role });
      });
    },
  );

  app.delete<{ Params: { username: string } }>(
    '/users/:username',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Delete a user (their sessions and tokens stop working at once)',
        tags: ['users'],
        params: usernameParams,
        response: { 200: okSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) =>
      ctx.accounts.run(async () => {
        const me = caller(req);
        const scope = orgOf(me, 'deleting a user');
        const u = await mustExist(scope, req.params.username);
        if (u.role === 'admin' && (await isLastAdmin(scope, u.username))) {
          throw new BmsError('FORBIDDEN', `${u.username} is the last admin and cannot be deleted`);
        }
        await ctx.users.delete(scope, u.username); // the store deletes their tokens with them
        endUser(ctx, u.id);
        await ctx.record(
          {
            ...actedBy(me),
            action: 'user.delete',
            old: { username: u.username, role: u.role },
            result: 'ok',
          },
          accountOrigin(ctx.origin, me),
        );
        return { ok: true };
      }),
  );
}
