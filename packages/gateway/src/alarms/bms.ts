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

/** The cells (or sensors) an alarm code names across a snapshot's list, ascending, once each. */
function numbersOf(alarms: readonly Alarm[], code: string, key: 'cell' | 'sensor'): number[] {
  const set = new Set<number>();
  for (const a of alarms) if (a?.code === code && typeof a[key] === 'number') set.add(a[key]);
  return [...set].sort((x, y) => x - y);
}

/** An alarm to raise with the cells and sensors every entry of its code named. */
export interface RaisedBms extends Alarm {
  cells?: number[];
  sensors?: number[];
}

export interface BmsDiff {
  /** Codes whose active event ends (gone, or replaced by another level/severity). */
  clear: string[];
  /** Alarms to raise (new, or the new level/severity of a replaced one). */
  raise: RaisedBms[];
}

export function diffBmsAlarms(
  active: ReadonlyMap<string, ActiveBms>,
  reported: readonly Alarm[],
): BmsDiff {
  const now = strongestByCode(reported);
  const clear: string[] = [];
  const raise: RaisedBms[] = [];
  for (const [code, a] of active) {
    const n = now.get(code);
    if (!n || n.level !== a.level || n.severity !== a.severity) clear.push(code);
  }
  for (const [code, n] of now) {
    const a = active.get(code);
    if (!a || n.level !== a.level || n.severity !== a.severity) {
      const r: RaisedBms = { ...n };
      const cells = numbersOf(reported, code, 'cell');
      const sensors = numbersOf(reported, code, 'sensor');
      if (cells.length) r.cells = cells;
      if (sensors.length) r.sensors = sensors;
      raise.push(r);
    }
  }
  return { clear, raise };
}

/**
 * The event's one-line text: the alarm's name, which cells or sensors, the level.
 * The brand's identifier (e.g. `cell4_voltage_low`) stays in the snapshot's raw part:
 * it is no text for a person (it showed in notification titles).
 */
export function bmsMessage(a: RaisedBms): string {
  const label = alarmInfo(a.code)?.label ?? a.code;
  const where: string[] = [];
  const cells = a.cells ?? (a.cell !== undefined ? [a.cell] : []);
  const sensors = a.sensors ?? (a.sensor !== undefined ? [a.sensor] : []);
  if (cells.length) where.push(`${cells.length > 1 ? 'cells' : 'cell'} ${cells.join(', ')}`);
  if (sensors.length)
    where.push(`${sensors.length > 1 ? 'sensors' : 'sensor'} ${sensors.join(', ')}`);
  const text = where.length ? `${label}, ${where.join(', ')}` : label;
  return a.level !== undefined ? `${text} (level ${a.level})` : text;
}
