/**
 * `fleet_api_rps` for `npm run bench` (scripts/bench.mjs calls `benchApi()`; prints nothing):
 * how many `GET /api/v1/devices?limit=50` (a device list page with its tab counts, as the web
 * console asks for it) the real server answers per second to 50 concurrent clients, on
 * PostgreSQL (a database of its own, `openbms_t_<random>`, dropped after).
 *
 * The fleet: a platform, 10 dealers, 100 customers and 10,000 devices (imported through the
 * port's `createMany`, then ANALYZEd); the caller is the platform's administrator, so every request's scope
 * is the whole fleet. The server runs in this process with the per-organisation request limit
 * in its path (`fleet.limits.requests_per_minute` raised so it never refuses). The clients are
 * a plain node:http loop on a keep-alive agent of 50 sockets (autocannon is no dependency):
 * each sends its next request when its answer is read, for DURATION_MS after a warm-up.
 * Also reported: the median and 99th-percentile latency.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fleetLimitsSchema } from '@openbms/contract';
import { type NewDevice, type Org } from '@openbms/storage';
import { PostgresStorage } from '@openbms/storage-postgres';
import { createTestDatabase } from '@openbms/storage-postgres/testing';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { hashPassword } from '../passwords.js';
import { startHarness, TEST_COST } from './harness.js';

const CLIENTS = Number(process.env['OPENBMS_BENCH_API_CLIENTS'] ?? 50);
const DEVICES = 10_000;
const WARMUP_MS = 1000;
const DURATION_MS = Number(process.env['OPENBMS_BENCH_API_MS'] ?? 5000);

export async function benchApi(): Promise<Record<string, number>> {
  const db = await createTestDatabase('openbms_t_');
  const storage = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  let close: (() => Promise<void>) | undefined;
  try {
    const T0 = Date.UTC(2030, 0, 1);
    const o = storage.orgs;
    const platform = await o.createRoot({ kind: 'platform', name: 'Platform', createdAt: T0 });
    const customers: Org[] = [];
    for (let d = 0; d < 10; d++) {
      const dealer = await o.create([platform.id], {
        parentId: platform.id,
        kind: 'dealer',
        name: `Dealer ${d}`,
        createdAt: T0,
      });
      for (let c = 0; c < 10; c++)
        customers.push(
          await o.create([platform.id], {
            parentId: dealer.id,
            kind: 'customer',
            name: `Customer ${d}-${c}`,
            createdAt: T0,
          }),
        );
    }
    const devices: NewDevice[] = Array.from({ length: DEVICES }, (_, i) => ({
      serial: `SN${String(i).padStart(6, '0')}`,
      type: 'bms',
      orgId: customers[i % customers.length]!.id,
      activation: 'enabled',
      joinedAt: T0 + i,
      createdBy: 'bench',
    }));
    await storage.devices.createMany([platform.id], devices);
    // Fresh statistics, as a database that has grown to this size has (autovacuum's ANALYZE).
    await storage.db.query('bench analyze', 'ANALYZE');
    const hash = await hashPassword('bench-password', TEST_COST);
    await storage.users.create(
      { orgId: platform.id, gatewayId: TEST_ORIGIN.gatewayId },
      { username: 'admin', role: 'admin', createdAt: T0 },
      hash,
    );
    const h = await startHarness({
      storage,
      identity: TEST_ORIGIN,
      captcha: { mode: 'off' },
      limits: fleetLimitsSchema.parse({ requests_per_minute: 1_000_000 }),
    });
    close = () => h.close();
    const login = await h.call('POST', '/api/v1/auth/login', {
      body: { username: `admin@${platform.code}`, password: 'bench-password' },
    });
    if (login.status !== 200) throw new Error(`bench login failed: ${login.text}`);
    const token = login.body.token as string;
    const url = new URL('/api/v1/devices?limit=50', h.url);

    const get = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request(
          url,
          { agent, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      });

    const run = async (ms: number, latencies: number[] | undefined): Promise<number> => {
      const end = performance.now() + ms;
      let done = 0;
      const client = async (): Promise<void> => {
        while (performance.now() < end) {
          const t = performance.now();
          const status = await get();
          if (status !== 200) throw new Error(`GET /api/v1/devices answered ${status}`);
          latencies?.push(performance.now() - t);
          done++;
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, client));
      return done;
    };

    await run(WARMUP_MS, undefined);
    const latencies: number[] = [];
    const start = performance.now();
    const done = await run(DURATION_MS, latencies);
    const seconds = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      Math.round(
        latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]! * 10,
      ) / 10;
    return {
      fleet_api_rps: Math.round(done / seconds),
      fleet_api_p50_ms: at(0.5),
      fleet_api_p99_ms: at(0.99),
    };
  } finally {
    agent.destroy();
    await close?.();
    await storage.close();
    await db.drop();
  }
}
