/**
 * The gateway: one poller per bus (each bus opened by the injected `BusFactory`: real ports
 * as configured; `port: sim` buses served by the simulator when the composition root passes
 * a factory that does so), the sample writer, the alarm engine, rollups and retention on
 * timers, the integrations of a registry (run by an IntegrationRunner; no section is named
 * here), and the read API the server uses.
 */
import { BmsError, isBmsError } from '@openbms/core';
import {
  DEFAULT_RETENTION,
  localScope,
  type AlarmEvent,
  type Origin,
  type RetentionPolicy,
  type Storage,
} from '@openbms/storage';
import { AlarmEngine, parseAlarmRules } from './alarms/index.js';
import { isDeepStrictEqual } from 'node:util';
import { realBuses, type BusFactory, type OpenedBus } from './buses.js';
import { BusSetup } from './setup/bus-setup.js';
import { ControlService, FileProfiles } from './control/index.js';
import { hostTimeZone } from './control/clock.js';
import { builtinRegistry } from './integrations/builtin.js';
import type {
  Integration,
  IntegrationRuntime,
  ReconfigureResult,
} from './integrations/integration.js';
import { METRICS_INTEGRATION, type MetricsExposure } from './integrations/metrics/descriptor.js';
import { MQTT_INTEGRATION } from './integrations/mqtt/descriptor.js';
import type { IotMqttPanelDashboard } from './integrations/mqtt/index.js';
import { NOTIFICATIONS_INTEGRATION } from './integrations/notify/descriptor.js';
import type { NotificationService } from './integrations/notify/index.js';
import type { IntegrationRegistry } from './integrations/registry.js';
import { IntegrationRunner } from './integrations/runner.js';
import { TUNNEL_INTEGRATION } from './integrations/tunnel/descriptor.js';
import type { TunnelStatus } from './integrations/tunnel/index.js';
import { packsOf, sitesOf, type BusConfig, type Config } from './config.js';
import type { ConfigFile } from './config-file.js';
import { GatewaySettings } from './settings/index.js';
import { BusPoller } from './scheduler/index.js';
import { EventBus, type PackRef, type PackStatus } from './types.js';
import { InProcessGateway } from './seam/in-process.js';
import type { BusInfo, LocalGatewayParts, SiteInfo } from './seam/types.js';
import { StorageWatch, type StorageStatus } from './storage-watch.js';
import { SampleWriter, type WriterStatus } from './writer.js';
import { EnergyCounters } from './energy.js';

export type LogFn = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface GatewayOptions {
  config: Config;
  storage: Storage;
  /**
   * Whose records the gateway writes: its organisation and gateway ids (ADR: identity).
   * Default: the storage's own (`identity` of an embedded store, such as SqliteStorage).
   */
  identity?: Origin;
  clock?: { now(): number };
  log?: LogFn;
  /** The config file behind `config`: enables `settings` (web settings, backup, restore). */
  configFile?: ConfigFile;
  /**
   * The integrations to run (default: the built-in ones). A registry that adds sections
   * needs `config` checked with its schema (`registry.validate`, or a ConfigFile using it).
   */
  integrations?: IntegrationRegistry;
  /**
   * Opens each bus (default `realBuses`: the configured port as it is; `port: sim` refused).
   * `openbms start` passes `withSimulatedBuses(...)` so simulated buses are served.
   */
  busFactory?: BusFactory;
  /**
   * Where each pack's saved parameter profile (its last export) is kept, one JSON file per
   * pack; default: in memory (lost at a restart). `openbms start`: `<data dir>/profiles`.
   */
  profilesDir?: string;
}

/**
 * A site whose buses are set at run time, not read from the config file (the BMS of tracker
 * batteries, reached through each tracker's link: trackers/bms.ts). Its packs carry their own
 * ids (the device list's pack link), not `<site>/<bus>/<address>`.
 */
export interface RuntimeSite {
  id: string;
  name?: string;
  buses: { bus: BusConfig; packs: PackRef[] }[];
}

interface RunningBus {
  site: string;
  config: BusConfig;
  endpoint: string;
  poller: BusPoller;
  opened: OpenedBus;
}

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

export class Gateway implements LocalGatewayParts {
  readonly events: EventBus;
  readonly alarms: AlarmEngine;
  readonly writer: SampleWriter;
  /** Storage problems as gateway alarms (storage_full, storage_corrupt) and /health status. */
  readonly storageWatch: StorageWatch;
  /** Safe control and parameters: validation, interlocks, exclusive slot, read-back, audit. */
  readonly control: ControlService;
  private readonly running: RunningBus[] = [];
  /** Every registered integration (MQTT, Modbus, tunnel, metrics, notifications...). */
  private readonly integrations: IntegrationRunner;
  private readonly refs: PackRef[];
  /** Sites set at run time (setRuntimeSite), by id. */
  private readonly runtime = new Map<string, RuntimeSite>();
  /** Each pack's charged/discharged kWh meters (in every snapshot, stored with each sample). */
  private readonly energy = new EnergyCounters();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly clock: { now(): number };
  private readonly log: LogFn;
  private started = false;
  /** Settings, backup and restore of the config file (present when `configFile` is given). */
  readonly settings: GatewaySettings | undefined;
  /** Whose records this gateway writes (organisation and gateway ids). */
  readonly identity: Origin;
  /**
   * This gateway behind the seam a server reads it through (async reads, numbered events,
   * commands with transaction ids): the same interface a remote gateway has (seam/README.md).
   */
  readonly link: InProcessGateway;

  constructor(private readonly opts: GatewayOptions) {
    this.clock = opts.clock ?? { now: () => Date.now() };
    this.log = opts.log ?? (() => undefined);
    const identity = opts.identity ?? opts.storage.identity;
    if (!identity) {
      throw new BmsError(
        'CONFIG_INVALID',
        'the gateway needs its identity (organisation and gateway ids): pass `identity`, or a storage that has its own',
      );
    }
    this.identity = identity;
    const scope = localScope(identity);
    this.events = new EventBus((err) => this.log('error', `event listener failed: ${String(err)}`));
    this.refs = packsOf(opts.config);
    this.writer = new SampleWriter(opts.storage.telemetry, this.events, {
      origin: identity,
      batchMs: opts.config.storage.batch_ms,
      onError: (m) => this.log('error', `storing samples failed (they stay buffered): ${m}`),
      afterFlush: () => void this.storageWatch.tick(),
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
      origin: identity,
      events: this.events,
      clock: this.clock,
      onError: (e) => this.log('error', `control audit failed: ${String(e)}`),
      ...(opts.profilesDir ? { profiles: new FileProfiles(opts.profilesDir) } : {}),
      // BMS clocks keep local time: the site's zone, else the gateway's own.
      ...(opts.config.location?.timezone ? { timeZone: opts.config.location.timezone } : {}),
    });
    this.alarms = new AlarmEngine({
      bus: this.events,
      store: opts.storage.alarms,
      origin: identity,
      rules: parseAlarmRules(opts.config.alarm_rules, { source: 'alarm_rules' }),
      now: () => this.clock.now(),
      onError: (e) => this.log('error', `alarm store failed: ${String(e)}`),
    });
    const registry = opts.integrations ?? builtinRegistry();
    this.integrations = new IntegrationRunner(
      registry,
      opts.config,
      {
        events: this.events,
        packs: () => this.packs(),
        control: this.control,
        activeAlarms: (packId) => this.activeAlarms(packId),
        writerStatus: () => this.writerStatus(),
        telemetry: { history: (q) => opts.storage.telemetry.history(scope, q) },
        bus: (name) => this.running.find((b) => `${b.site}/${b.config.id}` === name)?.poller,
        buses: () => this.running.map((b) => `${b.site}/${b.config.id}`),
        clock: this.clock,
        ...(opts.storage.points
          ? { pointGroups: () => opts.storage.points!.list([identity.orgId]) }
          : {}),
      },
      this.log,
    );
    this.settings = opts.configFile
      ? new GatewaySettings(this.integrations, opts.configFile)
      : undefined;
    this.link = new InProcessGateway(this, {
      now: () => this.clock.now(),
      onError: (e) => this.log('error', `gateway seam: ${String(e)}`),
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
    await this.alarms.start();
    await this.storageWatch.start();
    this.writer.start();
    for (const site of sitesOf(this.opts.config)) {
      for (const bus of site.buses) await this.startBus(site.id, bus);
    }
    for (const site of this.runtime.values()) {
      for (const b of site.buses) await this.startBus(site.id, b.bus);
    }
    await this.integrations.start();
    const policy = retentionOf(this.opts.config);
    /** A periodic job; a run still going when the next is due is not started twice. */
    const every = (ms: number, fn: () => Promise<void>): void => {
      let running = false;
      const t = setInterval(() => {
        if (running) return;
        running = true;
        fn()
          .catch((e: unknown) => this.log('error', String(e instanceof Error ? e.message : e)))
          .finally(() => (running = false));
      }, ms);
      t.unref?.();
      this.timers.push(t);
    };
    every(60_000, () => this.opts.storage.telemetry.rollup(this.clock.now()));
    every(3_600_000, () => this.opts.storage.telemetry.applyRetention(this.clock.now(), policy));
  }

  // ------------------------------------------------------------------ integrations

  /**
   * Applies a new value of one integration section without a restart (`undefined` removes
   * it); see IntegrationRunner.reconfigure. Calls are applied one after the other.
   */
  reconfigure(section: string, value: unknown): Promise<ReconfigureResult> {
    return this.integrations.reconfigure(section, value);
  }

  /** The config the gateway runs with (integration sections as last applied). */
  /** The site's IANA time zone (`location.timezone` as configured now), else the host's. */
  timeZone(): string {
    return this.currentConfig().location?.timezone ?? hostTimeZone();
  }

  currentConfig(): Config {
    return this.integrations.config();
  }

  /** Whether an integration is up (started and, for servers, listening). */
  integrationRunning(section: string): boolean {
    return this.integrations.status(section)?.running === true;
  }

  /**
   * The runtime of a registered integration, typed as its descriptor's (e.g.
   * `gw.integration(MQTT_INTEGRATION)?.publisher()`); undefined when it is not registered.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any section type
  integration<R extends IntegrationRuntime>(descriptor: Integration<any, R>): R | undefined {
    return this.integrations.runtime(descriptor);
  }

  /** Serial ports, scans and test reads for the Buses page; a polled port is refused. */
  readonly busSetup = new BusSetup({
    busyPorts: () => this.running.filter((b) => b.config.port !== 'sim').map((b) => b.config.port),
  });

  /** Prometheus text for the server's /metrics (absent when `metrics: {enabled: false}`). */
  get metrics(): MetricsExposure | undefined {
    return this.integration(METRICS_INTEGRATION)?.exposure();
  }

  /** Notifications (ntfy, Pushover, e-mail, webhook), while `notifications:` lists channels. */
  get notifications(): NotificationService | undefined {
    return this.integration(NOTIFICATIONS_INTEGRATION)?.service();
  }

  private siteChange: Promise<unknown> = Promise.resolve();

  /**
   * Saves one bus of a site (null removes it; the site is made when it is new, and goes when
   * its last bus does) to the config file, then applies the sites live: a removed or changed
   * bus stops and frees its port, a new or changed one starts polling, the others go on
   * untouched. CONFIG_INVALID (details.issues) and nothing saved when it does not check.
   */
  saveBus(
    siteId: string,
    busId: string,
    bus: Record<string, unknown> | null,
    siteName?: string,
  ): Promise<{ started: string[]; stopped: string[] }> {
    const run = this.siteChange.then(() => this.saveBusNow(siteId, busId, bus, siteName));
    this.siteChange = run.catch(() => undefined);
    return run;
  }

  private async saveBusNow(
    siteId: string,
    busId: string,
    bus: Record<string, unknown> | null,
    siteName?: string,
  ): Promise<{ started: string[]; stopped: string[] }> {
    const settings = this.settings;
    if (!settings)
      throw new BmsError('CAPABILITY_MISSING', 'this gateway has no config file to save buses to');
    const raw = settings.file.raw() as Record<string, unknown>;
    const sites = structuredClone((raw['sites'] ?? []) as Record<string, unknown>[]);
    let site = sites.find((x) => x['id'] === siteId);
    if (!site) {
      if (bus === null) throw new BmsError('NOT_FOUND', `no site "${siteId}"`);
      site = { id: siteId, ...(siteName ? { name: siteName } : {}), buses: [] };
      sites.push(site);
    } else if (siteName) site['name'] = siteName;
    const buses = ((site['buses'] ?? []) as Record<string, unknown>[]).filter(
      (b) => b['id'] !== busId,
    );
    if (bus === null && buses.length === ((site['buses'] ?? []) as unknown[]).length)
      throw new BmsError('NOT_FOUND', `no bus "${busId}" on site "${siteId}"`);
    if (bus !== null) buses.push({ ...bus, id: busId });
    site['buses'] = buses;
    const next = buses.length === 0 ? sites.filter((x) => x !== site) : sites;
    await settings.update('sites', next);
    return this.applySites(settings.file.read().sites);
  }

  /**
   * Sets (or, with no buses, removes) a site whose buses are not in the config file, and
   * applies it live as saveBus does: a bus that went or changed stops, a new one starts
   * polling, the others go on untouched. A configured site of the same id is refused.
   */
  setRuntimeSite(site: RuntimeSite): Promise<{ started: string[]; stopped: string[] }> {
    const run = this.siteChange.then(() => {
      if (sitesOf(this.opts.config).some((s) => s.id === site.id))
        throw new BmsError(
          'CONFIG_INVALID',
          `site "${site.id}" is configured already; it cannot also be set at run time`,
        );
      if (site.buses.length === 0) this.runtime.delete(site.id);
      else this.runtime.set(site.id, site);
      return this.applySites(this.opts.config.sites, false);
    });
    this.siteChange = run.catch(() => undefined);
    return run;
  }

  /** Runs the buses of these sites: stops what went or changed, starts what is new. */
  private async applySites(
    sites: Config['sites'],
    fromFile = true,
  ): Promise<{ started: string[]; stopped: string[] }> {
    const config = this.opts.config;
    const wanted = new Map<string, { site: string; bus: BusConfig }>();
    for (const s of sitesOf({ ...config, sites })) {
      for (const b of s.buses) wanted.set(`${s.id}/${b.id}`, { site: s.id, bus: b });
    }
    for (const s of this.runtime.values()) {
      for (const b of s.buses) wanted.set(`${s.id}/${b.bus.id}`, { site: s.id, bus: b.bus });
    }
    const stopped: string[] = [];
    for (const b of [...this.running]) {
      const key = `${b.site}/${b.config.id}`;
      const w = wanted.get(key);
      if (w && isDeepStrictEqual(w.bus, b.config)) {
        wanted.delete(key);
        continue;
      }
      await b.poller.stop();
      await b.opened.close();
      this.running.splice(this.running.indexOf(b), 1);
      stopped.push(key);
    }
    config.sites = sites;
    this.refs.splice(0, this.refs.length, ...this.allRefs());
    const started: string[] = [];
    if (this.started) {
      for (const [key, w] of wanted) {
        await this.startBus(w.site, w.bus);
        started.push(key);
      }
    }
    if (fromFile) this.settings?.markApplied('sites');
    return { started, stopped };
  }

  /** The configured packs, then those of the run-time sites. */
  private allRefs(): PackRef[] {
    return [
      ...packsOf(this.opts.config),
      ...[...this.runtime.values()].flatMap((s) => s.buses.flatMap((b) => b.packs)),
    ];
  }

  private async startBus(site: string, bus: BusConfig): Promise<void> {
    const packs = this.refs.filter((p) => p.site === site && p.bus === bus.id);
    const open = this.opts.busFactory ?? realBuses;
    const opened = await open({ site, bus, packs, now: this.clock.now() });
    const endpoint = opened.endpoint;
    await this.seedEnergy(packs);
    const poller = new BusPoller({
      endpoint,
      packs,
      events: this.events,
      bus: bus.id,
      protocol: bus.protocol,
      pollIntervalMs: bus.poll_interval_s * 1000,
      retries: bus.retries,
      link: {
        ...(bus.baud ? { baud: bus.baud } : {}),
        ...(bus.parity ? { parity: bus.parity } : {}),
        ...(bus.stop_bits ? { stopBits: bus.stop_bits } : {}),
      },
      ...(bus.timeout_ms ? { timeoutMs: bus.timeout_ms } : {}),
      clock: this.clock,
      ...(opened.deviceClock ? { deviceClock: opened.deviceClock } : {}),
      energy: this.energy,
      onError: (e) => this.log('error', `bus ${site}/${bus.id}: ${String(e)}`),
    });
    this.running.push({ site, config: bus, endpoint, poller, opened });
    poller.start();
    this.log(
      'info',
      `bus ${site}/${bus.id}: ${bus.protocol}, ${packs.length} pack(s) on ${bus.port === 'sim' ? `simulator ${endpoint}` : endpoint}`,
    );
  }

  /**
   * Starts the energy meters of these packs from their last stored samples, so a restart goes
   * on counting. A store that cannot answer now leaves the meters at 0 (logged): the daily
   * energy counts a counter that went down as a reset, never as negative energy.
   */
  private async seedEnergy(packs: readonly PackRef[]): Promise<void> {
    const scope = localScope(this.identity);
    for (const p of packs) {
      if (this.energy.has(p.id)) continue;
      try {
        const last = await this.opts.storage.telemetry.latest(scope, p.id);
        this.energy.seed(p.id, last?.snapshot);
      } catch (e) {
        this.log(
          'warn',
          `pack ${p.id}: energy meters start at 0 (last sample unreadable: ${e instanceof Error ? e.message : String(e)})`,
        );
        this.energy.seed(p.id, undefined);
      }
    }
  }

  async stop(): Promise<void> {
    // The tunnel holds a bus lease that the poller's stop would wait for: integrations first.
    await this.integrations.stop();
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    for (const b of this.running) {
      await b.poller.stop();
      await b.opened.close();
    }
    this.running.length = 0;
    await this.writer.stop();
    this.storageWatch.stop();
    this.alarms.stop();
    await this.alarms.settled();
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

  sites(): SiteInfo[] {
    const tz = this.timeZone();
    return [...sitesOf(this.opts.config), ...this.runtime.values()].map((s) => ({
      id: s.id,
      name: s.name ?? s.id,
      time_zone: tz,
    }));
  }

  buses(): BusInfo[] {
    return this.running.map((b) => ({
      id: b.config.id,
      site: b.site,
      port: b.config.port === 'sim' ? `sim (${b.endpoint})` : b.config.port,
      protocol: b.config.protocol,
      packs: this.refs.filter((p) => p.site === b.site && p.bus === b.config.id).map((p) => p.id),
      baud: b.poller.link.baud,
      parity: b.poller.link.parity,
      stop_bits: b.poller.link.stopBits,
    }));
  }

  /**
   * Acknowledges an event by the gateway's number for it (the API's alarm id). False when
   * there is no such event; acknowledging twice keeps the first.
   */
  async acknowledgeAlarm(localId: number, user: string): Promise<boolean> {
    try {
      await this.alarms.acknowledge(localId, user);
      return true;
    } catch (e) {
      if (isBmsError(e) && e.code === 'NOT_FOUND') return false;
      throw e;
    }
  }

  activeAlarms(packId?: string): AlarmEvent[] {
    return this.alarms.active(packId);
  }

  alarmCounts(packId?: string): Promise<Record<string, number>> {
    return this.alarms.counts(packId);
  }

  /** Seed 001's IoT MQTT Panel dashboard for the configured MQTT topics (undefined without MQTT). */
  mqttPanel(): IotMqttPanelDashboard | undefined {
    return this.integration(MQTT_INTEGRATION)?.panel();
  }

  /** The tunnel's status (client, bytes, expiry), undefined when no tunnel is configured. */
  tunnelStatus(): TunnelStatus | undefined {
    return this.integration(TUNNEL_INTEGRATION)?.tunnelStatus();
  }

  /** Whether everything is being stored (`/health`): storage problems and what waits in memory. */
  storageStatus(): Promise<StorageStatus> {
    return this.storageWatch.status();
  }

  writerStatus(): WriterStatus {
    return { ...this.writer.status };
  }
}
