/**
 * Contract suite of the point-group store (seed 000 "Set of points", docs/fleet.md): the
 * default End User Group, saving an organisation's groups whole, one organisation's groups
 * never touching another's, and bad input refused naming the field, before the database.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { END_USER_GROUP, POINTS, type PointGroupInput, type PointGroupStore } from '../../index.js';
import { expectCode } from './records.js';

type Stores = { points: PointGroupStore; close(): unknown };
type Opener = () => Stores | Promise<Stores>;

const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);
const ORG_A = '01JD0000000000000000ORGA01';
const ORG_B = '01JD0000000000000000ORGB01';

const endUsers = (points: Record<string, string[]> = {}): PointGroupInput => ({
  name: END_USER_GROUP,
  kind: 'end_user',
  roles: ['end_user'],
  points,
});

export function pointGroupContract(name: string, open: Opener): void {
  describe(`${name}: PointGroupStore contract`, () => {
    let s: Stores;
    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close();
    });

    it('answers the End User Group, every point shown, for an organisation that saved none', async () => {
      expect(await s.points.list([ORG_A])).toEqual([
        {
          orgId: ORG_A,
          name: END_USER_GROUP,
          kind: 'end_user',
          roles: ['end_user'],
          points: {},
          updatedAt: null,
        },
      ]);
      expect(await s.points.list([])).toEqual([]);
    });

    it("saves an organisation's groups whole, in order, and leaves other organisations alone", async () => {
      const noCycles = POINTS.filter((p) => p !== 'cycles');
      const saved = await s.points.replace(
        ORG_A,
        [
          endUsers({ jk: noCycles, 'daly-modbus': ['soc_pct'] }),
          {
            name: 'Field staff',
            kind: 'custom',
            roles: ['installer', 'om_user'],
            points: { '*': ['voltage_v', 'soc_pct'] },
          },
        ],
        T0,
      );
      expect(saved.map((g) => g.name)).toEqual([END_USER_GROUP, 'Field staff']);
      const a = await s.points.list([ORG_A]);
      expect(a).toEqual(saved);
      expect(a[0]).toEqual({
        orgId: ORG_A,
        name: END_USER_GROUP,
        kind: 'end_user',
        roles: ['end_user'],
        points: { jk: [...noCycles].sort(), 'daly-modbus': ['soc_pct'] },
        updatedAt: T0,
      });
      expect(a[1]!.roles).toEqual(['installer', 'om_user']);
      expect(a[1]!.points).toEqual({ '*': ['soc_pct', 'voltage_v'] });
      // B never saved: its default; both asked at once, each with its own.
      const both = await s.points.list([ORG_B, ORG_A]);
      expect(both.map((g) => [g.orgId, g.name])).toEqual([
        [ORG_B, END_USER_GROUP],
        [ORG_A, END_USER_GROUP],
        [ORG_A, 'Field staff'],
      ]);
      // Saving again replaces: the custom group is gone.
      await s.points.replace(ORG_A, [endUsers()], T0 + 1);
      expect(await s.points.list([ORG_A])).toEqual([
        {
          orgId: ORG_A,
          name: END_USER_GROUP,
          kind: 'end_user',
          roles: ['end_user'],
          points: {},
          updatedAt: T0 + 1,
        },
      ]);
    });

    it('refuses bad groups naming the field, and stores nothing of them', async () => {
      const bad: [unknown, string][] = [
        [[], 'groups'],
        ['x', 'groups'],
        [[{ ...endUsers(), kind: 'custom', roles: ['general_user'] }], 'groups.0.kind'],
        [[endUsers(), endUsers()], 'groups.1.name'],
        [[endUsers(), { ...endUsers(), name: 'Two' }], 'groups.1.kind'],
        [[{ ...endUsers(), roles: ['end_user', 'marketing'] }], 'groups.0.roles.1'],
        [
          [endUsers(), { name: 'X', kind: 'custom', roles: ['boss'], points: {} }],
          'groups.1.roles.0',
        ],
        [
          [
            endUsers(),
            { name: 'X', kind: 'custom', roles: ['marketing'], points: {} },
            { name: 'Y', kind: 'custom', roles: ['marketing'], points: {} },
          ],
          'groups.2.roles.0',
        ],
        [[endUsers({ jk: ['cycles', 'nope'] })], 'groups.0.points.jk.1'],
        [[endUsers({ jk: ['cycles', 'cycles'] })], 'groups.0.points.jk.1'],
        [[endUsers({ 'JK!': ['cycles'] })], 'groups.0.points.JK!'],
        [[endUsers({ 'jk/JK-B2A24S': ['cycles'] })], 'groups.0.points.jk/JK-B2A24S'],
        [[{ ...endUsers(), extra: 1 }], 'groups.0.extra'],
        [[{ ...endUsers(), name: '' }], 'groups.0.name'],
        [[{ ...endUsers(), name: 'x'.repeat(51) }], 'groups.0.name'],
      ];
      for (const [groups, field] of bad) {
        await expectCode(
          () => s.points.replace(ORG_A, groups as PointGroupInput[], T0),
          'REQUEST_INVALID',
          field,
        );
      }
      await expectCode(() => s.points.replace('', [endUsers()], T0), 'REQUEST_INVALID', 'orgId');
      expect((await s.points.list([ORG_A]))[0]!.updatedAt).toBeNull();
    });
  });
}
