// The `notifications:` and `location:` schemas live in the browser-safe contract.
export {
  channelSchema,
  isTimeZone,
  locationSchema,
  notificationsConfigSchema,
  NOTIFY_EVENTS,
  SEVERITIES,
  type ChannelConfig,
  type ChannelConfigInput,
  type EmailConfig,
  type LocationConfig,
  type NotificationsConfig,
  type NotifyEvent,
  type NtfyConfig,
  type PushoverConfig,
  type Severity,
  type WebhookConfig,
} from '@openbms/contract';
