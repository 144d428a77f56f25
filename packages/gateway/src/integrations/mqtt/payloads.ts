/**
 * What goes on the wire, as pure functions: the canonical state JSON (with the chosen
 * fields), the alarm summary in words, and seed 001's compatibility payloads. Topic names
 * of packs are in `ids.ts`.
 */
import { alarmInfo, type Reading } from '@openbms/core';
import { wallOf } from '../../control/clock.js';

/** The state JSON: the canonical snapshot, restricted to `fields` (no `raw` unless chosen). */
export function statePayload(
  snapshot: Reading,
  fields: readonly string[] | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(snapshot)) {
    if (v === undefined || k === 'packs') continue;
    if (fields ? !fields.includes(k) : k === 'raw') continue;
    out[k] = v;
  }
  return out;
}

/** HA text sensors hold at most 255 characters. */
const TEXT_MAX = 255;

export interface AlarmSummary {
  /** Number of active alarms. */
  active: number;
  /** The active alarms in words, or "none". */
  text: string;
  warning: boolean;
  protection: boolean;
  fault: boolean;
  alarms: { code: string; label: string; severity: string }[];
}

export function alarmSummary(snapshot: Reading): AlarmSummary {
  return summarizeAlarms(snapshot.alarms ?? []);
}

/** The summary of a list of alarms (a pack's flags, or the gateway's own alarm events). */
export function summarizeAlarms(
  alarms: readonly { code: string; severity: string }[],
): AlarmSummary {
  const list = alarms.map((a) => ({
    code: a.code,
    label: alarmInfo(a.code)?.label ?? a.code,
    severity: a.severity,
  }));
  let text = list.length ? list.map((a) => `${a.label} (${a.severity})`).join(', ') : 'none';
  if (text.length > TEXT_MAX) text = `${text.slice(0, TEXT_MAX - 1)}…`;
  const has = (s: string): boolean => list.some((a) => a.severity === s);
  return {
    active: list.length,
    text,
    warning: has('warning'),
    protection: has('protection'),
    fault: has('fault'),
    alarms: list,
  };
}

// ------------------------------------------------------------------ seed 001 payloads

const two = (n: number): string => String(n).padStart(2, '0');

/** Seed 001's time stamp, `MM/DD/YY HH:MM:SS`, the wall time of the site's zone `tz`. */
export function seedTimestamp(ms: number, tz: string): string {
  const d = new Date(wallOf(ms, tz));
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/**
 * Heartbeat: `Status` 1 when the pack answers, `ts` (site's local time), `cnt` seconds since
 * start, `mem` the gateway process's resident memory (RSS) in bytes — seed 001's dongle sends
 * its free heap there; a Node process has no such figure, and RSS is what grows on a leak.
 * Modbus register 50 shows the same figure in MiB.
 */
export function heartbeatPayload(o: {
  online: boolean;
  now: number;
  startedAt: number;
  rssBytes: number;
  timeZone: string;
}): { Status: 0 | 1; ts: string; cnt: number; mem: number } {
  return {
    Status: o.online ? 1 : 0,
    ts: seedTimestamp(o.now, o.timeZone),
    cnt: Math.floor((o.now - o.startedAt) / 1000) % 65_536,
    mem: Math.round(o.rssBytes),
  };
}

/** Seed 001's pack message; `cells` picks the `bat` map or `b0..bN` keys. */
export function seedPackPayload(s: Reading, cells: 'bat' | 'b0'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const mv = s.cell_mv ?? [];
  if (cells === 'bat') out['bat'] = Object.fromEntries(mv.map((v, i) => [String(i), v]));
  else mv.forEach((v, i) => (out[`b${i}`] = v));
  const num = (v: number | undefined, f: (x: number) => unknown): void | unknown =>
    v === undefined ? undefined : f(v);
  const put = (k: string, v: unknown): void => {
    if (v !== undefined) out[k] = v;
  };
  put('SOC', num(s.soc_pct, Math.round));
  put('PWT', num(s.power_w, Math.round));
  put(
    'PMV',
    num(s.voltage_v, (v) => v.toFixed(2)),
  );
  put(
    'PMA',
    num(s.current_a, (v) => v.toFixed(2)),
  );
  put('PDV', s.delta_cell_mv);
  put('AMV', num(s.avg_cell_mv, Math.round));
  put('TMP', num(s.max_temp_c ?? s.temps_c?.[0], Math.round));
  const alarms = s.alarms ?? [];
  put('ALM', alarms.map((a) => a.code).join(','));
  put('ALMF', alarms.length ? 1 : 0);
  put('DMS', s.discharge_mos === undefined ? undefined : s.discharge_mos ? 1 : 0);
  put('CMS', s.charge_mos === undefined ? undefined : s.charge_mos ? 1 : 0);
  return out;
}

/**
 * Seed 001's daily maxima: SCM max SOC today, MIC/MAC lowest/highest cell mV today, RCP Ah.
 * "Today" is the day of the site's zone.
 */
export class DailyMax {
  constructor(private readonly tz: string) {}

  private day = '';
  private scm: number | undefined;
  private mic: number | undefined;
  private mac: number | undefined;
  private rcp: number | undefined;

  update(s: Reading, now: number): void {
    const day = new Date(wallOf(now, this.tz)).toISOString().slice(0, 10);
    if (day !== this.day) {
      this.day = day;
      this.scm = this.mic = this.mac = undefined;
    }
    const lo = s.min_cell_mv ?? (s.cell_mv?.length ? Math.min(...s.cell_mv) : undefined);
    const hi = s.max_cell_mv ?? (s.cell_mv?.length ? Math.max(...s.cell_mv) : undefined);
    if (s.soc_pct !== undefined) this.scm = Math.max(this.scm ?? -Infinity, s.soc_pct);
    if (lo !== undefined) this.mic = Math.min(this.mic ?? Infinity, lo);
    if (hi !== undefined) this.mac = Math.max(this.mac ?? -Infinity, hi);
    if (s.remaining_ah !== undefined) this.rcp = s.remaining_ah;
  }

  payload(): Record<string, number> | undefined {
    if (this.scm === undefined && this.mic === undefined) return undefined;
    const out: Record<string, number> = {};
    if (this.scm !== undefined) out['SCM'] = Math.round(this.scm);
    if (this.mic !== undefined) out['MIC'] = Math.round(this.mic);
    if (this.mac !== undefined) out['MAC'] = Math.round(this.mac);
    if (this.rcp !== undefined) out['RCP'] = Math.round(this.rcp);
    return out;
  }
}
