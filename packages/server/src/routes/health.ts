/** Liveness for monitors and load balancers; no authentication, no secrets. */
import { healthSchema, type HealthView } from '@openbms/contract/api';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

export function healthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/health',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Health: uptime and how many packs are online',
        tags: ['health'],
        response: { 200: healthSchema },
      },
    },
    async (): Promise<HealthView> => {
      const packs = ctx.gateway.packs();
      return {
        status: 'ok',
        uptime_s: Math.max(0, Math.floor((ctx.clock() - ctx.startedAt) / 1000)),
        packs_online: packs.filter((p) => p.online).length,
        packs_total: packs.length,
      };
    },
  );
}
