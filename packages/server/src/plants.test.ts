/**
 * Plants, visitors and collectors (docs/fleet.md "Plants") on the real server over a real
 * SQLite store and a real PostgreSQL database (`plants_…`, dropped afterwards).
 *
 * The fleet: platform → maker → dealers A and B; A has an installer with a customer (whose
 * gateway polls `fleet/bus/1`), B a customer. The box's own gateway (the harness's, in the
 * box's organisation) has `home/bus1/1`. Proven here: the box's admin creates a plant, attaches
 * the box's gateway and shares the plant by e-mail with Vera (an account of B's customer):
 * she sees that plant alone (its packs, history, alarms and live stream, nothing else), gets
 * 403 on every write, and 404 once the share ends; a member of A who visits the plant sees
 * its gateway's records and not the rest of the box's organisation (`Scope.gatewayIds`); B's
 * member gets 404 on A's plant, its visitors and collectors; bad input names the field;
 * everything is audited.
 */
import { businessTypeSchema, plantTypeSchema } from '@openbms/contract/api';
import { BUSINESS_TYPES, newId, PLANT_TYPES, type Org, type User } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from './passwords.js';
import type { ControlPort } from './gateway-api.js';
import { FakeGateway, fakePack } from './testing/fake-gateway.js';
import { startHarness, TEST_COST, type Harness } from './testing/harness.js';
import { LiveClient } from './testing/ws-client.js';
import { storeAdapters, type Store } from './testing/adapters.js';

const ADAPTERS = storeAdapters('plants');

const FLEET_PACK = 'fleet/bus/1';
const BOX_PACK = 'home/bus1/1';
const OTHER_GW = '01JD00000000000000000OTHGW';
const enc = encodeURIComponent;

it('the API enums are the storage port’s', () => {
  expect(businessTypeSchema.enum).toEqual(BUSINESS_TYPES);
  expect(plantTypeSchema.enum).toEqual(PLANT_TYPES);
});

for (const [adapter, openStore] of ADAPTERS) {
  describe(`plants, visitors and collectors (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    const T0 = Date.UTC(2030, 0, 1);
    let f: Record<'platform' | 'maker' | 'dA' | 'dB' | 'iA' | 'cA' | 'cB', Org>;
    const users: Record<string, User> = {};
    const tok: Record<string, string> = {};
    let made = 0;
    let fleetGw: FakeGateway;
    let boxGw: FakeGateway;
    let home: { id: string };
    let farm: { id: string };

    const call = (who: string, method: string, path: string, body?: unknown) =>
      h.call(method, path, { token: tok[who], ...(body !== undefined ? { body } : {}) });
    const get = (who: string, path: string) => call(who, 'GET', path);
    const packIds = (list: { id: string }[]) => list.map((p) => p.id).sort();

    async function account(org: Org, username: string, role: User['role'], email?: string) {
      const origin = { orgId: org.id, gatewayId: TEST_ORIGIN.gatewayId };
      const hash = await hashPassword(`${username}-password`, TEST_COST);
      users[username] = await storage.users.create(
        origin,
        { username, role, createdAt: T0 + made++ },
        hash,
      );
      if (email) await storage.accounts.setProfile(users[username].id, { email });
      const r = await h.call('POST', '/api/v1/auth/login', {
        body: { username: `${username}@${org.code}`, password: `${username}-password` },
      });
      expect(r.status, username).toBe(200);
      tok[username] = r.body.token;
    }

    beforeAll(async () => {
      ({ storage, done } = await openStore());
      made = 0;
      const o = storage.orgs;
      const platform = await o.createRoot({ kind: 'platform', name: 'Platform', createdAt: T0 });
      const under = (p: Org, kind: Org['kind'], name: string) =>
        o.create([p.id], { parentId: p.id, kind, name, createdAt: T0 });
      const maker = await under(platform, 'battery_maker', 'Maker');
      const dA = await under(maker, 'dealer', 'Dealer A');
      const dB = await under(maker, 'dealer', 'Dealer B');
      const iA = await under(dA, 'installer', 'Installer A');
      const cA = await under(iA, 'customer', 'Customer A');
      const cB = await under(dB, 'customer', 'Customer B');
      f = { platform, maker, dA, dB, iA, cA, cB };
      fleetGw = new FakeGateway([fakePack(FLEET_PACK)], storage.alarms, () => T0, {
        orgId: cA.id,
        gatewayId: newId(),
      });
      // The box's gateway, with a control port the tests never reach (the control routes are
      // served only when a gateway controls; a visitor is refused before any command).
      const unreachable = new Proxy(
        {},
        {
          // Only commands throw; what is looked up to wire the port (`then`, `onCommand`) is absent.
          get: (_t, key) =>
            key === 'then' || key === 'onCommand' || typeof key !== 'string'
              ? undefined
              : () => {
                  throw new Error('a refused request reached the control port');
                },
        },
      ) as ControlPort;
      boxGw = Object.assign(
        new FakeGateway(
          [fakePack(BOX_PACK), fakePack('home/bus1/2', { online: false })],
          storage.alarms,
          () => T0,
          TEST_ORIGIN,
        ),
        { control: unreachable },
      );
      h = await startHarness({
        storage,
        identity: TEST_ORIGIN,
        gateway: boxGw,
        gateways: [fleetGw.link],
        captcha: { mode: 'off' },
      });
      const setup = await h.call('POST', '/api/v1/setup', {
        body: { username: 'admin', password: 'admin-password' },
      });
      expect(setup.status).toBe(201);
      tok['admin'] = setup.body.token;
      await account(dA, 'alice', 'admin'); // Dealer A's manager
      await account(dA, 'abe', 'viewer'); // a general user of Dealer A
      await account(dB, 'bert', 'admin'); // Dealer B's manager
      await account(cB, 'vera', 'viewer', 'Vera@Example.com'); // a customer of B: the visitor
    });

    afterAll(async () => {
      await h?.close();
      await storage?.close();
      await done?.();
    });

    it('POST /plants: an administrator of the organisation creates; strict, the field named; audited', async () => {
      const body = {
        org_id: TEST_ORIGIN.orgId,
        name: 'Home',
        business_type: 'residential',
        plant_type: 'pv_storage',
        lat: 48.137,
        lon: 11.575,
        time_zone: 'Europe/Berlin',
      };
      const cases: [Record<string, unknown>, string][] = [
        [{ ...body, name: '' }, 'name'],
        [{ ...body, name: ' Home' }, 'name'],
        [{ ...body, business_type: 'farm' }, 'business_type'],
        [{ ...body, plant_type: 3 }, 'plant_type'],
        [{ ...body, lat: 91 }, 'lat'],
        [{ ...body, lon: '11.5' }, 'lon'],
        [{ ...body, lon: undefined }, 'lon'],
        [{ ...body, time_zone: 'Europe/Nowhere' }, 'time_zone'],
        [{ ...body, org_id: 42 }, 'org_id'],
        [{ ...body, owner: 'x' }, 'owner'],
      ];
      for (const [b, field] of cases) {
        const r = await call('admin', 'POST', '/api/v1/plants', b);
        expect(r.status, JSON.stringify(b)).toBe(400);
        expect(r.body.code).toBe('REQUEST_INVALID');
        expect(r.body.field, JSON.stringify(b)).toBe(field);
      }
      // Outside the caller's subtrees: 404 naming the field; seen but not administered: 403.
      const outside = await call('bert', 'POST', '/api/v1/plants', { ...body, org_id: f.cA.id });
      expect(outside.status).toBe(404);
      expect(outside.body.field).toBe('org_id');
      const viewer = await call('abe', 'POST', '/api/v1/plants', { ...body, org_id: f.cA.id });
      expect(viewer.status).toBe(403);

      const r = await call('admin', 'POST', '/api/v1/plants', body);
      expect(r.status).toBe(201);
      expect(r.body).toEqual({
        ...body,
        id: expect.any(String),
        created_at: expect.any(Number),
        created_by: expect.any(String),
        access: 'admin',
      });
      home = r.body;
      const a = await call('alice', 'POST', '/api/v1/plants', {
        ...body,
        org_id: f.cA.id,
        name: 'Farm',
        business_type: 'commercial',
        lat: undefined,
        lon: undefined,
        time_zone: 'UTC',
      });
      expect(a.status).toBe(201);
      expect(a.body.lat).toBeUndefined();
      farm = a.body;
      expect(
        (await storage.audit.list({ orgIds: [f.cA.id] })).filter(
          (e) => e.action === 'plant.create',
        ),
      ).toMatchObject([{ user: 'alice', userId: users['alice']!.id, new: { name: 'Farm' } }]);
    });

    it('lists and reads plants by subtree; the sibling dealer gets 404 on everything of A’s plant', async () => {
      const names = async (who: string) =>
        ((await get(who, '/api/v1/plants')).body as { name: string }[]).map((p) => p.name);
      expect(await names('admin')).toEqual(['Home']);
      expect(await names('alice')).toEqual(['Farm']);
      expect(await names('abe')).toEqual(['Farm']);
      expect(await names('bert')).toEqual([]);
      expect(await names('vera')).toEqual([]);
      expect((await get('abe', `/api/v1/plants/${farm.id}`)).body.access).toBe('viewer');
      const base = `/api/v1/plants/${farm.id}`;
      for (const [method, path, body] of [
        ['GET', base, undefined],
        ['PATCH', base, { name: 'Mine' }],
        ['DELETE', base, undefined],
        ['GET', `${base}/visitors`, undefined],
        ['POST', `${base}/visitors`, { email: 'vera@example.com' }],
        ['DELETE', `${base}/visitors/${users['vera']!.id}`, undefined],
        ['GET', `${base}/collectors`, undefined],
        ['POST', `${base}/collectors`, { gateway_id: fleetGw.link.gatewayId }],
        ['DELETE', `${base}/collectors/${fleetGw.link.gatewayId}`, undefined],
      ] as const) {
        const r = await call('bert', method, path, body);
        expect(r.status, `${method} ${path}`).toBe(404);
        expect(r.body.code).toBe('NOT_FOUND');
      }
      // A viewer of A sees it and changes nothing.
      expect((await call('abe', 'PATCH', base, { name: 'Mine' })).status).toBe(403);
      const edit = await call('alice', 'PATCH', base, { name: 'Farm 2', lat: 1.5, lon: 2.5 });
      expect(edit.status).toBe(200);
      expect(edit.body).toMatchObject({ name: 'Farm 2', lat: 1.5, lon: 2.5, time_zone: 'UTC' });
      const half = await call('alice', 'PATCH', base, { lat: null });
      expect(half.status).toBe(400);
      expect(half.body.field).toBe('lat');
      expect((await call('alice', 'PATCH', base, {})).status).toBe(400);
    });

    it('GET /gateways: the collectors a caller sees, and whether they may attach them', async () => {
      const ids = (r: { body: { id: string }[] }) => r.body.map((g) => g.id);
      const alice = await get('alice', '/api/v1/gateways');
      expect(alice.status).toBe(200);
      expect(ids(alice)).toEqual([fleetGw.link.gatewayId]);
      expect(alice.body[0]).toMatchObject({ org_id: f.cA.id, packs: 1, manage: true });
      // A general user of the same dealer sees it and may not attach it; Dealer B sees none.
      expect((await get('abe', '/api/v1/gateways')).body).toMatchObject([
        { id: fleetGw.link.gatewayId, manage: false },
      ]);
      expect(ids(await get('bert', '/api/v1/gateways'))).not.toContain(fleetGw.link.gatewayId);
      expect(ids(await get('bert', '/api/v1/gateways'))).not.toContain(TEST_ORIGIN.gatewayId);
      expect((await h.call('GET', '/api/v1/gateways')).status).toBe(401);
    });

    it('collectors: a gateway the caller administers, of one plant at most, listed with its packs', async () => {
      const path = `/api/v1/plants/${home.id}/collectors`;
      const box = TEST_ORIGIN.gatewayId;
      // Alice does not see the box's gateway: 404 naming it; abe cannot attach at all.
      const notHers = await call('alice', 'POST', `/api/v1/plants/${farm.id}/collectors`, {
        gateway_id: box,
      });
      expect(notHers.status).toBe(404);
      expect(notHers.body.field).toBe('gateway_id');
      expect(
        (
          await call('abe', 'POST', `/api/v1/plants/${farm.id}/collectors`, {
            gateway_id: fleetGw.link.gatewayId,
          })
        ).status,
      ).toBe(403);
      const bad = await call('admin', 'POST', path, { gateway_id: box, serial: '' });
      expect(bad.status).toBe(400);
      expect(bad.body.field).toBe('serial');
      const r = await call('admin', 'POST', path, {
        gateway_id: box,
        name: 'Logger',
        serial: 'SN1',
      });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({
        plant_id: home.id,
        gateway_id: box,
        name: 'Logger',
        serial: 'SN1',
        online: true,
      });
      expect(packIds(r.body.packs)).toEqual(packIds(await boxGw.packs()));
      const again = await call('admin', 'POST', path, { gateway_id: box });
      expect(again.status).toBe(400);
      expect(again.body.field).toBe('gateway_id');
      const f2 = await call('alice', 'POST', `/api/v1/plants/${farm.id}/collectors`, {
        gateway_id: fleetGw.link.gatewayId,
      });
      expect(f2.status).toBe(201);
      expect(packIds(f2.body.packs)).toEqual([FLEET_PACK]);
      const list = await get('admin', path);
      expect(list.body.map((k: { gateway_id: string }) => k.gateway_id)).toEqual([box]);
      // A plant with collectors is not deleted.
      const del = await call('alice', 'DELETE', `/api/v1/plants/${farm.id}`);
      expect(del.status).toBe(400);
      expect(del.body.field).toBe('id');
      expect(
        (await storage.audit.list({ orgIds: [TEST_ORIGIN.orgId] })).filter(
          (e) => e.action === 'plant.collector.attach',
        ),
      ).toMatchObject([{ user: 'admin', new: { gateway_id: box, name: 'Logger' } }]);
    });

    it('a visitor by e-mail sees that plant alone, reads its packs, history, alarms and live stream, writes nothing', async () => {
      const vpath = `/api/v1/plants/${home.id}/visitors`;
      const nobody = await call('admin', 'POST', vpath, { email: 'nobody@example.com' });
      expect(nobody.status).toBe(404);
      expect(nobody.body.field).toBe('email');
      const badMail = await call('admin', 'POST', vpath, { email: 'not-an-address' });
      expect(badMail.status).toBe(400);
      expect(badMail.body.field).toBe('email');

      // Before: nothing of the box.
      expect((await get('vera', `/api/v1/packs/${enc(BOX_PACK)}`)).status).toBe(404);
      const live = await LiveClient.connect(
        `${h.url.replace('http', 'ws')}/api/v1/live?token=${tok['vera']}`,
      );
      expect(await live.next()).toMatchObject({ type: 'hello', user: 'vera' });

      const r = await call('admin', 'POST', vpath, { email: 'VERA@example.com' });
      expect(r.status).toBe(201);
      expect(r.body).toEqual({
        plant_id: home.id,
        user_id: users['vera']!.id,
        username: 'vera',
        email: 'vera@example.com',
        created_at: expect.any(Number),
      });
      const twice = await call('admin', 'POST', vpath, { email: 'vera@example.com' });
      expect(twice.status).toBe(400);
      expect(twice.body.field).toBe('email');
      expect((await get('admin', vpath)).body).toEqual([r.body]);

      // The plant alone, as a visitor.
      const plants = (await get('vera', '/api/v1/plants')).body;
      expect(plants).toMatchObject([{ id: home.id, access: 'visitor' }]);
      expect((await get('vera', `/api/v1/plants/${home.id}`)).status).toBe(200);
      expect((await get('vera', `/api/v1/plants/${farm.id}`)).status).toBe(404);
      const ks = await get('vera', `/api/v1/plants/${home.id}/collectors`);
      expect(ks.status).toBe(200);
      expect(packIds(ks.body[0].packs)).toEqual(packIds(await boxGw.packs()));
      // Its packs, history and exports; nothing of the fleet's.
      expect(packIds((await get('vera', '/api/v1/packs')).body)).toEqual(
        packIds(await boxGw.packs()),
      );
      expect((await get('vera', `/api/v1/packs/${enc(BOX_PACK)}`)).status).toBe(200);
      expect((await get('vera', `/api/v1/packs/${enc(BOX_PACK)}/history`)).status).toBe(200);
      expect((await get('vera', `/api/v1/packs/${enc(FLEET_PACK)}`)).status).toBe(404);
      expect((await get('vera', `/api/v1/packs/${enc(FLEET_PACK)}/history`)).status).toBe(404);
      // Alarms: the box's gateway's, not another gateway's of the same organisation, not the fleet's.
      await storage.alarms.raise(TEST_ORIGIN, alarm(BOX_PACK));
      await storage.alarms.raise({ orgId: TEST_ORIGIN.orgId, gatewayId: OTHER_GW }, alarm('x/y/9'));
      await storage.alarms.raise(fleetGw.identity, alarm(FLEET_PACK));
      const seenAlarms = (await get('vera', '/api/v1/alarms')).body as { pack_id: string }[];
      expect(seenAlarms.map((a) => a.pack_id)).toEqual([BOX_PACK]);
      // Live: the box's events reach her, the fleet's do not (messages arrive in order).
      live.send({ subscribe: '*' });
      expect(await live.next()).toEqual({ type: 'subscribed', packs: '*', unknown: [] });
      fleetGw.emit({ type: 'online', packId: FLEET_PACK, ts: 1, online: true });
      boxGw.emit({ type: 'online', packId: BOX_PACK, ts: 2, online: true });
      // The subscription's first snapshots of the box's packs, then the box's event; the
      // fleet's, emitted first, would have come before it.
      const got: Record<string, unknown>[] = [];
      do got.push(await live.next());
      while (got.at(-1)!['type'] !== 'online');
      expect(got.at(-1)).toMatchObject({ type: 'online', pack_id: BOX_PACK });
      expect(got.filter((m) => m['pack_id'] === FLEET_PACK)).toEqual([]);

      // Writes: 403 on control, parameters, acknowledgements, plant edits, shares and collectors.
      for (const [method, path, body] of [
        ['POST', `/api/v1/packs/${enc(BOX_PACK)}/commands/mos`, { which: 'charge', on: false }],
        ['PUT', `/api/v1/packs/${enc(BOX_PACK)}/parameters`, { values: { cell_ov_v: 3.6 } }],
        ['PATCH', `/api/v1/plants/${home.id}`, { name: 'Mine' }],
        ['DELETE', `/api/v1/plants/${home.id}`, undefined],
        ['POST', vpath, { email: 'vera@example.com' }],
        ['DELETE', `${vpath}/${users['vera']!.id}`, undefined],
        ['GET', vpath, undefined],
        ['POST', `/api/v1/plants/${home.id}/collectors`, { gateway_id: TEST_ORIGIN.gatewayId }],
        ['DELETE', `/api/v1/plants/${home.id}/collectors/${TEST_ORIGIN.gatewayId}`, undefined],
      ] as const) {
        const w = await call('vera', method, path, body);
        expect(w.status, `${method} ${path}`).toBe(403);
        expect(w.body.code).toBe('FORBIDDEN');
      }

      // Removed: 404 again, at once on the open stream too.
      const del = await call('admin', 'DELETE', `${vpath}/${users['vera']!.id}`);
      expect(del.status).toBe(200);
      expect((await get('vera', `/api/v1/plants/${home.id}`)).status).toBe(404);
      expect((await get('vera', `/api/v1/packs/${enc(BOX_PACK)}`)).status).toBe(404);
      expect((await get('vera', '/api/v1/plants')).body).toEqual([]);
      boxGw.emit({ type: 'online', packId: BOX_PACK, ts: 3, online: true });
      live.send({ subscribe: '*' });
      expect(await live.next()).toEqual({ type: 'subscribed', packs: '*', unknown: [] });
      live.close();
      const audit = (await storage.audit.list({ orgIds: [TEST_ORIGIN.orgId] })).map(
        (e) => e.action,
      );
      expect(audit).toEqual(expect.arrayContaining(['plant.visitor.add', 'plant.visitor.remove']));
    });

    it('a member who also visits a plant sees its gateway’s records, not the rest of its organisation', async () => {
      const add = await call('admin', 'POST', `/api/v1/plants/${home.id}/visitors`, {
        email: 'abe@example.com',
      });
      expect(add.status).toBe(404); // no address yet
      await storage.accounts.setProfile(users['abe']!.id, { email: 'abe@example.com' });
      expect(
        (
          await call('admin', 'POST', `/api/v1/plants/${home.id}/visitors`, {
            email: 'abe@example.com',
          })
        ).status,
      ).toBe(201);
      const seen = ((await get('abe', '/api/v1/alarms')).body as { pack_id: string }[])
        .map((a) => a.pack_id)
        .sort();
      expect(seen).toEqual([FLEET_PACK, BOX_PACK].sort());
      // Without Scope.gatewayIds the other gateway's event of the box's organisation would be there.
      expect(
        (await storage.alarms.list({ orgIds: [TEST_ORIGIN.orgId] })).map((a) => a.packId),
      ).toContain('x/y/9');
      // Detaching the collector takes the gateway away from the visitor at once.
      const d = await call(
        'admin',
        'DELETE',
        `/api/v1/plants/${home.id}/collectors/${TEST_ORIGIN.gatewayId}`,
      );
      expect(d.status).toBe(200);
      expect((await get('abe', `/api/v1/packs/${enc(BOX_PACK)}`)).status).toBe(404);
      expect((await get('abe', `/api/v1/plants/${home.id}`)).status).toBe(200);
      // Without collectors the plant is deleted, and its visitors lose it.
      expect((await call('admin', 'DELETE', `/api/v1/plants/${home.id}`)).status).toBe(200);
      expect((await get('abe', `/api/v1/plants/${home.id}`)).status).toBe(404);
    });

    it('are declared in the OpenAPI document', async () => {
      const doc = (await h.call('GET', '/api/docs/openapi.json')).body;
      expect(Object.keys(doc.paths['/api/v1/plants']).sort()).toEqual(['get', 'post']);
      expect(Object.keys(doc.paths['/api/v1/plants/{id}']).sort()).toEqual([
        'delete',
        'get',
        'patch',
      ]);
      expect(Object.keys(doc.paths['/api/v1/plants/{id}/visitors']).sort()).toEqual([
        'get',
        'post',
      ]);
      expect(Object.keys(doc.paths['/api/v1/plants/{id}/collectors/{gateway_id}'])).toEqual([
        'delete',
      ]);
    });
  });
}

function alarm(packId: string) {
  return {
    packId,
    code: 'cell_ov',
    severity: 'protection' as const,
    origin: 'bms' as const,
    raisedAt: Date.UTC(2030, 0, 1),
    message: packId,
  };
}
