/**
 * Contract suite of the plant store (docs/fleet.md "Plants") and of `Scope.gatewayIds`: plants
 * seen by the subtree of their organisation and by their visitors only, changed within only;
 * visitors by user; a gateway a collector of one plant at most; a plant with collectors not
 * deleted; bad input naming the field; and telemetry, alarm and audit queries narrowed to the
 * gateways of `gatewayIds`; alarm and audit queries over whole subtrees by `Scope.roots`.
 * Every adapter runs it with an `open()` giving fresh stores.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AlarmStore,
  AuditStore,
  NewPlant,
  Org,
  OrgStore,
  Origin,
  PlantStore,
  TelemetryStore,
  User,
  UserStore,
} from '../../index.js';
import { expectCode } from './records.js';
import { contractSnapshot } from './telemetry.js';

type Stores = {
  orgs: OrgStore;
  users: UserStore;
  plants: PlantStore;
  alarms: AlarmStore;
  audit: AuditStore;
  telemetry: TelemetryStore;
  close(): unknown;
};
type Opener = () => Stores | Promise<Stores>;

const T0 = Date.UTC(2026, 11, 2, 8, 0, 0);
const GW = '01JD000000000000000000GW01';
const GW_A = '01JD000000000000000000GWA1';
const GW_B = '01JD000000000000000000GWA2';

export function plantContract(name: string, open: Opener): void {
  describe(`${name}: PlantStore contract`, () => {
    let s: Stores;
    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close();
    });
    let t = T0;
    const at = (): number => ++t;

    /** maker → two dealers, each with a customer; a user of each dealer and a stranger. */
    async function fleet() {
      const maker = await s.orgs.createRoot({ kind: 'battery_maker', name: 'M', createdAt: at() });
      const under = (p: Org, kind: Org['kind'], n: string) =>
        s.orgs.create([p.id], { parentId: p.id, kind, name: n, createdAt: at() });
      const d1 = await under(maker, 'dealer', 'D1');
      const d2 = await under(maker, 'dealer', 'D2');
      const c1 = await under(d1, 'customer', 'C1');
      const c2 = await under(d2, 'customer', 'C2');
      const user = (org: Org, username: string): Promise<User> =>
        s.users.create(
          { orgId: org.id, gatewayId: GW } satisfies Origin,
          { username, role: 'viewer', createdAt: at() },
          'h',
        );
      const visitor = await user(d2, 'vera');
      return { maker, d1, d2, c1, c2, visitor };
    }
    const plant = (orgId: string, over: Partial<NewPlant> = {}): NewPlant => ({
      orgId,
      name: 'Roof',
      businessType: 'residential',
      plantType: 'pv_storage',
      lat: 52.52,
      lon: 13.405,
      timeZone: 'Europe/Berlin',
      createdAt: at(),
      createdBy: 'U1',
      ...over,
    });

    it('creates, reads, lists and edits a plant within; outside is NOT_FOUND', async () => {
      const f = await fleet();
      const p = await s.plants.create([f.d1.id], plant(f.c1.id));
      expect(p).toEqual({
        id: p.id,
        orgId: f.c1.id,
        name: 'Roof',
        businessType: 'residential',
        plantType: 'pv_storage',
        lat: 52.52,
        lon: 13.405,
        timeZone: 'Europe/Berlin',
        createdAt: p.createdAt,
        createdBy: 'U1',
      });
      expect(p.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      const q = await s.plants.create(
        [f.c1.id],
        plant(f.c1.id, { name: 'Barn', lat: undefined, lon: undefined, createdBy: undefined }),
      );
      expect(q.lat).toBeUndefined();
      expect(q.createdBy).toBeUndefined();
      expect(await s.plants.get({ within: [f.maker.id] }, p.id)).toEqual(p);
      expect((await s.plants.list({ within: [f.d1.id] })).map((x) => x.name)).toEqual([
        'Barn',
        'Roof',
      ]);
      // The sibling dealer sees nothing, changes nothing, creates nothing in D1's subtree.
      expect(await s.plants.get({ within: [f.d2.id] }, p.id)).toBeUndefined();
      expect(await s.plants.list({ within: [f.d2.id] })).toEqual([]);
      expect(await s.plants.list({ within: [] })).toEqual([]);
      await expectCode(() => s.plants.update([f.d2.id], p.id, { name: 'X' }), 'NOT_FOUND');
      await expectCode(() => s.plants.delete([f.d2.id], p.id), 'NOT_FOUND');
      await expectCode(() => s.plants.create([f.d2.id], plant(f.c1.id)), 'NOT_FOUND', 'org_id');

      const e = await s.plants.update([f.d1.id], p.id, {
        name: 'Roof 2',
        plantType: 'off_grid',
        lat: null,
        lon: null,
      });
      expect(e).toMatchObject({
        name: 'Roof 2',
        plantType: 'off_grid',
        businessType: 'residential',
      });
      expect(e.lat).toBeUndefined();
      expect(await s.plants.get({ within: [f.d1.id] }, p.id)).toEqual(e);
      const moved = await s.plants.update([f.d1.id], p.id, {
        lat: -33.9,
        lon: 151.2,
        timeZone: 'UTC',
      });
      expect(moved).toMatchObject({ lat: -33.9, lon: 151.2, timeZone: 'UTC' });
    });

    it('refuses bad input naming the field', async () => {
      const f = await fleet();
      const cases: [Partial<Record<keyof NewPlant, unknown>>, string][] = [
        [{ name: '' }, 'name'],
        [{ name: ' Roof' }, 'name'],
        [{ name: 'x'.repeat(101) }, 'name'],
        [{ businessType: 'farm' }, 'business_type'],
        [{ plantType: 7 }, 'plant_type'],
        [{ lat: 90.5 }, 'lat'],
        [{ lon: -181 }, 'lon'],
        [{ lat: '52' }, 'lat'],
        [{ lat: undefined }, 'lat'],
        [{ lon: undefined }, 'lon'],
        [{ lat: Number.NaN }, 'lat'],
        [{ timeZone: 'Mars/Base' }, 'time_zone'],
        [{ timeZone: 'utc+1' }, 'time_zone'],
      ];
      for (const [over, field] of cases)
        await expectCode(
          () => s.plants.create([f.d1.id], plant(f.c1.id, over as Partial<NewPlant>)),
          'REQUEST_INVALID',
          field,
        );
      const p = await s.plants.create([f.d1.id], plant(f.c1.id));
      await expectCode(
        () => s.plants.update([f.d1.id], p.id, { lat: null }),
        'REQUEST_INVALID',
        'lat',
      );
      await expectCode(
        () => s.plants.update([f.d1.id], p.id, { timeZone: '' }),
        'REQUEST_INVALID',
        'time_zone',
      );
      expect(await s.plants.get({ within: [f.d1.id] }, p.id)).toEqual(p);
    });

    it('visitors: a plant shared with a user is seen by them alone; removable', async () => {
      const f = await fleet();
      const p = await s.plants.create([f.d1.id], plant(f.c1.id));
      const other = await s.plants.create([f.d1.id], plant(f.c1.id, { name: 'Other' }));
      const asVera = { within: [f.d2.id], visitor: f.visitor.id };
      expect(await s.plants.get(asVera, p.id)).toBeUndefined();
      const v = await s.plants.addVisitor([f.d1.id], p.id, {
        userId: f.visitor.id,
        createdAt: at(),
        createdBy: 'U1',
      });
      expect(v).toEqual({
        plantId: p.id,
        userId: f.visitor.id,
        username: 'vera',
        orgId: f.d2.id,
        createdAt: v.createdAt,
        createdBy: 'U1',
      });
      expect(await s.plants.visitors([f.c1.id], p.id)).toEqual([v]);
      expect(await s.plants.get(asVera, p.id)).toEqual(p);
      expect(await s.plants.get(asVera, other.id)).toBeUndefined();
      expect((await s.plants.list(asVera)).map((x) => x.id)).toEqual([p.id]);
      // Only the visitor: the same view without the user sees nothing of D1's.
      expect(await s.plants.list({ within: [f.d2.id] })).toEqual([]);
      // A visitor changes nothing: changes take `within`, which does not hold the plant.
      await expectCode(() => s.plants.update([f.d2.id], p.id, { name: 'Mine' }), 'NOT_FOUND');
      await expectCode(() => s.plants.visitors([f.d2.id], p.id), 'NOT_FOUND');
      await expectCode(
        () => s.plants.addVisitor([f.d1.id], p.id, { userId: f.visitor.id, createdAt: at() }),
        'REQUEST_INVALID',
        'user_id',
      );
      await expectCode(
        () => s.plants.addVisitor([f.d1.id], p.id, { userId: 'nobody', createdAt: at() }),
        'NOT_FOUND',
        'user_id',
      );
      await expectCode(
        () => s.plants.addVisitor([f.d2.id], p.id, { userId: f.visitor.id, createdAt: at() }),
        'NOT_FOUND',
      );
      expect(await s.plants.visitsOf(f.visitor.id)).toEqual([
        { plantId: p.id, orgId: f.c1.id, gatewayIds: [] },
      ]);
      await expectCode(() => s.plants.removeVisitor([f.d2.id], p.id, f.visitor.id), 'NOT_FOUND');
      expect(await s.plants.removeVisitor([f.d1.id], p.id, f.visitor.id)).toEqual(v);
      await expectCode(() => s.plants.removeVisitor([f.d1.id], p.id, f.visitor.id), 'NOT_FOUND');
      expect(await s.plants.get(asVera, p.id)).toBeUndefined();
      expect(await s.plants.visitsOf(f.visitor.id)).toEqual([]);
    });

    it('collectors: a gateway of one plant at most; a plant with collectors is not deleted', async () => {
      const f = await fleet();
      const p = await s.plants.create([f.d1.id], plant(f.c1.id));
      const q = await s.plants.create([f.d1.id], plant(f.c1.id, { name: 'Q' }));
      const k = await s.plants.attachCollector([f.d1.id], p.id, {
        gatewayId: GW_A,
        name: 'Logger 1',
        serial: 'SN-0001',
        createdAt: at(),
        createdBy: 'U1',
      });
      expect(k).toEqual({
        plantId: p.id,
        gatewayId: GW_A,
        name: 'Logger 1',
        serial: 'SN-0001',
        createdAt: k.createdAt,
        createdBy: 'U1',
      });
      const k2 = await s.plants.attachCollector([f.c1.id], p.id, {
        gatewayId: GW_B,
        createdAt: at(),
      });
      expect(k2).toEqual({ plantId: p.id, gatewayId: GW_B, createdAt: k2.createdAt });
      for (const target of [p, q])
        await expectCode(
          () =>
            s.plants.attachCollector([f.d1.id], target.id, { gatewayId: GW_A, createdAt: at() }),
          'REQUEST_INVALID',
          'gateway_id',
        );
      await expectCode(
        () => s.plants.attachCollector([f.d2.id], q.id, { gatewayId: GW, createdAt: at() }),
        'NOT_FOUND',
      );
      await expectCode(
        () => s.plants.attachCollector([f.d1.id], q.id, { gatewayId: '', createdAt: at() }),
        'REQUEST_INVALID',
        'gateway_id',
      );
      await expectCode(
        () =>
          s.plants.attachCollector([f.d1.id], q.id, { gatewayId: GW, name: ' x', createdAt: at() }),
        'REQUEST_INVALID',
        'name',
      );
      expect(await s.plants.collectors({ within: [f.d1.id] }, p.id)).toEqual([k, k2]);
      await expectCode(() => s.plants.collectors({ within: [f.d2.id] }, p.id), 'NOT_FOUND');
      // A visitor sees the collectors and has their gateways for the policy.
      await s.plants.addVisitor([f.d1.id], p.id, { userId: f.visitor.id, createdAt: at() });
      expect(await s.plants.collectors({ within: [], visitor: f.visitor.id }, p.id)).toEqual([
        k,
        k2,
      ]);
      expect(await s.plants.visitsOf(f.visitor.id)).toEqual([
        { plantId: p.id, orgId: f.c1.id, gatewayIds: [GW_A, GW_B].sort() },
      ]);

      await expectCode(() => s.plants.delete([f.d1.id], p.id), 'REQUEST_INVALID', 'id');
      await expectCode(() => s.plants.detachCollector([f.d2.id], p.id, GW_A), 'NOT_FOUND');
      await expectCode(() => s.plants.detachCollector([f.d1.id], q.id, GW_A), 'NOT_FOUND');
      expect(await s.plants.detachCollector([f.d1.id], p.id, GW_A)).toEqual(k);
      expect(await s.plants.detachCollector([f.d1.id], p.id, GW_B)).toEqual(k2);
      // Detached, the gateway may join another plant.
      await s.plants.attachCollector([f.d1.id], q.id, { gatewayId: GW_A, createdAt: at() });
      expect(await s.plants.delete([f.d1.id], p.id)).toEqual(p);
      expect(await s.plants.get({ within: [f.d1.id] }, p.id)).toBeUndefined();
      // Its visitors went with it.
      expect(await s.plants.visitsOf(f.visitor.id)).toEqual([]);
    });
  });

  describe(`${name}: Scope.roots`, () => {
    let s: Stores;
    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close();
    });

    it('finds the alarm, audit and daily-file records of whole subtrees through the closure, in SQL', async () => {
      const maker = await s.orgs.createRoot({ kind: 'battery_maker', name: 'M', createdAt: T0 });
      const under = (p: Org, kind: Org['kind'], n: string) =>
        s.orgs.create([p.id], { parentId: p.id, kind, name: n, createdAt: T0 });
      const d1 = await under(maker, 'dealer', 'D1');
      const d2 = await under(maker, 'dealer', 'D2');
      const i1 = await under(d1, 'installer', 'I1');
      const c1 = await under(i1, 'customer', 'C1');
      const c2 = await under(d2, 'customer', 'C2');
      const outside = '01JD00000000000000000ORG98'; // in no tree (a single box's organisation)
      const write = async (orgId: string, gatewayId: string) => {
        const o: Origin = { orgId, gatewayId };
        await s.alarms.raise(o, {
          packId: 'p1',
          code: 'cell_ov',
          severity: 'protection',
          origin: 'bms',
          raisedAt: T0,
          message: orgId,
        });
        await s.audit.append(o, { at: T0, user: 'u', action: 'x', result: 'ok', detail: orgId });
        await s.telemetry.writeSamples(o, [
          { packId: `p-${orgId}`, ts: T0, snapshot: contractSnapshot(0) },
        ]);
      };
      await write(c1.id, GW_A);
      await write(i1.id, GW_A);
      await write(c2.id, GW_B);
      await write(maker.id, GW);
      await write(outside, GW);
      const alarmOrgs = async (scope: Parameters<AlarmStore['list']>[0]) =>
        (await s.alarms.list(scope)).map((e) => e.orgId).sort();
      const auditOrgs = async (scope: Parameters<AuditStore['list']>[0]) =>
        (await s.audit.list(scope)).map((e) => e.orgId).sort();
      // Dealer 1's subtree: its installer and the customer two levels down; not dealer 2's.
      const d1Scope = { orgIds: [], roots: [d1.id] };
      expect(await alarmOrgs(d1Scope)).toEqual([c1.id, i1.id].sort());
      expect(await auditOrgs(d1Scope)).toEqual([c1.id, i1.id].sort());
      // Roots and ids together: the subtrees and the organisations named.
      const both = { orgIds: [outside], roots: [d1.id, d2.id] };
      expect(await alarmOrgs(both)).toEqual([c1.id, c2.id, i1.id, outside].sort());
      expect(await auditOrgs(both)).toEqual([c1.id, c2.id, i1.id, outside].sort());
      // Telemetry's daily files alike.
      const fileOrgs = async (scope: Parameters<TelemetryStore['dailyFiles']>[0]) =>
        (await s.telemetry.dailyFiles(scope)).map((d) => d.packId.slice(2)).sort();
      expect(await fileOrgs(d1Scope)).toEqual([c1.id, i1.id].sort());
      expect(await fileOrgs(both)).toEqual([c1.id, c2.id, i1.id, outside].sort());
      // The whole tree from its root; narrowed to one gateway as ever.
      expect(await alarmOrgs({ orgIds: [], roots: [maker.id] })).toHaveLength(4);
      expect(await auditOrgs({ orgIds: [], roots: [maker.id], gatewayIds: [GW_A] })).toEqual(
        [c1.id, i1.id].sort(),
      );
      expect(await s.alarms.counts({ orgIds: [], roots: [d2.id] }).then((c) => c['cell_ov'])).toBe(
        1,
      );
      // A root is an organisation id; neither list may be empty alone, nor hold 1,001.
      await expectCode(() => s.audit.list({ orgIds: [] }), 'REQUEST_INVALID', 'scope.orgIds');
      await expectCode(
        () => s.audit.list({ orgIds: [], roots: [] }),
        'REQUEST_INVALID',
        'scope.roots',
      );
      await expectCode(
        () => s.audit.list({ orgIds: [], roots: Array.from({ length: 1001 }, () => d1.id) }),
        'REQUEST_INVALID',
        'scope.roots',
      );
    });
  });

  describe(`${name}: Scope.gatewayIds`, () => {
    let s: Stores;
    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close();
    });

    it('narrows telemetry, alarm and audit queries to the gateways named', async () => {
      const org = '01JD00000000000000000ORG99';
      const a: Origin = { orgId: org, gatewayId: GW_A };
      const b: Origin = { orgId: org, gatewayId: GW_B };
      for (const o of [a, b]) {
        await s.telemetry.writeSamples(o, [
          { packId: 'p1', ts: T0, snapshot: contractSnapshot(0) },
        ]);
        await s.alarms.raise(o, {
          packId: 'p1',
          code: 'cell_ov',
          severity: 'protection',
          origin: 'bms',
          raisedAt: T0,
          message: o.gatewayId,
        });
        await s.audit.append(o, {
          at: T0,
          user: 'u',
          action: 'x',
          result: 'ok',
          detail: o.gatewayId,
        });
      }
      const all = { orgIds: [org] };
      const onlyA = { orgIds: [org], gatewayIds: [GW_A] };
      expect((await s.telemetry.dailyFiles(all)).map((d) => d.gatewayId).sort()).toEqual(
        [GW_A, GW_B].sort(),
      );
      expect((await s.telemetry.dailyFiles(onlyA)).map((d) => d.gatewayId)).toEqual([GW_A]);
      expect((await s.alarms.list(all)).map((e) => e.gatewayId).sort()).toEqual(
        [GW_A, GW_B].sort(),
      );
      const listed = await s.alarms.list(onlyA);
      expect(listed.map((e) => e.gatewayId)).toEqual([GW_A]);
      expect(await s.alarms.counts(onlyA)).toEqual({ cell_ov: 1 });
      const ofB = (await s.alarms.list(all)).find((e) => e.gatewayId === GW_B)!;
      expect(await s.alarms.get(onlyA, { id: ofB.id })).toBeUndefined();
      expect(await s.alarms.acknowledge(onlyA, ofB.id, 'u', T0 + 1)).toBe(false);
      await expectCode(() => s.alarms.clear(onlyA, ofB.id, T0 + 1), 'NOT_FOUND');
      expect((await s.audit.list(onlyA)).map((e) => e.gatewayId)).toEqual([GW_A]);
      // Both gateways named: both seen; with gatewayId, it must be among them.
      expect(await s.alarms.list({ orgIds: [org], gatewayIds: [GW_A, GW_B] })).toHaveLength(2);
      await expectCode(
        () => s.alarms.list({ orgIds: [org], gatewayId: GW_B, gatewayIds: [GW_A] }),
        'REQUEST_INVALID',
        'scope.gatewayIds',
      );
      await expectCode(
        () => s.alarms.list({ orgIds: [org], gatewayIds: [] }),
        'REQUEST_INVALID',
        'scope.gatewayIds',
      );
      await expectCode(() => s.audit.list({ orgIds: [org], gatewayIds: [''] }), 'REQUEST_INVALID');
    });
  });
}
