/**
 * Lists of accepted values shared by the config schemas, the API schemas and the web's
 * forms. Plain data (no zod), so the web bundles them without the schema library.
 */

/** The messages a channel can subscribe to (`events:`). */
export const NOTIFY_EVENTS = [
  'alarm_raised',
  'alarm_cleared',
  'offline',
  'online',
  'soc_full',
  'daily_report',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export const SEVERITIES = ['warning', 'protection', 'fault'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Channel types of the `notifications:` section. */
export const CHANNEL_TYPES = ['ntfy', 'pushover', 'telegram', 'email', 'webhook'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
