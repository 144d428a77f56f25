/**
 * Packs: live status from the gateways the caller may see, history from the telemetry store
 * in the scope of the pack's gateway. Another organisation's pack is 404, as a pack that does
 * not exist (policy.ts).
 */
import { BmsError } from '@openbms/core';
import type { Tier } from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import { caller } from '../auth.js';
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
import { pointShown } from '../policy.js';

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
    async (req) => {
      const me = caller(req);
      const links = ctx.policy.gateways(me);
      const views = await Promise.all(
        links.map(async (l) =>
          Promise.all(
            (await l.packs()).map(async (p) =>
              packView(p, await ctx.policy.points.filterForPack(me, l.orgId, p)),
            ),
          ),
        ),
      );
      return views.flat();
    },
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
      const me = caller(req);
      const { pack, link } = await ctx.policy.findPack(me, req.params.id, 'viewer');
      if (!pack) throw new BmsError('NOT_FOUND', `no pack "${req.params.id}"`);
      return packView(pack, await ctx.policy.points.filterForPack(me, link.orgId, pack));
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
      const me = caller(req);
      const { pack, scope, link } = await ctx.policy.findPack(me, id, 'viewer', ctx.telemetry);
      const latest = pack?.snapshot ?? (await ctx.telemetry.latest(scope, id))?.snapshot;
      const { from, to } = parseRange(req.query, ctx.clock(), DAY_MS);
      // Series of hidden points are left out (the policy's point groups), asked for or not.
      const shown = await ctx.policy.points.filterForPack(
        me,
        link.orgId,
        pack ?? { snapshot: latest },
      );
      const fields = parseFields(req.query.fields, latest).filter((f) =>
        pointShown(shown, f.split('.')[0]!),
      );
      const r = await ctx.reads.run(() =>
        ctx.telemetry.history(scope, {
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
