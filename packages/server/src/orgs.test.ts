/**
 * The organisation routes on the real server over a real SQLite store and a real PostgreSQL
 * database (`fleet_…`, dropped afterwards): a fleet of a platform,
 * a battery maker, two sibling dealers with an installer and a customer each. A dealer's user
 * sees its own subtree only and gets 404 for everything of the sibling dealer (lists, creating
 * under it, its members, role changes); only an organisation's manager changes roles; bodies
 * are checked strictly (no coercion, no unknown fields) with the field named; every change is
 * audited under the organisation it concerns.
 */
import { createHash, randomBytes } from 'node:crypto';
import { orgKindSchema, orgRoleSchema } from '@openbms/contract/api';
import { ORG_KINDS, ORG_ROLES, localScope, type Org, type User } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './testing/harness.js';
import { LiveClient } from './testing/ws-client.js';
import { storeAdapters, type Store } from './testing/adapters.js';

const ADAPTERS = storeAdapters('fleet');

for (const [adapter, openStore] of ADAPTERS) {
  describe(`organisation routes (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    const T0 = Date.UTC(2030, 0, 1);
    const ids = (list: { id: string }[]) => list.map((o) => o.id);
    let f: Record<'platform' | 'maker' | 'd1' | 'd2' | 'i1' | 'i2' | 'c1' | 'c2', Org>;
    const users: Record<string, User> = {};
    const tok: Record<string, string> = {};
    let made = 0;

    async function member(org: Org, username: string, role: User['role']): Promise<void> {
      const origin = { orgId: org.id, gatewayId: TEST_ORIGIN.gatewayId };
      users[username] = await storage.users.create(
        origin,
        { username, role, createdAt: T0 + made++ },
        'x',
      );
      const secret = randomBytes(32).toString('base64url');
      await storage.users.createToken(localScope(origin), {
        hash: createHash('sha256').update(secret).digest('hex'),
        username,
        kind: 'api',
        createdAt: T0,
      });
      tok[username] = secret;
    }

    beforeAll(async () => {
      ({ storage, done } = await openStore());
      made = 0;
      const o = storage.orgs;
      const platform = await o.createRoot({ kind: 'platform', name: 'Platform', createdAt: T0 });
      const under = (p: Org, kind: Org['kind'], name: string) =>
        o.create([p.id], { parentId: p.id, kind, name, createdAt: T0 });
      const maker = await under(platform, 'battery_maker', 'Maker');
      const d1 = await under(maker, 'dealer', 'Dealer 1');
      const d2 = await under(maker, 'dealer', 'Dealer 2');
      const i1 = await under(d1, 'installer', 'Installer 1');
      const i2 = await under(d2, 'installer', 'Installer 2');
      const c1 = await under(i1, 'customer', 'Customer 1');
      const c2 = await under(i2, 'customer', 'Customer 2');
      f = { platform, maker, d1, d2, i1, i2, c1, c2 };
      await member(d1, 'dora', 'admin'); // Dealer 1's manager
      await member(d1, 'dan', 'admin'); // an administrator of Dealer 1
      await member(d1, 'vic', 'viewer'); // a general user of Dealer 1
      await member(d2, 'eve', 'admin'); // Dealer 2's manager
      h = await startHarness({ storage, identity: TEST_ORIGIN });
    });

    afterAll(async () => {
      await h?.close();
      await storage?.close();
      await done?.();
    });

    it('declares the same kinds and roles as the storage port', () => {
      expect(orgKindSchema.enum).toEqual([...ORG_KINDS]);
      expect(orgRoleSchema.enum).toEqual([...ORG_ROLES]);
    });

    it('are declared in the OpenAPI document with their bodies and answers', async () => {
      const doc = (await h.call('GET', '/api/docs/openapi.json')).body;
      const orgs = doc.paths['/api/v1/orgs'];
      expect(Object.keys(orgs).sort()).toEqual(['get', 'post']);
      expect(Object.keys(orgs.post.responses)).toEqual(
        expect.arrayContaining(['201', '400', '403', '404']),
      );
      expect(orgs.post.requestBody.content['application/json'].schema).toMatchObject({
        required: ['parent_id', 'name', 'kind'],
        additionalProperties: false,
      });
      const patch = doc.paths['/api/v1/orgs/{id}/members/{user}'].patch;
      expect(patch.requestBody.content['application/json'].schema.properties.role.enum).toEqual([
        ...ORG_ROLES,
      ]);
      expect(doc.paths['/api/v1/orgs/{id}/members'].get).toBeDefined();
    });

    it("GET /orgs: a dealer's users see their subtree, never the sibling dealer's", async () => {
      const r = await h.call('GET', '/api/v1/orgs', { token: tok['vic'] });
      expect(r.status).toBe(200);
      expect(ids(r.body)).toEqual([f.d1.id, f.i1.id, f.c1.id]);
      expect(r.body[0]).toEqual({
        id: f.d1.id,
        parent_id: f.maker.id,
        kind: 'dealer',
        name: 'Dealer 1',
        code: f.d1.code,
        depth: 2,
        created_at: T0,
      });
      const e = await h.call('GET', '/api/v1/orgs', { token: tok['eve'] });
      expect(ids(e.body)).toEqual([f.d2.id, f.i2.id, f.c2.id]);
      expect((await h.call('GET', '/api/v1/orgs')).status).toBe(401);
    });

    it('POST /orgs: creates under a managed organisation, 404 under a sibling dealer, 403 for a general user', async () => {
      const r = await h.call('POST', '/api/v1/orgs', {
        token: tok['dan'],
        body: { parent_id: f.i1.id, name: 'Customer 1b', kind: 'customer' },
      });
      expect(r.status).toBe(201);
      expect(Object.keys(r.body).sort()).toEqual(['code', 'id']);
      expect(r.body.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{6}$/);
      expect(await storage.orgs.get([f.d1.id], r.body.id)).toMatchObject({
        parentId: f.i1.id,
        name: 'Customer 1b',
        code: r.body.code,
      });
      const audit = await storage.audit.list({ orgIds: [r.body.id] });
      expect(audit).toMatchObject([
        { action: 'org.create', user: 'dan', userId: users['dan']!.id, result: 'ok' },
      ]);

      const sibling = await h.call('POST', '/api/v1/orgs', {
        token: tok['dora'],
        body: { parent_id: f.i2.id, name: 'Planted', kind: 'customer' },
      });
      expect(sibling.status).toBe(404);
      expect(sibling.body.code).toBe('NOT_FOUND');
      const unknown = await h.call('POST', '/api/v1/orgs', {
        token: tok['dora'],
        body: { parent_id: '01JD00000000000000000NOORG0', name: 'X', kind: 'customer' },
      });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toBe(
        sibling.body.error.replace(f.i2.id, '01JD00000000000000000NOORG0'),
      );
      const viewer = await h.call('POST', '/api/v1/orgs', {
        token: tok['vic'],
        body: { parent_id: f.i1.id, name: 'X', kind: 'customer' },
      });
      expect(viewer.status).toBe(403);
      expect((await storage.orgs.subtree([f.d2.id])).length).toBe(3);
    });

    it('POST /orgs/:id/customers: a customer organisation and its login in one step, by a manager or administrator', async () => {
      const body = {
        name: 'Sea View Flats',
        username: 'seaview',
        password: 'correct horse battery',
        phone: '+44 20 7946 0000',
        email: `Sea.View.${adapter}@Example.com`,
        timezone: 'Europe/London',
      };
      const r = await h.call('POST', `/api/v1/orgs/${f.i1.id}/customers`, {
        token: tok['dan'],
        body,
      });
      expect(r.status).toBe(201);
      expect(r.body.login).toBe(`seaview@${r.body.code}`);
      // The organisation: a customer under the installer, seen by its dealer, not by the sibling.
      const mine = (await h.call('GET', '/api/v1/orgs', { token: tok['vic'] })).body as Org[];
      expect(mine.find((o) => o.id === r.body.org_id)).toMatchObject({
        kind: 'customer',
        name: 'Sea View Flats',
        parent_id: f.i1.id,
      });
      const theirs = (await h.call('GET', '/api/v1/orgs', { token: tok['eve'] })).body as Org[];
      expect(theirs.map((o) => o.id)).not.toContain(r.body.org_id);
      // The login works, by name@CODE and by e-mail (any case); an end user there.
      const byName = await h.call('POST', '/api/v1/auth/login', {
        body: { username: r.body.login, password: body.password },
      });
      expect(byName.status).toBe(200);
      const byMail = await h.call('POST', '/api/v1/auth/login', {
        body: { username: body.email.toUpperCase(), password: body.password },
      });
      expect(byMail.status).toBe(200);
      const members = await h.call('GET', `/api/v1/orgs/${r.body.org_id}/members`, {
        token: tok['dora'],
      });
      expect(members.body).toMatchObject([{ username: 'seaview', role: 'end_user' }]);
      const profile = await storage.accounts!.profileOf(r.body.user_id);
      expect(profile).toMatchObject({
        email: body.email.toLowerCase(),
        phone: body.phone,
        timezone: 'Europe/London',
      });
      const audit = await storage.audit.list({ orgIds: [r.body.org_id] });
      expect(audit.filter((a) => a.action === 'customer.create')).toMatchObject([
        {
          action: 'customer.create',
          user: 'dan',
          result: 'ok',
          new: { username: 'seaview', role: 'end_user', parent_id: f.i1.id },
        },
      ]);
      // The address is taken now; nothing is made for the refused request.
      const before = (await h.call('GET', '/api/v1/orgs', { token: tok['dora'] })).body.length;
      const again = await h.call('POST', `/api/v1/orgs/${f.i1.id}/customers`, {
        token: tok['dora'],
        body: { ...body, name: 'Another', username: 'another' },
      });
      expect(again.status).toBe(400);
      expect(again.body.field).toBe('email');
      const zone = await h.call('POST', `/api/v1/orgs/${f.i1.id}/customers`, {
        token: tok['dora'],
        body: {
          ...body,
          email: undefined,
          name: 'Another',
          username: 'another',
          timezone: 'Mars/Base',
        },
      });
      expect(zone.status).toBe(400);
      expect(zone.body.field).toBe('timezone');
      expect((await h.call('GET', '/api/v1/orgs', { token: tok['dora'] })).body).toHaveLength(
        before,
      );
      // A general user may not; the sibling dealer gets 404; strict bodies name the field.
      const viewer = await h.call('POST', `/api/v1/orgs/${f.i1.id}/customers`, {
        token: tok['vic'],
        body: { name: 'X', username: 'x', password: 'long enough pw' },
      });
      expect(viewer.status).toBe(403);
      const sibling = await h.call('POST', `/api/v1/orgs/${f.i1.id}/customers`, {
        token: tok['eve'],
        body: { name: 'X', username: 'x', password: 'long enough pw' },
      });
      expect(sibling.status).toBe(404);
      for (const [bad, field] of [
        [{ name: 'X', username: 'x' }, 'password'],
        [{ name: 'X', username: 'x', password: 'long enough pw', role: 'manager' }, 'role'],
        [{ name: 'X', username: 'x', password: 12345678 }, 'password'],
        [{ name: 'X', username: 'x', password: 'long enough pw', phone: 'call me' }, 'phone'],
      ] as const) {
        const e = await h.call('POST', `/api/v1/orgs/${f.i1.id}/customers`, {
          token: tok['dora'],
          body: bad,
        });
        expect(e.status).toBe(400);
        expect(e.body.field).toBe(field);
      }
    });

    it('POST /orgs: strict bodies, the field named', async () => {
      const post = (body: unknown) => h.call('POST', '/api/v1/orgs', { token: tok['dora'], body });
      const cases: [unknown, string][] = [
        [{ name: 'X', kind: 'customer' }, 'parent_id'],
        [{ parent_id: f.i1.id, kind: 'customer' }, 'name'],
        [{ parent_id: f.i1.id, name: 'X' }, 'kind'],
        [{ parent_id: f.i1.id, name: 'X', kind: 'shop' }, 'kind'],
        [{ parent_id: 42, name: 'X', kind: 'customer' }, 'parent_id'],
        [{ parent_id: f.i1.id, name: 7, kind: 'customer' }, 'name'],
        [{ parent_id: f.i1.id, name: '', kind: 'customer' }, 'name'],
        [{ parent_id: f.i1.id, name: ' X', kind: 'customer' }, 'name'],
        [{ parent_id: f.i1.id, name: 'X', kind: 'customer', code: 'EC03B0' }, 'code'],
        [{ parent_id: f.i1.id, name: 'X', kind: 'platform' }, 'kind'],
        [{ parent_id: f.c1.id, name: 'X', kind: 'customer' }, 'parent_id'],
      ];
      for (const [body, field] of cases) {
        const r = await post(body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.code).toBe('REQUEST_INVALID');
        expect(r.body.field, JSON.stringify(body)).toBe(field);
      }
      expect((await post('[')).status).toBe(400);
      expect(ids(await storage.orgs.subtree([f.i1.id]))).not.toContain(undefined);
    });

    it('PATCH /orgs/:id/members/:user: the manager only; the sibling dealer gets 404', async () => {
      const path = (org: Org, u: string) => `/api/v1/orgs/${org.id}/members/${users[u]!.id}`;
      // vic has a session and an API token with an open live stream.
      const session = randomBytes(32).toString('base64url');
      await storage.users.createToken(
        { orgIds: [f.d1.id] },
        {
          hash: createHash('sha256').update(session).digest('hex'),
          username: 'vic',
          kind: 'session',
          createdAt: T0,
        },
      );
      expect((await h.call('GET', '/api/v1/auth/me', { token: session })).status).toBe(200);
      const live = await LiveClient.connect(
        `${h.url.replace('http', 'ws')}/api/v1/live?token=${tok['vic']}`,
      );
      expect(await live.next()).toMatchObject({ type: 'hello', user: 'vic', role: 'viewer' });
      const r = await h.call('PATCH', path(f.d1, 'vic'), {
        token: tok['dora'],
        body: { role: 'installer' },
      });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        user_id: users['vic']!.id,
        org_id: f.d1.id,
        role: 'installer',
        created_at: users['vic']!.createdAt,
      });
      // The account's single-box role follows the rank; its stream is told, its session ends.
      expect((await storage.users.get({ orgIds: [f.d1.id] }, 'vic'))?.role).toBe('operator');
      expect(await live.next()).toEqual({ type: 'role', role: 'operator' });
      live.close();
      expect((await h.call('GET', '/api/v1/auth/me', { token: session })).status).toBe(401);
      expect((await h.call('GET', '/api/v1/auth/me', { token: tok['vic'] })).body.role).toBe(
        'operator',
      );
      expect(await storage.audit.list({ orgIds: [f.d1.id] })).toMatchObject([
        {
          action: 'member.role',
          user: 'dora',
          old: { role: 'general_user' },
          new: { role: 'installer' },
          detail: '1 session(s) ended',
        },
      ]);

      // An administrator is not the person in charge.
      const admin = await h.call('PATCH', path(f.d1, 'vic'), {
        token: tok['dan'],
        body: { role: 'end_user' },
      });
      expect(admin.status).toBe(403);
      // The sibling dealer's manager: Dealer 1 does not exist for her.
      const sibling = await h.call('PATCH', path(f.d1, 'vic'), {
        token: tok['eve'],
        body: { role: 'end_user' },
      });
      expect(sibling.status).toBe(404);
      expect(
        (await h.call('GET', `/api/v1/orgs/${f.d1.id}/members`, { token: tok['eve'] })).status,
      ).toBe(404);
      // Her own organisation, a user who is not a member of it.
      const stranger = await h.call('PATCH', path(f.d2, 'vic'), {
        token: tok['eve'],
        body: { role: 'end_user' },
      });
      expect(stranger.status).toBe(404);

      for (const [body, field] of [
        [{ role: 'owner' }, 'role'],
        [{}, 'role'],
        [{ role: 'end_user', org: 'x' }, 'org'],
      ] as const) {
        const bad = await h.call('PATCH', path(f.d1, 'vic'), { token: tok['dora'], body });
        expect(bad.status, JSON.stringify(body)).toBe(400);
        expect(bad.body.field, JSON.stringify(body)).toBe(field);
      }
      // The manager cannot leave the organisation without one.
      const last = await h.call('PATCH', path(f.d1, 'dora'), {
        token: tok['dora'],
        body: { role: 'administrator' },
      });
      expect(last.status).toBe(400);
      expect(last.body.field).toBe('role');

      const list = await h.call('GET', `/api/v1/orgs/${f.d1.id}/members`, { token: tok['vic'] });
      expect(
        list.body.map((m: { username: string; role: string }) => [m.username, m.role]),
      ).toEqual([
        ['dora', 'manager'],
        ['dan', 'administrator'],
        ['vic', 'installer'],
      ]);
    });
  });
}
