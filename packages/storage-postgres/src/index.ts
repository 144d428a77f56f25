/**
 * PostgreSQL storage adapter: the storage port on a PostgreSQL database, for a box that
 * should keep its data on a server, or a fleet's shared store (README.md, ADR 0015).
 */
import { PostgresStorage, type PostgresStorageOptions } from './storage.js';

export { PostgresStorage, type PostgresStorageOptions } from './storage.js';
export type { PgUserStore } from './users.js';
export { redactUrl } from './url.js';
export { MIGRATIONS } from './migrations.js';

/** Connects to `opts.url`, migrates the schema and returns the storage (STORAGE_UNAVAILABLE when the server cannot be reached). */
export function openPostgresStorage(opts: PostgresStorageOptions): Promise<PostgresStorage> {
  return PostgresStorage.open(opts);
}
