/**
 * The two real stores the fleet's route tests run against, each made fresh for one describe
 * block: SQLite in a temporary data directory, and a throwaway PostgreSQL database (dropped by
 * `done`). Both carry the test identity (`TEST_ORIGIN`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { PostgresStorage } from '@openbms/storage-postgres';
import { createTestDatabase } from '@openbms/storage-postgres/testing';

export type Store = Awaited<ReturnType<typeof openSqliteStorage>> | PostgresStorage;

export type OpenStore = () => Promise<{ storage: Store; done(): Promise<void> }>;

/**
 * `[name, open]` for SQLite and PostgreSQL; `tag` names the temporary directory
 * (`openbms-<tag>-`) and the database (`<tag>_…`), so a leftover tells which test made it.
 */
export function storeAdapters(tag: string): [string, OpenStore][] {
  return [
    [
      'sqlite',
      async () => {
        const dir = mkdtempSync(join(tmpdir(), `openbms-${tag}-`));
        const storage = await openSqliteStorage({ dataDir: dir, identity: TEST_ORIGIN });
        return { storage, done: async () => rmSync(dir, { recursive: true, force: true }) };
      },
    ],
    [
      'postgres',
      async () => {
        const db = await createTestDatabase(`${tag}_`);
        const storage = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
        return { storage, done: () => db.drop() };
      },
    ],
  ];
}
