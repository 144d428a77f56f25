/**
 * SQLite storage adapter (the embedded default): one database file in the data directory.
 */
import { join } from 'node:path';
import type { Storage } from '@openbms/storage';
import { migrate, openDb } from './db.js';
import { prepareDataDir, secureDbFile, secureDbSidecars } from './files.js';
import { SqliteTelemetry, TELEMETRY_MIGRATIONS } from './telemetry.js';
import { RECORDS_MIGRATIONS, SqliteAlarms, SqliteAudit, SqliteUsers } from './records.js';

export { openDb, migrate, storageError, type Db, type Migration } from './db.js';
export { SqliteTelemetry } from './telemetry.js';
export { SqliteAlarms, SqliteAudit, SqliteUsers } from './records.js';

/**
 * Opens (creating if needed) `<dataDir>/openbms.sqlite`, or `:memory:` for tests. The data
 * directory is created 0700 and the database files are 0600 (files.ts); what could not be
 * made so goes to `onWarning`.
 */
export function openSqliteStorage(opts: {
  dataDir?: string;
  path?: string;
  onWarning?: (message: string) => void;
}): Storage & { path: string } {
  let path = opts.path ?? ':memory:';
  const warnings: string[] = [];
  if (opts.dataDir) {
    warnings.push(...prepareDataDir(opts.dataDir));
    path = join(opts.dataDir, 'openbms.sqlite');
  }
  const onDisk = path !== ':memory:' && path !== '';
  if (onDisk) warnings.push(...secureDbFile(path));
  const db = openDb(path);
  migrate(db, [...TELEMETRY_MIGRATIONS, ...RECORDS_MIGRATIONS]);
  if (onDisk) warnings.push(...secureDbSidecars(path));
  for (const w of warnings) opts.onWarning?.(w);
  return {
    path,
    telemetry: new SqliteTelemetry(db),
    alarms: new SqliteAlarms(db),
    audit: new SqliteAudit(db),
    users: new SqliteUsers(db),
    close: () => db.close(),
  };
}
