/**
 * Point groups (seed 000 "Set of points", docs/fleet.md "Point groups") on the real server over
 * a real SQLite store and a real PostgreSQL database (`points_…`, dropped afterwards).
 *
 * The fleet: platform → dealer → customer C, whose gateway polls the Pylontech pack
 * `c/bus/1`. C's accounts: Mia (its manager, the person in charge), Ada (administrator), Eve
 * (end user) and Gus (general user). Proven: the End User Group shows every point until Mia
 * removes `cycles`; then Eve gets no `cycles` in the pack list, the pack, its history, the
 * CSV export or the live stream, while Gus still does; only Mia may save the groups (Ada
 * 403, an outsider 404); bad bodies name the field; a save is audited.
 */
import { END_USER_GROUP, POINTS, newId, type Org, type User } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from './passwords.js';
import { FakeGateway, fakePack } from './testing/fake-gateway.js';
import { startHarness, TEST_COST, type Harness } from './testing/harness.js';
import { LiveClient } from './testing/ws-client.js';
import { storeAdapters, type Store } from './testing/adapters.js';

const ADAPTERS = storeAdapters('points');

const PACK = 'c/bus/1';
const enc = encodeURIComponent;
const SNAPSHOT = {
  protocol: 'pylontech',
  voltage_v: 52.1,
  current_a: 3.2,
  soc_pct: 81,
  cycles: 120,
  cell_mv: [3300, 3301, 3302, 3299],
};

for (const [adapter, openStore] of ADAPTERS) {
  describe(`point groups (${adapter})`, () => {
    let storage: Store;
    let done: () => Promise<void>;
    let h: Harness;
    const T0 = Date.UTC(2030, 0, 1);
    let c: Org;
    let gw: FakeGateway;
    const users: Record<string, User> = {};
    const tok: Record<string, string> = {};
    let made = 0;

    const get = (who: string, path: string) => h.call('GET', path, { token: tok[who] });
    const put = (who: string, body: unknown) =>
      h.call('PUT', `/api/v1/orgs/${c.id}/point-groups`, { token: tok[who], body });

    async function account(org: Org, username: string, role: User['role']): Promise<void> {
      const origin = { orgId: org.id, gatewayId: TEST_ORIGIN.gatewayId };
      const hash = await hashPassword(`${username}-password`, TEST_COST);
      users[username] = await storage.users.create(
        origin,
        { username, role, createdAt: T0 + made++ },
        hash,
      );
    }

    beforeAll(async () => {
      ({ storage, done } = await openStore());
      const o = storage.orgs;
      const platform = await o.createRoot({ kind: 'platform', name: 'Platform', createdAt: T0 });
      const dealer = await o.create([platform.id], {
        parentId: platform.id,
        kind: 'dealer',
        name: 'Dealer',
        createdAt: T0,
      });
      c = await o.create([dealer.id], {
        parentId: dealer.id,
        kind: 'customer',
        name: 'Customer C',
        createdAt: T0,
      });
      await account(c, 'mia', 'admin'); // the first admin: C's manager
      await account(c, 'ada', 'admin'); // an administrator
      await account(c, 'eve', 'viewer');
      await account(c, 'gus', 'viewer'); // a general user
      await o.setRole([c.id], c.id, users['eve']!.id, 'end_user');
      const origin = { orgId: c.id, gatewayId: newId() };
      gw = new FakeGateway(
        [fakePack(PACK, { snapshot: { ...SNAPSHOT } })],
        storage.alarms,
        () => T0,
        origin,
      );
      // Stored samples for history and exports: the last hour before the harness's clock.
      await storage.telemetry.writeSamples(
        origin,
        [1, 2, 3].map((i) => ({
          packId: PACK,
          ts: T0 - i * 60_000,
          snapshot: { ...SNAPSHOT, cycles: 120 - i },
        })),
      );
      h = await startHarness({
        storage,
        identity: TEST_ORIGIN,
        gateways: [gw.link],
        captcha: { mode: 'off' },
      });
      for (const name of ['mia', 'ada', 'eve', 'gus']) {
        const r = await h.call('POST', '/api/v1/auth/login', {
          body: { username: `${name}@${c.code}`, password: `${name}-password` },
        });
        expect(r.status, name).toBe(200);
        tok[name] = r.body.token;
      }
      const setup = await h.call('POST', '/api/v1/setup', {
        body: { username: 'admin', password: 'admin-password' },
      });
      tok['admin'] = setup.body.token;
    });

    afterAll(async () => {
      await h?.close();
      await storage?.close();
      await done?.();
    });

    it('starts with the End User Group showing every point; any member reads it, an outsider gets 404', async () => {
      const r = await get('eve', `/api/v1/orgs/${c.id}/point-groups`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        org_id: c.id,
        groups: [{ name: END_USER_GROUP, kind: 'end_user', roles: ['end_user'], points: {} }],
      });
      const eve = await get('eve', `/api/v1/packs/${enc(PACK)}`);
      expect(eve.body.snapshot.cycles).toBe(120);
      // The box's admin is not in C's tree.
      expect((await get('admin', `/api/v1/orgs/${c.id}/point-groups`)).status).toBe(404);
      const catalog = await get('eve', `/api/v1/orgs/${c.id}/points`);
      expect(catalog.status).toBe(200);
      expect(catalog.body.points.map((p: { key: string }) => p.key)).toEqual([...POINTS]);
      expect(catalog.body.models).toEqual([
        { model: 'pylontech', points: ['cell_mv', 'current_a', 'cycles', 'soc_pct', 'voltage_v'] },
      ]);
    });

    it('only the manager saves the groups: the administrator 403, an outsider 404; bad bodies name the field', async () => {
      const ok = {
        groups: [{ name: END_USER_GROUP, kind: 'end_user', roles: ['end_user'], points: {} }],
      };
      for (const who of ['ada', 'gus', 'eve']) {
        const r = await put(who, ok);
        expect(r.status, who).toBe(403);
        expect(r.body.code).toBe('FORBIDDEN');
      }
      expect((await put('admin', ok)).status).toBe(404);
      const eug = ok.groups[0]!;
      const cases: [unknown, string][] = [
        [{}, 'groups'],
        [{ ...ok, extra: 1 }, 'extra'],
        [{ groups: [] }, 'groups'],
        [{ groups: [{ ...eug, name: 42 }] }, 'groups.0.name'],
        [{ groups: [{ ...eug, roles: ['boss'] }] }, 'groups.0.roles.0'],
        [{ groups: [{ ...eug, colour: 'red' }] }, 'groups.0.colour'],
        [
          { groups: [{ ...eug, points: { pylontech: ['cycles', 'nope'] } }] },
          'groups.0.points.pylontech.1',
        ],
        [{ groups: [{ ...eug, points: { 'Pylon!': [] } }] }, 'groups.0.points.Pylon!'],
        [{ groups: [{ ...eug, kind: 'custom', roles: ['marketing'] }] }, 'groups.0.kind'],
        [
          {
            groups: [eug, { name: 'Staff', kind: 'custom', roles: ['end_user'], points: {} }],
          },
          'groups.1.roles.0',
        ],
      ];
      for (const [body, field] of cases) {
        const r = await put('mia', body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.code).toBe('REQUEST_INVALID');
        expect(r.body.field, JSON.stringify(body)).toBe(field);
      }
      // Nothing was saved by any of them.
      expect(
        (await get('mia', `/api/v1/orgs/${c.id}/point-groups`)).body.groups[0].updated_at,
      ).toBeUndefined();
    });

    it('without cycles in the End User Group: the end user never sees cycles; the general user still does', async () => {
      const live = async (who: string) => {
        const ws = await LiveClient.connect(
          `${h.url.replace('http', 'ws')}/api/v1/live?token=${tok[who]}`,
        );
        expect(await ws.next()).toMatchObject({ type: 'hello' });
        return ws;
      };
      const eveLive = await live('eve');
      const gusLive = await live('gus');

      const shown = POINTS.filter((p) => p !== 'cycles');
      const saved = await put('mia', {
        groups: [
          {
            name: END_USER_GROUP,
            kind: 'end_user',
            roles: ['end_user'],
            points: { pylontech: shown },
          },
          { name: 'Sales', kind: 'custom', roles: ['marketing'], points: { '*': ['soc_pct'] } },
        ],
      });
      expect(saved.status).toBe(200);
      expect(saved.body.groups[0].points.pylontech).toEqual([...shown].sort());
      expect(saved.body.groups[0].updated_at).toEqual(expect.any(Number));
      const audit = (await storage.audit.list({ orgIds: [c.id] })).filter(
        (e) => e.action === 'points.groups',
      );
      expect(audit).toMatchObject([{ user: 'mia', userId: users['mia']!.id, result: 'ok' }]);
      expect(
        (audit[0]!.new as { groups: { points: Record<string, string[]> }[] }).groups[0]!.points[
          'pylontech'
        ],
      ).not.toContain('cycles');

      // REST: the list and the pack.
      for (const path of ['/api/v1/packs', `/api/v1/packs/${enc(PACK)}`]) {
        const e = await get('eve', path);
        const g = await get('gus', path);
        const es = Array.isArray(e.body) ? e.body[0].snapshot : e.body.snapshot;
        const gs = Array.isArray(g.body) ? g.body[0].snapshot : g.body.snapshot;
        expect(es, path).not.toHaveProperty('cycles');
        expect(es, path).toMatchObject({ protocol: 'pylontech', voltage_v: 52.1, soc_pct: 81 });
        expect(gs.cycles, path).toBe(120);
      }

      // History: a hidden series is left out, asked for or not.
      const hist = `/api/v1/packs/${enc(PACK)}/history?fields=cycles,soc_pct&resolution=raw`;
      const eh = await get('eve', hist);
      expect(eh.status).toBe(200);
      expect(Object.keys(eh.body.series)).toEqual(['soc_pct']);
      expect(Object.keys((await get('gus', hist)).body.series).sort()).toEqual([
        'cycles',
        'soc_pct',
      ]);

      // CSV export, all fields and asked for.
      for (const q of ['', '&fields=cycles,voltage_v']) {
        const path = `/api/v1/exports/csv?pack=${enc(PACK)}${q}`;
        const e = await get('eve', path);
        const g = await get('gus', path);
        expect(e.status, path).toBe(200);
        const eHead = e.text.split('\n')[0]!;
        expect(eHead, path).not.toMatch(/cycles/);
        expect(eHead, path).toMatch(/voltage_v/);
        expect(e.text.split('\n').filter((l) => l !== '')).toHaveLength(4);
        expect(g.text.split('\n')[0], path).toMatch(/cycles/);
      }

      // The Excel workbook, the daily file and the zip of daily files alike.
      const unzipped = (raw: ArrayBuffer) =>
        Object.values(unzipSync(new Uint8Array(raw)))
          .map((f) => strFromU8(f))
          .join('\n');
      const bytes = async (who: string, path: string) => {
        const r = await fetch(h.url + path, { headers: { authorization: `Bearer ${tok[who]}` } });
        expect(r.status, path).toBe(200);
        return r.arrayBuffer();
      };
      const xlsx = `/api/v1/exports/xlsx?pack=${enc(PACK)}`;
      expect(unzipped(await bytes('eve', xlsx))).not.toMatch(/cycles/i);
      expect(unzipped(await bytes('gus', xlsx))).toMatch(/cycles/i);
      const day = `/api/v1/exports/daily/${enc(PACK)}/2029-12-31.csv`;
      expect((await get('eve', day)).text.split('\n')[0]).not.toMatch(/cycles/);
      expect((await get('gus', day)).text.split('\n')[0]).toMatch(/cycles/);
      const zip = `/api/v1/exports/daily.zip?pack=${enc(PACK)}`;
      expect(unzipped(await bytes('eve', zip))).not.toMatch(/cycles/);
      expect(unzipped(await bytes('gus', zip))).toMatch(/cycles/);

      // The live stream: the subscribe answer's current state and a new snapshot.
      for (const [ws, hidden] of [
        [eveLive, true],
        [gusLive, false],
      ] as const) {
        ws.send({ subscribe: [PACK] });
        expect(await ws.next()).toMatchObject({ type: 'subscribed' });
        const first = await ws.next();
        expect(first).toMatchObject({ type: 'snapshot', pack_id: PACK });
        expect('cycles' in first.snapshot).toBe(!hidden);
      }
      gw.emit({
        type: 'snapshot',
        packId: PACK,
        ts: T0 + 1,
        snapshot: { ...SNAPSHOT, cycles: 121 },
      });
      const e = await eveLive.next();
      const g = await gusLive.next();
      expect(e).toMatchObject({ type: 'snapshot', snapshot: { soc_pct: 81 } });
      expect(e.snapshot).not.toHaveProperty('cycles');
      expect(g.snapshot.cycles).toBe(121);
      eveLive.close();
      gusLive.close();

      // Putting cycles back shows it at once (this node forgets its cached groups on a save).
      expect(
        (
          await put('mia', {
            groups: [{ name: END_USER_GROUP, kind: 'end_user', roles: ['end_user'], points: {} }],
          })
        ).status,
      ).toBe(200);
      expect((await get('eve', `/api/v1/packs/${enc(PACK)}`)).body.snapshot.cycles).toBe(120);
    });

    it('an alarm about a hidden point is shown without its reading; about a shown one, whole', async () => {
      const noCells = POINTS.filter((p) => p !== 'cell_mv');
      expect(
        (
          await put('mia', {
            groups: [
              {
                name: END_USER_GROUP,
                kind: 'end_user',
                roles: ['end_user'],
                points: { pylontech: noCells },
              },
            ],
          })
        ).status,
      ).toBe(200);
      const ws = await LiveClient.connect(
        `${h.url.replace('http', 'ws')}/api/v1/live?token=${tok['eve']}`,
      );
      expect(await ws.next()).toMatchObject({ type: 'hello' });
      ws.send({ subscribe: [PACK] });
      expect(await ws.next()).toMatchObject({ type: 'subscribed' });
      expect(await ws.next()).toMatchObject({ type: 'snapshot' });
      const cell = await gw.raise({
        packId: PACK,
        code: 'cell_ov',
        severity: 'protection',
        origin: 'bms',
        raisedAt: T0 - 1000,
        value: 3650,
        message: 'cell 2 at 3650 mV',
      });
      const soc = await gw.raise({
        packId: PACK,
        code: 'soc_low',
        severity: 'warning',
        origin: 'bms',
        raisedAt: T0 - 500,
        value: 9,
        message: 'SOC 9 %',
      });
      for (const q of ['?active=true', `?pack=${enc(PACK)}`]) {
        const e = (await get('eve', `/api/v1/alarms${q}`)).body as { code: string }[];
        const g = (await get('gus', `/api/v1/alarms${q}`)).body as { code: string }[];
        const byCode = (l: { code: string }[], code: string) => l.find((a) => a.code === code);
        expect(byCode(e, 'cell_ov'), q).not.toHaveProperty('value');
        expect(byCode(e, 'cell_ov'), q).toMatchObject({ severity: 'protection' });
        expect(JSON.stringify(byCode(e, 'cell_ov')), q).not.toMatch(/3650/);
        expect(byCode(e, 'soc_low'), q).toMatchObject({ value: 9, message: 'SOC 9 %' });
        expect(byCode(g, 'cell_ov'), q).toMatchObject({
          value: 3650,
          message: 'cell 2 at 3650 mV',
        });
      }
      // The live stream alike, in order.
      gw.emit({ type: 'alarm', state: 'raised', event: cell });
      gw.emit({ type: 'alarm', state: 'raised', event: soc });
      const first = await ws.next();
      expect(first).toMatchObject({ type: 'alarm', alarm: { code: 'cell_ov' } });
      expect(first.alarm).not.toHaveProperty('value');
      expect(JSON.stringify(first)).not.toMatch(/3650/);
      expect(await ws.next()).toMatchObject({
        type: 'alarm',
        alarm: { code: 'soc_low', value: 9 },
      });
      ws.close();
    });

    it('energy needs both energy meters among the points shown', async () => {
      expect(
        (
          await put('mia', {
            groups: [
              {
                name: END_USER_GROUP,
                kind: 'end_user',
                roles: ['end_user'],
                points: { '*': ['soc_pct'] },
              },
            ],
          })
        ).status,
      ).toBe(200);
      const path = `/api/v1/packs/${enc(PACK)}/energy`;
      const e = await get('eve', path);
      expect(e.status).toBe(403);
      expect(e.body.code).toBe('FORBIDDEN');
      expect((await get('gus', path)).status).toBe(200);
      // `*` applies to the Pylontech pack: only soc_pct is left.
      expect(
        Object.keys((await get('eve', `/api/v1/packs/${enc(PACK)}`)).body.snapshot).sort(),
      ).toEqual(['protocol', 'soc_pct']);
    });

    it('are declared in the OpenAPI document', async () => {
      const doc = (await h.call('GET', '/api/docs/openapi.json')).body;
      const groups = doc.paths['/api/v1/orgs/{id}/point-groups'];
      expect(Object.keys(groups).sort()).toEqual(['get', 'put']);
      expect(groups.put.requestBody.content['application/json'].schema).toMatchObject({
        required: ['groups'],
        additionalProperties: false,
      });
      expect(Object.keys(groups.put.responses)).toEqual(
        expect.arrayContaining(['200', '400', '403', '404']),
      );
      expect(doc.paths['/api/v1/orgs/{id}/points']).toHaveProperty('get');
    });
  });
}
