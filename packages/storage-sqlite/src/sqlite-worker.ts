/**
 * The storage's worker threads (storage.ts starts them; ADR: SQLite worker threads).
 *
 * - **writer**: one per storage. It owns the `FileStorage` (the connection that writes, the
 *   full-disk and damaged-file handling, the records waiting in memory) and runs every call
 *   that writes, every records read (they merge what waits in memory) and, while the file is
 *   not open normally, every read.
 * - **reader**: a read-only connection to the same file (WAL lets it read while the writer
 *   writes) for the telemetry reads: history, latest snapshot, daily files and export chunks.
 *   It reopens when the writer replaced a damaged file (a newer generation).
 *
 * Calls arrive as `{id, op, args, now, generation}` and are answered `{id, ok, value}` or
 * `{id, ok: false, error: {code, message, details}}` (BmsErrors keep their codes across the
 * thread boundary). The writer also posts `{event: 'state' | 'health' | 'warning'}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BmsError, isBmsError } from '@openbms/core';
import Database from 'better-sqlite3';
import { storageError, type Db } from './db.js';
import { FileStorage, type SqliteStorageOptions } from './file-storage.js';
import { SqliteTelemetry } from './telemetry.js';

export type Role = 'writer' | 'reader';

export interface WorkerInit {
  role: Role;
  /** The writer: how to open the storage (functions stay on the main thread). */
  options?: Omit<SqliteStorageOptions, 'clock' | 'onOpen' | 'onWarning'>;
  /** A reader: the file. */
  path?: string;
}

export interface Call {
  id: number;
  op: string;
  args: unknown[];
  /** The main thread's clock at the call (the writer's clock while it runs). */
  now: number;
  /** For a reader: the generation of the file the call is for. */
  generation?: number;
}

export interface WireError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export type Reply =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/** What the writer says about the file: readers use it only while `mode` is `normal`. */
export interface WriterState {
  generation: number;
  mode: string;
}

export type WorkerEvent =
  | {
      event: 'ready';
      state: WriterState;
      identity: { orgId: string; gatewayId: string };
      path: string;
    }
  | { event: 'failed'; error: WireError }
  | { event: 'state'; state: WriterState }
  | { event: 'health' }
  | { event: 'warning'; message: string };

export function toWire(e: unknown): WireError {
  const err = isBmsError(e) ? e : storageError(e, 'storage');
  return {
    code: err.code,
    message: err.message,
    ...(err.details ? { details: { ...err.details } } : {}),
  };
}

/** Transferable buffers of a value (export row batches), so they move instead of being copied. */
function transfers(value: unknown): ArrayBuffer[] {
  if (typeof value !== 'object' || value === null) return [];
  const out: ArrayBuffer[] = [];
  for (const v of Object.values(value))
    if (v instanceof Float64Array) out.push(v.buffer as ArrayBuffer);
  return out;
}

/** The calls a role accepts: `<store>.<method>` (or a storage method), nothing else. */
const WRITER_OPS = new Set([
  'telemetry.writeSamples',
  'telemetry.rollup',
  'telemetry.packs',
  'telemetry.rollupPack',
  'telemetry.applyRetention',
  'telemetry.history',
  'telemetry.latest',
  'telemetry.dailyFiles',
  'telemetry.deleteDay',
  'telemetry.startExport',
  'telemetry.scanLayouts',
  'telemetry.csvChunk',
  'telemetry.rowChunk',
  'telemetry.rawBytesPerSample',
  'alarms.raise',
  'alarms.clear',
  'alarms.acknowledge',
  'alarms.get',
  'alarms.list',
  'alarms.counts',
  'audit.append',
  'audit.list',
  'users.create',
  'users.get',
  'users.list',
  'users.count',
  'users.setPassword',
  'users.setRole',
  'users.delete',
  'users.createToken',
  'users.findToken',
  'users.deleteToken',
  'users.listTokens',
  'users.deleteUserTokens',
  'users.purgeExpiredTokens',
  'accounts.putCode',
  'accounts.useCode',
  'accounts.userByEmail',
  'accounts.setProfile',
  'devices.create',
  'devices.createMany',
  'devices.get',
  'devices.bySerial',
  'devices.byPack',
  'devices.update',
  'devices.list',
  'devices.counts',
  'devices.countIn',
  'devices.seen',
  'devices.bind',
  'devices.requestUnbind',
  'devices.approval',
  'devices.approvals',
  'devices.decide',
  'devices.renew',
  'devices.renewals',
  'points.list',
  'points.replace',
  'positions.add',
  'positions.list',
  'instructions.create',
  'instructions.get',
  'instructions.list',
  'instructions.queued',
  'instructions.claim',
  'instructions.finish',
  'instructions.expire',
  'instructions.timeOut',
  'instructions.setArmed',
  'instructions.trackerState',
  'positions.latest',
  'positions.latestAt',
  'remoteCollectors.hello',
  'remoteCollectors.claim',
  'remoteCollectors.setCredentials',
  'remoteCollectors.verify',
  'remoteCollectors.revoke',
  'remoteCollectors.get',
  'remoteCollectors.byGateway',
  'remoteCollectors.list',
  'remoteCollectors.seen',
  'geofences.create',
  'geofences.get',
  'geofences.list',
  'geofences.update',
  'geofences.delete',
  'geofences.forDevice',
  'geofences.states',
  'geofences.setState',
  'accounts.profileOf',
  'accounts.notifyRecipients',
  'orgs.createRoot',
  'orgs.create',
  'orgs.get',
  'orgs.subtree',
  'orgs.byCode',
  'orgs.addMember',
  'orgs.members',
  'orgs.setRole',
  'orgs.removeMember',
  'orgs.membershipsOf',
  'plants.create',
  'plants.get',
  'plants.list',
  'plants.update',
  'plants.delete',
  'plants.addVisitor',
  'plants.visitors',
  'plants.removeVisitor',
  'plants.visitsOf',
  'plants.attachCollector',
  'plants.collectors',
  'plants.detachCollector',
  'storage.health',
  'storage.retry',
  'storage.checkIntegrity',
  'storage.merge',
  'storage.damaged',
  'storage.close',
]);

const READER_OPS = new Set([
  'telemetry.history',
  'telemetry.latest',
  'telemetry.dailyFiles',
  'telemetry.startExport',
  'telemetry.scanLayouts',
  'telemetry.csvChunk',
  'telemetry.rowChunk',
]);

function invoke(target: Record<string, unknown>, op: string, args: unknown[]): unknown {
  const [store, method] = op.split('.') as [string, string];
  const owner = (store === 'storage' ? target : target[store]) as Record<string, unknown>;
  const fn = owner[method];
  if (typeof fn !== 'function') throw new BmsError('STORAGE_FAILED', `no storage call ${op}`);
  return (fn as (...a: unknown[]) => unknown).apply(owner, args);
}

function runWriter(port: NonNullable<typeof parentPort>, init: WorkerInit): void {
  let now = Date.now();
  let storage: FileStorage;
  const post = (m: WorkerEvent): void => port.postMessage(m);
  let last = '';
  const state = (): WriterState => ({ generation: storage.generation, mode: storage.openMode });
  const tellState = (): void => {
    const s = state();
    const key = `${s.generation}:${s.mode}`;
    if (key === last) return;
    last = key;
    post({ event: 'state', state: s });
  };
  try {
    storage = new FileStorage({
      ...init.options,
      clock: () => now,
      onWarning: (message) => post({ event: 'warning', message }),
    });
  } catch (e) {
    post({ event: 'failed', error: toWire(e) });
    return;
  }
  storage.onHealth(() => {
    tellState();
    post({ event: 'health' });
  });
  last = `${storage.generation}:${storage.openMode}`;
  post({ event: 'ready', state: state(), identity: storage.identity, path: storage.path });

  // Storage-level calls beyond the stores.
  const extra = {
    health: () => storage.health(),
    retry: () => storage.retry(),
    checkIntegrity: (opts?: { timeoutMs?: number }) => storage.checkIntegrity(opts),
    merge: (path: string) => storage.merge(path),
    damaged: (generation: number, message: string) => storage.damaged(generation, message),
    close: () => storage.close(),
  };
  port.on('message', (c: Call) => {
    now = c.now;
    const answer = (r: Reply, transfer: ArrayBuffer[] = []): void => {
      port.postMessage(r, transfer);
      tellState();
    };
    try {
      if (!WRITER_OPS.has(c.op)) throw new BmsError('STORAGE_FAILED', `no storage call ${c.op}`);
      const target = c.op.startsWith('storage.')
        ? (extra as unknown as Record<string, unknown>)
        : (storage as unknown as Record<string, unknown>);
      const value = invoke(target, c.op, c.args);
      if (value instanceof Promise) {
        value.then(
          (v: unknown) => answer({ id: c.id, ok: true, value: v }),
          (e: unknown) => answer({ id: c.id, ok: false, error: toWire(e) }),
        );
      } else answer({ id: c.id, ok: true, value }, transfers(value));
    } catch (e) {
      answer({ id: c.id, ok: false, error: toWire(e) });
    }
  });
}

function runReader(port: NonNullable<typeof parentPort>, init: WorkerInit): void {
  let db: Db | undefined;
  let telemetry: SqliteTelemetry | undefined;
  let generation = -1;
  const close = (): void => {
    try {
      db?.close();
    } catch {
      // a damaged file may refuse to close cleanly: the connection is dropped all the same
    }
    db = undefined;
    telemetry = undefined;
  };
  const open = (g: number): SqliteTelemetry => {
    if (telemetry && g === generation) return telemetry;
    close();
    try {
      db = new Database(init.path!, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
    } catch (e) {
      db = undefined;
      throw storageError(e, `cannot open ${init.path} to read`);
    }
    generation = g;
    telemetry = new SqliteTelemetry(db, { reader: true });
    return telemetry;
  };
  port.on('message', (c: Call) => {
    try {
      if (c.op === 'reader.close') {
        close();
        port.postMessage({ id: c.id, ok: true, value: null } satisfies Reply);
        return;
      }
      if (!READER_OPS.has(c.op)) throw new BmsError('STORAGE_FAILED', `no reader call ${c.op}`);
      const t = open(c.generation ?? 0);
      const value = invoke({ telemetry: t }, c.op, c.args);
      port.postMessage({ id: c.id, ok: true, value } satisfies Reply, transfers(value));
    } catch (e) {
      const error = toWire(storageError(e, 'storage read'));
      // A damaged or replaced file: the next call opens it again.
      if (error.code === 'STORAGE_CORRUPT' || error.code === 'STORAGE_FAILED') close();
      port.postMessage({ id: c.id, ok: false, error } satisfies Reply);
    }
  });
}

if (parentPort) {
  const init = workerData as WorkerInit;
  if (init.role === 'writer') runWriter(parentPort, init);
  else runReader(parentPort, init);
}
