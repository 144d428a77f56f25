/**
 * `seedFleet` racing itself: two seeders at once on one store (two PostgreSQL connections
 * pools on one database, as two nodes have; and one SQLite store) make each organisation and
 * account once between them, agree on every id and code, and a third run makes nothing. Each
 * demo site is one plant of its customer, with the site's gateway its only collector.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { PostgresStorage } from '@openbms/storage-postgres';
import { createTestDatabase, type TestDatabase } from '@openbms/storage-postgres/testing';
import {
  startTrackerServers,
  TrackerIngest,
  trackersConfigSchema,
  type TrackerServers,
} from '@openbms/gateway';
import {
  DEMO_CITY,
  DEMO_RIDERS,
  RIDE_STEP_S,
  registerDemoRiders,
  startDemoRiders,
} from './demo-trackers.js';
import {
  demoPackCount,
  fleetCode,
  seedFleet,
  type Fleet,
  type FleetStorage,
} from './cloud-demo.js';

// The hash is not what is tested here; a real one would only slow the race down.
const hash = async (p: string): Promise<string> => `plain:${p}`;
const seed = (s: FleetStorage): Promise<Fleet> => seedFleet(s, { demo: true, hash });

/** Two fleets agree: the same organisations (ids and codes) and the same gateways. */
function expectSame(a: Fleet, b: Fleet): void {
  expect(a.orgs.map((o) => [o.id, o.code])).toEqual(b.orgs.map((o) => [o.id, o.code]));
  expect(a.gateways.map((g) => g.identity)).toEqual(b.gateways.map((g) => g.identity));
}

/** Each site's customer has one plant, located and zoned as the site, its gateway the collector. */
async function expectPlants(s: Required<FleetStorage>, f: Fleet): Promise<void> {
  for (const g of f.gateways) {
    const within = [g.identity.orgId];
    const plants = await s.plants.list({ within });
    expect(plants, g.orgName).toHaveLength(1);
    expect(plants[0]).toMatchObject({ orgId: g.identity.orgId, name: g.orgName });
    expect(plants[0]!.lat).toEqual(expect.any(Number));
    const collectors = await s.plants.collectors({ within }, plants[0]!.id);
    expect(collectors.map((k) => k.gatewayId)).toEqual([g.identity.gatewayId]);
  }
  const cafe = f.gateways.find((g) => g.orgName === 'Harbour Cafe')!;
  expect((await s.plants.list({ within: [cafe.identity.orgId] }))[0]!.businessType).toBe(
    'commercial',
  );
}

function expectOneFleet(a: Fleet, b: Fleet): void {
  expectSame(a, b);
  expect(a.orgs).toHaveLength(11);
  expect(a.madeOrgs + b.madeOrgs).toBe(11);
  const logins = [...a.accounts, ...b.accounts].map((x) => x.login);
  expect(logins).toHaveLength(14);
  expect(new Set(logins).size).toBe(14);
  expect(a.gateways).toHaveLength(5);
  const packs = a.gateways.flatMap((g) => g.config.sites.flatMap((s) => s.buses)).length;
  expect(packs).toBeGreaterThan(0);
  expect(demoPackCount()).toBe(26);
}

/** Every demo pack is in the device list once, linked to its gateway and pack (races and reruns included). */
async function expectDevices(s: FleetStorage, f: Fleet): Promise<void> {
  const page = await s.devices!.list([f.platform.id], { now: Date.now(), limit: 500 });
  expect(page.devices).toHaveLength(demoPackCount());
  // Each device names a pack of its own gateway's site (`cafe/rack/1`), and no two the same.
  const siteOf = new Map(f.gateways.map((g) => [g.identity.gatewayId, g.config.sites[0]!.id]));
  for (const d of page.devices) {
    const site = siteOf.get(d.gatewayId!);
    expect(site).toBeDefined();
    expect(d.packId).toMatch(new RegExp(`^${site}/[^/]+/\\d+$`));
  }
  expect(new Set(page.devices.map((d) => d.packId)).size).toBe(page.devices.length);
}

describe('seedFleet on PostgreSQL: two nodes at once', () => {
  let db: TestDatabase;
  const stores: PostgresStorage[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('cloudseed_');
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await db?.drop();
  });

  it('make each organisation and account once, and agree on ids, codes and gateways', async () => {
    const a = await PostgresStorage.open({ url: db.url });
    const b = await PostgresStorage.open({ url: db.url });
    stores.push(a, b);
    expect(a.identity).toEqual(b.identity);
    const [fa, fb] = await Promise.all([seed(a), seed(b)]);
    expectOneFleet(fa, fb);
    expect(fa.platform.code).toBe(fleetCode(a.identity, 'platform'));
    await expectPlants(a, fa);
    const again = await seed(b);
    expect(again.madeOrgs).toBe(0);
    expect(again.accounts).toEqual([]);
    expectSame(again, fa);
    await expectDevices(a, fa);
    await expectPlants(b, again);
  }, 60_000);
});

describe('seedFleet on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openbms-cloudseed-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('two runs at once make one fleet; a third makes nothing; --no-demo makes the platform only', async () => {
    const s = await openSqliteStorage({ dataDir: dir });
    try {
      const [fa, fb] = await Promise.all([seed(s), seed(s)]);
      expectOneFleet(fa, fb);
      await expectPlants(s, fa);
      const again = await seed(s);
      expect(again.madeOrgs).toBe(0);
      await expectDevices(s, again);
      expectSame(again, fa);
      await expectPlants(s, again);
      const bare = await seedFleet(s, { demo: false, hash });
      expect(bare.orgs).toEqual([fa.platform]);
      expect(bare.gateways).toEqual([]);
    } finally {
      await s.close();
    }
  }, 60_000);

  it('another database derives other codes (the codes are not guessable from the demo alone)', async () => {
    const other = mkdtempSync(join(tmpdir(), 'openbms-cloudseed-'));
    const s = await openSqliteStorage({ dataDir: other });
    try {
      const f = await seedFleet(s, { demo: false, hash });
      const mine = await openSqliteStorage({ dataDir: dir });
      try {
        expect(f.platform.code).not.toBe(fleetCode(mine.identity, 'platform'));
      } finally {
        await mine.close();
      }
    } finally {
      await s.close();
      rmSync(other, { recursive: true, force: true });
    }
  });
});

/**
 * The demo's riding trackers (demo-trackers.ts) on each store, through a real JT/T 808 server:
 * registered once in demo organisations, enabled; each uploads the last half hour it rode and
 * reports on; started again, each resumes where its last fix is (no jump across the city).
 */
type Store = Awaited<ReturnType<typeof openSqliteStorage>> | PostgresStorage;
const stores: [string, () => Promise<{ s: Store; done(): Promise<void> }>][] = [
  [
    'sqlite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'openbms-riders-'));
      const s = await openSqliteStorage({ dataDir: dir });
      return { s, done: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'postgres',
    async () => {
      const db = await createTestDatabase('riders_');
      const s = await PostgresStorage.open({ url: db.url });
      return { s, done: () => db.drop() };
    },
  ],
];

for (const [name, open] of stores) {
  describe(`the demo's riding trackers (${name})`, () => {
    it('ride around the city from their last fix, each in its demo organisation', async () => {
      const { s, done } = await open();
      let servers: TrackerServers | undefined;
      try {
        const fleet = await seed(s);
        const identity = { orgId: fleet.platform.id, gatewayId: s.identity.gatewayId };
        servers = await startTrackerServers(
          trackersConfigSchema.parse({ jt808: { port: 0, host: '127.0.0.1' } }),
          { ingest: new TrackerIngest({ storage: s, identity }) },
        );
        const riders = await registerDemoRiders(s.devices, fleet.orgs, identity, Date.now());
        expect(riders).toHaveLength(DEMO_RIDERS);
        // Registered once: a second start finds them.
        expect(await registerDemoRiders(s.devices, fleet.orgs, identity, Date.now())).toEqual(
          riders,
        );
        const listed = await s.devices.list([fleet.platform.id], {
          now: Date.now(),
          type: 'tracker',
          limit: 100,
        });
        expect(listed.devices).toHaveLength(DEMO_RIDERS);
        for (const d of listed.devices) {
          expect(d.activation).toBe('enabled');
          expect(fleet.orgs.find((o) => o.id === d.orgId)!.kind).not.toBe('platform');
        }
        const warnings: string[] = [];
        const start = (): ReturnType<typeof startDemoRiders> =>
          startDemoRiders({
            host: '127.0.0.1',
            port: servers!.ports.jt808!,
            riders,
            devices: s.devices,
            positions: s.positions,
            within: [fleet.platform.id],
            log: (_l, m) => warnings.push(m),
          });
        const first = start();
        await first.ready;
        const ids = listed.devices.map((d) => d.id);
        const now = Date.now();
        const last = await s.positions.latest(ids);
        expect(last).toHaveLength(DEMO_RIDERS);
        for (const p of last) {
          expect(now - p.t).toBeLessThan(10_000);
          expect(Math.abs(p.lat - DEMO_CITY.lat)).toBeLessThan(0.3);
          expect(p.extras?.['battery_pct']).toEqual(expect.any(Number));
          // The half hour before the start, every 5 s.
          const track = await s.positions.list(p.deviceId, {
            from: now - 31 * 60_000,
            to: now + 1,
          });
          expect(track.length).toBeGreaterThanOrEqual((30 * 60) / RIDE_STEP_S - 2);
        }
        await first.close();
        const before = new Map((await s.positions.latest(ids)).map((p) => [p.deviceId, p]));
        const again = start();
        await again.ready;
        // Each reports on (a fix every RIDE_STEP_S)...
        await expect
          .poll(
            async () =>
              (await s.positions.latest(ids)).filter((p) => p.t > before.get(p.deviceId)!.t).length,
            { timeout: 20_000, interval: 500 },
          )
          .toBe(DEMO_RIDERS);
        await again.close();
        for (const id of ids) {
          const b = before.get(id)!;
          const [next] = await s.positions.list(id, {
            from: b.t + 1,
            to: Date.now() + 1,
            limit: 1,
          });
          // ...from where it was: its next fix is at most one step's ride away.
          expect(haversineM(b, next!)).toBeLessThan(60);
        }
        expect(warnings).toEqual([]);
      } finally {
        await servers?.close();
        await s.close();
        await done();
      }
    }, 90_000);
  });
}

function haversineM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const r = (d: number) => (d * Math.PI) / 180;
  const h =
    Math.sin(r(b.lat - a.lat) / 2) ** 2 +
    Math.cos(r(a.lat)) * Math.cos(r(b.lat)) * Math.sin(r(b.lon - a.lon) / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(h));
}
