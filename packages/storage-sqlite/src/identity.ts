/**
 * Whose records a database holds: one organisation id and one gateway id (ULIDs), made once
 * and kept (ADR: identity).
 *
 * - In the database, table `meta` (`org_id`, `gateway_id`): every file says whose records
 *   it holds, and the migration that gave existing rows their organisation and gateway
 *   columns used these ids.
 * - In the data directory, `identity.json` (0600): so that a fresh database (the first one,
 *   or the one that replaces a damaged file) gets the same ids as the one before.
 *
 * At open, a database that has ids keeps them (they are what its rows carry) and the file
 * in the data directory is made to agree; a database without ids takes the data
 * directory's; with neither, new ids are made and written to both.
 */
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BmsError } from '@openbms/core';
import { isId, newId, type Origin } from '@openbms/storage';
import type { Db, Migration } from './db.js';

export const IDENTITY_FILE = 'identity.json';

export const IDENTITY_MIGRATIONS: Migration[] = [
  {
    id: 'identity/001',
    up(db) {
      db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
    },
  },
];

/** New ids for a gateway that has none yet. */
export function newIdentity(): Origin {
  return { orgId: newId(), gatewayId: newId() };
}

function valid(o: unknown): o is Origin {
  const x = o as Partial<Origin> | null;
  return typeof x === 'object' && x !== null && isId(x.orgId) && isId(x.gatewayId);
}

/** The ids in `<dataDir>/identity.json`; undefined when there is no file; STORAGE_FAILED when it is unreadable. */
export function readIdentityFile(dataDir: string): Origin | undefined {
  const path = join(dataDir, IDENTITY_FILE);
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BmsError('STORAGE_FAILED', `cannot read ${path}: ${(e as Error).message}`);
  }
  const o = parsed as { org_id?: unknown; gateway_id?: unknown } | null;
  const id = { orgId: o?.org_id, gatewayId: o?.gateway_id };
  if (!valid(id)) {
    throw new BmsError(
      'STORAGE_FAILED',
      `${path} must hold {"org_id": <ULID>, "gateway_id": <ULID>}; move it away to make new ids (the database's own are used when it has them)`,
    );
  }
  return id;
}

/** Writes `<dataDir>/identity.json` (0600), replacing it whole (written aside, then renamed). */
export function writeIdentityFile(dataDir: string, id: Origin): void {
  const path = join(dataDir, IDENTITY_FILE);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ org_id: id.orgId, gateway_id: id.gatewayId })}\n`, {
    mode: 0o600,
  });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** The ids a database holds in `meta`, if any. */
export function dbIdentity(db: Db): Origin | undefined {
  const rows = db
    .prepare("SELECT key, value FROM meta WHERE key IN ('org_id', 'gateway_id')")
    .all() as {
    key: string;
    value: string;
  }[];
  const get = (k: string): string | undefined => rows.find((r) => r.key === k)?.value;
  const id = { orgId: get('org_id'), gatewayId: get('gateway_id') };
  return valid(id) ? id : undefined;
}

export function setDbIdentity(db: Db, id: Origin): void {
  const put = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  db.transaction(() => {
    put.run('org_id', id.orgId);
    put.run('gateway_id', id.gatewayId);
  })();
}

/** A counter kept in `meta` (the next local number of a table, so a fresh file never reuses one). */
export function metaNumber(db: Db, key: string): number {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
    { value: string } | undefined;
  const n = row ? Number(row.value) : 0;
  return Number.isSafeInteger(n) ? n : 0;
}

export function setMetaNumber(db: Db, key: string, n: number): void {
  db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, String(n));
}
