/**
 * Setting up a bus (admin): the machine's serial ports with their USB chip, a scan of the
 * addresses on a port (started, then read for progress), and a test read of one pack.
 * Bodies are checked by the gateway's strict schemas (REQUEST_INVALID names the field).
 */
import { errorResponses } from '@openbms/contract/api';
import { BmsError } from '@openbms/core';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import type { BusSetupApi } from '../gateway-api.js';

const anyObject = { type: 'object', additionalProperties: true } as const;

function setupOf(ctx: ServerContext): BusSetupApi {
  const s = ctx.box.busSetup;
  if (!s) throw new BmsError('NOT_FOUND', 'this server has no gateway that sets up buses');
  return s;
}

export function busSetupRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/setup/serial-ports',
    {
      config: { access: 'admin', box: true },
      schema: {
        summary: 'Serial ports of this machine (path, USB vendor/product ids, chip)',
        tags: ['setup'],
        response: { 200: { type: 'array', items: anyObject }, ...errorResponses(403, 404) },
      },
    },
    async () => setupOf(ctx).ports(),
  );
  app.post<{ Body: unknown }>(
    '/setup/scans',
    {
      config: { access: 'admin', box: true },
      schema: {
        summary: 'Start a scan of the addresses on a port (progress: GET /setup/scans/{id})',
        tags: ['setup'],
        response: { 202: anyObject, ...errorResponses(400, 403, 404) },
      },
    },
    async (req, reply) => reply.code(202).send(await setupOf(ctx).startScan(req.body)),
  );
  app.get<{ Params: { id: string } }>(
    '/setup/scans/:id',
    {
      config: { access: 'admin', box: true },
      schema: {
        summary: 'A scan: addresses tried, packs that answered (model, serial, cell count)',
        tags: ['setup'],
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', maxLength: 64 } },
        },
        response: { 200: anyObject, ...errorResponses(403, 404) },
      },
    },
    async (req) => setupOf(ctx).scan(req.params.id),
  );
  app.post<{ Body: unknown }>(
    '/setup/test-read',
    {
      config: { access: 'admin', box: true },
      schema: {
        summary: 'One full read cycle of one pack on a port (its snapshot, cells included)',
        tags: ['setup'],
        response: { 200: anyObject, ...errorResponses(400, 403, 404, 503) },
      },
    },
    async (req) => setupOf(ctx).testRead(req.body),
  );
}
