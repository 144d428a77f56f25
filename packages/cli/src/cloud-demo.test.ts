/**
 * `seedFleet` racing itself: two seeders at once on one store (two PostgreSQL connections
 * pools on one database, as two nodes have; and one SQLite store) make each organisation and
 * account once between them, agree on every id and code, and a third run makes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { PostgresStorage } from '@openbms/storage-postgres';
import { createTestDatabase, type TestDatabase } from '@openbms/storage-postgres/testing';
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
  const gateways = new Set(f.gateways.map((g) => g.identity.gatewayId));
  for (const d of page.devices) {
    expect(gateways.has(d.gatewayId!)).toBe(true);
    expect(d.packId).toMatch(/^site\/[^/]+\/\d+$/);
  }
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
    const again = await seed(b);
    expect(again.madeOrgs).toBe(0);
    expect(again.accounts).toEqual([]);
    expectSame(again, fa);
    await expectDevices(a, fa);
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
      const again = await seed(s);
      expect(again.madeOrgs).toBe(0);
      await expectDevices(s, again);
      expectSame(again, fa);
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
