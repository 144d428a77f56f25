/**
 * The console's map routes (docs/trackers.md "Fleet map", "Map and playback") on a real
 * SQLite store and a real PostgreSQL database: GET /trackers/positions answers the last fix
 * of each tracker in the caller's subtrees only (another dealer's are absent; other device
 * types too), filtered by status and organisation, with the battery items of the fix;
 * GET /devices/:id/position one tracker's; GET /map the configured tiles, whose origin the
 * Content-Security-Policy then allows. A fleet of 1,000 trackers is answered whole.
 */
import { BmsError } from '@openbms/core';
import { ONLINE_WINDOW_MS, type Device, type Org, type User } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from './passwords.js';
import { startHarness, TEST_COST, type Harness } from './testing/harness.js';
import { storeAdapters, type Store } from './testing/adapters.js';

const ADAPTERS = storeAdapters('trkmap');
const T0 = Date.UTC(2030, 0, 1);

type FleetJson = {
  trackers: {
    device_id: string;
    serial: string;
    nickname?: string;
    org_id: string;
    org_name: string;
    online: boolean;
    activation: string;
    fix: Record<string, number>;
  }[];
  truncated: boolean;
};

for (const [adapter, openStore] of ADAPTERS) {
  describe(`the map routes (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    let platform: Org;
    let dealerA: Org;
    let customerA: Org;
    let dealerB: Org;
    const dev: Record<string, Device> = {};
    const tok: Record<string, string> = {};

    async function account(org: Org, username: string, role: User['role']): Promise<void> {
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
    const get = (who: string, path: string) => h.call('GET', path, { token: tok[who] });
    const serials = (r: { body: FleetJson }) => r.body.trackers.map((x) => x.serial).sort();

    async function device(
      key: string,
      org: Org,
      more: Partial<Device> & { type?: Device['type'] } = {},
    ): Promise<void> {
      dev[key] = await storage.devices.create([platform.id], {
        serial: key,
        type: 'tracker',
        joinedAt: T0,
        createdBy: 'test',
        orgId: org.id,
        activation: 'enabled',
        gatewayId: TEST_ORIGIN.gatewayId,
        packId: `tracker/${key}`,
        ...more,
      });
    }

    beforeAll(async () => {
      ({ storage, done } = await openStore());
      platform = await storage.orgs.createRoot({
        kind: 'platform',
        name: 'Platform',
        createdAt: T0,
      });
      const child = (parent: Org, name: string, kind: Org['kind']) =>
        storage.orgs.create([platform.id], { parentId: parent.id, kind, name, createdAt: T0 });
      dealerA = await child(platform, 'Dealer A', 'dealer');
      customerA = await child(dealerA, 'Customer A', 'customer');
      dealerB = await child(platform, 'Dealer B', 'dealer');
      h = await startHarness({ storage, identity: TEST_ORIGIN, captcha: { mode: 'off' } });
      await account(platform, 'root', 'admin');
      await account(dealerA, 'vera', 'viewer');
      await account(dealerB, 'bert', 'admin');

      await device('A1', dealerA, { nickname: 'Blue bike' });
      await device('A2', customerA, { activation: 'not_enabled' });
      await device('A3', dealerA); // never reported a fix
      await device('B1', dealerB);
      await device('X1', dealerA, { type: 'bms', packId: 'site/bus/1' });
      // A1 reports now (the harness clock's T0): online; the others were last seen long ago.
      await storage.devices.seen(TEST_ORIGIN.gatewayId, ['tracker/A1'], T0);
      await storage.devices.seen(TEST_ORIGIN.gatewayId, ['tracker/B1'], T0 - ONLINE_WINDOW_MS - 1);
      const fix = (key: string, i: number, extras?: Record<string, unknown>) => ({
        deviceId: dev[key]!.id,
        t: T0 - 3_600_000 + i * 10_000,
        receivedAt: T0 - 3_600_000 + i * 10_000 + 500,
        lat: 53.55 + i * 0.001,
        lon: 9.99 + i * 0.001,
        speedKmh: 12 + i,
        course: 90,
        satellites: 8,
        ...(extras ? { extras } : {}),
      });
      // A1's last fix arrives before an earlier one (a late batch): the latest by device time wins.
      await storage.positions.add([
        fix('A1', 0),
        fix('A1', 3, { battery_pct: 64, battery_v: 51.2, alarm_flags: 0 }),
      ]);
      await storage.positions.add([fix('A1', 2), fix('A2', 1), fix('B1', 5), fix('X1', 1)]);
    });

    afterAll(async () => {
      await h?.close();
      await storage?.close();
      await done?.();
    });

    it("answers the last fix of each tracker in the caller's subtree, and nothing of another dealer's", async () => {
      const root = await get('root', '/api/v1/trackers/positions');
      expect(root.status, root.text).toBe(200);
      expect(serials(root)).toEqual(['A1', 'A2', 'B1']);
      const vera = await get('vera', '/api/v1/trackers/positions');
      expect(serials(vera)).toEqual(['A1', 'A2']);
      expect(vera.body.truncated).toBe(false);
      expect(vera.body.trackers.find((x: { serial: string }) => x.serial === 'A1')).toEqual({
        device_id: dev['A1']!.id,
        serial: 'A1',
        nickname: 'Blue bike',
        org_id: dealerA.id,
        org_name: 'Dealer A',
        online: true,
        activation: 'enabled',
        last_seen_at: T0,
        fix: {
          t: T0 - 3_600_000 + 30_000,
          received_at: T0 - 3_600_000 + 30_500,
          lat: 53.553,
          lon: 9.993,
          speed_kmh: 15,
          course: 90,
          satellites: 8,
          soc: 64,
          voltage: 51.2,
        },
      });
      const bert = await get('bert', '/api/v1/trackers/positions');
      expect(serials(bert)).toEqual(['B1']);
      expect(bert.body.trackers[0].online).toBe(false);
      expect(bert.text).not.toContain(dev['A1']!.id);
    });

    it('filters by status and organisation, refusing what the caller does not see naming the field', async () => {
      expect(serials(await get('vera', '/api/v1/trackers/positions?status=online'))).toEqual([
        'A1',
      ]);
      expect(serials(await get('vera', '/api/v1/trackers/positions?status=not_enabled'))).toEqual([
        'A2',
      ]);
      expect(serials(await get('root', '/api/v1/trackers/positions?status=offline'))).toEqual([
        'A2',
        'B1',
      ]);
      expect(serials(await get('vera', `/api/v1/trackers/positions?org=${customerA.id}`))).toEqual([
        'A2',
      ]);
      const other = await get('vera', `/api/v1/trackers/positions?org=${dealerB.id}`);
      expect(other.status).toBe(404);
      expect(other.body.field).toBe('org');
      const bad = await get('vera', '/api/v1/trackers/positions?status=moving');
      expect(bad.status).toBe(400);
      expect(bad.body.error).toContain('status');
      const extra = await get('vera', '/api/v1/trackers/positions?limit=5');
      expect(extra.status).toBe(400);
      expect((await h.call('GET', '/api/v1/trackers/positions')).status).toBe(401);
    });

    it("answers one tracker's last fix, none before its first, 404 outside the subtree", async () => {
      const a1 = await get('vera', `/api/v1/devices/${dev['A1']!.id}/position`);
      expect(a1.status, a1.text).toBe(200);
      expect(a1.body.fix).toMatchObject({ t: T0 - 3_600_000 + 30_000, soc: 64, voltage: 51.2 });
      const a3 = await get('vera', `/api/v1/devices/${dev['A3']!.id}/position`);
      expect(a3.status).toBe(200);
      expect(a3.body).toEqual({});
      const b1 = await get('vera', `/api/v1/devices/${dev['B1']!.id}/position`);
      expect(b1.status).toBe(404);
      const unknown = await get('vera', '/api/v1/devices/01JD00000000000000000NOPE00/position');
      expect(unknown.status).toBe(404);
      expect(b1.body.code).toBe(unknown.body.code);
    });

    it('answers no tiles by default; configured tiles are answered and their origin allowed as images', async () => {
      const none = await get('vera', '/api/v1/map');
      expect(none.body).toEqual({ attribution: '', max_zoom: 19 });
      expect(none.headers.get('content-security-policy')).toContain("img-src 'self' data:;");
      const tiles = await startHarness({
        storage,
        identity: TEST_ORIGIN,
        captcha: { mode: 'off' },
        map: {
          tiles: 'https://{s}.tile.example.org/{z}/{x}/{y}.png',
          attribution: '© Example',
          maxZoom: 18,
        },
      });
      try {
        const r = await tiles.call('GET', '/api/v1/map', { token: tok['vera'] });
        expect(r.status, r.text).toBe(200);
        expect(r.body).toEqual({
          tiles: 'https://{s}.tile.example.org/{z}/{x}/{y}.png',
          attribution: '© Example',
          max_zoom: 18,
        });
        expect(r.headers.get('content-security-policy')).toContain(
          "img-src 'self' data: https://*.tile.example.org;",
        );
        const page = await tiles.call('GET', '/');
        expect(page.headers.get('content-security-policy')).toContain('https://*.tile.example.org');
      } finally {
        await tiles.close();
      }
      await expect(
        startHarness({ storage, identity: TEST_ORIGIN, map: { tiles: 'ftp://x/{z}/{x}/{y}' } }),
      ).rejects.toSatisfy((e: unknown) => e instanceof BmsError && e.code === 'CONFIG_INVALID');
    });

    it('answers a fleet of 1,000 trackers whole', async () => {
      const fleet = await storage.orgs.create([platform.id], {
        parentId: platform.id,
        kind: 'dealer',
        name: 'Big fleet',
        createdAt: T0,
      });
      await storage.devices.createMany(
        [fleet.id],
        Array.from({ length: 1000 }, (_, i) => ({
          serial: `BIG${String(i).padStart(4, '0')}`,
          type: 'tracker' as const,
          joinedAt: T0,
          createdBy: 'test',
          orgId: fleet.id,
          activation: 'enabled' as const,
        })),
      );
      const ids: string[] = [];
      for (let after: string | undefined; ;) {
        const page = await storage.devices.list([fleet.id], {
          limit: 500,
          now: T0,
          ...(after ? { after } : {}),
        });
        ids.push(...page.devices.map((d) => d.id));
        if (!page.next) break;
        after = page.next;
      }
      await storage.positions.add(
        ids.map((deviceId, i) => ({
          deviceId,
          t: T0 - i * 1000,
          receivedAt: T0,
          lat: 53 + i / 1000,
          lon: 10 - i / 1000,
        })),
      );
      const started = performance.now();
      const r = await get('root', `/api/v1/trackers/positions?org=${fleet.id}`);
      const ms = performance.now() - started;
      expect(r.status).toBe(200);
      expect(r.body.trackers).toHaveLength(1000);
      expect(new Set(r.body.trackers.map((x: { device_id: string }) => x.device_id))).toEqual(
        new Set(ids),
      );
      console.log(`${adapter}: 1,000 trackers' last fixes in ${ms.toFixed(0)} ms`);
    });
  });
}
