/**
 * The gateway: one poller per bus (simulated buses are served by the simulator on a local
 * TCP port and polled over it like any RS485-to-Ethernet converter), the sample writer, the
 * alarm engine, rollups and retention on timers, and the read API the server uses.
 */
import { BmsError, GATEWAY_ALARM_SCOPE, isBmsError } from '@openbms/core';
import { createSimulation, serveTcp, type Listening, type Simulation } from '@openbms/simulator';
import {
  DEFAULT_RETENTION,
  type AlarmEvent,
  type RetentionPolicy,
  type Storage,
} from '@openbms/storage';
import { AlarmEngine, parseAlarmRules } from './alarms/index.js';
import { ControlService } from './control/index.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from './integrations/metrics/index.js';
import { ModbusTcpClient, ModbusTcpServer } from './integrations/modbus/index.js';
import { MqttIntegration, iotMqttPanelDashboard } from './integrations/mqtt/index.js';
import { NotificationService } from './integrations/notify/index.js';
import { UartTunnel, type TunnelStatus } from './integrations/tunnel/index.js';
import { packsOf, sitesOf, validateConfig, type BusConfig, type Config } from './config.js';
import type { ConfigFile } from './config-file.js';
import { GatewaySettings } from './settings/index.js';
import { BusPoller } from './scheduler/index.js';
import { EventBus, type PackRef, type PackStatus } from './types.js';
import { StorageWatch, type StorageStatus } from './storage-watch.js';
import { SampleWriter, type WriterStatus } from './writer.js';

export type LogFn = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface GatewayOptions {
  config: Config;
  storage: Storage;
  clock?: { now(): number };
  log?: LogFn;
  /** The config file behind `config`: enables `settings` (web settings, backup, restore). */
  configFile?: ConfigFile;
}

/** Config sections `reconfigure()` applies while running. */
export const LIVE_SECTIONS = [
  'mqtt',
  'modbus_tcp',
  'modbus_client',
  'tunnel',
  'metrics',
  'notifications',
  'location',
] as const;
export type LiveSection = (typeof LIVE_SECTIONS)[number];

export interface ReconfigureResult {
  section: string;
  /** The integration runs with the new settings. */
  running: boolean;
  /** Why it did not start; it stays stopped (the config is saved all the same). */
  error?: string;
  /** Takes effect at the next start only. */
  restart_required: boolean;
}

interface RunningBus {
  site: string;
  config: BusConfig;
  endpoint: string;
  poller: BusPoller;
  sim?: { simulation: Simulation; listening: Listening };
}

const DAY_MS = 86_400_000;

export function retentionOf(c: Config): RetentionPolicy {
  const r = c.storage.retention_days;
  const days = (v: number | 'forever' | undefined, d: number): number =>
    v === undefined ? d : v === 'forever' ? Infinity : v;
  return {
    raw: days(r.raw, DEFAULT_RETENTION.raw),
    '1m': days(r['1m'], DEFAULT_RETENTION['1m']),
    '15m': days(r['15m'], DEFAULT_RETENTION['15m']),
    '1h': days(r['1h'], DEFAULT_RETENTION['1h']),
  };
}

export class Gateway {
  readonly events: EventBus;
  readonly alarms: AlarmEngine;
  readonly writer: SampleWriter;
  /** Storage problems as gateway alarms (storage_full, storage_corrupt) and /health status. */
  readonly storageWatch: StorageWatch;
  /** Safe control and parameters: validation, interlocks, exclusive slot, read-back, audit. */
  readonly control: ControlService;
  private readonly running: RunningBus[] = [];
  /** The MQTT publisher, when `mqtt:` is configured and enabled. */
  mqtt: MqttIntegration | undefined;
  /** The Modbus TCP server and client, when configured and enabled. */
  modbusServer: ModbusTcpServer | undefined;
  modbusClient: ModbusTcpClient | undefined;
  /** The UART-over-TCP tunnel, when configured and enabled. */
  tunnel: UartTunnel | undefined;
  /** Notifications (ntfy, Pushover, e-mail, webhook), when `notifications:` lists channels. */
  notifications: NotificationService | undefined;
  private pastDeliveries: NotificationService['deliveries'] | undefined;
  /** Prometheus text for the server's /metrics (absent when `metrics: {enabled: false}`). */
  readonly metrics: { render(): string; contentType: string; public: boolean } | undefined;
  private readonly refs: PackRef[];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly clock: { now(): number };
  private readonly log: LogFn;
  private started = false;
  private reconfiguring: Promise<unknown> = Promise.resolve();
  /** Settings, backup and restore of the config file (present when `configFile` is given). */
  readonly settings: GatewaySettings | undefined;

  constructor(private readonly opts: GatewayOptions) {
    this.clock = opts.clock ?? { now: () => Date.now() };
    this.log = opts.log ?? (() => undefined);
    this.settings = opts.configFile ? new GatewaySettings(this, opts.configFile) : undefined;
    this.events = new EventBus((err) => this.log('error', `event listener failed: ${String(err)}`));
    this.refs = packsOf(opts.config);
    this.writer = new SampleWriter(opts.storage.telemetry, this.events, {
      batchMs: opts.config.storage.batch_ms,
      onError: (m) => this.log('error', `storing samples failed (they stay buffered): ${m}`),
      afterFlush: () => this.storageWatch.tick(),
    });
    this.control = new ControlService({
      resolve: (id) => {
        const ref = this.refs.find((p) => p.id === id);
        const bus = ref && this.running.find((b) => b.site === ref.site && b.config.id === ref.bus);
        if (!ref || !bus) return undefined;
        const snapshot = bus.poller.statusOf(id)?.snapshot;
        return { ref, def: bus.poller.def, poller: bus.poller, ...(snapshot ? { snapshot } : {}) };
      },
      audit: opts.storage.audit,
      events: this.events,
      clock: this.clock,
      onError: (e) => this.log('error', `control audit failed: ${String(e)}`),
    });
    const m = opts.config.metrics;
    this.metrics =
      m?.enabled === false
        ? undefined
        : {
            render: () => renderMetrics(this),
            contentType: METRICS_CONTENT_TYPE,
            public: m?.auth === false,
          };
    this.alarms = new AlarmEngine({
      bus: this.events,
      store: opts.storage.alarms,
      rules: parseAlarmRules(opts.config.alarm_rules, { source: 'alarm_rules' }),
      now: () => this.clock.now(),
      onError: (e) => this.log('error', `alarm store failed: ${String(e)}`),
    });
    this.storageWatch = new StorageWatch({
      storage: opts.storage,
      writer: this.writer,
      alarms: this.alarms,
      clock: this.clock,
      log: this.log,
      checkEveryMs: opts.config.storage.integrity_check_h * 3_600_000,
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.alarms.start();
    this.storageWatch.start();
    this.writer.start();
    for (const site of sitesOf(this.opts.config)) {
      for (const bus of site.buses) await this.startBus(site.id, bus);
    }
    for (const section of [
      'mqtt',
      'modbus_tcp',
      'modbus_client',
      'tunnel',
      'notifications',
    ] as const) {
      await this.startIntegration(section);
    }
    const policy = retentionOf(this.opts.config);
    const every = (ms: number, fn: () => void): void => {
      const t = setInterval(() => {
        try {
          fn();
        } catch (e) {
          this.log('error', String(e instanceof Error ? e.message : e));
        }
      }, ms);
      t.unref?.();
      this.timers.push(t);
    };
    every(60_000, () => this.opts.storage.telemetry.rollup(this.clock.now()));
    every(3_600_000, () => this.opts.storage.telemetry.applyRetention(this.clock.now(), policy));
  }

  // ------------------------------------------------------------------ live settings

  /**
   * Applies a new value of one integration section without a restart (`undefined` removes
   * it): checks it with the whole config's schema, stops the integration, swaps the section
   * and starts it again. A start failure (port in use, unreadable TLS file, unknown tunnel
   * bus) is reported in the result and leaves the integration stopped; the caller has saved
   * the config already. Calls are applied one after the other.
   */
  reconfigure(section: LiveSection, value: unknown): Promise<ReconfigureResult> {
    const run = this.reconfiguring.then(() => this.applySection(section, value));
    this.reconfiguring = run.catch(() => undefined);
    return run;
  }

  /** The config the gateway runs with (integration sections as last applied). */
  currentConfig(): Config {
    return this.opts.config;
  }

  private async applySection(section: LiveSection, value: unknown): Promise<ReconfigureResult> {
    if (!LIVE_SECTIONS.includes(section)) {
      throw new BmsError(
        'CONFIG_INVALID',
        `${String(section)} is not applied live (live: ${LIVE_SECTIONS.join(', ')}); restart OpenBMS`,
      );
    }
    const raw: Record<string, unknown> = { ...this.opts.config };
    if (value === undefined) delete raw[section];
    else raw[section] = value;
    const next = validateConfig(raw, 'config');
    if (section === 'metrics') {
      // The server mounts /metrics (and picks its access) when it starts.
      this.opts.config = next;
      return { section, running: this.metrics !== undefined, restart_required: true };
    }
    await this.stopIntegration(section);
    this.opts.config = next;
    if (!this.started) return { section, running: false, restart_required: false };
    let error: string | undefined;
    try {
      await this.startIntegration(section);
      error = this.startFailure(section);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    if (error !== undefined) {
      await this.stopIntegration(section);
      this.log('error', `${section}: not started: ${error}`);
      return { section, running: false, error, restart_required: false };
    }
    return { section, running: this.integrationRunning(section), restart_required: false };
  }

  private async startIntegration(section: Exclude<LiveSection, 'metrics'>): Promise<void> {
    // The location drives the notifications' reports and quiet hours.
    if (section === 'location') section = 'notifications';
    const log = (prefix: string) => (level: 'info' | 'warn' | 'error', message: string) =>
      this.log(level, `${prefix}: ${message}`);
    const c = this.opts.config;
    if (section === 'mqtt' && c.mqtt && c.mqtt.enabled !== false) {
      this.mqtt = new MqttIntegration({
        config: c.mqtt,
        events: this.events,
        packs: () => this.packs(),
        control: this.control,
        gatewayAlarms: () => this.activeAlarms(GATEWAY_ALARM_SCOPE),
        log: log('mqtt'),
        clock: this.clock,
      });
      this.mqtt.start();
    }
    if (section === 'modbus_tcp' && c.modbus_tcp && c.modbus_tcp.enabled !== false) {
      this.modbusServer = new ModbusTcpServer({
        config: c.modbus_tcp,
        packs: () => this.packs(),
        control: this.control,
        activeAlarms: (id) => this.activeAlarms(id),
        log: log('modbus'),
        clock: this.clock,
      });
      await this.modbusServer.start();
    }
    if (section === 'modbus_client' && c.modbus_client && c.modbus_client.enabled !== false) {
      this.modbusClient = new ModbusTcpClient({
        config: c.modbus_client,
        packs: () => this.packs(),
        log: log('modbus client'),
        clock: this.clock,
      });
      this.modbusClient.start();
    }
    const tc = c.tunnel;
    if (section === 'tunnel' && tc && tc.enabled) {
      const [site, bus] = tc.bus.split('/');
      const running = this.running.find((b) => b.site === site && b.config.id === bus);
      if (!running) {
        throw new BmsError(
          'CONFIG_INVALID',
          `tunnel.bus: no bus "${tc.bus}"; configured: ${this.running.map((b) => `${b.site}/${b.config.id}`).join(', ')}`,
        );
      }
      this.tunnel = new UartTunnel({
        config: tc,
        poller: running.poller,
        log: log('tunnel'),
        clock: this.clock,
      });
      await this.tunnel.start();
    }
    const nc = c.notifications;
    if (section === 'notifications' && nc && nc.length > 0) {
      this.notifications = new NotificationService({
        config: nc,
        ...(c.location ? { location: c.location } : {}),
        events: this.events,
        packs: () => this.packs(),
        telemetry: this.opts.storage.telemetry,
        clock: this.clock,
        log: log('notifications'),
        ...(this.pastDeliveries ? { deliveries: this.pastDeliveries } : {}),
      });
      this.notifications.start();
    }
  }

  private async stopIntegration(section: LiveSection): Promise<void> {
    if (section === 'mqtt') await this.mqtt?.stop();
    if (section === 'mqtt') this.mqtt = undefined;
    if (section === 'modbus_tcp') await this.modbusServer?.stop();
    if (section === 'modbus_tcp') this.modbusServer = undefined;
    if (section === 'modbus_client') await this.modbusClient?.stop();
    if (section === 'modbus_client') this.modbusClient = undefined;
    if (section === 'tunnel') await this.tunnel?.stop();
    if (section === 'tunnel') this.tunnel = undefined;
    if (section === 'notifications' || section === 'location') {
      await this.notifications?.stop();
      // The deliveries so far stay visible after a settings change.
      this.pastDeliveries = this.notifications?.deliveries ?? this.pastDeliveries;
      this.notifications = undefined;
    }
  }

  /** Why a just-started integration is not up (bind failure, unreadable TLS file). */
  private startFailure(section: LiveSection): string | undefined {
    if (section === 'mqtt') {
      const st = this.mqtt?.status();
      return st && !st.connected && st.lastError?.includes('not started')
        ? st.lastError
        : undefined;
    }
    if (section === 'modbus_tcp') {
      const st = this.modbusServer?.status();
      return st?.state === 'error' ? (st.lastError ?? 'cannot listen') : undefined;
    }
    if (section === 'tunnel') {
      const st = this.tunnel?.status();
      return st && !st.listening ? (st.lastError ?? 'not listening') : undefined;
    }
    return undefined;
  }

  /** Whether an integration is up (started and, for servers, listening). */
  integrationRunning(section: LiveSection): boolean {
    if (section === 'mqtt') return this.mqtt !== undefined;
    if (section === 'modbus_tcp') return this.modbusServer?.status().state === 'listening';
    if (section === 'modbus_client') return this.modbusClient !== undefined;
    if (section === 'tunnel') return this.tunnel?.status().listening === true;
    if (section === 'notifications' || section === 'location') return !!this.notifications;
    return this.metrics !== undefined;
  }

  private async startBus(site: string, bus: BusConfig): Promise<void> {
    const packs = this.refs.filter((p) => p.site === site && p.bus === bus.id);
    let endpoint = bus.port;
    let sim: RunningBus['sim'];
    if (bus.port === 'sim') {
      const s = bus.simulator;
      const simulation = createSimulation({
        protocol: bus.protocol,
        packs: packs.length,
        ...(packs[0]?.variant ? { variant: packs[0].variant } : {}),
        profile: s?.profile ?? 'solar',
        speed: s?.speed ?? 60,
        seed: s?.seed ?? 1,
        initialSocPct: s?.soc_pct ?? 60,
        cells: s?.cells ?? 16,
        capacityAh: s?.capacity_ah ?? 100,
        faults: s?.faults ?? [],
        chemistry: packs[0]?.chemistry ?? 'lfp',
        // The simulated day starts at dawn so the demo shows the sun arriving.
        start: Math.floor(this.clock.now() / DAY_MS) * DAY_MS + 6 * 3_600_000,
        ...(bus.baud ? { baud: bus.baud } : {}),
      });
      const answering = simulation.packs.map((p) => p.address);
      const configured = packs.map((p) => p.address);
      if (answering.join() !== configured.join()) {
        throw new BmsError(
          'CONFIG_INVALID',
          `bus ${site}/${bus.id}: simulated ${bus.protocol} packs answer at ${answering.join(', ')}; set the packs' addresses to these`,
        );
      }
      const listening = await serveTcp(simulation.bus);
      endpoint = listening.endpoint;
      sim = { simulation, listening };
    }
    const poller = new BusPoller({
      endpoint,
      packs,
      events: this.events,
      bus: bus.id,
      protocol: bus.protocol,
      pollIntervalMs: bus.poll_interval_s * 1000,
      retries: bus.retries,
      ...(bus.baud ? { link: { baud: bus.baud } } : {}),
      ...(bus.timeout_ms ? { timeoutMs: bus.timeout_ms } : {}),
      clock: this.clock,
      onError: (e) => this.log('error', `bus ${site}/${bus.id}: ${String(e)}`),
    });
    this.running.push({ site, config: bus, endpoint, poller, ...(sim ? { sim } : {}) });
    poller.start();
    this.log(
      'info',
      `bus ${site}/${bus.id}: ${bus.protocol}, ${packs.length} pack(s) on ${bus.port === 'sim' ? `simulator ${endpoint}` : endpoint}`,
    );
  }

  async stop(): Promise<void> {
    // The tunnel holds a bus lease that the poller's stop would wait for: close it first.
    await this.tunnel?.stop();
    this.tunnel = undefined;
    await this.mqtt?.stop();
    this.mqtt = undefined;
    await this.notifications?.stop();
    this.notifications = undefined;
    await this.modbusServer?.stop();
    this.modbusServer = undefined;
    await this.modbusClient?.stop();
    this.modbusClient = undefined;
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    for (const b of this.running) {
      await b.poller.stop();
      await b.sim?.listening.close();
    }
    this.running.length = 0;
    this.writer.stop();
    this.storageWatch.stop();
    this.alarms.stop();
    this.started = false;
  }

  // ------------------------------------------------------------------ read API (server)

  packs(): PackStatus[] {
    return this.running.flatMap((b) => b.poller.status());
  }

  pack(id: string): PackStatus | undefined {
    for (const b of this.running) {
      const s = b.poller.statusOf(id);
      if (s) return s;
    }
    return undefined;
  }

  sites(): { id: string; name: string }[] {
    return sitesOf(this.opts.config).map((s) => ({ id: s.id, name: s.name ?? s.id }));
  }

  buses(): { id: string; site: string; port: string; protocol: string; packs: string[] }[] {
    return this.running.map((b) => ({
      id: b.config.id,
      site: b.site,
      port: b.config.port === 'sim' ? `sim (${b.endpoint})` : b.config.port,
      protocol: b.config.protocol,
      packs: this.refs.filter((p) => p.site === b.site && p.bus === b.config.id).map((p) => p.id),
    }));
  }

  /** False when there is no such event; acknowledging twice keeps the first. */
  acknowledgeAlarm(id: number, user: string): boolean {
    try {
      this.alarms.acknowledge(id, user);
      return true;
    } catch (e) {
      if (isBmsError(e) && e.code === 'NOT_FOUND') return false;
      throw e;
    }
  }

  activeAlarms(packId?: string): AlarmEvent[] {
    return this.alarms.active(packId);
  }

  alarmCounts(packId?: string): Record<string, number> {
    return this.alarms.counts(packId);
  }

  /** Seed 001's IoT MQTT Panel dashboard for the configured MQTT topics (undefined without MQTT). */
  mqttPanel(): unknown {
    const mqtt = this.opts.config.mqtt;
    return mqtt ? iotMqttPanelDashboard(this.packs(), mqtt) : undefined;
  }

  /** The tunnel's status (client, bytes, expiry), undefined when no tunnel is configured. */
  tunnelStatus(): TunnelStatus | undefined {
    return this.tunnel?.status();
  }

  /** Whether everything is being stored (`/health`): storage problems and what waits in memory. */
  storageStatus(): StorageStatus {
    return this.storageWatch.status();
  }

  writerStatus(): WriterStatus {
    return { ...this.writer.status };
  }

  /** The simulations behind `port: sim` buses (tests and the demo use them). */
  simulations(): Simulation[] {
    return this.running.flatMap((b) => (b.sim ? [b.sim.simulation] : []));
  }
}
