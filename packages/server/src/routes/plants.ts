/**
 * Plants, their visitors and collectors (docs/fleet.md "Plants"; seed 000 "Create Plant",
 * "Add collector", "Plant Visitor").
 *
 * Who sees a plant: the members of its organisation's subtree (their fleet memberships,
 * applied by the store in SQL) and its visitors; anything else is 404, exactly as what does not
 * exist. Who changes it: an administrator or manager of its organisation or of one above it
 * (the admin rank, policy.ts); seen but not allowed (a viewer, a visitor) is 403.
 *
 * - `POST /plants`, `GET /plants`, `GET|PATCH|DELETE /plants/:id`: a plant is deleted only
 *   without collectors (detach them first: no logger drops out of sight by accident).
 * - `POST /plants/:id/visitors {email}`: shares the plant read-only with an existing account;
 *   `GET` lists them (members only: a visitor does not see who else visits), `DELETE
 *   /plants/:id/visitors/:user` ends the share. A visitor reads that plant's collectors'
 *   packs, live data, history, alarms and exports (the policy adds their gateways) and writes
 *   nothing.
 * - `POST /plants/:id/collectors {gateway_id, name?, serial?}` attaches a gateway the caller
 *   sees with the admin rank (a gateway is a collector of one plant at most); `GET` lists them
 *   with their batteries live; `DELETE /plants/:id/collectors/:gateway_id` detaches.
 *
 * Every change is audited under the plant's organisation; a change of a plant's visitors or
 * collectors counts from the visitors' next request and at once on their open live streams.
 */
import { BmsError, isBmsError } from '@openbms/core';
import {
  emailAddress,
  localRole,
  type AccountStore,
  type Collector,
  type OrgStore,
  type Plant,
  type PlantStore,
  type PlantVisitor,
  type PlantView as StoreView,
} from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import {
  collectorAddBody,
  collectorSchema,
  errorResponses,
  plantCollectorParams,
  plantCreateBody,
  plantParams,
  plantPatchBody,
  plantSchema,
  plantVisitorParams,
  visitorAddBody,
  visitorSchema,
  type CollectorAdd,
  type CollectorView,
  type PlantCreate,
  type PlantPatchBody,
  type PlantView,
  type VisitorView,
} from '@openbms/contract/api';
import { actedBy, caller, type Principal } from '../auth.js';
import type { ServerContext } from '../context.js';
import { allows, roleIn } from '../policy.js';

/**
 * A plant as the caller sees it. A visitor (not a member of the owner) gets the plant, not who
 * of the owner's staff created it: that user id is the owner's, like its member list.
 */
const plantView = (p: Plant, me: Principal): PlantView => {
  const role = roleIn(me, p.orgId);
  return {
    id: p.id,
    org_id: p.orgId,
    name: p.name,
    business_type: p.businessType,
    plant_type: p.plantType,
    ...(p.lat !== undefined && p.lon !== undefined ? { lat: p.lat, lon: p.lon } : {}),
    time_zone: p.timeZone,
    created_at: p.createdAt,
    ...(p.createdBy !== undefined && role !== undefined ? { created_by: p.createdBy } : {}),
    access: role ?? 'visitor',
  };
};

const visitorView = (v: PlantVisitor): VisitorView => ({
  plant_id: v.plantId,
  user_id: v.userId,
  username: v.username,
  ...(v.email !== undefined ? { email: v.email } : {}),
  created_at: v.createdAt,
});

/** Rethrows a store refusal naming `from` as naming `to` (the request's field). */
async function renamed<T>(call: Promise<T>, from: string, to: string): Promise<T> {
  try {
    return await call;
  } catch (e) {
    if (!isBmsError(e) || e.details?.['field'] !== from) throw e;
    throw new BmsError(e.code, e.message.replace(from, to), { ...e.details, field: to });
  }
}

export function plantRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  plants: PlantStore,
  orgs: OrgStore,
  accounts: AccountStore | undefined,
): void {
  /** What the caller sees: their organisations' subtrees and the plants shared with them. */
  const view = (p: Principal): StoreView => ({
    within: p.fleet.map((m) => m.orgId),
    visitor: p.userId,
  });
  /** Where the caller changes plants: the subtrees of their memberships with the admin rank. */
  const adminRoots = (p: Principal): string[] => {
    const roots = p.fleet.filter((m) => localRole(m.role) === 'admin').map((m) => m.orgId);
    if (allows(p, 'admin', p.orgId) && !roots.includes(p.orgId)) roots.push(p.orgId);
    return roots;
  };
  const notFound = (id: string) => new BmsError('NOT_FOUND', `no plant "${id}"`);
  /** The plant seen by the caller, else 404. */
  const seen = async (me: Principal, id: string): Promise<Plant> => {
    const p = await plants.get(view(me), id);
    if (!p) throw notFound(id);
    return p;
  };
  /** The plant, when the caller may change it (admin rank in its organisation): 404 unseen, 403 seen. */
  const managed = async (me: Principal, id: string, what: string): Promise<Plant> => {
    const p = await seen(me, id);
    if (!allows(me, 'admin', p.orgId)) {
      throw new BmsError(
        'FORBIDDEN',
        `${what} needs the manager or administrator role in the plant's organisation or above; ${me.username} is ${roleIn(me, p.orgId) ?? 'a visitor'}`,
      );
    }
    return p;
  };
  const whose = (orgId: string) => ({ orgId, gatewayId: ctx.origin.gatewayId });
  /** Open live streams of a plant's visitors act with its collectors as they are now (`me` manages it). */
  const refreshVisitors = async (me: Principal, plantId: string): Promise<void> => {
    for (const v of await plants.visitors(adminRoots(me), plantId))
      await ctx.live.refreshUser(v.userId);
  };

  const collectorView = async (me: Principal, c: Collector): Promise<CollectorView> => {
    const link = ctx.gateways.get(c.gatewayId);
    const visible = link !== undefined && ctx.policy.canSee(me, c.gatewayId);
    const packs = visible ? await link.packs() : [];
    return {
      plant_id: c.plantId,
      gateway_id: c.gatewayId,
      ...(c.name !== undefined ? { name: c.name } : {}),
      ...(c.serial !== undefined ? { serial: c.serial } : {}),
      created_at: c.createdAt,
      online: visible,
      packs: packs.map((p) => ({
        id: p.id,
        name: p.name,
        bus: p.bus,
        address: p.address,
        protocol: p.protocol,
        online: p.online,
      })),
    };
  };

  app.post<{ Body: PlantCreate }>(
    '/plants',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Create a plant of an organisation where the caller is manager or administrator (or above)',
        tags: ['plants'],
        body: plantCreateBody,
        response: { 201: plantSchema, ...errorResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const b = req.body;
      const within = view(me).within;
      if (within.length === 0 || !(await orgs.get(within, b.org_id)))
        throw new BmsError('NOT_FOUND', `no organisation "${b.org_id}"`, { field: 'org_id' });
      if (!allows(me, 'admin', b.org_id)) {
        throw new BmsError(
          'FORBIDDEN',
          `creating a plant of "${b.org_id}" needs the manager or administrator role there or above`,
        );
      }
      const p = await plants.create(adminRoots(me), {
        orgId: b.org_id,
        name: b.name,
        businessType: b.business_type,
        plantType: b.plant_type,
        ...(b.lat !== undefined ? { lat: b.lat } : {}),
        ...(b.lon !== undefined ? { lon: b.lon } : {}),
        timeZone: b.time_zone,
        createdAt: ctx.clock(),
        createdBy: me.userId,
      });
      const shown = plantView(p, me);
      await ctx.record(
        { ...actedBy(me), action: 'plant.create', new: shown, result: 'ok' },
        whose(p.orgId),
      );
      return reply.status(201).send(shown);
    },
  );

  app.get(
    '/plants',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'The plants the caller sees: of its organisations’ subtrees, and those shared with it',
        tags: ['plants'],
        response: { 200: { type: 'array', items: plantSchema } },
      },
    },
    async (req) => {
      const me = caller(req);
      return (await plants.list(view(me))).map((p) => plantView(p, me));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/plants/:id',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'A plant the caller sees',
        tags: ['plants'],
        params: plantParams,
        response: { 200: plantSchema, ...errorResponses(404) },
      },
    },
    async (req) => {
      const me = caller(req);
      return plantView(await seen(me, req.params.id), me);
    },
  );

  app.patch<{ Params: { id: string }; Body: PlantPatchBody }>(
    '/plants/:id',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Edit a plant (manager or administrator of its organisation or above)',
        tags: ['plants'],
        params: plantParams,
        body: plantPatchBody,
        response: { 200: plantSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const before = await managed(me, req.params.id, 'editing a plant');
      const b = req.body;
      const after = await plants.update(adminRoots(me), before.id, {
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.business_type !== undefined ? { businessType: b.business_type } : {}),
        ...(b.plant_type !== undefined ? { plantType: b.plant_type } : {}),
        ...(b.lat !== undefined ? { lat: b.lat } : {}),
        ...(b.lon !== undefined ? { lon: b.lon } : {}),
        ...(b.time_zone !== undefined ? { timeZone: b.time_zone } : {}),
      });
      const shown = plantView(after, me);
      await ctx.record(
        {
          ...actedBy(me),
          action: 'plant.edit',
          old: plantView(before, me),
          new: shown,
          result: 'ok',
        },
        whose(after.orgId),
      );
      return shown;
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/plants/:id',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Delete a plant without collectors (detach them first); its visitors lose it (manager or administrator)',
        tags: ['plants'],
        params: plantParams,
        response: { 200: plantSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const p = await managed(me, req.params.id, 'deleting a plant');
      const visitors = await plants.visitors(adminRoots(me), p.id);
      const gone = await plants.delete(adminRoots(me), p.id);
      for (const v of visitors) await ctx.live.refreshUser(v.userId);
      const shown = plantView(gone, me);
      await ctx.record(
        { ...actedBy(me), action: 'plant.delete', old: shown, result: 'ok' },
        whose(gone.orgId),
      );
      return shown;
    },
  );

  // ---------------------------------------------------------------- visitors

  app.post<{ Params: { id: string }; Body: { email: string } }>(
    '/plants/:id/visitors',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Share a plant read-only with an existing account, found by its e-mail address (manager or administrator)',
        tags: ['plants'],
        params: plantParams,
        body: visitorAddBody,
        response: { 201: visitorSchema, ...errorResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const p = await managed(me, req.params.id, 'sharing a plant');
      const email = emailAddress(req.body.email);
      const user = accounts ? await accounts.userByEmail(email) : undefined;
      if (!user) throw new BmsError('NOT_FOUND', `no account uses ${email}`, { field: 'email' });
      const v = await renamed(
        plants.addVisitor(adminRoots(me), p.id, {
          userId: user.id,
          createdAt: ctx.clock(),
          createdBy: me.userId,
        }),
        'user_id',
        'email',
      );
      await ctx.live.refreshUser(v.userId);
      await ctx.record(
        {
          ...actedBy(me),
          action: 'plant.visitor.add',
          new: { plant_id: p.id, user_id: v.userId, username: v.username, email },
          result: 'ok',
        },
        whose(p.orgId),
      );
      return reply.status(201).send(visitorView(v));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/plants/:id/visitors',
    {
      config: { access: 'viewer' },
      schema: {
        summary: "A plant's visitors, oldest first (members of its organisation's subtree)",
        tags: ['plants'],
        params: plantParams,
        response: { 200: { type: 'array', items: visitorSchema }, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const p = await seen(me, req.params.id);
      if (roleIn(me, p.orgId) === undefined)
        throw new BmsError('FORBIDDEN', 'a visitor does not see who else visits the plant');
      return (await plants.visitors(view(me).within, p.id)).map(visitorView);
    },
  );

  app.delete<{ Params: { id: string; user: string } }>(
    '/plants/:id/visitors/:user',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'End a share (manager or administrator)',
        tags: ['plants'],
        params: plantVisitorParams,
        response: { 200: visitorSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const p = await managed(me, req.params.id, 'ending a share');
      const v = await plants.removeVisitor(adminRoots(me), p.id, req.params.user);
      await ctx.live.refreshUser(v.userId);
      await ctx.record(
        {
          ...actedBy(me),
          action: 'plant.visitor.remove',
          old: { plant_id: p.id, user_id: v.userId, username: v.username },
          result: 'ok',
        },
        whose(p.orgId),
      );
      return visitorView(v);
    },
  );

  // ---------------------------------------------------------------- collectors

  app.post<{ Params: { id: string }; Body: CollectorAdd }>(
    '/plants/:id/collectors',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Attach a gateway the caller administers to a plant as its collector (one plant per gateway)',
        tags: ['plants'],
        params: plantParams,
        body: collectorAddBody,
        response: { 201: collectorSchema, ...errorResponses(403, 404) },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const p = await managed(me, req.params.id, 'attaching a collector');
      const { gateway_id: gatewayId, name, serial } = req.body;
      if (!ctx.policy.gateways(me, 'viewer').some((l) => l.gatewayId === gatewayId))
        throw new BmsError('NOT_FOUND', `no gateway "${gatewayId}"`, { field: 'gateway_id' });
      if (!ctx.policy.gateways(me, 'admin').some((l) => l.gatewayId === gatewayId)) {
        throw new BmsError(
          'FORBIDDEN',
          `attaching gateway "${gatewayId}" needs the manager or administrator role in its organisation`,
        );
      }
      const k = await plants.attachCollector(adminRoots(me), p.id, {
        gatewayId,
        ...(name !== undefined ? { name } : {}),
        ...(serial !== undefined ? { serial } : {}),
        createdAt: ctx.clock(),
        createdBy: me.userId,
      });
      await refreshVisitors(me, p.id);
      await ctx.record(
        {
          ...actedBy(me),
          action: 'plant.collector.attach',
          new: { plant_id: p.id, gateway_id: gatewayId, name, serial },
          result: 'ok',
        },
        whose(p.orgId),
      );
      return reply.status(201).send(await collectorView(me, k));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/plants/:id/collectors',
    {
      config: { access: 'viewer' },
      schema: {
        summary: "A plant's collectors with their batteries (BMS) live, oldest first",
        tags: ['plants'],
        params: plantParams,
        response: { 200: { type: 'array', items: collectorSchema }, ...errorResponses(404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const list = await plants.collectors(view(me), req.params.id).catch((e: unknown) => {
        throw isBmsError(e) && e.code === 'NOT_FOUND' ? notFound(req.params.id) : e;
      });
      return Promise.all(list.map((k) => collectorView(me, k)));
    },
  );

  app.delete<{ Params: { id: string; gateway_id: string } }>(
    '/plants/:id/collectors/:gateway_id',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Detach a collector from a plant (manager or administrator)',
        tags: ['plants'],
        params: plantCollectorParams,
        response: { 200: collectorSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const p = await managed(me, req.params.id, 'detaching a collector');
      const k = await plants.detachCollector(adminRoots(me), p.id, req.params.gateway_id);
      await refreshVisitors(me, p.id);
      await ctx.record(
        {
          ...actedBy(me),
          action: 'plant.collector.detach',
          old: { plant_id: p.id, gateway_id: k.gatewayId, name: k.name, serial: k.serial },
          result: 'ok',
        },
        whose(p.orgId),
      );
      return collectorView(me, k);
    },
  );
}
