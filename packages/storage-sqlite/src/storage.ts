/**
 * `SqliteStorage`: the storage port on one SQLite file, with every query off the event loop
 * (ADR: SQLite worker threads). The main thread only posts calls and awaits answers:
 *
 * - one **writer** thread owns the writing connection and everything `FileStorage` does
 *   (migrations, full disk, damaged file, records kept in memory): every write, the records
 *   reads (alarm events, audit, accounts: they merge what waits in memory), and every read
 *   while the file is not open normally (disk full at start, in-memory stand-in);
 * - **reader** threads (two by default, started at the first read) each with a read-only
 *   connection, for the telemetry reads: history, latest snapshot, daily files and exports.
 *   WAL lets them read while the writer writes; a reader that meets a damaged page tells the
 *   writer, which sets the file aside, and the readers reopen the fresh one.
 *
 * Exports are read in chunks (MAX_EXPORT_CHUNK_ROWS rows, one query each, the next one asked
 * for when the consumer takes the last), so a long export holds one chunk at a time and
 * other reads run between its chunks; polling on the main thread never waits for a query.
 */
import { BmsError } from '@openbms/core';
import {
  recordChecks,
  type AlarmEvent,
  type AlarmQuery,
  type AlarmStore,
  type AuditEntry,
  type AuditQuery,
  type AuditStore,
  type DailyFile,
  type DayOptions,
  type ExportQuery,
  type FoundToken,
  energyFromHistory,
  type EnergyQuery,
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
  type RowBatch,
  type RowExport,
  type Sample,
  type Scope,
  type Storage,
  type StorageHealth,
  type TelemetryStore,
  type TokenFilter,
  type TokenInfo,
  type User,
  type UserStore,
  type OrgStore,
  type AccountStore,
  type DeviceStore,
  type PlantStore,
  type PointGroupStore,
  type Position,
  type PositionStore,
  type Instruction,
  type InstructionStore,
  type TrackerState,
  type HelloOutcome,
  type RemoteCollector,
  type RemoteCollectorStore,
  type GeofenceStore,
} from '@openbms/storage';
import type { SqliteStorageOptions as FileOptions } from './file-storage.js';
import type { MergeReport } from './merge.js';
import type { WorkerEvent, WriterState } from './sqlite-worker.js';
import type { ExportPlan } from './telemetry.js';
import { sortFields } from './telemetry-fields.js';
import { WorkerClient, fromWire, workerEntry } from './worker-client.js';

export interface SqliteStorageOptions {
  /** The data directory: the file is `<dataDir>/openbms.sqlite`. */
  dataDir?: string;
  /** Or the file itself; neither: `:memory:` (tests; everything runs in the writer thread). */
  path?: string;
  /** ms since the epoch, sent with every call (the writer's clock); injectable for tests. */
  clock?: () => number;
  /** While the file cannot be opened for lack of space, how often a write tries again (ms, default 1000). */
  retryMs?: number;
  /** File-mode and identity warnings (a data directory open to other users...). */
  onWarning?: (message: string) => void;
  /** Whose records these are (default: the database's, else `<dataDir>/identity.json`, else new). */
  identity?: Origin;
  /** Reader threads for telemetry reads (default 2; 0: the writer reads too). */
  readers?: number;
}

/** The UserStore of this adapter, with what it adds: `now` for findToken, purging tokens. */
export interface SqliteUserStore extends UserStore {
  findToken(hash: string, now?: number): Promise<FoundToken | undefined>;
  purgeExpiredTokens(now: number): Promise<number>;
}

const header = (fields: readonly string[]): string => `${['time', ...fields].join(',')}\n`;

export class SqliteStorage implements Storage {
  readonly telemetry: TelemetryStore;
  readonly alarms: AlarmStore;
  readonly audit: AuditStore;
  readonly users: SqliteUserStore;
  readonly orgs: OrgStore;
  readonly accounts: AccountStore;
  readonly devices: DeviceStore;
  readonly plants: PlantStore;
  readonly points: PointGroupStore;
  readonly positions: PositionStore;
  readonly instructions: InstructionStore;
  readonly geofences: GeofenceStore;
  readonly remoteCollectors: RemoteCollectorStore;
  /** The database file (`:memory:` in tests). */
  readonly path: string;
  /** Whose records this storage writes (ADR: identity): the single box's organisation and gateway. */
  readonly identity: Origin;

  private readonly readers: (WorkerClient | undefined)[];
  private nextReader = 0;
  private state: WriterState;
  private readonly listeners = new Set<() => void>();
  private closed = false;

  private constructor(
    private readonly writer: WorkerClient,
    ready: Extract<WorkerEvent, { event: 'ready' }>,
    private readonly opts: SqliteStorageOptions,
    private readonly clock: () => number,
  ) {
    this.path = ready.path;
    this.identity = ready.identity;
    this.state = ready.state;
    this.readers = new Array<WorkerClient | undefined>(
      this.path === ':memory:' ? 0 : Math.max(0, opts.readers ?? 2),
    );
    this.telemetry = this.telemetryPort();
    this.alarms = this.alarmPort();
    this.audit = this.auditPort();
    this.users = this.userPort();
    this.orgs = this.orgPort();
    this.accounts = this.accountPort();
    this.devices = this.devicePort();
    this.plants = this.plantPort();
    this.points = this.pointPort();
    this.positions = {
      add: (ps) => this.write<number>('positions.add', ps),
      list: (id, q) => this.write<Position[]>('positions.list', id, q),
      latest: (ids) => this.write<Position[]>('positions.latest', ids),
      latestAt: (id, t) => this.write<Position | undefined>('positions.latestAt', id, t),
    };
    this.geofences = {
      create: (w, f) => this.write('geofences.create', w, f),
      get: (w, id) => this.write('geofences.get', w, id),
      list: (w, q) => this.write('geofences.list', w, q),
      update: (w, id, p) => this.write('geofences.update', w, id, p),
      delete: (w, id) => this.write('geofences.delete', w, id),
      forDevice: (d, o) => this.write('geofences.forDevice', d, o),
      states: (d) => this.write('geofences.states', d),
      setState: (d, f, i, t) => this.write('geofences.setState', d, f, i, t),
    };
    this.instructions = {
      create: (i) => this.write<Instruction>('instructions.create', i),
      get: (id) => this.write<Instruction | undefined>('instructions.get', id),
      list: (d, n) => this.write<Instruction[]>('instructions.list', d, n),
      queued: (ds, now) => this.write<Instruction[]>('instructions.queued', ds, now),
      claim: (id, node, at) => this.write<boolean>('instructions.claim', id, node, at),
      finish: (id, o) => this.write<boolean>('instructions.finish', id, o),
      expire: (now) => this.write<number>('instructions.expire', now),
      timeOut: (b, at) => this.write<number>('instructions.timeOut', b, at),
      setArmed: (st) => this.write<void>('instructions.setArmed', st),
      trackerState: (d) => this.write<TrackerState | undefined>('instructions.trackerState', d),
    };
    type Rc = RemoteCollector;
    this.remoteCollectors = {
      hello: (i) => this.write<HelloOutcome>('remoteCollectors.hello', i),
      claim: (i) => this.write<Rc>('remoteCollectors.claim', i),
      setCredentials: (k, x, at) => this.write<void>('remoteCollectors.setCredentials', k, x, at),
      verify: (k, x) => this.write<Rc | undefined>('remoteCollectors.verify', k, x),
      revoke: (k, by, at) => this.write<Rc>('remoteCollectors.revoke', k, by, at),
      get: (k) => this.write<Rc | undefined>('remoteCollectors.get', k),
      byGateway: (g) => this.write<Rc | undefined>('remoteCollectors.byGateway', g),
      list: (within) => this.write<Rc[]>('remoteCollectors.list', within),
      seen: (k, at) => this.write<void>('remoteCollectors.seen', k, at),
    };
  }

  /**
   * Opens (creating if needed) the database in its writer thread; rejects with the coded
   * error when it cannot be opened at all (a data directory that is a file...). A full disk
   * or a damaged file does not stop it: see README.md.
   */
  static async open(opts: SqliteStorageOptions = {}): Promise<SqliteStorage> {
    const clock = opts.clock ?? Date.now;
    const { clock: _c, onWarning, readers: _r, ...rest } = opts;
    const fileOpts: Omit<FileOptions, 'clock' | 'onOpen' | 'onWarning'> = rest;
    // The writer's events before the storage exists (it is made once the writer is ready).
    const made: { storage?: SqliteStorage } = {};
    const early: WorkerEvent[] = [];
    let settle: ((e: WorkerEvent) => void) | undefined;
    const writer = new WorkerClient(workerEntry(), { role: 'writer', options: fileOpts }, (e) => {
      if (e.event === 'warning') onWarning?.(e.message);
      else if (made.storage) made.storage.onWriterEvent(e);
      else if (e.event === 'ready' || e.event === 'failed') settle?.(e);
      else early.push(e);
    });
    const first = await new Promise<WorkerEvent>((resolve) => (settle = resolve));
    if (first.event !== 'ready') {
      await writer.terminate();
      throw first.event === 'failed'
        ? fromWire(first.error)
        : new BmsError('STORAGE_FAILED', 'the storage thread did not start');
    }
    const storage = new SqliteStorage(writer, first, opts, clock);
    made.storage = storage;
    for (const e of early) storage.onWriterEvent(e);
    return storage;
  }

  // ------------------------------------------------------------------ threads

  private onWriterEvent(e: WorkerEvent): void {
    if (e.event === 'state') {
      const replaced = e.state.generation !== this.state.generation;
      this.state = e.state;
      // A fresh file, or not open normally any more: readers let go of the old one.
      if (replaced || e.state.mode !== 'normal') void this.resetReaders();
    } else if (e.event === 'health') {
      for (const l of [...this.listeners]) l();
    }
  }

  private async resetReaders(): Promise<void> {
    await Promise.all(
      this.readers.map((r) =>
        r?.alive ? r.call('reader.close', [], this.clock()).catch(() => undefined) : undefined,
      ),
    );
  }

  private write<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(this.closedError(op));
    return this.writer.call<T>(op, args, this.clock());
  }

  /** A reader for a telemetry read: the least busy one, started when first needed. */
  private reader(): WorkerClient | undefined {
    if (this.readers.length === 0 || this.state.mode !== 'normal') return undefined;
    let best = -1;
    for (let i = 0; i < this.readers.length; i++) {
      const k = (this.nextReader + i) % this.readers.length;
      const r = this.readers[k];
      if (!r || !r.alive) {
        this.readers[k] = new WorkerClient(workerEntry(), { role: 'reader', path: this.path });
        best = k;
        break;
      }
      if (best < 0 || r.busy < this.readers[best]!.busy) best = k;
    }
    this.nextReader = (best + 1) % this.readers.length;
    return this.readers[best];
  }

  /**
   * A telemetry read: on a reader while the file is open normally, else on the writer. A
   * reader that met damage has the writer set the file aside before the read answers
   * STORAGE_CORRUPT (so health() says so at once), as a read of the writer would.
   */
  private async read<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.closed) throw this.closedError(op);
    const r = this.reader();
    if (!r) return this.writer.call<T>(op, args, this.clock());
    const generation = this.state.generation;
    try {
      return await r.call<T>(op, args, this.clock(), generation);
    } catch (e) {
      const code = (e as { code?: string }).code;
      // A reader that could not read (the file being replaced, locked for a moment): the
      // writer's connection answers instead.
      if (code === 'STORAGE_FAILED') return this.writer.call<T>(op, args, this.clock());
      if (code !== 'STORAGE_CORRUPT') throw e;
      const message = await this.writer.call<string>(
        'storage.damaged',
        [generation, (e as Error).message],
        this.clock(),
      );
      throw new BmsError('STORAGE_CORRUPT', message, (e as BmsError).details);
    }
  }

  private closedError(what: string): BmsError {
    return new BmsError('STORAGE_FAILED', `${what}: the storage is closed`);
  }

  // ------------------------------------------------------------------ telemetry

  private telemetryPort(): TelemetryStore {
    return {
      writeSamples: (origin: Origin, samples: readonly Sample[]) =>
        this.write<void>('telemetry.writeSamples', origin, samples),
      // Pack by pack, so other calls to the writer (a login, an alarm) go between them.
      rollup: async (now: number) => {
        if (!Number.isFinite(now))
          throw new BmsError('REQUEST_INVALID', `rollup: now must be a time in ms, got ${now}`);
        for (const pack of await this.write<number[]>('telemetry.packs'))
          await this.write<void>('telemetry.rollupPack', pack, now);
      },
      applyRetention: (now: number, policy?: RetentionPolicy) =>
        this.write<void>('telemetry.applyRetention', now, policy),
      history: (scope: Scope, q: HistoryQuery) =>
        this.read<HistoryResult>('telemetry.history', scope, q),
      latest: (scope: Scope, packId: string) =>
        this.read<Sample | undefined>('telemetry.latest', scope, packId),
      dailyFiles: (scope: Scope, packId?: string, opts?: DayOptions) =>
        this.read<DailyFile[]>('telemetry.dailyFiles', scope, packId, opts),
      deleteDay: (scope: Scope, packId: string, date: string, opts?: DayOptions) =>
        this.write<number>('telemetry.deleteDay', scope, packId, date, opts),
      exportCsv: async (scope: Scope, q: ExportQuery) => {
        const plan = await this.plan(scope, q);
        return this.csvChunks(plan);
      },
      exportRows: async (scope: Scope, q: ExportQuery): Promise<RowExport> => {
        const plan = await this.plan(scope, q);
        return { fields: [...plan.fields], batches: this.rowBatches(plan) };
      },
      energy: (scope: Scope, q: EnergyQuery) =>
        energyFromHistory((h) => this.read<HistoryResult>('telemetry.history', scope, h), q),
    };
  }

  /** Checks an export and fixes its columns, step by step (the layouts of a long range in chunks). */
  private async plan(scope: Scope, q: ExportQuery): Promise<ExportPlan & { generation: number }> {
    const generation = this.state.generation;
    const start = await this.read<{ plan: ExportPlan; scanFrom: number | null }>(
      'telemetry.startExport',
      scope,
      q,
    );
    if (start.scanFrom === null) return { ...start.plan, generation };
    const fields = new Set<string>();
    for (let from: number | null = start.scanFrom; from !== null;) {
      const step: { fields: string[]; next: number | null } = await this.read(
        'telemetry.scanLayouts',
        start.plan,
        from,
      );
      for (const f of step.fields) fields.add(f);
      from = step.next;
    }
    return { ...start.plan, fields: sortFields(fields), generation };
  }

  /**
   * The chunks of an export, each asked for one chunk ahead of the consumer (so the next is
   * being read while the last is written out, and at most two are held).
   */
  private async *chunks<T>(
    plan: ExportPlan & { generation: number },
    op: string,
  ): AsyncGenerator<T & { next: number | null }> {
    const { generation, ...p } = plan;
    const fetch = (after: number) => this.read<T & { next: number | null }>(op, p, after);
    let pending: Promise<T & { next: number | null }> | undefined =
      p.pack === null ? undefined : fetch(p.from);
    while (pending) {
      const chunk = await pending;
      if (this.state.generation !== generation) {
        throw new BmsError(
          'STORAGE_CORRUPT',
          'the database was replaced while it was being exported (it was found damaged); export again',
        );
      }
      pending = chunk.next === null ? undefined : fetch(chunk.next);
      // Whoever stops reading early leaves the prefetched chunk unread: nothing waits on it.
      pending?.catch(() => undefined);
      yield chunk;
    }
  }

  private async *csvChunks(plan: ExportPlan & { generation: number }): AsyncGenerator<string> {
    yield header(plan.fields);
    for await (const c of this.chunks<{ text: string }>(plan, 'telemetry.csvChunk')) {
      if (c.text.length > 0) yield c.text;
    }
  }

  private async *rowBatches(plan: ExportPlan & { generation: number }): AsyncGenerator<RowBatch> {
    for await (const c of this.chunks<RowBatch>(plan, 'telemetry.rowChunk')) {
      if (c.times.length > 0) yield { times: c.times, values: c.values };
    }
  }

  // ------------------------------------------------------------------ records

  private alarmPort(): AlarmStore {
    return {
      raise: (origin: Origin, e: NewAlarm) => this.write<AlarmEvent>('alarms.raise', origin, e),
      clear: (scope: Scope, id: string, at: number) =>
        this.write<void>('alarms.clear', scope, id, at),
      acknowledge: (scope: Scope, id: string, by: string, at: number) =>
        this.write<boolean>('alarms.acknowledge', scope, id, by, at),
      get: (scope: Scope, ref: RecordRef) =>
        this.write<AlarmEvent | undefined>('alarms.get', scope, ref),
      list: (scope: Scope, q?: AlarmQuery) => this.write<AlarmEvent[]>('alarms.list', scope, q),
      counts: (scope: Scope, packId?: string) =>
        this.write<Record<string, number>>('alarms.counts', scope, packId),
    };
  }

  private auditPort(): AuditStore {
    return {
      append: async (origin: Origin, e: NewAuditEntry) => {
        // What JSON cannot hold is refused here, naming the field (a function would not
        // even cross to the writer thread).
        if (typeof e === 'object' && e !== null) {
          recordChecks.json(e.old, 'old');
          recordChecks.json(e.new, 'new');
        }
        return this.write<AuditEntry>('audit.append', origin, e);
      },
      list: (scope: Scope, q?: AuditQuery) => this.write<AuditEntry[]>('audit.list', scope, q),
    };
  }

  /** E-mail addresses and codes: every call in the writer thread (small and transactional). */
  private accountPort(): AccountStore {
    const call =
      <K extends keyof AccountStore>(method: K) =>
      (...args: Parameters<AccountStore[K]>): ReturnType<AccountStore[K]> =>
        this.write(`accounts.${method}`, ...args) as ReturnType<AccountStore[K]>;
    return {
      putCode: call('putCode'),
      useCode: call('useCode'),
      userByEmail: call('userByEmail'),
      setProfile: call('setProfile'),
      profileOf: call('profileOf'),
      notifyRecipients: call('notifyRecipients'),
    };
  }

  /** The device list and approvals: every call in the writer thread (indexed and small). */
  private devicePort(): DeviceStore {
    const call =
      <K extends keyof DeviceStore>(method: K) =>
      (...args: Parameters<DeviceStore[K]>): ReturnType<DeviceStore[K]> =>
        this.write(`devices.${method}`, ...args) as ReturnType<DeviceStore[K]>;
    return {
      create: call('create'),
      createMany: call('createMany'),
      get: call('get'),
      bySerial: call('bySerial'),
      byPack: call('byPack'),
      update: call('update'),
      list: call('list'),
      counts: call('counts'),
      countIn: call('countIn'),
      seen: call('seen'),
      bind: call('bind'),
      requestUnbind: call('requestUnbind'),
      approval: call('approval'),
      approvals: call('approvals'),
      decide: call('decide'),
      renew: call('renew'),
      renewals: call('renewals'),
    };
  }

  /** Plants, visitors and collectors: every call in the writer thread (small and transactional). */
  private plantPort(): PlantStore {
    const call =
      <K extends keyof PlantStore>(method: K) =>
      (...args: Parameters<PlantStore[K]>): ReturnType<PlantStore[K]> =>
        this.write(`plants.${method}`, ...args) as ReturnType<PlantStore[K]>;
    return {
      create: call('create'),
      get: call('get'),
      list: call('list'),
      update: call('update'),
      delete: call('delete'),
      addVisitor: call('addVisitor'),
      visitors: call('visitors'),
      removeVisitor: call('removeVisitor'),
      visitsOf: call('visitsOf'),
      attachCollector: call('attachCollector'),
      collectors: call('collectors'),
      detachCollector: call('detachCollector'),
    };
  }

  /** Point groups: every call in the writer thread (small; a save is one transaction). */
  private pointPort(): PointGroupStore {
    const call =
      <K extends keyof PointGroupStore>(method: K) =>
      (...args: Parameters<PointGroupStore[K]>): ReturnType<PointGroupStore[K]> =>
        this.write(`points.${method}`, ...args) as ReturnType<PointGroupStore[K]>;
    return { list: call('list'), replace: call('replace') };
  }

  /** Organisations and memberships: every call in the writer thread (they are small and transactional). */
  private orgPort(): OrgStore {
    const call =
      <K extends keyof OrgStore>(method: K) =>
      (...args: Parameters<OrgStore[K]>): ReturnType<OrgStore[K]> =>
        this.write(`orgs.${method}`, ...args) as ReturnType<OrgStore[K]>;
    return {
      createRoot: call('createRoot'),
      create: call('create'),
      get: call('get'),
      subtree: call('subtree'),
      byCode: call('byCode'),
      addMember: call('addMember'),
      members: call('members'),
      setRole: call('setRole'),
      removeMember: call('removeMember'),
      membershipsOf: call('membershipsOf'),
    };
  }

  private userPort(): SqliteUserStore {
    return {
      create: (origin: Origin, user: NewUser, hash: string) =>
        this.write<User>('users.create', origin, user, hash),
      get: (scope: Scope, name: string) =>
        this.write<(User & { passwordHash: string }) | undefined>('users.get', scope, name),
      list: (scope: Scope) => this.write<User[]>('users.list', scope),
      count: (scope: Scope) => this.write<number>('users.count', scope),
      setPassword: (scope: Scope, name: string, hash: string) =>
        this.write<void>('users.setPassword', scope, name, hash),
      setRole: (scope: Scope, name: string, role: Role) =>
        this.write<void>('users.setRole', scope, name, role),
      delete: (scope: Scope, name: string) => this.write<void>('users.delete', scope, name),
      createToken: (scope: Scope, t: NewToken) => this.write<void>('users.createToken', scope, t),
      findToken: (hash: string, now?: number) =>
        this.write<FoundToken | undefined>(
          'users.findToken',
          ...(now === undefined ? [hash] : [hash, now]),
        ),
      deleteToken: (hash: string) => this.write<void>('users.deleteToken', hash),
      listTokens: (scope: Scope, name: string) =>
        this.write<TokenInfo[]>('users.listTokens', scope, name),
      deleteUserTokens: (scope: Scope, name: string, filter?: TokenFilter) =>
        this.write<string[]>('users.deleteUserTokens', scope, name, filter),
      purgeExpiredTokens: (now: number) => this.write<number>('users.purgeExpiredTokens', now),
    };
  }

  // ------------------------------------------------------------------ health and files

  health(): Promise<StorageHealth> {
    return this.write<StorageHealth>('storage.health');
  }

  onHealth(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** quick_check (in its own thread, on its own connection); a damaged file is set aside. */
  checkIntegrity(opts: { timeoutMs?: number } = {}): Promise<IntegrityReport> {
    return this.write<IntegrityReport>('storage.checkIntegrity', opts);
  }

  retry(): Promise<void> {
    return this.write<void>('storage.retry');
  }

  /** Merges a set-aside (or recovered) database into this one (`openbms db merge`; run it with OpenBMS stopped). */
  merge(sourcePath: string): Promise<MergeReport> {
    return this.write<MergeReport>('storage.merge', sourcePath);
  }

  /** On-disk bytes of the raw tier per stored sample (for the bench; not part of the port). */
  rawBytesPerSample(): Promise<number> {
    return this.write<number>('telemetry.rawBytesPerSample');
  }

  /** Writes what waits if it can, closes the file and ends the threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.writer.call('storage.close', [], this.clock());
    } catch {
      // closing anyway: the writer says what it could not write in its health until now
    }
    await Promise.all([this.writer, ...this.readers].map((w) => w?.terminate()));
  }
}
