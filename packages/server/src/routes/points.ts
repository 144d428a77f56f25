/**
 * Point groups (seed 000 "Set of points", docs/fleet.md "Point groups"):
 *
 * - `GET /orgs/:id/point-groups`: any member who sees the organisation (404 outside).
 * - `PUT /orgs/:id/point-groups {groups}`: the organisation's manager only (seed 000: "only the
 *   person in charge has this permission"); everyone else who sees it gets 403. The groups are
 *   saved whole and audited (`points.groups`, old and new).
 * - `GET /orgs/:id/points`: what a group may list: every point with its label and unit, and
 *   the device models of the packs the caller sees in the organisation's subtree with the
 *   points they report (the "Set of points" page's columns).
 *
 * What a principal sees of a pack is the policy's (`PointPolicy.filterFor`), never computed here.
 */
import { BmsError, DERIVED_METRICS, METRICS } from '@openbms/core';
import {
  ALWAYS_SHOWN,
  POINTS,
  pointGroups,
  type OrgStore,
  type PointGroup,
  type PointGroupStore,
} from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import {
  errorResponses,
  orgParams,
  pointCatalogSchema,
  pointGroupsBody,
  pointGroupsSchema,
  type PointCatalogView,
  type PointGroupsBody,
  type PointGroupsView,
} from '@openbms/contract/api';
import { actedBy, caller, type Principal } from '../auth.js';
import type { ServerContext } from '../context.js';
import { deviceModels } from '../policy.js';

const groupView = (g: PointGroup): PointGroupsView['groups'][number] => ({
  name: g.name,
  kind: g.kind,
  roles: g.roles,
  points: g.points,
  ...(g.updatedAt !== null ? { updated_at: g.updatedAt } : {}),
});

const CATALOG = [...METRICS, ...DERIVED_METRICS].filter((m) => POINTS.includes(m.key));

export function pointGroupRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  orgs: OrgStore,
  points: PointGroupStore,
): void {
  const notFound = (id: string) => new BmsError('NOT_FOUND', `no organisation "${id}"`);
  /** The organisation when the caller sees it (its fleet memberships' subtrees), else 404. */
  const seen = async (p: Principal, id: string) => {
    const within = p.fleet.map((m) => m.orgId);
    if (within.length === 0 || !(await orgs.get(within, id))) throw notFound(id);
  };

  app.get<{ Params: { id: string } }>(
    '/orgs/:id/point-groups',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          "An organisation's point groups: which data points each role sees, per device model",
        tags: ['organisations'],
        params: orgParams,
        response: { 200: pointGroupsSchema, ...errorResponses(404) },
      },
    },
    async (req): Promise<PointGroupsView> => {
      await seen(caller(req), req.params.id);
      const groups = await points.list([req.params.id]);
      return { org_id: req.params.id, groups: groups.map(groupView) };
    },
  );

  app.put<{ Params: { id: string }; Body: PointGroupsBody }>(
    '/orgs/:id/point-groups',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          "Replace an organisation's point groups (its manager only): the End User Group first, then groups for other roles",
        tags: ['organisations'],
        params: orgParams,
        body: pointGroupsBody,
        response: { 200: pointGroupsSchema, ...errorResponses(403, 404) },
      },
    },
    async (req): Promise<PointGroupsView> => {
      const me = caller(req);
      const { id } = req.params;
      await seen(me, id);
      if (!me.fleet.some((m) => m.orgId === id && m.role === 'manager')) {
        throw new BmsError(
          'FORBIDDEN',
          `only the manager of organisation "${id}" (the person in charge) sets data permissions`,
        );
      }
      const groups = pointGroups(req.body.groups);
      const before = await points.list([id]);
      const saved = await points.replace(id, groups, ctx.clock());
      ctx.policy.points.forget(id);
      await ctx.record(
        {
          ...actedBy(me),
          action: 'points.groups',
          old: { groups: before.map(groupView) },
          new: { groups: saved.map(groupView) },
          result: 'ok',
        },
        { orgId: id, gatewayId: ctx.origin.gatewayId },
      );
      return { org_id: id, groups: saved.map(groupView) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/orgs/:id/points',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'The points a point group may list, and the device models of the packs in the organisation',
        tags: ['organisations'],
        params: orgParams,
        response: { 200: pointCatalogSchema, ...errorResponses(404) },
      },
    },
    async (req): Promise<PointCatalogView> => {
      const me = caller(req);
      const { id } = req.params;
      await seen(me, id);
      const models = new Map<string, Set<string>>();
      for (const link of ctx.policy.gateways(me)) {
        if (link.orgId !== id && !(await orgs.get([id], link.orgId))) continue;
        for (const pack of await link.packs()) {
          const s = pack.snapshot;
          const [model] = deviceModels(pack.protocol);
          const keys = models.get(model!) ?? new Set<string>();
          for (const k of Object.keys(s ?? {})) if (POINTS.includes(k)) keys.add(k);
          models.set(model!, keys);
        }
      }
      return {
        points: CATALOG.map((m) => ({
          key: m.key,
          label: m.label,
          ...(m.unit !== undefined ? { unit: m.unit } : {}),
        })),
        always_shown: [...ALWAYS_SHOWN],
        models: [...models]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([model, keys]) => ({ model, points: [...keys].sort() })),
      };
    },
  );
}
