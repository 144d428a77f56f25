/**
 * Per-organisation limits (config `fleet.limits`; docs/fleet.md "Per-organisation limits") on
 * the real server over a real SQLite store and a real PostgreSQL database (`limsrv_…`,
 * dropped afterwards).
 *
 * The fleet: platform → maker → sibling dealers A and B; customer cA under A. Dealer A may
 * make 5 API requests a minute (its own limit, by its code), B has the default. cA may hold 2
 * members and 2 devices. Proven: A's accounts get 429 RATE_LIMITED naming the limit while B's
 * go on unhindered, and A's allowance comes back with time; cA's third member and third
 * device are 403 LIMIT_REACHED (a device import too, writing nothing) while its parent's own
 * count is apart; every change of the limits is audited once; an unknown code stops the start.
 */
import { fleetConfigSchema, fleetLimitsSchema, type FleetLimitsConfig } from '@openbms/contract';
import { type Org, type User } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLimits, LIMITS_ACTION, LIMITS_ACTOR } from './limits.js';
import { hashPassword } from './passwords.js';
import { startHarness, TEST_COST, type Harness } from './testing/harness.js';
import { storeAdapters, type Store } from './testing/adapters.js';

const ADAPTERS = storeAdapters('limsrv');

describe('the fleet.limits config section', () => {
  it('has defaults, and refuses bad values naming the key', () => {
    expect(fleetConfigSchema.parse({}).limits).toEqual({
      users: 10_000,
      devices: 100_000,
      requests_per_minute: 6_000,
      orgs: {},
    });
    const issue = (v: unknown) => {
      const r = fleetLimitsSchema.safeParse(v);
      expect(r.success).toBe(false);
      return r.error!.issues.map((i) => i.path.join('.'));
    };
    expect(issue({ requests_per_minute: 0 })).toEqual(['requests_per_minute']);
    expect(issue({ users: 1.5 })).toEqual(['users']);
    expect(issue({ devices: '10' })).toEqual(['devices']);
    expect(issue({ burst: 3 })).toEqual(['']);
    expect(issue({ orgs: { ec03b0: { users: 3 } } })).toEqual(['orgs.ec03b0']);
    expect(issue({ orgs: { EC03B0: { users: 3, seats: 1 } } })).toEqual(['orgs.EC03B0']);
  });
});

for (const [adapter, openStore] of ADAPTERS) {
  describe(`per-organisation limits (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    const T0 = Date.UTC(2030, 0, 1);
    let f: Record<'platform' | 'maker' | 'dA' | 'dB' | 'cA', Org>;
    let limits: FleetLimitsConfig;
    const users: Record<string, User> = {};
    const tok: Record<string, string> = {};
    let made = 0;

    const get = (who: string, path: string) => h.call('GET', path, { token: tok[who] });
    const post = (who: string, path: string, body: unknown = {}) =>
      h.call('POST', path, { token: tok[who], body });

    async function account(org: Org, username: string, role: User['role']): Promise<void> {
      const hash = await hashPassword(`${username}-password`, TEST_COST);
      users[username] = await storage.users.create(
        { orgId: org.id, gatewayId: TEST_ORIGIN.gatewayId },
        { username, role, createdAt: T0 + made++ },
        hash,
      );
      const r = await h.call('POST', '/api/v1/auth/login', {
        body: { username: `${username}@${org.code}`, password: `${username}-password` },
      });
      expect(r.status, r.text).toBe(200);
      tok[username] = r.body.token;
    }

    beforeAll(async () => {
      ({ storage, done } = await openStore());
      const o = storage.orgs;
      const platform = await o.createRoot({ kind: 'platform', name: 'Platform', createdAt: T0 });
      const under = (p: Org, kind: Org['kind'], name: string) =>
        o.create([p.id], { parentId: p.id, kind, name, createdAt: T0 });
      const maker = await under(platform, 'battery_maker', 'Maker');
      const dA = await under(maker, 'dealer', 'Dealer A');
      const dB = await under(maker, 'dealer', 'Dealer B');
      const cA = await under(dA, 'customer', 'Customer A');
      f = { platform, maker, dA, dB, cA };
      limits = fleetLimitsSchema.parse({
        requests_per_minute: 1000,
        orgs: {
          [dA.code]: { requests_per_minute: 5 },
          [cA.code]: { users: 2, devices: 2 },
        },
      });
      h = await startHarness({
        storage,
        identity: TEST_ORIGIN,
        captcha: { mode: 'off' },
        limits,
      });
      await account(dA, 'alice', 'admin');
      await account(dB, 'bert', 'admin');
      await account(cA, 'carl', 'admin');
      await account(dB, 'bob', 'viewer');
    });

    afterAll(async () => {
      await h?.close();
      await storage?.close();
      await done?.();
    });

    it('a dealer over its requests per minute gets 429 naming the limit; its sibling is not slowed', async () => {
      h.clock.advance(60_000); // every allowance full
      for (let i = 0; i < 5; i++) expect((await get('alice', '/api/v1/devices')).status).toBe(200);
      const over = await get('alice', '/api/v1/devices');
      expect(over.status).toBe(429);
      expect(over.body).toMatchObject({ code: 'RATE_LIMITED', limit: 'requests_per_minute' });
      expect(over.body.error).toContain('5 API requests per minute');
      expect(over.body.retry_after_s).toBe(12); // one request of 5 a minute
      expect(over.headers.get('retry-after')).toBe('12');
      // Any route of A's accounts, not only the one that used it up.
      expect((await get('alice', '/api/v1/orgs')).status).toBe(429);
      // Dealer B's accounts go on, well past A's five.
      for (let i = 0; i < 20; i++) {
        const r = await get(i % 2 ? 'bert' : 'bob', '/api/v1/devices');
        expect(r.status, r.text).toBe(200);
      }
      // A's allowance refills with time: one request per 12 s.
      h.clock.advance(12_000);
      expect((await get('alice', '/api/v1/devices')).status).toBe(200);
      expect((await get('alice', '/api/v1/devices')).status).toBe(429);
      // Public routes (health, login) are not counted against anyone.
      expect((await h.call('GET', '/api/v1/health')).status).toBe(200);
      h.clock.advance(60_000);
      expect((await get('alice', '/api/v1/devices')).status).toBe(200);
    });

    it("a customer's third device is 403 LIMIT_REACHED; its dealer's own devices count apart", async () => {
      h.clock.advance(60_000);
      const register = (who: string, serial: string, org: Org) =>
        post(who, '/api/v1/devices', { type: 'bms', serial, org_id: org.id });
      const first = await register('carl', 'CA-1', f.cA);
      expect(first.status, first.text).toBe(201);
      expect((await register('alice', 'CA-2', f.cA)).status).toBe(201);
      const third = await register('carl', 'CA-3', f.cA);
      expect(third.status).toBe(403);
      expect(third.body).toMatchObject({ code: 'LIMIT_REACHED', limit: 'devices' });
      expect(third.body.error).toContain('fleet.limits.devices');
      // The dealer above has its own count (the default), not its customer's.
      expect((await register('alice', 'DA-1', f.dA)).status).toBe(201);
      // An import into the full customer writes nothing.
      const r = await fetch(`${h.url}/api/v1/devices/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tok['alice']}`, 'content-type': 'text/csv' },
        body: `serial,type,org_code\nIMP-1,bms,${f.dA.code}\nIMP-2,bms,${f.cA.code}\n`,
      });
      const body = (await r.json()) as { code: string; limit: string };
      expect(r.status).toBe(403);
      expect(body).toMatchObject({ code: 'LIMIT_REACHED', limit: 'devices' });
      expect(await storage.devices.countIn(f.cA.id)).toBe(2);
      expect(await storage.devices.countIn(f.dA.id)).toBe(1);
    });

    it("a customer's members stop at its users limit, by account and by membership", async () => {
      h.clock.advance(60_000);
      // carl is the one member; the limit is 2.
      const add = await post('carl', '/api/v1/users', {
        username: 'cora',
        password: 'cora-password',
        role: 'viewer',
      });
      expect(add.status, add.text).toBe(201);
      const again = await post('carl', '/api/v1/users', {
        username: 'cole',
        password: 'cole-password',
        role: 'viewer',
      });
      expect(again.status).toBe(403);
      expect(again.body).toMatchObject({ code: 'LIMIT_REACHED', limit: 'users' });
      const member = await post('alice', `/api/v1/orgs/${f.cA.id}/members`, {
        user_id: users['bob']!.id,
        role: 'general_user',
      });
      expect(member.status).toBe(403);
      expect(member.body).toMatchObject({ code: 'LIMIT_REACHED', limit: 'users' });
      expect((await storage.orgs.members([f.cA.id], f.cA.id)).length).toBe(2);
      // Dealer A (the default limit) still takes members.
      const ok = await post('alice', `/api/v1/orgs/${f.dA.id}/members`, {
        user_id: users['bob']!.id,
        role: 'general_user',
      });
      expect(ok.status, ok.text).toBe(201);
    });

    it('audits each change of the limits once', async () => {
      const mine = async () =>
        (await storage.audit.list({ orgIds: [TEST_ORIGIN.orgId] }, { user: LIMITS_ACTOR })).filter(
          (e) => e.action === LIMITS_ACTION,
        );
      const first = await mine();
      expect(first).toHaveLength(1);
      expect(first[0]!.old).toBeUndefined();
      expect(first[0]!.new).toMatchObject({
        requests_per_minute: 1000,
        orgs: { [f.dA.code]: { requests_per_minute: 5 } },
      });
      // The same limits again (a restart): nothing new.
      expect(await auditLimits(storage.audit, TEST_ORIGIN, limits, T0 + 1)).toBe(false);
      const raised = fleetLimitsSchema.parse({
        ...limits,
        orgs: { ...limits.orgs, [f.dA.code]: { requests_per_minute: 50 } },
      });
      expect(await auditLimits(storage.audit, TEST_ORIGIN, raised, T0 + 2)).toBe(true);
      const after = await mine();
      expect(after).toHaveLength(2);
      expect(after[0]!.old).toEqual(first[0]!.new);
      expect(after[0]!.new).toMatchObject({ orgs: { [f.dA.code]: { requests_per_minute: 50 } } });
    });

    it('refuses to start with a limit for an unknown organisation code', async () => {
      await expect(
        startHarness({
          storage,
          identity: TEST_ORIGIN,
          limits: fleetLimitsSchema.parse({ orgs: { ZZZZZZ: { users: 1 } } }),
        }),
      ).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        details: { field: 'fleet.limits.orgs.ZZZZZZ' },
      });
    });
  });
}
