/**
 * The settings behind the web console's settings page, backup and restore: reads the
 * config file (secrets redacted), saves one section (secrets the form left as the marker
 * are kept), applies integration sections live, tests an integration's settings, and
 * restores a whole file. The server's routes only translate HTTP.
 *
 * Every integration section comes from the registry (its schema, secrets, test, live or
 * restart); this file names none. It works through a narrow `SettingsHost` (the gateway's
 * IntegrationRunner), not the Gateway class, so the gateway and the settings do not import
 * each other.
 */
import { isDeepStrictEqual } from 'node:util';
import { BmsError } from '@openbms/core';
import type { Config } from '../config.js';
import { mergeSecrets, parseConfigText, type ConfigFile } from '../config-file.js';
import type { ReconfigureResult, RuntimeStatus, TestRequest } from '../integrations/integration.js';
import type { ProbeResult } from '../integrations/probes.js';
import type { IntegrationRegistry } from '../integrations/registry.js';

/** What the settings need of the running gateway (its IntegrationRunner fits as is). */
export interface SettingsHost {
  readonly registry: IntegrationRegistry;
  /** The config the gateway runs with (integration sections as last applied). */
  config(): Config;
  /** Applies one section while running (IntegrationRunner.reconfigure). */
  reconfigure(section: string, value: unknown): Promise<ReconfigureResult>;
  /** The live state of an integration section. */
  status(section: string): RuntimeStatus | undefined;
  /** Runs an integration's test; REQUEST_INVALID when it has none. */
  test(section: string, req: TestRequest<unknown>): Promise<ProbeResult>;
}

/** The live state of one integration. */
export interface IntegrationStatus extends RuntimeStatus {
  /** The section is in the config (or the integration runs by default, as metrics). */
  configured: boolean;
  /** Configured and turned on (not `enabled: false`, not an empty list). */
  enabled: boolean;
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
  /** The web server's section (listen address, port, TLS...); applied at the next start. */
  http: unknown;
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
  /** The config file, checked with the registry's schema. */
  readonly file: ConfigFile;
  private readonly registry: IntegrationRegistry;
  /**
   * The file's config as it was when the gateway started: a saved section that still equals
   * it needs no restart. The file's, not the running config: start-up overrides (`--port`,
   * `--host`) are in the running config only, and a restored unchanged backup is no change.
   */
  private readonly started: Config;
  private readonly failures = new Map<string, string>();
  private readonly pending = new Set<string>();

  constructor(
    private readonly host: SettingsHost,
    file: ConfigFile,
  ) {
    this.registry = host.registry;
    this.file = file.withSchema(host.registry.configSchema);
    this.started = structuredClone(this.fileAtStart() ?? host.config());
  }

  /** The file's config (the defaults when there is none), or undefined when it is invalid. */
  private fileAtStart(): Config | undefined {
    try {
      return this.file.read();
    } catch {
      return undefined;
    }
  }

  /** Every top-level key but `version`. */
  sections(): string[] {
    return this.registry.configKeys();
  }

  /** Sections applied without a restart (or answered with "restart required"). */
  liveSections(): string[] {
    return this.registry.liveSections();
  }

  private isLive(section: string): boolean {
    return this.liveSections().includes(section);
  }

  private integrations(): string[] {
    return this.registry.sections();
  }

  /** A section's value with its secrets hidden (the integration's own, else the usual names). */
  private redacted(section: string, value: unknown): unknown {
    if (value === undefined) return null;
    return this.registry.redact(section, value);
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
      cfg = this.host.config() as Record<string, unknown>;
      fileError = e.message;
    }
    const sections: Record<string, unknown> = {};
    const status: Record<string, IntegrationStatus> = {};
    for (const s of this.integrations()) {
      sections[s] = this.redacted(s, cfg[s]);
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
      location: this.redacted('location', cfg['location']),
      http: this.redacted('http', cfg['http']),
      status,
      restart_required: this.pending.size > 0,
      pending_restart: [...this.pending],
      editable: this.sections(),
      live: this.liveSections(),
    };
  }

  /** The live state of one integration. */
  status(section: string): IntegrationStatus {
    const integration = this.registry.get(section);
    const value = (this.host.config() as Record<string, unknown>)[section];
    const on = integration?.enabled(value) ?? false;
    // An integration that runs by default (metrics) counts as configured without a section.
    const configured = value !== undefined || (integration?.enabled(undefined) ?? false);
    const live = this.host.status(section) ?? { running: false };
    const out: IntegrationStatus = { configured, enabled: configured && on, ...live };
    const failure = this.failures.get(section) ?? live.last_error;
    if (failure !== undefined) out.last_error = failure;
    return out;
  }

  // ------------------------------------------------------------------ write

  /** SettingsHost.reconfigure, with any failure as a result: the file is saved by then. */
  private async apply(section: string, value: unknown): Promise<ReconfigureResult> {
    try {
      return await this.host.reconfigure(section, value);
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
    const next = this.registry.validate(nextRaw, `settings "${section}"`);
    this.registry.checkReferences(next, `settings "${section}"`);
    this.file.save(nextRaw);
    const nextValue = (next as Record<string, unknown>)[section];
    const out: SettingsUpdate = {
      section,
      value: this.redacted(section, nextValue),
      saved: true,
      applied: false,
      restart_required: false,
    };
    if (this.isLive(section)) {
      const r = await this.apply(section, nextValue);
      out.applied = r.error === undefined && !r.restart_required;
      // Applied at the next start: only a value other than the one started with needs it.
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
   * A section the gateway applied itself after saving it (the sites, by Gateway.saveBus):
   * what runs is now the file's, so no restart is pending for it.
   */
  markApplied(section: string): void {
    const k = section as keyof Config;
    const now = this.file.read();
    (this.started as Record<string, unknown>)[k] = structuredClone(now[k]);
    this.pending.delete(section);
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
      cfg = this.registry.validate({ ...raw, [section]: candidate }, `test of "${section}"`);
    }
    const value = (cfg as Record<string, unknown>)[section];
    const r = await this.host.test(section, {
      value,
      ...(req.channel !== undefined ? { channel: req.channel } : {}),
    });
    return { section, ...r };
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
    const { config } = parseConfigText(text, 'the uploaded config', this.registry.configSchema);
    this.registry.checkReferences(config, 'the uploaded config');
    this.file.saveText(text);
    const applied: string[] = [];
    const failed: { section: string; error: string }[] = [];
    let restart = false;
    const running = this.host.config() as Record<string, unknown>;
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
