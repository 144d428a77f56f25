/**
 * What the server needs from the running gateway. The composition root (`openbms start`)
 * passes an object with these methods; tests pass a small fake. The server never reaches
 * into the scheduler or the alarm engine directly.
 */
import type { AlarmEvent } from '@openbms/storage';
import type { NotificationsStatus, NotifyTestResult, StorageStatus } from '@openbms/gateway';
// Every other server file takes the gateway's types from here.
import type {
  GatewayEvent,
  GatewayListener,
  PackStatus,
  RestoreResult,
  SettingsTestResult,
  SettingsUpdate,
  SettingsView,
} from '@openbms/gateway';
import type {
  ClockView as ControlClockView,
  CommandOutcome as ControlCommandOutcome,
  CommandStatus as ControlCommandStatus,
  ControlCapabilities,
  InverterProtocolView as ControlInverterProtocolView,
  RecordsPage as ControlRecordsPage,
  ParameterDiff as ControlParameterDiff,
  ParameterFile as ControlParameterFile,
  WriteResult as ControlWriteResult,
} from '@openbms/gateway';

export type { GatewayEvent, GatewayListener, PackStatus, StorageStatus };

export interface SiteInfo {
  id: string;
  name: string;
}

export interface BusInfo {
  id: string;
  site: string;
  /** Serial path or `tcp://host:port`. */
  port: string;
  protocol: string;
  /** Ids of the packs on this bus. */
  packs: string[];
}

/** The part of the gateway's EventBus the server uses (the WebSocket subscribes to it). */
export interface GatewayEvents {
  on(listener: GatewayListener): () => void;
}

export interface GatewayApi {
  packs(): PackStatus[];
  pack(id: string): PackStatus | undefined;
  sites(): SiteInfo[];
  buses(): BusInfo[];
  /** The gateway's EventBus (snapshot, online, alarm events). */
  events: GatewayEvents;
  /** Acknowledges an alarm event; false when it is unknown or already acknowledged. */
  acknowledgeAlarm(id: number, user: string): Promise<boolean>;
  /** Active alarms of one pack, of the gateway scope (`gateway`: storage alarms), or all. */
  activeAlarms(packId?: string): AlarmEvent[];
  alarmCounts(packId?: string): Promise<Record<string, number>>;
  /** Whether everything is being stored (`/health`); absent: always ok. */
  storageStatus?(): Promise<StorageStatus>;
  /** UART tunnel status (client address, bytes, uptime, expiry), undefined without a tunnel. */
  tunnelStatus?(): unknown;
  /** IoT MQTT Panel dashboard JSON (seed 001), undefined when MQTT is not configured. */
  mqttPanel?(): unknown;
  /** Prometheus text exposition, when the gateway exports metrics. */
  metrics?: { render(): string; contentType: string; public: boolean };
  /** Safe control (parameters, commands); its routes exist only when this is present. */
  control?: ControlApi;
  /** Notification channels, counters and delivery log; absent when none are configured. */
  notifications?: NotificationsApi;
  /** Config file settings, backup and restore (routes/settings.ts); absent: those routes answer 404. */
  settings?: SettingsApi | undefined;
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
}

export type { NotificationsStatus, NotifyTestResult };

// ---------------------------------------------------------------- safe control

/**
 * What the control routes need: the gateway's ControlService
 * (packages/gateway/src/control) satisfies it as is. Every method that changes a pack
 * validates, sends through the bus's exclusive slot, reads back and audits by itself; the
 * routes only translate HTTP. Errors are BmsErrors (COMMAND_REFUSED, PARAM_*,
 * CAPABILITY_MISSING, READBACK_MISMATCH, NOT_FOUND, REQUEST_INVALID, TRANSPORT_*).
 */
export interface ControlApi {
  capabilities(packId: string): ControlCapabilities;
  readParameters(packId: string): Promise<{ values: Record<string, number> }>;
  writeParameters(
    packId: string,
    values: Record<string, number>,
    user: string,
    opts?: { dryRun?: boolean },
  ): Promise<ControlWriteResult>;
  exportParameters(packId: string): Promise<ControlParameterFile>;
  diffParameters(packId: string, file: unknown): Promise<ControlParameterDiff>;
  setMos(
    packId: string,
    which: 'charge' | 'discharge',
    on: boolean,
    user: string,
  ): Promise<ControlCommandOutcome>;
  setSoc(packId: string, pct: number, user: string): Promise<ControlCommandOutcome>;
  setClock(packId: string, ms: number | undefined, user: string): Promise<ControlCommandOutcome>;
  restoreDefaults(
    packId: string,
    confirm: string | undefined,
    user: string,
  ): Promise<ControlCommandOutcome>;
  restart(
    packId: string,
    confirm: string | undefined,
    user: string,
  ): Promise<ControlCommandOutcome>;
  factoryReset(
    packId: string,
    confirm: string | undefined,
    user: string,
  ): Promise<ControlCommandOutcome>;
  /** Shuts the BMS down (confirmed, sent once). */
  shutdown(
    packId: string,
    confirm: string | undefined,
    user: string,
  ): Promise<ControlCommandOutcome>;
  /** Writes the pack's saved profile (its last export) back (confirmed). */
  restoreProfile(
    packId: string,
    confirm: string | undefined,
    user: string,
  ): Promise<ControlCommandOutcome>;
  /** The BMS clock now, with its drift from the gateway's. */
  readClock(packId: string): Promise<ControlClockView>;
  /** One page of on-board records (seed 004), newest first. */
  readRecords(packId: string, start: number, count: number): Promise<ControlRecordsPage>;
  /** Up to `max` records as CSV. */
  exportRecords(packId: string, max?: number): Promise<{ csv: string; count: number }>;
  /** Erases the device's records of one kind (confirmed). */
  clearRecords(
    packId: string,
    kind: 'data' | 'alarm' | 'all',
    confirm: string | undefined,
    user: string,
  ): Promise<ControlCommandOutcome>;
  readInverterProtocol(packId: string): Promise<ControlInverterProtocolView>;
  setInverterProtocol(
    packId: string,
    setting: { can?: number; rs485?: number; mode?: 'auto' | 'manual' },
    user: string,
  ): Promise<ControlCommandOutcome>;
  calibrate(
    packId: string,
    kind: string,
    value: number | undefined,
    user: string,
  ): Promise<ControlCommandOutcome>;
  /** The last command statuses, newest first. */
  commands(packId?: string): ControlCommandStatus[];
}

// The control shapes are the gateway's own (one definition, no structural copy).
export type {
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
