/**
 * The policy on fleet memberships (docs/fleet.md, "Roles and rights"), on the real server over
 * a real SQLite store and a real PostgreSQL database (`fleet2_…`, dropped afterwards).
 *
 * The fleet: platform → maker → dealers A and B, each with an installer and a customer under
 * it. A second gateway belongs to A's customer and polls the pack `fleet/bus/1`; the box's own
 * gateway (the harness's, in the box's organisation) has `home/bus1/1`. Accounts of dealers A
 * and B log in by `name@CODE` (their organisation's code); the box's admin logs in by name as
 * today. Proven here: A's member sees A's subtree (organisations, members, the customer's
 * pack, its history and alarms) and nothing of B or of the box; B's member gets 404 for all of
 * A's; adding, changing and removing memberships counts from the member's next request; the
 * member routes are strict, name the field and are audited.
 */
import { newId, type Org, type User } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from './passwords.js';
import { FakeGateway, fakePack } from './testing/fake-gateway.js';
import { startHarness, TEST_COST, type Harness } from './testing/harness.js';
import { LiveClient } from './testing/ws-client.js';
import { storeAdapters, type Store } from './testing/adapters.js';

const ADAPTERS = storeAdapters('fleet2');

const FLEET_PACK = 'fleet/bus/1';
const BOX_PACK = 'home/bus1/1';
const enc = encodeURIComponent;

for (const [adapter, openStore] of ADAPTERS) {
  describe(`the policy on fleet memberships (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    const T0 = Date.UTC(2030, 0, 1);
    let f: Record<'platform' | 'maker' | 'dA' | 'dB' | 'iA' | 'iB' | 'cA' | 'cB', Org>;
    const users: Record<string, User> = {};
    const tok: Record<string, string> = {};
    let made = 0;
    let fleetGw: FakeGateway;

    const get = (who: string, path: string) => h.call('GET', path, { token: tok[who] });
    const ids = (list: { id: string }[]) => list.map((o) => o.id);
    const packIds = (list: { id: string }[]) => list.map((p) => p.id).sort();

    /** An account of `org` (its home organisation) with a real password hash. */
    async function account(org: Org, username: string, role: User['role']): Promise<void> {
      const origin = { orgId: org.id, gatewayId: TEST_ORIGIN.gatewayId };
      const hash = await hashPassword(`${username}-password`, TEST_COST);
      users[username] = await storage.users.create(
        origin,
        { username, role, createdAt: T0 + made++ },
        hash,
      );
    }

    async function login(username: string, password: string) {
      return h.call('POST', '/api/v1/auth/login', { body: { username, password } });
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
      const iB = await under(dB, 'installer', 'Installer B');
      const cA = await under(iA, 'customer', 'Customer A');
      const cB = await under(iB, 'customer', 'Customer B');
      f = { platform, maker, dA, dB, iA, iB, cA, cB };
      await account(dA, 'alice', 'admin'); // Dealer A's manager
      await account(dA, 'abe', 'viewer'); // a general user of Dealer A
      await account(dB, 'bert', 'admin'); // Dealer B's manager
      fleetGw = new FakeGateway([fakePack(FLEET_PACK)], storage.alarms, () => T0, {
        orgId: cA.id,
        gatewayId: newId(),
      });
      // Wrong logins are tried here on purpose: the captcha they would bring (after 3 from one
      // address) is captcha.test.ts's subject, not this one's.
      h = await startHarness({
        storage,
        identity: TEST_ORIGIN,
        gateways: [fleetGw.link],
        captcha: { mode: 'off' },
      });
      // The box's own admin, as `openbms start` makes it.
      const setup = await h.call('POST', '/api/v1/setup', {
        body: { username: 'admin', password: 'admin-password' },
      });
      expect(setup.status).toBe(201);
      tok['admin'] = setup.body.token;
    });

    afterAll(async () => {
      await h?.close();
      await storage?.close();
      await done?.();
    });

    it('members of any organisation log in as name@CODE; a bare name is an account of the box', async () => {
      const a = await login(`alice@${f.dA.code}`, 'alice-password');
      expect(a.status).toBe(200);
      expect(a.body.user).toEqual({ username: 'alice', role: 'admin' });
      tok['alice'] = a.body.token;
      // The code in any letter case.
      const b = await login(`bert@${f.dB.code.toLowerCase()}`, 'bert-password');
      expect(b.status).toBe(200);
      tok['bert'] = b.body.token;
      const abe = await login(`abe@${f.dA.code}`, 'abe-password');
      expect(abe.status).toBe(200);
      tok['abe'] = abe.body.token;
      expect((await get('alice', '/api/v1/auth/me')).body).toEqual({
        username: 'alice',
        role: 'admin',
        via: 'session',
      });
      // Not an account of the box; not an account of Dealer B; a wrong password; no such code.
      for (const [name, pw] of [
        ['alice', 'alice-password'],
        [`alice@${f.dB.code}`, 'alice-password'],
        [`alice@${f.dA.code}`, 'wrong-password'],
        ['alice@ZZZZZZ', 'alice-password'],
      ]) {
        const r = await login(name!, pw!);
        expect(r.status, name).toBe(401);
        expect(r.body.code).toBe('AUTH_INVALID');
      }
      // The box's admin logs in by name, as today.
      const box = await login('admin', 'admin-password');
      expect(box.status).toBe(200);
      expect(box.body.user).toEqual({ username: 'admin', role: 'admin' });
      // Logins are audited under the account's organisation.
      const audit = await storage.audit.list({ orgIds: [f.dA.id] });
      expect(audit.filter((e) => e.action === 'login' && e.result === 'ok')).toMatchObject([
        { user: 'abe', userId: users['abe']!.id },
        { user: 'alice', userId: users['alice']!.id },
      ]);
    });

    it("a dealer's member sees its subtree: organisations, members, the customer's pack, never B's or the box's", async () => {
      expect(ids((await get('alice', '/api/v1/orgs')).body)).toEqual([f.dA.id, f.iA.id, f.cA.id]);
      expect(ids((await get('bert', '/api/v1/orgs')).body)).toEqual([f.dB.id, f.iB.id, f.cB.id]);
      expect((await get('alice', `/api/v1/orgs/${f.dA.id}/members`)).status).toBe(200);

      // Packs: A's customer's gateway is within A's subtree; the box's gateway is not.
      expect(packIds((await get('alice', '/api/v1/packs')).body)).toEqual([FLEET_PACK]);
      expect(packIds((await get('abe', '/api/v1/packs')).body)).toEqual([FLEET_PACK]);
      expect((await get('alice', `/api/v1/packs/${enc(FLEET_PACK)}`)).status).toBe(200);
      expect((await get('alice', `/api/v1/packs/${enc(FLEET_PACK)}/history`)).status).toBe(200);
      expect((await get('alice', `/api/v1/packs/${enc(BOX_PACK)}`)).status).toBe(404);
      // The box's admin keeps the box and sees nothing of the fleet.
      expect(packIds((await get('admin', '/api/v1/packs')).body)).not.toContain(FLEET_PACK);
      expect(packIds((await get('admin', '/api/v1/packs')).body)).toContain(BOX_PACK);
      expect((await get('admin', `/api/v1/packs/${enc(FLEET_PACK)}`)).status).toBe(404);
    });

    it("the sibling dealer's member gets 404 on every one of A's organisations, members and packs", async () => {
      for (const org of [f.dA, f.iA, f.cA]) {
        const m = await get('bert', `/api/v1/orgs/${org.id}/members`);
        expect(m.status, org.name).toBe(404);
        expect(m.body.code).toBe('NOT_FOUND');
        const add = await h.call('POST', `/api/v1/orgs/${org.id}/members`, {
          token: tok['bert'],
          body: { user_id: users['bert']!.id, role: 'manager' },
        });
        expect(add.status, org.name).toBe(404);
        const del = await h.call('DELETE', `/api/v1/orgs/${org.id}/members/${users['abe']!.id}`, {
          token: tok['bert'],
        });
        expect(del.status, org.name).toBe(404);
      }
      expect((await get('bert', '/api/v1/packs')).body).toEqual([]);
      for (const path of [
        `/api/v1/packs/${enc(FLEET_PACK)}`,
        `/api/v1/packs/${enc(FLEET_PACK)}/history`,
        `/api/v1/packs/${enc(FLEET_PACK)}/capabilities`,
      ]) {
        const r = await get('bert', path);
        expect(r.status, path).toBe(404);
        expect(r.body.code, path).toBe('NOT_FOUND');
      }
      const alarms = await get('bert', `/api/v1/alarms?pack=${enc(FLEET_PACK)}`);
      expect([200, 404]).toContain(alarms.status);
      if (alarms.status === 200) expect(alarms.body).toEqual([]);
    });

    it('POST /orgs/:id/members: a manager or administrator there or above adds; strict, the field named; audited', async () => {
      const path = `/api/v1/orgs/${f.iA.id}/members`;
      // A general user of Dealer A sees Installer A but manages nothing.
      const viewer = await h.call('POST', path, {
        token: tok['abe'],
        body: { user_id: users['bert']!.id, role: 'installer' },
      });
      expect(viewer.status).toBe(403);
      const cases: [unknown, string][] = [
        [{ role: 'installer' }, 'user_id'],
        [{ user_id: users['bert']!.id, username: 'bert', role: 'installer' }, 'username'],
        [{ user_id: users['bert']!.id }, 'role'],
        [{ user_id: users['bert']!.id, role: 'owner' }, 'role'],
        [{ user_id: 42, role: 'installer' }, 'user_id'],
        [{ user_id: '', role: 'installer' }, 'user_id'],
        [{ username: '', role: 'installer' }, 'username'],
        [{ user_id: users['bert']!.id, role: 'installer', org: 'x' }, 'org'],
      ];
      for (const [body, field] of cases) {
        const r = await h.call('POST', path, { token: tok['alice'], body });
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.code).toBe('REQUEST_INVALID');
        expect(r.body.field, JSON.stringify(body)).toBe(field);
      }
      const nobody = await h.call('POST', path, {
        token: tok['alice'],
        body: { username: `nobody@${f.dB.code}`, role: 'installer' },
      });
      expect(nobody.status).toBe(404);
      expect(nobody.body.field).toBe('username');

      // Before: Bert sees nothing of A.
      expect((await get('bert', `/api/v1/packs/${enc(FLEET_PACK)}`)).status).toBe(404);
      const r = await h.call('POST', path, {
        token: tok['alice'],
        body: { username: `bert@${f.dB.code}`, role: 'installer' },
      });
      expect(r.status).toBe(201);
      expect(r.body).toEqual({
        user_id: users['bert']!.id,
        username: 'bert',
        org_id: f.iA.id,
        role: 'installer',
        created_at: expect.any(Number),
      });
      // His next request: Installer A's subtree beside his own, the customer's pack.
      expect(ids((await get('bert', '/api/v1/orgs')).body)).toEqual([
        f.dB.id,
        f.iA.id,
        f.iB.id,
        f.cA.id,
        f.cB.id,
      ]);
      expect((await get('bert', `/api/v1/packs/${enc(FLEET_PACK)}`)).status).toBe(200);
      expect((await get('bert', `/api/v1/orgs/${f.dA.id}/members`)).status).toBe(404);
      const again = await h.call('POST', path, {
        token: tok['alice'],
        body: { user_id: users['bert']!.id, role: 'om_user' },
      });
      expect(again.status).toBe(400);
      expect(again.body.field).toBe('user_id');
      expect(
        (await storage.audit.list({ orgIds: [f.iA.id] })).filter((e) => e.action === 'member.add'),
      ).toMatchObject([
        {
          user: 'alice',
          userId: users['alice']!.id,
          new: { user_id: users['bert']!.id, username: 'bert', role: 'installer' },
          result: 'ok',
        },
      ]);
    });

    it('a role change counts from the next request', async () => {
      const create = () =>
        h.call('POST', '/api/v1/orgs', {
          token: tok['abe'],
          body: { parent_id: f.iA.id, name: `Customer ${made++}`, kind: 'customer' },
        });
      expect((await create()).status).toBe(403);
      // Abe's own organisation: his sessions end with the new rank; he logs in again.
      const up = await h.call('PATCH', `/api/v1/orgs/${f.dA.id}/members/${users['abe']!.id}`, {
        token: tok['alice'],
        body: { role: 'administrator' },
      });
      expect(up.status).toBe(200);
      expect((await get('abe', '/api/v1/auth/me')).status).toBe(401);
      tok['abe'] = (await login(`abe@${f.dA.code}`, 'abe-password')).body.token;
      expect((await get('abe', '/api/v1/auth/me')).body.role).toBe('admin');
      expect((await create()).status).toBe(201);
      const down = await h.call('PATCH', `/api/v1/orgs/${f.dA.id}/members/${users['abe']!.id}`, {
        token: tok['alice'],
        body: { role: 'end_user' },
      });
      expect(down.status).toBe(200);
      tok['abe'] = (await login(`abe@${f.dA.code}`, 'abe-password')).body.token;
      expect((await create()).status).toBe(403);
      expect(packIds((await get('abe', '/api/v1/packs')).body)).toEqual([FLEET_PACK]);
    });

    it('DELETE /orgs/:id/members/:user: removes; never the manager, never from the home organisation; audited', async () => {
      const del = (who: string, org: Org, user: string) =>
        h.call('DELETE', `/api/v1/orgs/${org.id}/members/${users[user]!.id}`, {
          token: tok[who],
        });
      expect((await del('abe', f.iA, 'bert')).status).toBe(403);
      const home = await del('alice', f.dA, 'abe');
      expect(home.status).toBe(400);
      expect(home.body.field).toBe('user');
      const manager = await del('alice', f.dA, 'alice');
      expect(manager.status).toBe(400);
      expect(manager.body.field).toBe('user');

      const r = await del('alice', f.iA, 'bert');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        user_id: users['bert']!.id,
        org_id: f.iA.id,
        role: 'installer',
      });
      // His next request: A is gone again.
      expect(ids((await get('bert', '/api/v1/orgs')).body)).toEqual([f.dB.id, f.iB.id, f.cB.id]);
      expect((await get('bert', `/api/v1/packs/${enc(FLEET_PACK)}`)).status).toBe(404);
      expect((await del('alice', f.iA, 'bert')).status).toBe(404);
      expect(
        (await storage.audit.list({ orgIds: [f.iA.id] })).filter(
          (e) => e.action === 'member.remove',
        ),
      ).toMatchObject([
        {
          user: 'alice',
          old: { user_id: users['bert']!.id, username: 'bert', role: 'installer' },
          result: 'ok',
        },
      ]);
    });

    it("a member's open live stream follows their memberships at once", async () => {
      const c = await LiveClient.connect(
        `${h.url.replace('http', 'ws')}/api/v1/live?token=${tok['bert']}`,
      );
      expect(await c.next()).toMatchObject({ type: 'hello', user: 'bert' });
      c.send({ subscribe: '*' });
      expect(await c.next()).toEqual({ type: 'subscribed', packs: '*', unknown: [] });
      // Events are handled when emitted, and messages arrive in order: when the answer to a
      // later request comes first, the event was not sent.
      const online = (ts: number) =>
        fleetGw.emit({ type: 'online', packId: FLEET_PACK, ts, online: true });
      online(1);
      c.send({ subscribe: '*' });
      expect(await c.next()).toEqual({ type: 'subscribed', packs: '*', unknown: [] });
      const add = await h.call('POST', `/api/v1/orgs/${f.cA.id}/members`, {
        token: tok['alice'],
        body: { user_id: users['bert']!.id, role: 'end_user' },
      });
      expect(add.status).toBe(201);
      online(2);
      expect(await c.next()).toMatchObject({ type: 'online', pack_id: FLEET_PACK });
      const del = await h.call('DELETE', `/api/v1/orgs/${f.cA.id}/members/${users['bert']!.id}`, {
        token: tok['alice'],
      });
      expect(del.status).toBe(200);
      online(3);
      c.send({ subscribe: '*' });
      expect(await c.next()).toEqual({ type: 'subscribed', packs: '*', unknown: [] });
      c.close();
    });

    it('are declared in the OpenAPI document', async () => {
      const doc = (await h.call('GET', '/api/docs/openapi.json')).body;
      const members = doc.paths['/api/v1/orgs/{id}/members'];
      expect(Object.keys(members).sort()).toEqual(['get', 'post']);
      expect(members.post.requestBody.content['application/json'].schema).toMatchObject({
        required: ['role'],
        additionalProperties: false,
      });
      expect(Object.keys(members.post.responses)).toEqual(
        expect.arrayContaining(['201', '400', '403', '404']),
      );
      const one = doc.paths['/api/v1/orgs/{id}/members/{user}'];
      expect(Object.keys(one).sort()).toEqual(['delete', 'patch']);
      expect(Object.keys(one.delete.responses)).toEqual(
        expect.arrayContaining(['200', '400', '403', '404']),
      );
    });
  });
}
