/**
 * File modes of what the adapter keeps on disk: the database holds password hashes, token
 * hashes and the audit log, so only the user running OpenBMS may read it.
 *
 * - The data directory is created 0700. An existing one with group or other bits is left as
 *   it is (it may be shared on purpose, e.g. with a backup user) and reported as a warning:
 *   the files in it are private anyway.
 * - The database is created 0600 before SQLite opens it, and an existing one is set to 0600;
 *   SQLite gives its -wal and -shm files the mode of the database, and those left from an
 *   earlier run are set to 0600 after opening too.
 *
 * Modes are set with chmod after creating, so the umask cannot loosen them.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { storageError } from './db.js';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

const octal = (mode: number): string => (mode & 0o777).toString(8).padStart(4, '0');

/** Creates the data directory 0700; returns warnings about an existing looser one. */
export function prepareDataDir(dir: string): string[] {
  try {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: DIR_MODE });
      chmodSync(dir, DIR_MODE);
      return [];
    }
    const st = statSync(dir);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    if ((st.mode & 0o077) !== 0) {
      return [
        `data directory ${dir} is open to other users (mode ${octal(st.mode)}); the database in it is 0600, ` +
          `but consider chmod 700 ${dir}`,
      ];
    }
    return [];
  } catch (e) {
    throw storageError(e, `cannot create data directory ${dir}`);
  }
}

/** Creates the database file 0600 if it is missing, and sets an existing one to 0600. */
export function secureDbFile(path: string): string[] {
  try {
    closeSync(openSync(path, 'a', FILE_MODE));
  } catch (e) {
    throw storageError(e, `cannot create database ${path}`);
  }
  return tighten([path]);
}

/** Sets the -wal and -shm files that exist next to the database to 0600. */
export function secureDbSidecars(path: string): string[] {
  return tighten([`${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)));
}

function tighten(paths: string[]): string[] {
  const warnings: string[] = [];
  for (const p of paths) {
    try {
      if ((statSync(p).mode & 0o777) !== FILE_MODE) chmodSync(p, FILE_MODE);
    } catch (e) {
      // Not ours to change (another owner): say so, the database still opens.
      warnings.push(`cannot set ${p} to mode 0600: ${(e as Error).message}`);
    }
  }
  return warnings;
}
