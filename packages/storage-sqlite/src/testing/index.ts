/**
 * The SQLite adapter's test support (`@openbms/storage-sqlite/testing`, for tests only; not
 * built): the storage in the test's own thread, for tests that reach its connection.
 */
export { inThreadStorage, inThreadTelemetry } from './in-thread.js';
export { pagesOf } from './pages.js';
