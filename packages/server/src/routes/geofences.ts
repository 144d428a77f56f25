/**
 * Tracker geofences (issue 17, seed 003 "fence"; docs/trackers.md "Geofences"):
 * `GET/POST /geofences`, `GET/PATCH/DELETE /geofences/:id`. Scope: the caller's subtrees
 * (`subtreeRoots`, applied by the store in SQL); a fence outside them is 404 like an unknown
 * one. Reading needs viewer; writing needs operator in the fence's organisation. Every
 * device a fence lists must be one the caller sees. Shapes are checked by the store's rules
 * (radius 10..100,000 m, 3..200 vertices in range, not crossing itself), errors naming the
 * API field (`shape.radius_m`, `shape.vertices`, `device_ids[2]`...).
 */
import { BmsError, isBmsError } from '@openbms/core';
import {
  geofenceChecks,
  type DeviceStore,
  type FenceShape,
  type Geofence,
  type GeofenceStore,
  type OrgStore,
} from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import {
  errorResponses,
  geofenceBody,
  geofenceListQuery,
  geofenceParams,
  geofencePatchBody,
  geofenceSchema,
  type GeofenceBody,
  type GeofencePatchBody,
  type GeofenceView,
} from '@openbms/contract/api';
import { actedBy, caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import { requireRole, subtreeRoots, type Principal } from '../policy.js';

type ShapeBody = GeofenceBody['shape'];

/** The store's field names → the API's. */
const apiField = (f: string): string =>
  f
    .replace('radiusM', 'radius_m')
    .replace('deviceIds', 'device_ids')
    .replace('orgWide', 'org_wide')
    .replace('orgId', 'org_id');

/** Runs a store call; its REQUEST_INVALID names the API field. */
async function asApi<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    const field = isBmsError(e) ? e.details?.['field'] : undefined;
    if (isBmsError(e) && typeof field === 'string') {
      const f = apiField(field);
      throw new BmsError(e.code, `body field "${f}": ${e.message.replace(field, '').trim()}`, {
        ...e.details,
        field: f,
      });
    }
    throw e;
  }
}

function shapeOf(b: ShapeBody): FenceShape {
  const { radius_m: radiusM, ...rest } = b as Record<string, unknown>;
  // The store checks every field; only the names change here.
  return (radiusM !== undefined ? { ...rest, radiusM } : rest) as unknown as FenceShape;
}

export function fenceView(g: Geofence): GeofenceView {
  return {
    id: g.id,
    org_id: g.orgId,
    name: g.name,
    shape:
      g.shape.kind === 'circle'
        ? { kind: 'circle', lat: g.shape.lat, lon: g.shape.lon, radius_m: g.shape.radiusM }
        : { kind: 'polygon', vertices: g.shape.vertices },
    alarm: g.alarm,
    device_ids: g.deviceIds,
    org_wide: g.orgWide,
    created_at: g.createdAt,
    updated_at: g.updatedAt,
  };
}

export function geofenceRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  fences: GeofenceStore,
  devices: DeviceStore,
  orgs: OrgStore,
): void {
  const notFound = (id: string) => new BmsError('NOT_FOUND', `no geofence "${id}"`);

  /** Every listed device must be one the caller sees (else 400 naming it). */
  const checkDevices = async (p: Principal, ids: readonly string[] | undefined) => {
    if (!ids) return;
    if (ids.length > geofenceChecks.MAX_FENCE_DEVICES)
      throw new BmsError(
        'REQUEST_INVALID',
        `body field "device_ids": at most ${geofenceChecks.MAX_FENCE_DEVICES} devices`,
        { field: 'device_ids' },
      );
    const within = subtreeRoots(p);
    for (const [i, id] of ids.entries()) {
      const d = within.length > 0 && id.length <= 64 ? await devices.get(within, id) : undefined;
      if (!d)
        throw new BmsError('REQUEST_INVALID', `body field "device_ids[${i}]": no device "${id}"`, {
          field: `device_ids[${i}]`,
        });
    }
  };

  const visible = async (p: Principal, id: string): Promise<Geofence> => {
    const within = subtreeRoots(p);
    const g = within.length > 0 ? await fences.get(within, id) : undefined;
    if (!g) throw notFound(id);
    return g;
  };

  app.get<{ Querystring: { device?: string } }>(
    '/geofences',
    {
      config: { access: 'viewer' },
      schema: {
        summary: "Geofences of the caller's subtrees, by name (optionally those listing a device)",
        tags: ['geofences'],
        querystring: geofenceListQuery,
        response: { 200: { type: 'array', items: geofenceSchema }, ...errorResponses() },
      },
    },
    async (req) => {
      const within = subtreeRoots(caller(req));
      if (within.length === 0) return [];
      const q = req.query.device !== undefined ? { deviceId: req.query.device } : {};
      return (await fences.list(within, q)).map(fenceView);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/geofences/:id',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'One geofence',
        tags: ['geofences'],
        params: geofenceParams,
        response: { 200: geofenceSchema, ...errorResponses(404) },
      },
    },
    async (req) => fenceView(await visible(caller(req), req.params.id)),
  );

  app.post<{ Body: GeofenceBody }>(
    '/geofences',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Create a geofence (circle or polygon) alarming on enter, exit or both',
        tags: ['geofences'],
        body: geofenceBody,
        response: { 201: geofenceSchema, ...errorResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const p = caller(req);
      const b = req.body;
      const orgId = b.org_id ?? p.orgId;
      const within = subtreeRoots(p);
      // An organisation the caller does not see is 404 (like an unknown one), before the role.
      if (within.length === 0 || !(await orgs.get(within, orgId)))
        throw new BmsError('NOT_FOUND', `no organisation "${orgId}"`, { field: 'org_id' });
      requireRole(p, 'operator', orgId, 'creating a geofence');
      await checkDevices(p, b.device_ids);
      const g = await asApi(
        fences.create(within, {
          orgId,
          name: b.name,
          shape: shapeOf(b.shape),
          alarm: b.alarm,
          deviceIds: b.device_ids ?? [],
          orgWide: b.org_wide ?? false,
          at: ctx.clock(),
        }),
      );
      await ctx.record(
        { ...actedBy(p), action: 'geofence.create', new: fenceView(g), result: 'ok' },
        { orgId: g.orgId, gatewayId: ctx.origin.gatewayId },
      );
      return reply.code(201).send(fenceView(g));
    },
  );

  app.patch<{ Params: { id: string }; Body: GeofencePatchBody }>(
    '/geofences/:id',
    {
      config: { access: 'operator' },
      schema: {
        summary:
          'Change a geofence (a new shape forgets the inside/outside states: the next fix sets them)',
        tags: ['geofences'],
        params: geofenceParams,
        body: geofencePatchBody,
        response: { 200: geofenceSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const p = caller(req);
      const old = await visible(p, req.params.id);
      requireRole(p, 'operator', old.orgId, 'changing a geofence');
      const b = req.body;
      await checkDevices(p, b.device_ids);
      const g = await asApi(
        fences.update(subtreeRoots(p), old.id, {
          ...(b.name !== undefined ? { name: b.name } : {}),
          ...(b.shape !== undefined ? { shape: shapeOf(b.shape) } : {}),
          ...(b.alarm !== undefined ? { alarm: b.alarm } : {}),
          ...(b.device_ids !== undefined ? { deviceIds: b.device_ids } : {}),
          ...(b.org_wide !== undefined ? { orgWide: b.org_wide } : {}),
          at: ctx.clock(),
        }),
      );
      await ctx.record(
        {
          ...actedBy(p),
          action: 'geofence.update',
          old: fenceView(old),
          new: fenceView(g),
          result: 'ok',
        },
        { orgId: g.orgId, gatewayId: ctx.origin.gatewayId },
      );
      return fenceView(g);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/geofences/:id',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Delete a geofence (its states go with it; its alarms stay in the history)',
        tags: ['geofences'],
        params: geofenceParams,
        response: { 200: geofenceSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const p = caller(req);
      const old = await visible(p, req.params.id);
      requireRole(p, 'operator', old.orgId, 'deleting a geofence');
      if (!(await fences.delete(subtreeRoots(p), old.id))) throw notFound(old.id);
      await ctx.record(
        { ...actedBy(p), action: 'geofence.delete', old: fenceView(old), result: 'ok' },
        { orgId: old.orgId, gatewayId: ctx.origin.gatewayId },
      );
      return fenceView(old);
    },
  );
}
