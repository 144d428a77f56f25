/**
 * The JSON shapes of the settings, users, tokens, audit, notification and tunnel routes
 * (packages/server/src/routes/{settings,notifications,users,tokens,audit,metrics}.ts).
 */
import type { Role } from '../../api/types';

/** A JSON object as the forms edit it (a config section). */
export type Obj = Record<string, unknown>;

/** What a redacted secret reads as; sending it back keeps the saved value. */
export const SECRET_MARKER = '********';

export const INTEGRATIONS = [
  'mqtt',
  'modbus_tcp',
  'modbus_client',
  'tunnel',
  'metrics',
  'notifications',
] as const;
export type Integration = (typeof INTEGRATIONS)[number];

export interface IntegrationStatus {
  configured: boolean;
  enabled: boolean;
  running: boolean;
  last_error?: string;
  connected?: boolean;
  listening?: string;
  state?: string;
  detail?: Record<string, unknown>;
}

export interface SettingsView {
  path: string;
  exists: boolean;
  writable: boolean;
  writable_reason?: string;
  sections: Partial<Record<Integration, unknown>>;
  location: unknown;
  status: Partial<Record<Integration, IntegrationStatus>>;
  restart_required: boolean;
  pending_restart?: string[];
  editable?: string[];
  live?: string[];
}

export interface SettingsUpdate {
  section: string;
  value?: unknown;
  saved: boolean;
  applied: boolean;
  error?: string;
  restart_required: boolean;
  status?: IntegrationStatus;
}

export interface TestResult {
  section: string;
  ok: boolean;
  message: string;
  round_trip_ms?: number;
  values?: number[];
  address?: string;
}

export interface Issue {
  path: string;
  message: string;
}

export const NOTIFY_EVENTS = [
  'alarm_raised',
  'alarm_cleared',
  'offline',
  'online',
  'soc_full',
  'daily_report',
] as const;
export const SEVERITIES = ['warning', 'protection', 'fault'] as const;
export const CHANNEL_TYPES = ['ntfy', 'pushover', 'email', 'webhook'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
export type DeliveryStatus = 'queued' | 'retrying' | 'sent' | 'failed' | 'dropped';

export interface ChannelCounters {
  sent: number;
  failed: number;
  dropped: number;
  rate_limited: number;
  queued: number;
}

export interface ChannelStatusView {
  id: string;
  type: ChannelType;
  enabled: boolean;
  events: string[];
  min_severity: string;
  quiet_hours?: {
    from: string;
    to: string;
    mode: 'hold' | 'drop';
    critical_severity: string;
    active: boolean;
  };
  rate_limit: { max: number; per_s: number };
  target: Record<string, string | number | boolean | string[]>;
  counters: ChannelCounters;
  last_error?: string;
  last_sent_at?: number;
}

export interface DeliveryView {
  id: number;
  channel: string;
  event: string;
  title: string;
  pack_id?: string;
  at: number;
  updated_at: number;
  status: DeliveryStatus;
  attempts: number;
  error?: string;
  note?: string;
}

export interface NotificationsView {
  channels: ChannelStatusView[];
  log: DeliveryView[];
  next_report?: { kind: 'sunrise' | 'sunset'; at: number };
}

export interface NotifyTestResult {
  ok: boolean;
  channel: string;
  status: DeliveryStatus;
  attempts: number;
  error?: string;
}

export interface TunnelClient {
  address: string;
  since: string;
  uptimeS: number;
  bytesIn: number;
  bytesOut: number;
  expiresInS: number;
  leased: boolean;
}

export interface TunnelStatusView {
  enabled: boolean;
  listening: boolean;
  bus: string;
  host: string;
  port: number;
  client?: TunnelClient;
  sessions: number;
  refused: number;
  lastError?: string;
  lastClose?: string;
}

export interface UserView {
  username: string;
  role: Role;
  created_at?: number;
}

export interface TokenCreated {
  id: string;
  name: string;
  token: string;
  created_at?: number;
}

export interface AuditView {
  id: number;
  at: number;
  user: string;
  pack_id?: string;
  action: string;
  old?: unknown;
  new?: unknown;
  result: 'ok' | 'refused' | 'failed';
  detail?: string;
}
