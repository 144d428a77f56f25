/**
 * Shapes shared by the notification parts: the message every channel renders, the timers
 * the service waits with (injectable: tests drive them by hand), the delivery log entry and
 * the status the API shows.
 */
import type { NotifyEvent, Severity } from './schema.js';

/** What a message is about: a subscribable event, or one the service makes itself. */
export type MessageKind = NotifyEvent | 'digest' | 'rate_summary' | 'test';

/** How loud a channel should be; each channel maps it to its own priorities. */
export type Urgency = 'low' | 'normal' | 'high' | 'critical';

export interface Message {
  event: MessageKind;
  /** One line, no secrets. */
  title: string;
  /** Plain text, lines separated by "\n". */
  body: string;
  urgency: Urgency;
  /** When it happened, ms since the epoch. */
  at: number;
  /** Alarms: the alarm's severity (routing: min_severity, quiet hours' critical_severity). */
  severity?: Severity;
  pack?: { id: string; name: string };
  /** Structured facts for the webhook's JSON (alarm code, SOC, report rows...). */
  data?: Record<string, unknown>;
}

export type LogFn = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface Clock {
  now(): number;
}

/** setTimeout/clearTimeout behind an interface so tests can run time by hand. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** Real timers; unref'd so a pending retry never keeps the process alive. */
export const realTimers: Timers = {
  set(fn, ms) {
    const t = setTimeout(fn, Math.max(0, Math.min(ms, 2_147_000_000)));
    t.unref?.();
    return t;
  },
  clear(h) {
    clearTimeout(h as NodeJS.Timeout);
  },
};

export type DeliveryStatus = 'queued' | 'retrying' | 'sent' | 'failed' | 'dropped';

/** One message handed to one channel, updated in place as it moves on. */
export interface DeliveryEntry {
  id: number;
  channel: string;
  event: MessageKind;
  title: string;
  packId?: string;
  /** When the message was handed to the channel, ms. */
  at: number;
  /** Last change of status, ms. */
  updatedAt: number;
  status: DeliveryStatus;
  /** Delivery attempts made so far. */
  attempts: number;
  /** Why it failed, is retrying or was dropped (never holds a secret). */
  error?: string;
  /** Extra facts: "held for quiet hours", "sent in the quiet-hours digest"... */
  note?: string;
}

export interface ChannelCounters {
  sent: number;
  failed: number;
  dropped: number;
  /** Not sent because of the rate limit (also counted in dropped). */
  rate_limited: number;
  /** Waiting now: held for quiet hours, queued, or between retries. */
  queued: number;
}

export interface ChannelView {
  id: string;
  type: 'ntfy' | 'pushover' | 'telegram' | 'email' | 'webhook';
  enabled: boolean;
  events: NotifyEvent[];
  min_severity: Severity;
  quiet_hours?: {
    from: string;
    to: string;
    mode: 'hold' | 'drop';
    critical_severity: Severity;
    active: boolean;
  };
  rate_limit: { max: number; per_s: number };
  /** Type-specific settings; secrets appear only as "set" / "not set". */
  target: Record<string, string | number | boolean | string[]>;
  counters: ChannelCounters;
  last_error?: string;
  last_sent_at?: number;
}

export interface NotificationsStatus {
  channels: ChannelView[];
  /** Newest first. */
  log: DeliveryEntry[];
  /** Next sunrise/sunset report, when a location is configured and a channel wants reports. */
  next_report?: { kind: 'sunrise' | 'sunset'; at: number };
}

export interface TestResult {
  ok: boolean;
  channel: string;
  status: DeliveryStatus;
  attempts: number;
  error?: string;
}

/** "Send the daily report now": the period reported and each channel's outcome. */
export interface ReportNowResult {
  /** The report the running period leads to (the day ends with the sunset report). */
  kind: 'sunrise' | 'sunset';
  from: number;
  to: number;
  results: TestResult[];
}
