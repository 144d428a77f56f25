/**
 * SQLite storage adapter (the embedded default): one database file in the data directory.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Storage } from '@openbms/storage';
import { migrate, openDb, storageError } from './db.js';
import { SqliteTelemetry, TELEMETRY_MIGRATIONS } from './telemetry.js';
import { RECORDS_MIGRATIONS, SqliteAlarms, SqliteAudit, SqliteUsers } from './records.js';

export { openDb, migrate, storageError, type Db, type Migration } from './db.js';
export { SqliteTelemetry } from './telemetry.js';
export { SqliteAlarms, SqliteAudit, SqliteUsers } from './records.js';

/** Opens (creating if needed) `<dataDir>/openbms.sqlite`, or `:memory:` for tests. */
export function openSqliteStorage(opts: {
  dataDir?: string;
  path?: string;
}): Storage & { path: string } {
  let path = opts.path ?? ':memory:';
  if (opts.dataDir) {
    try {
      mkdirSync(opts.dataDir, { recursive: true });
    } catch (e) {
      throw storageError(e, `cannot create data directory ${opts.dataDir}`);
    }
    path = join(opts.dataDir, 'openbms.sqlite');
  }
  const db = openDb(path);
  migrate(db, [...TELEMETRY_MIGRATIONS, ...RECORDS_MIGRATIONS]);
  return {
    path,
    telemetry: new SqliteTelemetry(db),
    alarms: new SqliteAlarms(db),
    audit: new SqliteAudit(db),
    users: new SqliteUsers(db),
    close: () => db.close(),
  };
}
