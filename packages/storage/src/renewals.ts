/**
 * Service renewals of devices (issue 17, seed 003 "renewal": 1 year, 2 years, lifetime;
 * docs/trackers.md "Renewals"). A renewal moves a device's expiry and is kept as a history row
 * (device, period, the expiry before and after, who, when, the owning organisation), all in
 * one transaction: every device of a request or none. No payment is taken here.
 *
 * The new expiry: a period counts from the later of `at` (now) and the current expiry, so a
 * device still valid keeps its remaining time and an expired one starts afresh; a device
 * without an expiry (never set) counts from now. Years are calendar years in UTC (the same
 * date and time, 29 February → 1 March). `lifetime` clears the expiry (never expires).
 */
import { invalid, ident, oneOf, text, time } from './validate.js';

export const RENEWAL_PERIODS = ['1y', '2y', 'lifetime'] as const;
export type RenewalPeriod = (typeof RENEWAL_PERIODS)[number];

/** The most devices one renewal takes. */
export const MAX_RENEW_IDS = 500;
/** The most rows one history read answers. */
export const MAX_RENEWALS = 1000;

export interface Renewal {
  /** ULID (time of the renewal). */
  id: string;
  deviceId: string;
  /** The device's serial when renewed. */
  serial: string;
  /** The device's organisation when renewed. */
  orgId: string;
  period: RenewalPeriod;
  /** The expiry before (ms); absent: none was set. */
  previousExpiresAt?: number;
  /** The expiry after (ms); absent: lifetime. */
  newExpiresAt?: number;
  /** The user's id and login name. */
  by: string;
  byName: string;
  at: number;
}

export interface NewRenewal {
  /** Device ids, 1..MAX_RENEW_IDS, each once. */
  ids: readonly string[];
  period: RenewalPeriod;
  by: string;
  byName: string;
  /** Now (ms): the base of an expired device's new term, and the row's time. */
  at: number;
}

export interface RenewalQuery {
  /** One device's history (the device must be within); else every renewal of the subtrees. */
  deviceId?: string;
  /** Renewal time, from (inclusive) to (exclusive), ms. */
  from: number;
  to: number;
  /** Newest first, at most this many (default and most MAX_RENEWALS). */
  limit?: number;
}

/** The expiry after renewing by `period` at `now` from `current` (undefined: none/lifetime). */
export function renewedExpiry(
  current: number | null | undefined,
  period: RenewalPeriod,
  now: number,
): number | null {
  if (period === 'lifetime') return null;
  const base = new Date(Math.max(now, current ?? now));
  base.setUTCFullYear(base.getUTCFullYear() + (period === '1y' ? 1 : 2));
  return base.getTime();
}

// ---------------------------------------------------------------- checks

export function newRenewal(value: unknown): {
  ids: string[];
  period: RenewalPeriod;
  by: string;
  byName: string;
  at: number;
} {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('renewal', 'must be an object');
  const r = value as Record<string, unknown>;
  const ids = r['ids'];
  if (!Array.isArray(ids) || ids.length < 1 || ids.length > MAX_RENEW_IDS)
    throw invalid('ids', `must be an array of 1..${MAX_RENEW_IDS} device ids`);
  const seen = new Set<string>();
  const out = ids.map((id, i) => {
    const v = ident(id, `ids[${i}]`);
    if (seen.has(v)) throw invalid('ids', `names ${v} twice`);
    seen.add(v);
    return v;
  });
  return {
    ids: out,
    period: oneOf(r['period'], 'period', RENEWAL_PERIODS),
    by: ident(r['by'], 'by'),
    byName: text(r['byName'], 'byName', 200),
    at: time(r['at'], 'at'),
  };
}

export function renewalQuery(value: unknown): {
  deviceId: string | null;
  from: number;
  to: number;
  limit: number;
} {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('query', 'must be an object');
  const q = value as Record<string, unknown>;
  const from = time(q['from'], 'from');
  const to = time(q['to'], 'to');
  if (to < from) throw invalid('to', 'must not be before from');
  const limit = q['limit'] ?? MAX_RENEWALS;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_RENEWALS)
    throw invalid('limit', `must be a whole number 1..${MAX_RENEWALS}`);
  return {
    deviceId: q['deviceId'] == null ? null : ident(q['deviceId'], 'deviceId'),
    from,
    to,
    limit,
  };
}

// ---------------------------------------------------------------- rows

export interface RenewalRow {
  id: string;
  device_id: string;
  serial: string;
  org_id: string;
  period: RenewalPeriod;
  previous_expires_at: number | string | null;
  new_expires_at: number | string | null;
  by_user: string;
  by_name: string;
  at: number | string;
}

export const RENEWAL_COLUMNS =
  'id, device_id, serial, org_id, period, previous_expires_at, new_expires_at, by_user, by_name, at';

export function renewalFromRow(r: RenewalRow): Renewal {
  const out: Renewal = {
    id: r.id,
    deviceId: r.device_id,
    serial: r.serial,
    orgId: r.org_id,
    period: r.period,
    by: r.by_user,
    byName: r.by_name,
    at: Number(r.at),
  };
  if (r.previous_expires_at !== null) out.previousExpiresAt = Number(r.previous_expires_at);
  if (r.new_expires_at !== null) out.newExpiresAt = Number(r.new_expires_at);
  return out;
}
