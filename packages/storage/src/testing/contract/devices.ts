/**
 * Contract suite of the device store (storage devices.ts): registration and unique serials,
 * subtree visibility (a sibling dealer's device is not found), the status filters and their
 * counts, search by serial / bar code / nickname prefix, keyset pages, bind, and unbind
 * approvals (one pending per device, approve moves, reject keeps, a decision is final).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ONLINE_WINDOW_MS,
  type DeviceQuery,
  type DeviceStore,
  type NewDevice,
  type Org,
  type OrgStore,
} from '../../index.js';
import { expectCode } from './records.js';

type Stores = { orgs: OrgStore; devices?: DeviceStore; close(): unknown };
type Opener = () => Stores | Promise<Stores>;

const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);
const GW = '01JD000000000000000000GW01';

export function deviceContract(name: string, open: Opener): void {
  describe(`${name}: DeviceStore contract`, () => {
    let s: Stores;
    let devices: DeviceStore;
    beforeEach(async () => {
      s = await open();
      devices = s.devices!;
    });
    afterEach(async () => {
      await s.close();
    });

    async function fleet() {
      const maker = await s.orgs.createRoot({
        kind: 'battery_maker',
        name: 'Maker',
        createdAt: T0,
      });
      const child = (p: Org, kind: 'dealer' | 'customer', n: string) =>
        s.orgs.create([maker.id], { parentId: p.id, kind, name: n, createdAt: T0 });
      const d1 = await child(maker, 'dealer', 'Dealer 1');
      const d2 = await child(maker, 'dealer', 'Dealer 2');
      const c1 = await child(d1, 'customer', 'Customer 1');
      return { maker, d1, d2, c1 };
    }
    const dev = (orgId: string, serial: string, more: Partial<NewDevice> = {}): NewDevice => ({
      serial,
      type: 'bms',
      joinedAt: T0,
      createdBy: 'admin',
      orgId,
      activation: 'enabled',
      ...more,
    });

    it('registers devices, refuses a serial twice (any case) and hides them outside the subtree', async () => {
      const f = await fleet();
      const a = await devices.create(
        [f.d1.id],
        dev(f.c1.id, 'F05E5838', {
          nickname: 'Roof',
          barcode: 'BC-1',
          producedOn: '2021-01-18',
          model: 'M-001',
          manufacturer: 'HYDX',
          gatewayId: GW,
          packId: 'site/bus/1',
        }),
      );
      expect(a).toMatchObject({
        serial: 'F05E5838',
        orgId: f.c1.id,
        nickname: 'Roof',
        producedOn: '2021-01-18',
        packId: 'site/bus/1',
      });
      await expectCode(
        () => devices.create([f.d1.id], dev(f.c1.id, 'f05e5838')),
        'REQUEST_INVALID',
        'serial',
      );
      await expectCode(
        () => devices.create([f.d2.id], dev(f.c1.id, 'OTHER')),
        'REQUEST_INVALID',
        'orgId',
      );
      // Found by serial in any letter case, within the subtree only.
      expect(await devices.bySerial([f.maker.id], 'f05e5838')).toMatchObject({
        id: a.id,
        orgName: 'Customer 1',
      });
      expect(await devices.bySerial([f.d2.id], 'F05E5838')).toBeUndefined();
      expect(await devices.bySerial([f.d1.id], 'NOPE')).toBeUndefined();
      // A tracker is found by its own pack (tracker/<serial>), on the gateways named, within
      // the subtree only; a device linked to a pack not its own serial's is never found.
      const trk = await devices.create(
        [f.d1.id],
        dev(f.c1.id, 'T-77', { type: 'tracker', gatewayId: GW, packId: 'tracker/T-77' }),
      );
      await devices.create(
        [f.d1.id],
        dev(f.c1.id, 'GRAB', { type: 'tracker', gatewayId: GW, packId: 'tracker/T-78' }),
      );
      expect(await devices.byPack([f.maker.id], [GW, 'other-gw'], 'tracker/T-77')).toMatchObject({
        id: trk.id,
      });
      expect(await devices.byPack([f.maker.id], [GW], 'tracker/T-78')).toBeUndefined();
      expect(await devices.byPack([f.maker.id], [GW], 'site/bus/1')).toBeUndefined();
      expect(await devices.byPack([f.maker.id], ['other-gw'], 'tracker/T-77')).toBeUndefined();
      expect(await devices.byPack([f.d2.id], [GW], 'tracker/T-77')).toBeUndefined();
      expect(await devices.byPack([f.maker.id], [], 'tracker/T-77')).toBeUndefined();
      await expectCode(
        () => devices.byPack([f.maker.id], 'gw' as unknown as string[], 'tracker/T-77'),
        'REQUEST_INVALID',
        'gatewayIds',
      );
      await expectCode(
        () => devices.bySerial([f.d1.id], 'bad serial'),
        'REQUEST_INVALID',
        'serial',
      );
      await expectCode(
        () => devices.create([f.d1.id], dev(f.c1.id, 'bad serial')),
        'REQUEST_INVALID',
        'serial',
      );
      await expectCode(
        () => devices.create([f.d1.id], dev(f.c1.id, 'X1', { producedOn: '2021-13-01' })),
        'REQUEST_INVALID',
        'producedOn',
      );
      expect(await devices.get([f.d2.id], a.id)).toBeUndefined();
      expect(await devices.get([f.maker.id], a.id)).toMatchObject({
        orgName: 'Customer 1',
        orgCode: expect.any(String),
      });
      await expectCode(() => devices.update([f.d2.id], a.id, { nickname: 'x' }), 'NOT_FOUND');
      expect(
        await devices.update([f.d1.id], a.id, {
          nickname: null,
          activation: 'not_enabled',
          expiresAt: T0,
        }),
      ).toMatchObject({ activation: 'not_enabled', expiresAt: T0 });
      expect((await devices.get([f.d1.id], a.id))!.nickname).toBeUndefined();
    });

    it('filters by status, counts each tab, searches by prefix and pages by id', async () => {
      const f = await fleet();
      const n = 23;
      for (let i = 0; i < n; i++)
        await devices.create(
          [f.maker.id],
          dev(i % 2 ? f.c1.id : f.d2.id, `SN${String(i).padStart(3, '0')}`, {
            barcode: `BC${i}`,
            nickname: i === 5 ? 'Garage_%' : undefined,
            activation: i % 5 === 0 ? 'not_enabled' : 'enabled',
            expiresAt: i % 7 === 0 ? T0 + 1000 : undefined,
            gatewayId: GW,
            packId: `p/${i}`,
          }),
        );
      const now = T0 + 10_000;
      expect(await devices.seen(GW, ['p/1', 'p/2', 'p/3'], now - 1000)).toBe(3);
      expect(await devices.seen(GW, ['p/4'], now - ONLINE_WINDOW_MS - 1)).toBe(1);
      const counts = await devices.counts([f.maker.id], { now });
      expect(counts).toEqual({
        all: n,
        online: 3,
        offline: n - 3,
        expired: 4,
        expiring: 0,
        not_enabled: 5,
      });
      expect(await devices.counts([f.d1.id], { now })).toMatchObject({ all: 11 });
      // One organisation's own devices, its subtree's not counted (the devices limit).
      expect(await devices.countIn(f.c1.id)).toBe(11);
      expect(await devices.countIn(f.d2.id)).toBe(n - 11);
      expect(await devices.countIn(f.d1.id)).toBe(0);
      await expect(devices.countIn(42 as unknown as string)).rejects.toMatchObject({
        code: 'REQUEST_INVALID',
        details: { field: 'orgId' },
      });
      expect(
        (await devices.list([f.maker.id], { now, status: 'online' })).devices.map((d) => d.serial),
      ).toEqual(['SN003', 'SN002', 'SN001']);
      expect(
        (await devices.list([f.maker.id], { now, status: 'expired', org: f.d1.id })).devices.map(
          (d) => d.serial,
        ),
      ).toEqual(['SN021', 'SN007']);
      expect((await devices.list([f.maker.id], { now, q: 'sn01' })).devices).toHaveLength(10);
      expect(
        (await devices.list([f.maker.id], { now, q: 'bc2' })).devices.map((d) => d.serial),
      ).toEqual(['SN022', 'SN021', 'SN020', 'SN002']);
      expect(
        (await devices.list([f.maker.id], { now, q: 'garage_' })).devices.map((d) => d.serial),
      ).toEqual(['SN005']);
      expect((await devices.list([f.maker.id], { now, q: 'gar%' })).devices).toEqual([]);
      await expectCode(() => devices.list([f.d1.id], { now, org: f.d2.id }), 'NOT_FOUND');
      await expectCode(
        () => devices.list([f.d1.id], { now, limit: 0 }),
        'REQUEST_INVALID',
        'limit',
      );
      const seenIds: string[] = [];
      let after: string | undefined;
      do {
        const page = await devices.list([f.maker.id], {
          now,
          limit: 10,
          ...(after ? { after } : {}),
        });
        seenIds.push(...page.devices.map((d) => d.serial));
        after = page.next;
      } while (after);
      expect(seenIds).toHaveLength(n);
      expect(seenIds[0]).toBe('SN022');
      expect(new Set(seenIds).size).toBe(n);
    });

    it('lists one type of device, with the status and organisation filters', async () => {
      const f = await fleet();
      await devices.create([f.maker.id], dev(f.d1.id, 'BMS-1'));
      await devices.create([f.maker.id], dev(f.d1.id, 'TRK-1', { type: 'tracker' }));
      await devices.create(
        [f.maker.id],
        dev(f.d2.id, 'TRK-2', { type: 'tracker', activation: 'not_enabled' }),
      );
      const now = T0 + 1000;
      const serials = async (q: Omit<DeviceQuery, 'now'>) =>
        (await devices.list([f.maker.id], { now, ...q })).devices.map((d) => d.serial);
      expect(await serials({ type: 'tracker' })).toEqual(['TRK-2', 'TRK-1']);
      expect(await serials({ type: 'bms' })).toEqual(['BMS-1']);
      expect(await serials({ type: 'tracker', status: 'not_enabled' })).toEqual(['TRK-2']);
      expect(await serials({ type: 'tracker', org: f.d1.id })).toEqual(['TRK-1']);
      expect(await devices.counts([f.maker.id], { now, type: 'tracker' })).toMatchObject({
        all: 2,
        not_enabled: 1,
      });
      await expectCode(
        () => devices.list([f.maker.id], { now, type: 'car' as DeviceQuery['type'] }),
        'REQUEST_INVALID',
        'type',
      );
    });

    it('imports all or nothing, naming the row', async () => {
      const f = await fleet();
      await devices.create([f.maker.id], dev(f.c1.id, 'TAKEN'));
      await expectCode(
        () => devices.createMany([f.maker.id], [dev(f.c1.id, 'A1'), dev(f.c1.id, 'taken')]),
        'REQUEST_INVALID',
        'serial',
      );
      const e = await devices
        .createMany([f.maker.id], [dev(f.c1.id, 'A1'), dev(f.c1.id, 'A2'), dev(f.c1.id, 'a1')])
        .catch((x: unknown) => x);
      expect((e as { details?: { row?: number } }).details?.row).toBe(2);
      expect((await devices.counts([f.maker.id], { now: T0 })).all).toBe(1);
      expect(await devices.createMany([f.maker.id], [dev(f.c1.id, 'A1'), dev(f.d2.id, 'A2')])).toBe(
        2,
      );
      expect((await devices.counts([f.maker.id], { now: T0 })).all).toBe(3);
    });

    it('binds, and unbinds only through a decided approval', async () => {
      const f = await fleet();
      const d = await devices.create([f.maker.id], dev(f.d1.id, 'B1'));
      await expectCode(() => devices.bind([f.d2.id], d.id, f.d2.id), 'NOT_FOUND');
      await expectCode(() => devices.bind([f.d1.id], d.id, f.d2.id), 'NOT_FOUND', 'orgId');
      expect((await devices.bind([f.d1.id], d.id, f.c1.id)).orgId).toBe(f.d1.id);
      expect((await devices.get([f.c1.id], d.id))!.orgId).toBe(f.c1.id);

      const ask = {
        deviceId: d.id,
        toOrg: f.d1.id,
        requestedBy: 'U1',
        requestedByName: 'ann',
        requestedAt: T0 + 1,
      };
      const a = await devices.requestUnbind([f.c1.id], { ...ask, reason: 'sold' });
      expect(a).toMatchObject({
        state: 'pending',
        fromOrg: f.c1.id,
        toOrg: f.d1.id,
        serial: 'B1',
        reason: 'sold',
      });
      await expectCode(() => devices.requestUnbind([f.c1.id], ask), 'REQUEST_INVALID', 'id');
      await expectCode(() => devices.bind([f.d1.id], d.id, f.d1.id), 'REQUEST_INVALID', 'id');
      expect((await devices.get([f.c1.id], d.id))!.orgId).toBe(f.c1.id);
      // Seen by the asker and by those deciding over the destination; not by a sibling.
      expect(
        await devices.approvals({ decides: [f.d1.id], asker: 'U9', state: 'pending' }),
      ).toHaveLength(1);
      expect(await devices.approvals({ decides: [], asker: 'U1' })).toHaveLength(1);
      expect(await devices.approvals({ decides: [f.d2.id], asker: 'U9' })).toEqual([]);
      expect(await devices.approval({ decides: [f.d2.id], asker: 'U9' }, a.id)).toBeUndefined();

      const rejected = await devices.decide(a.id, {
        approve: false,
        by: 'U2',
        byName: 'bob',
        at: T0 + 2,
        reason: 'no',
      });
      expect(rejected).toMatchObject({ state: 'rejected', decidedBy: 'U2', decisionReason: 'no' });
      expect((await devices.get([f.c1.id], d.id))!.orgId).toBe(f.c1.id);
      await expectCode(
        () => devices.decide(a.id, { approve: true, by: 'U2', byName: 'bob', at: T0 + 3 }),
        'REQUEST_INVALID',
        'id',
      );

      const b = await devices.requestUnbind([f.c1.id], { ...ask, requestedAt: T0 + 4 });
      const approved = await devices.decide(b.id, {
        approve: true,
        by: 'U2',
        byName: 'bob',
        at: T0 + 5,
        toOrg: f.maker.id,
      });
      expect(approved).toMatchObject({ state: 'approved', toOrg: f.maker.id });
      expect(await devices.get([f.c1.id], d.id)).toBeUndefined();
      expect((await devices.get([f.maker.id], d.id))!.orgId).toBe(f.maker.id);
      expect(
        await devices.approvals({ decides: [f.d1.id], asker: 'U9', state: 'approved' }),
      ).toHaveLength(0);
      expect(await devices.approvals({ decides: [f.maker.id], asker: 'U9' })).toHaveLength(2);
    });
  });
}
