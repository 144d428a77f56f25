/**
 * What the server needs of gateways.
 *
 * - **Every gateway it serves** is a `GatewayLink` (the seam, `@openbms/gateway`'s
 *   `seam/`): an asynchronous read model, a numbered event stream and commands with
 *   transaction ids, the same whether the gateway runs in this process or across a network.
 *   The server holds them in a `GatewayRegistry` (gateways.ts) and addresses them by id.
 * - **The box it runs on** (the single box: `openbms start`) also has what belongs to that
 *   machine and is not part of the seam: its config file's settings, notification channels,
 *   Prometheus metrics, the UART tunnel and the MQTT panel export. `BoxGateway` is those, with
 *   the box's own link. The `Gateway` class satisfies it as is; tests pass a small fake.
 */
import type {
  GatewayLink,
  MetricsExposure,
  NotificationsStatus,
  NotifyTestResult,
  NotifyReportNowResult,
  StorageStatus,
} from '@openbms/gateway';
// Every other server file takes the gateway's types from here.
import type {
  BusInfo,
  GatewayEvent,
  GatewayListener,
  PackStatus,
  RestoreResult,
  SettingsTestResult,
  SettingsUpdate,
  SettingsView,
  SiteInfo,
} from '@openbms/gateway';

export type {
  BusInfo,
  GatewayEvent,
  GatewayLink,
  GatewayListener,
  PackStatus,
  SiteInfo,
  StorageStatus,
};

/** The gateway of the box this server runs on: its seam, and the machine's own services. */
export interface BoxGateway {
  /** The box's gateway behind the seam (an `InProcessGateway`). */
  readonly link: GatewayLink;
  /** UART tunnel status (client address, bytes, uptime, expiry), undefined without a tunnel. */
  tunnelStatus?(): unknown;
  /** IoT MQTT Panel dashboard JSON (seed 001), undefined when MQTT is not configured. */
  mqttPanel?(): unknown;
  /**
   * The site's IANA time zone (config `location.timezone`, else the host's): exports show
   * times and cut days in it. Absent: UTC.
   */
  timeZone?(): string;
  /** Prometheus text exposition, when the gateway exports metrics. */
  metrics?: MetricsExposure | undefined;
  /** Notification channels, counters and delivery log; absent when none are configured. */
  notifications?: NotificationsApi | undefined;
  /** Config file settings, backup and restore (routes/settings.ts); absent: those routes answer 404. */
  settings?: SettingsApi | undefined;
  /** Serial ports, scans and test reads (routes/buses.ts); absent: those routes answer 404. */
  busSetup?: BusSetupApi | undefined;
  /** Saves one bus (null removes it) to the config file and applies it live. */
  saveBus?(
    site: string,
    bus: string,
    value: Record<string, unknown> | null,
    siteName?: string,
  ): Promise<{ started: string[]; stopped: string[] }>;
}

/** What the bus setup routes need: the gateway's BusSetup satisfies it. */
export interface BusSetupApi {
  ports(): Promise<unknown[]>;
  /** The families with their default line and the parity / stop bits each allows. */
  protocols(): unknown[];
  /** Every change of every scan, pushed to admins on the live socket. */
  onScan?(l: (job: { id: string }) => void): () => void;
  startScan(body: unknown): Promise<unknown>;
  scan(id: string): unknown;
  testRead(body: unknown): Promise<unknown>;
}

// ---------------------------------------------------------------- settings

/**
 * What the settings routes need: the gateway's GatewaySettings
 * (packages/gateway/src/settings) satisfies it as is. Errors are BmsErrors:
 * CONFIG_INVALID (details.issues: [{path, message}]), NOT_FOUND (unknown section),
 * STORAGE_READ_ONLY / STORAGE_FULL / STORAGE_FAILED (the file could not be written; the
 * old one is untouched), CAPABILITY_MISSING (no notification test).
 */
export interface SettingsApi {
  view(): SettingsView;
  update(section: string, value: unknown): Promise<SettingsUpdate>;
  test(section: string, req?: { value?: unknown; channel?: string }): Promise<SettingsTestResult>;
  backup(): string;
  restore(text: string): Promise<RestoreResult>;
}

export type {
  SettingsView,
  SettingsUpdate,
  SettingsTestResult,
  RestoreResult,
  IntegrationStatus,
} from '@openbms/gateway';

// ---------------------------------------------------------------- notifications

/** What the notification routes need: the gateway's NotificationService satisfies it. */
export interface NotificationsApi {
  /** Channels (secrets only as set / not set), counters, delivery log newest first. */
  status(): NotificationsStatus;
  /** Sends a test message through one channel now; NOT_FOUND for an unknown channel. */
  test(channel: string): Promise<NotifyTestResult>;
  /** Sends the report of the period running now through these channels at once. */
  reportNow(channels: readonly string[]): Promise<NotifyReportNowResult>;
}

export type { NotificationsStatus, NotifyTestResult, NotifyReportNowResult };

// ---------------------------------------------------------------- safe control

// The control shapes are the gateway's own (one definition, no structural copy). Control runs
// through the seam: reads through `GatewayLink`, changes as commands (`GatewayLink.send`).
export type {
  Actor,
  ControlPort,
  ParameterInfo as ControlParameterInfo,
  ControlCapabilities,
  WriteResult as ControlWriteResult,
  CommandStatus as ControlCommandStatus,
  CommandOutcome as ControlCommandOutcome,
  ParameterFile as ControlParameterFile,
  ParameterDiff as ControlParameterDiff,
  ClockView as ControlClockView,
  RecordsPage as ControlRecordsPage,
  InverterProtocolView as ControlInverterProtocolView,
} from '@openbms/gateway';
