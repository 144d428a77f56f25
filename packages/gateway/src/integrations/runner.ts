/**
 * Runs a registry's integrations for the gateway: creates each one's runtime with a narrow
 * context, starts the enabled ones, stops them all, and applies one config section while
 * running (stop, swap the section, start again). It holds the config as last applied. The
 * settings service works through it (SettingsHost), never through the Gateway class.
 */
import { BmsError } from '@openbms/core';
import type { Config } from '../config.js';
import type { ProbeResult } from './probes.js';
import type {
  AnyIntegration,
  Integration,
  IntegrationContext,
  IntegrationLog,
  IntegrationRuntime,
  ReconfigureResult,
  RuntimeStatus,
  TestRequest,
} from './integration.js';
import type { IntegrationRegistry } from './registry.js';

/** What the gateway lends every integration (IntegrationContext without the per-integration parts). */
export type IntegrationHost = Omit<IntegrationContext, 'value' | 'config' | 'log'>;

interface Entry {
  integration: AnyIntegration;
  runtime: IntegrationRuntime;
  ctx: IntegrationContext;
}

const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class IntegrationRunner {
  private current: Config;
  private readonly entries: Entry[];
  private started = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly registry: IntegrationRegistry,
    config: Config,
    host: IntegrationHost,
    private readonly log: IntegrationLog,
  ) {
    this.current = config;
    this.entries = registry.all().map((integration) => {
      const ctx: IntegrationContext = {
        ...host,
        value: () => (this.current as Record<string, unknown>)[integration.section],
        config: () => this.current,
        log: (level, message) => log(level, `${integration.logName}: ${message}`),
      };
      return { integration, runtime: integration.create(ctx), ctx };
    });
  }

  /** The config as last applied. */
  config(): Config {
    return this.current;
  }

  private enabled(e: Entry): boolean {
    return e.integration.enabled(e.ctx.value());
  }

  /** Starts every enabled integration, in registry order (the gateway's buses run by then). */
  async start(): Promise<void> {
    this.started = true;
    for (const e of this.entries) if (this.enabled(e)) await e.runtime.start();
  }

  /** Stops every integration, last started first. */
  async stop(): Promise<void> {
    for (const e of [...this.entries].reverse()) await e.runtime.stop();
    this.started = false;
  }

  /**
   * Applies a new value of one section (`undefined` removes it): checks the whole config
   * with the registry's schema, stops the live integrations it concerns, swaps the section
   * and starts them again. A start failure is reported in the result and leaves them
   * stopped; the caller has saved the config already. Calls run one after the other.
   */
  reconfigure(section: string, value: unknown): Promise<ReconfigureResult> {
    const run = this.queue.then(() => this.apply(section, value));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(section: string, value: unknown): Promise<ReconfigureResult> {
    const live = this.registry.liveSections();
    if (!live.includes(section)) {
      throw new BmsError(
        'CONFIG_INVALID',
        `${section} is not applied live (live: ${live.join(', ')}); restart OpenBMS`,
      );
    }
    const raw: Record<string, unknown> = { ...this.current };
    if (value === undefined) delete raw[section];
    else raw[section] = value;
    const next = this.registry.validate(raw, 'config');
    const own = this.entries.find((e) => e.integration.section === section);
    if (own?.integration.apply === 'restart') {
      this.current = next;
      return { section, running: own.runtime.status().running, restart_required: true };
    }
    const affected = this.registry
      .affectedBy(section)
      .filter((i) => i.apply === 'live')
      .map((i) => this.entryOf(i));
    for (const e of affected) await e.runtime.stop();
    this.current = next;
    if (!this.started) return { section, running: false, restart_required: false };
    let error: string | undefined;
    for (const e of affected) {
      if (!this.enabled(e)) continue;
      try {
        await e.runtime.start();
        error = e.runtime.startFailure?.();
      } catch (err) {
        error = errMsg(err);
      }
      if (error !== undefined) break;
    }
    if (error !== undefined) {
      for (const e of affected) await e.runtime.stop();
      this.log('error', `${section}: not started: ${error}`);
      return { section, running: false, error, restart_required: false };
    }
    const running = affected.length > 0 && affected.every((e) => e.runtime.status().running);
    return { section, running, restart_required: false };
  }

  private entryOf(i: AnyIntegration): Entry {
    const e = this.entries.find((x) => x.integration === i);
    if (!e) throw new BmsError('INTERNAL', `integration "${i.section}" is not in this runner`);
    return e;
  }

  /** The live state of an integration section; undefined for a section no integration has. */
  status(section: string): RuntimeStatus | undefined {
    return this.entries.find((e) => e.integration.section === section)?.runtime.status();
  }

  /**
   * The runtime of a registered descriptor, typed as the descriptor's (how the server reaches
   * the metrics renderer, the notification service, the tunnel status); undefined when that
   * descriptor is not registered.
   */
  runtime<R extends IntegrationRuntime>(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any section type
    integration: Integration<any, R>,
  ): R | undefined {
    return this.entries.find((e) => e.integration === integration)?.runtime as R | undefined;
  }

  /**
   * The settings page's test of a section with `req.value` (the saved or candidate section).
   * REQUEST_INVALID when the section has no test.
   */
  async test(section: string, req: TestRequest<unknown>): Promise<ProbeResult> {
    const e = this.entries.find((x) => x.integration.section === section);
    if (!e?.integration.test) {
      const testable = this.entries.filter((x) => x.integration.test).map((x) => x.integration);
      throw new BmsError(
        'REQUEST_INVALID',
        `there is no test for "${section}"; tests exist for ${testable.map((i) => i.section).join(', ')}`,
        { field: 'section' },
      );
    }
    return e.integration.test(req, e.runtime, e.ctx);
  }
}
