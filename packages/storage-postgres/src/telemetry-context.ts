/**
 * What the telemetry modules share: the pool, the interned packs and series numbers (kept in
 * memory once known: a pack never changes organisation, a series never changes number), and
 * the partitions known to exist.
 *
 * Partitions: each tier's table is split into ranges of `ts` of a fixed width (raw: a day,
 * 1 min: 30 days, 15 min: 360 days, 1 h: 3600 days), named `<table>_p<k>` for the range
 * [k * width, (k + 1) * width). `ensure` creates what a write needs, and the raw partition of
 * the day after the newest sample ahead of time, under an advisory lock so two processes
 * never race on one; retention drops whole partitions past the cutoff.
 */
import type { PoolClient } from 'pg';
import { BmsError } from '@openbms/core';
import type { Tier } from '@openbms/storage';
import type { PgDb } from './db.js';
import { pgError } from './errors.js';

export const MINUTE = 60_000;
export const DAY = 86_400_000;
export const STEP: Record<Tier, number> = {
  raw: 0,
  '1m': MINUTE,
  '15m': 15 * MINUTE,
  '1h': 60 * MINUTE,
};
export const ROLLUP_TIERS = ['1m', '15m', '1h'] as const;
export type RollupTier = (typeof ROLLUP_TIERS)[number];
export const TABLE: Record<Tier, string> = {
  raw: 'telemetry_raw',
  '1m': 'telemetry_1m',
  '15m': 'telemetry_15m',
  '1h': 'telemetry_1h',
};
export const WIDTH: Record<Tier, number> = {
  raw: DAY,
  '1m': 30 * DAY,
  '15m': 360 * DAY,
  '1h': 3600 * DAY,
};

/** The advisory lock key partition changes take (any constant). */
const PARTITION_LOCK = '7301857360001';

export interface Pack {
  id: number;
  orgId: string;
}

export class TelemetryCtx {
  private readonly packs = new Map<string, Pack>();
  private readonly series = new Map<string, number>();
  private names: string[] = [];
  private readonly parts = new Set<string>();

  constructor(readonly db: PgDb) {}

  /** The interned pack of a gateway (made when first written). */
  async packsFor(
    origin: { orgId: string; gatewayId: string },
    names: readonly string[],
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing: string[] = [];
    for (const n of names) {
      const p = this.packs.get(`${origin.gatewayId}\n${n}`);
      if (p && p.orgId === origin.orgId) out.set(n, p.id);
      else missing.push(n);
    }
    if (missing.length === 0) return out;
    await this.db.query(
      'cannot record packs',
      `INSERT INTO telemetry_packs (org_id, gateway_id, name) SELECT $1, $2, unnest($3::text[])
       ON CONFLICT (gateway_id, name) DO NOTHING`,
      [origin.orgId, origin.gatewayId, missing],
    );
    const rows = await this.db.query<{ id: number; org_id: string; name: string }>(
      'cannot read packs',
      'SELECT id, org_id, name FROM telemetry_packs WHERE gateway_id = $1 AND name = ANY($2::text[])',
      [origin.gatewayId, missing],
    );
    for (const r of rows) {
      this.packs.set(`${origin.gatewayId}\n${r.name}`, { id: r.id, orgId: r.org_id });
      // The same gateway id under another organisation: its samples are not this one's.
      if (r.org_id !== origin.orgId) {
        throw new BmsError(
          'REQUEST_INVALID',
          `gateway ${origin.gatewayId} belongs to another organisation`,
          { field: 'origin.orgId' },
        );
      }
      out.set(r.name, r.id);
    }
    return out;
  }

  /** A pack the scope may see, or undefined. */
  async scopedPack(
    scope: { orgIds: readonly string[]; gatewayId: string },
    name: string,
  ): Promise<number | undefined> {
    const key = `${scope.gatewayId}\n${name}`;
    let p = this.packs.get(key);
    if (!p) {
      const rows = await this.db.query<{ id: number; org_id: string }>(
        'cannot read packs',
        'SELECT id, org_id FROM telemetry_packs WHERE gateway_id = $1 AND name = $2',
        [scope.gatewayId, name],
      );
      if (rows.length === 0) return undefined;
      p = { id: rows[0]!.id, orgId: rows[0]!.org_id };
      this.packs.set(key, p);
    }
    return scope.orgIds.includes(p.orgId) ? p.id : undefined;
  }

  /** Every pack id (rollup and retention). */
  async allPacks(): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>(
      'cannot list packs',
      'SELECT id FROM telemetry_packs ORDER BY id',
    );
    return rows.map((r) => r.id);
  }

  /** Series numbers (1-based array positions) of these names, made when first met. */
  async seriesFor(names: Iterable<string>): Promise<Map<string, number>> {
    const missing = [...names].filter((n) => !this.series.has(n));
    if (missing.length > 0) {
      // In canonical order, so a pack's usual series sit together at the front of the array.
      await this.db.query(
        'cannot record series',
        `INSERT INTO telemetry_series (name) SELECT n FROM unnest($1::text[]) WITH ORDINALITY u(n, o)
         ORDER BY o ON CONFLICT (name) DO NOTHING`,
        [missing],
      );
      await this.loadSeries();
    }
    return this.series;
  }

  /** Number of a known series (undefined: never written). */
  async seriesNumber(name: string): Promise<number | undefined> {
    if (!this.series.has(name)) await this.loadSeries();
    return this.series.get(name);
  }

  /** Every series ever written, by number. */
  async seriesNames(): Promise<string[]> {
    await this.loadSeries();
    return this.names;
  }

  private async loadSeries(): Promise<void> {
    const rows = await this.db.query<{ id: number; name: string }>(
      'cannot read series',
      'SELECT id, name FROM telemetry_series ORDER BY id',
    );
    const names: string[] = [];
    for (const r of rows) {
      this.series.set(r.name, r.id);
      names[r.id] = r.name;
    }
    this.names = names;
  }

  // ---------------------------------------------------------------- partitions

  /** Makes sure the partitions of `tier` covering [from, to] exist (and, for raw, the next one). */
  async ensure(tier: Tier, from: number, to: number): Promise<void> {
    const w = WIDTH[tier];
    const k0 = Math.floor(from / w);
    const k1 = Math.floor(to / w) + (tier === 'raw' ? 1 : 0);
    const need: number[] = [];
    for (let k = k0; k <= k1; k++) if (!this.parts.has(`${tier}:${k}`)) need.push(k);
    if (need.length === 0) return;
    const c = await this.db.connect('cannot create telemetry partitions');
    let broken = false;
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      for (const k of need) {
        await c.query(
          `CREATE TABLE IF NOT EXISTS ${TABLE[tier]}_p${k} PARTITION OF ${TABLE[tier]} FOR VALUES FROM (${k * w}) TO (${(k + 1) * w})`,
        );
      }
      await c.query('COMMIT');
      for (const k of need) this.parts.add(`${tier}:${k}`);
    } catch (e) {
      broken = true;
      await c.query('ROLLBACK').catch(() => undefined);
      throw pgError(e, 'cannot create telemetry partitions');
    } finally {
      c.release(broken);
    }
  }

  /** Forgets what is known of partitions (another process may have dropped some). */
  forgetPartitions(): void {
    this.parts.clear();
  }

  /** Drops the partitions of `tier` wholly before `cutoff`; returns how many. */
  async dropBefore(c: PoolClient, tier: Tier, cutoff: number): Promise<number> {
    const w = WIDTH[tier];
    const rows = (
      await c.query<{ relname: string }>(
        `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = $1::regclass`,
        [TABLE[tier]],
      )
    ).rows;
    let n = 0;
    for (const { relname } of rows) {
      const m = /_p(-?\d+)$/.exec(relname);
      if (!m) continue;
      const k = Number(m[1]);
      if ((k + 1) * w > cutoff) continue;
      await c.query(`DROP TABLE ${relname}`);
      this.parts.delete(`${tier}:${k}`);
      n++;
    }
    return n;
  }
}
