/**
 * Contract suite of renewals (storage renewals.ts, the DeviceStore's `renew`/`renewals`):
 * 1 year / 2 years / lifetime from an expired, a still-valid and an unset expiry; the history
 * rows; all or none when an id lies outside the caller's subtree; the `expiring` status (an
 * expiry within 30 days, not passed) in the list and the counts; bad input naming the field.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EXPIRING_WINDOW_MS,
  renewedExpiry,
  type DeviceStore,
  type NewDevice,
  type OrgStore,
} from '../../index.js';
import { expectCode } from './records.js';

type Stores = { orgs: OrgStore; devices?: DeviceStore; close(): unknown };
type Opener = () => Stores | Promise<Stores>;

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 8, 0, 0);
const USER = '01JD0000000000000000USER01';

export function renewalContract(name: string, open: Opener): void {
  describe(`${name}: renewals contract`, () => {
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
      const maker = await s.orgs.createRoot({ kind: 'battery_maker', name: 'M', createdAt: NOW });
      const d1 = await s.orgs.create([maker.id], {
        parentId: maker.id,
        kind: 'dealer',
        name: 'D1',
        createdAt: NOW,
      });
      const d2 = await s.orgs.create([maker.id], {
        parentId: maker.id,
        kind: 'dealer',
        name: 'D2',
        createdAt: NOW,
      });
      return { maker, d1, d2 };
    }
    const dev = (orgId: string, serial: string, expiresAt?: number): NewDevice => ({
      serial,
      type: 'tracker',
      joinedAt: NOW - DAY,
      createdBy: 'admin',
      orgId,
      activation: 'enabled',
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    });
    const renew = (within: string[], ids: string[], period: '1y' | '2y' | 'lifetime', at = NOW) =>
      devices.renew(within, { ids, period, by: USER, byName: 'ann', at });

    it('extends from the later of now and the expiry: 1y, 2y, lifetime; writes the history', async () => {
      const f = await fleet();
      const expired = await devices.create([f.d1.id], dev(f.d1.id, 'T-EXPIRED', NOW - 10 * DAY));
      const valid = await devices.create([f.d1.id], dev(f.d1.id, 'T-VALID', NOW + 40 * DAY));
      const unset = await devices.create([f.d1.id], dev(f.d1.id, 'T-UNSET'));
      const life = await devices.create([f.d1.id], dev(f.d1.id, 'T-LIFE', NOW + 5 * DAY));

      const one = await renew([f.d1.id], [expired.id, valid.id, unset.id], '1y');
      const inAYear = (t: number) => Date.UTC(new Date(t).getUTCFullYear() + 1, 11, 7, 8, 0, 0);
      expect(one.map((r) => [r.serial, r.previousExpiresAt, r.newExpiresAt])).toEqual([
        ['T-EXPIRED', NOW - 10 * DAY, inAYear(NOW)],
        ['T-VALID', NOW + 40 * DAY, inAYear(NOW) + 40 * DAY],
        ['T-UNSET', undefined, inAYear(NOW)],
      ]);
      expect(one[0]).toMatchObject({
        deviceId: expired.id,
        orgId: f.d1.id,
        period: '1y',
        by: USER,
        byName: 'ann',
        at: NOW,
      });
      expect((await devices.get([f.d1.id], valid.id))!.expiresAt).toBe(inAYear(NOW) + 40 * DAY);

      const two = await renew([f.maker.id], [expired.id], '2y', NOW + DAY);
      expect(two[0]!.previousExpiresAt).toBe(inAYear(NOW));
      expect(two[0]!.newExpiresAt).toBe(Date.UTC(2029, 11, 7, 8, 0, 0));
      expect(renewedExpiry(NOW - DAY, '2y', NOW)).toBe(Date.UTC(2028, 11, 7, 8, 0, 0));
      expect(renewedExpiry(Date.UTC(2028, 1, 29), '1y', 0)).toBe(Date.UTC(2029, 2, 1));

      const lifetime = await renew([f.d1.id], [life.id], 'lifetime');
      expect(lifetime[0]).toMatchObject({ period: 'lifetime', previousExpiresAt: NOW + 5 * DAY });
      expect(lifetime[0]!.newExpiresAt).toBeUndefined();
      expect((await devices.get([f.d1.id], life.id))!.expiresAt).toBeUndefined();

      // one device's history, newest first; the fleet's by time range
      const hist = await devices.renewals([f.d1.id], {
        deviceId: expired.id,
        from: 0,
        to: NOW + 2 * DAY,
      });
      expect(hist.map((r) => r.period)).toEqual(['2y', '1y']);
      const all = await devices.renewals([f.maker.id], { from: NOW, to: NOW + 1 });
      expect(all.map((r) => r.serial).sort()).toEqual([
        'T-EXPIRED',
        'T-LIFE',
        'T-UNSET',
        'T-VALID',
      ]);
      expect(await devices.renewals([f.d2.id], { from: 0, to: NOW * 2 })).toEqual([]);
      expect(await devices.renewals([f.d1.id], { from: NOW, to: NOW * 2, limit: 2 })).toHaveLength(
        2,
      );
    });

    it('renews all or none: a device outside the subtree is NOT_FOUND and nothing changes', async () => {
      const f = await fleet();
      const mine = await devices.create([f.d1.id], dev(f.d1.id, 'MINE', NOW - DAY));
      const theirs = await devices.create([f.d2.id], dev(f.d2.id, 'THEIRS', NOW - DAY));
      const err = await renew([f.d1.id], [mine.id, theirs.id], '1y').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'NOT_FOUND', details: { field: 'ids', id: theirs.id } });
      await expectCode(() => renew([f.d1.id], ['01JD0000000000000000NOPE01'], '1y'), 'NOT_FOUND');
      expect((await devices.get([f.d1.id], mine.id))!.expiresAt).toBe(NOW - DAY);
      expect(await devices.renewals([f.maker.id], { from: 0, to: NOW * 2 })).toEqual([]);
      await expectCode(
        () => devices.renewals([f.d1.id], { deviceId: theirs.id, from: 0, to: NOW }),
        'NOT_FOUND',
      );
    });

    it('refuses bad input naming the field', async () => {
      const f = await fleet();
      const a = await devices.create([f.d1.id], dev(f.d1.id, 'A'));
      await expectCode(() => renew([f.d1.id], [], '1y'), 'REQUEST_INVALID', 'ids');
      await expectCode(() => renew([f.d1.id], [a.id, a.id], '1y'), 'REQUEST_INVALID', 'ids');
      await expectCode(
        () =>
          renew(
            [f.d1.id],
            Array.from({ length: 501 }, () => a.id),
            '1y',
          ),
        'REQUEST_INVALID',
        'ids',
      );
      await expectCode(
        () => renew([f.d1.id], [a.id], '3y' as unknown as '1y'),
        'REQUEST_INVALID',
        'period',
      );
      await expectCode(
        () => devices.renewals([f.d1.id], { from: 10, to: 5 }),
        'REQUEST_INVALID',
        'to',
      );
      expect((await devices.get([f.d1.id], a.id))!.expiresAt).toBeUndefined();
    });

    it('lists and counts exactly the devices expiring within 30 days (not expired, not later)', async () => {
      const f = await fleet();
      const at = (ms: number | undefined, sn: string) =>
        devices.create([f.d1.id], dev(f.d1.id, sn, ms));
      await at(NOW, 'E-NOW'); // expired (expiry <= now)
      await at(NOW - DAY, 'E-PAST');
      await at(NOW + 1, 'S-SOON');
      await at(NOW + 10 * DAY, 'S-TEN');
      await at(NOW + EXPIRING_WINDOW_MS, 'S-EDGE');
      await at(NOW + EXPIRING_WINDOW_MS + 1, 'L-LATER');
      await at(undefined, 'N-NEVER');
      const page = await devices.list([f.maker.id], { now: NOW, status: 'expiring' });
      expect(page.devices.map((d) => d.serial).sort()).toEqual(['S-EDGE', 'S-SOON', 'S-TEN']);
      expect(await devices.counts([f.maker.id], { now: NOW })).toMatchObject({
        all: 7,
        expired: 2,
        expiring: 3,
      });
      expect((await devices.counts([f.d2.id], { now: NOW })).expiring).toBe(0);
    });
  });
}
