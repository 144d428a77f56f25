/**
 * `PostgresStorage`: the storage port on a PostgreSQL database (ADR 0015). One pool of a few
 * connections; every call is one query or one transaction on it, so nothing runs on the event
 * loop but the encoding of parameters and results, and a long export or history query holds
 * one connection while writes and other reads use the others.
 *
 * Outages: when the server cannot be reached (down, restarting, refusing, a connection
 * killed), calls fail with STORAGE_UNAVAILABLE and `health()` reports it until a call
 * succeeds again; the gateway's writer keeps the batch and retries at its next interval, as
 * it does for SQLite's full disk. Nothing here retries on its own or throws outside a call.
 */
import type { PoolClient } from 'pg';
import { BmsError } from '@openbms/core';
import {
  energyFromHistory,
  newId,
  recordChecks,
  type AlarmStore,
  type AuditStore,
  type DayOptions,
  type Origin,
  type OrgStore,
  type AccountStore,
  type DeviceStore,
  type PlantStore,
  type PositionStore,
  type InstructionStore,
  type RemoteCollectorStore,
  type GeofenceStore,
  type PointGroupStore,
  type Scope,
  type Storage,
  type StorageHealth,
  type StorageProblem,
  type TelemetryStore,
} from '@openbms/storage';
import { PgDb, makePool } from './db.js';
import { migrate } from './migrate.js';
import { MIGRATIONS } from './migrations.js';
import { pgAlarms, pgAudit } from './records.js';
import { TelemetryCtx } from './telemetry-context.js';
import { exportCsv, exportRows } from './telemetry-export.js';
import { history } from './telemetry-history.js';
import { applyRetention, rollup } from './telemetry-rollup.js';
import { dailyFiles, deleteDay, latest, writeSamples } from './telemetry-write.js';
import { redactUrl } from './url.js';
import { pgUsers, type PgUserStore } from './users.js';
import { ensureRootOrg, pgOrgs } from './orgs.js';
import { pgAccounts } from './accounts.js';
import { pgDevices } from './devices.js';
import { pgPlants } from './plants.js';
import { pgPositions } from './positions.js';
import { pgInstructions } from './instructions.js';
import { pgRemoteCollectors } from './remote-collectors.js';
import { pgGeofences } from './geofences.js';
import { pgPoints } from './points.js';

export interface PostgresStorageOptions {
  /** `postgres://user[:password]@host[:port]/database[?...]` (checked by parseStorageUrl). */
  url: string;
  /** Whose records this box writes (default: the database's `meta`, else new ids stored there). */
  identity?: Origin;
  /** Pool size (default 4). */
  connections?: number;
  /** Wait for a connection at most this long before STORAGE_UNAVAILABLE (ms, default 5000). */
  connectTimeoutMs?: number;
  /** ms since the epoch (problem times); injectable for tests. */
  clock?: () => number;
}

export class PostgresStorage implements Storage {
  readonly telemetry: TelemetryStore;
  readonly alarms: AlarmStore;
  readonly audit: AuditStore;
  readonly users: PgUserStore;
  readonly orgs: OrgStore;
  readonly accounts: AccountStore;
  readonly devices: DeviceStore;
  readonly plants: PlantStore;
  readonly positions: PositionStore;
  readonly instructions: InstructionStore;
  readonly remoteCollectors: RemoteCollectorStore;
  readonly geofences: GeofenceStore;
  readonly points: PointGroupStore;
  /** The URL without its password (for logs and messages). */
  readonly where: string;
  private problem: StorageProblem | undefined;
  private readonly listeners = new Set<() => void>();
  private closed = false;
  readonly db: PgDb;

  private constructor(
    private readonly opts: PostgresStorageOptions,
    readonly identity: Origin,
    db: PgDb,
  ) {
    this.where = redactUrl(opts.url);
    this.db = db;
    const ctx = new TelemetryCtx(db);
    const guard = <T>(fn: () => Promise<T>): Promise<T> =>
      this.closed ? Promise.reject(new BmsError('STORAGE_FAILED', 'the storage is closed')) : fn();
    this.telemetry = {
      writeSamples: (o, s) => guard(() => writeSamples(ctx, recordChecks.origin(o), s)),
      rollup: (now) => guard(() => rollup(ctx, now)),
      applyRetention: (now, policy) => guard(() => applyRetention(ctx, now, policy)),
      history: (scope, q) => guard(() => history(ctx, scope, q)),
      latest: (scope, packId) => guard(() => latest(ctx, recordChecks.gatewayScope(scope), packId)),
      dailyFiles: (scope: Scope, packId?: string, opts?: DayOptions) =>
        guard(() => {
          if (packId !== undefined) recordChecks.text(packId, 'packId', 200);
          return dailyFiles(ctx, recordChecks.scope(scope), packId, opts);
        }),
      deleteDay: (scope, packId, date, opts) =>
        guard(() => deleteDay(ctx, recordChecks.gatewayScope(scope), packId, date, opts)),
      exportCsv: (scope, q) => guard(() => exportCsv(ctx, scope, q)),
      exportRows: (scope, q) => guard(() => exportRows(ctx, scope, q)),
      energy: (scope, q) => guard(() => energyFromHistory((h) => history(ctx, scope, h), q)),
    };
    this.alarms = pgAlarms(db);
    this.audit = pgAudit(db);
    this.users = pgUsers(db);
    this.orgs = pgOrgs(db);
    this.accounts = pgAccounts(db);
    this.devices = pgDevices(db);
    this.plants = pgPlants(db);
    this.positions = pgPositions(db);
    this.instructions = pgInstructions(db);
    this.remoteCollectors = pgRemoteCollectors(db);
    this.geofences = pgGeofences(db);
    this.points = pgPoints(db);
  }

  /**
   * Connects, migrates (under an advisory lock) and finds the identity. Rejects with
   * STORAGE_UNAVAILABLE when the server cannot be reached, naming it without the password.
   */
  static async open(opts: PostgresStorageOptions): Promise<PostgresStorage> {
    const pool = makePool({
      url: opts.url,
      max: opts.connections ?? 4,
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
    });
    const holder: { s?: PostgresStorage } = {};
    const db = new PgDb(pool, (ok, e) => holder.s?.onOutcome(ok, e));
    try {
      const c = await db.connect(`cannot connect to ${redactUrl(opts.url)}`);
      let identity: Origin;
      try {
        await migrate(c, MIGRATIONS);
        identity = await findIdentity(c, opts.identity);
      } finally {
        c.release();
      }
      await ensureRootOrg(db, identity.orgId, (opts.clock ?? Date.now)());
      holder.s = new PostgresStorage(opts, identity, db);
      return holder.s;
    } catch (e) {
      await db.end();
      const err = e as BmsError;
      if (err.code === 'STORAGE_UNAVAILABLE' || err.code === 'STORAGE_FAILED')
        err.message = err.message.split(opts.url).join(redactUrl(opts.url));
      throw e instanceof BmsError
        ? e
        : new BmsError('STORAGE_FAILED', `cannot open ${redactUrl(opts.url)}: ${String(e)}`);
    }
  }

  private onOutcome(ok: boolean, e?: unknown): void {
    const before = this.problem;
    if (ok) this.problem = undefined;
    else {
      const reason = (e as Error | undefined)?.message ?? 'no answer';
      this.problem = {
        code: 'STORAGE_UNAVAILABLE',
        message: `PostgreSQL at ${this.where} is unavailable (${reason}); samples wait in memory`,
        since: before?.since ?? (this.opts.clock ?? Date.now)(),
      };
    }
    if ((before === undefined) !== (this.problem === undefined)) {
      queueMicrotask(() => {
        for (const l of [...this.listeners]) l();
      });
    }
  }

  async health(): Promise<StorageHealth> {
    return { problems: this.problem ? [this.problem] : [], deferred: 0 };
  }

  onHealth(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Asks the server now (clears the problem when it answers). */
  async retry(): Promise<void> {
    await this.db.query('cannot reach PostgreSQL', 'SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.end();
  }
}

/** The identity given, else the database's, else new ids stored in it. */
async function findIdentity(c: PoolClient, given: Origin | undefined): Promise<Origin> {
  const read = async (): Promise<Origin | undefined> => {
    const rows = (
      await c.query<{ key: string; value: string }>(
        "SELECT key, value FROM meta WHERE key IN ('org_id', 'gateway_id')",
      )
    ).rows;
    const m = new Map(rows.map((r) => [r.key, r.value]));
    return m.has('org_id') && m.has('gateway_id')
      ? { orgId: m.get('org_id')!, gatewayId: m.get('gateway_id')! }
      : undefined;
  };
  const stored = await read();
  if (given) {
    const identity = recordChecks.origin(given);
    if (!stored) await store(c, identity);
    return identity;
  }
  if (stored) return stored;
  // Two processes opening a fresh database together both make ids: the first stored wins,
  // and both answer with what is stored.
  await store(c, { orgId: newId(), gatewayId: newId() });
  return (await read())!;
}

async function store(c: PoolClient, o: Origin): Promise<void> {
  await c.query(
    `INSERT INTO meta (key, value) VALUES ('org_id', $1), ('gateway_id', $2) ON CONFLICT (key) DO NOTHING`,
    [o.orgId, o.gatewayId],
  );
}
