/** Sites and buses as configured. */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { errorResponses } from '../schemas.js';

export function siteRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/sites',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Sites',
        tags: ['packs'],
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'name'],
              properties: { id: { type: 'string' }, name: { type: 'string' } },
            },
          },
          ...errorResponses(),
        },
      },
    },
    async () => ctx.gateway.sites(),
  );

  app.get(
    '/buses',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Buses (one per physical port) and the packs on each',
        tags: ['packs'],
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'site', 'port', 'protocol', 'packs'],
              properties: {
                id: { type: 'string' },
                site: { type: 'string' },
                port: { type: 'string', description: 'Serial path or tcp://host:port.' },
                protocol: { type: 'string' },
                packs: { type: 'array', items: { type: 'string' } },
              },
            },
          },
          ...errorResponses(),
        },
      },
    },
    async () => ctx.gateway.buses(),
  );
}
