/**
 * Integrity of the database file: `PRAGMA quick_check` (on the open connection, or in a
 * worker thread on its own read-only connection so the event loop keeps serving), and setting
 * a damaged file aside as `<name>.corrupt-<UTC time>` with its `-wal` and `-shm`, never
 * deleting it.
 *
 * quick_check reads every page of the file once and checks the B-tree structure (page
 * types, cell bounds, free lists) but not that indexes match their tables, which the full
 * `integrity_check` also does at several times the cost. Its time grows with the file size:
 * see README.md ("Damaged database") for the figure measured here.
 */
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Db } from './db.js';

/** How many problems quick_check reports at most (it stops looking after that many). */
const MAX_LINES = 10;

/** quick_check on an open connection: `['ok']` or the problems it found. */
export function quickCheckSync(db: Db): string[] {
  const rows = db.pragma(`quick_check(${MAX_LINES})`) as Record<string, unknown>[];
  return rows.map((r) => String(Object.values(r)[0]));
}

export type WorkerCheck =
  | { kind: 'lines'; lines: string[] }
  | { kind: 'error'; code: string; message: string }
  | { kind: 'timeout' };

// The worker is a script string (`eval`), not a file: the package runs from its TypeScript
// sources in tests and from dist/ in production, and a string works the same in both. It
// loads the same better-sqlite3 the adapter uses (its resolved path is passed in).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const rows = db.pragma('quick_check(' + workerData.max + ')');
  parentPort.postMessage({ kind: 'lines', lines: rows.map((r) => String(Object.values(r)[0])) });
} catch (e) {
  parentPort.postMessage({ kind: 'error', code: String(e && e.code || ''), message: String(e && e.message || e) });
} finally {
  try { if (db) db.close(); } catch (e) { /* already reported */ }
}
`;

let driverPath: string | undefined;

/**
 * quick_check in a worker thread with its own read-only connection (WAL lets it read while
 * the main connection writes). Resolves `timeout` after `timeoutMs`; the worker then finishes
 * on its own (SQLite cannot be interrupted from another thread here) and is not waited for.
 */
export function quickCheckInWorker(path: string, timeoutMs: number): Promise<WorkerCheck> {
  driverPath ??= createRequire(import.meta.url).resolve('better-sqlite3');
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: WorkerCheck): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path, driver: driverPath, max: MAX_LINES },
    });
    worker.unref();
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    timer.unref?.();
    worker.once('message', (m: WorkerCheck) => finish(m));
    worker.once('error', (e) => finish({ kind: 'error', code: '', message: e.message }));
    worker.once('exit', (code) =>
      finish({ kind: 'error', code: '', message: `the check stopped (exit code ${code})` }),
    );
  });
}

/** `20260621T120000Z` for an instant (UTC, to the second). */
function stamp(at: number): string {
  return new Date(at)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:-\d+)?$/;

/**
 * Moves the damaged file and its `-wal`/`-shm` to `<path>.corrupt-<time>` (+ `-wal`, `-shm`,
 * so `sqlite3` opens the set-aside file with its WAL). Returns the new name of the main file.
 * The connection must be closed first. Throws the file system's error if the main file
 * cannot be moved (the caller keeps using it then).
 */
export function setAside(path: string, at: number): string {
  let target = `${path}.corrupt-${stamp(at)}`;
  for (let n = 2; existsSync(target); n++) target = `${path}.corrupt-${stamp(at)}-${n}`;
  renameSync(path, target);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
  }
  return target;
}

/** The set-aside main files of `path` still in its directory, oldest first, with their times. */
export function setAsideFiles(path: string): { file: string; at: number }[] {
  const dir = dirname(path);
  const prefix = `${basename(path)}.corrupt-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: { file: string; at: number }[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = STAMP.exec(name.slice(prefix.length));
    if (!m) continue; // -wal / -shm companions, or a file the operator renamed
    const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
    out.push({ file: join(dir, name), at: Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) });
  }
  return out.sort((a, b) => a.at - b.at || a.file.localeCompare(b.file));
}
