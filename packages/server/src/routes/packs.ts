/** Packs: live status from the gateway, history from the telemetry store. */
import { BmsError } from '@openbms/core';
import type { Tier } from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { parseFields } from '../fields.js';
import {
  errorResponses,
  historyQuery,
  historySchema,
  packIdParams,
  packSchema,
  type HistoryView,
} from '@openbms/contract/api';
import { parseRange } from '../time.js';
import { packView } from '../views.js';

const DAY_MS = 24 * 3600 * 1000;

interface HistoryQs {
  from?: string;
  to?: string;
  fields?: string;
  resolution?: Tier | 'auto';
}

export function packRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/packs',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Every pack with its live status and latest snapshot',
        tags: ['packs'],
        response: { 200: { type: 'array', items: packSchema }, ...errorResponses() },
      },
    },
    async () => ctx.gateway.packs().map(packView),
  );

  app.get<{ Params: { id: string } }>(
    '/packs/:id',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'One pack',
        tags: ['packs'],
        params: packIdParams,
        response: { 200: packSchema, ...errorResponses(404) },
      },
    },
    async (req) => {
      const p = ctx.gateway.pack(req.params.id);
      if (!p) throw new BmsError('NOT_FOUND', `no pack "${req.params.id}"`);
      return packView(p);
    },
  );

  app.get<{ Params: { id: string }; Querystring: HistoryQs }>(
    '/packs/:id/history',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'History of a pack: at most ~2,000 points per series (min/max/avg)',
        description:
          'Defaults: to = now, from = to - 24 h, fields = voltage_v,current_a,power_w,soc_pct, ' +
          'resolution = auto (the coarsest tier that still gives about 2,000 points).',
        tags: ['packs'],
        params: packIdParams,
        querystring: historyQuery,
        response: { 200: historySchema, ...errorResponses(404) },
      },
    },
    async (req): Promise<HistoryView> => {
      const id = req.params.id;
      const pack = ctx.gateway.pack(id);
      const latest = pack?.snapshot ?? (await ctx.telemetry.latest(ctx.scope, id))?.snapshot;
      if (!pack && !latest) throw new BmsError('NOT_FOUND', `no pack "${id}"`);
      const { from, to } = parseRange(req.query, ctx.clock(), DAY_MS);
      const fields = parseFields(req.query.fields, latest);
      const r = await ctx.reads.run(() =>
        ctx.telemetry.history(ctx.scope, {
          packId: id,
          from,
          to,
          fields,
          resolution: req.query.resolution ?? 'auto',
        }),
      );
      return {
        pack_id: r.packId,
        resolution: r.resolution,
        from: r.from,
        to: r.to,
        series: r.series,
      };
    },
  );
}
