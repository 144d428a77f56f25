/**
 * Renewals and the `expiring` status (docs/trackers.md "Renewals") on the real server over a
 * real SQLite store and a real PostgreSQL database (`renewsrv_…`, dropped afterwards).
 *
 * The fleet: platform → maker → dealers A and B, customer cA under A. alice is A's manager,
 * abe a general user (viewer) of A, bert B's manager. Proven: 1 year / 2 years / lifetime from
 * an expired and from a still-valid expiry; the history of a device and of the fleet; the
 * viewer's 403; another dealer's id → 404 naming it and nothing renewed; malformed bodies 400
 * naming `period` / `ids`; `status=expiring` lists exactly the devices expiring within 30 days;
 * each renewal audited.
 */
import { type Org } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from './passwords.js';
import { startHarness, TEST_COST, type Harness } from './testing/harness.js';
import { storeAdapters, type Store } from './testing/adapters.js';

const DAY = 86_400_000;
/** The same UTC date and time `n` years later. */
const years = (t: number, n: number) => {
  const d = new Date(t);
  d.setUTCFullYear(d.getUTCFullYear() + n);
  return d.getTime();
};

for (const [adapter, openStore] of storeAdapters('renewsrv')) {
  describe(`renewals (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    const T0 = Date.UTC(2030, 0, 1);
    let f: Record<'maker' | 'dA' | 'dB' | 'cA', Org>;
    const tok: Record<string, string> = {};

    const get = (who: string, path: string) => h.call('GET', path, { token: tok[who] });
    const post = (who: string, path: string, body: unknown = {}) =>
      h.call('POST', path, { token: tok[who], body });
    const register = async (who: string, serial: string, org: Org, expires_at?: number) => {
      const r = await post(who, '/api/v1/devices', {
        serial,
        type: 'tracker',
        org_id: org.id,
        ...(expires_at !== undefined ? { expires_at } : {}),
      });
      expect(r.status, r.text).toBe(201);
      return r.body.id as string;
    };
    const expiry = async (id: string) =>
      (await get('alice', `/api/v1/devices/${id}`)).body.expires_at as number | undefined;

    async function account(org: Org, username: string, role: 'admin' | 'viewer') {
      const hash = await hashPassword(`${username}-password`, TEST_COST);
      await storage.users.create(
        { orgId: org.id, gatewayId: TEST_ORIGIN.gatewayId },
        { username, role, createdAt: T0 },
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
      f = { maker, dA, dB, cA };
      h = await startHarness({ storage, identity: TEST_ORIGIN, captcha: { mode: 'off' } });
      await account(dA, 'alice', 'admin');
      await account(dA, 'abe', 'viewer');
      await account(dB, 'bert', 'admin');
    });

    afterAll(async () => {
      await h?.close();
      await storage?.close();
      await done?.();
    });

    it('renews 1y / 2y / lifetime from an expired and from a still-valid expiry, with history', async () => {
      const now = h.clock.now();
      const expired = await register('alice', 'R-EXPIRED', f.cA, now - 3 * DAY);
      const valid = await register('alice', 'R-VALID', f.cA, now + 100 * DAY);
      const one = await post('alice', '/api/v1/devices/renew', {
        ids: [expired, valid],
        period: '1y',
      });
      expect(one.status, one.text).toBe(200);
      expect(one.body.renewed).toMatchObject([
        {
          device_id: expired,
          serial: 'R-EXPIRED',
          period: '1y',
          previous_expires_at: now - 3 * DAY,
          expires_at: years(now, 1),
          by: 'alice',
          at: now,
          org_id: f.cA.id,
        },
        {
          device_id: valid,
          previous_expires_at: now + 100 * DAY,
          expires_at: years(now + 100 * DAY, 1),
        },
      ]);
      expect(await expiry(expired)).toBe(years(now, 1));
      expect(await expiry(valid)).toBe(years(now + 100 * DAY, 1));

      h.clock.advance(DAY);
      const two = await post('alice', '/api/v1/devices/renew', { ids: [valid], period: '2y' });
      expect(two.body.renewed[0].expires_at).toBe(years(now + 100 * DAY, 3));
      const expired2 = await register('alice', 'R-EXPIRED-2', f.cA, now - DAY);
      const two2 = await post('alice', '/api/v1/devices/renew', { ids: [expired2], period: '2y' });
      expect(two2.body.renewed[0].expires_at).toBe(years(now + DAY, 2));

      const life = await post('alice', '/api/v1/devices/renew', {
        ids: [expired],
        period: 'lifetime',
      });
      expect(life.status, life.text).toBe(200);
      expect(life.body.renewed[0]).not.toHaveProperty('expires_at');
      expect(await expiry(expired)).toBeUndefined();
      const dev = await get('alice', `/api/v1/devices/${expired}`);
      expect(dev.body.expired).toBe(false);

      const hist = await get('alice', `/api/v1/devices/${expired}/renewals`);
      expect(hist.status, hist.text).toBe(200);
      expect(hist.body.map((r: { period: string }) => r.period)).toEqual(['lifetime', '1y']);
      expect(hist.body[0]).toMatchObject({ previous_expires_at: years(now, 1), by: 'alice' });
      const fleet = await get('alice', '/api/v1/renewals');
      expect(fleet.body).toHaveLength(5);
      // the viewer reads the history; the other dealer sees none of it
      expect((await get('abe', '/api/v1/renewals')).body).toHaveLength(5);
      expect((await get('bert', '/api/v1/renewals')).body).toEqual([]);
      expect((await get('bert', `/api/v1/devices/${expired}/renewals`)).status).toBe(404);
      const ranged = await get('alice', `/api/v1/renewals?from=${now + 1}&to=${now + 2 * DAY}`);
      expect(ranged.body).toHaveLength(3);

      const audit = await storage.audit.list({ orgIds: [f.cA.id] });
      const renewals = audit.filter((e) => e.action === 'device.renew');
      expect(renewals).toHaveLength(4);
      expect(renewals.every((e) => e.user === 'alice')).toBe(true);
    });

    it('refuses a viewer (403), another dealer’s id (404, nothing renewed) and malformed bodies', async () => {
      const now = h.clock.now();
      const mine = await register('alice', 'R-MINE', f.dA, now - DAY);
      const theirs = await register('bert', 'R-THEIRS', f.dB, now - DAY);
      const viewer = await post('abe', '/api/v1/devices/renew', { ids: [mine], period: '1y' });
      expect(viewer.status).toBe(403);
      const foreign = await post('alice', '/api/v1/devices/renew', {
        ids: [mine, theirs],
        period: '1y',
      });
      expect(foreign.status).toBe(404);
      expect(foreign.body.error).toContain(theirs);
      expect(await expiry(mine)).toBe(now - DAY);
      expect((await get('bert', `/api/v1/devices/${theirs}`)).body.expires_at).toBe(now - DAY);
      expect((await get('alice', `/api/v1/devices/${mine}/renewals`)).body).toEqual([]);

      const bad = async (body: unknown, field: RegExp) => {
        const r = await post('alice', '/api/v1/devices/renew', body);
        expect(r.status, r.text).toBe(400);
        expect(r.body.field).toMatch(field);
      };
      await bad({ ids: [mine], period: '3y' }, /^period$/);
      await bad({ ids: [mine] }, /^period$/);
      await bad({ period: '1y' }, /^ids$/);
      await bad({ ids: [], period: '1y' }, /^ids$/);
      await bad({ ids: [mine, mine], period: '1y' }, /^ids$/);
      await bad({ ids: 'x', period: '1y' }, /^ids$/);
      await bad({ ids: [42], period: '1y' }, /^ids/);
      await bad({ ids: Array.from({ length: 501 }, (_, i) => `id${i}`), period: '1y' }, /^ids$/);
      await bad({ ids: [mine], period: '1y', price: 3 }, /^price$/);
      expect(await expiry(mine)).toBe(now - DAY);
    });

    it('status=expiring lists exactly the devices expiring within 30 days', async () => {
      const now = h.clock.now();
      const org = await storage.orgs.create([f.dA.id], {
        parentId: f.dA.id,
        kind: 'customer',
        name: 'Expiring',
        createdAt: now,
      });
      await register('alice', 'X-PAST', org, now - 1);
      await register('alice', 'X-NOW', org, now);
      await register('alice', 'X-SOON', org, now + 1);
      await register('alice', 'X-20D', org, now + 20 * DAY);
      await register('alice', 'X-30D', org, now + 30 * DAY);
      await register('alice', 'X-31D', org, now + 30 * DAY + 1);
      await register('alice', 'X-NEVER', org);
      const r = await get('alice', `/api/v1/devices?org=${org.id}&status=expiring`);
      expect(r.status, r.text).toBe(200);
      expect(r.body.devices.map((d: { serial: string }) => d.serial)).toEqual([
        'X-30D',
        'X-20D',
        'X-SOON',
      ]);
      expect(r.body.counts).toMatchObject({ all: 7, expired: 2, expiring: 3 });
      const expired = await get('alice', `/api/v1/devices?org=${org.id}&status=expired`);
      expect(expired.body.devices.map((d: { serial: string }) => d.serial)).toEqual([
        'X-NOW',
        'X-PAST',
      ]);
    });
  });
}
