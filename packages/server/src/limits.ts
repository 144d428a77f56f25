/**
 * Per-organisation limits (config `fleet.limits`; docs/fleet.md "Per-organisation limits"), so
 * one tenant cannot starve the others:
 *
 * - `requests_per_minute`: the API requests of the accounts of one organisation (an account
 *   counts against its own organisation, wherever it acts), per node. Over it: 429
 *   `RATE_LIMITED` with `limit: requests_per_minute` and `retry_after_s`. Each organisation
 *   has its own allowance, so a busy dealer never slows its sibling.
 * - `users`: members of one organisation; `devices`: devices registered in one organisation
 *   (its own, not its subtree's). Adding beyond: 403 `LIMIT_REACHED` naming the limit.
 *
 * An organisation's own limits are set by its code (`fleet.limits.orgs.CODE`), resolved to its
 * id once at start; every change of the limits is audited at the next start (`fleet.limits`,
 * by `config`, old and new).
 */
import { BmsError } from '@openbms/core';
import {
  DEFAULT_FLEET_LIMITS,
  type FleetLimitKey,
  type FleetLimitsConfig,
} from '@openbms/contract';
import type { AuditStore, OrgStore, Origin } from '@openbms/storage';
import type { ServerContext } from './context.js';

export type Limits = Record<FleetLimitKey, number>;

/** The audit action (and the acting name) of a change of the configured limits. */
export const LIMITS_ACTION = 'fleet.limits';
export const LIMITS_ACTOR = 'config';

/** Organisations with a request bucket kept in memory before full (idle) ones are dropped. */
const MAX_BUCKETS = 50_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * The limits and the request allowance of every organisation. The allowance is a token
 * bucket per organisation (hand-written: @fastify/rate-limit is not a dependency, and it keys
 * requests before our principal is resolved; a bucket is ten lines): it holds a minute's
 * requests and refills continuously, so a burst of a minute's worth passes and then the pace
 * is the limit's.
 */
export class OrgLimits {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly defaults: Limits,
    /** An organisation's own limits by its id (keys left out: the defaults). */
    private readonly own: ReadonlyMap<string, Partial<Limits>>,
    private readonly clock: () => number,
  ) {}

  /** Every limit of an organisation. */
  of(orgId: string): Limits {
    return { ...this.defaults, ...this.own.get(orgId) };
  }

  /** Counts one API request of an account of `orgId`; RATE_LIMITED when its minute is used up. */
  takeRequest(orgId: string): void {
    const perMinute = this.of(orgId).requests_per_minute;
    const now = this.clock();
    let b = this.buckets.get(orgId);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.prune(now);
      b = { tokens: perMinute, at: now };
      this.buckets.set(orgId, b);
    }
    const perMs = perMinute / 60_000;
    b.tokens = Math.min(perMinute, b.tokens + Math.max(0, now - b.at) * perMs);
    b.at = Math.max(b.at, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return;
    }
    const wait = Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
    throw new BmsError(
      'RATE_LIMITED',
      `the organisation's accounts made more than its ${perMinute} API requests per minute (fleet.limits.requests_per_minute); try again in ${wait} s`,
      { limit: 'requests_per_minute', retry_after_s: wait },
    );
  }

  /**
   * Throws LIMIT_REACHED unless `orgId`, holding `have` users or devices, may take `adding`
   * more. Checked before the insert: requests racing on several nodes may pass it together by
   * a few, as the per-node request allowance may.
   */
  requireRoom(orgId: string, key: 'users' | 'devices', have: number, adding = 1): void {
    const max = this.of(orgId)[key];
    if (have + adding <= max) return;
    const what = key === 'users' ? 'members' : 'devices';
    throw new BmsError(
      'LIMIT_REACHED',
      `organisation "${orgId}" has ${have} ${what}; its limit is ${max} (fleet.limits.${key})${adding > 1 ? `, and ${adding} more were asked for` : ''}`,
      { limit: key },
    );
  }

  /** Drops the buckets that are full again (their organisation idle for a minute). */
  private prune(now: number): void {
    for (const [id, b] of this.buckets) {
      const limit = this.of(id).requests_per_minute;
      if (b.tokens + ((now - b.at) * limit) / 60_000 >= limit) this.buckets.delete(id);
    }
  }
}

/** The configured limits as audited: the defaults and each organisation's own, by code. */
function auditedView(cfg: FleetLimitsConfig): unknown {
  const orgs = Object.fromEntries(
    Object.entries(cfg.orgs)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([code, l]) => [code, l]),
  );
  return {
    users: cfg.users,
    devices: cfg.devices,
    requests_per_minute: cfg.requests_per_minute,
    orgs,
  };
}

/**
 * Builds the limits from the config: each organisation code is looked up (an unknown code is
 * CONFIG_INVALID naming `fleet.limits.orgs.CODE`, so a typo never leaves a tenant unlimited by
 * surprise).
 */
export async function resolveLimits(
  cfg: FleetLimitsConfig | undefined,
  orgs: OrgStore | undefined,
  clock: () => number,
): Promise<OrgLimits> {
  const c = cfg ?? { ...DEFAULT_FLEET_LIMITS, orgs: {} };
  const own = new Map<string, Partial<Limits>>();
  for (const [code, l] of Object.entries(c.orgs)) {
    const org = orgs ? await orgs.byCode(code) : undefined;
    if (!org)
      throw new BmsError(
        'CONFIG_INVALID',
        `fleet.limits.orgs.${code}: no organisation has the code ${code}`,
        { field: `fleet.limits.orgs.${code}` },
      );
    own.set(org.id, l);
  }
  return new OrgLimits(
    { users: c.users, devices: c.devices, requests_per_minute: c.requests_per_minute },
    own,
    clock,
  );
}

/**
 * Audits a change of the configured limits: compares them with the last `fleet.limits` entry
 * of the server's organisation and appends one (old and new) when they differ, so the log
 * says when each organisation's limits changed. The first start audits the limits it starts
 * with. Returns whether an entry was written.
 */
export async function auditLimits(
  audit: AuditStore,
  origin: Origin,
  cfg: FleetLimitsConfig | undefined,
  at: number,
): Promise<boolean> {
  const now = auditedView(cfg ?? { ...DEFAULT_FLEET_LIMITS, orgs: {} });
  const entries = await audit.list({ orgIds: [origin.orgId] }, { user: LIMITS_ACTOR, limit: 500 });
  const last = entries.find((e) => e.action === LIMITS_ACTION);
  if (last && JSON.stringify(last.new) === JSON.stringify(now)) return false;
  await audit.append(origin, {
    at,
    user: LIMITS_ACTOR,
    action: LIMITS_ACTION,
    ...(last ? { old: last.new } : {}),
    new: now,
    result: 'ok',
  });
  return true;
}

/**
 * LIMIT_REACHED when the organisation has its `fleet.limits.users` members already (its
 * accounts, where the store has no organisations).
 */
export async function requireUserRoom(ctx: ServerContext, orgId: string): Promise<void> {
  const have = ctx.orgs
    ? (await ctx.orgs.members([orgId], orgId)).length
    : await ctx.users.count({ orgIds: [orgId] });
  ctx.limits.requireRoom(orgId, 'users', have);
}
