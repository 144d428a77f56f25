/**
 * The tracker alarm list (issue 17, seed 003 "Alarm"; docs/trackers.md "Alarms"):
 * `GET /devices/:id/alarms` (one tracker) and `GET /tracker-alarms` (every tracker of the
 * caller's subtrees), newest first, each alarm with its place: the stored fix at or before the
 * alarm's time. Both leave out the types the caller turned off (`notify.alarmTypes`, in the
 * database query) unless `all=true`. Scope: the device list's (`subtreeRoots`); a device
 * outside it is 404, the fleet list reads the alarm events of the subtrees only.
 */
import { BmsError } from '@openbms/core';
import type {
  AccountStore,
  AlarmEvent,
  AlarmQuery,
  DeviceStore,
  PositionStore,
  Scope,
} from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import {
  deviceParams,
  errorResponses,
  trackerAlarmListSchema,
  trackerAlarmsQuery,
  type TrackerAlarmView,
  type TrackerAlarmsQuery,
} from '@openbms/contract/api';
import { caller, type Principal } from '../auth.js';
import type { ServerContext } from '../context.js';
import { subtreeRoots } from '../policy.js';
import { parseRange } from '../time.js';

const DAY_MS = 86_400_000;
const TRACKER_PREFIX = 'tracker/';

export function trackerAlarmRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  devices: DeviceStore,
  positions: PositionStore,
  accounts: AccountStore | undefined,
): void {
  /** The store query of the request: range, code, and the caller's types turned off. */
  const query = async (me: Principal, q: TrackerAlarmsQuery): Promise<AlarmQuery> => {
    const { from, to } = parseRange(q, ctx.clock(), 7 * DAY_MS);
    const notify = q.all ? null : ((await accounts?.profileOf(me.userId))?.notify ?? null);
    const off = Object.entries(notify?.alarmTypes ?? {})
      .filter(([, on]) => !on)
      .map(([code]) => code);
    return {
      from,
      to: to - 1,
      limit: q.limit ?? 200,
      ...(q.code !== undefined ? { code: q.code } : {}),
      ...(off.length > 0 ? { notCodes: off } : {}),
    };
  };

  const view = async (
    e: AlarmEvent,
    d: { id: string; serial: string } | undefined,
  ): Promise<TrackerAlarmView> => {
    const place = d ? await positions.latestAt(d.id, e.raisedAt) : undefined;
    return {
      id: e.id,
      device_id: d?.id ?? '',
      serial: d?.serial ?? e.packId.slice(TRACKER_PREFIX.length),
      code: e.code,
      severity: e.severity,
      raised_at: e.raisedAt,
      ...(e.clearedAt !== undefined ? { cleared_at: e.clearedAt } : {}),
      ...(e.ruleId !== undefined && e.code.startsWith('geofence_') ? { fence_id: e.ruleId } : {}),
      message: e.message,
      ...(place ? { lat: place.lat, lon: place.lon } : {}),
    };
  };

  app.get<{ Params: { id: string }; Querystring: TrackerAlarmsQuery }>(
    '/devices/:id/alarms',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'A tracker’s alarms, newest first, each with its place (the fix at or before it); the types I turned off are left out unless all=true',
        tags: ['devices'],
        params: deviceParams,
        querystring: trackerAlarmsQuery,
        response: { 200: trackerAlarmListSchema, ...errorResponses(400, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const within = subtreeRoots(me);
      const d = within.length > 0 ? await devices.get(within, req.params.id) : undefined;
      if (!d) throw new BmsError('NOT_FOUND', `no device "${req.params.id}"`);
      const q = await query(me, req.query);
      const scope: Scope = { orgIds: [], roots: within };
      const events = await ctx.alarms.list(scope, {
        ...q,
        packId: d.packId ?? `${TRACKER_PREFIX}${d.serial}`,
      });
      return Promise.all(events.map((e) => view(e, d)));
    },
  );

  app.get<{ Querystring: TrackerAlarmsQuery }>(
    '/tracker-alarms',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'The alarms of every tracker of my subtrees, newest first, with their places; the types I turned off are left out unless all=true',
        tags: ['devices'],
        querystring: trackerAlarmsQuery,
        response: { 200: trackerAlarmListSchema, ...errorResponses(400) },
      },
    },
    async (req) => {
      const me = caller(req);
      const within = subtreeRoots(me);
      if (within.length === 0) return [];
      const q = await query(me, req.query);
      const events = await ctx.alarms.list(
        { orgIds: [], roots: within },
        { ...q, packPrefix: TRACKER_PREFIX },
      );
      // The tracker of each event, by its serial, in the caller's subtrees (one look-up each).
      const bySerial = new Map<string, Promise<{ id: string; serial: string } | undefined>>();
      const deviceOf = (serial: string) => {
        let p = bySerial.get(serial);
        if (!p) {
          p = devices
            .list(within, { q: serial, limit: 20, now: ctx.clock() })
            .then((page) =>
              page.devices.find((x) => x.serial.toLowerCase() === serial.toLowerCase()),
            );
          bySerial.set(serial, p);
        }
        return p;
      };
      return Promise.all(
        events.map(async (e) => view(e, await deviceOf(e.packId.slice(TRACKER_PREFIX.length)))),
      );
    },
  );
}
