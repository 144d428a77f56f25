/**
 * Daily and monthly energy (charged and discharged kWh per day or month, per pack and in
 * total), computed from the increases of the cumulative meters `energy_charged_kwh` and
 * `energy_discharged_kwh` that the gateway stores with every sample (counted in the device's
 * time, see the gateway's energy.ts). Days and months are cut in an IANA time zone (the
 * site's; UTC for a site without one).
 *
 * It reads the 15 min tier (kept 2 years by default, and completed past its last rollup from
 * raw samples, so today's figure is current): 15 min buckets fit every zone's offset (all are
 * whole quarter hours), which 1 h buckets would not (India, Nepal). Each bucket's increase is
 * its max minus the previous bucket's max (the meters only grow, so max is the last value);
 * a bucket whose max is below the previous one saw the meter reset (a lost store, a new
 * gateway): only its own growth (max - min) counts, never a negative or a huge figure.
 *
 * Every adapter answers through this one function over its own `history`, so SQLite and
 * PostgreSQL give the same answers; the contract suite checks both.
 */
import { BmsError, isTimeZone, realOf, wallOf } from '@openbms/core';
import type { HistoryQuery, HistoryResult } from './index.js';

export type EnergyPeriod = 'day' | 'month';

export interface EnergyQuery {
  /** The packs (one to MAX_ENERGY_PACKS), all of the scope's gateway. */
  packIds: readonly string[];
  /** The periods that hold `from` up to the one that holds `to - 1`, ms. */
  from: number;
  to: number;
  period: EnergyPeriod;
  /** IANA zone the days are cut in, e.g. `Europe/Berlin`; `UTC`. */
  timeZone: string;
}

/** One day or month. */
export interface EnergyRow {
  /** `YYYY-MM-DD` (day) or `YYYY-MM` (month), in the query's zone. */
  period: string;
  /** The period's first instant, ms. */
  start: number;
  charged_kwh: number;
  discharged_kwh: number;
}

export interface EnergyResult {
  period: EnergyPeriod;
  timeZone: string;
  /** Every period of the range, oldest first, summed over the packs (0 where nothing flowed). */
  total: EnergyRow[];
  /** The same periods for each pack of the query. */
  packs: Record<string, EnergyRow[]>;
}

export const MAX_ENERGY_PACKS = 256;
/** The longest range, days (the 15 min tier's default retention). */
export const MAX_ENERGY_DAYS = 731;

const FIELDS = ['energy_charged_kwh', 'energy_discharged_kwh'] as const;
const QUARTER = 15 * 60_000;
const DAY = 86_400_000;
/** How far before `from` the previous bucket of each meter is looked for. */
const LOOKBACK = DAY;

function invalid(message: string, field: string): never {
  throw new BmsError('REQUEST_INVALID', message, { field });
}

export function checkEnergyQuery(q: EnergyQuery): void {
  if (typeof q !== 'object' || q === null) invalid('energy query must be an object', 'query');
  if (!Array.isArray(q.packIds) || q.packIds.length < 1 || q.packIds.length > MAX_ENERGY_PACKS)
    invalid(`packIds must be a list of 1 to ${MAX_ENERGY_PACKS} pack ids`, 'packIds');
  q.packIds.forEach((p, i) => {
    if (typeof p !== 'string' || p.length === 0 || p.length > 200)
      invalid(`packIds[${i}] must be a non-empty pack id`, 'packIds');
  });
  for (const k of ['from', 'to'] as const) {
    if (typeof q[k] !== 'number' || !Number.isSafeInteger(q[k]))
      invalid(`${k} must be a whole number of ms since 1970`, k);
  }
  if (q.from >= q.to) invalid(`from (${q.from}) must be before to (${q.to})`, 'from');
  if (q.to - q.from > MAX_ENERGY_DAYS * DAY)
    invalid(`the range is at most ${MAX_ENERGY_DAYS} days`, 'to');
  if (q.period !== 'day' && q.period !== 'month') invalid('period must be day or month', 'period');
  if (!isTimeZone(q.timeZone))
    invalid(`timeZone "${String(q.timeZone)}" is not an IANA time zone`, 'timeZone');
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The periods (label and first instant) from the one holding `from` to the one holding `to - 1`. */
export function energyPeriods(
  from: number,
  to: number,
  period: EnergyPeriod,
  tz: string,
): { period: string; start: number }[] {
  const w = new Date(wallOf(from, tz));
  let y = w.getUTCFullYear();
  let m = w.getUTCMonth();
  let d = period === 'day' ? w.getUTCDate() : 1;
  const out: { period: string; start: number }[] = [];
  for (;;) {
    const wall = Date.UTC(y, m, d);
    const start = realOf(wall, tz);
    if (start >= to) break;
    const c = new Date(wall);
    y = c.getUTCFullYear();
    m = c.getUTCMonth();
    d = c.getUTCDate();
    out.push({
      period: period === 'day' ? `${y}-${pad(m + 1)}-${pad(d)}` : `${y}-${pad(m + 1)}`,
      start,
    });
    if (period === 'day') d += 1;
    else m += 1;
  }
  return out;
}

const round = (kwh: number): number => Math.round(kwh * 1000) / 1000;

/**
 * The energy of a query, read through `history` (an adapter's, already bound to its scope).
 * REQUEST_INVALID for a malformed query, before anything is read.
 */
export async function energyFromHistory(
  history: (q: HistoryQuery) => Promise<HistoryResult>,
  q: EnergyQuery,
): Promise<EnergyResult> {
  checkEnergyQuery(q);
  const periods = energyPeriods(q.from, q.to, q.period, q.timeZone);
  const first = periods[0]?.start ?? q.from;
  const end = q.to;
  const starts = periods.map((p) => p.start);
  /** Index of the period holding t (-1 before the first). */
  const periodOf = (t: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= t) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return at;
  };
  const total = periods.map((p) => ({ ...p, charged_kwh: 0, discharged_kwh: 0 }));
  const packs: Record<string, EnergyRow[]> = {};
  const from = first - LOOKBACK;
  const maxPoints = Math.min(1_000_000, Math.ceil((end - from) / QUARTER) + 8);
  for (const packId of q.packIds) {
    const rows = periods.map((p) => ({ ...p, charged_kwh: 0, discharged_kwh: 0 }));
    const h = await history({
      packId,
      from,
      to: end - 1,
      fields: FIELDS,
      resolution: '15m',
      maxPoints,
    });
    for (const [field, key] of [
      [FIELDS[0], 'charged_kwh'],
      [FIELDS[1], 'discharged_kwh'],
    ] as const) {
      const s = h.series[field];
      if (!s) continue;
      let prev: number | undefined;
      for (let i = 0; i < s.t.length; i++) {
        const t = s.t[i]!;
        const max = s.max[i]!;
        const min = s.min[i]!;
        const inc = prev === undefined || max < prev ? max - min : max - prev;
        prev = max;
        if (t < first || t >= end || !(inc > 0)) continue;
        const at = periodOf(t);
        if (at < 0) continue;
        rows[at]![key] += inc;
        total[at]![key] += inc;
      }
    }
    packs[packId] = rows.map((r) => ({
      ...r,
      charged_kwh: round(r.charged_kwh),
      discharged_kwh: round(r.discharged_kwh),
    }));
  }
  return {
    period: q.period,
    timeZone: q.timeZone,
    total: total.map((r) => ({
      ...r,
      charged_kwh: round(r.charged_kwh),
      discharged_kwh: round(r.discharged_kwh),
    })),
    packs,
  };
}
