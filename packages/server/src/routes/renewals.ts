/**
 * Service renewals (issue 17, seed 003: 1 year, 2 years, lifetime; docs/trackers.md
 * "Renewals"). No payment is taken here: a renewal is an administrative act recorded in a
 * history and the audit log.
 *
 * - `POST /devices/renew {ids, period}`: every device or none. Each must be in the caller's
 *   subtrees (else 404 naming the id) and the caller manager or administrator in its
 *   organisation (else 403), as for any change of a device; then the store renews them in one
 *   transaction (from the later of now and the current expiry; lifetime clears it).
 * - `GET /devices/:id/renewals?from&to`: one device's history (404 outside the subtrees).
 * - `GET /renewals?from&to`: every renewal made in the caller's subtrees.
 */
import { BmsError } from '@openbms/core';
import type { DeviceStore, Renewal } from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import {
  deviceParams,
  errorResponses,
  renewBody,
  renewResultSchema,
  renewalListSchema,
  renewalsQuery,
  type RenewBody,
  type RenewalView,
  type RenewalsQuery,
} from '@openbms/contract/api';
import { actedBy, caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import { requireRole, subtreeRoots } from '../policy.js';
import { parseRange } from '../time.js';

/** The default history range: a year and a day before `to`. */
const DEFAULT_SPAN_MS = 366 * 86_400_000;

const view = (r: Renewal): RenewalView => ({
  id: r.id,
  device_id: r.deviceId,
  serial: r.serial,
  org_id: r.orgId,
  period: r.period,
  ...(r.previousExpiresAt !== undefined ? { previous_expires_at: r.previousExpiresAt } : {}),
  ...(r.newExpiresAt !== undefined ? { expires_at: r.newExpiresAt } : {}),
  by: r.byName,
  at: r.at,
});

export function renewalRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  devices: DeviceStore,
): void {
  app.post<{ Body: RenewBody }>(
    '/devices/renew',
    {
      config: { access: 'admin' },
      schema: {
        summary:
          'Renew devices by 1 year, 2 years or lifetime (all or none; manager or administrator of each device’s organisation)',
        description:
          'A period counts from the later of now and the current expiry (a device without one: now); lifetime clears the expiry. Each renewal is kept in the history. A device outside the caller’s subtrees is 404 and nothing is renewed.',
        tags: ['devices'],
        body: renewBody,
        response: { 200: renewResultSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const p = caller(req);
      const within = subtreeRoots(p);
      const { ids, period } = req.body;
      for (const id of ids) {
        const d = within.length > 0 ? await devices.get(within, id) : undefined;
        if (!d) throw new BmsError('NOT_FOUND', `no device "${id}"`, { field: 'ids', id });
        requireRole(p, 'admin', d.orgId, `renewing device "${id}"`);
      }
      const done = await devices.renew(within, {
        ids,
        period,
        by: p.userId,
        byName: p.username,
        at: ctx.clock(),
      });
      const byOrg = new Map<string, Renewal[]>();
      for (const r of done) byOrg.set(r.orgId, [...(byOrg.get(r.orgId) ?? []), r]);
      for (const [orgId, rs] of byOrg)
        await ctx.record(
          {
            ...actedBy(p),
            action: 'device.renew',
            old: Object.fromEntries(rs.map((r) => [r.deviceId, r.previousExpiresAt ?? null])),
            new: {
              period,
              devices: rs.map((r) => ({
                id: r.deviceId,
                serial: r.serial,
                expires_at: r.newExpiresAt ?? null,
              })),
            },
            result: 'ok',
          },
          { orgId, gatewayId: ctx.origin.gatewayId },
        );
      return { renewed: done.map(view) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: RenewalsQuery }>(
    '/devices/:id/renewals',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'One device’s renewal history, newest first',
        tags: ['devices'],
        params: deviceParams,
        querystring: renewalsQuery,
        response: { 200: renewalListSchema, ...errorResponses(404) },
      },
    },
    async (req) => {
      const within = subtreeRoots(caller(req));
      const id = req.params.id;
      if (within.length === 0) throw new BmsError('NOT_FOUND', `no device "${id}"`);
      const { from, to } = parseRange(req.query, ctx.clock() + 1, DEFAULT_SPAN_MS);
      try {
        return (await devices.renewals(within, { deviceId: id, from, to })).map(view);
      } catch (e) {
        if (e instanceof BmsError && e.code === 'NOT_FOUND')
          throw new BmsError('NOT_FOUND', `no device "${id}"`);
        throw e;
      }
    },
  );

  app.get<{ Querystring: RenewalsQuery }>(
    '/renewals',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Every renewal made in the caller’s subtrees over a range, newest first',
        tags: ['devices'],
        querystring: renewalsQuery,
        response: { 200: renewalListSchema },
      },
    },
    async (req) => {
      const within = subtreeRoots(caller(req));
      if (within.length === 0) return [];
      const { from, to } = parseRange(req.query, ctx.clock() + 1, DEFAULT_SPAN_MS);
      return (await devices.renewals(within, { from, to })).map(view);
    },
  );
}
