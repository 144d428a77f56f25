/**
 * Notifications: the channels (type, events, quiet hours, rate limit; secrets only as
 * "set" / "not set"), their counters and the delivery log for the UI, and a test send.
 * "Send the daily report now" (operator): the running period's report through chosen channels.
 * Without configured channels the list is empty and a test answers 404.
 */
import { BmsError } from '@openbms/core';
import type { FastifyInstance } from 'fastify';
import { actedBy, caller } from '../auth.js';
import type { ServerContext } from '../context.js';
import type { NotificationsStatus, NotifyTestResult } from '../gateway-api.js';
import {
  errorResponses,
  notificationsStatusSchema,
  notifyTestBody,
  notifyTestResultSchema,
  notifyReportBody,
  notifyReportResultSchema,
  type NotificationsView,
  type NotifyReportBody,
  type NotifyTestBody,
} from '@openbms/contract/api';

function statusView(s: NotificationsStatus): NotificationsView {
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
      config: { access: 'operator', box: true },
      schema: {
        summary: 'Notification channels, their counters and the delivery log',
        tags: ['integrations'],
        response: { 200: notificationsStatusSchema, ...errorResponses(403) },
      },
    },
    async () => {
      const n = ctx.box.notifications;
      return statusView(n ? n.status() : { channels: [], log: [] });
    },
  );

  app.post<{ Body: NotifyTestBody }>(
    '/integrations/notifications/test',
    {
      config: { access: 'admin', box: true },
      schema: {
        summary: 'Send a test message through one channel now',
        description:
          'One attempt, past quiet hours and the rate limit. A delivery failure is not an HTTP error: the answer says ok false and why.',
        tags: ['integrations'],
        body: notifyTestBody,
        response: { 200: notifyTestResultSchema, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const n = ctx.box.notifications;
      if (!n) {
        throw new BmsError('NOT_FOUND', 'no notification channels are configured (notifications:)');
      }
      const r: NotifyTestResult = await n.test(req.body.channel);
      await ctx.record({
        ...actedBy(me),
        action: 'notifications.test',
        new: { channel: r.channel },
        result: r.ok ? 'ok' : 'failed',
        ...(r.error !== undefined ? { detail: r.error } : {}),
      });
      return r;
    },
  );

  app.post<{ Body: NotifyReportBody }>(
    '/integrations/notifications/report',
    {
      config: { access: 'operator', box: true },
      schema: {
        summary: 'Send the daily report so far through chosen channels now',
        description:
          'The report of the period running now (since the last sunrise or sunset, up to now), one attempt per channel past quiet hours and the rate limit. A delivery failure is not an HTTP error: each result says ok false and why.',
        tags: ['integrations'],
        body: notifyReportBody,
        response: { 200: notifyReportResultSchema, ...errorResponses(400, 403, 404) },
      },
    },
    async (req) => {
      const me = caller(req);
      const n = ctx.box.notifications;
      if (!n) {
        throw new BmsError('NOT_FOUND', 'no notification channels are configured (notifications:)');
      }
      const r = await n.reportNow(req.body.channels);
      const failed = r.results.filter((x) => !x.ok);
      await ctx.record({
        ...actedBy(me),
        action: 'notifications.report',
        new: { channels: r.results.map((x) => x.channel), kind: r.kind },
        result: failed.length === 0 ? 'ok' : 'failed',
        ...(failed.length
          ? { detail: failed.map((x) => `${x.channel}: ${x.error ?? x.status}`).join('; ') }
          : {}),
      });
      return r;
    },
  );
}
