/**
 * The `notifications:` section as a registered integration. It also reads `location:`
 * (reports at sunrise and sunset, quiet hours' time zone): a change there restarts it. The
 * delivery log carries over each restart.
 */
import { BmsError } from '@openbms/core';
import type {
  Integration,
  IntegrationContext,
  IntegrationRuntime,
  RuntimeStatus,
} from '../integration.js';
import type { ChannelCounters } from './types.js';
import type { DeliveryLog } from './log.js';
import { notificationsConfigSchema, type NotificationsConfig } from './schema.js';
import { NotificationService } from './service.js';

export class NotificationsRuntime implements IntegrationRuntime {
  private svc: NotificationService | undefined;
  private past: DeliveryLog | undefined;
  /** Each channel's counters at the last stop: saving the location restarts the service. */
  private pastCounters: Map<string, ChannelCounters> | undefined;

  constructor(private readonly ctx: IntegrationContext<NotificationsConfig>) {}

  /** CONFIG_INVALID when a channel wants daily reports and there is no location. */
  async start(): Promise<void> {
    const config = this.ctx.value();
    if (this.svc || !config || config.length === 0) return;
    const ctx = this.ctx;
    const location = ctx.config().location;
    this.svc = new NotificationService({
      config,
      ...(location ? { location } : {}),
      events: ctx.events,
      packs: () => ctx.packs(),
      telemetry: ctx.telemetry,
      clock: ctx.clock,
      log: ctx.log,
      ...(this.past ? { deliveries: this.past } : {}),
      ...(this.pastCounters ? { counters: this.pastCounters } : {}),
    });
    this.svc.start();
  }

  async stop(): Promise<void> {
    const svc = this.svc;
    this.svc = undefined;
    await svc?.stop();
    // The deliveries so far stay visible after a settings change.
    this.past = svc?.deliveries ?? this.past;
    if (svc) this.pastCounters = new Map(svc.status().channels.map((c) => [c.id, c.counters]));
  }

  status(): RuntimeStatus {
    const st = this.svc?.status();
    const out: RuntimeStatus = { running: st !== undefined };
    if (st) {
      // The delivery log has its own route (integrations/notifications); counts here.
      out.detail = {
        channels: st.channels.map((c) => ({
          id: c.id,
          type: c.type,
          enabled: c.enabled,
          counters: c.counters,
          ...(c.last_error ? { last_error: c.last_error } : {}),
        })),
        ...(st.next_report ? { next_report: st.next_report } : {}),
      };
    }
    const failing = st?.channels.find((c) => c.last_error)?.last_error;
    if (failing !== undefined) out.last_error = failing;
    return out;
  }

  /** The running service (channels, counters, delivery log, test), undefined without channels. */
  service(): NotificationService | undefined {
    return this.svc;
  }
}

export const NOTIFICATIONS_INTEGRATION: Integration<NotificationsConfig, NotificationsRuntime> = {
  section: 'notifications',
  logName: 'notifications',
  schema: notificationsConfigSchema,
  apply: 'live',
  reads: ['location'],
  // Besides passwords and tokens: every webhook header, Pushover's user key, and an ntfy
  // topic (on a public server the topic name is the only thing that keeps it private).
  secrets: {
    keys: ['password', 'token'],
    maps: ['headers'],
    byType: { pushover: ['user'], ntfy: ['topic'] },
  },
  enabled: (v) => (v?.length ?? 0) > 0,
  create: (ctx) => new NotificationsRuntime(ctx),
  /** Sends a test message through the channel named in the request. */
  async test({ channel }, runtime) {
    const n = runtime.service();
    if (!channel) {
      throw new BmsError('REQUEST_INVALID', 'body field "channel": name the channel to test', {
        field: 'channel',
      });
    }
    if (!n) {
      throw new BmsError(
        'NOT_FOUND',
        'no notification channels are running (add one under notifications and save first)',
      );
    }
    try {
      // Unknown channel: NOT_FOUND naming the configured ones.
      const r = await n.test(channel);
      return {
        ok: r.ok,
        message: r.ok
          ? `test message sent through ${channel}`
          : `test message through ${channel} failed: ${r.error ?? r.status}`,
      };
    } catch (e) {
      if (e instanceof BmsError) throw e;
      return { ok: false, message: e instanceof Error ? e.message : String(e) };
    }
  },
};
