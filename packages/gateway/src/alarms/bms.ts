/**
 * Diffing a pack's own alarms (snapshot.alarms, taxonomy codes) against what is active.
 * One active event per code: when a device lists a code twice (two sources mapping to one
 * code) the highest level and the most severe severity win. A change of level or severity
 * is a clear of the old event and a raise of the new one, so the history shows escalations.
 */
import { alarmInfo, type Alarm } from '@openbms/core';

export interface ActiveBms {
  severity: Alarm['severity'];
  level?: number;
}

const RANK: Record<Alarm['severity'], number> = { warning: 0, protection: 1, fault: 2 };

/** Alarms by code, the strongest per code. */
export function strongestByCode(alarms: readonly Alarm[]): Map<string, Alarm> {
  const out = new Map<string, Alarm>();
  for (const a of alarms) {
    if (!a || typeof a.code !== 'string') continue;
    const prev = out.get(a.code);
    if (!prev) {
      out.set(a.code, a);
      continue;
    }
    const level = Math.max(prev.level ?? -Infinity, a.level ?? -Infinity);
    const severity = RANK[a.severity] > RANK[prev.severity] ? a.severity : prev.severity;
    const merged: Alarm = { ...prev, severity };
    if (Number.isFinite(level)) merged.level = level;
    if ((a.level ?? -Infinity) > (prev.level ?? -Infinity) && a.source) merged.source = a.source;
    out.set(a.code, merged);
  }
  return out;
}

export interface BmsDiff {
  /** Codes whose active event ends (gone, or replaced by another level/severity). */
  clear: string[];
  /** Alarms to raise (new, or the new level/severity of a replaced one). */
  raise: Alarm[];
}

export function diffBmsAlarms(
  active: ReadonlyMap<string, ActiveBms>,
  reported: readonly Alarm[],
): BmsDiff {
  const now = strongestByCode(reported);
  const clear: string[] = [];
  const raise: Alarm[] = [];
  for (const [code, a] of active) {
    const n = now.get(code);
    if (!n || n.level !== a.level || n.severity !== a.severity) clear.push(code);
  }
  for (const [code, n] of now) {
    const a = active.get(code);
    if (!a || n.level !== a.level || n.severity !== a.severity) raise.push(n);
  }
  return { clear, raise };
}

export function bmsMessage(a: Alarm): string {
  const label = alarmInfo(a.code)?.label ?? a.code;
  const parts: string[] = [];
  if (a.level !== undefined) parts.push(`level ${a.level}`);
  if (a.source) parts.push(a.source);
  return parts.length ? `${label} (${parts.join(', ')})` : label;
}
