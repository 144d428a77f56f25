/**
 * The migration runner. Written here rather than taken from node-pg-migrate because what we
 * need is small and fixed: numbered SQL steps that are never edited once released, applied
 * in order, each in its own transaction with its row in `schema_migrations`, and one
 * session-level `pg_advisory_lock` held while they run, so two processes opening the same
 * database at once (two gateways, a restart overlapping its predecessor) cannot migrate it
 * twice: the second waits for the first, then finds nothing left to do. node-pg-migrate
 * brings a CLI, a migration file format and its own table for what is twenty lines here.
 */
import type { PoolClient } from 'pg';
import { BmsError } from '@openbms/core';

export interface PgMigration {
  /** `NNN-name`, applied in `id` order. */
  id: string;
  sql: string;
}

/** The advisory lock key of our migrations (any constant; `openbms` in ASCII). */
const LOCK_KEY = 0x6f70656e626d73n;

export async function migrate(
  client: PoolClient,
  steps: readonly PgMigration[],
): Promise<string[]> {
  const applied: string[] = [];
  await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY.toString()]);
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map(
        (r) => r.id,
      ),
    );
    const known = new Set(steps.map((s) => s.id));
    const unknown = [...done].filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new BmsError(
        'STORAGE_FAILED',
        `the database was migrated by a newer OpenBMS (steps ${unknown.join(', ')} are unknown here); upgrade OpenBMS`,
      );
    }
    for (const step of [...steps].sort((a, b) => a.id.localeCompare(b.id))) {
      if (done.has(step.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(step.sql);
        await client.query('INSERT INTO schema_migrations (id) VALUES ($1)', [step.id]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
      applied.push(step.id);
    }
  } finally {
    await client
      .query('SELECT pg_advisory_unlock($1)', [LOCK_KEY.toString()])
      .catch(() => undefined);
  }
  return applied;
}
