/**
 * `storage.url`: which storage a box uses. Absent or `sqlite:PATH` is the embedded SQLite
 * file (`sqlite:` alone is refused: the data directory's file is what "absent" gives);
 * `postgres://` or `postgresql://` names a PostgreSQL database on a host. Checked strictly,
 * errors naming `storage.url`; a password in the URL never appears in a message (redactUrl).
 */
import { BmsError } from '@openbms/core';

export type StorageTarget = { kind: 'sqlite'; path?: string } | { kind: 'postgres'; url: string };

const bad = (why: string): BmsError =>
  new BmsError('CONFIG_INVALID', `storage.url ${why}`, { key: 'storage.url' });

/** The URL with its password replaced by `***` (also for a URL that does not parse). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  }
}

export function parseStorageUrl(value: unknown): StorageTarget {
  if (value === undefined || value === null) return { kind: 'sqlite' };
  if (typeof value !== 'string' || value.length === 0)
    throw bad('must be a non-empty string such as postgres://user@host/db or sqlite:/path/to/file');
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length);
    if (path.length === 0)
      throw bad('must name a file after sqlite: (sqlite:/var/lib/openbms/openbms.sqlite)');
    return { kind: 'sqlite', path };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme !== 'postgres' && scheme !== 'postgresql') {
    throw bad(
      `must start with postgres://, postgresql:// or sqlite: (got ${JSON.stringify(redactUrl(value).slice(0, 40))})`,
    );
  }
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw bad(`is not a valid URL: ${redactUrl(value)}`);
  }
  if (!u.hostname) throw bad(`must name a host (postgres://user@host/db), got ${redactUrl(value)}`);
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!db || db.includes('/'))
    throw bad(
      `must name one database after the host (postgres://user@host/db), got ${redactUrl(value)}`,
    );
  if (u.hash) throw bad('must not have a #fragment');
  return { kind: 'postgres', url: value };
}
