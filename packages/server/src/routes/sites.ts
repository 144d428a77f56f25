/** Gateways, sites and buses as configured, of the gateways the caller may see. */
import type { FastifyInstance } from 'fastify';
import { caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import {
  busSchema,
  errorResponses,
  gatewaySchema,
  siteSchema,
  type GatewayView,
} from '@openbms/contract/api';
import { allows } from '../policy.js';

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
    '/gateways',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'The gateways (collectors) the caller sees, with their sites and pack counts: what a plant attaches',
        tags: ['packs'],
        response: {
          200: { type: 'array', items: gatewaySchema },
          ...errorResponses(),
        },
      },
    },
    async (req): Promise<GatewayView[]> => {
      const me = caller(req);
      return Promise.all(
        ctx.policy.gateways(me).map(async (l) => ({
          id: l.gatewayId,
          org_id: l.orgId,
          controls: l.controls,
          sites: await l.sites(),
          packs: (await l.packs()).length,
          manage: allows(me, 'admin', l.orgId),
        })),
      );
    },
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
