/**
 * The settings behind the web console's settings page, backup and restore: reads the
 * config file (secrets redacted), saves one section (secrets the form left as the marker
 * are kept), applies integration sections live through `Gateway.reconfigure`, tests an
 * integration's settings, and restores a whole file. The server's routes only translate HTTP.
 */
import { isDeepStrictEqual } from 'node:util';
import { BmsError } from '@openbms/core';
import { configSchema, sitesOf, type Config } from '../config.js';
import {
  checkConfig,
  invalidConfig,
  mergeSecrets,
  parseConfigText,
  redact,
  type ConfigFile,
} from '../config-file.js';
import {
  LIVE_SECTIONS,
  type Gateway,
  type LiveSection,
  type ReconfigureResult,
} from '../gateway.js';
import { probeListen, probeModbusServer, probeMqtt, probeTcp } from './probes.js';
import type { ProbeResult } from './probes.js';

/** The sections the settings page shows as integrations. */
export const INTEGRATION_SECTIONS = [
  'mqtt',
  'modbus_tcp',
  'modbus_client',
  'tunnel',
  'metrics',
  'notifications',
] as const;

/** The live state of one integration. */
export interface IntegrationStatus {
  /** The section is in the config. */
  configured: boolean;
  /** Configured and not `enabled: false`. */
  enabled: boolean;
  /** Up right now (started; for servers: listening). */
  running: boolean;
  last_error?: string;
  /** MQTT: connected to the broker; Modbus client: connected to its target. */
  connected?: boolean;
  /** Modbus TCP server, tunnel: host:port listened on. */
  listening?: string;
  /** The integration's own state word (listening, backoff, ...). */
  state?: string;
  /** Integration-specific details (tunnel client, bytes; counters). */
  detail?: Record<string, unknown>;
}

export interface SettingsView {
  /** The config file's absolute path. */
  path: string;
  /** False: the gateway runs on the defaults and the first save creates the file. */
  exists: boolean;
  writable: boolean;
  writable_reason?: string;
  /** The file on disk does not check (edited by hand): the sections shown are those running. */
  file_error?: string;
  /** Every integration section, secrets redacted; null when absent. */
  sections: Record<string, unknown>;
  location: unknown;
  status: Record<string, IntegrationStatus>;
  /** Saved sections that take effect at the next start only. */
  restart_required: boolean;
  pending_restart: string[];
  /** Every section a PUT accepts, and those applied without a restart. */
  editable: string[];
  live: string[];
}

export interface SettingsUpdate {
  section: string;
  /** The saved value (defaults filled in), secrets redacted; null when removed. */
  value: unknown;
  saved: true;
  /** Applied to the running gateway now. */
  applied: boolean;
  /** The start failed: the integration is stopped, the config saved. */
  error?: string;
  restart_required: boolean;
  status?: IntegrationStatus;
}

export interface SettingsTestResult extends ProbeResult {
  section: string;
}

export interface RestoreResult {
  saved: true;
  restart_required: boolean;
  /** Sections applied live. */
  applied: string[];
  /** Live sections whose start failed (stopped; the file is saved). */
  failed: { section: string; error: string }[];
  pending_restart: string[];
}

const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class GatewaySettings {
  /** The config as it was when the gateway started: sections that are not live run with it. */
  private readonly started: Config;
  private readonly failures = new Map<string, string>();
  private readonly pending = new Set<string>();

  constructor(
    private readonly gw: Gateway,
    readonly file: ConfigFile,
  ) {
    this.started = structuredClone(gw.currentConfig());
  }

  /** Every top-level key but `version`. */
  sections(): string[] {
    return Object.keys(configSchema.shape).filter((k) => k !== 'version');
  }

  /** Sections applied without a restart. */
  liveSections(): string[] {
    return [...LIVE_SECTIONS];
  }

  private isLive(section: string): section is LiveSection {
    return this.liveSections().includes(section);
  }

  private integrations(): string[] {
    const known = this.sections();
    return INTEGRATION_SECTIONS.filter((s) => known.includes(s));
  }

  private assertSection(section: string): void {
    if (!this.sections().includes(section)) {
      throw new BmsError(
        'NOT_FOUND',
        `no config section "${section}"; sections: ${this.sections().join(', ')}`,
      );
    }
  }

  // ------------------------------------------------------------------ read

  view(): SettingsView {
    let cfg: Record<string, unknown>;
    let fileError: string | undefined;
    try {
      cfg = this.file.read() as Record<string, unknown>;
    } catch (e) {
      // Edited by hand into something invalid: show what runs, and why the file does not.
      if (!(e instanceof BmsError) || e.code !== 'CONFIG_INVALID') throw e;
      cfg = this.gw.currentConfig() as Record<string, unknown>;
      fileError = e.message;
    }
    const sections: Record<string, unknown> = {};
    const status: Record<string, IntegrationStatus> = {};
    for (const s of this.integrations()) {
      sections[s] = cfg[s] === undefined ? null : redact(cfg[s]);
      status[s] = this.status(s);
    }
    const w = this.file.writable();
    return {
      path: this.file.path,
      exists: this.file.exists(),
      writable: w.writable,
      ...(w.reason ? { writable_reason: w.reason } : {}),
      ...(fileError ? { file_error: fileError } : {}),
      sections,
      location: cfg['location'] === undefined ? null : redact(cfg['location']),
      status,
      restart_required: this.pending.size > 0,
      pending_restart: [...this.pending],
      editable: this.sections(),
      live: this.liveSections(),
    };
  }

  /** The live state of one integration. */
  status(section: string): IntegrationStatus {
    const c = this.gw.currentConfig() as Record<string, unknown>;
    const sec = c[section] as { enabled?: boolean } | unknown[] | undefined;
    const configured = sec !== undefined;
    const enabled =
      configured &&
      (Array.isArray(sec)
        ? sec.length > 0
        : section === 'tunnel'
          ? sec.enabled === true
          : sec.enabled !== false);
    const failure = this.failures.get(section);
    const out: IntegrationStatus = { configured, enabled, running: false };
    const withError = (e: string | undefined): void => {
      const m = failure ?? e;
      if (m !== undefined) out.last_error = m;
    };
    if (section === 'mqtt') {
      const st = this.gw.mqtt?.status();
      out.running = this.gw.mqtt !== undefined;
      out.connected = st?.connected ?? false;
      if (st)
        out.detail = { published: st.published, dropped: st.dropped, reconnects: st.reconnects };
      withError(st?.lastError);
    } else if (section === 'modbus_tcp') {
      const st = this.gw.modbusServer?.status();
      out.running = st?.state === 'listening';
      if (st) out.state = st.state;
      if (st?.state === 'listening') out.listening = `${st.host}:${st.port}`;
      if (st) out.detail = { clients: st.clients, requests: st.requests, units: st.units.length };
      withError(st?.lastError);
    } else if (section === 'modbus_client') {
      const st = this.gw.modbusClient?.status();
      out.running = st !== undefined;
      out.connected = st?.state === 'connected';
      if (st) out.state = st.state;
      if (st)
        out.detail = { target: `${st.host}:${st.port}`, writes: st.writes, failures: st.failures };
      withError(st?.lastError);
    } else if (section === 'tunnel') {
      const st = this.gw.tunnelStatus();
      out.running = st?.listening === true;
      if (st?.listening) out.listening = `${st.host}:${st.port}`;
      if (st) out.detail = { ...st };
      withError(st?.lastError);
    } else if (section === 'metrics') {
      out.configured = true; // served by default
      out.enabled = (sec as { enabled?: boolean } | undefined)?.enabled !== false;
      out.running = this.gw.metrics !== undefined;
      if (this.gw.metrics) out.detail = { public: this.gw.metrics.public };
      withError(undefined);
    } else if (section === 'notifications') {
      const st = this.gw.notifications?.status();
      out.running = st !== undefined;
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
      withError(st?.channels.find((c) => c.last_error)?.last_error);
    }
    return out;
  }

  // ------------------------------------------------------------------ write

  /** Cross-section checks the schema cannot make (the tunnel's bus must exist). */
  private checkReferences(c: Config, source: string): void {
    const t = c.tunnel;
    if (!t?.enabled) return;
    const buses = sitesOf(c).flatMap((s) => s.buses.map((b) => `${s.id}/${b.id}`));
    if (!buses.includes(t.bus)) {
      throw invalidConfig(source, [
        {
          path: 'tunnel.bus',
          message: `no bus "${t.bus}"; configured: ${buses.join(', ') || 'none'}`,
        },
      ]);
    }
  }

  /** Gateway.reconfigure, with any failure as a result: the file is saved by then. */
  private async apply(section: LiveSection, value: unknown): Promise<ReconfigureResult> {
    try {
      return await this.gw.reconfigure(section, value);
    } catch (e) {
      return { section, running: false, error: errMsg(e), restart_required: false };
    }
  }

  private restartNeeded(section: string, next: Config): boolean {
    const k = section as keyof Config;
    const differs = !isDeepStrictEqual(this.started[k], next[k]);
    if (differs) this.pending.add(section);
    else this.pending.delete(section);
    return differs;
  }

  /**
   * Validates and saves one section (null removes it), then applies it when it is live.
   * CONFIG_INVALID (details.issues) and nothing written when it does not check.
   */
  async update(section: string, value: unknown): Promise<SettingsUpdate> {
    this.assertSection(section);
    const raw = this.file.raw();
    const saved = this.file.read() as Record<string, unknown>;
    const nextRaw: Record<string, unknown> = { ...raw };
    if (value === null || value === undefined) delete nextRaw[section];
    else nextRaw[section] = mergeSecrets(value, saved[section], section);
    const next = checkConfig(nextRaw, `settings "${section}"`);
    this.checkReferences(next, `settings "${section}"`);
    this.file.save(nextRaw);
    const nextValue = (next as Record<string, unknown>)[section];
    const out: SettingsUpdate = {
      section,
      value: nextValue === undefined ? null : redact(nextValue),
      saved: true,
      applied: false,
      restart_required: false,
    };
    if (this.isLive(section)) {
      const r = await this.apply(section, nextValue);
      out.applied = r.error === undefined && !r.restart_required;
      // metrics: only a value other than the one started with needs the restart.
      out.restart_required = r.restart_required && this.restartNeeded(section, next);
      if (r.error !== undefined) {
        out.error = r.error;
        this.failures.set(section, r.error);
      } else this.failures.delete(section);
    } else {
      out.restart_required = this.restartNeeded(section, next);
    }
    if (this.integrations().includes(section)) out.status = this.status(section);
    return out;
  }

  /**
   * Tests an integration with the saved settings or a candidate (secrets left as the marker
   * are taken from the saved ones). Answers ok or the problem in words.
   */
  async test(
    section: string,
    req: { value?: unknown; channel?: string } = {},
  ): Promise<SettingsTestResult> {
    this.assertSection(section);
    const raw = this.file.raw();
    const saved = this.file.read() as Record<string, unknown>;
    let cfg = saved as Config;
    if (req.value !== undefined && req.value !== null) {
      const candidate = mergeSecrets(req.value, saved[section], section);
      cfg = checkConfig({ ...raw, [section]: candidate }, `test of "${section}"`);
    }
    const none = (what: string): SettingsTestResult => ({
      section,
      ok: false,
      message: `no ${what} settings saved or given`,
    });
    const done = (r: ProbeResult): SettingsTestResult => ({ section, ...r });
    switch (section) {
      case 'mqtt':
        return cfg.mqtt ? done(await probeMqtt(cfg.mqtt)) : none('mqtt');
      case 'modbus_tcp': {
        const m = cfg.modbus_tcp;
        if (!m) return none('modbus_tcp');
        const r = await probeModbusServer(m.host, m.port);
        if (!r.ok && !this.gw.integrationRunning('modbus_tcp')) {
          r.message += '; the Modbus TCP server is not running (save with enabled: true first)';
        }
        return done(r);
      }
      case 'modbus_client': {
        const m = cfg.modbus_client;
        return m ? done(await probeTcp(m.host, m.port, m.timeout_ms)) : none('modbus_client');
      }
      case 'tunnel':
        return cfg.tunnel ? done(await this.testTunnel(cfg.tunnel)) : none('tunnel');
      case 'metrics': {
        const m = this.gw.metrics;
        if (!m) return { section, ok: false, message: 'metrics are disabled (enabled: false)' };
        const lines = m
          .render()
          .split('\n')
          .filter((l) => l && !l.startsWith('#')).length;
        return {
          section,
          ok: true,
          message: `/metrics renders ${lines} samples (${m.public ? 'public' : 'needs a token'})`,
        };
      }
      case 'notifications':
        return this.testNotifications(req.channel);
      default:
        throw new BmsError(
          'REQUEST_INVALID',
          `there is no test for "${section}"; tests exist for ${this.integrations().join(', ')}`,
          { field: 'section' },
        );
    }
  }

  private async testTunnel(t: NonNullable<Config['tunnel']>): Promise<ProbeResult> {
    const address = `${t.host}:${t.port}`;
    const bus = this.gw.buses().find((b) => `${b.site}/${b.id}` === t.bus);
    if (!bus) {
      const known = this.gw.buses().map((b) => `${b.site}/${b.id}`);
      return {
        ok: false,
        message: `no running bus "${t.bus}"; running: ${known.join(', ') || 'none'}`,
        address,
      };
    }
    const st = this.gw.tunnelStatus();
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

  private async testNotifications(channel: string | undefined): Promise<SettingsTestResult> {
    const n = this.gw.notifications;
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
        section: 'notifications',
        ok: r.ok,
        message: r.ok
          ? `test message sent through ${channel}`
          : `test message through ${channel} failed: ${r.error ?? r.status}`,
      };
    } catch (e) {
      if (e instanceof BmsError) throw e;
      return { section: 'notifications', ok: false, message: errMsg(e) };
    }
  }

  // ------------------------------------------------------------------ backup / restore

  /** The config file's text (the defaults' YAML when there is no file yet). */
  backup(): string {
    return this.file.text();
  }

  /**
   * Checks an uploaded config (YAML text), saves it (the old file becomes .bak) and applies
   * the live sections that changed. CONFIG_INVALID and nothing written when it does not check.
   */
  async restore(text: string): Promise<RestoreResult> {
    const { config } = parseConfigText(text, 'the uploaded config');
    this.checkReferences(config, 'the uploaded config');
    this.file.saveText(text);
    const applied: string[] = [];
    const failed: { section: string; error: string }[] = [];
    let restart = false;
    const running = this.gw.currentConfig() as Record<string, unknown>;
    const next = config as Record<string, unknown>;
    for (const s of this.sections()) {
      if (this.isLive(s)) {
        if (isDeepStrictEqual(running[s], next[s])) continue;
        const r = await this.apply(s, next[s]);
        if (r.restart_required) {
          restart = this.restartNeeded(s, config) || restart;
        } else if (r.error !== undefined) {
          failed.push({ section: s, error: r.error });
          this.failures.set(s, r.error);
        } else {
          applied.push(s);
          this.failures.delete(s);
        }
      } else if (this.restartNeeded(s, config)) {
        restart = true;
      }
    }
    return {
      saved: true,
      restart_required: restart || this.pending.size > 0,
      applied,
      failed,
      pending_restart: [...this.pending],
    };
  }
}
