/**
 * User administration (admin only). The last admin can be neither demoted nor deleted.
 * A role change ends the user's sessions; a password reset ends their sessions and API
 * tokens; deleting a user ends everything of theirs (sessions.ts). The acting admin's own
 * session survives a change to their own account.
 */
import { BmsError } from '@openbms/core';
import type { Role } from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import { caller } from '../auth.js';
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

export function userRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const mustExist = async (username: string) => {
    const u = await ctx.users.get(ctx.scope, username);
    if (!u) throw new BmsError('NOT_FOUND', `no user "${username}"`);
    return u;
  };
  const isLastAdmin = async (username: string): Promise<boolean> => {
    const admins = (await ctx.users.list(ctx.scope)).filter((u) => u.role === 'admin');
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
    async () => (await ctx.users.list(ctx.scope)).map(userView),
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
      const { username, password, role } = req.body;
      if (await ctx.users.get(ctx.scope, username)) {
        throw new BmsError('REQUEST_INVALID', `body field "username": user "${username}" exists`, {
          field: 'username',
        });
      }
      const user = { username, role, createdAt: ctx.clock() };
      await ctx.users.create(ctx.origin, user, await hashPassword(password, ctx.passwordCost));
      await ctx.record({
        user: me.username,
        action: 'user.add',
        new: { username, role },
        result: 'ok',
      });
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
      const { role, password } = req.body;
      // Hashed first (slow), then the check and the change without another request between.
      const hash =
        password !== undefined ? await hashPassword(password, ctx.passwordCost) : undefined;
      return ctx.accounts.run(async () => {
        const u = await mustExist(req.params.username);
        // An admin changing their own account keeps the session (or token) doing it.
        const keepOwn = (username: string): { keep?: string } =>
          username === me.username ? { keep: me.tokenId } : {};
        if (role !== undefined && role !== u.role) {
          if (u.role === 'admin' && (await isLastAdmin(u.username))) {
            throw new BmsError(
              'FORBIDDEN',
              `${u.username} is the last admin; make another admin first`,
            );
          }
          await ctx.users.setRole(ctx.scope, u.username, role);
          // New rights, new sessions; API tokens act with the current role and stay, and
          // their open streams are told the new role.
          const ended = await endUserTokens(ctx, u.username, {
            kind: 'session',
            ...keepOwn(u.username),
            reason: 'role changed: log in again',
          });
          ctx.live.setRole(u.username, role);
          await ctx.record({
            user: me.username,
            action: 'user.role',
            old: { role: u.role },
            new: { username: u.username, role },
            result: 'ok',
            ...(ended > 0 ? { detail: `${ended} session(s) ended` } : {}),
          });
        }
        if (hash !== undefined) {
          await ctx.users.setPassword(ctx.scope, u.username, hash);
          // A reset is what an admin does for a compromised account: every session and API
          // token of the user ends.
          const ended = await endUserTokens(ctx, u.username, {
            ...keepOwn(u.username),
            reason: 'password reset by an admin',
          });
          await ctx.record({
            user: me.username,
            action: 'user.password',
            new: { username: u.username },
            result: 'ok',
            ...(ended > 0 ? { detail: `${ended} session(s) and token(s) ended` } : {}),
          });
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
        const u = await mustExist(req.params.username);
        if (u.role === 'admin' && (await isLastAdmin(u.username))) {
          throw new BmsError('FORBIDDEN', `${u.username} is the last admin and cannot be deleted`);
        }
        await ctx.users.delete(ctx.scope, u.username); // the store deletes their tokens with them
        endUser(ctx, u.username);
        await ctx.record({
          user: me.username,
          action: 'user.delete',
          old: { username: u.username, role: u.role },
          result: 'ok',
        });
        return { ok: true };
      }),
  );
}
