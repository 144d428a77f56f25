/**
 * Alarm e-mails to users (My account's notification settings, issue 14 "Accounts"): every
 * gateway's live alarm events, mailed to each user who opted in (`notify.alarmsEmail`), has an
 * e-mail address, and may see the alarm exactly as the alarm list would show it to them: the
 * user's standing is read now (`standingOf`), the policy decides whether they see the gateway
 * (a dealer's member their subtree's, a visitor the visited plant's, never another tenant's),
 * and the point groups decide whether the reading is told (`filterAlarm`).
 *
 * One mail per alarm, state and user (a replayed event is not mailed twice), at most
 * `maxPerHour` mails per user in any hour: beyond that the mail is dropped with a log line,
 * so an alarm storm cannot flood anybody's mailbox. Events are handled one at a time, in the
 * order they come, so mails to one address keep the alarms' order.
 *
 * Tracker alarms (docs/trackers.md "Alarms") come from the tracker ingest (`trackerAlarms`),
 * not from a gateway: they go to the users who see the tracker in the device list (their
 * subtrees, `subtreeRoots`). Either kind is mailed only when the user left its type on
 * (`notify.alarmTypes`, seed 003's alarm settings).
 */
import { alarmInfo, GATEWAY_ALARM_SCOPE, trackerAlarmInfo } from '@openbms/core';
import type { GatewayEnvelope } from '@openbms/contract';
import type { TrackerAlarmNotice } from '@openbms/gateway';
import {
  alarmTypeOn,
  type AccountStore,
  type AlarmEvent,
  type DeviceStore,
  type NotifyRecipient,
  type NotifySeverity,
} from '@openbms/storage';
import { standingOf } from './auth.js';
import type { ServerContext } from './context.js';
import { filterAlarm, gatewayScope, subtreeRoots, type Principal } from './policy.js';
import type { OutgoingMail } from './routes/signup.js';

const RANK: Record<NotifySeverity, number> = { warning: 0, protection: 1, fault: 2 };
const HOUR_MS = 3_600_000;
/** How many (alarm, state, user) keys are remembered against a replay. */
const SEEN_MAX = 10_000;

export interface AlarmMailOptions {
  /** Mails per user per hour (default 20). */
  maxPerHour?: number;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Tracker alarm notices (the tracker ingest's hub) and the device list that scopes them. */
  trackers?: {
    subscribe(fn: (n: TrackerAlarmNotice) => void): () => void;
    devices: DeviceStore;
  };
}

export interface AlarmMail {
  /** Resolves once every event received so far has been handled (its mails sent or dropped). */
  idle(): Promise<void>;
  close(): void;
}

export function alarmMail(
  ctx: ServerContext,
  accounts: AccountStore,
  send: (m: OutgoingMail) => Promise<void>,
  opts: AlarmMailOptions,
): AlarmMail {
  const max = opts.maxPerHour ?? 20;
  const sent = new Map<string, number[]>();
  const seen = new Set<string>();
  let queue: Promise<void> = Promise.resolve();

  /** Whether the user may have one more mail now (and counts it). */
  const allowed = (userId: string): boolean => {
    const now = ctx.clock();
    const times = (sent.get(userId) ?? []).filter((t) => now - t < HOUR_MS);
    if (times.length >= max) {
      sent.set(userId, times);
      return false;
    }
    times.push(now);
    sent.set(userId, times);
    return true;
  };

  const principalOf = async (r: NotifyRecipient): Promise<Principal> => ({
    userId: r.user.id,
    username: r.user.username,
    orgId: r.user.orgId,
    ...(await standingOf(ctx, r.user)),
    kind: 'session',
    tokenId: '',
  });
  /** Whether this recipient wants this alarm in this state (severity, cleared, type). */
  const wants = (r: NotifyRecipient, alarm: AlarmEvent, state: 'raised' | 'cleared'): boolean =>
    RANK[alarm.severity] >= RANK[r.notify.minSeverity] &&
    (state === 'raised' || r.notify.alarmCleared) &&
    alarmTypeOn(r.notify, alarm.code);
  const remember = (key: string): boolean => {
    if (seen.has(key)) return false;
    if (seen.size >= SEEN_MAX) seen.delete(seen.values().next().value!);
    seen.add(key);
    return true;
  };

  const handleTracker = async (n: TrackerAlarmNotice): Promise<void> => {
    const devices = opts.trackers!.devices;
    for (const r of await accounts.notifyRecipients()) {
      if (!wants(r, n.event, n.state)) continue;
      const me = await principalOf(r);
      const roots = subtreeRoots(me);
      if (roots.length === 0 || !(await devices.get(roots, n.deviceId))) continue;
      if (!remember(`${r.user.id} tracker ${n.event.id} ${n.state}`)) continue;
      if (!allowed(r.user.id)) {
        opts.log.warn(
          { userId: r.user.id, alarm: n.event.id, max },
          'alarm mail dropped: the user had their hourly limit of alarm mails',
        );
        continue;
      }
      await send(mailOf(r.email, n.state, n.event)).catch((err: unknown) =>
        opts.log.error({ err, userId: r.user.id, alarm: n.event.id }, 'alarm mail failed'),
      );
    }
  };

  const handle = async (e: Extract<GatewayEnvelope, { type: 'alarm' }>): Promise<void> => {
    if (e.state === 'acknowledged') return;
    const link = ctx.gateways.get(e.gatewayId);
    if (!link) return;
    const alarm = e.alarm as AlarmEvent;
    const recipients = await accounts.notifyRecipients();
    let pack: Parameters<ServerContext['policy']['points']['filterForPack']>[2] | undefined;
    for (const r of recipients) {
      if (!wants(r, alarm, e.state)) continue;
      const key = `${r.user.id} ${e.gatewayId} ${alarm.localId} ${e.state}`;
      if (seen.has(key)) continue;
      const me = await principalOf(r);
      if (!ctx.policy.canSee(me, e.gatewayId)) continue;
      remember(key);
      if (!allowed(r.user.id)) {
        opts.log.warn(
          { userId: r.user.id, alarm: alarm.id, max },
          'alarm mail dropped: the user had their hourly limit of alarm mails',
        );
        continue;
      }
      pack ??= (await link.pack(alarm.packId)) ?? {
        snapshot: (await ctx.telemetry.latest(gatewayScope(link), alarm.packId))?.snapshot,
      };
      const shown = filterAlarm(alarm, await ctx.policy.points.filterForPack(me, link.orgId, pack));
      await send(mailOf(r.email, e.state, shown)).catch((err: unknown) =>
        opts.log.error({ err, userId: r.user.id, alarm: alarm.id }, 'alarm mail failed'),
      );
    }
  };

  const onEnvelope = (e: GatewayEnvelope): void => {
    if (e.type !== 'alarm') return;
    queue = queue
      .then(() => handle(e))
      .catch((err: unknown) => opts.log.error({ err }, 'alarm mail failed'));
  };
  // Every gateway's, also those registered later (collectors claimed while the server runs).
  const offs = [ctx.gateways.subscribeAll(onEnvelope)];
  if (opts.trackers)
    offs.push(
      opts.trackers.subscribe((n) => {
        queue = queue
          .then(() => handleTracker(n))
          .catch((err: unknown) => opts.log.error({ err }, 'alarm mail failed'));
      }),
    );
  return {
    idle: () => queue,
    close: () => {
      for (const off of offs) off();
    },
  };
}

function mailOf(to: string, state: 'raised' | 'cleared', a: AlarmEvent): OutgoingMail {
  const where =
    a.packId === GATEWAY_ALARM_SCOPE
      ? `gateway ${a.gatewayId}`
      : a.packId.startsWith('tracker/')
        ? `tracker ${a.packId.slice('tracker/'.length)}`
        : `pack ${a.packId}`;
  const label = alarmInfo(a.code)?.label ?? trackerAlarmInfo(a.code)?.label ?? a.code;
  const at = new Date(state === 'cleared' ? (a.clearedAt ?? a.raisedAt) : a.raisedAt);
  return {
    to,
    subject: `OpenBMS ${a.severity}: ${label} ${state} on ${where}`,
    text:
      `${state === 'raised' ? 'Alarm raised' : 'Alarm cleared'}: ${a.message}\n` +
      `Severity: ${a.severity}\nCode: ${a.code}\nWhere: ${where}\n` +
      (a.value !== undefined ? `Value: ${a.value}\n` : '') +
      `At: ${at.toISOString()}\n\n` +
      'You receive this because alarm e-mails are on in My account; turn them off there.\n',
  };
}
