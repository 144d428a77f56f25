/**
 * The notification service: listens to the gateway's EventBus (alarms raised/cleared, packs
 * going offline and back, snapshots for "SOC reached 100 %"), sends the sunrise/sunset
 * report, and hands every message to the channels that want it. Delivery problems stay
 * here (delivery log, counters, a warning in the gateway log): nothing throws into the
 * gateway.
 */
import { BmsError, GATEWAY_ALARM_SCOPE } from '@openbms/core';
import type { GatewayListener } from '../../types.js';
import { Channel } from './channel.js';
import { emailSender, type MailTransportFactory } from './email.js';
import { DeliveryLog } from './log.js';
import {
  alarmMessage,
  dailyReportMessage,
  offlineMessage,
  onlineMessage,
  socFullMessage,
  testMessage,
  type PackName,
} from './messages.js';
import { dailyReport, type DailyReport, type HistorySource } from './report.js';
import type { ChannelConfig, LocationConfig } from './schema.js';
import { SunScheduler } from './scheduler.js';
import { ntfySender, pushoverSender, webhookSender, type Sender } from './senders.js';
import { previousSunEvent, type SunKind } from './sun.js';
import { formatLocal } from './time.js';
import {
  realTimers,
  type ChannelCounters,
  type Clock,
  type LogFn,
  type Message,
  type NotificationsStatus,
  type TestResult,
  type Timers,
} from './types.js';

/** "SOC reached 100 %" fires when a pack's SOC reaches this... */
export const SOC_FULL_PCT = 100;
/** ...and again only after it fell below this (one message per charge). */
export const SOC_REARM_PCT = 95;

const DAY_MS = 86_400_000;

export interface NotificationServiceOptions {
  /** The parsed `notifications:` list. */
  config: readonly ChannelConfig[];
  /** Each channel's counts before a restart, by channel id (they survive a settings save). */
  counters?: ReadonlyMap<string, ChannelCounters>;
  /** The parsed `location:`; without it there are no sunrise/sunset reports. */
  location?: LocationConfig;
  events: { on(listener: GatewayListener): () => void };
  /** The packs (id and display name), as the gateway lists them. */
  packs(): readonly PackName[];
  /** Where the daily report reads its numbers (the gateway's telemetry store). */
  telemetry?: HistorySource;
  clock?: Clock;
  timers?: Timers;
  log?: LogFn;
  /** The mailer behind e-mail channels (default: nodemailer). */
  mailer?: MailTransportFactory;
  /** Carries the delivery log over when the settings restart the service. */
  deliveries?: DeliveryLog;
}

export function senderFor(c: ChannelConfig, mailer?: MailTransportFactory): Sender {
  switch (c.type) {
    case 'ntfy':
      return ntfySender(c);
    case 'pushover':
      return pushoverSender(c);
    case 'webhook':
      return webhookSender(c);
    case 'email':
      return emailSender(c, mailer);
  }
}

export class NotificationService {
  readonly channels: readonly Channel[];
  readonly deliveries: DeliveryLog;
  private readonly o: NotificationServiceOptions;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly log: LogFn;
  private readonly tz: string | undefined;
  private readonly scheduler: SunScheduler | undefined;
  private off: (() => void) | undefined;
  private readonly offlineSince = new Map<string, number>();
  /** Per pack: true when the next reach of SOC_FULL_PCT sends a message. */
  private readonly socArmed = new Map<string, boolean>();

  constructor(o: NotificationServiceOptions) {
    this.o = o;
    this.clock = o.clock ?? { now: () => Date.now() };
    this.timers = o.timers ?? realTimers;
    this.log = o.log ?? (() => undefined);
    this.tz = o.location?.timezone;
    o.config.forEach((c, i) => {
      if (c.events?.includes('daily_report') && !o.location) {
        throw new BmsError(
          'CONFIG_INVALID',
          `notifications[${i}].events: daily_report needs the site's place: add location: {latitude, longitude, timezone} (e.g. timezone: "Europe/Berlin")`,
        );
      }
    });
    this.deliveries = o.deliveries ?? new DeliveryLog(() => this.clock.now());
    this.channels = o.config.map(
      (c) =>
        new Channel({
          config: c,
          sender: senderFor(c, o.mailer),
          log: this.deliveries,
          clock: this.clock,
          timers: this.timers,
          ...(this.tz ? { timezone: this.tz } : {}),
          reports: !!o.location,
          logFn: this.log,
          ...(o.counters?.get(c.id) ? { counters: o.counters.get(c.id)! } : {}),
        }),
    );
    const wantsReports = this.channels.some((c) => c.enabled && c.events.includes('daily_report'));
    if (o.location && wantsReports && o.telemetry) {
      this.scheduler = new SunScheduler({
        place: o.location,
        clock: this.clock,
        timers: this.timers,
        onEvent: (e) => void this.report(e.kind, e.at),
      });
    }
  }

  start(): void {
    if (this.off) return;
    this.off = this.o.events.on((e) => {
      switch (e.type) {
        case 'alarm':
          if (e.state === 'raised' || e.state === 'cleared') {
            this.dispatch(alarmMessage(e.event, e.state, this.packName(e.event.packId), this.tz));
          }
          return;
        case 'online':
          this.onOnline(e.packId, e.online, e.ts, e.reason);
          return;
        case 'snapshot':
          this.onSoc(e.packId, e.snapshot.soc_pct, e.ts);
          return;
      }
    });
    this.scheduler?.start();
    const enabled = this.channels.filter((c) => c.enabled);
    const next = this.scheduler?.upcoming();
    this.log(
      'info',
      `${enabled.length} channel(s)${enabled.length ? `: ${enabled.map((c) => `${c.id} (${c.config.type})`).join(', ')}` : ''}${
        next ? `; next report at ${next.kind} ${formatLocal(next.at, this.tz)}` : ''
      }`,
    );
    if (
      !this.scheduler &&
      this.channels.some((c) => c.enabled && c.events.includes('daily_report'))
    ) {
      this.log('warn', 'daily reports need the telemetry store; none is given, so none are sent');
    }
  }

  async stop(): Promise<void> {
    this.off?.();
    this.off = undefined;
    this.scheduler?.stop();
    for (const c of this.channels) c.stop();
  }

  status(): NotificationsStatus {
    const s: NotificationsStatus = {
      channels: this.channels.map((c) => c.view()),
      log: this.deliveries.list(),
    };
    const next = this.scheduler?.upcoming();
    if (next) s.next_report = { kind: next.kind, at: next.at };
    return s;
  }

  /** Sends a test message through one channel now (enabled or not) and reports the result. */
  async test(channelId: string): Promise<TestResult> {
    const c = this.channels.find((x) => x.id === channelId);
    if (!c) {
      const ids = this.channels.map((x) => x.id);
      throw new BmsError(
        'NOT_FOUND',
        `no notification channel "${channelId}"; configured: ${ids.join(', ') || 'none'}`,
      );
    }
    return c.test(testMessage(c.id, this.clock.now(), this.tz));
  }

  /**
   * Builds the report for the period that ends at `at` (since the previous sunrise or
   * sunset, at most 24 h) and hands it to the channels that take reports.
   */
  async report(kind: SunKind, at: number): Promise<DailyReport | undefined> {
    const store = this.o.telemetry;
    if (!store) return undefined;
    const prev = this.o.location ? previousSunEvent(at, this.o.location) : undefined;
    const from = Math.max(prev?.at ?? at - DAY_MS, at - DAY_MS);
    let r: DailyReport;
    try {
      r = await dailyReport(store, this.o.packs(), kind, from, at);
    } catch (e) {
      this.log('error', `${kind} report not made: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    this.dispatch(dailyReportMessage(r, this.tz));
    return r;
  }

  /** Hands a message to every channel that wants it. */
  dispatch(msg: Message): void {
    for (const c of this.channels) {
      if (c.wants(msg)) c.offer(msg);
    }
  }

  private packName(id: string): PackName {
    if (id === GATEWAY_ALARM_SCOPE) return { id, name: 'OpenBMS gateway' };
    const p = this.o.packs().find((x) => x.id === id);
    return { id, name: p?.name ?? id };
  }

  private onOnline(packId: string, online: boolean, ts: number, reason?: string): void {
    if (!online) {
      if (this.offlineSince.has(packId)) return;
      this.offlineSince.set(packId, ts);
      this.dispatch(offlineMessage(this.packName(packId), ts, reason, this.tz));
      return;
    }
    // The first "online" of a pack is the gateway starting: only a return is news.
    if (!this.offlineSince.has(packId)) return;
    const since = this.offlineSince.get(packId);
    this.offlineSince.delete(packId);
    this.dispatch(onlineMessage(this.packName(packId), ts, since, this.tz));
  }

  private onSoc(packId: string, soc: number | undefined, ts: number): void {
    if (soc === undefined || !Number.isFinite(soc)) return;
    const armed = this.socArmed.get(packId);
    if (armed === undefined) {
      // First reading: already full at start is not a "reached" (no crossing was seen).
      this.socArmed.set(packId, soc < SOC_FULL_PCT);
      return;
    }
    if (armed && soc >= SOC_FULL_PCT) {
      this.socArmed.set(packId, false);
      this.dispatch(socFullMessage(this.packName(packId), soc, ts, this.tz));
    } else if (!armed && soc < SOC_REARM_PCT) {
      this.socArmed.set(packId, true);
    }
  }
}
