/**
 * Contract suite of the organisation store (docs/fleet.md): the tree and its rules, subtree
 * visibility (a dealer sees its installers and customers, never a sibling dealer's),
 * organisation codes, memberships and role changes, the accounts' single-box role kept in step,
 * and input errors naming the field. Every adapter runs it with an `open()` giving fresh
 * stores (an adapter may hold its own single-box root already: nothing here depends on it).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_ORG_DEPTH,
  ORG_CODE_ALPHABET,
  localScope,
  type Org,
  type OrgKind,
  type OrgRole,
  type OrgStore,
  type Origin,
  type User,
  type UserStore,
} from '../../index.js';
import { expectCode } from './records.js';

type Stores = { orgs: OrgStore; users: UserStore; close(): unknown };
type Opener = () => Stores | Promise<Stores>;

const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const GW = '01JD000000000000000000GW01';
const CODE = new RegExp(`^[${ORG_CODE_ALPHABET}]{6}$`);

export function orgContract(name: string, open: Opener): void {
  describe(`${name}: OrgStore contract`, () => {
    let s: Stores;
    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close();
    });
    let t = T0;
    const at = (): number => ++t;
    const child = (parent: Org, kind: OrgKind, name: string, within = [parent.id]) =>
      s.orgs.create(within, { parentId: parent.id, kind, name, createdAt: at() });

    /** platform → maker → two dealers, each with an installer and a customer under it. */
    async function fleet() {
      const platform = await s.orgs.createRoot({
        kind: 'platform',
        name: 'Platform',
        createdAt: at(),
      });
      const maker = await child(platform, 'battery_maker', 'Maker');
      const d1 = await child(maker, 'dealer', 'Dealer 1');
      const d2 = await child(maker, 'dealer', 'Dealer 2');
      const i1 = await child(d1, 'installer', 'Installer 1');
      const i2 = await child(d2, 'installer', 'Installer 2');
      const c1 = await child(i1, 'customer', 'Customer 1');
      const c2 = await child(i2, 'customer', 'Customer 2');
      return { platform, maker, d1, d2, i1, i2, c1, c2 };
    }
    const ids = (orgs: Org[]) => orgs.map((o) => o.id);
    const user = (orgId: string, username: string, role: User['role'] = 'viewer') =>
      s.users.create(
        { orgId, gatewayId: GW } satisfies Origin,
        { username, role, createdAt: at() },
        'h',
      );

    it('builds a tree five deep: ids, codes, parents and depths as stored', async () => {
      const f = await fleet();
      expect(f.platform).toMatchObject({ kind: 'platform', name: 'Platform', depth: 0 });
      expect(f.platform.parentId).toBeUndefined();
      expect(f.c1).toMatchObject({
        parentId: f.i1.id,
        kind: 'customer',
        name: 'Customer 1',
        depth: 4,
      });
      for (const o of Object.values(f)) {
        expect(o.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
        expect(o.code).toMatch(CODE);
        expect(await s.orgs.get([f.platform.id], o.id)).toEqual(o);
      }
      const all = await s.orgs.subtree([f.platform.id]);
      expect(all.map((o) => [o.depth, o.name])).toEqual([
        [0, 'Platform'],
        [1, 'Maker'],
        [2, 'Dealer 1'],
        [2, 'Dealer 2'],
        [3, 'Installer 1'],
        [3, 'Installer 2'],
        [4, 'Customer 1'],
        [4, 'Customer 2'],
      ]);
    });

    it('nests dealers under dealers down to MAX_ORG_DEPTH and no deeper', async () => {
      let o = await s.orgs.createRoot({ kind: 'platform', name: 'P', createdAt: at() });
      const root = o;
      for (let d = 1; d <= MAX_ORG_DEPTH; d++) o = await child(o, 'dealer', `D${d}`, [root.id]);
      expect(o.depth).toBe(MAX_ORG_DEPTH);
      await expectCode(
        () => child(o, 'dealer', 'too deep', [root.id]),
        'REQUEST_INVALID',
        'parentId',
      );
      // The deepest is still seen from the root and from its own parent.
      expect(await s.orgs.get([root.id], o.id)).toEqual(o);
      expect(await s.orgs.get([o.parentId!], o.id)).toEqual(o);
      expect(await s.orgs.subtree([root.id])).toHaveLength(MAX_ORG_DEPTH + 1);
    });

    it("shows a dealer its installers and customers, never a sibling dealer's", async () => {
      const f = await fleet();
      expect(ids(await s.orgs.subtree([f.d1.id]))).toEqual([f.d1.id, f.i1.id, f.c1.id]);
      expect(ids(await s.orgs.subtree([f.d2.id]))).toEqual([f.d2.id, f.i2.id, f.c2.id]);
      expect(ids(await s.orgs.subtree([f.i1.id]))).toEqual([f.i1.id, f.c1.id]);
      expect(ids(await s.orgs.subtree([f.c1.id]))).toEqual([f.c1.id]);
      // Both dealers' trees, each once; roots overlapping their own subtree count once too.
      expect(ids(await s.orgs.subtree([f.d1.id, f.d2.id, f.i1.id]))).toEqual([
        f.d1.id,
        f.d2.id,
        f.i1.id,
        f.i2.id,
        f.c1.id,
        f.c2.id,
      ]);
      // Nothing of dealer 2 (nor of the levels above) exists for dealer 1.
      for (const o of [f.d2, f.i2, f.c2, f.maker, f.platform])
        expect(await s.orgs.get([f.d1.id], o.id)).toBeUndefined();
      await expectCode(() => child(f.i2, 'customer', 'planted', [f.d1.id]), 'NOT_FOUND');
      await expectCode(() => s.orgs.members([f.d1.id], f.d2.id), 'NOT_FOUND');
      const u2 = await user(f.d2.id, 'dealer2');
      await expectCode(() => s.orgs.setRole([f.d1.id], f.d2.id, u2.id, 'end_user'), 'NOT_FOUND');
      await expectCode(
        () =>
          s.orgs.addMember([f.d1.id], {
            userId: u2.id,
            orgId: f.i2.id,
            role: 'om_user',
            createdAt: at(),
          }),
        'NOT_FOUND',
      );
      // An unknown root sees nothing.
      expect(await s.orgs.subtree(['01JD00000000000000000NOORG0'])).toEqual([]);
      expect(await s.orgs.subtree([f.d2.id])).toHaveLength(3);
    });

    it('gives every organisation its own code, keeps a given one and refuses one taken', async () => {
      const root = await s.orgs.createRoot({ kind: 'platform', name: 'P', createdAt: at() });
      const made = await Promise.all(
        Array.from({ length: 200 }, (_, i) => child(root, 'dealer', `D${i}`)),
      );
      const codes = new Set(made.map((o) => o.code));
      expect(codes.size).toBe(200);
      for (const c of codes) expect(c).toMatch(CODE);
      const kept = await s.orgs.create([root.id], {
        parentId: root.id,
        kind: 'dealer',
        name: 'Imported',
        code: 'EC03B0',
        createdAt: at(),
      });
      expect(kept.code).toBe('EC03B0');
      expect(await s.orgs.byCode('EC03B0')).toEqual(kept);
      expect(await s.orgs.byCode(made[7]!.code)).toEqual(made[7]);
      expect(await s.orgs.byCode('ZZZZZZ')).toBeUndefined();
      await expectCode(
        () =>
          s.orgs.create([root.id], {
            parentId: root.id,
            kind: 'dealer',
            name: 'Again',
            code: 'EC03B0',
            createdAt: at(),
          }),
        'REQUEST_INVALID',
        'code',
      );
      await expectCode(
        () =>
          s.orgs.createRoot({
            kind: 'platform',
            name: 'Other',
            code: made[0]!.code,
            createdAt: at(),
          }),
        'REQUEST_INVALID',
        'code',
      );
      for (const bad of ['ec03b0', 'EC03B', 'EC03B00', 'EC03BI', 'EC03BO', 'EC03BU', 42])
        await expectCode(
          () =>
            s.orgs.createRoot({
              kind: 'platform',
              name: 'X',
              code: bad as string,
              createdAt: at(),
            }),
          'REQUEST_INVALID',
          'code',
        );
      await expectCode(() => s.orgs.byCode('no'), 'REQUEST_INVALID', 'code');
      expect(await s.orgs.subtree([root.id])).toHaveLength(202);
    });

    it('lists members, changes roles, hands the manager role over and keeps one manager', async () => {
      const f = await fleet();
      const boss = await user(f.d1.id, 'boss', 'admin');
      const second = await user(f.d1.id, 'second', 'admin');
      const op = await user(f.d1.id, 'op', 'operator');
      const viewer = await user(f.d1.id, 'viewer');
      // Accounts are members of their own organisation, the first admin its person in charge.
      const roles = async (orgId = f.d1.id) =>
        (await s.orgs.members([f.d1.id], orgId)).map((m) => [m.username, m.role]);
      expect(await roles()).toEqual([
        ['boss', 'manager'],
        ['second', 'administrator'],
        ['op', 'operation_manager'],
        ['viewer', 'general_user'],
      ]);
      const members = await s.orgs.members([f.d1.id], f.d1.id);
      expect(members[0]).toEqual({
        userId: boss.id,
        orgId: f.d1.id,
        role: 'manager',
        username: 'boss',
        createdAt: boss.createdAt,
      });

      // A fleet role change sets the account's single-box role too.
      expect(await s.orgs.setRole([f.d1.id], f.d1.id, viewer.id, 'installer')).toMatchObject({
        role: 'installer',
      });
      expect(
        (await s.users.get(localScope({ orgId: f.d1.id, gatewayId: GW }), 'viewer'))?.role,
      ).toBe('operator');
      await s.orgs.setRole([f.d1.id], f.d1.id, op.id, 'end_user');
      expect((await s.users.get(localScope({ orgId: f.d1.id, gatewayId: GW }), 'op'))?.role).toBe(
        'viewer',
      );

      // The person in charge: taking it away alone is refused; naming another hands it over.
      await expectCode(
        () => s.orgs.setRole([f.d1.id], f.d1.id, boss.id, 'administrator'),
        'REQUEST_INVALID',
        'role',
      );
      await s.orgs.setRole([f.d1.id], f.d1.id, second.id, 'manager');
      expect(await roles()).toEqual([
        ['boss', 'administrator'],
        ['second', 'manager'],
        ['op', 'end_user'],
        ['viewer', 'installer'],
      ]);

      // A member of another organisation too: the installer's tree, seen from the dealer.
      await s.orgs.addMember([f.d1.id], {
        userId: op.id,
        orgId: f.i1.id,
        role: 'om_user',
        createdAt: at(),
      });
      expect(await roles(f.i1.id)).toEqual([['op', 'om_user']]);
      await expectCode(
        () =>
          s.orgs.addMember([f.d1.id], {
            userId: op.id,
            orgId: f.i1.id,
            role: 'installer',
            createdAt: at(),
          }),
        'REQUEST_INVALID',
        'userId',
      );
      // Not the account's own organisation: its single-box role stays.
      await s.orgs.setRole([f.d1.id], f.i1.id, op.id, 'manager');
      expect((await s.users.get(localScope({ orgId: f.d1.id, gatewayId: GW }), 'op'))?.role).toBe(
        'viewer',
      );
      expect((await s.orgs.membershipsOf(op.id)).map((m) => [m.orgId, m.role])).toEqual([
        [f.d1.id, 'end_user'],
        [f.i1.id, 'manager'],
      ]);
      expect(await s.orgs.membershipsOf('01JD00000000000000000NOUSER')).toEqual([]);
      await expectCode(() => s.orgs.setRole([f.d1.id], f.c1.id, op.id, 'om_user'), 'NOT_FOUND');
      await expectCode(
        () =>
          s.orgs.addMember([f.d1.id], {
            userId: '01JD00000000000000000NOUSER',
            orgId: f.c1.id,
            role: 'end_user',
            createdAt: at(),
          }),
        'NOT_FOUND',
      );
    });

    it('removes a member, never the manager nor a member of their own organisation', async () => {
      const f = await fleet();
      const boss = await user(f.d1.id, 'boss', 'admin'); // Dealer 1's manager
      const ann = await user(f.d1.id, 'ann', 'viewer');
      const sam = await user(f.d2.id, 'sam', 'operator');
      await s.orgs.addMember([f.d1.id], {
        userId: sam.id,
        orgId: f.i1.id,
        role: 'installer',
        createdAt: at(),
      });
      await s.orgs.addMember([f.d1.id], {
        userId: ann.id,
        orgId: f.i1.id,
        role: 'manager',
        createdAt: at(),
      });
      // The sibling dealer does not see Installer 1: 404 as for what does not exist.
      await expectCode(() => s.orgs.removeMember([f.d2.id], f.i1.id, sam.id), 'NOT_FOUND');
      expect(await s.orgs.removeMember([f.d1.id], f.i1.id, sam.id)).toMatchObject({
        userId: sam.id,
        orgId: f.i1.id,
        role: 'installer',
      });
      expect((await s.orgs.membershipsOf(sam.id)).map((m) => m.orgId)).toEqual([f.d2.id]);
      await expectCode(() => s.orgs.removeMember([f.d1.id], f.i1.id, sam.id), 'NOT_FOUND');
      // The manager stays until the role is handed over; the home membership stays.
      await expectCode(
        () => s.orgs.removeMember([f.d1.id], f.i1.id, ann.id),
        'REQUEST_INVALID',
        'userId',
      );
      await expectCode(
        () => s.orgs.removeMember([f.d1.id], f.d1.id, ann.id),
        'REQUEST_INVALID',
        'userId',
      );
      await expectCode(
        () => s.orgs.removeMember([f.d1.id], f.d1.id, boss.id),
        'REQUEST_INVALID',
        'userId',
      );
      await expectCode(
        () => s.orgs.removeMember([f.d1.id], f.d1.id, ''),
        'REQUEST_INVALID',
        'userId',
      );
      expect((await s.orgs.members([f.d1.id], f.d1.id)).map((m) => m.username)).toEqual([
        'boss',
        'ann',
      ]);
      expect((await s.orgs.members([f.d1.id], f.i1.id)).map((m) => m.username)).toEqual(['ann']);
    });

    it("keeps accounts' single-box role changes and deletions in step with their membership", async () => {
      const root = await s.orgs.createRoot({ kind: 'customer', name: 'Home', createdAt: at() });
      const scope = localScope({ orgId: root.id, gatewayId: GW });
      const a = await user(root.id, 'a', 'admin');
      const b = await user(root.id, 'b', 'admin');
      const v = await user(root.id, 'v');
      const role = async (u: User) =>
        (await s.orgs.membershipsOf(u.id)).find((m) => m.orgId === root.id)?.role;
      await s.users.setRole(scope, 'v', 'operator');
      expect(await role(v)).toBe('operation_manager');
      await s.orgs.setRole([root.id], root.id, v.id, 'installer');
      // Same single-box rank: the finer fleet role stays.
      await s.users.setRole(scope, 'v', 'operator');
      expect(await role(v)).toBe('installer');
      // The manager demoted on the box: the oldest administrator takes over.
      await s.users.setRole(scope, 'a', 'viewer');
      expect(await role(a)).toBe('general_user');
      expect(await role(b)).toBe('manager');
      await s.users.setRole(scope, 'a', 'admin');
      expect(await role(a)).toBe('administrator');
      await s.users.delete(scope, 'b');
      expect(await s.orgs.membershipsOf(b.id)).toEqual([]);
      expect(await role(a)).toBe('manager');
    });

    it('refuses bad input with REQUEST_INVALID naming the field, storing nothing', async () => {
      const f = await fleet();
      const w = [f.platform.id];
      const make = (o: Record<string, unknown>) =>
        s.orgs.create(w, {
          parentId: f.d1.id,
          kind: 'installer',
          name: 'I',
          createdAt: at(),
          ...o,
        } as never);
      await expectCode(() => make({ kind: 'shop' }), 'REQUEST_INVALID', 'kind');
      await expectCode(() => make({ kind: 'platform' }), 'REQUEST_INVALID', 'kind');
      await expectCode(() => make({ name: '' }), 'REQUEST_INVALID', 'name');
      await expectCode(() => make({ name: ' I' }), 'REQUEST_INVALID', 'name');
      await expectCode(() => make({ name: 'a\nb' }), 'REQUEST_INVALID', 'name');
      await expectCode(() => make({ name: 'x'.repeat(101) }), 'REQUEST_INVALID', 'name');
      await expectCode(() => make({ name: 7 }), 'REQUEST_INVALID', 'name');
      await expectCode(() => make({ parentId: undefined }), 'REQUEST_INVALID', 'parentId');
      await expectCode(() => make({ parentId: f.c1.id }), 'REQUEST_INVALID', 'parentId');
      await expectCode(() => make({ createdAt: '2026' }), 'REQUEST_INVALID', 'createdAt');
      await expectCode(() => make({ parentId: '01JD00000000000000000NOORG0' }), 'NOT_FOUND');
      await expectCode(
        () =>
          s.orgs.create(null as never, {
            parentId: f.d1.id,
            kind: 'installer',
            name: 'I',
            createdAt: at(),
          }),
        'REQUEST_INVALID',
        'within',
      );
      await expectCode(() => s.orgs.subtree([]), 'REQUEST_INVALID', 'within');
      await expectCode(() => s.orgs.subtree(['']), 'REQUEST_INVALID', 'within[0]');
      await expectCode(() => s.orgs.get(w, 5 as never), 'REQUEST_INVALID', 'id');
      await expectCode(
        () => s.orgs.createRoot({ kind: 'club' as OrgKind, name: 'R', createdAt: at() }),
        'REQUEST_INVALID',
        'kind',
      );
      expect(await s.orgs.subtree(w)).toHaveLength(8);

      const u = await user(f.d1.id, 'u');
      await expectCode(
        () => s.orgs.setRole(w, f.d1.id, u.id, 'owner' as OrgRole),
        'REQUEST_INVALID',
        'role',
      );
      await expectCode(
        () => s.orgs.setRole(w, f.d1.id, '', 'end_user'),
        'REQUEST_INVALID',
        'userId',
      );
      await expectCode(
        () => s.orgs.setRole(w, f.d1.id, '01JD00000000000000000NOUSER', 'end_user'),
        'NOT_FOUND',
      );
      await expectCode(
        () =>
          s.orgs.addMember(w, {
            userId: u.id,
            orgId: f.c1.id,
            role: 'boss' as OrgRole,
            createdAt: at(),
          }),
        'REQUEST_INVALID',
        'role',
      );
      await expectCode(
        () => s.orgs.addMember(w, { userId: u.id, orgId: f.c1.id } as never),
        'REQUEST_INVALID',
        'role',
      );
      expect(await s.orgs.members(w, f.c1.id)).toEqual([]);
      expect(await s.orgs.members(w, f.d1.id)).toMatchObject([
        { username: 'u', role: 'general_user' },
      ]);
    });
  });
}
