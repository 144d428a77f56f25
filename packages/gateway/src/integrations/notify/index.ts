export {
  NOTIFY_EVENTS,
  SEVERITIES,
  channelSchema,
  isTimeZone,
  locationSchema,
  notificationsConfigSchema,
} from './schema.js';
export type {
  ChannelConfig,
  ChannelConfigInput,
  EmailConfig,
  LocationConfig,
  NotificationsConfig,
  NotifyEvent,
  NtfyConfig,
  PushoverConfig,
  TelegramConfig,
  Severity as NotifySeverity,
  WebhookConfig,
} from './schema.js';
export {
  NotificationService,
  SOC_FULL_PCT,
  SOC_REARM_PCT,
  senderFor,
  type NotificationServiceOptions,
} from './service.js';
export { Channel, MAX_HELD, MAX_PENDING, targetView } from './channel.js';
export { DeliveryLog, DELIVERY_LOG_SIZE } from './log.js';
export { DeliveryError, httpDeliver, isDeliveryError } from './http.js';
export {
  ntfySender,
  pushoverSender,
  telegramRequest,
  telegramSender,
  webhookSender,
  webhookPayload,
  type Sender,
} from './senders.js';
export {
  classifySmtpError,
  emailSender,
  nodemailerTransport,
  type Mail,
  type MailTransport,
  type MailTransportFactory,
} from './email.js';
export {
  dailyReport,
  integrateEnergy,
  packReport,
  type DailyReport,
  type PackReport,
} from './report.js';
export { nextSunEvent, previousSunEvent, sunEvents, type SunEvent, type SunKind } from './sun.js';
export { SunScheduler } from './scheduler.js';
export { realTimers } from './types.js';
export type {
  ChannelCounters,
  ChannelView,
  DeliveryEntry,
  DeliveryStatus,
  Message as NotifyMessage,
  MessageKind,
  NotificationsStatus,
  ReportNowResult as NotifyReportNowResult,
  TestResult as NotifyTestResult,
  Timers,
  Urgency,
} from './types.js';
