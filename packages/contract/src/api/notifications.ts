/** Notifications: channels with their counters, the delivery log, a test send. */
import type { FromSchema } from 'json-schema-to-ts';
import { CHANNEL_TYPES, NOTIFY_EVENTS, SEVERITIES } from '../config/enums.js';

export const DELIVERY_STATUSES = ['queued', 'retrying', 'sent', 'failed', 'dropped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

const SEVERITY = { type: 'string', enum: SEVERITIES } as const;
const STATUS = {
  type: 'string',
  enum: DELIVERY_STATUSES,
} as const;

export const channelStatusSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'enabled', 'events', 'min_severity', 'rate_limit', 'target', 'counters'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: CHANNEL_TYPES },
    enabled: { type: 'boolean' },
    events: {
      type: 'array',
      items: {
        type: 'string',
        enum: NOTIFY_EVENTS,
      },
    },
    min_severity: SEVERITY,
    quiet_hours: {
      type: 'object',
      additionalProperties: false,
      required: ['from', 'to', 'mode', 'critical_severity', 'active'],
      properties: {
        from: { type: 'string', description: 'HH:MM in the site time zone.' },
        to: { type: 'string' },
        mode: { type: 'string', enum: ['hold', 'drop'] },
        critical_severity: SEVERITY,
        active: { type: 'boolean', description: 'Quiet hours are on now.' },
      },
    },
    rate_limit: {
      type: 'object',
      additionalProperties: false,
      required: ['max', 'per_s'],
      properties: { max: { type: 'integer' }, per_s: { type: 'number' } },
    },
    target: {
      type: 'object',
      description:
        'Type-specific settings (server, host, port, from, to, method...); secrets (tokens, passwords, topics, webhook URLs and header values) appear only as "set" / "not set".',
      additionalProperties: {
        anyOf: [
          { type: 'string' },
          { type: 'number' },
          { type: 'boolean' },
          { type: 'array', items: { type: 'string' } },
        ],
      },
    },
    counters: {
      type: 'object',
      additionalProperties: false,
      required: ['sent', 'failed', 'dropped', 'rate_limited', 'queued'],
      properties: {
        sent: { type: 'integer' },
        failed: { type: 'integer' },
        dropped: { type: 'integer', description: 'Quiet hours (drop mode), rate limit, stop.' },
        rate_limited: { type: 'integer', description: 'Held back by the rate limit.' },
        queued: { type: 'integer', description: 'Waiting now (quiet hours, queue, retry).' },
      },
    },
    last_error: { type: 'string' },
    last_sent_at: { type: 'integer' },
  },
} as const;

export const deliverySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'channel', 'event', 'title', 'at', 'updated_at', 'status', 'attempts'],
  properties: {
    id: { type: 'integer' },
    channel: { type: 'string' },
    event: {
      type: 'string',
      description:
        'alarm_raised, alarm_cleared, offline, online, soc_full, daily_report, digest (quiet hours), rate_summary, test.',
    },
    title: { type: 'string' },
    pack_id: { type: 'string' },
    at: { type: 'integer', description: 'Handed to the channel, ms since the epoch.' },
    updated_at: { type: 'integer' },
    status: STATUS,
    attempts: { type: 'integer' },
    error: { type: 'string', description: 'Why it failed, is retrying or was dropped.' },
    note: { type: 'string' },
  },
} as const;

export const notificationsStatusSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['channels', 'log'],
  properties: {
    channels: { type: 'array', items: channelStatusSchema },
    log: { type: 'array', items: deliverySchema, description: 'Newest first (last ~200).' },
    next_report: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'at'],
      properties: {
        kind: { type: 'string', enum: ['sunrise', 'sunset'] },
        at: { type: 'integer' },
      },
    },
  },
} as const;

export const notifyTestResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['ok', 'channel', 'status', 'attempts'],
  properties: {
    ok: { type: 'boolean' },
    channel: { type: 'string' },
    status: STATUS,
    attempts: { type: 'integer' },
    error: {
      type: 'string',
      description: 'The reason when ok is false (HTTP status, SMTP reply...).',
    },
  },
} as const;

export const notifyTestBody = {
  type: 'object',
  required: ['channel'],
  additionalProperties: false,
  properties: { channel: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const notifyReportBody = {
  type: 'object',
  required: ['channels'],
  additionalProperties: false,
  properties: {
    channels: {
      type: 'array',
      minItems: 1,
      maxItems: 32,
      uniqueItems: true,
      items: { type: 'string', minLength: 1, maxLength: 64 },
      description: 'The channels to send it through (ids), whether or not they take daily_report.',
    },
  },
} as const;

export const notifyReportResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'from', 'to', 'results'],
  properties: {
    kind: {
      type: 'string',
      enum: ['sunrise', 'sunset'],
      description: 'The report the running period leads to (the day ends with the sunset report).',
    },
    from: { type: 'integer', description: 'Start of the period: the last sunrise or sunset.' },
    to: { type: 'integer', description: 'Now.' },
    results: { type: 'array', items: notifyTestResultSchema },
  },
} as const;

export type ChannelStatusView = FromSchema<typeof channelStatusSchema>;
export type ChannelCounters = ChannelStatusView['counters'];
export type DeliveryView = FromSchema<typeof deliverySchema>;
export type NotificationsView = FromSchema<typeof notificationsStatusSchema>;
export type NotifyTestResult = FromSchema<typeof notifyTestResultSchema>;
export type NotifyTestBody = FromSchema<typeof notifyTestBody>;
export type NotifyReportBody = FromSchema<typeof notifyReportBody>;
export type NotifyReportResult = FromSchema<typeof notifyReportResultSchema>;
