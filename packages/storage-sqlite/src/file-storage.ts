/**
 * The SQLite storage on one file, synchronous: what the writer thread of `SqliteStorage` runs
 * (worker.ts), and what happens when the disk or the file fails (README.md, "Full disk" and
 * "Damaged database"). Tests also use it in their own thread, where they can reach the
 * connection (`onOpen`) to stand a full disk in.
 *
 * - **Full disk.** Opening falls back to an exclusive connection (SQLite then keeps the WAL
 *   index in memory, so an existing file is read without growing its `-shm`), and to an
 *   empty in-memory stand-in when the file cannot be created or migrated at all. Telemetry
 *   writes fail with STORAGE_FULL (the gateway's writer keeps the samples); alarm events,
 *   audit entries and sessions wait in memory (deferred.ts). The first write that succeeds
 *   clears the problem, writes what waited and, after the fallbacks, reopens the file normally.
 * - **Damaged file.** A query that meets a corrupt page, or `checkIntegrity()` (quick_check in
 *   a worker thread), moves the file aside as `<name>.corrupt-<time>` (never deleting it),
 *   opens a fresh one with the active alarm events carried over, and retries the write that
 *   met the damage; a read answers STORAGE_CORRUPT. The problem is reported while a
 *   set-aside file is in the directory, so it ends when the operator has dealt with it.
 *
 * Every store call goes through `run()`, which classifies failures, so the stores below stay
 * plain SQL.
 */
import { statSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BmsError } from '@openbms/core';
import {
  idFactory,
  recordChecks,
  type AlarmEvent,
  type AlarmQuery,
  type AuditEntry,
  type AuditQuery,
  type DailyFile,
  type DayOptions,
  type ExportQuery,
  type FoundToken,
  type HistoryQuery,
  type HistoryResult,
  type IntegrityReport,
  type NewAlarm,
  type NewAuditEntry,
  type NewToken,
  type NewUser,
  type Origin,
  type RecordRef,
  type RetentionPolicy,
  type Role,
  type Sample,
  type Scope,
  type StorageHealth,
  type StorageProblem,
  type TokenFilter,
  type TokenInfo,
  type User,
  type OrgStore,
  type AccountStore,
  type DeviceStore,
  type PlantStore,
  type PointGroupStore,
  type PositionStore,
  type InstructionStore,
  type RemoteCollectorStore,
  type GeofenceStore,
} from '@openbms/storage';
import { causeOf, migrate, openDb, openReadOnly, storageError, type Db } from './db.js';
import {
  IDENTITY_MIGRATIONS,
  dbIdentity,
  newIdentity,
  readIdentityFile,
  setDbIdentity,
  writeIdentityFile,
} from './identity.js';
import { mergeDatabase, type MergeReport } from './merge.js';
import { DeferredRecords, type RecordStores } from './deferred.js';
import { prepareDataDir, secureDbFile, secureDbSidecars } from './files.js';
import { quickCheckInWorker, quickCheckSync, setAside, setAsideFiles } from './integrity.js';
import {
  RECORDS_MIGRATIONS,
  SqliteAlarms,
  SqliteAudit,
  SqliteOrgs,
  SqliteAccounts,
  SqliteDevices,
  SqlitePlants,
  SqlitePoints,
  SqlitePositions,
  SqliteInstructions,
  SqliteRemoteCollectors,
  SqliteGeofences,
  SqliteUsers,
} from './records.js';
import { SqliteTelemetry, TELEMETRY_MIGRATIONS, type ExportPlan } from './telemetry.js';

export interface SqliteStorageOptions {
  /** The data directory: the file is `<dataDir>/openbms.sqlite`. */
  dataDir?: string;
  /** Or the file itself; neither: `:memory:` (tests). */
  path?: string;
  /** ms since the epoch; injectable for tests. */
  clock?: () => number;
  /** Run on every connection opened to the file (tests set `max_page_count` to stand for a full disk). */
  onOpen?: (db: Db) => void;
  /** While the file cannot be opened for lack of space, how often a write tries again (ms, default 1000). */
  retryMs?: number;
  /** File-mode and identity warnings (a data directory open to other users...); see files.ts. */
  onWarning?: (message: string) => void;
  /**
   * Whose records this storage writes (identity.ts). Absent: the database's own ids, else the
   * data directory's `identity.json`, else new ones (written to both).
   */
  identity?: Origin;
}

export type Mode =
  /** `:memory:` (tests): nothing can fail. */
  | 'memory'
  | 'normal'
  /** The disk was full at open: one exclusive connection, reopened normally after the first write. */
  | 'exclusive'
  /** The file could not be opened or migrated for lack of space: an empty in-memory stand-in. */
  | 'standby';

/** What kind of write found the disk full: only a write of that kind proves there is room again. */
type WriteKind = 'telemetry' | 'records' | 'open';

interface Inner extends RecordStores {
  telemetry: SqliteTelemetry;
  accounts: SqliteAccounts;
  devices: SqliteDevices;
  plants: SqlitePlants;
  points: SqlitePoints;
  positions: SqlitePositions;
  instructions: SqliteInstructions;
  geofences: SqliteGeofences;
  remoteCollectors: SqliteRemoteCollectors;
}

const MIGRATIONS = [...TELEMETRY_MIGRATIONS, ...RECORDS_MIGRATIONS];

/**
 * Brings a connection's schema up to date: `meta` first, then whose the file is (its own ids,
 * else `identity()`'s, written to it), then every module's migrations. Returns the ids.
 */
export function migrateSchema(db: Db, identity: () => Origin = newIdentity): Origin {
  const ids = idFactory();
  const ctx = (o: Origin) => ({ identity: o, newId: (at: number) => ids(at) });
  const placeholder = { orgId: '', gatewayId: '' };
  migrate(db, IDENTITY_MIGRATIONS, ctx(placeholder));
  let id = dbIdentity(db);
  if (!id) {
    id = identity();
    setDbIdentity(db, id);
  }
  migrate(db, MIGRATIONS, ctx(id));
  return id;
}

/** Below this many free bytes an I/O error of the file system is taken for a full disk. */
const NEARLY_FULL = 1024 * 1024;

function bind(db: Db): Inner {
  return {
    db,
    telemetry: new SqliteTelemetry(db),
    alarms: new SqliteAlarms(db),
    audit: new SqliteAudit(db),
    users: new SqliteUsers(db),
    orgs: new SqliteOrgs(db),
    accounts: new SqliteAccounts(db),
    devices: new SqliteDevices(db),
    plants: new SqlitePlants(db),
    points: new SqlitePoints(db),
    positions: new SqlitePositions(db),
    instructions: new SqliteInstructions(db),
    geofences: new SqliteGeofences(db),
    remoteCollectors: new SqliteRemoteCollectors(db),
  };
}

type Row = Record<string, unknown>;

/** The account tables a damaged file's accounts are carried in, in the order they are written. */
const ACCOUNT_TABLES = ['orgs', 'org_closure', 'users', 'tokens', 'memberships'] as const;
type Accounts = Record<(typeof ACCOUNT_TABLES)[number], Row[]> & {
  /**
   * The organisations' point groups (records/010), read on their own: without them a fresh
   * file would show end users every point their manager hid. Empty when the damaged file has
   * none or its pages for them do not read.
   */
  point_groups?: Row[];
};

/**
 * The accounts of a damaged file, when its pages for them still read: carried into the fresh
 * file so nobody is locked out (and the first-admin setup does not open again to anyone),
 * with the organisations (their codes are printed and shared) and memberships.
 */
function readAccounts(db: Db): Accounts | undefined {
  try {
    const out: Partial<Accounts> = {};
    // Parents before children, so the fresh file's foreign keys hold as rows go in.
    const order: Record<string, string> = {
      orgs: ' ORDER BY depth',
      org_closure: ' ORDER BY depth',
    };
    for (const t of ACCOUNT_TABLES)
      out[t] = db.prepare(`SELECT * FROM ${t}${order[t] ?? ''}`).all() as Row[];
    try {
      out.point_groups = db.prepare('SELECT * FROM point_groups').all() as Row[];
    } catch {
      // a file from before point groups, or their pages damaged: the defaults apply
    }
    return out as Accounts;
  } catch {
    return undefined;
  }
}

function writeAccounts(db: Db, a: Accounts): void {
  const insert = (table: string, row: Row): void => {
    const cols = Object.keys(row);
    // The fresh file made its own root for the same organisation id: the old one's code and name win.
    const keep =
      table === 'orgs'
        ? ' ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, kind = excluded.kind, created_at = excluded.created_at'
        : ' ON CONFLICT DO NOTHING';
    db.prepare(
      `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})${keep}`,
    ).run(...cols.map((c) => row[c]));
  };
  db.transaction(() => {
    for (const t of ACCOUNT_TABLES) for (const r of a[t]) insert(t, r);
    for (const r of a.point_groups ?? []) insert('point_groups', r);
  })();
}

export class FileStorage {
  readonly path: string;
  readonly telemetry: FileTelemetry;
  readonly alarms: FileAlarms;
  readonly audit: FileAudit;
  /** Users and tokens, sessions kept in memory while the disk is full. */
  readonly users: FileUsers;
  /** Organisations and memberships (changes need room: STORAGE_FULL otherwise). */
  readonly orgs: FileOrgs;
  readonly accounts: FileAccounts;
  readonly devices: FileDevices;
  readonly plants: FilePlants;
  readonly points: FilePoints;
  readonly positions: FilePositions;
  readonly instructions: FileInstructions;
  readonly geofences: FileGeofences;
  readonly remoteCollectors: FileRemoteCollectors;
  /** Whose records this file holds and new ones get (identity.ts). */
  identity!: Origin;

  private inner: Inner;
  private mode: Mode = 'normal';
  private readonly clock: () => number;
  private readonly deferred = new DeferredRecords(
    (e) => this.classify(e),
    (roots) => {
      try {
        return new Set(this.inner.orgs.subtree(roots).map((o) => o.id));
      } catch {
        return new Set(); // the file cannot be read now: the waiting records of roots stay unseen
      }
    },
  );
  private full: StorageProblem | undefined;
  /** The kinds of write that found the disk full since (each must succeed again). */
  private readonly fullKinds = new Set<WriteKind>();
  /** A damage found that could not be set aside (the file could not be moved). */
  private stuck: StorageProblem | undefined;
  /** Where the last damaged file went. */
  private lastSetAside: string | undefined;
  /** Bumped when the connection is replaced by a fresh file (readers reopen then). */
  generation = 0;
  private lastAttempt = -Infinity;
  private readonly listeners = new Set<() => void>();
  private closed = false;

  constructor(private readonly opts: SqliteStorageOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.path = opts.dataDir ? join(opts.dataDir, 'openbms.sqlite') : (opts.path ?? ':memory:');
    this.inner = this.open();
    this.telemetry = this.telemetryFacade();
    this.alarms = this.alarmFacade();
    this.audit = this.auditFacade();
    this.users = this.userFacade();
    this.orgs = this.orgFacade();
    this.accounts = this.accountFacade();
    this.devices = this.deviceFacade();
    this.plants = this.plantFacade();
    this.points = this.pointFacade();
    this.positions = {
      add: (ps) => this.run('records', 'cannot store positions', (s) => s.positions.add(ps)),
      list: (id, q) => this.run(false, 'cannot read positions', (s) => s.positions.list(id, q)),
      latest: (ids) => this.run(false, 'cannot read positions', (s) => s.positions.latest(ids)),
      latestAt: (id, t) =>
        this.run(false, 'cannot read positions', (s) => s.positions.latestAt(id, t)),
    };
    const g = 'geofences';
    this.geofences = {
      create: (w, f) => this.run('records', `cannot store ${g}`, (s) => s.geofences.create(w, f)),
      get: (w, id) => this.run(false, `cannot read ${g}`, (s) => s.geofences.get(w, id)),
      list: (w, q) => this.run(false, `cannot read ${g}`, (s) => s.geofences.list(w, q)),
      update: (w, id, p) =>
        this.run('records', `cannot store ${g}`, (s) => s.geofences.update(w, id, p)),
      delete: (w, id) => this.run('records', `cannot store ${g}`, (s) => s.geofences.delete(w, id)),
      forDevice: (d, o) => this.run(false, `cannot read ${g}`, (s) => s.geofences.forDevice(d, o)),
      states: (d) => this.run(false, `cannot read ${g}`, (s) => s.geofences.states(d)),
      setState: (d, f, i, t) =>
        this.run('records', `cannot store ${g}`, (s) => s.geofences.setState(d, f, i, t)),
    };
    const w = 'records' as const;
    const ins = (s: Inner) => s.instructions;
    this.instructions = {
      create: (i) => this.run(w, 'cannot store the instruction', (s) => ins(s).create(i)),
      get: (id) => this.run(false, 'cannot read instructions', (s) => ins(s).get(id)),
      list: (d, n) => this.run(false, 'cannot read instructions', (s) => ins(s).list(d, n)),
      queued: (ds, now) =>
        this.run(false, 'cannot read instructions', (s) => ins(s).queued(ds, now)),
      claim: (id, node, at) =>
        this.run(w, 'cannot update the instruction', (s) => ins(s).claim(id, node, at)),
      finish: (id, o) => this.run(w, 'cannot update the instruction', (s) => ins(s).finish(id, o)),
      expire: (now) => this.run(w, 'cannot update instructions', (s) => ins(s).expire(now)),
      timeOut: (b, at) => this.run(w, 'cannot update instructions', (s) => ins(s).timeOut(b, at)),
      setArmed: (st) => this.run(w, 'cannot store the armed state', (s) => ins(s).setArmed(st)),
      trackerState: (d) =>
        this.run(false, 'cannot read the armed state', (s) => ins(s).trackerState(d)),
    };
    const rc = (s: Inner) => s.remoteCollectors;
    const rcRead = 'cannot read collectors';
    this.remoteCollectors = {
      hello: (i) => this.run(w, 'cannot record the hello', (s) => rc(s).hello(i)),
      claim: (i) => this.run(w, 'cannot claim the collector', (s) => rc(s).claim(i)),
      setCredentials: (k, x, at) =>
        this.run(w, 'cannot store the credentials', (s) => rc(s).setCredentials(k, x, at)),
      verify: (k, x) => this.run(false, rcRead, (s) => rc(s).verify(k, x)),
      revoke: (k, by, at) =>
        this.run(w, 'cannot revoke the collector', (s) => rc(s).revoke(k, by, at)),
      get: (k) => this.run(false, rcRead, (s) => rc(s).get(k)),
      byGateway: (g) => this.run(false, rcRead, (s) => rc(s).byGateway(g)),
      list: (within) => this.run(false, rcRead, (s) => rc(s).list(within)),
      seen: (k, at) => this.run(w, 'cannot note the collector seen', (s) => rc(s).seen(k, at)),
    };
  }

  // ------------------------------------------------------------------ opening

  private warn(warnings: string[]): void {
    for (const w of warnings) this.opts.onWarning?.(w);
  }

  /** How the storage is open now (`normal`: other connections, the readers, may open the file too). */
  get openMode(): Mode {
    return this.mode;
  }

  /**
   * The ids records get when the database has none: as given, else the data directory's
   * `identity.json`, else new ones (made once: later connections reuse them).
   */
  private wanted(): Origin {
    if (this.identity) return this.identity;
    if (this.opts.identity) return recordChecks.origin(this.opts.identity);
    const dir = this.opts.dataDir;
    return (dir ? readIdentityFile(dir) : undefined) ?? newIdentity();
  }

  /** Takes the identity of an opened file, and keeps the data directory's file in step. */
  private adoptIdentity(id: Origin): void {
    const asked = this.identity ?? this.opts.identity;
    if (asked && (asked.orgId !== id.orgId || asked.gatewayId !== id.gatewayId)) {
      this.warn([
        `the database ${this.path} belongs to gateway ${id.gatewayId} of organisation ${id.orgId}, not ${asked.gatewayId}: its ids are used`,
      ]);
    }
    this.identity = id;
    const dir = this.opts.dataDir;
    if (!dir) return;
    try {
      const file = readIdentityFile(dir);
      if (file?.orgId === id.orgId && file.gatewayId === id.gatewayId) return;
      if (file) {
        this.warn([
          `${join(dir, 'identity.json')} named gateway ${file.gatewayId}; the database's own ids (gateway ${id.gatewayId}) are used and written there`,
        ]);
      }
      writeIdentityFile(dir, id);
    } catch (e) {
      // A full disk or an unreadable file: the database holds the ids; said once.
      this.warn([`cannot keep the gateway's ids in ${dir}: ${(e as Error).message}`]);
    }
  }

  private connect(path: string, exclusive: boolean): Inner {
    // Created 0600 before SQLite opens it (files.ts): the umask cannot loosen it.
    if (path !== ':memory:') this.warn(secureDbFile(path));
    const db = openDb(path, { exclusive });
    try {
      if (path !== ':memory:') this.opts.onOpen?.(db);
      const id = migrateSchema(db, () => this.wanted());
      if (path !== ':memory:') this.warn(secureDbSidecars(path));
      this.adoptIdentity(id);
      const inner = bind(db);
      this.deferred.adopt(inner, id);
      return inner;
    } catch (e) {
      db.close();
      throw storageError(e, `cannot open database ${path}`);
    }
  }

  private open(): Inner {
    if (this.path === ':memory:') {
      this.mode = 'memory';
      return this.connect(':memory:', false);
    }
    try {
      if (this.opts.dataDir) this.warn(prepareDataDir(this.opts.dataDir));
    } catch (e) {
      const err = storageError(e, `cannot create data directory ${this.opts.dataDir}`);
      if (this.classify(err).code !== 'STORAGE_FULL') throw err;
      return this.standby(err);
    }
    try {
      this.mode = 'normal';
      return this.connect(this.path, false);
    } catch (e) {
      const err = this.classify(e);
      if (err.code === 'STORAGE_CORRUPT') return this.replaceDamaged(undefined, err.message);
      if (err.code !== 'STORAGE_FULL') throw err;
      this.markFull(err, 'open');
      if (this.fileHasData()) {
        try {
          this.mode = 'exclusive';
          return this.connect(this.path, true);
        } catch (e2) {
          const err2 = this.classify(e2);
          if (err2.code === 'STORAGE_CORRUPT') return this.replaceDamaged(undefined, err2.message);
          if (err2.code !== 'STORAGE_FULL') throw err2;
        }
      }
      return this.standby(err);
    }
  }

  private standby(err: BmsError): Inner {
    this.markFull(err, 'open');
    this.mode = 'standby';
    return bind(this.standIn());
  }

  private standIn(): Db {
    const db = openDb(':memory:');
    const id = migrateSchema(db, () => this.wanted());
    this.identity ??= id;
    return db;
  }

  private fileHasData(): boolean {
    try {
      return statSync(this.path).size > 0;
    } catch {
      return false;
    }
  }

  /** While on the stand-in: opens the file when there is room again (throttled). */
  private recover(force = false): void {
    if (this.mode !== 'standby' || this.closed) return;
    const now = this.clock();
    if (!force && now - this.lastAttempt < (this.opts.retryMs ?? 1000)) return;
    this.lastAttempt = now;
    let next: Inner;
    try {
      next = this.connect(this.path, false);
    } catch (e) {
      const err = this.classify(e);
      if (err.code === 'STORAGE_CORRUPT') {
        this.inner.db.close();
        this.inner = this.replaceDamaged(undefined, err.message);
      }
      return;
    }
    this.inner.db.close();
    this.inner = next;
    this.mode = 'normal';
    this.flushDeferred();
  }

  /**
   * After the first write that the exclusive connection took: back to a normal one (or the
   * exclusive one again, or the stand-in). Never throws: the write it follows is stored.
   */
  private reopenNormally(): void {
    if (this.mode !== 'exclusive') return;
    try {
      this.inner.db.close();
    } catch {
      // closing an exclusive connection checkpoints; if that fails the WAL stays for the next
    }
    for (const exclusive of [false, true]) {
      try {
        this.inner = this.connect(this.path, exclusive);
        this.mode = exclusive ? 'exclusive' : 'normal';
        return;
      } catch {
        // try the next way
      }
    }
    this.inner = this.standby(new BmsError('STORAGE_FULL', `cannot reopen ${this.path}`));
  }

  // ------------------------------------------------------------------ failures

  /** A storage error, with an I/O error on a file system that has no room taken for what it is. */
  private classify(e: unknown): BmsError {
    const err = storageError(e, 'database');
    if (
      err.code === 'STORAGE_FAILED' &&
      causeOf(err).startsWith('SQLITE_IOERR') &&
      this.path !== ':memory:' &&
      this.freeBytes() < NEARLY_FULL
    ) {
      return new BmsError('STORAGE_FULL', err.message, err.details);
    }
    return err;
  }

  private freeBytes(): number {
    try {
      const s = statfsSync(dirname(this.path));
      return s.bavail * s.bsize;
    } catch {
      return Infinity;
    }
  }

  private markFull(err: BmsError, kind: WriteKind): void {
    this.fullKinds.add(kind);
    if (this.full) return;
    this.full = {
      code: 'STORAGE_FULL',
      message: `the disk holding ${this.path} is full: ${err.message}`,
      since: this.clock(),
    };
    this.changed();
  }

  private clearFull(): void {
    this.fullKinds.clear();
    if (!this.full) return;
    this.full = undefined;
    this.changed();
  }

  /**
   * A write of `kind` was stored. It proves there is room for its own kind only: a small
   * alarm record may fit in a page while the next batch of samples does not.
   */
  private wrote(kind: Exclude<WriteKind, 'open'>): void {
    if (this.mode === 'exclusive') this.reopenNormally();
    if (!this.full || this.mode === 'standby') return;
    this.fullKinds.delete(kind);
    this.fullKinds.delete('open');
    if (this.fullKinds.size === 0) this.clearFull();
  }

  /**
   * Whether the disk has room again, for when no write of the kind that failed comes by
   * (no samples while every pack is offline): free space on the file system, and the file
   * below SQLite's page cap (`max_page_count`).
   */
  private roomAgain(): boolean {
    if (this.freeBytes() < NEARLY_FULL) return false;
    try {
      const db = this.inner.db;
      const pages = db.pragma('page_count', { simple: true }) as number;
      const cap = db.pragma('max_page_count', { simple: true }) as number;
      return pages < cap;
    } catch {
      return false;
    }
  }

  /**
   * Moves the damaged file aside and opens a fresh one (or the stand-in when there is no
   * room for one). `old` is the connection to close first, if open.
   */
  private replaceDamaged(old: Inner | undefined, detail: string): Inner {
    const accounts = old ? readAccounts(old.db) : undefined;
    try {
      old?.db.close();
    } catch {
      // a damaged file may refuse its closing checkpoint: the WAL is moved aside with it
    }
    try {
      this.lastSetAside = setAside(this.path, this.clock());
    } catch (e) {
      // Cannot move it (permissions): keep serving what still reads, and say so.
      this.stuck = {
        code: 'STORAGE_CORRUPT',
        message: `the database ${this.path} is damaged (${detail}) and could not be set aside: ${(e as Error).message}`,
        since: this.clock(),
      };
      this.changed();
      this.mode = 'normal';
      return this.connect(this.path, false);
    }
    this.generation++;
    let fresh: Inner;
    try {
      this.mode = 'normal';
      fresh = this.connect(this.path, false);
    } catch (e) {
      const err = this.classify(e);
      if (err.code !== 'STORAGE_FULL') throw err;
      fresh = this.standby(err);
    }
    if (accounts && this.mode !== 'standby') {
      try {
        writeAccounts(fresh.db, accounts);
      } catch {
        // no room for them now: the accounts stay readable in the set-aside file
      }
    }
    this.deferred.carryOver(fresh);
    this.changed();
    return fresh;
  }

  /** The current stores for a write, or undefined on the stand-in (nothing is written there). */
  private writable(): Inner | undefined {
    this.recover();
    return this.mode === 'standby' ? undefined : this.inner;
  }

  /**
   * Runs one store call. Writes first flush what waits (order is kept); a full disk is
   * recorded; a damaged file is replaced, then a write is tried once more on the fresh file
   * while a read answers STORAGE_CORRUPT.
   */
  private run<T>(write: WriteKind | false, what: string, fn: (s: Inner) => T): T {
    if (this.closed) throw new BmsError('STORAGE_FAILED', `${what}: the storage is closed`);
    if (write) {
      this.recover();
      if (this.mode === 'standby') {
        throw new BmsError(
          'STORAGE_FULL',
          `${what}: the database file cannot be opened (disk full); nothing is written until there is room`,
        );
      }
      this.flushDeferred();
    }
    const kind = write === 'open' ? 'records' : write;
    const gen = this.generation;
    try {
      const r = fn(this.inner);
      if (kind) this.wrote(kind);
      return r;
    } catch (e) {
      const err = this.failed(e, gen, kind || 'records');
      if (!(err.code === 'STORAGE_CORRUPT' && kind && this.generation !== gen)) throw err;
      if (this.mode === 'standby') throw this.noRoom(what);
    }
    // The write met a damaged file, now replaced by a fresh one: once more there.
    try {
      const r = fn(this.inner);
      this.wrote(kind);
      return r;
    } catch (e) {
      throw this.failed(e, -1, kind);
    }
  }

  /**
   * Classifies a failure of a store call made on connection `gen` and reacts: a full disk
   * is recorded, a damaged file (met on the current connection) replaced.
   */
  private failed(e: unknown, gen: number, kind: WriteKind): BmsError {
    const err = this.classify(e);
    if (err.code === 'STORAGE_FULL') this.markFull(err, kind);
    if (err.code === 'STORAGE_CORRUPT' && this.mode !== 'memory' && gen === this.generation) {
      const detail = err.message;
      this.inner = this.replaceDamaged(this.inner, detail);
      return new BmsError(
        'STORAGE_CORRUPT',
        `${detail}; the damaged file was set aside and a fresh database opened (see the recovery steps in the storage-sqlite README)`,
        err.details,
      );
    }
    return err;
  }

  /**
   * A reader thread met damage in the file of generation `gen`: the file is set aside (once:
   * later reports of the same generation find it replaced) and a fresh one opened, as when a
   * call of this connection meets it. Returns the message the read answers with.
   */
  damaged(gen: number, detail: string): string {
    if (this.closed || this.mode === 'memory') return detail;
    if (gen === this.generation) this.inner = this.replaceDamaged(this.inner, detail);
    return `${detail}; the damaged file was set aside and a fresh database opened (see the recovery steps in the storage-sqlite README)`;
  }

  /** Writes what waits in memory (twice if the first try met a damaged file, replaced since). */
  private flushDeferred(): void {
    for (let round = 0; round < 2; round++) {
      if (this.deferred.size === 0 || this.mode === 'standby') return;
      const gen = this.generation;
      let err: BmsError | undefined;
      try {
        err = this.deferred.flush(this.inner);
      } catch (e) {
        err = this.classify(e);
      }
      if (!err) return this.wrote('records');
      this.failed(err, gen, 'records');
      if (this.generation === gen) return;
    }
  }

  /**
   * An operation of the write-behind (deferred.ts): tried on the file, kept in memory when
   * the storage cannot take it; what made it wait is handled like any failure.
   */
  private defer<T>(what: string, fn: (s: Inner | undefined) => T): T {
    if (this.closed) throw new BmsError('STORAGE_FAILED', `${what}: the storage is closed`);
    this.flushDeferred();
    const gen = this.generation;
    let r: T;
    try {
      r = fn(this.writable());
    } catch (e) {
      throw this.failed(e, gen, 'records');
    }
    const waited = this.deferred.takeError();
    if (!waited) {
      if (this.mode !== 'standby') this.wrote('records');
    } else {
      this.failed(waited, gen, 'records');
      if (this.generation !== gen) this.flushDeferred();
    }
    return r;
  }

  // ------------------------------------------------------------------ the stores

  private telemetryFacade(): FileTelemetry {
    const read = <T>(what: string, fn: (t: SqliteTelemetry) => T): T =>
      this.run(false, what, (s) => fn(s.telemetry));
    const write = <T>(what: string, fn: (t: SqliteTelemetry) => T): T =>
      this.run('telemetry', what, (s) => fn(s.telemetry));
    return {
      writeSamples: (origin: Origin, samples: readonly Sample[]) =>
        write('cannot write samples', (t) => t.writeSamples(origin, samples)),
      rollup: (now: number) => write('cannot fold rollups', (t) => t.rollup(now)),
      packs: () => read('cannot list packs', (t) => t.packs()),
      rollupPack: (pack: number, now: number) =>
        write('cannot fold rollups', (t) => t.rollupPack(pack, now)),
      applyRetention: (now: number, policy?: RetentionPolicy) =>
        write('cannot apply retention', (t) => t.applyRetention(now, policy)),
      history: (scope: Scope, q: HistoryQuery): HistoryResult =>
        read('cannot read history', (t) => t.history(scope, q)),
      latest: (scope: Scope, packId: string) =>
        read('cannot read the latest sample', (t) => t.latest(scope, packId)),
      dailyFiles: (scope: Scope, packId?: string, opts?: DayOptions): DailyFile[] =>
        read('cannot list daily files', (t) => t.dailyFiles(scope, packId, opts)),
      deleteDay: (scope: Scope, packId: string, date: string, opts?: DayOptions) =>
        write('cannot delete a day', (t) => t.deleteDay(scope, packId, date, opts)),
      planExport: (scope: Scope, q: ExportQuery) =>
        read('cannot export', (t) => t.planExport(scope, q)),
      startExport: (scope: Scope, q: ExportQuery) =>
        read('cannot export', (t) => t.startExport(scope, q)),
      scanLayouts: (plan: ExportPlan, from: number) =>
        read('cannot export', (t) => t.scanLayouts(plan, from)),
      csvChunk: (plan: ExportPlan, after: number) =>
        read('cannot export CSV', (t) => t.csvChunk(plan, after)),
      rowChunk: (plan: ExportPlan, after: number) =>
        read('cannot export', (t) => t.rowChunk(plan, after)),
      rawBytesPerSample: () => read('cannot measure', (t) => t.rawBytesPerSample()),
    };
  }

  private alarmFacade(): FileAlarms {
    const d = this.deferred;
    return {
      raise: (origin: Origin, e: NewAlarm) =>
        this.defer('cannot record an alarm', (s) => d.raise(s, origin, e)),
      clear: (scope: Scope, id: string, at: number) =>
        this.defer('cannot clear an alarm', (s) => d.clear(s, scope, id, at)),
      acknowledge: (scope: Scope, id: string, by: string, at: number) =>
        this.defer('cannot acknowledge an alarm', (s) => d.acknowledge(s, scope, id, by, at)),
      get: (scope: Scope, ref: RecordRef): AlarmEvent | undefined =>
        d.waitingEvent(scope, recordChecks.recordRef(ref)) ??
        this.run(false, 'cannot read alarm events', (s) => s.alarms.get(scope, ref)),
      list: (scope: Scope, q: AlarmQuery = {}): AlarmEvent[] =>
        d.mergeAlarms(
          this.run(false, 'cannot list alarm events', (s) => s.alarms.list(scope, q)),
          scope,
          q,
        ),
      counts: (scope: Scope, packId?: string) =>
        d.mergeCounts(
          this.run(false, 'cannot count alarm events', (s) => s.alarms.counts(scope, packId)),
          scope,
          packId,
        ),
    };
  }

  private auditFacade(): FileAudit {
    const d = this.deferred;
    return {
      append: (origin: Origin, e: NewAuditEntry) =>
        this.defer('cannot append to the audit log', (s) => d.append(s, origin, e)),
      list: (scope: Scope, q: AuditQuery = {}) =>
        d.mergeAudit(
          this.run(false, 'cannot list the audit log', (s) => s.audit.list(scope, q)),
          scope,
          q,
        ),
    };
  }

  /**
   * Users: reads and account changes go to the file (an account change needs room: it fails
   * with STORAGE_FULL); a login's session and a logout wait in memory when the disk is full.
   * `delete` and `deleteUserTokens` also end the user's memory sessions.
   */
  private userFacade(): FileUsers {
    const d = this.deferred;
    const read = <T>(what: string, fn: (u: SqliteUsers) => T): T =>
      this.run(false, what, (s) => fn(s.users));
    const write = <T>(what: string, fn: (u: SqliteUsers) => T): T =>
      this.run('records', what, (s) => fn(s.users));
    const idOf = (scope: Scope, name: string): string | undefined =>
      read('cannot read users', (u) => u.get(scope, name)?.id);
    return {
      create: (origin: Origin, user: NewUser, hash: string) =>
        write('cannot create the user', (u) => u.create(origin, user, hash)),
      get: (scope: Scope, name: string) => read('cannot read users', (u) => u.get(scope, name)),
      list: (scope: Scope) => read('cannot read users', (u) => u.list(scope)),
      count: (scope: Scope) => read('cannot count users', (u) => u.count(scope)),
      setPassword: (scope: Scope, name: string, hash: string) =>
        write('cannot change the password', (u) => u.setPassword(scope, name, hash)),
      setRole: (scope: Scope, name: string, role: Role) =>
        write('cannot change the role', (u) => u.setRole(scope, name, role)),
      delete: (scope: Scope, name: string) => {
        const id = idOf(scope, name);
        write('cannot delete the user', (u) => u.delete(scope, name));
        if (id) d.dropSessionsOf(id);
      },
      listTokens: (scope: Scope, name: string): TokenInfo[] =>
        read('cannot read tokens', (u) => u.listTokens(scope, name)),
      deleteUserTokens: (scope: Scope, name: string, filter?: TokenFilter): string[] => {
        const id = idOf(scope, name);
        const gone = write('cannot delete tokens', (u) => u.deleteUserTokens(scope, name, filter));
        const f = recordChecks.tokenFilter(filter);
        if (!id || f.kind === 'api') return gone;
        // Sessions that lived in memory end too, and the server closes their streams.
        return [...new Set([...gone, ...d.dropSessionsOf(id, f.except ?? undefined)])];
      },
      purgeExpiredTokens: (now: number) =>
        write('cannot purge tokens', (u) => u.purgeExpiredTokens(now)),
      createToken: (scope: Scope, t: NewToken): void => {
        this.defer('cannot store the session', (s) => {
          if (!s) {
            if (t.kind !== 'session') throw this.noRoom('cannot store the token');
            throw this.noRoom('cannot store the session (the accounts cannot be read)');
          }
          try {
            s.users.createToken(scope, t);
          } catch (err) {
            if (!this.waitable(err) || t.kind !== 'session') throw err;
            const user = s.users.get(scope, t.username);
            if (!user) throw err;
            d.keepSession(err, {
              hash: recordChecks.text(t.hash, 'hash', 200),
              userId: user.id,
              orgId: user.orgId,
              username: user.username,
              kind: 'session',
              createdAt: t.createdAt,
              ...(t.name !== undefined ? { name: t.name } : {}),
              ...(t.expiresAt !== undefined ? { expiresAt: t.expiresAt } : {}),
            });
          }
        });
      },
      findToken: (hash: string, now: number = this.clock()): FoundToken | undefined => {
        if (typeof hash !== 'string' || d.loggedOutHere(hash)) return undefined;
        const stored = read('cannot read tokens', (u) => u.findToken(hash, now));
        if (stored) return stored;
        const t = d.session(hash, now);
        if (!t) return undefined;
        const found: FoundToken = {
          userId: t.userId,
          orgId: t.orgId,
          username: t.username,
          kind: t.kind,
        };
        if (t.expiresAt !== undefined) found.expiresAt = t.expiresAt;
        return found;
      },
      deleteToken: (hash: string): void => {
        if (typeof hash !== 'string' || d.dropSession(hash)) return;
        this.defer('cannot delete the token', (s) => {
          if (!s) return d.keepLogout(this.noRoom('cannot delete the token'), hash);
          try {
            s.users.deleteToken(hash);
          } catch (err) {
            if (!this.waitable(err)) throw err;
            d.keepLogout(err, hash);
          }
        });
      },
    };
  }

  /** Organisations: reads and changes go to the file, as account changes do. */
  private orgFacade(): FileOrgs {
    const read = <T>(what: string, fn: (o: SqliteOrgs) => T): T =>
      this.run(false, what, (s) => fn(s.orgs));
    const write = <T>(what: string, fn: (o: SqliteOrgs) => T): T =>
      this.run('records', what, (s) => fn(s.orgs));
    return {
      createRoot: (org) => write('cannot create the organisation', (o) => o.createRoot(org)),
      create: (within, org) =>
        write('cannot create the organisation', (o) => o.create(within, org)),
      get: (within, id) => read('cannot read organisations', (o) => o.get(within, id)),
      subtree: (within) => read('cannot read organisations', (o) => o.subtree(within)),
      byCode: (code) => read('cannot read organisations', (o) => o.byCode(code)),
      addMember: (within, m) => write('cannot add the member', (o) => o.addMember(within, m)),
      members: (within, orgId) => read('cannot read members', (o) => o.members(within, orgId)),
      setRole: (within, orgId, userId, role) =>
        write('cannot change the role', (o) => o.setRole(within, orgId, userId, role)),
      removeMember: (within, orgId, userId) =>
        write('cannot remove the member', (o) => o.removeMember(within, orgId, userId)),
      membershipsOf: (userId) => read('cannot read memberships', (o) => o.membershipsOf(userId)),
    };
  }

  /** E-mail addresses and sign-up/reset codes: read and written in the file, as accounts are. */
  private accountFacade(): FileAccounts {
    const read = <T>(what: string, fn: (o: SqliteAccounts) => T): T =>
      this.run(false, what, (s) => fn(s.accounts));
    const write = <T>(what: string, fn: (o: SqliteAccounts) => T): T =>
      this.run('records', what, (s) => fn(s.accounts));
    return {
      putCode: (code, gap) => write('cannot store the code', (a) => a.putCode(code, gap)),
      useCode: (p, email, hash, now, max) =>
        write('cannot check the code', (a) => a.useCode(p, email, hash, now, max)),
      userByEmail: (email) => read('cannot read users', (a) => a.userByEmail(email)),
      setProfile: (id, p) => write('cannot change the account', (a) => a.setProfile(id, p)),
      profileOf: (id) => read('cannot read users', (a) => a.profileOf(id)),
      notifyRecipients: () => read('cannot read users', (a) => a.notifyRecipients()),
    };
  }

  /** The device list and approvals: read and written in the file, as organisations are. */
  private deviceFacade(): FileDevices {
    const read = <T>(what: string, fn: (o: SqliteDevices) => T): T =>
      this.run(false, what, (s) => fn(s.devices));
    const write = <T>(what: string, fn: (o: SqliteDevices) => T): T =>
      this.run('records', what, (s) => fn(s.devices));
    return {
      create: (w, d) => write('cannot register the device', (o) => o.create(w, d)),
      createMany: (w, ds) => write('cannot import the devices', (o) => o.createMany(w, ds)),
      get: (w, id) => read('cannot read devices', (o) => o.get(w, id)),
      bySerial: (w, s) => read('cannot read devices', (o) => o.bySerial(w, s)),
      byPack: (w, gws, p) => read('cannot read devices', (o) => o.byPack(w, gws, p)),
      update: (w, id, p) => write('cannot change the device', (o) => o.update(w, id, p)),
      list: (w, q) => read('cannot list devices', (o) => o.list(w, q)),
      counts: (w, q) => read('cannot count devices', (o) => o.counts(w, q)),
      countIn: (org) => read('cannot count devices', (o) => o.countIn(org)),
      seen: (gw, ids, at) => write('cannot mark devices seen', (o) => o.seen(gw, ids, at)),
      bind: (w, id, org) => write('cannot bind the device', (o) => o.bind(w, id, org)),
      requestUnbind: (w, r) => write('cannot ask for the unbind', (o) => o.requestUnbind(w, r)),
      approval: (q, id) => read('cannot read approvals', (o) => o.approval(q, id)),
      approvals: (q) => read('cannot read approvals', (o) => o.approvals(q)),
      decide: (id, d) => write('cannot decide the approval', (o) => o.decide(id, d)),
      renew: (w, r) => write('cannot renew the devices', (o) => o.renew(w, r)),
      renewals: (w, q) => read('cannot read renewals', (o) => o.renewals(w, q)),
    };
  }

  /** Plants, visitors and collectors: read and written in the file, as organisations are. */
  private plantFacade(): FilePlants {
    const read = <T>(what: string, fn: (o: SqlitePlants) => T): T =>
      this.run(false, what, (s) => fn(s.plants));
    const write = <T>(what: string, fn: (o: SqlitePlants) => T): T =>
      this.run('records', what, (s) => fn(s.plants));
    return {
      create: (w, p) => write('cannot create the plant', (o) => o.create(w, p)),
      get: (v, id) => read('cannot read plants', (o) => o.get(v, id)),
      list: (v) => read('cannot read plants', (o) => o.list(v)),
      update: (w, id, p) => write('cannot change the plant', (o) => o.update(w, id, p)),
      delete: (w, id) => write('cannot delete the plant', (o) => o.delete(w, id)),
      addVisitor: (w, id, v) => write('cannot share the plant', (o) => o.addVisitor(w, id, v)),
      visitors: (w, id) => read('cannot read visitors', (o) => o.visitors(w, id)),
      removeVisitor: (w, id, u) => write('cannot end the share', (o) => o.removeVisitor(w, id, u)),
      visitsOf: (u) => read('cannot read visits', (o) => o.visitsOf(u)),
      attachCollector: (w, id, k) =>
        write('cannot attach the collector', (o) => o.attachCollector(w, id, k)),
      collectors: (v, id) => read('cannot read collectors', (o) => o.collectors(v, id)),
      detachCollector: (w, id, g) =>
        write('cannot detach the collector', (o) => o.detachCollector(w, id, g)),
    };
  }

  /** Point groups: read and written in the file, as accounts are. */
  private pointFacade(): FilePoints {
    return {
      list: (ids) => this.run(false, 'cannot read point groups', (s) => s.points.list(ids)),
      replace: (org, groups, now) =>
        this.run('records', 'cannot save point groups', (s) => s.points.replace(org, groups, now)),
    };
  }

  private waitable(e: unknown): boolean {
    const code = this.classify(e).code;
    return code === 'STORAGE_FULL' || code === 'STORAGE_READ_ONLY' || code === 'STORAGE_CORRUPT';
  }

  private noRoom(what: string): BmsError {
    return new BmsError(
      'STORAGE_FULL',
      `${what}: the database file cannot be opened (disk full); kept in memory until there is room`,
    );
  }

  // ------------------------------------------------------------------ health

  health(): StorageHealth {
    const problems: StorageProblem[] = [];
    if (this.mode !== 'memory') {
      const files = setAsideFiles(this.path);
      if (files.length > 0) {
        problems.push({
          code: 'STORAGE_CORRUPT',
          message: `the database was found damaged and set aside as ${files.map((f) => f.file).join(', ')}; a fresh one is in use. Recover the old data (packages/storage-sqlite README, "Damaged database"), then move or delete the set-aside file to clear this`,
          since: files[0]!.at,
          files: files.map((f) => f.file),
        });
      } else if (this.stuck) problems.push(this.stuck);
    }
    if (this.full) problems.push({ ...this.full });
    return { problems, deferred: this.deferred.size };
  }

  onHealth(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    if (this.listeners.size === 0) return;
    queueMicrotask(() => {
      for (const l of [...this.listeners]) l();
    });
  }

  /**
   * Writes what waits, opens the file if it was not open for lack of space, and clears the
   * full disk when the file system has room again although no write of the failed kind
   * came by. The gateway calls it after each flush of its sample writer.
   */
  retry(): void {
    if (this.closed) return;
    this.recover(true);
    this.flushDeferred();
    if (this.full && this.mode !== 'standby' && this.roomAgain()) {
      if (this.mode === 'exclusive') this.reopenNormally();
      // reopenNormally may have fallen back to the stand-in.
      if ((this.mode as Mode) !== 'standby') this.clearFull();
    }
  }

  /**
   * quick_check of the file: in a worker thread on its own read-only connection, or on the
   * main connection while it is exclusive (disk full). A damaged file is set aside and a
   * fresh one opened, as when a query meets damage. `timeoutMs` (default 60 s) bounds the
   * wait: past it the result is `unfinished` and the worker ends on its own.
   */
  async checkIntegrity(opts: { timeoutMs?: number } = {}): Promise<IntegrityReport> {
    const t0 = performance.now();
    const ms = (): number => Math.round(performance.now() - t0);
    if (this.closed || this.mode === 'memory' || this.mode === 'standby') {
      return {
        result: 'unfinished',
        detail: this.mode === 'standby' ? 'the file is not open (disk full)' : 'no file',
        ms: ms(),
      };
    }
    const gen = this.generation;
    let lines: string[];
    if (this.mode === 'exclusive') {
      try {
        lines = quickCheckSync(this.inner.db);
      } catch (e) {
        const err = this.classify(e);
        if (err.code !== 'STORAGE_CORRUPT')
          return { result: 'unfinished', detail: err.message, ms: ms() };
        lines = [err.message];
      }
    } else {
      const r = await quickCheckInWorker(this.path, opts.timeoutMs ?? 60_000);
      if (r.kind === 'timeout') {
        return {
          result: 'unfinished',
          detail: `not finished in ${opts.timeoutMs ?? 60_000} ms`,
          ms: ms(),
        };
      }
      if (r.kind === 'error') {
        const err = storageError(
          Object.assign(new Error(r.message), { code: r.code }),
          'quick_check',
        );
        if (err.code !== 'STORAGE_CORRUPT')
          return { result: 'unfinished', detail: err.message, ms: ms() };
        lines = [r.message];
      } else lines = r.lines;
    }
    if (lines.length === 1 && lines[0] === 'ok') return { result: 'ok', detail: 'ok', ms: ms() };
    const detail = `quick_check: ${lines.slice(0, 3).join('; ')}`;
    if (this.closed || gen !== this.generation) {
      // The file was replaced meanwhile (a query met the damage first).
      return { result: 'corrupt', detail, ms: ms() };
    }
    this.inner = this.replaceDamaged(this.inner, detail);
    const aside = this.lastSetAside;
    return { result: 'corrupt', detail, ms: ms(), ...(aside ? { setAside: aside } : {}) };
  }

  /**
   * Merges another OpenBMS database (the set-aside damaged file, or a recovered copy) into
   * this one, then folds the rollups: see merge.ts. Run it with OpenBMS stopped.
   */
  merge(sourcePath: string): MergeReport {
    if (this.closed || this.mode !== 'normal') {
      throw new BmsError(
        'STORAGE_FAILED',
        `cannot merge into ${this.path}: it is not open normally (${this.closed ? 'closed' : 'disk full'})`,
      );
    }
    const src = openReadOnly(sourcePath);
    try {
      const report = mergeDatabase(this.inner.db, this.telemetry, src, this.identity);
      this.telemetry.rollup(this.clock());
      return report;
    } catch (e) {
      throw storageError(e, `merging ${sourcePath}`);
    } finally {
      src.close();
    }
  }

  /** Writes what waits if it can, then closes. */
  close(): void {
    if (this.closed) return;
    try {
      this.retry();
    } catch {
      // closing anyway: what could not be written is reported by health() until now
    }
    this.closed = true;
    this.inner.db.close();
  }
}

// ---------------------------------------------------------------- the stores' shapes

/** The telemetry of the file (the port's methods, synchronous) and the steps the storage runs in turn. */
export interface FileTelemetry {
  writeSamples(origin: Origin, samples: readonly Sample[]): void;
  rollup(now: number): void;
  packs(): number[];
  rollupPack(pack: number, now: number): void;
  applyRetention(now: number, policy?: RetentionPolicy): void;
  history(scope: Scope, q: HistoryQuery): HistoryResult;
  latest(scope: Scope, packId: string): Sample | undefined;
  dailyFiles(scope: Scope, packId?: string, opts?: DayOptions): DailyFile[];
  deleteDay(scope: Scope, packId: string, date: string, opts?: DayOptions): number;
  planExport(scope: Scope, q: ExportQuery): ExportPlan;
  startExport(scope: Scope, q: ExportQuery): { plan: ExportPlan; scanFrom: number | null };
  scanLayouts(plan: ExportPlan, from: number): { fields: string[]; next: number | null };
  csvChunk(plan: ExportPlan, after: number): { text: string; next: number | null };
  rowChunk(
    plan: ExportPlan,
    after: number,
  ): { times: Float64Array; values: Float64Array; next: number | null };
  rawBytesPerSample(): number;
}

export interface FileAlarms {
  raise(origin: Origin, e: NewAlarm): AlarmEvent;
  clear(scope: Scope, id: string, at: number): void;
  acknowledge(scope: Scope, id: string, by: string, at: number): boolean;
  get(scope: Scope, ref: RecordRef): AlarmEvent | undefined;
  list(scope: Scope, q?: AlarmQuery): AlarmEvent[];
  counts(scope: Scope, packId?: string): Record<string, number>;
}

export interface FileAudit {
  append(origin: Origin, e: NewAuditEntry): AuditEntry;
  list(scope: Scope, q?: AuditQuery): AuditEntry[];
}

export interface FileUsers {
  create(origin: Origin, user: NewUser, passwordHash: string): User;
  get(scope: Scope, username: string): (User & { passwordHash: string }) | undefined;
  list(scope: Scope): User[];
  count(scope: Scope): number;
  setPassword(scope: Scope, username: string, passwordHash: string): void;
  setRole(scope: Scope, username: string, role: Role): void;
  delete(scope: Scope, username: string): void;
  createToken(scope: Scope, t: NewToken): void;
  findToken(hash: string, now?: number): FoundToken | undefined;
  deleteToken(hash: string): void;
  listTokens(scope: Scope, username: string): TokenInfo[];
  deleteUserTokens(scope: Scope, username: string, filter?: TokenFilter): string[];
  purgeExpiredTokens(now: number): number;
}

/** The OrgStore in the writer thread (synchronous). */
export type FileOrgs = {
  [K in keyof OrgStore]: (...a: Parameters<OrgStore[K]>) => Awaited<ReturnType<OrgStore[K]>>;
};

/** The PlantStore in the writer thread (synchronous). */
export type FilePlants = {
  [K in keyof PlantStore]: (...a: Parameters<PlantStore[K]>) => Awaited<ReturnType<PlantStore[K]>>;
};

/** The AccountStore in the writer thread (synchronous). */
export type FileAccounts = {
  [K in keyof AccountStore]: (
    ...a: Parameters<AccountStore[K]>
  ) => Awaited<ReturnType<AccountStore[K]>>;
};

/** The DeviceStore in the writer thread (synchronous). */
export type FileDevices = {
  [K in keyof DeviceStore]: (
    ...a: Parameters<DeviceStore[K]>
  ) => Awaited<ReturnType<DeviceStore[K]>>;
};
/** The PointGroupStore in the writer thread (synchronous). */
export type FilePoints = {
  [K in keyof PointGroupStore]: (
    ...a: Parameters<PointGroupStore[K]>
  ) => Awaited<ReturnType<PointGroupStore[K]>>;
};

/** The RemoteCollectorStore in the writer thread (synchronous). */
export type FileRemoteCollectors = {
  [K in keyof RemoteCollectorStore]: (
    ...a: Parameters<RemoteCollectorStore[K]>
  ) => Awaited<ReturnType<RemoteCollectorStore[K]>>;
};

/** The PositionStore in the writer thread (synchronous). */
export type FileInstructions = {
  [K in keyof InstructionStore]: (
    ...a: Parameters<InstructionStore[K]>
  ) => Awaited<ReturnType<InstructionStore[K]>>;
};

export type FilePositions = {
  [K in keyof PositionStore]: (
    ...a: Parameters<PositionStore[K]>
  ) => Awaited<ReturnType<PositionStore[K]>>;
};

/** The GeofenceStore in the writer thread (synchronous). */
export type FileGeofences = {
  [K in keyof GeofenceStore]: (
    ...a: Parameters<GeofenceStore[K]>
  ) => Awaited<ReturnType<GeofenceStore[K]>>;
};
