/**
 * The connection pool and how every query goes through it: errors become coded errors
 * (errors.ts), and each outcome tells the storage whether the server answers (its health).
 * Result types: bigint columns arrive as numbers (our bigints are ms and counters, far below
 * 2^53), not as the strings node-postgres gives by default; this pool's own parsers, so no
 * other user of `pg` in the process is affected.
 */
import pg from 'pg';
import type { Pool, PoolClient, QueryArrayConfig, QueryResultRow } from 'pg';
import { pgError, isUnavailable } from './errors.js';

const INT8 = 20;
const parsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PoolOptions {
  url: string;
  /** Connections (default 4: one writer, history and exports beside it). */
  max?: number;
  /** How long to wait for a connection before STORAGE_UNAVAILABLE (ms, default 5000). */
  connectTimeoutMs?: number;
}

export function makePool(o: PoolOptions): Pool {
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.max ?? 4,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    types: parsers,
    application_name: 'openbms',
  });
  // An idle connection the server closed (restart, pg_terminate_backend) is reported here;
  // without a listener it would be an uncaught error. The pool drops it and connects anew.
  pool.on('error', () => undefined);
  return pool;
}

const guarded = new WeakSet<PoolClient>();

/** Runs queries on a pool, mapping errors and reporting whether the server answered. */
export class PgDb {
  constructor(
    readonly pool: Pool,
    private readonly outcome: (ok: boolean, error?: unknown) => void,
  ) {}

  async end(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  async query<T extends QueryResultRow = QueryResultRow>(
    what: string,
    sql: string,
    params: unknown[] = [],
  ): Promise<T[]> {
    try {
      const r = await this.pool.query<T>(sql, params);
      this.outcome(true);
      return r.rows;
    } catch (e) {
      this.fail(e);
      throw pgError(e, what);
    }
  }

  /** Rows as arrays of values (no object per row: history answers have many columns). */
  async arrays(what: string, sql: string, params: unknown[] = []): Promise<unknown[][]> {
    try {
      const config: QueryArrayConfig = { text: sql, values: params, rowMode: 'array' };
      const r = await this.pool.query(config);
      this.outcome(true);
      return r.rows;
    } catch (e) {
      this.fail(e);
      throw pgError(e, what);
    }
  }

  /** `fn` in one transaction on one connection (rolled back when it throws). */
  async tx<T>(what: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect(what);
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      this.outcome(true);
      return out;
    } catch (e) {
      broken = isUnavailable(e);
      if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
      this.fail(e);
      throw pgError(e, what);
    } finally {
      // A connection that failed mid-transaction is not given back to the pool.
      client.release(broken);
    }
  }

  /** A connection of its own (migrations, partition changes); released by the caller. */
  async connect(what: string): Promise<PoolClient> {
    try {
      const client = await this.pool.connect();
      // A checked-out connection the server drops between two queries says so with an
      // 'error' event (the pool listens only while it is idle): without a listener of ours
      // that would be an uncaught exception. The next query on it fails, and is reported.
      if (!guarded.has(client)) {
        guarded.add(client);
        client.on('error', () => undefined);
      }
      return client;
    } catch (e) {
      this.fail(e);
      throw pgError(e, what);
    }
  }

  private fail(e: unknown): void {
    if (isUnavailable(e)) this.outcome(false, e);
  }
}
