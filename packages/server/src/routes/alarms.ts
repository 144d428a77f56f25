/** Alarm events: list (history or active), acknowledge (operator), protection counts. */
import { BmsError } from '@openbms/core';
import type { FastifyInstance } from 'fastify';
import { caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import {
  ackSchema,
  alarmIdParams,
  alarmSchema,
  alarmsQuery,
  countsSchema,
  errorResponses,
  packQuery,
  type AlarmsQuery,
} from '@openbms/contract/api';
import { parseTime } from '../time.js';
import { alarmView } from '../views.js';

export function alarmRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Querystring: AlarmsQuery }>(
    '/alarms',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Alarm events, newest first',
        description:
          'active=true gives the alarms active now (from the gateway); otherwise the stored history.',
        tags: ['alarms'],
        querystring: alarmsQuery,
        response: { 200: { type: 'array', items: alarmSchema }, ...errorResponses() },
      },
    },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 100;
      const from = q.from !== undefined ? parseTime(q.from, 'from') : undefined;
      const to = q.to !== undefined ? parseTime(q.to, 'to') : undefined;
      if (from !== undefined && to !== undefined && from >= to) {
        throw new BmsError('REQUEST_INVALID', 'querystring field "to": must be after "from"', {
          field: 'to',
        });
      }
      const events =
        q.active === true && from === undefined && to === undefined
          ? ctx.gateway.activeAlarms(q.pack).slice(0, limit)
          : await ctx.alarms.list(ctx.scope, {
              ...(q.pack !== undefined ? { packId: q.pack } : {}),
              ...(q.active !== undefined ? { active: q.active } : {}),
              ...(from !== undefined ? { from } : {}),
              ...(to !== undefined ? { to } : {}),
              limit,
            });
      return events.map(alarmView);
    },
  );

  app.get<{ Querystring: { pack?: string } }>(
    '/alarms/counts',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Protection events per alarm code (optionally for one pack)',
        tags: ['alarms'],
        querystring: packQuery,
        response: { 200: countsSchema, ...errorResponses() },
      },
    },
    async (req) => await ctx.gateway.alarmCounts(req.query.pack),
  );

  app.post<{ Params: { id: number } }>(
    '/alarms/:id/ack',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Acknowledge an alarm event',
        tags: ['alarms'],
        params: alarmIdParams,
        response: { 200: ackSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const id = req.params.id;
      if (!(await ctx.gateway.acknowledgeAlarm(id, me.username))) {
        throw new BmsError('NOT_FOUND', `no unacknowledged alarm ${id}`);
      }
      await ctx.record({ user: me.username, action: 'alarm.ack', new: { id }, result: 'ok' });
      return { ok: true, id };
    },
  );
}
