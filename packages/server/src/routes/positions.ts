/**
 * A tracker's positions and mileage (issue 17, docs/trackers.md):
 * `GET /devices/:id/positions?from&to` and `GET /devices/:id/mileage?from&to&step=day|month`.
 * The device is looked up in the caller's subtrees (the policy's `subtreeRoots`, applied by the
 * device store in SQL): outside them it is 404 like an unknown device; its positions are read
 * only then.
 */
import { BmsError } from '@openbms/core';
import { MileageCounter } from '@openbms/gateway';
import { MAX_POSITIONS, type DeviceStore, type PositionStore } from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import {
  deviceParams,
  errorResponses,
  mileageQuery,
  mileageSchema,
  positionListSchema,
  positionsQuery,
  type MileageQuery,
  type MileageView,
  type PositionView,
  type PositionsQuery,
} from '@openbms/contract/api';
import { caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import { subtreeRoots } from '../policy.js';
import { parseRange } from '../time.js';

const DAY_MS = 86_400_000;
/** The longest mileage range (a year and a day). */
const MAX_MILEAGE_MS = 367 * DAY_MS;

/** Start of the UTC day or month after `t`'s. */
function nextBoundary(t: number, step: 'day' | 'month'): number {
  const d = new Date(t);
  return step === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

export function positionRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  devices: DeviceStore,
  positions: PositionStore,
): void {
  const visible = async (
    req: { params: { id: string } },
    principal: Parameters<typeof subtreeRoots>[0],
  ) => {
    const within = subtreeRoots(principal);
    const d = within.length > 0 ? await devices.get(within, req.params.id) : undefined;
    if (!d) throw new BmsError('NOT_FOUND', `no device "${req.params.id}"`);
    return d;
  };

  app.get<{ Params: { id: string }; Querystring: PositionsQuery }>(
    '/devices/:id/positions',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'A tracker’s positions over a range, by device time',
        tags: ['devices'],
        params: deviceParams,
        querystring: positionsQuery,
        response: { 200: positionListSchema, ...errorResponses(400, 404) },
      },
    },
    async (req): Promise<PositionView[]> => {
      const d = await visible(req, caller(req));
      const { from, to } = parseRange(req.query, ctx.clock(), DAY_MS);
      const ps = await positions.list(d.id, { from, to, limit: MAX_POSITIONS });
      if (ps.length >= MAX_POSITIONS && ps[ps.length - 1]!.t < to - 1) {
        const more = await positions.list(d.id, { from: ps[ps.length - 1]!.t + 1, to, limit: 1 });
        if (more.length > 0)
          throw new BmsError(
            'REQUEST_INVALID',
            `querystring field "from": the range holds more than ${MAX_POSITIONS} positions; narrow it`,
            { field: 'from' },
          );
      }
      return ps.map((p) => ({
        t: p.t,
        lat: p.lat,
        lon: p.lon,
        ...(p.speedKmh !== undefined ? { speed_kmh: p.speedKmh } : {}),
        ...(p.course !== undefined ? { course: p.course } : {}),
        ...(p.altM !== undefined ? { alt_m: p.altM } : {}),
        ...(p.satellites !== undefined ? { satellites: p.satellites } : {}),
      }));
    },
  );

  app.get<{ Params: { id: string }; Querystring: MileageQuery }>(
    '/devices/:id/mileage',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Kilometres a tracker travelled per UTC day or month (haversine, jitter filtered)',
        tags: ['devices'],
        params: deviceParams,
        querystring: mileageQuery,
        response: { 200: mileageSchema, ...errorResponses(400, 404) },
      },
    },
    async (req): Promise<MileageView> => {
      const d = await visible(req, caller(req));
      const step = req.query.step ?? 'day';
      const { from, to } = parseRange(req.query, ctx.clock(), 7 * DAY_MS);
      if (to - from > MAX_MILEAGE_MS)
        throw new BmsError('REQUEST_INVALID', 'querystring field "from": at most 367 days', {
          field: 'from',
        });
      const periods: MileageView['periods'] = [];
      for (let a = from; a < to;) {
        const b = Math.min(nextBoundary(a, step), to);
        periods.push({ from: a, to: b, km: 0 });
        a = b;
      }
      const counter = new MileageCounter();
      let p = 0;
      // Pages of fixes (each at most MAX_POSITIONS), so a year of 10 s fixes stays bounded.
      for (let cursor = from; cursor < to;) {
        const page = await positions.list(d.id, { from: cursor, to, limit: 10_000 });
        for (const f of page) {
          while (f.t >= periods[p]!.to) p++;
          periods[p]!.km += counter.add(f) / 1000;
        }
        if (page.length < 10_000) break;
        cursor = page[page.length - 1]!.t + 1;
      }
      const round = (x: number) => Math.round(x * 1000) / 1000;
      return {
        total_km: round(counter.metres / 1000),
        periods: periods.map((x) => ({ ...x, km: round(x.km) })),
      };
    },
  );
}
