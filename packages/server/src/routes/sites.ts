/** Sites and buses as configured, of the gateways the caller may see. */
import type { FastifyInstance } from 'fastify';
import { caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import { busSchema, errorResponses, siteSchema } from '@openbms/contract/api';

export function siteRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/sites',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Sites',
        tags: ['packs'],
        response: {
          200: { type: 'array', items: siteSchema },
          ...errorResponses(),
        },
      },
    },
    async (req) =>
      (await Promise.all(ctx.policy.gateways(caller(req)).map((l) => l.sites()))).flat(),
  );

  app.get(
    '/buses',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Buses (one per physical port) and the packs on each',
        tags: ['packs'],
        response: {
          200: { type: 'array', items: busSchema },
          ...errorResponses(),
        },
      },
    },
    async (req) =>
      (await Promise.all(ctx.policy.gateways(caller(req)).map((l) => l.buses()))).flat(),
  );
}
