/**
 * Config sections `notifications:` (a list of channels: ntfy, Pushover, Telegram, e-mail, webhook) and
 * `location:` (where the site is, for the sunrise/sunset reports and the quiet hours' clock).
 * Strict (unknown keys are errors), defaults filled in, every message says what is accepted.
 */
import { z } from 'zod';
import { isHttpUrl, isTimeZone } from './checks.js';

export { isTimeZone } from './checks.js';
import { CHANNEL_TYPES, NOTIFY_EVENTS, SEVERITIES } from './enums.js';

export {
  CHANNEL_TYPES,
  NOTIFY_EVENTS,
  SEVERITIES,
  type ChannelType,
  type NotifyEvent,
  type Severity,
} from './enums.js';

export const locationSchema = z
  .object({
    latitude: z
      .number({ error: 'latitude must be a number of degrees (north positive), e.g. 52.52' })
      .min(-90, 'latitude must be -90..90 (north positive)')
      .max(90, 'latitude must be -90..90 (north positive)'),
    longitude: z
      .number({ error: 'longitude must be a number of degrees (east positive), e.g. 13.40' })
      .min(-180, 'longitude must be -180..180 (east positive)')
      .max(180, 'longitude must be -180..180 (east positive)'),
    timezone: z
      .string({ error: 'timezone must be an IANA time zone name such as "Europe/Berlin"' })
      .refine(isTimeZone, {
        error: (iss) =>
          `unknown time zone "${String(iss.input)}"; use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC"`,
      })
      // Absent: the gateway fills in the zone at the coordinates (tz lookup, offline).
      .optional(),
  })
  .strict();

export type LocationConfig = z.infer<typeof locationSchema>;

const id = z
  .string({ error: 'id must be a string' })
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/,
    'id must be 1-32 letters, digits, "-" or "_", starting with a letter or digit',
  );

const hhmm = z
  .string({ error: 'must be a time "HH:MM" (24 h), e.g. "22:00"' })
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time "HH:MM" (24 h, 00:00..23:59), e.g. "22:00"');

const severity = z.enum(SEVERITIES, {
  error: `severity must be one of ${SEVERITIES.join(', ')}`,
});

const httpUrl = (what: string) =>
  z
    .string({ error: `${what} must be a URL` })
    .refine(isHttpUrl, { error: `${what} must be an http:// or https:// URL` });

const secret = (what: string) =>
  z.string({ error: `${what} must be a string` }).min(1, `${what} must not be empty`);

/** `name@host` or `Display Name <name@host>`. */
export const mailbox = z
  .string({ error: 'must be an e-mail address' })
  .regex(
    /^(?:[^<>@\s][^<>@]*<[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+)$/,
    'must be an e-mail address such as bms@example.com or "OpenBMS <bms@example.com>"',
  );

const common = {
  id,
  enabled: z.boolean({ error: 'enabled must be true or false' }).default(true),
  /** Messages this channel gets; absent: all (daily_report only when `location` is set). */
  events: z
    .array(
      z.enum(NOTIFY_EVENTS, {
        error: (iss) =>
          `unknown event "${String(iss.input)}"; accepted: ${NOTIFY_EVENTS.join(', ')}`,
      }),
    )
    .min(1, 'events must list at least one event (or leave it out for all)')
    .optional(),
  /** Alarms below this severity are not sent (raised and cleared alike). */
  min_severity: severity.default('warning'),
  quiet_hours: z
    .object({
      /** Local time in the site's time zone (`location.timezone`; the host's zone without it). */
      from: hhmm,
      to: hhmm,
      /** hold: sent as one digest when the quiet hours end; drop: not sent (logged). */
      mode: z
        .enum(['hold', 'drop'], { error: 'quiet_hours.mode must be hold or drop' })
        .default('hold'),
      /** Alarms raised with this severity or higher always go, quiet or not. */
      critical_severity: severity.default('protection'),
    })
    .strict()
    .refine((q) => q.from !== q.to, { error: 'quiet_hours: from and to must differ' })
    .optional(),
  rate_limit: z
    .object({
      max: z
        .number({ error: 'rate_limit.max must be a number' })
        .int('rate_limit.max must be a whole number')
        .min(1, 'rate_limit.max must be 1..1000')
        .max(1000, 'rate_limit.max must be 1..1000')
        .default(10),
      per_s: z
        .number({ error: 'rate_limit.per_s must be a number of seconds' })
        .min(1, 'rate_limit.per_s must be 1..86400 s')
        .max(86_400, 'rate_limit.per_s must be 1..86400 s')
        .default(3600),
    })
    .strict()
    .prefault({}),
  retry: z
    .object({
      /** Tries in all (1 = no retry). */
      attempts: z
        .number({ error: 'retry.attempts must be a number' })
        .int('retry.attempts must be a whole number')
        .min(1, 'retry.attempts must be 1..20')
        .max(20, 'retry.attempts must be 1..20')
        .default(5),
      /** Wait before the 2nd try; doubled for each further try up to max_backoff_s. */
      backoff_s: z
        .number({ error: 'retry.backoff_s must be a number of seconds' })
        .min(0.01, 'retry.backoff_s must be 0.01..3600 s')
        .max(3600, 'retry.backoff_s must be 0.01..3600 s')
        .default(5),
      max_backoff_s: z
        .number({ error: 'retry.max_backoff_s must be a number of seconds' })
        .min(0.01, 'retry.max_backoff_s must be 0.01..86400 s')
        .max(86_400, 'retry.max_backoff_s must be 0.01..86400 s')
        .default(300),
    })
    .strict()
    .prefault({}),
  /**
   * Alarms raised within this many seconds of the first go out as one message listing them
   * (one poll often raises several: over-voltage, imbalance, a protection...). 0: each alarm
   * alone, at once. Cleared alarms and the other events are never held.
   */
  group_s: z
    .number({ error: 'group_s must be a number of seconds' })
    .min(0, 'group_s must be 0..300 s')
    .max(300, 'group_s must be 0..300 s')
    .default(2),
  /** Per delivery attempt (HTTP request or SMTP session). */
  timeout_s: z
    .number({ error: 'timeout_s must be a number of seconds' })
    .min(0.1, 'timeout_s must be 0.1..120 s')
    .max(120, 'timeout_s must be 0.1..120 s')
    .default(10),
};

const ntfyPriority = z.union(
  [
    z.number().int().min(1).max(5),
    z
      .enum(['min', 'low', 'default', 'high', 'max', 'urgent'])
      .transform((p) => ({ min: 1, low: 2, default: 3, high: 4, max: 5, urgent: 5 })[p]),
  ],
  { error: 'priority must be 1..5 or one of min, low, default, high, max' },
);

const ntfySchema = z
  .object({
    type: z.literal('ntfy'),
    ...common,
    /** The ntfy server (self-hosted or https://ntfy.sh). */
    url: httpUrl('url').default('https://ntfy.sh'),
    /** The topic works like a password on public servers: it is never shown by the API. */
    topic: z
      .string({ error: 'topic must be a string' })
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'topic must be 1-64 letters, digits, "-" or "_"'),
    /** Access token (tk_...), sent as a Bearer token. */
    token: secret('token').optional(),
    /** Priority of ordinary messages; alarms go higher, reports lower. */
    priority: ntfyPriority.prefault(3),
  })
  .strict();

const pushoverSchema = z
  .object({
    type: z.literal('pushover'),
    ...common,
    /** Application API token. */
    token: secret('token'),
    /** User or group key. */
    user: secret('user'),
    device: z.string().min(1).max(64).optional(),
    /** The Pushover API endpoint (changed only for tests or a proxy). */
    url: httpUrl('url').default('https://api.pushover.net/1/messages.json'),
  })
  .strict();

const CHAT_ID =
  'chat_id must be a numeric chat id (e.g. 123456789; groups -100...) or a public channel "@name"';

const telegramSchema = z
  .object({
    type: z.literal('telegram'),
    ...common,
    /** The bot's token from @BotFather ("123456789:AA..."); it is in every request's path. */
    token: z
      .string({ error: 'token must be a string' })
      .regex(
        /^\d{1,20}:[A-Za-z0-9_-]{20,100}$/,
        'token must be a bot token from @BotFather, like "123456789:AAE..." (digits, ":", then letters, digits, "-" or "_")',
      ),
    /**
     * Whom the bot writes to: a numeric chat id (a person, or a group: negative) or a public
     * channel's "@name". A YAML number is accepted as it is what people paste.
     */
    chat_id: z.union(
      [
        z
          .number({ error: CHAT_ID })
          .int(CHAT_ID)
          .min(-(2 ** 52), CHAT_ID)
          .max(2 ** 52, CHAT_ID),
        z.string({ error: CHAT_ID }).regex(/^(-?\d{1,16}|@[A-Za-z][A-Za-z0-9_]{3,31})$/, CHAT_ID),
      ],
      { error: CHAT_ID },
    ),
    /** The Bot API server (changed only for a self-hosted Bot API server, a proxy or tests). */
    api_url: httpUrl('api_url').default('https://api.telegram.org'),
  })
  .strict();

/**
 * How to reach an SMTP server: the fields the e-mail channel and the accounts' code mail
 * (`accounts.email`) share; each adds its own (`to`, `timeout_s`).
 */
export const smtpServerFields = {
  host: z.string({ error: 'host must be the SMTP server name' }).min(1, 'host must not be empty'),
  /** Default 465 with secure, else 587. */
  port: z
    .number({ error: 'port must be a number' })
    .int('port must be a whole number')
    .min(1, 'port must be 1..65535')
    .max(65_535, 'port must be 1..65535')
    .optional(),
  /** TLS from the first byte (SMTPS, usually port 465). */
  secure: z.boolean({ error: 'secure must be true or false' }).default(false),
  /**
   * Require STARTTLS on a plain connection (usually port 587); refuse to send in clear.
   * Meaningless with `secure` (already TLS). false: STARTTLS is still used when offered.
   */
  starttls: z.boolean({ error: 'starttls must be true or false' }).default(true),
  username: z.string().min(1, 'username must not be empty').optional(),
  password: secret('password').optional(),
  from: mailbox,
};

/** The server certificate's checks, shared the same way. */
export const smtpTlsFields = {
  /** PEM file with the CA that signed the server's certificate (self-signed servers). */
  ca: z.string().min(1, 'ca must be a path to a PEM file').optional(),
  /** Accept any server certificate. Not for the internet. */
  insecure: z.boolean({ error: 'insecure must be true or false' }).default(false),
};

/** `username` and `password` go together (both or neither). */
export function smtpLoginPair(
  e: { username?: string | undefined; password?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if ((e.username === undefined) !== (e.password === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [e.username === undefined ? 'username' : 'password'],
      message: 'username and password go together',
    });
  }
}

const emailSchema = z
  .object({
    type: z.literal('email'),
    ...common,
    ...smtpServerFields,
    to: z.array(mailbox).min(1, 'to must list at least one address'),
    ...smtpTlsFields,
  })
  .strict()
  .superRefine(smtpLoginPair);

const headerName = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

const webhookSchema = z
  .object({
    type: z.literal('webhook'),
    ...common,
    url: httpUrl('url'),
    method: z.enum(['POST', 'PUT'], { error: 'method must be POST or PUT' }).default('POST'),
    /** Extra request headers (e.g. Authorization); their values are never shown by the API. */
    headers: z
      .record(
        z.string().regex(headerName, 'header names are letters, digits and -'),
        z.string().refine((v) => !/[\r\n]/.test(v), { error: 'header values must be one line' }),
      )
      .optional(),
  })
  .strict();

export const channelSchema = z.discriminatedUnion(
  'type',
  [ntfySchema, pushoverSchema, telegramSchema, emailSchema, webhookSchema],
  {
    error: (iss) =>
      iss.code === 'invalid_union' && 'discriminator' in iss
        ? `type must be one of ${CHANNEL_TYPES.join(', ')}`
        : undefined,
  },
);

export const notificationsConfigSchema = z.array(channelSchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((c, i) => {
    if (seen.has(c.id)) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'id'],
        message: `channel id "${c.id}" is used twice`,
      });
    }
    seen.add(c.id);
  });
});

export type ChannelConfig = z.infer<typeof channelSchema>;
export type NtfyConfig = z.infer<typeof ntfySchema>;
export type PushoverConfig = z.infer<typeof pushoverSchema>;
export type TelegramConfig = z.infer<typeof telegramSchema>;
export type EmailConfig = z.infer<typeof emailSchema>;
export type WebhookConfig = z.infer<typeof webhookSchema>;
export type NotificationsConfig = z.infer<typeof notificationsConfigSchema>;
export type ChannelConfigInput = z.input<typeof channelSchema>;
