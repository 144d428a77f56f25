/**
 * Starts the real server on an ephemeral port with in-memory stores, a fake gateway and a
 * manual clock, and gives a small fetch client that keeps cookies apart per call.
 */
import { ManualClock } from '@openbms/simulator';
import type { FastifyInstance } from 'fastify';
import { TEST_ORIGIN, memoryStorage } from '@openbms/storage/testing';
import { buildServer, type ServerDeps } from '../app.js';
import { FakeGateway, fakePack } from './fake-gateway.js';
import { FakeTelemetry } from './fake-telemetry.js';

export const TEST_COST = { N: 1024, r: 8, p: 1 };

export interface Harness {
  app: FastifyInstance;
  url: string;
  clock: ManualClock;
  stores: ReturnType<typeof memoryStorage>;
  telemetry: FakeTelemetry;
  gateway: FakeGateway;
  call(method: string, path: string, opts?: CallOpts): Promise<Res>;
  /** Creates the first admin through /setup and returns its token. */
  setupAdmin(username?: string, password?: string): Promise<string>;
  /** Adds a user (by the admin) and logs them in; returns their token. */
  addUser(admin: string, username: string, role: 'admin' | 'operator' | 'viewer'): Promise<string>;
  close(): Promise<void>;
}

export interface CallOpts {
  body?: unknown;
  token?: string;
  cookie?: string;
  headers?: Record<string, string>;
}

export interface Res {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Headers;
}

export async function startHarness(over: Partial<ServerDeps> = {}): Promise<Harness> {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const stores = memoryStorage();
  const telemetry = new FakeTelemetry();
  const gateway = new FakeGateway(
    [
      fakePack('home/bus1/1'),
      fakePack('home/bus1/2', { online: false }),
      fakePack('shed/bus2/1', { snapshot: undefined, lastSeen: undefined }),
    ],
    stores.alarms,
    () => clock.now(),
    TEST_ORIGIN,
  );
  const app = await buildServer({
    storage: { ...stores, telemetry },
    identity: TEST_ORIGIN,
    gateway,
    clock: () => clock.now(),
    passwordCost: TEST_COST,
    ...over,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const scheme = over.https ? 'https' : 'http';
  const url = typeof addr === 'object' && addr ? `${scheme}://127.0.0.1:${addr.port}` : '';

  const call = async (method: string, path: string, opts: CallOpts = {}): Promise<Res> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    if (opts.cookie) headers['cookie'] = opts.cookie;
    const r = await fetch(url + path, {
      method,
      headers,
      ...(opts.body !== undefined
        ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }
        : {}),
    });
    const text = await r.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (CSV, HTML)
    }
    return { status: r.status, body, text, headers: r.headers };
  };

  const h: Harness = {
    app,
    url,
    clock,
    stores,
    telemetry,
    gateway,
    call,
    async setupAdmin(username = 'admin', password = 'correct horse') {
      const r = await call('POST', '/api/v1/setup', { body: { username, password } });
      if (r.status !== 201) throw new Error(`setup failed: ${r.text}`);
      return r.body.token as string;
    },
    async addUser(admin, username, role) {
      const password = `${username}-password`;
      const r = await call('POST', '/api/v1/users', {
        token: admin,
        body: { username, password, role },
      });
      if (r.status !== 201) throw new Error(`add user failed: ${r.text}`);
      const l = await call('POST', '/api/v1/auth/login', { body: { username, password } });
      return l.body.token as string;
    },
    close: () => app.close(),
  };
  return h;
}
