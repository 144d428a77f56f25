/**
 * Test helpers (never built): a real PostgreSQL database per test file, created with a random
 * name `openbms_t_<random>` on the server of OPENBMS_TEST_PG (default
 * postgres://postgres@127.0.0.1:5432, trust auth) and dropped afterwards; `reset` empties it
 * between tests (the schema stays).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const BASE = process.env['OPENBMS_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432';

export interface TestDatabase {
  name: string;
  url: string;
  /** Empties every table the storage made (keeps the schema and its migrations). */
  reset(): Promise<void>;
  /** Drops the database (connections to it are ended). */
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: `${BASE}/postgres` });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `openbms_t_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = `${BASE}/${name}`;
  return {
    name,
    url,
    async reset() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const tables = (
          await c.query<{ t: string }>(
            `SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND c.relname NOT IN ('schema_migrations', 'meta')`,
          )
        ).rows.map((r) => r.t);
        if (tables.length > 0)
          await c.query(`TRUNCATE ${tables.join(', ')} RESTART IDENTITY CASCADE`);
      } finally {
        await c.end();
      }
    },
    async drop() {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
