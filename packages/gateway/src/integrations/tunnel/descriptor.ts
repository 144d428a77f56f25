/** The `tunnel:` section as a registered integration: the UART-over-TCP tunnel of one bus. */
import { BmsError } from '@openbms/core';
import { sitesOf } from '../../config.js';
import type {
  Integration,
  IntegrationContext,
  IntegrationRuntime,
  RuntimeStatus,
} from '../integration.js';
import { nothingToTest, probeListen, type ProbeResult } from '../probes.js';
import { tunnelConfigSchema, type TunnelConfig } from './schema.js';
import { UartTunnel, type TunnelStatus } from './tunnel.js';

export class TunnelRuntime implements IntegrationRuntime {
  private tun: UartTunnel | undefined;

  constructor(private readonly ctx: IntegrationContext<TunnelConfig>) {}

  /** CONFIG_INVALID when the bus it names is not running. */
  async start(): Promise<void> {
    const config = this.ctx.value();
    if (this.tun || !config?.enabled) return;
    const poller = this.ctx.bus(config.bus);
    if (!poller) {
      throw new BmsError(
        'CONFIG_INVALID',
        `tunnel.bus: no bus "${config.bus}"; configured: ${this.ctx.buses().join(', ')}`,
      );
    }
    this.tun = new UartTunnel({ config, poller, log: this.ctx.log, clock: this.ctx.clock });
    await this.tun.start();
  }

  /** Closes the session first, which gives the bus back to its poller. */
  async stop(): Promise<void> {
    const tun = this.tun;
    this.tun = undefined;
    await tun?.stop();
  }

  status(): RuntimeStatus {
    const st = this.tun?.status();
    const out: RuntimeStatus = { running: st?.listening === true };
    if (st?.listening) out.listening = `${st.host}:${st.port}`;
    if (st) out.detail = { ...st };
    if (st?.lastError !== undefined) out.last_error = st.lastError;
    return out;
  }

  startFailure(): string | undefined {
    const st = this.tun?.status();
    return st && !st.listening ? (st.lastError ?? 'not listening') : undefined;
  }

  /** The tunnel's status (client, bytes, expiry), undefined while it does not run. */
  tunnelStatus(): TunnelStatus | undefined {
    return this.tun?.status();
  }
}

/** The bus must be running; the port free, or ours already. */
async function testTunnel(
  t: TunnelConfig,
  runtime: TunnelRuntime,
  ctx: IntegrationContext<TunnelConfig>,
): Promise<ProbeResult> {
  const address = `${t.host}:${t.port}`;
  const running = ctx.buses();
  if (!running.includes(t.bus)) {
    return {
      ok: false,
      message: `no running bus "${t.bus}"; running: ${running.join(', ') || 'none'}`,
      address,
    };
  }
  const st = runtime.tunnelStatus();
  const ours =
    st?.listening === true &&
    st.host === t.host &&
    (t.port === 0 || st.port === t.port) &&
    st.bus === t.bus;
  if (ours) {
    return {
      ok: true,
      message: `the tunnel of bus ${t.bus} is listening on ${st.host}:${st.port}${st.client ? ` (client ${st.client.address} connected)` : ''}`,
      address: `${st.host}:${st.port}`,
    };
  }
  if (st?.listening && st.host === t.host && st.port === t.port) {
    // Ours, for another bus: the port is free once the tunnel is moved.
    return {
      ok: true,
      message: `${address} is used by the tunnel itself (bus ${st.bus})`,
      address,
    };
  }
  const r = await probeListen(t.host, t.port);
  return r.ok ? { ...r, message: `bus ${t.bus} exists and ${r.message}` } : r;
}

export const TUNNEL_INTEGRATION: Integration<TunnelConfig, TunnelRuntime> = {
  section: 'tunnel',
  logName: 'tunnel',
  schema: tunnelConfigSchema,
  apply: 'live',
  secrets: {},
  // Off unless an admin turns it on.
  enabled: (v) => v?.enabled === true,
  create: (ctx) => new TunnelRuntime(ctx),
  check(config) {
    const t = config.tunnel;
    if (!t?.enabled) return [];
    const buses = sitesOf(config).flatMap((s) => s.buses.map((b) => `${s.id}/${b.id}`));
    if (buses.includes(t.bus)) return [];
    return [
      {
        path: 'tunnel.bus',
        message: `no bus "${t.bus}"; configured: ${buses.join(', ') || 'none'}`,
      },
    ];
  },
  test: async ({ value }, runtime, ctx) =>
    value ? testTunnel(value, runtime, ctx) : nothingToTest('tunnel'),
};
