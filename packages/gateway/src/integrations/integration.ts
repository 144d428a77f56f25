/**
 * One integration (MQTT, Modbus TCP server and client, UART tunnel, metrics, notifications)
 * as the gateway and the settings service see it: a descriptor per config section. The
 * gateway's `IntegrationRunner` creates, starts, stops and reconfigures every registered
 * descriptor; the settings service lists, redacts, validates and tests them. Neither knows a
 * section by name: adding an integration is one module with its descriptor and one line in
 * `builtin.ts` (and its schema in the config).
 *
 * Types only (no runtime code), so every side can depend on it without a cycle.
 */
import type { ZodType } from 'zod';
import type { AlarmEvent, HistoryQuery, HistoryResult, PointGroup } from '@openbms/storage';
import type { Config } from '../config.js';
import type { SecretSpec } from '../config-file.js';
import type { ControlService } from '../control/index.js';
import type { BusPoller } from '../scheduler/index.js';
import type { EventBus, PackStatus } from '../types.js';
import type { WriterStatus } from '../writer.js';
import type { ProbeResult } from './probes.js';

export type IntegrationLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/**
 * What an integration may use of the running gateway: a narrow context, never the Gateway
 * class. `value()` and `config()` read the config as last applied, so a runtime started
 * again after a settings change sees the new section.
 */
export interface IntegrationContext<S = unknown> {
  /** The integration's own section (schema defaults applied), undefined when absent. */
  value(): S | undefined;
  /** The whole config the gateway runs with (for sections it also reads, e.g. location). */
  config(): Config;
  events: EventBus;
  /** Live status of every pack, in config order. */
  packs(): PackStatus[];
  /** Safe control: every write is validated, audited and read back there. */
  control: ControlService;
  activeAlarms(packId?: string): AlarmEvent[];
  writerStatus(): WriterStatus;
  /** The gateway's own telemetry history (its scope applied), for reports. */
  telemetry: { history(q: HistoryQuery): Promise<HistoryResult> };
  /** The poller of a running bus named `<site>/<bus>` (the tunnel leases it). */
  bus(name: string): Pick<BusPoller, 'exclusive' | 'bus'> | undefined;
  /** The running buses, as `<site>/<bus>`. */
  buses(): string[];
  clock: { now(): number };
  /**
   * The point groups of the gateway's own organisation, read from its storage now (the MQTT
   * bridge's `points_as`); absent when the storage keeps no point groups.
   */
  pointGroups?(): Promise<readonly PointGroup[]>;
  /** The gateway's log, each line prefixed with the integration's `logName`. */
  log: IntegrationLog;
}

/** The live state of one integration, as the settings page shows it. */
export interface RuntimeStatus {
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

/**
 * One integration while the gateway runs. Created once per gateway (cheap, no I/O); the
 * runner calls `start()` when the section enables it and `stop()` on shutdown or before a
 * settings change. Both must be idempotent: a second start or stop does nothing.
 */
export interface IntegrationRuntime {
  /** Starts with `ctx.value()`; may throw (CONFIG_INVALID) when it cannot run at all. */
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): RuntimeStatus;
  /**
   * Why a start that just returned left it down (bind failure, unreadable TLS file), or
   * undefined. A settings change that ends so is reported and the integration stopped.
   */
  startFailure?(): string | undefined;
}

/** What a settings page "test" button asks. */
export interface TestRequest<S> {
  /** The candidate settings (secrets the form kept as the marker filled in), else the saved ones. */
  value: S | undefined;
  /** The notification channel to send through. */
  channel?: string;
}

/** A problem found across sections (the tunnel's bus must exist), with its dotted path. */
export interface SectionIssue {
  path: string;
  message: string;
}

/**
 * The descriptor of one integration. `S` is its section's parsed type, `R` its runtime,
 * which is also how it exposes itself to the server (Gateway.integration(descriptor) is
 * typed `R`): the metrics renderer, the notification service, the tunnel status.
 */
export interface Integration<S = unknown, R extends IntegrationRuntime = IntegrationRuntime> {
  /** The config section (top-level key). */
  readonly section: string;
  /** The prefix of its log lines. */
  readonly logName: string;
  /** The section's schema (the config schema holds the same object for built-in sections). */
  readonly schema: ZodType<S>;
  /**
   * `live`: a settings change stops it, swaps the section and starts it again. `restart`:
   * the change is saved and shown, and takes effect at the next start (the server mounts
   * /metrics once).
   */
  readonly apply: 'live' | 'restart';
  /** Other sections it reads: a change to one of them restarts it (notifications: location). */
  readonly reads?: readonly string[];
  /** Its secret keys, hidden behind the marker on the settings page (config-file.ts). */
  readonly secrets: SecretSpec;
  /** Whether a section value turns it on (absent, `enabled: false`, an empty list: off). */
  enabled(value: S | undefined): boolean;
  create(ctx: IntegrationContext<S>): R;
  /** Checks across sections the schema cannot make; [] when fine. */
  check?(config: Config): SectionIssue[];
  /** The settings page's test: a short real check, answered in words. */
  test?(req: TestRequest<S>, runtime: R, ctx: IntegrationContext<S>): Promise<ProbeResult>;
}

/** Any descriptor, whatever its section and runtime types (the registry's element type). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- section types differ per entry
export type AnyIntegration = Integration<any, IntegrationRuntime>;

/** The outcome of applying one section to the running gateway. */
export interface ReconfigureResult {
  section: string;
  /** The integration runs with the new settings. */
  running: boolean;
  /** Why it did not start; it stays stopped (the config is saved all the same). */
  error?: string;
  /** Takes effect at the next start only. */
  restart_required: boolean;
}
