/** Prometheus `/metrics` (outside /api/v1, where scrapers look for it). */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

export function metricsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const m = ctx.gateway.metrics;
  if (!m) return;
  app.get(
    '/metrics',
    {
      // A scraper authenticates with `Authorization: Bearer <API token>` unless the
      // configuration makes the metrics public (`metrics: {auth: false}`).
      config: { access: m.public ? 'public' : 'viewer' },
      schema: {
        summary: 'Prometheus metrics: per-pack gauges and gateway counters',
        tags: ['health'],
      },
    },
    async (_req, reply) => reply.header('content-type', m.contentType).send(m.render()),
  );
}
