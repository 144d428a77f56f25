/**
 * Opening the SQLite database: WAL journal (readers never block the writer, a crash loses at
 * most the transaction in flight), foreign keys on, and the migrations of every module
 * applied in order inside one transaction each. SQLite errors become coded BmsErrors.
 */
import Database from 'better-sqlite3';
import { BmsError, isBmsError } from '@openbms/core';
import type { Origin } from '@openbms/storage';

export type Db = Database.Database;

/** What a schema step may need besides the connection: whose records the file holds, and ids. */
export interface MigrationContext {
  /** The organisation and gateway existing rows are given (the file's identity). */
  identity: Origin;
  /** A new ULID whose time part is `at` (ms), monotonic within the migration. */
  newId(at: number): string;
}

/** A schema step: `id` is unique and ordered within its module (e.g. `telemetry/001`). */
export interface Migration {
  id: string;
  up(db: Db, ctx: MigrationContext): void;
}

/** Translates SQLite / file-system failures into the storage error codes. */
export function storageError(e: unknown, what: string): BmsError {
  if (isBmsError(e)) return e;
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  const msg = `${what}: ${err.message ?? String(e)}`;
  // The driver's code (SQLITE_IOERR_SHMSIZE...) goes along: the storage facade needs it to
  // tell a full disk behind an I/O error from other failures.
  const details = code ? { cause: code } : undefined;
  if (code === 'SQLITE_FULL' || /ENOSPC|disk is full|database or disk is full/i.test(msg)) {
    return new BmsError('STORAGE_FULL', msg, details);
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new BmsError('STORAGE_CORRUPT', msg, details);
  }
  if (
    code === 'SQLITE_READONLY' ||
    code.startsWith('SQLITE_READONLY') ||
    /EROFS|EACCES|readonly|read-only/i.test(msg)
  ) {
    return new BmsError('STORAGE_READ_ONLY', msg, details);
  }
  return new BmsError('STORAGE_FAILED', msg, details);
}

/** The driver code behind a storage error (`SQLITE_IOERR_WRITE`...), if any. */
export function causeOf(e: unknown): string {
  const d = isBmsError(e) ? e.details?.['cause'] : (e as { code?: unknown } | null)?.code;
  return typeof d === 'string' ? d : '';
}

/**
 * Opens the file in WAL mode. `exclusive` takes the file for this connection alone: SQLite
 * then keeps the WAL index in memory instead of the `-shm` file, which is how an existing
 * database is still read when the disk is too full to grow that file.
 */
export function openDb(path: string, opts: { exclusive?: boolean } = {}): Db {
  let db: Db | undefined;
  try {
    db = new Database(path);
    if (opts.exclusive) db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 2000');
    return db;
  } catch (e) {
    try {
      db?.close();
    } catch {
      // closing a half-opened handle: nothing more to do
    }
    throw storageError(e, `cannot open database ${path}`);
  }
}

/** Opens a file read-only (a database to merge from; it is never changed). */
export function openReadOnly(path: string): Db {
  try {
    return new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw storageError(e, `cannot open ${path}`);
  }
}

/** Applies the migrations not applied yet, in order, each in its own transaction. */
export function migrate(db: Db, migrations: readonly Migration[], ctx: MigrationContext): void {
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
        m.up(db, ctx);
        mark.run(m.id, Date.now());
      })();
    }
  } catch (e) {
    throw storageError(e, 'cannot migrate the database');
  }
}
