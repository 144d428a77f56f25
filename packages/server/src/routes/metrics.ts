/** Prometheus `/metrics` (outside /api/v1, where scrapers look for it) and integration downloads. */
import { errorResponses, iotPanelSchema, tunnelStatusSchema } from '@openbms/contract/api';
import { BmsError } from '@openbms/core';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { uplinkMetrics } from '../uplink.js';

export function metricsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const m = ctx.box.metrics;
  if (!m) return;
  app.get(
    '/metrics',
    {
      // A scraper authenticates with `Authorization: Bearer <API token>` unless the
      // configuration makes the metrics public (`metrics: {auth: false}`).
      config: { access: m.public ? 'public' : 'viewer', box: true },
      schema: {
        summary: 'Prometheus metrics: per-pack gauges and gateway counters',
        tags: ['health'],
      },
    },
    async (_req, reply) =>
      reply
        .header('content-type', m.contentType)
        .send((await m.render()) + uplinkMetrics(ctx.uplink)),
  );
}

/** Seed 001's "IoT MQTT Panel" dashboard, ready to import into the app. */
export function integrationRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/integrations/mqtt/iot-panel.json',
    {
      config: { access: 'viewer', box: true },
      schema: {
        summary: 'IoT MQTT Panel dashboard (JSON) for the configured MQTT topics',
        tags: ['integrations'],
        response: { 200: iotPanelSchema, ...errorResponses(404) },
      },
    },
    async (_req, reply) => {
      const dashboard = ctx.box.mqttPanel?.();
      if (dashboard === undefined) {
        throw new BmsError('NOT_FOUND', 'MQTT is not configured (no mqtt: section in the config)');
      }
      return reply
        .header('content-disposition', 'attachment; filename="openbms-iot-mqtt-panel.json"')
        .send(dashboard);
    },
  );
  app.get(
    '/integrations/tunnel',
    {
      config: { access: 'viewer', box: true },
      schema: {
        summary: 'UART-over-TCP tunnel: client, bytes in/out, uptime, time to expiry',
        tags: ['integrations'],
        response: { 200: tunnelStatusSchema, ...errorResponses(404) },
      },
    },
    async () => {
      const status = ctx.box.tunnelStatus?.();
      if (status === undefined)
        throw new BmsError('NOT_FOUND', 'no tunnel is configured (tunnel: section)');
      return status;
    },
  );
}
