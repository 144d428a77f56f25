/**
 * Notifications: the channels (type, events, quiet hours, rate limit; secrets only as
 * "set" / "not set"), their counters and the delivery log for the UI, and a test send.
 * Without configured channels the list is empty and a test answers 404.
 */
import { BmsError } from '@openbms/core';
import type { FastifyInstance } from 'fastify';
import { caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import type { NotificationsStatus, NotifyTestResult } from '../gateway-api.js';
import { errorResponses } from '../schemas.js';

const SEVERITY = { type: 'string', enum: ['warning', 'protection', 'fault'] } as const;
const STATUS = {
  type: 'string',
  enum: ['queued', 'retrying', 'sent', 'failed', 'dropped'],
} as const;

const channelSchema = {
  type: 'object',
  required: ['id', 'type', 'enabled', 'events', 'min_severity', 'rate_limit', 'target', 'counters'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: ['ntfy', 'pushover', 'email', 'webhook'] },
    enabled: { type: 'boolean' },
    events: {
      type: 'array',
      items: {
        type: 'string',
        enum: ['alarm_raised', 'alarm_cleared', 'offline', 'online', 'soc_full', 'daily_report'],
      },
    },
    min_severity: SEVERITY,
    quiet_hours: {
      type: 'object',
      required: ['from', 'to', 'mode', 'critical_severity', 'active'],
      properties: {
        from: { type: 'string', description: 'HH:MM in the site time zone.' },
        to: { type: 'string' },
        mode: { type: 'string', enum: ['hold', 'drop'] },
        critical_severity: SEVERITY,
        active: { type: 'boolean', description: 'Quiet hours are on now.' },
      },
    },
    rate_limit: {
      type: 'object',
      required: ['max', 'per_s'],
      properties: { max: { type: 'integer' }, per_s: { type: 'number' } },
    },
    target: {
      type: 'object',
      description:
        'Type-specific settings (server, host, port, from, to, method...); secrets (tokens, passwords, topics, webhook URLs and header values) appear only as "set" / "not set".',
      additionalProperties: {
        anyOf: [
          { type: 'string' },
          { type: 'number' },
          { type: 'boolean' },
          { type: 'array', items: { type: 'string' } },
        ],
      },
    },
    counters: {
      type: 'object',
      required: ['sent', 'failed', 'dropped', 'rate_limited', 'queued'],
      properties: {
        sent: { type: 'integer' },
        failed: { type: 'integer' },
        dropped: { type: 'integer', description: 'Quiet hours (drop mode), rate limit, stop.' },
        rate_limited: { type: 'integer', description: 'Held back by the rate limit.' },
        queued: { type: 'integer', description: 'Waiting now (quiet hours, queue, retry).' },
      },
    },
    last_error: { type: 'string' },
    last_sent_at: { type: 'integer' },
  },
} as const;

const deliverySchema = {
  type: 'object',
  required: ['id', 'channel', 'event', 'title', 'at', 'updated_at', 'status', 'attempts'],
  properties: {
    id: { type: 'integer' },
    channel: { type: 'string' },
    event: {
      type: 'string',
      description:
        'alarm_raised, alarm_cleared, offline, online, soc_full, daily_report, digest (quiet hours), rate_summary, test.',
    },
    title: { type: 'string' },
    pack_id: { type: 'string' },
    at: { type: 'integer', description: 'Handed to the channel, ms since the epoch.' },
    updated_at: { type: 'integer' },
    status: STATUS,
    attempts: { type: 'integer' },
    error: { type: 'string', description: 'Why it failed, is retrying or was dropped.' },
    note: { type: 'string' },
  },
} as const;

const statusSchema = {
  type: 'object',
  required: ['channels', 'log'],
  properties: {
    channels: { type: 'array', items: channelSchema },
    log: { type: 'array', items: deliverySchema, description: 'Newest first (last ~200).' },
    next_report: {
      type: 'object',
      required: ['kind', 'at'],
      properties: {
        kind: { type: 'string', enum: ['sunrise', 'sunset'] },
        at: { type: 'integer' },
      },
    },
  },
} as const;

const testResultSchema = {
  type: 'object',
  required: ['ok', 'channel', 'status', 'attempts'],
  properties: {
    ok: { type: 'boolean' },
    channel: { type: 'string' },
    status: STATUS,
    attempts: { type: 'integer' },
    error: {
      type: 'string',
      description: 'The reason when ok is false (HTTP status, SMTP reply...).',
    },
  },
} as const;

function statusView(s: NotificationsStatus): unknown {
  return {
    channels: s.channels,
    log: s.log.map((e) => ({
      id: e.id,
      channel: e.channel,
      event: e.event,
      title: e.title,
      ...(e.packId !== undefined ? { pack_id: e.packId } : {}),
      at: e.at,
      updated_at: e.updatedAt,
      status: e.status,
      attempts: e.attempts,
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.note !== undefined ? { note: e.note } : {}),
    })),
    ...(s.next_report ? { next_report: s.next_report } : {}),
  };
}

export function notificationRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/integrations/notifications',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Notification channels, their counters and the delivery log',
        tags: ['integrations'],
        response: { 200: statusSchema, ...errorResponses(403) },
      },
    },
    async () => {
      const n = ctx.gateway.notifications;
      return statusView(n ? n.status() : { channels: [], log: [] });
    },
  );

  app.post<{ Body: { channel: string } }>(
    '/integrations/notifications/test',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Send a test message through one channel now',
        description:
          'One attempt, past quiet hours and the rate limit. A delivery failure is not an HTTP error: the answer says ok false and why.',
        tags: ['integrations'],
        body: {
          type: 'object',
          required: ['channel'],
          additionalProperties: false,
          properties: { channel: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: { 200: testResultSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const n = ctx.gateway.notifications;
      if (!n) {
        throw new BmsError('NOT_FOUND', 'no notification channels are configured (notifications:)');
      }
      const r: NotifyTestResult = await n.test(req.body.channel);
      ctx.record({
        user: me.username,
        action: 'notifications.test',
        new: { channel: r.channel },
        result: r.ok ? 'ok' : 'failed',
        ...(r.error !== undefined ? { detail: r.error } : {}),
      });
      return r;
    },
  );
}
