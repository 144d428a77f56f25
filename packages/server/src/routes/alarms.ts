/**
 * Alarm events: list (history or active), acknowledge (operator), protection counts. Lists
 * read the store in the caller's scope (the database filters); active alarms come from the
 * gateways the caller may see; an acknowledgement is a command to the event's gateway.
 */
import { BmsError } from '@openbms/core';
import type { AlarmEvent } from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import type { GatewayLink } from '@openbms/gateway';
import { actedBy, caller, type Principal } from '../auth.js';
import { sendCommand } from '../commands.js';
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
import {
  deviceModels,
  filterAlarm,
  gatewayOrigin,
  gatewayScope,
  requireRole,
  type PointFilter,
} from '../policy.js';
import { parseTime } from '../time.js';
import { alarmView } from '../views.js';

/** Newest first (raise time, then id), as the store and the engine list them. */
const newestFirst = (a: AlarmEvent, b: AlarmEvent): number =>
  b.raisedAt - a.raisedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

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
      const me = caller(req);
      const q = req.query;
      const limit = q.limit ?? 100;
      const from = q.from !== undefined ? parseTime(q.from, 'from') : undefined;
      const to = q.to !== undefined ? parseTime(q.to, 'to') : undefined;
      if (from !== undefined && to !== undefined && from >= to) {
        throw new BmsError('REQUEST_INVALID', 'querystring field "to": must be after "from"', {
          field: 'to',
        });
      }
      if (q.active === true && from === undefined && to === undefined) {
        // Active now: from the gateways the caller may see, each filtering by the pack (or by
        // `gateway`, its own storage alarms).
        const links = ctx.policy.gateways(me);
        const active = (await Promise.all(links.map((l) => l.activeAlarms(q.pack)))).flat();
        if (links.length > 1) active.sort(newestFirst);
        return shownAlarms(me, active.slice(0, limit));
      }
      const scope = await ctx.policy.listScope(me, q.pack, ctx.telemetry);
      if (!scope) return [];
      const events = await ctx.alarms.list(scope, {
        ...(q.pack !== undefined ? { packId: q.pack } : {}),
        ...(q.active !== undefined ? { active: q.active } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        limit,
      });
      return shownAlarms(me, events);
    },
  );

  /**
   * Alarm events as the caller sees them (the policy's point groups: an event's reading only
   * when its point is shown); one filter per pack.
   */
  /** A pack's live status, or for a pack no longer polled its latest stored snapshot (its device model). */
  const packOf = async (link: GatewayLink, packId: string) =>
    (await link.pack(packId)) ?? {
      snapshot: (await ctx.telemetry.latest(gatewayScope(link), packId))?.snapshot,
    };
  const shownAlarms = async (me: Principal, events: readonly AlarmEvent[]) => {
    const filters = new Map<string, Promise<PointFilter>>();
    return Promise.all(
      events.map(async (e) => {
        const key = `${e.gatewayId} ${e.packId}`;
        let f = filters.get(key);
        if (!f) {
          const link = ctx.gateways.get(e.gatewayId);
          f = link
            ? packOf(link, e.packId).then((p) => ctx.policy.points.filterForPack(me, link.orgId, p))
            : ctx.policy.points.filterFor(me, e.orgId, deviceModels(undefined));
          filters.set(key, f);
        }
        return alarmView(filterAlarm(e, await f));
      }),
    );
  };

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
    async (req) => {
      const pack = req.query.pack;
      const scope = await ctx.policy.listScope(caller(req), pack, ctx.telemetry);
      return scope ? await ctx.alarms.counts(scope, pack) : {};
    },
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
      // The event by its gateway's number, among the gateways the caller may see.
      const found: { link: (typeof links)[number]; event: AlarmEvent }[] = [];
      const links = ctx.policy.gateways(me);
      for (const link of links) {
        const event = await ctx.alarms.get(gatewayScope(link), { localId: id });
        if (event) found.push({ link, event });
      }
      if (found.length === 0) throw new BmsError('NOT_FOUND', `no unacknowledged alarm ${id}`);
      if (found.length > 1) {
        throw new BmsError(
          'REQUEST_INVALID',
          `alarm ${id} names events on ${found.length} gateways`,
          { field: 'id' },
        );
      }
      const { link, event } = found[0]!;
      requireRole(me, 'operator', link.orgId, 'acknowledging an alarm');
      await sendCommand(link, me, event.packId, 'alarm.ack', { alarm: id });
      await ctx.record(
        { ...actedBy(me), action: 'alarm.ack', new: { id }, result: 'ok' },
        gatewayOrigin(link),
      );
      return { ok: true, id };
    },
  );
}
