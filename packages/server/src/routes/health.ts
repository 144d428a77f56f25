/**
 * Health for monitors and load balancers; no authentication, no secrets. A degraded storage
 * (disk full, damaged database set aside) still answers HTTP 200 with `status: "degraded"`
 * and a code: the gateway is up and monitoring, so a load balancer must not take it out of
 * service, while a monitor that reads the body sees what is wrong.
 */
import { healthSchema, type HealthView } from '@openbms/contract/api';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

export function healthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/health',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Health: ok or degraded (storage problems), uptime, packs online',
        description:
          'Always HTTP 200 while the server runs. `status` is `degraded` when something is not ' +
          'being stored as it should: `code` names the most serious problem (STORAGE_FULL, ' +
          'STORAGE_CORRUPT, STORAGE_READ_ONLY, STORAGE_FAILED), `message` says what to do, ' +
          '`problems` lists them all. Monitoring, alarms, MQTT and Modbus go on meanwhile.',
        tags: ['health'],
        response: { 200: healthSchema },
      },
    },
    async (): Promise<HealthView> => {
      const packs = ctx.gateway.packs();
      const st = await ctx.gateway.storageStatus?.();
      return {
        status: st?.status ?? 'ok',
        ...(st?.code !== undefined ? { code: st.code, message: st.message ?? st.code } : {}),
        ...(st && st.problems.length > 0
          ? {
              problems: st.problems.map((p) => ({
                code: p.code,
                message: p.message,
                since: p.since,
                ...(p.files ? { files: p.files } : {}),
              })),
            }
          : {}),
        ...(st ? { samples_waiting: st.buffered, records_waiting: st.deferred } : {}),
        uptime_s: Math.max(0, Math.floor((ctx.clock() - ctx.startedAt) / 1000)),
        packs_online: packs.filter((p) => p.online).length,
        packs_total: packs.length,
      };
    },
  );
}
