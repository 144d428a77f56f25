/**
 * API tokens for scripts and integrations: `Authorization: Bearer <token>`. The secret is
 * returned once; the token's id is the sha256 of the secret (what the store keeps). A
 * token acts with its user's current role. Users revoke their own; admins anyone's.
 */
import { BmsError } from '@openbms/core';
import type { FastifyInstance } from 'fastify';
import { caller, issueToken, requireSelfOrAdmin } from '../auth.js';
import type { ServerContext } from '../context.js';
import {
  errorResponses,
  okSchema,
  tokenCreateBody,
  tokenCreatedSchema,
  tokenIdParams,
} from '@openbms/contract/api';
import { endToken } from '../sessions.js';

export function tokenRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Body: { name: string } }>(
    '/tokens',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Create an API token for yourself (the secret is shown once)',
        tags: ['auth'],
        body: tokenCreateBody,
        response: { 201: tokenCreatedSchema, ...errorResponses() },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const t = await issueToken(ctx, me.username, 'api', req.body.name);
      await ctx.record({
        user: me.username,
        action: 'token.create',
        new: { id: t.id, name: req.body.name },
        result: 'ok',
      });
      return reply
        .status(201)
        .send({ id: t.id, name: req.body.name, token: t.secret, created_at: ctx.clock() });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/tokens/:id',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Revoke a token (yours; admins: anyone’s); its WebSockets close at once',
        tags: ['auth'],
        params: tokenIdParams,
        response: { 200: okSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const t = await ctx.users.findToken(req.params.id);
      if (!t) throw new BmsError('NOT_FOUND', 'no such token');
      requireSelfOrAdmin(me, t.username, 'revoke this token');
      await endToken(ctx, req.params.id, 'token revoked');
      await ctx.record({
        user: me.username,
        action: 'token.delete',
        old: { id: req.params.id, owner: t.username },
        result: 'ok',
      });
      return { ok: true };
    },
  );
}
