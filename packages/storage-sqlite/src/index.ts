/**
 * SQLite storage adapter (the embedded default): one database file in the data directory.
 */
import { SqliteStorage, type SqliteStorageOptions } from './storage.js';

export { openDb, migrate, storageError, type Db, type Migration } from './db.js';
export { SqliteTelemetry } from './telemetry.js';
export { SqliteAlarms, SqliteAudit, SqliteUsers } from './records.js';
export { SqliteStorage, type SqliteStorageOptions } from './storage.js';
export { setAsideFiles } from './integrity.js';
export type { MergeReport, Unreadable } from './merge.js';

/**
 * Opens (creating if needed) `<dataDir>/openbms.sqlite`, or `:memory:` for tests. A full disk
 * or a damaged file does not stop it: see `SqliteStorage` and README.md. The data directory
 * is created 0700 and the database files are 0600 (files.ts).
 */
export function openSqliteStorage(opts: SqliteStorageOptions): SqliteStorage {
  return new SqliteStorage(opts);
}
