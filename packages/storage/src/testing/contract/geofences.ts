/**
 * Contract suite of the geofence store (issue 17, storage geofences.ts): create/get/list/
 * update/delete within the caller's subtree (a sibling dealer's fence is not found), the
 * devices a fence lists and org-wide fences found for a device of a sub-organisation, states
 * that only a later device time moves, and malformed fences refused naming the field.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GeofenceStore, NewGeofence, Org, OrgStore } from '../../index.js';
import { expectCode } from './records.js';

type Stores = { orgs: OrgStore; geofences?: GeofenceStore; close(): unknown };
type Opener = () => Stores | Promise<Stores>;

const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);
const DEV_A = '01JD00000000000000000DEVA1';
const DEV_B = '01JD00000000000000000DEVB1';

export function geofenceContract(name: string, open: Opener): void {
  describe(`${name}: GeofenceStore contract`, () => {
    let s: Stores;
    let g: GeofenceStore;
    beforeEach(async () => {
      s = await open();
      g = s.geofences!;
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
    const circle = (orgId: string, more: Partial<NewGeofence> = {}): NewGeofence => ({
      orgId,
      name: 'Depot',
      shape: { kind: 'circle', lat: 22.54, lon: 113.95, radiusM: 300 },
      alarm: 'both',
      deviceIds: [DEV_A],
      orgWide: false,
      at: T0,
      ...more,
    });

    it('creates, reads, lists, changes and deletes a fence within the subtree only', async () => {
      const f = await fleet();
      const a = await g.create([f.d1.id], circle(f.c1.id));
      expect(a).toMatchObject({
        orgId: f.c1.id,
        name: 'Depot',
        shape: { kind: 'circle', lat: 22.54, lon: 113.95, radiusM: 300 },
        alarm: 'both',
        deviceIds: [DEV_A],
        orgWide: false,
        createdAt: T0,
        updatedAt: T0,
      });
      expect(await g.get([f.maker.id], a.id)).toEqual(a);
      expect(await g.get([f.d2.id], a.id)).toBeUndefined();
      expect(await g.list([f.d2.id])).toEqual([]);
      await expectCode(() => g.create([f.d2.id], circle(f.c1.id)), 'NOT_FOUND');
      const poly = await g.create(
        [f.d1.id],
        circle(f.d1.id, {
          name: 'Area',
          shape: {
            kind: 'polygon',
            vertices: [
              [22.5, 113.9],
              [22.5, 114],
              [22.6, 114],
              [22.6, 113.9],
            ],
          },
          deviceIds: [DEV_B, DEV_A],
        }),
      );
      expect(poly.deviceIds).toEqual([DEV_A, DEV_B]);
      expect((await g.list([f.d1.id])).map((x) => x.name)).toEqual(['Area', 'Depot']);
      expect((await g.list([f.d1.id], { deviceId: DEV_B })).map((x) => x.id)).toEqual([poly.id]);

      await expectCode(() => g.update([f.d2.id], a.id, { name: 'X', at: T0 + 1 }), 'NOT_FOUND');
      const b = await g.update([f.d1.id], a.id, {
        name: 'Yard',
        deviceIds: [],
        alarm: 'exit',
        at: T0 + 5,
      });
      expect(b).toMatchObject({ name: 'Yard', deviceIds: [], alarm: 'exit', updatedAt: T0 + 5 });
      expect(b.shape).toEqual(a.shape);

      expect(await g.delete([f.d2.id], a.id)).toBe(false);
      expect(await g.delete([f.d1.id], a.id)).toBe(true);
      expect(await g.get([f.d1.id], a.id)).toBeUndefined();
      expect(await g.delete([f.d1.id], a.id)).toBe(false);
    });

    it('finds the fences listing a device and the org-wide fences above its organisation', async () => {
      const f = await fleet();
      const listed = await g.create([f.maker.id], circle(f.d2.id, { name: 'listed' }));
      const wide = await g.create(
        [f.maker.id],
        circle(f.d1.id, { name: 'wide', deviceIds: [], orgWide: true }),
      );
      await g.create(
        [f.maker.id],
        circle(f.d2.id, { name: 'other', deviceIds: [], orgWide: true }),
      );
      const names = async (dev: string, org: string) =>
        (await g.forDevice(dev, org)).map((x) => x.name).sort();
      expect(await names(DEV_A, f.c1.id)).toEqual(['listed', 'wide']);
      expect(await names(DEV_B, f.c1.id)).toEqual(['wide']);
      expect(await names(DEV_B, f.maker.id)).toEqual([]);
      expect(listed.id).not.toBe(wide.id);
    });

    it('moves a state only forward in device time, and forgets states with the fence or its shape', async () => {
      const f = await fleet();
      const a = await g.create([f.d1.id], circle(f.d1.id));
      expect(await g.setState(DEV_A, a.id, true, T0 + 10)).toBe(true);
      expect(await g.setState(DEV_A, a.id, false, T0 + 5)).toBe(false); // an old fix
      expect(await g.setState(DEV_A, a.id, false, T0 + 10)).toBe(false); // the same fix again
      expect(await g.states(DEV_A)).toEqual([{ fenceId: a.id, inside: true, t: T0 + 10 }]);
      expect(await g.setState(DEV_A, a.id, false, T0 + 20)).toBe(true);
      expect(await g.states(DEV_A)).toEqual([{ fenceId: a.id, inside: false, t: T0 + 20 }]);
      await g.update([f.d1.id], a.id, { name: 'renamed', at: T0 + 30 });
      expect(await g.states(DEV_A)).toHaveLength(1);
      await g.update([f.d1.id], a.id, {
        shape: { kind: 'circle', lat: 1, lon: 1, radiusM: 50 },
        at: T0 + 40,
      });
      expect(await g.states(DEV_A)).toEqual([]);
      await g.setState(DEV_A, a.id, true, T0 + 50);
      await g.delete([f.d1.id], a.id);
      expect(await g.states(DEV_A)).toEqual([]);
    });

    it('refuses malformed fences naming the field', async () => {
      const f = await fleet();
      const bad = async (more: Record<string, unknown>, field: string) => {
        const e = await g.create([f.d1.id], { ...circle(f.d1.id), ...more } as NewGeofence).then(
          () => undefined,
          (x: unknown) => x as { code: string; details?: { field?: string } },
        );
        expect(e?.code, field).toBe('REQUEST_INVALID');
        expect(e?.details?.field).toBe(field);
      };
      await bad({ shape: { kind: 'circle', lat: 22, lon: 113, radiusM: 5 } }, 'shape.radiusM');
      await bad({ shape: { kind: 'circle', lat: 91, lon: 113, radiusM: 50 } }, 'shape.lat');
      await bad({ shape: { kind: 'square' } }, 'shape.kind');
      await bad(
        {
          shape: {
            kind: 'polygon',
            vertices: [
              [1, 1],
              [2, 2],
            ],
          },
        },
        'shape.vertices',
      );
      await bad(
        {
          shape: {
            kind: 'polygon',
            vertices: Array.from({ length: 201 }, (_, i) => [Math.sin(i), Math.cos(i)]),
          },
        },
        'shape.vertices',
      );
      // a bow tie: edges 0 and 2 cross
      await bad(
        {
          shape: {
            kind: 'polygon',
            vertices: [
              [0, 0],
              [1, 1],
              [1, 0],
              [0, 1],
            ],
          },
        },
        'shape.vertices',
      );
      await bad(
        {
          shape: {
            kind: 'polygon',
            vertices: [
              [0, 0],
              [1, 200],
              [1, 0],
            ],
          },
        },
        'shape.vertices[1]',
      );
      await bad({ alarm: 'inside' }, 'alarm');
      await bad({ name: '' }, 'name');
      await bad({ deviceIds: 'x' }, 'deviceIds');
      await bad({ orgWide: 'yes' }, 'orgWide');
    });
  });
}
