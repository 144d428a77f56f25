/**
 * The texts: one function per message kind, pure (time zone passed in), so the wording is
 * tested without a channel. Titles are one short line; bodies plain text.
 */
import { GATEWAY_ALARM_SCOPE } from '@openbms/core';
import type { AlarmEvent } from '@openbms/storage';
import type { DailyReport } from './report.js';
import type { Severity } from './schema.js';
import { formatClock, formatLocal } from './time.js';
import type { Message, Urgency } from './types.js';

export interface PackName {
  id: string;
  name: string;
}

const URGENCY: Record<Severity, Urgency> = {
  warning: 'normal',
  protection: 'high',
  fault: 'critical',
};

/** "3 min", "2 h 5 min", "1 d 4 h". */
export function formatDuration(ms: number): string {
  const min = Math.max(0, Math.round(ms / 60_000));
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

export function alarmMessage(
  ev: AlarmEvent,
  state: 'raised' | 'cleared',
  pack: PackName,
  tz?: string,
): Message {
  const raised = state === 'raised';
  const at = raised ? ev.raisedAt : (ev.clearedAt ?? ev.raisedAt);
  const lines = [
    raised ? `Alarm: ${ev.message}` : `Cleared: ${ev.message}`,
    pack.id === GATEWAY_ALARM_SCOPE
      ? `Source: ${pack.name} (storage)`
      : `Pack: ${pack.name} (${pack.id})`,
    `Code: ${ev.code}, severity ${ev.severity}${ev.level !== undefined ? `, level ${ev.level}` : ''}`,
  ];
  if (ev.value !== undefined) lines.push(`Value: ${ev.value}`);
  lines.push(raised ? `Raised: ${formatLocal(at, tz)}` : `Raised: ${formatLocal(ev.raisedAt, tz)}`);
  if (!raised)
    lines.push(`Cleared: ${formatLocal(at, tz)} (after ${formatDuration(at - ev.raisedAt)})`);
  const data: Record<string, unknown> = {
    alarm_id: ev.id,
    code: ev.code,
    severity: ev.severity,
    origin: ev.origin,
    raised_at: ev.raisedAt,
  };
  if (ev.level !== undefined) data.level = ev.level;
  if (ev.value !== undefined) data.value = ev.value;
  if (ev.ruleId !== undefined) data.rule_id = ev.ruleId;
  if (!raised) data.cleared_at = at;
  return {
    event: raised ? 'alarm_raised' : 'alarm_cleared',
    title: raised ? `${pack.name}: ${ev.message}` : `${pack.name}: cleared: ${ev.message}`,
    body: lines.join('\n'),
    urgency: raised ? URGENCY[ev.severity] : 'low',
    at,
    severity: ev.severity,
    pack: { id: pack.id, name: pack.name },
    data,
  };
}

export function offlineMessage(pack: PackName, at: number, reason?: string, tz?: string): Message {
  const lines = [`${pack.name} (${pack.id}) stopped answering at ${formatLocal(at, tz)}.`];
  if (reason) lines.push(`Last error: ${reason}`);
  return {
    event: 'offline',
    title: `${pack.name} is offline`,
    body: lines.join('\n'),
    urgency: 'high',
    at,
    pack: { id: pack.id, name: pack.name },
    data: { online: false, ...(reason ? { reason } : {}) },
  };
}

export function onlineMessage(
  pack: PackName,
  at: number,
  offlineSince: number | undefined,
  tz?: string,
): Message {
  const after = offlineSince !== undefined ? ` after ${formatDuration(at - offlineSince)}` : '';
  return {
    event: 'online',
    title: `${pack.name} is back online`,
    body: `${pack.name} (${pack.id}) answers again since ${formatLocal(at, tz)}${after}.`,
    urgency: 'low',
    at,
    pack: { id: pack.id, name: pack.name },
    data: {
      online: true,
      ...(offlineSince !== undefined ? { offline_ms: at - offlineSince } : {}),
    },
  };
}

export function socFullMessage(pack: PackName, soc: number, at: number, tz?: string): Message {
  return {
    event: 'soc_full',
    title: `${pack.name}: fully charged (${soc} %)`,
    body: `${pack.name} (${pack.id}) reached ${soc} % state of charge at ${formatLocal(at, tz)}.`,
    urgency: 'normal',
    at,
    pack: { id: pack.id, name: pack.name },
    data: { soc_pct: soc },
  };
}

const kwh = (v: number): string => v.toFixed(2);

/** `preview`: the report of the period still running, sent on request ("so far"). */
export function dailyReportMessage(r: DailyReport, tz?: string, preview = false): Message {
  const label = r.kind === 'sunrise' ? 'Sunrise' : 'Sunset';
  const period = r.kind === 'sunrise' ? 'night' : 'day';
  const soFar = preview ? ' so far' : '';
  const lines = [
    `${label} report${soFar}: the ${period} ${formatLocal(r.from, tz)} - ${formatClock(r.to, tz)}${tz ? ` (${tz})` : ''}`,
  ];
  for (const p of r.packs) {
    if (p.samples === 0) {
      lines.push(`${p.name}: no data`);
      continue;
    }
    const parts: string[] = [];
    if (p.soc_min_pct !== undefined && p.soc_max_pct !== undefined) {
      parts.push(`SOC ${p.soc_min_pct}-${p.soc_max_pct} %`);
    }
    if (p.energy_in_kwh !== undefined && p.energy_out_kwh !== undefined) {
      parts.push(`in ${kwh(p.energy_in_kwh)} kWh, out ${kwh(p.energy_out_kwh)} kWh`);
    }
    if (p.worst_delta_mv !== undefined) parts.push(`worst cell delta ${p.worst_delta_mv} mV`);
    lines.push(`${p.name}: ${parts.join(', ') || 'no values'}`);
  }
  if (r.packs.length === 0) lines.push('No packs configured.');
  return {
    event: 'daily_report',
    title: `OpenBMS ${label.toLowerCase()} report${soFar}`,
    body: lines.join('\n'),
    urgency: 'low',
    at: r.to,
    data: {
      kind: r.kind,
      ...(preview ? { preview: true } : {}),
      from: r.from,
      to: r.to,
      packs: r.packs,
    },
  };
}

export function digestMessage(held: readonly Message[], now: number, tz?: string): Message {
  const lines = held.map((m) => `${formatClock(m.at, tz)} ${m.title}`);
  const rank: Urgency[] = ['low', 'normal', 'high', 'critical'];
  const top = held.reduce<Urgency>(
    (u, m) => (rank.indexOf(m.urgency) > rank.indexOf(u) ? m.urgency : u),
    'low',
  );
  return {
    event: 'digest',
    title: `${held.length} messages during quiet hours`,
    body: lines.join('\n'),
    urgency: top === 'critical' ? 'high' : top,
    at: now,
    data: { messages: held.map((m) => ({ event: m.event, title: m.title, at: m.at })) },
  };
}

export function rateSummaryMessage(
  count: number,
  titles: readonly string[],
  limit: { max: number; per_s: number },
  now: number,
): Message {
  const more = count - titles.length;
  const lines = [
    `${count} message${count === 1 ? ' was' : 's were'} not sent: at most ${limit.max} per ${limit.per_s} s.`,
    ...titles.map((t) => `- ${t}`),
  ];
  if (more > 0) lines.push(`... and ${more} more`);
  return {
    event: 'rate_summary',
    title: `${count} notification${count === 1 ? '' : 's'} held back (rate limit)`,
    body: lines.join('\n'),
    urgency: 'normal',
    at: now,
    data: { suppressed: count, titles: [...titles] },
  };
}

export function testMessage(channel: string, now: number, tz?: string): Message {
  return {
    event: 'test',
    title: 'OpenBMS test message',
    body: `Test of notification channel "${channel}" at ${formatLocal(now, tz)}. If you read this, it works.`,
    urgency: 'normal',
    at: now,
    data: { channel },
  };
}

const URGENCY_RANK: Urgency[] = ['low', 'normal', 'high', 'critical'];
const SEVERITY_ORDER = ['warning', 'protection', 'fault'] as const;

/**
 * Several alarms raised close together, as one message: the title counts them (naming the
 * pack when it is one), the body lists each with its time; it carries the highest urgency
 * and severity of them so quiet hours and routing treat it as its worst alarm.
 */
export function alarmGroupMessage(alarms: readonly Message[], tz?: string): Message {
  const packs = [...new Set(alarms.map((m) => m.pack?.name ?? ''))];
  const one = packs.length === 1 && packs[0] ? packs[0] : undefined;
  const urgency = alarms.reduce<Urgency>(
    (u, m) => (URGENCY_RANK.indexOf(m.urgency) > URGENCY_RANK.indexOf(u) ? m.urgency : u),
    'low',
  );
  const severity = alarms.reduce<(typeof SEVERITY_ORDER)[number] | undefined>(
    (s, m) =>
      m.severity &&
      (s === undefined || SEVERITY_ORDER.indexOf(m.severity) > SEVERITY_ORDER.indexOf(s))
        ? m.severity
        : s,
    undefined,
  );
  const first = alarms[0]!;
  const samePack = one !== undefined && alarms.every((m) => m.pack?.id === first.pack?.id);
  return {
    event: 'alarm_raised',
    title: `${alarms.length} alarms raised${one ? ` on ${one}` : ''}`,
    body: alarms.map((m) => `${formatClock(m.at, tz)} ${m.title}`).join('\n'),
    urgency,
    at: first.at,
    ...(severity ? { severity } : {}),
    ...(samePack && first.pack ? { pack: first.pack } : {}),
    data: { grouped: alarms.length, alarms: alarms.map((m) => ({ title: m.title, ...m.data })) },
  };
}
