/**
 * First start: there is no default password. Until a user exists, POST /setup creates the
 * first admin (and logs them in); afterwards it is refused with 403.
 */
import { BmsError } from '@openbms/core';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { hashPassword } from '../passwords.js';
import {
  errorResponses,
  sessionSchema,
  setupBody,
  setupStatusSchema,
  type SetupStatus,
} from '@openbms/contract/api';
import { startSession } from './auth.js';
import { ownRole } from '../policy.js';

export function setupRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/setup',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Whether the first admin exists, and who is logged in (web onboarding)',
        tags: ['auth'],
        response: { 200: setupStatusSchema },
      },
    },
    async (req): Promise<SetupStatus> => {
      const exists = (await ctx.users.count(ctx.scope)) > 0;
      const user = req.auth ? { username: req.auth.username, role: ownRole(req.auth) } : null;
      return { admin_exists: exists, needs_setup: !exists, captcha: ctx.captchas.mode, user };
    },
  );

  app.post<{ Body: { username: string; password: string } }>(
    '/setup',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Create the first admin (only while there are no users)',
        tags: ['auth'],
        body: setupBody,
        response: { 201: sessionSchema, ...errorResponses(403) },
      },
    },
    async (req, reply) => {
      const refuse = async (): Promise<never> => {
        await ctx.record({
          user: req.body.username,
          action: 'setup.admin',
          result: 'refused',
          detail: req.ip,
        });
        throw new BmsError('FORBIDDEN', 'setup is done: an admin exists (log in, or ask an admin)');
      };
      if ((await ctx.users.count(ctx.scope)) > 0) await refuse();
      const hash = await hashPassword(req.body.password, ctx.passwordCost);
      // Checked again, with the creation, one setup at a time: two concurrent setups must not
      // make two admins.
      const admin = await ctx.accounts.run(async () => {
        if ((await ctx.users.count(ctx.scope)) > 0) await refuse();
        return ctx.users.create(
          ctx.origin,
          { username: req.body.username, role: 'admin', createdAt: ctx.clock() },
          hash,
        );
      });
      await ctx.record({
        user: admin.username,
        userId: admin.id,
        action: 'user.add',
        new: { username: req.body.username, role: 'admin' },
        result: 'ok',
        detail: 'first admin (setup)',
      });
      return reply.status(201).send(await startSession(ctx, reply, req.body.username, 'admin'));
    },
  );
}
