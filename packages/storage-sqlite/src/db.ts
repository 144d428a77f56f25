/**
 * Opening the SQLite database: WAL journal (readers never block the writer, a crash loses at
 * most the transaction in flight), foreign keys on, and the migrations of every module
 * applied in order inside one transaction each. SQLite errors become coded BmsErrors.
 */
import Database from 'better-sqlite3';
import { BmsError, isBmsError } from '@openbms/core';

export type Db = Database.Database;

/** A schema step: `id` is unique and ordered within its module (e.g. `telemetry/001`). */
export interface Migration {
  id: string;
  up(db: Db): void;
}

/** Translates SQLite / file-system failures into the storage error codes. */
export function storageError(e: unknown, what: string): BmsError {
  if (isBmsError(e)) return e;
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  const msg = `${what}: ${err.message ?? String(e)}`;
  if (code === 'SQLITE_FULL' || /ENOSPC|disk is full|database or disk is full/i.test(msg)) {
    return new BmsError('STORAGE_FULL', msg);
  }
  if (
    code === 'SQLITE_READONLY' ||
    code.startsWith('SQLITE_READONLY') ||
    /EROFS|EACCES|readonly|read-only/i.test(msg)
  ) {
    return new BmsError('STORAGE_READ_ONLY', msg);
  }
  return new BmsError('STORAGE_FAILED', msg);
}

export function openDb(path: string): Db {
  try {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 2000');
    return db;
  } catch (e) {
    throw storageError(e, `cannot open database ${path}`);
  }
}

export function migrate(db: Db, migrations: readonly Migration[]): void {
  try {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)',
    );
    const done = new Set(
      (db.prepare('SELECT id FROM schema_migrations').all() as { id: string }[]).map((r) => r.id),
    );
    const mark = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      db.transaction(() => {
        m.up(db);
        mark.run(m.id, Date.now());
      })();
    }
  } catch (e) {
    throw storageError(e, 'cannot migrate the database');
  }
}
