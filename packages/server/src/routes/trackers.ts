/**
 * The console's map routes (issue 17, docs/trackers.md "Map and playback", "Fleet map"):
 *
 * - `GET /trackers/positions?status&org`: the last fix of every tracker device in the caller's
 *   subtrees (the policy's `subtreeRoots`, applied by the device store in SQL), at most
 *   MAX_FLEET devices, with what the device list says of each (status, organisation);
 * - `GET /devices/:id/position`: one tracker's last fix (404 outside the caller's subtrees, like
 *   an unknown device; no fix yet: 200 without `fix`);
 * - `GET /map`: the tiles the console draws under its maps (config `web.map`), for any
 *   signed-in user.
 */
import { BmsError } from '@openbms/core';
import {
  ONLINE_WINDOW_MS,
  type DeviceStatus,
  type DeviceStore,
  type ListedDevice,
  type Position,
  type PositionStore,
} from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import {
  deviceParams,
  errorResponses,
  fleetPositionsQuery,
  fleetPositionsSchema,
  lastPositionSchema,
  mapConfigSchema,
  type FleetPositionView,
  type FleetPositionsQuery,
  type FleetPositionsView,
  type LastPositionView,
  type MapConfigView,
} from '@openbms/contract/api';
import { caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import { subtreeRoots } from '../policy.js';

/** The most trackers one fleet answer holds. */
export const MAX_FLEET = 10_000;
const PAGE = 500;

/** The console's map tiles (config `web.map`). */
export interface MapOptions {
  tiles?: string;
  attribution?: string;
  maxZoom?: number;
}

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

/** A fix as the API answers it, with the battery's SOC and voltage when the frame had them. */
export function fixView(p: Position): FleetPositionView['fix'] {
  const soc = num(p.extras?.['battery_pct']) ?? num(p.extras?.['soc_pct']);
  const voltage = num(p.extras?.['battery_v']);
  const signal = num(p.extras?.['rssi']);
  const iccid = p.extras?.['iccid'];
  return {
    t: p.t,
    received_at: p.receivedAt,
    lat: p.lat,
    lon: p.lon,
    ...(p.speedKmh !== undefined ? { speed_kmh: p.speedKmh } : {}),
    ...(p.course !== undefined ? { course: p.course } : {}),
    ...(p.altM !== undefined ? { alt_m: p.altM } : {}),
    ...(p.satellites !== undefined ? { satellites: p.satellites } : {}),
    ...(soc !== undefined ? { soc } : {}),
    ...(voltage !== undefined ? { voltage } : {}),
    ...(signal !== undefined ? { signal } : {}),
    ...(typeof iccid === 'string' && iccid.length <= 32 ? { iccid } : {}),
  };
}

function trackerView(d: ListedDevice, fix: Position, now: number): FleetPositionView {
  return {
    device_id: d.id,
    serial: d.serial,
    ...(d.nickname !== undefined ? { nickname: d.nickname } : {}),
    org_id: d.orgId,
    org_name: d.orgName,
    online: d.lastSeenAt !== undefined && d.lastSeenAt >= now - ONLINE_WINDOW_MS,
    activation: d.activation,
    ...(d.expiresAt !== undefined ? { expires_at: d.expiresAt } : {}),
    ...(d.lastSeenAt !== undefined ? { last_seen_at: d.lastSeenAt } : {}),
    fix: fixView(fix),
  };
}

export function trackerRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  devices: DeviceStore,
  positions: PositionStore,
): void {
  app.get<{ Querystring: FleetPositionsQuery }>(
    '/trackers/positions',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          "The last fix of every tracker in the caller's subtrees (at most 10,000), with its status and organisation",
        tags: ['devices'],
        querystring: fleetPositionsQuery,
        response: { 200: fleetPositionsSchema, ...errorResponses(400, 404) },
      },
    },
    async (req): Promise<FleetPositionsView> => {
      const within = subtreeRoots(caller(req));
      if (within.length === 0) return { trackers: [], truncated: false };
      const now = ctx.clock();
      const found: ListedDevice[] = [];
      let after: string | undefined;
      let truncated = false;
      do {
        const page = await devices.list(within, {
          status: (req.query.status ?? 'all') as DeviceStatus,
          type: 'tracker',
          ...(req.query.org !== undefined ? { org: req.query.org } : {}),
          ...(after !== undefined ? { after } : {}),
          limit: PAGE,
          now,
        });
        found.push(...page.devices);
        after = page.next;
        if (found.length > MAX_FLEET) {
          found.length = MAX_FLEET;
          truncated = true;
          break;
        }
      } while (after !== undefined);
      const last = new Map(
        (await positions.latest(found.map((d) => d.id))).map((p) => [p.deviceId, p]),
      );
      const trackers: FleetPositionView[] = [];
      for (const d of found) {
        const p = last.get(d.id);
        if (p) trackers.push(trackerView(d, p, now));
      }
      return { trackers, truncated };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/devices/:id/position',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'A tracker’s last fix by device time (absent when it has reported none)',
        tags: ['devices'],
        params: deviceParams,
        response: { 200: lastPositionSchema, ...errorResponses(404) },
      },
    },
    async (req): Promise<LastPositionView> => {
      const within = subtreeRoots(caller(req));
      const d = within.length > 0 ? await devices.get(within, req.params.id) : undefined;
      if (!d) throw new BmsError('NOT_FOUND', `no device "${req.params.id}"`);
      const [p] = await positions.latest([d.id]);
      return p ? { fix: fixView(p) } : {};
    },
  );
}

export function mapRoutes(app: FastifyInstance, map: MapOptions | undefined): void {
  app.get(
    '/map',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'The tiles the console draws its maps on (config web.map); none: a graticule',
        tags: ['devices'],
        response: { 200: mapConfigSchema },
      },
    },
    async (): Promise<MapConfigView> => ({
      ...(map?.tiles !== undefined ? { tiles: map.tiles } : {}),
      attribution: map?.attribution ?? '',
      max_zoom: map?.maxZoom ?? 19,
    }),
  );
}
