/**
 * SQLite storage adapter (the embedded default): one database file in the data directory,
 * its queries in worker threads (storage.ts).
 */
import { SqliteStorage, type SqliteStorageOptions } from './storage.js';

export { openDb, migrate, storageError, type Db, type Migration } from './db.js';
export { SqliteTelemetry } from './telemetry.js';
export { SqliteAlarms, SqliteAudit, SqliteUsers } from './records.js';
export { SqliteStorage, type SqliteStorageOptions, type SqliteUserStore } from './storage.js';
export { FileStorage } from './file-storage.js';
export { IDENTITY_FILE, readIdentityFile } from './identity.js';
export { setAsideFiles } from './integrity.js';
export type { MergeReport, Unreadable } from './merge.js';

/**
 * Opens (creating if needed) `<dataDir>/openbms.sqlite`, or `:memory:` for tests. A full disk
 * or a damaged file does not stop it: see `SqliteStorage` and README.md. The data directory
 * is created 0700 and the database files are 0600 (files.ts).
 */
export function openSqliteStorage(opts: SqliteStorageOptions): Promise<SqliteStorage> {
  return SqliteStorage.open(opts);
}
export { SqliteOutbox, OUTBOX_FILE, type SqliteOutboxOptions } from './outbox.js';
