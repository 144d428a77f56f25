/**
 * Which storage `openbms start` and `openbms user add` open: the config's `storage.url`
 * (checked when the config was read). Absent: the embedded SQLite file of the data
 * directory (`<data-dir>/openbms.sqlite`, the default); `sqlite:PATH`: that SQLite file;
 * `postgres://...`: a PostgreSQL database, with the box's identity from the data directory's
 * `identity.json` when there is one (so a box moving from SQLite keeps its ids), else the
 * database's. The password of a URL is never printed.
 */
import { BmsError } from '@openbms/core';
import { parseStorageUrl } from '@openbms/contract';
import type { Config } from '@openbms/gateway';
import { openPostgresStorage, redactUrl, type PostgresStorage } from '@openbms/storage-postgres';
import { openSqliteStorage, readIdentityFile, type SqliteStorage } from '@openbms/storage-sqlite';

export type BoxStorage = SqliteStorage | PostgresStorage;

export async function openBoxStorage(
  config: Config,
  dataDir: string,
  onWarning: (message: string) => void,
): Promise<{ storage: BoxStorage; where: string }> {
  const target = parseStorageUrl(config.storage.url);
  if (target.kind === 'postgres') {
    const identity = readIdentityFile(dataDir);
    const storage = await openPostgresStorage({
      url: target.url,
      ...(identity ? { identity } : {}),
    });
    return { storage, where: `PostgreSQL ${redactUrl(target.url)}` };
  }
  const storage = await openSqliteStorage(
    target.path !== undefined ? { path: target.path, onWarning } : { dataDir, onWarning },
  );
  return { storage, where: storage.path };
}

/** For commands that work on the SQLite file only (`openbms db merge`). */
export function sqliteOnly(config: Config, command: string): void {
  if (parseStorageUrl(config.storage.url).kind === 'postgres') {
    throw new BmsError(
      'CONFIG_INVALID',
      `${command} works on the embedded SQLite database only, and storage.url names PostgreSQL; ` +
        'use PostgreSQL tools (pg_dump, pg_restore) there',
      { key: 'storage.url' },
    );
  }
}
