/**
 * PostgresStorage against a real PostgreSQL (a database of its own, dropped afterwards): the
 * same contract suites as SQLite, run on a store emptied before each test.
 */
import { afterAll, beforeAll } from 'vitest';
import {
  alarmContract,
  auditContract,
  telemetryContract,
  TEST_ORIGIN,
  userContract,
} from '@openbms/storage/testing';
import { PostgresStorage } from './storage.js';
import { createTestDatabase, type TestDatabase } from './testing/index.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const open = async (): Promise<PostgresStorage> => {
  // The first open migrates; later ones find the schema and start from empty tables.
  const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
  await db.reset();
  return s;
};

telemetryContract('postgres', open);
alarmContract('postgres', open);
auditContract('postgres', open);
userContract('postgres', open);
