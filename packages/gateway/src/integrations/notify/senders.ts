/**
 * The HTTP channels: how one message becomes one ntfy, Pushover, Telegram or webhook request. Each
 * sender makes exactly one attempt; retries, quiet hours and rate limits live in channel.ts.
 */
import { httpDeliver } from './http.js';
import type { NtfyConfig, PushoverConfig, TelegramConfig, WebhookConfig } from './schema.js';
import type { Message, Urgency } from './types.js';

export interface Sender {
  /** One attempt; resolves when the service accepted the message, else DeliveryError. */
  send(msg: Message, signal: AbortSignal): Promise<void>;
  /** Frees connections (e-mail); called when the gateway stops. */
  close?(): void;
}

const USER_AGENT = 'OpenBMS notifications';

/** Cuts text to `max` characters, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

// ---------------------------------------------------------------- ntfy

const NTFY_STEP: Record<Urgency, number> = { low: -1, normal: 0, high: 1, critical: 2 };

/** ntfy emoji tags by message kind (and alarm severity). */
function ntfyTags(msg: Message): string[] {
  switch (msg.event) {
    case 'alarm_raised':
      return [msg.urgency === 'critical' ? 'rotating_light' : 'warning', 'battery'];
    case 'alarm_cleared':
      return ['white_check_mark', 'battery'];
    case 'offline':
      return ['electric_plug', 'x'];
    case 'online':
      return ['electric_plug', 'white_check_mark'];
    case 'soc_full':
      return ['battery', 'zap'];
    case 'daily_report':
      return [msg.data?.kind === 'sunset' ? 'city_sunset' : 'sunrise', 'bar_chart'];
    default:
      return ['battery'];
  }
}

export function ntfyRequest(cfg: NtfyConfig, msg: Message): { url: string; body: string } {
  const priority = Math.min(5, Math.max(1, cfg.priority + NTFY_STEP[msg.urgency]));
  return {
    // JSON publishing goes to the server's root, the topic is in the body.
    url: `${cfg.url.replace(/\/+$/, '')}/`,
    body: JSON.stringify({
      topic: cfg.topic,
      title: clip(msg.title, 250),
      // ntfy turns messages over 4096 bytes into attachments: stay well below.
      message: clip(msg.body, 3500),
      priority,
      tags: ntfyTags(msg),
    }),
  };
}

export function ntfySender(cfg: NtfyConfig): Sender {
  return {
    async send(msg, signal) {
      const r = ntfyRequest(cfg, msg);
      await httpDeliver({
        url: r.url,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          ...(cfg.token ? { authorization: `Bearer ${cfg.token}` } : {}),
        },
        body: r.body,
        timeoutMs: cfg.timeout_s * 1000,
        signal,
      });
    },
  };
}

// ---------------------------------------------------------------- Pushover

/** Pushover priorities: -1 quiet, 0 normal, 1 high (bypasses the user's own quiet hours). */
const PUSHOVER_PRIORITY: Record<Urgency, number> = { low: -1, normal: 0, high: 1, critical: 1 };

export function pushoverForm(cfg: PushoverConfig, msg: Message): URLSearchParams {
  const form = new URLSearchParams({
    token: cfg.token,
    user: cfg.user,
    title: clip(msg.title, 250),
    message: clip(msg.body || msg.title, 1024),
    priority: String(PUSHOVER_PRIORITY[msg.urgency]),
    timestamp: String(Math.floor(msg.at / 1000)),
  });
  if (cfg.device) form.set('device', cfg.device);
  return form;
}

export function pushoverSender(cfg: PushoverConfig): Sender {
  return {
    async send(msg, signal) {
      await httpDeliver({
        url: cfg.url,
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'user-agent': USER_AGENT,
        },
        body: pushoverForm(cfg, msg).toString(),
        timeoutMs: cfg.timeout_s * 1000,
        signal,
      });
    },
  };
}

// ---------------------------------------------------------------- Telegram

/** Telegram's limit for one message's text. */
const TELEGRAM_TEXT_MAX = 4096;

/**
 * The Bot API's sendMessage: plain text (no parse_mode, so nothing needs escaping), title on
 * the first line. Low-urgency messages (reports) arrive without a sound.
 */
export function telegramRequest(cfg: TelegramConfig, msg: Message): { url: string; body: string } {
  const text = msg.body ? `${msg.title}\n\n${msg.body}` : msg.title;
  return {
    url: `${cfg.api_url.replace(/\/+$/, '')}/bot${cfg.token}/sendMessage`,
    body: JSON.stringify({
      chat_id: cfg.chat_id,
      text: clip(text, TELEGRAM_TEXT_MAX),
      disable_notification: msg.urgency === 'low',
      link_preview_options: { is_disabled: true },
    }),
  };
}

export function telegramSender(cfg: TelegramConfig): Sender {
  return {
    async send(msg, signal) {
      const r = telegramRequest(cfg, msg);
      // httpDeliver names only the URL's origin in its errors: the token in the path stays out.
      await httpDeliver({
        url: r.url,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT },
        body: r.body,
        timeoutMs: cfg.timeout_s * 1000,
        signal,
      });
    },
  };
}

// ---------------------------------------------------------------- webhook

/** The webhook's JSON body (documented in the README; stable keys, snake_case). */
export function webhookPayload(msg: Message): Record<string, unknown> {
  return {
    source: 'openbms',
    event: msg.event,
    title: msg.title,
    message: msg.body,
    urgency: msg.urgency,
    ...(msg.severity ? { severity: msg.severity } : {}),
    ...(msg.pack ? { pack: { id: msg.pack.id, name: msg.pack.name } } : {}),
    at: new Date(msg.at).toISOString(),
    ts: msg.at,
    ...(msg.data ? { data: msg.data } : {}),
  };
}

export function webhookSender(cfg: WebhookConfig): Sender {
  return {
    async send(msg, signal) {
      await httpDeliver({
        url: cfg.url,
        method: cfg.method,
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          ...cfg.headers,
        },
        body: JSON.stringify(webhookPayload(msg)),
        timeoutMs: cfg.timeout_s * 1000,
        signal,
      });
    },
  };
}
