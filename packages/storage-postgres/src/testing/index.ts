/**
 * Test helpers (never built): a real PostgreSQL database per test file, created with a random
 * name `openbms_t_<random>` on the server of OPENBMS_TEST_PG (default
 * postgres://postgres@127.0.0.1:5432, trust auth) and dropped afterwards; `reset` empties it
 * between tests (the schema stays).
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import pg from 'pg';

const BASE = process.env['OPENBMS_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432';

export interface TestDatabase {
  name: string;
  url: string;
  /** Empties every table the storage made (keeps the schema and its migrations). */
  reset(): Promise<void>;
  /** Drops the database (connections to it are ended). */
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: `${BASE}/postgres` });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** `prefix` names the database (`openbms_t_` by default) so a suite's leftovers can be told apart. */
export async function createTestDatabase(prefix = 'openbms_t_'): Promise<TestDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error(`bad database name prefix ${prefix}`);
  const name = `${prefix}${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = `${BASE}/${name}`;
  return {
    name,
    url,
    async reset() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const tables = (
          await c.query<{ t: string }>(
            `SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND c.relname NOT IN ('schema_migrations', 'meta')`,
          )
        ).rows.map((r) => r.t);
        if (tables.length > 0)
          await c.query(`TRUNCATE ${tables.join(', ')} RESTART IDENTITY CASCADE`);
      } finally {
        await c.end();
      }
    },
    async drop() {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * A TCP relay to the test server on a port of its own (port 0): `down()` cuts every
 * connection and refuses new ones, `up()` listens again on the same port. A database URL
 * through it: `relay.url(db.url)`.
 */
export class PgRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(Number(new URL(BASE).port || 5432), new URL(BASE).hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** `url` with its host and port replaced by the relay's. */
  url(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
