/**
 * What the telemetry modules share: the connection, cached prepared statements, the interned
 * pack ids and layouts (read-through caches, dropped when a transaction fails so no id of a
 * rolled-back row survives), the rollup watermarks, and the error mapping of every call.
 */
import { BmsError } from '@openbms/core';
import type { Origin } from '@openbms/storage';
import { storageError, type Db } from './db.js';
import { ByteReader, ByteWriter } from './telemetry-codec.js';
import { layoutFields } from './telemetry-fields.js';
import { Layout } from './telemetry-rows.js';
import { ROLLUP_TIERS, STEP, type RollupTier } from './telemetry-schema.js';

export type Watermarks = Record<RollupTier, number>;

/** A checked scope that names a gateway (queries naming a pack). */
export interface GatewayScope {
  orgIds: readonly string[];
  gatewayId: string;
}

/** The part of a better-sqlite3 statement used here (kept local: no library types leak). */
export interface Statement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  raw(on?: boolean): Statement;
}

export class TelemetryCtx {
  readonly w = new ByteWriter();
  readonly r = new ByteReader();
  private readonly stmts = new Map<string, Statement>();
  /** `<gateway>\0<pack name>` -> the interned id and the organisation. */
  private packIds = new Map<string, { id: number; orgId: string }>();
  private layoutsById = new Map<number, Layout>();
  private layoutsByKey = new Map<string, Layout>();
  private layoutsByFields = new Map<string, Layout>();
  private marks = new Map<number, Watermarks | null>();

  /**
   * `cacheMarks: false` for a reader connection: another connection folds rollups, so the
   * watermarks are read at each query instead of being kept.
   */
  constructor(
    readonly db: Db,
    private readonly cacheMarks = true,
  ) {}

  stmt(sql: string): Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql) as Statement;
      this.stmts.set(sql, s);
    }
    return s;
  }

  /**
   * The rows of a pack in [from, to) of a tier table, ordered by time, as their times and
   * one buffer of their blobs end to end (one Buffer instead of one per row: several times
   * faster for thousands of rows). Rows are self-delimiting; the reader is set on the buffer.
   * Both lists come from one aggregate pass, so they stay aligned whatever order SQLite feeds
   * them in; should that order ever not be by time, the documented ORDER BY form is used.
   */
  scan(table: string, pack: number, from: number, to: number): number[] {
    const where = `FROM ${table} WHERE pack = ? AND ts >= ? AND ts < ?`;
    const fast = this.stmt(
      `SELECT group_concat(ts) AS ts, CAST(group_concat(data, '') AS BLOB) AS data FROM (SELECT ts, data ${where} ORDER BY ts)`,
    );
    const row = fast.get(pack, from, to) as { ts: string | null; data: Buffer | null };
    let ts = row.ts === null ? [] : row.ts.split(',').map(Number);
    let blob = row.data;
    if (!ts.every((t, i) => i === 0 || t > ts[i - 1]!)) {
      const sorted = this.stmt(
        `SELECT group_concat(ts, ',' ORDER BY ts) AS ts, CAST(group_concat(data, '' ORDER BY ts) AS BLOB) AS data ${where}`,
      ).get(pack, from, to) as { ts: string; data: Buffer };
      ts = sorted.ts.split(',').map(Number);
      blob = sorted.data;
    }
    this.r.reset(blob ?? new Uint8Array(0));
    return ts;
  }

  /**
   * At most `limit` rows of a pack with `from <= ts <= to`, in time order, as `scan` gives
   * them (times returned, blobs end to end in the reader): one chunk of an export.
   */
  scanLimit(table: string, pack: number, from: number, to: number, limit: number): number[] {
    const where = `FROM ${table} WHERE pack = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?`;
    const row = this.stmt(
      `SELECT group_concat(ts) AS ts, CAST(group_concat(data, '') AS BLOB) AS data FROM (SELECT ts, data ${where})`,
    ).get(pack, from, to, limit) as { ts: string | null; data: Buffer | null };
    let ts = row.ts === null ? [] : row.ts.split(',').map(Number);
    let blob = row.data;
    if (!ts.every((t, i) => i === 0 || t > ts[i - 1]!)) {
      // Should the aggregate ever see the rows out of order: fetch them one by one instead.
      const rows = this.stmt(`SELECT ts, data ${where}`).all(pack, from, to, limit) as {
        ts: number;
        data: Buffer;
      }[];
      ts = rows.map((r) => r.ts);
      blob = Buffer.concat(rows.map((r) => r.data));
    }
    this.r.reset(blob ?? new Uint8Array(0));
    return ts;
  }

  /** Runs `fn` in one transaction; any failure becomes a STORAGE_* (or its own) BmsError. */
  write<T>(what: string, fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (e) {
      this.forget();
      throw storageError(e, what);
    }
  }

  read<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw storageError(e, what);
    }
  }

  private forget(): void {
    this.packIds = new Map();
    this.layoutsById = new Map();
    this.layoutsByKey = new Map();
    this.layoutsByFields = new Map();
    this.marks = new Map();
  }

  /** A pack of a gateway: its interned id and organisation, or undefined when never written. */
  pack(gatewayId: string, name: string): { id: number; orgId: string } | undefined {
    const key = `${gatewayId}\u0000${name}`;
    const cached = this.packIds.get(key);
    if (cached) return cached;
    const row = this.stmt(
      'SELECT id, org_id AS orgId FROM telemetry_packs WHERE gateway_id = ? AND name = ?',
    ).get(gatewayId, name) as { id: number; orgId: string } | undefined;
    if (row) this.packIds.set(key, row);
    return row;
  }

  /** The interned id of a pack a write names, inserted for its origin when new (inside a write transaction). */
  packFor(origin: Origin, name: string): number {
    const p = this.pack(origin.gatewayId, name);
    if (p) return p.id;
    const id = Number(
      this.stmt('INSERT INTO telemetry_packs (org_id, gateway_id, name) VALUES (?, ?, ?)').run(
        origin.orgId,
        origin.gatewayId,
        name,
      ).lastInsertRowid,
    );
    this.packIds.set(`${origin.gatewayId}\u0000${name}`, { id, orgId: origin.orgId });
    return id;
  }

  /** A pack as a query of `scope` sees it: undefined when unknown or of an organisation outside it. */
  scopedPack(scope: GatewayScope, name: string): number | undefined {
    const p = this.pack(scope.gatewayId, name);
    return p && scope.orgIds.includes(p.orgId) ? p.id : undefined;
  }

  packs(): { id: number; name: string }[] {
    return this.stmt('SELECT id, name FROM telemetry_packs ORDER BY id').all() as {
      id: number;
      name: string;
    }[];
  }

  layout(id: number): Layout {
    let l = this.layoutsById.get(id);
    if (l) return l;
    const row = this.stmt('SELECT fields FROM telemetry_layouts WHERE id = ?').get(id) as
      { fields: string } | undefined;
    if (!row) throw new BmsError('STORAGE_FAILED', `corrupt telemetry row: unknown layout ${id}`);
    l = new Layout(id, JSON.parse(row.fields) as string[]);
    this.layoutsById.set(id, l);
    return l;
  }

  /** The layout with exactly these series (in this order), created if new. */
  layoutFor(fields: string[]): Layout {
    const json = JSON.stringify(fields);
    let l = this.layoutsByFields.get(json);
    if (l) return l;
    const row = this.stmt('SELECT id FROM telemetry_layouts WHERE fields = ?').get(json) as
      { id: number } | undefined;
    const id = row
      ? row.id
      : Number(
          this.stmt('INSERT INTO telemetry_layouts (fields) VALUES (?)').run(json).lastInsertRowid,
        );
    l = this.layout(id);
    this.layoutsByFields.set(json, l);
    return l;
  }

  /** The layout of a sample, by the cheap key `extract` returns. */
  layoutForKey(key: string, present: readonly boolean[]): Layout {
    let l = this.layoutsByKey.get(key);
    if (!l) {
      l = this.layoutFor(layoutFields(present, key));
      this.layoutsByKey.set(key, l);
    }
    return l;
  }

  /** Up to where each rollup tier of a pack is folded; null before the first rollup. */
  watermarks(pack: number): Watermarks | null {
    let m = this.cacheMarks ? this.marks.get(pack) : undefined;
    if (m !== undefined) return m;
    const rows = this.stmt(
      'SELECT tier, done_until FROM telemetry_rollup_state WHERE pack = ?',
    ).all(pack) as {
      tier: RollupTier;
      done_until: number;
    }[];
    if (rows.length === 0) m = null;
    else {
      m = { '1m': -Infinity, '15m': -Infinity, '1h': -Infinity };
      for (const r of rows) m[r.tier] = r.done_until;
    }
    this.marks.set(pack, m);
    return m;
  }

  setWatermark(pack: number, tier: RollupTier, until: number): void {
    this.stmt(
      'INSERT OR REPLACE INTO telemetry_rollup_state (pack, tier, done_until) VALUES (?, ?, ?)',
    ).run(pack, tier, until);
    const m = this.watermarks(pack) ?? { '1m': -Infinity, '15m': -Infinity, '1h': -Infinity };
    m[tier] = until;
    this.marks.set(pack, m);
  }

  /** A sample at `ts` arrived behind the watermarks: fold its buckets again. */
  lowerWatermarks(pack: number, ts: number): void {
    const m = this.watermarks(pack);
    if (!m) return;
    for (const t of ROLLUP_TIERS) {
      if (ts < m[t]) this.setWatermark(pack, t, Math.floor(ts / STEP[t]) * STEP[t]);
    }
  }
}
