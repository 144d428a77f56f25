/** The audit log (admin only): logins, user changes, acknowledgements, control actions. */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { auditQuery, auditSchema, errorResponses, type AuditQuery } from '@openbms/contract/api';
import { auditView } from '../views.js';

export function auditRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Querystring: AuditQuery }>(
    '/audit',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Audit entries, newest first',
        tags: ['audit'],
        querystring: auditQuery,
        response: { 200: { type: 'array', items: auditSchema }, ...errorResponses(403) },
      },
    },
    async (req) => {
      const q = req.query;
      const entries = await ctx.audit.list(ctx.scope, {
        ...(q.pack !== undefined ? { packId: q.pack } : {}),
        ...(q.user !== undefined ? { user: q.user } : {}),
        limit: q.limit ?? 100,
      });
      return entries.map(auditView);
    },
  );
}
