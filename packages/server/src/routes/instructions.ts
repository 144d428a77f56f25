/**
 * Instructions to GPS trackers (issue 17; docs/trackers.md "Instructions"):
 * `POST /devices/:id/instructions {kind, expires_in_s?}` queues one, `GET` lists them (newest
 * first) with the tracker's armed state. The node that holds the tracker's connection sends
 * a queued instruction and stores the reply (gateway trackers/instructions.ts): the route only
 * writes the store, so it works the same whichever node of a cluster answers it.
 *
 * Who: the device is looked up in the caller's subtrees (404 outside, like an unknown id);
 * `locate` needs any role that sees it, every other kind the operator role in the device's
 * organisation (403). `air_upgrade` is refused (409: firmware updates are issue 16), as is a
 * device that is not a tracker. Each accepted instruction is audited.
 */
import { BmsError } from '@openbms/core';
import type { DeviceStore, Instruction, InstructionStore } from '@openbms/storage';
import type { FastifyInstance } from 'fastify';
import {
  deviceParams,
  errorResponses,
  INSTRUCTION_EXPIRY_S,
  instructionBody,
  instructionListSchema,
  instructionRefused,
  instructionSchema,
  type InstructionBody,
  type InstructionList,
  type InstructionView,
} from '@openbms/contract/api';
import { actedBy, caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import { requireRole, subtreeRoots } from '../policy.js';

export function instructionView(i: Instruction, now: number): InstructionView {
  return {
    id: i.id,
    kind: i.kind,
    // Expired in fact even before a node's poll has marked it so.
    state: i.state === 'queued' && i.expiresAt <= now ? 'expired' : i.state,
    created_at: i.createdAt,
    created_by: i.createdByName,
    expires_at: i.expiresAt,
    ...(i.sentAt !== undefined ? { sent_at: i.sentAt } : {}),
    ...(i.repliedAt !== undefined ? { replied_at: i.repliedAt } : {}),
    ...(i.result !== undefined ? { result: i.result } : {}),
    ...(i.reply !== undefined ? { reply: i.reply } : {}),
  };
}

const WHAT: Record<InstructionBody['kind'], string> = {
  locate: 'locating a tracker',
  restart: 'restarting a tracker',
  factory_reset: 'resetting a tracker to its factory settings',
  arm: 'arming a tracker',
  disarm: 'disarming a tracker',
  air_upgrade: 'updating a tracker’s firmware',
};

export function instructionRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  devices: DeviceStore,
  instructions: InstructionStore,
): void {
  const visible = async (id: string, p: Parameters<typeof subtreeRoots>[0]) => {
    const within = subtreeRoots(p);
    const d = within.length > 0 ? await devices.get(within, id) : undefined;
    if (!d) throw new BmsError('NOT_FOUND', `no device "${id}"`);
    return d;
  };

  app.post<{ Params: { id: string }; Body: InstructionBody }>(
    '/devices/:id/instructions',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Send an instruction to a tracker (locate, restart, factory reset, arm, disarm); queued until it is online',
        tags: ['devices'],
        params: deviceParams,
        body: instructionBody,
        response: {
          201: instructionSchema,
          ...errorResponses(403, 404),
          409: instructionRefused,
        },
      },
    },
    async (req, reply) => {
      const p = caller(req);
      const d = await visible(req.params.id, p);
      const kind = req.body.kind;
      if (kind !== 'locate') requireRole(p, 'operator', d.orgId, WHAT[kind]);
      if (kind === 'air_upgrade')
        throw new BmsError(
          'COMMAND_REFUSED',
          'air_upgrade is not offered: firmware updates over the air come with issue 16 (firmware updates); nothing was sent',
          { field: 'kind' },
        );
      if (d.type !== 'tracker')
        throw new BmsError(
          'COMMAND_REFUSED',
          `device "${d.id}" is a ${d.type}, not a GPS tracker: it takes no instructions`,
        );
      const now = ctx.clock();
      const i = await instructions.create({
        deviceId: d.id,
        orgId: d.orgId,
        kind,
        createdAt: now,
        createdBy: p.userId,
        createdByName: p.username,
        expiresAt: now + (req.body.expires_in_s ?? INSTRUCTION_EXPIRY_S.default) * 1000,
      });
      await ctx.record(
        {
          ...actedBy(p),
          action: 'tracker.instruction',
          new: { id: i.id, device: d.id, serial: d.serial, kind },
          result: 'ok',
        },
        { orgId: d.orgId, gatewayId: ctx.origin.gatewayId },
      );
      return reply.code(201).send(instructionView(i, now));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/devices/:id/instructions',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'A tracker’s instructions (newest first) with their replies, and its armed state',
        tags: ['devices'],
        params: deviceParams,
        response: { 200: instructionListSchema, ...errorResponses(404) },
      },
    },
    async (req): Promise<InstructionList> => {
      const d = await visible(req.params.id, caller(req));
      const now = ctx.clock();
      const [list, state] = await Promise.all([
        instructions.list(d.id, 50),
        instructions.trackerState(d.id),
      ]);
      return {
        armed: state ? state.armed : null,
        ...(state ? { armed_at: state.armedAt, armed_source: state.armedSource } : {}),
        instructions: list.map((i) => instructionView(i, now)),
      };
    },
  );
}
