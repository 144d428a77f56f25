/** The audit log (admin only): logins, user changes, acknowledgements, control actions. */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { auditSchema, errorResponses } from '../schemas.js';
import { auditView } from '../views.js';

export function auditRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Querystring: { pack?: string; user?: string; limit?: number } }>(
    '/audit',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Audit entries, newest first',
        tags: ['audit'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            pack: { type: 'string', minLength: 1, maxLength: 200 },
            user: { type: 'string', minLength: 1, maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: { 200: { type: 'array', items: auditSchema }, ...errorResponses(403) },
      },
    },
    async (req) => {
      const q = req.query;
      return ctx.audit
        .list({
          ...(q.pack !== undefined ? { packId: q.pack } : {}),
          ...(q.user !== undefined ? { user: q.user } : {}),
          limit: q.limit ?? 100,
        })
        .map(auditView);
    },
  );
}
