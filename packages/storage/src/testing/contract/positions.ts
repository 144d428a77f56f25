/**
 * Contract suite of the position store (issue 17, storage positions.ts): fixes placed by
 * device time whatever order they arrive in, a duplicate (same device and device time) stored
 * once, devices kept apart, the optional fields and extras round-tripped, ranges half-open,
 * and bad input refused naming the field before the database.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Position, PositionStore } from '../../index.js';
import { expectCode } from './records.js';

type Stores = { positions: PositionStore; close(): unknown };
type Opener = () => Stores | Promise<Stores>;

const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);
const DEV_A = '01JD00000000000000000DEVA1';
const DEV_B = '01JD00000000000000000DEVB1';

const fix = (deviceId: string, i: number, more: Partial<Position> = {}): Position => ({
  deviceId,
  t: T0 + i * 10_000,
  receivedAt: T0 + 60_000 + i,
  lat: 22.5 + i * 0.001,
  lon: 113.9 + i * 0.001,
  ...more,
});

export function positionContract(name: string, open: Opener): void {
  describe(`${name}: PositionStore contract`, () => {
    let s: Stores;
    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close();
    });

    it('places a batch that arrives out of order by device time, and stores a duplicate once', async () => {
      expect(await s.positions.add([fix(DEV_A, 2), fix(DEV_A, 0)])).toBe(2);
      // a retransmitted frame (same device time, received later) and one new fix
      expect(
        await s.positions.add([fix(DEV_A, 2, { receivedAt: T0 + 999_999 }), fix(DEV_A, 1)]),
      ).toBe(1);
      const got = await s.positions.list(DEV_A, { from: T0, to: T0 + 3 * 10_000 });
      expect(got.map((p) => p.t)).toEqual([T0, T0 + 10_000, T0 + 20_000]);
      expect(got[2]!.receivedAt).toBe(T0 + 60_000 + 2);
    });

    it('round-trips every field and keeps devices apart; ranges are half-open', async () => {
      const full = fix(DEV_B, 0, {
        speedKmh: 23.5,
        course: 271,
        altM: -3,
        satellites: 9,
        extras: { alarm: 0, status: 3, mileage_km: 12.3 },
      });
      await s.positions.add([full, fix(DEV_A, 0), fix(DEV_B, 1)]);
      expect(await s.positions.list(DEV_B, { from: T0, to: T0 + 10_000 })).toEqual([full]);
      expect(await s.positions.list(DEV_B, { from: T0, to: T0 + 10_001 })).toHaveLength(2);
      expect(await s.positions.list(DEV_B, { from: T0, to: T0 + 10_001, limit: 1 })).toEqual([
        full,
      ]);
      expect(await s.positions.list(DEV_A, { from: T0 + 1, to: T0 + 10_000 })).toEqual([]);
    });

    it('finds the latest fix at or before a time (where an alarm happened)', async () => {
      await s.positions.add([fix(DEV_A, 0), fix(DEV_A, 2), fix(DEV_B, 1)]);
      expect(await s.positions.latestAt(DEV_A, T0 + 19_999)).toEqual(fix(DEV_A, 0));
      expect(await s.positions.latestAt(DEV_A, T0 + 20_000)).toEqual(fix(DEV_A, 2));
      expect(await s.positions.latestAt(DEV_A, T0 + 99_000)).toEqual(fix(DEV_A, 2));
      expect(await s.positions.latestAt(DEV_A, T0 - 1)).toBeUndefined();
      expect(await s.positions.latestAt(DEV_B, T0 + 5_000)).toBeUndefined();
    });

    it('refuses bad input naming the field, storing nothing of the batch', async () => {
      await expectCode(
        () => s.positions.add([fix(DEV_A, 0, { lat: 91 })]),
        'REQUEST_INVALID',
        'lat',
      );
      await expectCode(
        () => s.positions.add([fix(DEV_A, 0), fix(DEV_A, 1, { lon: Number.NaN })]),
        'REQUEST_INVALID',
        'lon',
      );
      await expectCode(
        () => s.positions.add([fix(DEV_A, 0, { satellites: 2.5 })]),
        'REQUEST_INVALID',
        'satellites',
      );
      await expectCode(
        () => s.positions.add([{ ...fix(DEV_A, 0), speed: 3 } as unknown as Position]),
        'REQUEST_INVALID',
        'speed',
      );
      await expectCode(
        () => s.positions.add([fix(DEV_A, 0, { extras: { x: 'y'.repeat(5000) } })]),
        'REQUEST_INVALID',
        'extras',
      );
      await expectCode(
        () => s.positions.list(DEV_A, { from: T0 + 1, to: T0 }),
        'REQUEST_INVALID',
        'to',
      );
      expect(await s.positions.list(DEV_A, { from: 0, to: T0 * 2 })).toEqual([]);
      await expectCode(
        () => s.positions.latest(['ok', 5 as unknown as string]),
        'REQUEST_INVALID',
        'deviceIds[1]',
      );
    });

    it('answers the last fix by device time of each device named, whatever order they arrived in', async () => {
      const last = fix(DEV_A, 5, { speedKmh: 18, satellites: 7, extras: { soc: 64 } });
      await s.positions.add([fix(DEV_A, 1), last, fix(DEV_A, 3)]);
      await s.positions.add([fix(DEV_A, 4)]); // late, but earlier in device time
      await s.positions.add([fix(DEV_B, 0)]);
      const got = await s.positions.latest([DEV_A, DEV_B, '01JD00000000000000000NOFIX']);
      expect([...got].sort((a, b) => a.deviceId.localeCompare(b.deviceId))).toEqual([
        last,
        fix(DEV_B, 0),
      ]);
      expect(await s.positions.latest([DEV_B])).toEqual([fix(DEV_B, 0)]);
      expect(await s.positions.latest([])).toEqual([]);
    });
  });
}
