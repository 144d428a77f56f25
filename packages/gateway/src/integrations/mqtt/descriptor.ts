/** The `mqtt:` section as a registered integration: the publisher, its status and test. */
import { GATEWAY_ALARM_SCOPE } from '@openbms/core';
import type {
  Integration,
  IntegrationContext,
  IntegrationRuntime,
  RuntimeStatus,
} from '../integration.js';
import { hostTimeZone } from '../../control/clock.js';
import { nothingToTest, probeMqtt } from '../probes.js';
import { MqttIntegration } from './integration.js';
import { iotMqttPanelDashboard, type IotMqttPanelDashboard } from './panel.js';
import { mqttConfigSchema, type MqttConfig } from './schema.js';

export class MqttRuntime implements IntegrationRuntime {
  private client: MqttIntegration | undefined;

  constructor(private readonly ctx: IntegrationContext<MqttConfig>) {}

  async start(): Promise<void> {
    const config = this.ctx.value();
    if (this.client || !config) return;
    const ctx = this.ctx;
    this.client = new MqttIntegration({
      config,
      events: ctx.events,
      packs: () => ctx.packs(),
      control: ctx.control,
      // The gateway's own alarms (storage) go to <base>/gateway/alarms.
      gatewayAlarms: () => ctx.activeAlarms(GATEWAY_ALARM_SCOPE),
      log: ctx.log,
      clock: ctx.clock,
      timeZone: ctx.config().location?.timezone ?? hostTimeZone(),
      ...(ctx.pointGroups ? { pointGroups: () => ctx.pointGroups!() } : {}),
    });
    this.client.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.stop();
  }

  status(): RuntimeStatus {
    const st = this.client?.status();
    const out: RuntimeStatus = {
      running: this.client !== undefined,
      connected: st?.connected ?? false,
    };
    if (st)
      out.detail = { published: st.published, dropped: st.dropped, reconnects: st.reconnects };
    if (st?.lastError !== undefined) out.last_error = st.lastError;
    return out;
  }

  /** A client that could not even start (unreadable TLS file) says so in its last error. */
  startFailure(): string | undefined {
    const st = this.client?.status();
    return st && !st.connected && st.lastError?.includes('not started') ? st.lastError : undefined;
  }

  /** The publisher while it runs. */
  publisher(): MqttIntegration | undefined {
    return this.client;
  }

  /** Seed 001's IoT MQTT Panel dashboard for the configured topics (undefined without `mqtt:`). */
  panel(): IotMqttPanelDashboard | undefined {
    const config = this.ctx.value();
    if (!config) return undefined;
    const control = this.ctx.control;
    return iotMqttPanelDashboard(this.ctx.packs(), config, (id) => {
      try {
        return control.capabilities(id);
      } catch {
        return undefined; // a pack not (yet) known to control: its switches as configured
      }
    });
  }
}

export const MQTT_INTEGRATION: Integration<MqttConfig, MqttRuntime> = {
  section: 'mqtt',
  logName: 'mqtt',
  schema: mqttConfigSchema,
  apply: 'live',
  // The site's time zone: the heartbeat's time and the daily maxima's day.
  reads: ['location'],
  // `key` is the path of the client certificate's private key; URL passwords are always hidden.
  secrets: { keys: ['password', 'key'] },
  enabled: (v) => v !== undefined && v.enabled !== false,
  create: (ctx) => new MqttRuntime(ctx),
  test: async ({ value }) => (value ? probeMqtt(value) : nothingToTest('mqtt')),
};
