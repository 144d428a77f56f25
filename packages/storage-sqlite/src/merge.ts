/**
 * Merging another OpenBMS database into the open one: the way back after a damaged file was
 * set aside (README.md, "Damaged database"). The source may be the damaged file itself or a
 * copy recovered with `sqlite3 .recover`; it is opened read-only and never changed.
 *
 * Reading salvages what the B-trees still reach: each table is read in key order, and when a
 * damaged page stops the read, the next readable key is found by probing further and further
 * ahead (doubling the step), so only the key range on the damaged pages is lost; those ranges
 * are reported. Raw samples are decoded with the source's layouts and written through the
 * telemetry store (interning, day counters, latest snapshot and rollup watermarks as for any
 * late sample, an existing sample is kept); rollup rows older than the source's raw samples
 * (raw past its retention) are copied with their pack and layout ids mapped; alarm events
 * and audit entries keep their ids (a fresh file's ids continue above the damaged file's),
 * users and tokens are added when absent, organisations and memberships too, and an
 * organisation's point groups when the target has none of its own (accounts of the
 * target's organisation without a membership get one with their role mapped, as records/006
 * gives them). Nothing present in the target is overwritten.
 *
 * Run it with OpenBMS stopped: the gateway caches rollup watermarks and would not refold.
 */
import { BmsError } from '@openbms/core';
import { idFactory, type Origin, type Sample } from '@openbms/storage';
import type { Db } from './db.js';
import { HOME_SQL, orgRoleOf } from './records-orgs.js';
import { ByteReader, ByteWriter } from './telemetry-codec.js';
import { Layout, decodeRaw } from './telemetry-rows.js';
import { ROLLUP_TIERS, STEP, TABLE } from './telemetry-schema.js';

export interface MergeReport {
  samples: number;
  rollups: number;
  alarms: number;
  audit: number;
  users: number;
  tokens: number;
  /** What could not be read or written: keys `k` with `after < k < upTo` (no upTo: to the end). */
  unreadable: Unreadable[];
}

export interface Unreadable {
  table: string;
  /** The pack, for telemetry tables (keys are its sample times). */
  pack?: string;
  after: number;
  upTo?: number;
  reason: string;
}

type Row = Record<string, unknown>;
const BATCH = 2000;
const MAX_PROBE = 2 ** 52;

function isCorrupt(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return (
    typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
  );
}

/**
 * Rows of `sql` (which must select `k` first and take `?` as "key greater than", ordered by
 * `k`), in key order, stepping over damaged pages. `onSkip(from, to)` reports a gap.
 */
function* salvage(
  src: Db,
  sql: string,
  args: unknown[],
  onSkip: (from: number, to: number | undefined) => void,
): Generator<Row> {
  const page = src.prepare(`${sql} LIMIT ${BATCH}`);
  const first = src.prepare(`SELECT k FROM (${sql}) LIMIT 1`);
  let after = -Infinity;
  /** The key the read last resumed at: if nothing past it could be read, it is skipped. */
  let resumedAt = -Infinity;
  for (;;) {
    let n = 0;
    try {
      const from = Number.isFinite(after) ? after : Number.MIN_SAFE_INTEGER;
      for (const row of page.iterate(...args, from) as Iterable<Row>) {
        n++;
        after = row['k'] as number;
        yield row;
      }
      if (n < BATCH) return;
      continue;
    } catch (e) {
      if (!isCorrupt(e)) throw e;
    }
    // Damage after `after`: probe ahead for the next key that can be reached.
    const start = Math.max(Number.isFinite(after) ? after : 0, resumedAt);
    let resumed = false;
    for (let step = 1; step < MAX_PROBE; step *= 2) {
      try {
        const r = first.get(...args, start + step) as { k: number } | undefined;
        onSkip(start, r?.k);
        if (!r) return;
        after = r.k - 1;
        resumedAt = r.k;
        resumed = true;
        break;
      } catch (e) {
        if (!isCorrupt(e)) throw e;
      }
    }
    if (!resumed) {
      onSkip(start, undefined);
      return;
    }
  }
}

/** The rows of a small table (packs, layouts), or none when it cannot be read. */
function all(src: Db, sql: string, unreadable: Unreadable[], table: string): Row[] {
  try {
    return src.prepare(sql).all() as Row[];
  } catch (e) {
    if (!isCorrupt(e)) throw e;
    unreadable.push({ table, after: -Infinity, reason: (e as Error).message });
    return [];
  }
}

function hasTable(db: Db, name: string): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(name) !==
    undefined
  );
}

/** A snapshot with the values of a raw row (`cell_mv.3` back into `cell_mv[3]`). */
function readingOf(layout: Layout, values: readonly number[]): Sample['snapshot'] {
  const out: Record<string, unknown> = {};
  layout.fields.forEach((f, i) => {
    const dot = f.indexOf('.');
    if (dot < 0) out[f] = values[i];
    else {
      const key = f.slice(0, dot);
      const arr = (out[key] ??= []) as number[];
      arr[Number(f.slice(dot + 1))] = values[i]!;
    }
  });
  return out as Sample['snapshot'];
}

/** Where merged samples go: the storage's telemetry (day counters, latest snapshot, watermarks). */
export interface SampleSink {
  writeSamples(origin: Origin, samples: readonly Sample[]): void;
}

function columns(db: Db, table: string): Set<string> {
  return new Set(
    (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name),
  );
}

/**
 * A row of a file written before records/004 (no organisation, integer ids), as the current
 * schema holds it: the target's identity, a ULID from the row's time and the old id as its
 * local number (what records/004 does to a file it migrates); a token finds its user by name.
 */
function legacyRow(
  db: Db,
  table: string,
  row: Row,
  identity: Origin,
  newId: (at: number) => string,
  spare: () => number,
): Row | undefined {
  const ids = { org_id: identity.orgId, gateway_id: identity.gatewayId };
  switch (table) {
    case 'users':
      return { ...row, ...ids, id: newId(row['created_at'] as number) };
    case 'tokens': {
      const u = db
        .prepare('SELECT id FROM users WHERE org_id = ? AND username = ?')
        .get(identity.orgId, row['username']) as { id: string } | undefined;
      return u ? { ...row, ...ids, user_id: u.id } : undefined;
    }
    case 'alarm_events':
    case 'audit_log': {
      const at = (table === 'alarm_events' ? row['raised_at'] : row['at']) as number;
      // Merged before (its number may have moved, see below): nothing to add.
      const same =
        table === 'alarm_events'
          ? 'SELECT 1 FROM alarm_events WHERE gateway_id = ? AND pack_id = ? AND code = ? AND raised_at = ? AND origin = ? AND message = ?'
          : 'SELECT 1 FROM audit_log WHERE gateway_id = ? AND action = ? AND user = ? AND at = ? AND result = ? AND new_json IS ?';
      const key =
        table === 'alarm_events'
          ? [row['pack_id'], row['code'], at, row['origin'], row['message']]
          : [row['action'], row['user'], at, row['result'], row['new_json']];
      if (db.prepare(same).get(identity.gatewayId, ...key) !== undefined) return undefined;
      // Its old number, unless a newer event has it (a fresh file numbers from 1 again): then
      // one above every number of both files.
      const taken =
        db
          .prepare(`SELECT 1 FROM ${table} WHERE gateway_id = ? AND local_id = ?`)
          .get(identity.gatewayId, row['id']) !== undefined;
      const localId = taken ? spare() : row['id'];
      return { ...row, ...ids, local_id: localId, id: newId(at) };
    }
  }
  return row;
}

/**
 * Merges the database `src` into the one of connection `db`, samples through `telemetry`.
 * `identity` is the target's: rows of a file from before the organisation columns get it.
 */
export function mergeDatabase(
  db: Db,
  telemetry: SampleSink,
  src: Db,
  identity: Origin,
): MergeReport {
  const newId = idFactory();
  const report: MergeReport = {
    samples: 0,
    rollups: 0,
    alarms: 0,
    audit: 0,
    users: 0,
    tokens: 0,
    unreadable: [],
  };
  const gap = (table: string, pack?: string) => (after: number, upTo: number | undefined) =>
    report.unreadable.push({
      table,
      ...(pack !== undefined ? { pack } : {}),
      after,
      ...(upTo !== undefined ? { upTo } : {}),
      reason: 'damaged pages',
    });
  const one = (table: string, key: number, reason: string, pack?: string): void => {
    report.unreadable.push({
      table,
      ...(pack !== undefined ? { pack } : {}),
      after: key - 1,
      upTo: key + 1,
      reason,
    });
  };

  // Records first: the accounts a login needs, then events (ids kept, present ones kept).
  const copyRows = (table: string, count: 'users' | 'tokens' | 'alarms' | 'audit'): void => {
    if (!hasTable(src, table) || !hasTable(db, table)) return;
    const cols = columns(db, table);
    const legacy = !columns(src, table).has('org_id');
    // Numbers for old events whose number a newer one has: above every number of both files.
    let next = 0;
    const spare = (): number => {
      if (next === 0) {
        const top = (d: Db, sql: string, ...args: unknown[]): number => {
          try {
            return (d.prepare(sql).get(...args) as { n: number | null }).n ?? 0;
          } catch {
            return 0; // unreadable (damaged) in the old file: the target's numbers still count
          }
        };
        next =
          Math.max(
            top(src, `SELECT max(id) AS n FROM ${table}`),
            top(
              db,
              `SELECT max(local_id) AS n FROM ${table} WHERE gateway_id = ?`,
              identity.gatewayId,
            ),
          ) + 1;
      }
      return next++;
    };
    const rows = salvage(
      src,
      `SELECT rowid AS k, * FROM ${table} WHERE rowid > ? ORDER BY rowid`,
      [],
      gap(table),
    );
    let batch: Row[] = [];
    const write = (): void => {
      db.transaction(() => {
        for (const stored of batch) {
          const row = legacy ? legacyRow(db, table, stored, identity, newId, spare) : stored;
          if (!row) {
            // A token whose user is not there; an event or entry merged before is no gap.
            if (table === 'tokens')
              one(table, stored['k'] as number, 'refused: its user is not there');
            continue;
          }
          const names = Object.keys(row).filter((c) => cols.has(c));
          try {
            report[count] += db
              .prepare(
                `INSERT OR IGNORE INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`,
              )
              .run(...names.map((c) => row[c])).changes;
          } catch (e) {
            // A token of a user that is not there (foreign key), a value the schema refuses.
            if (!String((e as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT')) throw e;
            one(table, row['k'] as number, `refused: ${(e as Error).message}`);
          }
        }
      })();
      batch = [];
    };
    for (const row of rows) {
      batch.push(row);
      if (batch.length >= BATCH) write();
    }
    if (batch.length) write();
  };
  // Organisations and memberships (WITHOUT ROWID tables: read whole, they are small).
  const copyPlain = (table: string, order: string): void => {
    if (!hasTable(src, table) || !hasTable(db, table)) return;
    const cols = columns(db, table);
    const rows = all(src, `SELECT * FROM ${table} ORDER BY ${order}`, report.unreadable, table);
    db.transaction(() => {
      for (const row of rows) {
        const names = Object.keys(row).filter((c) => cols.has(c));
        try {
          db.prepare(
            `INSERT OR IGNORE INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`,
          ).run(...names.map((c) => row[c]));
        } catch (e) {
          if (!String((e as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT')) throw e;
          report.unreadable.push({
            table,
            after: -Infinity,
            reason: `refused: ${(e as Error).message}`,
          });
        }
      }
    })();
  };
  copyPlain('orgs', 'depth');
  copyPlain('org_closure', 'depth');
  copyRows('users', 'users');
  copyPlain('memberships', 'created_at');
  // Point groups: an organisation's come whole, and only when the target has none of its own
  // (two halves of two saves would not make one set of groups).
  if (hasTable(src, 'point_groups') && hasTable(db, 'point_groups')) {
    const rows = all(
      src,
      'SELECT * FROM point_groups ORDER BY org_id, position',
      report.unreadable,
      'point_groups',
    );
    const has = db.prepare('SELECT 1 FROM point_groups WHERE org_id = ?');
    const own = new Set(rows.map((r) => r['org_id']).filter((id) => has.get(id) !== undefined));
    const insert = db.prepare(
      'INSERT INTO point_groups (org_id, position, name, kind, roles, points, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    db.transaction(() => {
      for (const r of rows) {
        if (own.has(r['org_id'])) continue;
        insert.run(
          r['org_id'],
          r['position'],
          r['name'],
          r['kind'],
          r['roles'],
          r['points'],
          r['updated_at'],
        );
      }
    })();
  }
  if (hasTable(db, 'memberships')) {
    const lacking = db
      .prepare(
        `SELECT id, role, created_at FROM users u WHERE org_id = ? AND NOT EXISTS
           (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.org_id = u.org_id)
         ORDER BY created_at, username`,
      )
      .all(identity.orgId) as {
      id: string;
      role: 'admin' | 'operator' | 'viewer';
      created_at: number;
    }[];
    const join = db.prepare(HOME_SQL.join);
    db.transaction(() => {
      for (const u of lacking)
        join.run({
          userId: u.id,
          orgId: identity.orgId,
          local: u.role,
          mapped: orgRoleOf(u.role),
          createdAt: u.created_at,
        });
    })();
  }
  copyRows('tokens', 'tokens');
  copyRows('alarm_events', 'alarms');
  copyRows('audit_log', 'audit');

  // Telemetry.
  if (!hasTable(src, 'telemetry_packs') || !hasTable(src, 'telemetry_layouts')) return report;
  const packs = all(src, 'SELECT * FROM telemetry_packs', report.unreadable, 'telemetry_packs');
  const layouts = new Map<number, Layout>();
  for (const r of all(
    src,
    'SELECT id, fields FROM telemetry_layouts',
    report.unreadable,
    'telemetry_layouts',
  )) {
    layouts.set(
      r['id'] as number,
      new Layout(r['id'] as number, JSON.parse(r['fields'] as string) as string[]),
    );
  }
  const layoutOf = (id: number): Layout => {
    const l = layouts.get(id);
    if (!l) throw new BmsError('STORAGE_CORRUPT', `raw row with unknown layout ${id}`);
    return l;
  };
  const reader = new ByteReader();
  const values: number[] = [];
  const firstRaw = new Map<string, number>();
  /** Whose a source pack is (a file from before the organisation columns: the target's). */
  const originOf = (p: Row): Origin =>
    typeof p['gateway_id'] === 'string' && typeof p['org_id'] === 'string'
      ? { orgId: p['org_id'], gatewayId: p['gateway_id'] }
      : identity;
  for (const p of packs) {
    const name = p['name'] as string;
    const origin = originOf(p);
    let batch: Sample[] = [];
    const rows = salvage(
      src,
      'SELECT ts AS k, data FROM telemetry_raw WHERE pack = ? AND ts > ? ORDER BY ts',
      [p['id']],
      gap('telemetry_raw', name),
    );
    for (const row of rows) {
      const ts = row['k'] as number;
      let layout: Layout;
      try {
        reader.reset(row['data'] as Uint8Array);
        values.length = 0;
        layout = decodeRaw(reader, layoutOf, values);
      } catch {
        one('telemetry_raw', ts, 'undecodable row', name);
        continue;
      }
      const key = `${origin.gatewayId}\u0000${name}`;
      if (!firstRaw.has(key)) firstRaw.set(key, ts);
      batch.push({ packId: name, ts, snapshot: readingOf(layout, values) });
      if (batch.length >= BATCH) {
        telemetry.writeSamples(origin, batch);
        report.samples += batch.length;
        batch = [];
      }
    }
    if (batch.length) {
      telemetry.writeSamples(origin, batch);
      report.samples += batch.length;
    }
  }

  // Rollups older than the source's raw samples (raw already past its retention there).
  const packId = (o: Origin, name: string): number => {
    db.prepare(
      'INSERT OR IGNORE INTO telemetry_packs (org_id, gateway_id, name) VALUES (?, ?, ?)',
    ).run(o.orgId, o.gatewayId, name);
    return (
      db
        .prepare('SELECT id FROM telemetry_packs WHERE gateway_id = ? AND name = ?')
        .get(o.gatewayId, name) as { id: number }
    ).id;
  };
  const layoutIds = new Map<number, number>();
  const layoutId = (old: number): number => {
    let id = layoutIds.get(old);
    if (id === undefined) {
      const fields = JSON.stringify(layoutOf(old).fields);
      db.prepare('INSERT OR IGNORE INTO telemetry_layouts (fields) VALUES (?)').run(fields);
      id = (
        db.prepare('SELECT id FROM telemetry_layouts WHERE fields = ?').get(fields) as {
          id: number;
        }
      ).id;
      layoutIds.set(old, id);
    }
    return id;
  };
  const w = new ByteWriter();
  for (const tier of ROLLUP_TIERS) {
    const table = TABLE[tier];
    if (!hasTable(src, table)) continue;
    for (const p of packs) {
      const name = p['name'] as string;
      const raw0 = firstRaw.get(`${originOf(p).gatewayId}\u0000${name}`);
      const until = raw0 === undefined ? Infinity : Math.floor(raw0 / STEP[tier]) * STEP[tier];
      const target = packId(originOf(p), name);
      const insert = db.prepare(`INSERT OR IGNORE INTO ${table} (pack, ts, data) VALUES (?, ?, ?)`);
      let pending: [number, Buffer][] = [];
      const write = (): void => {
        db.transaction(() => {
          for (const [ts, data] of pending) report.rollups += insert.run(target, ts, data).changes;
        })();
        pending = [];
      };
      const rows = salvage(
        src,
        `SELECT ts AS k, data FROM ${table} WHERE pack = ? AND ts > ? ORDER BY ts`,
        [p['id']],
        gap(table, name),
      );
      for (const row of rows) {
        const ts = row['k'] as number;
        if (ts >= until) break;
        const data = row['data'] as Uint8Array;
        try {
          reader.reset(data);
          const old = reader.varint();
          w.reset();
          w.varint(layoutId(old));
          pending.push([ts, Buffer.concat([w.bytes(), data.subarray(reader.pos)])]);
        } catch {
          one(table, ts, 'undecodable row', name);
          continue;
        }
        if (pending.length >= BATCH) write();
      }
      if (pending.length) write();
    }
  }
  return report;
}
