/**
 * The organisation store on a real PostgreSQL (a database of its own, `fleet_…`, dropped
 * afterwards): the shared contract suite, and what only this adapter does: the box's own
 * organisation made at open for a database from before organisations (its accounts made
 * members with their roles mapped), once however often it is opened.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localScope } from '@openbms/storage';
import {
  accountContract,
  orgContract,
  plantContract,
  pointGroupContract,
  positionContract,
  instructionContract,
  geofenceContract,
  remoteCollectorContract,
  TEST_ORIGIN,
} from '@openbms/storage/testing';
import { MIGRATIONS } from './migrations.js';
import { pgOrgs } from './orgs.js';
import { PostgresStorage } from './storage.js';
import { createTestDatabase, type TestDatabase } from './testing/index.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('fleet_');
});
afterAll(async () => {
  await db?.drop();
});

orgContract('postgres', async () => {
  const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
  await db.reset();
  return s;
});

plantContract('postgres', async () => {
  const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
  await db.reset();
  return s;
});

positionContract('postgres', async () => {
  const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
  await db.reset();
  return s;
});

instructionContract('postgres', async () => {
  const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
  await db.reset();
  return s;
});

geofenceContract('postgres', async () => {
  const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
  await db.reset();
  return s;
});

remoteCollectorContract('postgres', async () => {
  const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
  await db.reset();
  return s;
});

pointGroupContract('postgres', async () => {
  const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
  await db.reset();
  return s;
});

accountContract(
  'postgres',
  async () => {
    const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
    await db.reset();
    return s;
  },
  TEST_ORIGIN,
);

describe('postgres: organisations of a database made before them', () => {
  const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

  it("makes the box's organisation a root and its accounts members with mapped roles, once", async () => {
    const old = await createTestDatabase('fleet_');
    try {
      // The schema as the release before organisations left it, with a box's accounts in it.
      const c = new pg.Client({ connectionString: old.url });
      await c.connect();
      try {
        await c.query(
          'CREATE TABLE schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
        );
        for (const m of MIGRATIONS.filter((m) => m.id < '004')) {
          await c.query(m.sql);
          await c.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
        }
        await c.query("INSERT INTO meta (key, value) VALUES ('org_id', $1), ('gateway_id', $2)", [
          TEST_ORIGIN.orgId,
          TEST_ORIGIN.gatewayId,
        ]);
        const user = (id: string, name: string, role: string, at: number) =>
          c.query(
            'INSERT INTO users (id, org_id, gateway_id, username, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
            [id, TEST_ORIGIN.orgId, TEST_ORIGIN.gatewayId, name, role, `hash-${name}`, at],
          );
        await user('01JD0000000000000000000U01', 'owner', 'admin', T0);
        await user('01JD0000000000000000000U02', 'tech', 'operator', T0 + 1);
        await user('01JD0000000000000000000U03', 'second', 'admin', T0 + 2);
        await user('01JD0000000000000000000U04', 'family', 'viewer', T0 + 3);
        await c.query(
          "INSERT INTO tokens (hash, user_id, org_id, gateway_id, kind, created_at) VALUES ('h1', '01JD0000000000000000000U01', $1, $2, 'api', $3)",
          [TEST_ORIGIN.orgId, TEST_ORIGIN.gatewayId, T0],
        );
      } finally {
        await c.end();
      }
      const s = await PostgresStorage.open({ url: old.url });
      const org = TEST_ORIGIN.orgId;
      let before;
      try {
        expect(s.identity).toEqual(TEST_ORIGIN);
        const orgs = await s.orgs.subtree([org]);
        expect(orgs).toEqual([
          {
            id: org,
            kind: 'customer',
            name: 'Local organisation',
            code: orgs[0]!.code,
            depth: 0,
            createdAt: T0,
          },
        ]);
        expect(orgs[0]!.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{6}$/);
        const members = await s.orgs.members([org], org);
        expect(members.map((m) => [m.username, m.role, m.createdAt])).toEqual([
          ['owner', 'manager', T0],
          ['tech', 'operation_manager', T0 + 1],
          ['second', 'administrator', T0 + 2],
          ['family', 'general_user', T0 + 3],
        ]);
        // Nothing lost: accounts, roles, passwords and tokens as they were.
        const users = await s.users.list(localScope(TEST_ORIGIN));
        expect(users.map((u) => [u.username, u.role])).toEqual([
          ['owner', 'admin'],
          ['tech', 'operator'],
          ['second', 'admin'],
          ['family', 'viewer'],
        ]);
        expect((await s.users.get(localScope(TEST_ORIGIN), 'tech'))?.passwordHash).toBe(
          'hash-tech',
        );
        expect((await s.users.findToken('h1', T0))?.username).toBe('owner');
        before = { orgs, members };
      } finally {
        await s.close();
      }
      // Opened again (and by two processes at once): nothing changes.
      const [a, b] = await Promise.all([
        PostgresStorage.open({ url: old.url }),
        PostgresStorage.open({ url: old.url }),
      ]);
      try {
        expect(await a.orgs.subtree([org])).toEqual(before.orgs);
        expect(await b.orgs.members([org], org)).toEqual(before.members);
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      await old.drop();
    }
  });
});

describe('postgres: organisation codes', () => {
  it('draws a code again when the unique index says the drawn one is taken', async () => {
    const s = await PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN });
    try {
      await db.reset();
      const drawn = ['AAAAAA', 'AAAAAA', 'BBBBBB'];
      const orgs = pgOrgs(s.db, () => drawn.shift()!);
      const first = await orgs.createRoot({ kind: 'platform', name: 'P', createdAt: 1 });
      const second = await orgs.create([first.id], {
        parentId: first.id,
        kind: 'dealer',
        name: 'D',
        createdAt: 2,
      });
      expect([first.code, second.code]).toEqual(['AAAAAA', 'BBBBBB']);
      expect(drawn).toEqual([]);
      const stuck = pgOrgs(s.db, () => 'AAAAAA');
      await expect(stuck.createRoot({ kind: 'platform', name: 'R', createdAt: 3 })).rejects.toThrow(
        /no free organisation code/,
      );
      expect(await s.orgs.subtree([first.id])).toHaveLength(2);
    } finally {
      await s.close();
    }
  });
});

describe('postgres: concurrent role changes', () => {
  it('hands the manager role over twice at once: one waits for the other, one manager at the end', async () => {
    const [a, b] = await Promise.all([
      PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN }),
      PostgresStorage.open({ url: db.url, identity: TEST_ORIGIN }),
    ]);
    try {
      await db.reset();
      const org = await a.orgs.createRoot({ kind: 'dealer', name: 'D', createdAt: 1 });
      const origin = { orgId: org.id, gatewayId: TEST_ORIGIN.gatewayId };
      const made = [];
      for (const [i, name] of ['boss', 'x', 'y', 'z'].entries())
        made.push(
          await a.users.create(origin, { username: name, role: 'admin', createdAt: 10 + i }, 'h'),
        );
      for (let round = 0; round < 5; round++) {
        const [x, y] = [made[1 + (round % 3)]!, made[1 + ((round + 1) % 3)]!];
        await Promise.all([
          a.orgs.setRole([org.id], org.id, x.id, 'manager'),
          b.orgs.setRole([org.id], org.id, y.id, 'manager'),
        ]);
        const roles = (await a.orgs.members([org.id], org.id)).map((m) => m.role);
        expect(roles.filter((r) => r === 'manager')).toHaveLength(1);
        expect(roles.filter((r) => r === 'administrator')).toHaveLength(3);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
