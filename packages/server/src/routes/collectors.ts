/**
 * Remote collectors (issue 15; docs/collectors.md "Linking a collector to a cloud", docs/fleet.md
 * "Remote collectors"): the hello a collector sends until it is claimed, the claim by serial and
 * claim code into a plant, the claimed collectors' list and their revocation.
 *
 * - `POST /collectors/hello` is public (the collector calls it) and rate-limited per IP (every
 *   hello counts, a refused claim code counts on its own much lower limit). Unknown serial:
 *   recorded unclaimed, 202. Claimed: 200 with the plant, the broker and new uplink credentials
 *   (a random 32-byte secret, stored as a hash; the previous one stops working). Revoked: 403
 *   `{status: "revoked"}`. A known serial with another claim code: 403. Without an uplink
 *   (`ServerDeps.uplink`) this server takes no collectors: 503 UPLINK_UNAVAILABLE.
 * - `POST /collectors/claim {serial, claim_code, plant_id}`: the admin rank in the plant's
 *   organisation (a plant the caller does not see: 404, seen without the rank: 403). The
 *   collector's gateway becomes a collector of the plant, the collector a device of type
 *   `collector` (unless a device has its serial already), audited, and the uplink starts
 *   serving it. A wrong code is 404 exactly like an unknown serial (no oracle), counted per
 *   user; a collector claimed or revoked already is 409 CONFLICT.
 * - `GET /collectors[?plant_id]`, `GET /collectors/:serial`: the collectors claimed by the
 *   organisations the caller sees (a plant visitor: its plant's); another organisation's is
 *   404, as an unknown one.
 * - `POST /collectors/:serial/revoke`: the admin rank in its organisation; audited; the uplink
 *   ends its connection.
 *
 * Claim codes and passwords are never logged nor audited.
 */
import { randomBytes } from 'node:crypto';
import { BmsError, isBmsError } from '@openbms/core';
import { CLAIM_CODE_PATTERN, SERIAL_PATTERN, normalizeClaimCode } from '@openbms/contract/gateway';
import type {
  DeviceStore,
  PlantStore,
  PlantView as StoreView,
  RemoteCollector,
  RemoteCollectorStore,
} from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import {
  collectorClaimBody,
  collectorClaimedSchema,
  collectorHelloBody,
  collectorListQuery,
  collectorSerialParams,
  collectorUnclaimedSchema,
  errorResponses,
  errorSchema,
  remoteCollectorSchema,
  type CollectorClaim,
  type CollectorClaimed,
  type CollectorHello,
  type CollectorListQuery,
  type RemoteCollectorView,
} from '@openbms/contract/api';
import { actedBy, caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import { allows, roleIn, subtreeRoots, type Principal } from '../policy.js';
import { FailureLimiter, type RateLimitOptions } from '../rate-limit.js';

export interface CollectorRouteOptions {
  /** Hellos per IP (default 120 a minute: a site's collectors behind one address say hello every 30 s). */
  helloLimit?: RateLimitOptions;
  /** Hellos with a wrong claim code per IP (default 10 in 15 minutes). */
  wrongCodeLimit?: RateLimitOptions;
  /** Claims with a wrong code or unknown serial per user (default 10 in 15 minutes). */
  claimLimit?: RateLimitOptions;
}

const MINUTE = 60_000;

/** The 403 of a hello: a revoked collector's carries `status: "revoked"`. */
const helloRefusedSchema = {
  ...errorSchema,
  description:
    'The collector was revoked (`status: "revoked"`), or its serial is known with another claim code (FORBIDDEN).',
  properties: {
    ...errorSchema.properties,
    status: { type: 'string', enum: ['revoked'] },
  },
} as const;

function limited(ms: number, what: string): BmsError {
  const s = Math.ceil(ms / 1000);
  return new BmsError('RATE_LIMITED', `too many ${what}; try again in ${s} s`, {
    retry_after_s: s,
  });
}

export function collectorRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  collectors: RemoteCollectorStore,
  plants: PlantStore,
  devices: DeviceStore | undefined,
  opts: CollectorRouteOptions = {},
): void {
  const hellos = new FailureLimiter(opts.helloLimit ?? { max: 120, windowMs: MINUTE }, ctx.clock);
  const wrongCodes = new FailureLimiter(
    opts.wrongCodeLimit ?? { max: 10, windowMs: 15 * MINUTE },
    ctx.clock,
  );
  const wrongClaims = new FailureLimiter(
    opts.claimLimit ?? { max: 10, windowMs: 15 * MINUTE },
    ctx.clock,
  );
  const whose = (orgId: string) => ({ orgId, gatewayId: ctx.origin.gatewayId });
  const plantView = (p: Principal): StoreView => ({
    within: p.fleet.map((m) => m.orgId),
    visitor: p.userId,
  });

  const view = (k: RemoteCollector): RemoteCollectorView => ({
    serial: k.serial,
    gateway_id: k.gatewayId,
    state: k.state,
    ...(k.orgId !== undefined ? { org_id: k.orgId } : {}),
    ...(k.plantId !== undefined ? { plant_id: k.plantId } : {}),
    ...(k.version !== undefined ? { version: k.version } : {}),
    first_seen_at: k.firstSeenAt,
    last_seen_at: k.lastSeenAt,
    ...(k.claimedAt !== undefined ? { claimed_at: k.claimedAt } : {}),
    ...(k.revokedAt !== undefined ? { revoked_at: k.revokedAt } : {}),
    online: ctx.uplink?.online(k.serial) ?? null,
  });

  /** Whether the caller sees a collector: a member of its organisation, or a visitor of its plant. */
  const sees = (me: Principal, k: RemoteCollector): boolean =>
    k.orgId !== undefined &&
    (roleIn(me, k.orgId) !== undefined ||
      (me.visits ?? []).some((v) => v.plantId === k.plantId && v.orgId === k.orgId));

  /** The collector seen by the caller, else 404 (exactly as one that does not exist). */
  const seen = async (me: Principal, raw: string): Promise<RemoteCollector> => {
    const serial = raw.toUpperCase();
    const k = SERIAL_PATTERN.test(serial) ? await collectors.get(serial) : undefined;
    if (!k || !sees(me, k)) throw new BmsError('NOT_FOUND', `no collector "${raw}"`);
    return k;
  };

  app.post<{ Body: CollectorHello }>(
    '/collectors/hello',
    {
      config: { access: 'public' },
      schema: {
        summary:
          'A collector says hello until it is claimed (public, rate-limited per IP); once claimed it gets its broker and new uplink credentials',
        tags: ['collectors'],
        body: collectorHelloBody,
        response: {
          200: collectorClaimedSchema,
          202: collectorUnclaimedSchema,
          ...errorResponses(429),
          403: helloRefusedSchema,
        },
      },
    },
    async (req, reply) => {
      const uplink = ctx.uplink;
      if (!uplink) throw new BmsError('UPLINK_UNAVAILABLE', 'this server takes no collectors');
      const wait = Math.max(hellos.blockedFor(req.ip), wrongCodes.blockedFor(req.ip));
      if (wait > 0) throw limited(wait, 'hellos from this address');
      hellos.fail(req.ip); // counts every hello
      const b = req.body;
      const now = ctx.clock();
      const out = await collectors.hello({
        serial: b.serial,
        claimCode: b.claim_code,
        gatewayId: b.gateway_id,
        ...(b.version !== undefined ? { version: b.version } : {}),
        at: now,
      });
      if (!out.codeMatches) {
        wrongCodes.fail(req.ip);
        throw new BmsError('FORBIDDEN', `serial ${b.serial} is known with another claim code`);
      }
      const revoked = () =>
        reply.status(403).send({
          error: `collector ${b.serial} was revoked`,
          code: 'FORBIDDEN',
          status: 'revoked',
        });
      const k = out.collector;
      if (k.state === 'unclaimed') return reply.status(202).send({ status: 'unclaimed' });
      if (k.state === 'revoked' || k.orgId === undefined || k.plantId === undefined)
        return revoked();
      const password = randomBytes(32).toString('base64url');
      try {
        await collectors.setCredentials(k.serial, password, now);
      } catch (e) {
        // Revoked between the hello and now (another node).
        if (isBmsError(e) && e.code === 'CONFLICT') return revoked();
        throw e;
      }
      const claimed: CollectorClaimed = {
        status: 'claimed',
        org_id: k.orgId,
        plant_id: k.plantId,
        broker: { url: uplink.brokerUrl() },
        username: k.serial,
        password,
      };
      return reply.status(200).header('cache-control', 'no-store').send(claimed);
    },
  );

  app.post<{ Body: CollectorClaim }>(
    '/collectors/claim',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          "Add a collector to a plant by its serial and claim code (manager or administrator of the plant's organisation)",
        tags: ['collectors'],
        body: collectorClaimBody,
        response: { 201: remoteCollectorSchema, ...errorResponses(403, 404, 409, 429) },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const b = req.body;
      const plant = await plants.get(plantView(me), b.plant_id);
      if (!plant)
        throw new BmsError('NOT_FOUND', `no plant "${b.plant_id}"`, { field: 'plant_id' });
      if (!allows(me, 'admin', plant.orgId)) {
        throw new BmsError(
          'FORBIDDEN',
          `adding a collector needs the manager or administrator role in the plant's organisation or above; ${me.username} is ${roleIn(me, plant.orgId) ?? 'a visitor'}`,
        );
      }
      const serial = b.serial.toUpperCase();
      const code = normalizeClaimCode(b.claim_code);
      if (!SERIAL_PATTERN.test(serial))
        throw new BmsError(
          'REQUEST_INVALID',
          'serial must be a collector serial: OB and 10 characters of 0-9 A-Z',
          { field: 'serial' },
        );
      if (!CLAIM_CODE_PATTERN.test(code))
        throw new BmsError(
          'REQUEST_INVALID',
          'claim_code must be 8 characters of 0-9 A-Z (XXXX-XXXX)',
          { field: 'claim_code' },
        );
      const wait = wrongClaims.blockedFor(me.userId);
      if (wait > 0) throw limited(wait, 'claims with a wrong serial or code');
      const now = ctx.clock();
      // A new device needs room in the organisation (config fleet.limits): checked first, so a
      // refusal leaves the collector unclaimed.
      const listed = devices ? (await devices.bySerial([plant.orgId], serial)) !== undefined : true;
      if (devices && !listed)
        ctx.limits.requireRoom(plant.orgId, 'devices', await devices.countIn(plant.orgId));

      let k: RemoteCollector;
      try {
        k = await collectors.claim({
          serial,
          claimCode: code,
          orgId: plant.orgId,
          plantId: plant.id,
          by: me.userId,
          at: now,
        });
      } catch (e) {
        if (isBmsError(e) && e.code === 'NOT_FOUND') wrongClaims.fail(me.userId);
        throw e;
      }
      const admin = subtreeRoots(me, 'admin');
      try {
        await plants.attachCollector(admin, plant.id, {
          gatewayId: k.gatewayId,
          serial,
          createdAt: now,
          createdBy: me.userId,
        });
      } catch (e) {
        // Attached to this plant already (a claim retried after a failure): fine.
        const mine = (await plants.collectors(plantView(me), plant.id)).some(
          (c) => c.gatewayId === k.gatewayId,
        );
        if (!mine) throw e;
      }
      if (devices && !listed) {
        try {
          await devices.create([plant.orgId], {
            serial,
            type: 'collector',
            orgId: plant.orgId,
            activation: 'enabled',
            joinedAt: now,
            createdBy: me.username,
          });
        } catch (e) {
          // Registered meanwhile, or by another organisation: the device list keeps that one.
          if (!isBmsError(e) || e.details?.['field'] !== 'serial') throw e;
        }
      }
      for (const v of await plants.visitors(admin, plant.id)) await ctx.live.refreshUser(v.userId);
      await ctx.record(
        {
          ...actedBy(me),
          action: 'collector.claim',
          new: { serial, gateway_id: k.gatewayId, plant_id: plant.id, org_id: plant.orgId },
          result: 'ok',
        },
        whose(plant.orgId),
      );
      await ctx.uplink?.claimed(serial);
      return reply.status(201).send(view(k));
    },
  );

  app.get<{ Querystring: CollectorListQuery }>(
    '/collectors',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'The collectors claimed by the organisations the caller sees (a plant visitor: its plant’s), by serial',
        tags: ['collectors'],
        querystring: collectorListQuery,
        response: { 200: { type: 'array', items: remoteCollectorSchema } },
      },
    },
    async (req) => {
      const me = caller(req);
      const found = new Map<string, RemoteCollector>();
      for (const k of await collectors.list(subtreeRoots(me))) found.set(k.serial, k);
      const visits = me.visits ?? [];
      if (visits.length > 0) {
        const owners = [...new Set(visits.map((v) => v.orgId))];
        for (const k of await collectors.list(owners)) if (sees(me, k)) found.set(k.serial, k);
      }
      const plantId = req.query.plant_id;
      return [...found.values()]
        .filter((k) => plantId === undefined || k.plantId === plantId)
        .sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0))
        .map(view);
    },
  );

  app.get<{ Params: { serial: string } }>(
    '/collectors/:serial',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'A collector the caller sees',
        tags: ['collectors'],
        params: collectorSerialParams,
        response: { 200: remoteCollectorSchema, ...errorResponses(404) },
      },
    },
    async (req) => view(await seen(caller(req), req.params.serial)),
  );

  app.post<{ Params: { serial: string } }>(
    '/collectors/:serial/revoke',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Revoke a collector: its credentials and hellos are refused, its connection ends (manager or administrator of its organisation)',
        tags: ['collectors'],
        params: collectorSerialParams,
        response: { 200: remoteCollectorSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const k = await seen(me, req.params.serial);
      if (!allows(me, 'admin', k.orgId!)) {
        throw new BmsError(
          'FORBIDDEN',
          `revoking a collector needs the manager or administrator role in its organisation or above; ${me.username} is ${roleIn(me, k.orgId!) ?? 'a visitor'}`,
        );
      }
      const gone = await collectors.revoke(k.serial, me.userId, ctx.clock());
      await ctx.record(
        {
          ...actedBy(me),
          action: 'collector.revoke',
          old: { state: k.state },
          new: {
            serial: k.serial,
            gateway_id: k.gatewayId,
            plant_id: k.plantId,
            state: gone.state,
          },
          result: 'ok',
        },
        whose(k.orgId!),
      );
      await ctx.uplink?.revoked(k.serial);
      return view(gone);
    },
  );
}
