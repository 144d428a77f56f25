/**
 * The `metrics:` section as a registered integration. Nothing runs: the server mounts
 * GET /metrics once, at its start, when `exposure()` is there, so a change needs a restart.
 */
import type {
  Integration,
  IntegrationContext,
  IntegrationRuntime,
  RuntimeStatus,
} from '../integration.js';
import { GatewayMetrics, METRICS_CONTENT_TYPE } from './render.js';
import { metricsConfigSchema, type MetricsConfig } from './schema.js';

/** What the server's /metrics route serves. */
export interface MetricsExposure {
  render(): Promise<string>;
  contentType: string;
  /** Served without a token (`metrics: {auth: false}`). */
  public: boolean;
}

export class MetricsRuntime implements IntegrationRuntime {
  private readonly exposed: MetricsExposure | undefined = undefined;

  /** Decided once from the section as the gateway was created (on unless `enabled: false`). */
  constructor(ctx: IntegrationContext<MetricsConfig>) {
    const m = ctx.value();
    if (m?.enabled === false) return;
    const metrics = new GatewayMetrics(
      {
        packs: () => ctx.packs(),
        writerStatus: () => ctx.writerStatus(),
        activeAlarms: () => ctx.activeAlarms(),
      },
      { process: true },
    );
    this.exposed = {
      render: () => metrics.render(),
      contentType: METRICS_CONTENT_TYPE,
      public: m?.auth === false,
    };
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  status(): RuntimeStatus {
    return this.exposed
      ? { running: true, detail: { public: this.exposed.public } }
      : { running: false };
  }

  /** The renderer, undefined when metrics are off. */
  exposure(): MetricsExposure | undefined {
    return this.exposed;
  }
}

export const METRICS_INTEGRATION: Integration<MetricsConfig, MetricsRuntime> = {
  section: 'metrics',
  logName: 'metrics',
  schema: metricsConfigSchema,
  apply: 'restart',
  secrets: {},
  // Served by default: only `enabled: false` turns it off.
  enabled: (v) => v?.enabled !== false,
  create: (ctx) => new MetricsRuntime(ctx),
  async test(_req, runtime) {
    const m = runtime.exposure();
    if (!m) return { ok: false, message: 'metrics are disabled (enabled: false)' };
    const lines = (await m.render()).split('\n').filter((l) => l && !l.startsWith('#')).length;
    return {
      ok: true,
      message: `/metrics renders ${lines} samples (${m.public ? 'public' : 'needs a token'})`,
    };
  },
};
