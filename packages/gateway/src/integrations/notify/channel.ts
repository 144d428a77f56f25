/**
 * One notification channel at run time: which messages it takes (events, min_severity),
 * quiet hours (hold for a digest or drop; critical alarms always go), a rate limit (excess
 * counted, logged and summarised in one message when the window frees), one delivery at a
 * time in order, retries with doubling backoff (or the server's Retry-After), and an entry
 * in the delivery log for every message it was handed.
 */
import { DeliveryError, hostOf, isDeliveryError } from './http.js';
import type { DeliveryLog } from './log.js';
import { digestMessage, rateSummaryMessage } from './messages.js';
import { NOTIFY_EVENTS, type ChannelConfig, type NotifyEvent, type Severity } from './schema.js';
import type { Sender } from './senders.js';
import { inQuietHours, msUntilLocal } from './time.js';
import type {
  ChannelCounters,
  ChannelView,
  Clock,
  DeliveryEntry,
  LogFn,
  Message,
  TestResult,
  Timers,
} from './types.js';

const SEVERITY_RANK: Record<Severity, number> = { warning: 0, protection: 1, fault: 2 };

/** Messages waiting for delivery per channel; beyond this the newest are dropped (logged). */
export const MAX_PENDING = 100;
/** Messages held for the quiet-hours digest per channel. */
export const MAX_HELD = 100;

export interface ChannelOptions {
  config: ChannelConfig;
  sender: Sender;
  log: DeliveryLog;
  clock: Clock;
  timers: Timers;
  /** Quiet hours and message times are in this zone (the host's without it). */
  timezone?: string;
  /** A location is configured, so daily reports exist. */
  reports: boolean;
  logFn: LogFn;
  /** The counts of this channel before a restart (a settings change), carried on. */
  counters?: Partial<Pick<ChannelCounters, 'sent' | 'failed' | 'dropped' | 'rate_limited'>>;
}

interface Delivery {
  msg: Message;
  entry: DeliveryEntry;
  /** Log entries that share this delivery's fate (messages folded into a digest). */
  mirror: DeliveryEntry[];
}

export class Channel {
  readonly id: string;
  readonly config: ChannelConfig;
  /** The events this channel takes (the configured list, or every available one). */
  readonly events: readonly NotifyEvent[];
  private readonly o: ChannelOptions;
  private readonly counters = { sent: 0, failed: 0, dropped: 0, rate_limited: 0 };
  private readonly held: { msg: Message; entry: DeliveryEntry }[] = [];
  private readonly pending: Delivery[] = [];
  /** Admission times inside the rate-limit window. */
  private window: number[] = [];
  private suppressed: string[] = [];
  private suppressedCount = 0;
  private busy = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private quietTimer: unknown;
  private summaryTimer: unknown;
  private sleeping: { handle: unknown; wake: () => void } | undefined;
  private lastError: string | undefined;
  private lastSentAt: number | undefined;
  private readonly secrets: string[];

  constructor(o: ChannelOptions) {
    this.o = o;
    this.config = o.config;
    this.id = o.config.id;
    for (const k of ['sent', 'failed', 'dropped', 'rate_limited'] as const) {
      const v = o.counters?.[k];
      if (typeof v === 'number') this.counters[k] = v;
    }
    this.events = o.config.events ?? NOTIFY_EVENTS.filter((e) => e !== 'daily_report' || o.reports);
    this.secrets = secretsOf(o.config);
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  /** Whether this channel takes the message at all (events, min_severity). */
  wants(msg: Message): boolean {
    if (!this.config.enabled || this.stopped) return false;
    const ev = msg.event as NotifyEvent;
    if (!(NOTIFY_EVENTS as readonly string[]).includes(ev) || !this.events.includes(ev)) {
      return false;
    }
    if (ev === 'alarm_raised' || ev === 'alarm_cleared') {
      const sev = msg.severity ?? 'warning';
      if (SEVERITY_RANK[sev] < SEVERITY_RANK[this.config.min_severity]) return false;
      // A lost pack is told by the offline/online messages where the channel takes them.
      if (msg.data?.code === 'comm_lost' && this.events.includes('offline')) return false;
    }
    return true;
  }

  /** Critical: an alarm raised at or above quiet_hours.critical_severity (default protection). */
  critical(msg: Message): boolean {
    if (msg.event !== 'alarm_raised' || !msg.severity) return false;
    const bar = this.config.quiet_hours?.critical_severity ?? 'protection';
    return SEVERITY_RANK[msg.severity] >= SEVERITY_RANK[bar];
  }

  quietNow(): boolean {
    const q = this.config.quiet_hours;
    return !!q && inQuietHours(this.o.clock.now(), q.from, q.to, this.o.timezone);
  }

  /** Takes a message this channel wants: holds, drops, rate-limits or queues it. */
  offer(msg: Message): void {
    if (this.stopped) return;
    const q = this.config.quiet_hours;
    if (q && this.quietNow() && !this.critical(msg)) {
      if (q.mode === 'drop') {
        this.drop(msg, `quiet hours (${q.from}-${q.to})`);
        return;
      }
      if (this.held.length >= MAX_HELD) {
        this.drop(msg, `quiet hours: ${MAX_HELD} messages already held`);
        return;
      }
      const entry = this.o.log.add({
        ...this.entryBase(msg),
        status: 'queued',
        note: `held for quiet hours until ${q.to}`,
      });
      this.held.push({ msg, entry });
      this.armQuietEnd();
      return;
    }
    this.admit(msg);
  }

  /** Sends a test message now: one attempt, no quiet hours, no rate limit. */
  async test(msg: Message): Promise<TestResult> {
    const entry = this.o.log.add({ ...this.entryBase(msg), status: 'queued' });
    this.o.log.update(entry, { attempts: 1 });
    try {
      await this.o.sender.send(msg, this.abort.signal);
      this.o.log.update(entry, { status: 'sent' });
      this.counters.sent++;
      this.lastSentAt = this.o.clock.now();
      return { ok: true, channel: this.id, status: 'sent', attempts: 1 };
    } catch (e) {
      const error = this.reason(e);
      this.o.log.update(entry, { status: 'failed', error });
      this.counters.failed++;
      this.lastError = error;
      return { ok: false, channel: this.id, status: 'failed', attempts: 1, error };
    }
  }

  counts(): ChannelCounters {
    return {
      ...this.counters,
      queued: this.held.length + this.pending.length + (this.busy ? 1 : 0),
    };
  }

  view(): ChannelView {
    const c = this.config;
    const v: ChannelView = {
      id: c.id,
      type: c.type,
      enabled: c.enabled,
      events: [...this.events],
      min_severity: c.min_severity,
      rate_limit: { max: c.rate_limit.max, per_s: c.rate_limit.per_s },
      target: targetView(c),
      counters: this.counts(),
    };
    if (c.quiet_hours) v.quiet_hours = { ...c.quiet_hours, active: this.quietNow() };
    if (this.lastError !== undefined) v.last_error = this.lastError;
    if (this.lastSentAt !== undefined) v.last_sent_at = this.lastSentAt;
    return v;
  }

  /** Cancels timers and the attempt in flight; what waits is logged as dropped. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.o.timers.clear(this.quietTimer);
    this.o.timers.clear(this.summaryTimer);
    this.sleeping?.wake();
    for (const h of this.held.splice(0)) this.markDropped(h.entry, 'the gateway stopped');
    for (const d of this.pending.splice(0)) {
      this.markDropped(d.entry, 'the gateway stopped');
      for (const m of d.mirror) this.markDropped(m, 'the gateway stopped');
    }
    this.o.sender.close?.();
  }

  // ------------------------------------------------------------------ admission

  private admit(
    msg: Message,
    opts: { entry?: DeliveryEntry; mirror?: DeliveryEntry[] } = {},
  ): void {
    const now = this.o.clock.now();
    const { max, per_s } = this.config.rate_limit;
    const windowMs = per_s * 1000;
    this.window = this.window.filter((t) => t > now - windowMs);
    // The service's own summaries always go (at most one per window each); critical
    // alarms may go past the limit up to twice it, so a flood of warnings cannot hide them.
    const own = msg.event === 'digest' || msg.event === 'rate_summary';
    const room = own ? Infinity : this.critical(msg) ? 2 * max : max;
    if (this.window.length >= room) {
      const reason = `rate limit: more than ${max} messages in ${per_s} s`;
      if (opts.entry) this.markDropped(opts.entry, reason);
      else this.drop(msg, reason);
      for (const m of opts.mirror ?? []) this.markDropped(m, reason);
      this.counters.rate_limited++;
      this.suppressedCount++;
      if (this.suppressed.length < 10) this.suppressed.push(msg.title);
      this.armSummary();
      return;
    }
    this.window.push(now);
    const entry = opts.entry ?? this.o.log.add({ ...this.entryBase(msg), status: 'queued' });
    if (opts.entry) this.o.log.update(entry, { status: 'queued' });
    if (this.pending.length >= MAX_PENDING) {
      this.markDropped(entry, `${MAX_PENDING} messages already waiting for this channel`);
      return;
    }
    this.pending.push({ msg, entry, mirror: opts.mirror ?? [] });
    void this.pump();
  }

  private drop(msg: Message, reason: string): void {
    this.o.log.add({ ...this.entryBase(msg), status: 'dropped', error: reason });
    this.counters.dropped++;
  }

  private markDropped(entry: DeliveryEntry, reason: string): void {
    this.o.log.update(entry, { status: 'dropped', error: reason });
    this.counters.dropped++;
  }

  private entryBase(msg: Message): {
    channel: string;
    event: Message['event'];
    title: string;
    packId?: string;
  } {
    return {
      channel: this.id,
      event: msg.event,
      title: msg.title,
      ...(msg.pack ? { packId: msg.pack.id } : {}),
    };
  }

  // ------------------------------------------------------------------ quiet hours

  private armQuietEnd(): void {
    const q = this.config.quiet_hours;
    if (!q || this.quietTimer !== undefined || this.stopped) return;
    const wait = msUntilLocal(this.o.clock.now(), q.to, this.o.timezone);
    this.quietTimer = this.o.timers.set(() => {
      this.quietTimer = undefined;
      if (this.stopped) return;
      if (this.quietNow()) {
        this.armQuietEnd();
        return;
      }
      this.releaseHeld();
    }, wait);
  }

  /** Quiet hours are over: one held message goes as itself, several as one digest. */
  private releaseHeld(): void {
    const held = this.held.splice(0);
    if (held.length === 0) return;
    if (held.length === 1) {
      const h = held[0]!;
      this.o.log.update(h.entry, { note: 'held for quiet hours' });
      this.admit(h.msg, { entry: h.entry });
      return;
    }
    const msg = digestMessage(
      held.map((h) => h.msg),
      this.o.clock.now(),
      this.o.timezone,
    );
    for (const h of held) {
      this.o.log.update(h.entry, { note: 'held for quiet hours; in the digest' });
    }
    this.admit(msg, { mirror: held.map((h) => h.entry) });
  }

  // ------------------------------------------------------------------ rate limit summary

  private armSummary(): void {
    if (this.summaryTimer !== undefined || this.stopped) return;
    const windowMs = this.config.rate_limit.per_s * 1000;
    const oldest = this.window[0] ?? this.o.clock.now();
    const wait = Math.max(0, oldest + windowMs - this.o.clock.now()) + 1;
    this.summaryTimer = this.o.timers.set(() => {
      this.summaryTimer = undefined;
      if (this.stopped || this.suppressedCount === 0) return;
      const msg = rateSummaryMessage(
        this.suppressedCount,
        this.suppressed,
        this.config.rate_limit,
        this.o.clock.now(),
      );
      this.suppressedCount = 0;
      this.suppressed = [];
      this.admit(msg);
    }, wait);
  }

  // ------------------------------------------------------------------ delivery

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.stopped && this.pending.length > 0) {
        await this.deliver(this.pending.shift()!);
      }
    } finally {
      this.busy = false;
    }
  }

  private async deliver(d: Delivery): Promise<void> {
    const { attempts, backoff_s, max_backoff_s } = this.config.retry;
    const log = this.o.log;
    const all = [d.entry, ...d.mirror];
    for (let n = 1; ; n++) {
      for (const e of all) log.update(e, { attempts: n });
      try {
        await this.o.sender.send(d.msg, this.abort.signal);
        for (const e of all) log.update(e, { status: 'sent', error: null });
        this.counters.sent++;
        this.lastSentAt = this.o.clock.now();
        return;
      } catch (e) {
        if (this.stopped) {
          for (const x of all) this.markDropped(x, 'the gateway stopped');
          return;
        }
        const f = isDeliveryError(e) ? e : new DeliveryError(String(e), false);
        const error = this.reason(f);
        if (f.permanent || n >= attempts) {
          const why = f.permanent ? error : `${error} (gave up after ${n} attempts)`;
          for (const x of all) log.update(x, { status: 'failed', error: why });
          this.counters.failed++;
          this.lastError = why;
          this.o.logFn('warn', `channel ${this.id}: "${d.msg.title}" not delivered: ${why}`);
          return;
        }
        const backoff = Math.min(max_backoff_s * 1000, backoff_s * 1000 * 2 ** (n - 1));
        const wait = Math.min(max_backoff_s * 1000, f.retryAfterMs ?? backoff);
        for (const x of all) log.update(x, { status: 'retrying', error });
        await this.sleep(wait);
        if (this.stopped) {
          for (const x of all) this.markDropped(x, 'the gateway stopped');
          return;
        }
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.o.timers.clear(handle);
        this.sleeping = undefined;
        resolve();
      };
      const handle = this.o.timers.set(wake, ms);
      this.sleeping = { handle, wake };
    });
  }

  /** The error text with every configured secret blotted out. */
  private reason(e: unknown): string {
    let text = e instanceof Error ? e.message : String(e);
    for (const s of this.secrets) text = text.split(s).join('***');
    return text;
  }
}

function secretsOf(c: ChannelConfig): string[] {
  const out: (string | undefined)[] = [];
  if (c.type === 'ntfy') out.push(c.token, c.topic);
  if (c.type === 'pushover') out.push(c.token, c.user);
  if (c.type === 'email') out.push(c.password);
  if (c.type === 'webhook') out.push(...Object.values(c.headers ?? {}));
  return out.filter((s): s is string => typeof s === 'string' && s.length >= 4);
}

const setOrNot = (v: unknown): string => (v === undefined || v === '' ? 'not set' : 'set');

/** What the API may show of a channel's target: secrets only as "set" / "not set". */
export function targetView(c: ChannelConfig): ChannelView['target'] {
  switch (c.type) {
    case 'ntfy':
      return {
        server: hostOf(c.url),
        topic: setOrNot(c.topic),
        token: setOrNot(c.token),
        priority: c.priority,
      };
    case 'pushover':
      return {
        token: setOrNot(c.token),
        user: setOrNot(c.user),
        ...(c.device ? { device: c.device } : {}),
      };
    case 'email':
      return {
        host: c.host,
        port: c.port ?? (c.secure ? 465 : 587),
        secure: c.secure,
        starttls: c.starttls,
        ...(c.username ? { username: c.username } : {}),
        password: setOrNot(c.password),
        from: c.from,
        to: [...c.to],
        ca: setOrNot(c.ca),
        insecure: c.insecure,
      };
    case 'webhook':
      // The path of a webhook URL is often its secret (Slack, Discord): only the origin.
      return {
        server: hostOf(c.url),
        url: 'set',
        method: c.method,
        headers: Object.keys(c.headers ?? {}),
      };
  }
}
