/** The device store on a real PostgreSQL (a database of its own, dropped afterwards): the shared contract suite. */
import { afterAll, beforeAll } from 'vitest';
import { deviceContract, renewalContract, TEST_ORIGIN } from '@openbms/storage/testing';
import { PostgresStorage } from './storage.js';
import { createTestDatabase, type TestDatabase } from './testing/index.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('devices_');
});
afterAll(async () => {
  await db?.drop();
});

deviceContract('postgres', async () => {
  const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
  await db.reset();
  return s;
});

renewalContract('postgres', async () => {
  const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
  await db.reset();
  return s;
});
