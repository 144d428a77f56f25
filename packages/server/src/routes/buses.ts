/**
 * Setting up a bus (admin): the machine's serial ports with their USB chip, a scan of the
 * addresses on a port (started, then read for progress), and a test read of one pack.
 * Bodies are checked by the gateway's strict schemas (REQUEST_INVALID names the field).
 */
import { errorResponses } from '@openbms/contract/api';
import { BmsError } from '@openbms/core';
import type { FastifyInstance } from 'fastify';
import { actedBy, caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import type { BusSetupApi } from '../gateway-api.js';
import { refusal } from './settings.js';

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
  app.get(
    '/setup/protocols',
    {
      config: { access: 'admin', box: true },
      schema: {
        summary:
          'Protocol families for a bus: default line (baud, data bits, parity, stop bits) and the parity / stop bits each allows',
        tags: ['setup'],
        response: { 200: { type: 'array', items: anyObject }, ...errorResponses(403, 404) },
      },
    },
    async () => setupOf(ctx).protocols(),
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

  const idPattern = '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$';
  const params = {
    type: 'object',
    required: ['site', 'bus'],
    additionalProperties: false,
    properties: {
      site: { type: 'string', pattern: idPattern },
      bus: { type: 'string', pattern: idPattern },
    },
  } as const;
  const saver = () => {
    const save = ctx.box.saveBus;
    if (!save) throw new BmsError('NOT_FOUND', 'this server has no gateway that saves buses');
    return save.bind(ctx.box);
  };
  app.put<{
    Params: { site: string; bus: string };
    Body: { bus: Record<string, unknown>; site_name?: string };
  }>(
    '/setup/sites/:site/buses/:bus',
    {
      config: { access: 'admin', box: true },
      schema: {
        summary: 'Save a bus (port, protocol, link, named packs) and start polling it, no restart',
        tags: ['setup'],
        params,
        body: {
          type: 'object',
          required: ['bus'],
          additionalProperties: false,
          properties: {
            bus: { type: 'object', additionalProperties: true },
            site_name: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
        response: { 200: anyObject, 422: anyObject, ...errorResponses(400, 403, 404) },
      },
    },
    async (req, reply) => {
      let r: { started: string[]; stopped: string[] };
      try {
        r = await saver()(req.params.site, req.params.bus, req.body.bus, req.body.site_name);
      } catch (e) {
        // A bus that does not check: 422 with the issues at their fields, nothing saved.
        const sent = refusal(req, reply, e);
        if (sent) return sent;
        throw e;
      }
      await ctx.record({
        ...actedBy(caller(req)),
        action: 'bus.save',
        new: { site: req.params.site, bus: req.params.bus, value: req.body.bus },
        result: 'ok',
        detail: `saved and applied (started ${r.started.join(', ') || 'none'})`,
      });
      return r;
    },
  );
  app.delete<{ Params: { site: string; bus: string } }>(
    '/setup/sites/:site/buses/:bus',
    {
      config: { access: 'admin', box: true },
      schema: {
        summary: 'Remove a bus: it stops polling and frees its port, no restart',
        tags: ['setup'],
        params,
        response: { 200: anyObject, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const r = await saver()(req.params.site, req.params.bus, null);
      await ctx.record({
        ...actedBy(caller(req)),
        action: 'bus.remove',
        old: { site: req.params.site, bus: req.params.bus },
        result: 'ok',
        detail: `removed (stopped ${r.stopped.join(', ') || 'none'})`,
      });
      return r;
    },
  );
}
