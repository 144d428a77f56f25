/**
 * The policy on its own: a principal with roles in several organisations (which the fleet's
 * organisations will give; the single box has one), gateways of three organisations.
 */
import type { GatewayLink, PackStatus } from '@openbms/gateway';
import { describe, expect, it } from 'vitest';
import { GatewayRegistry } from './gateways.js';
import {
  POINT_GROUPS_TTL_MS,
  Policy,
  PointPolicy,
  allows,
  checkAccess,
  effectiveMemberships,
  orgsAllowing,
  ownRole,
  requireRole,
  deviceModels,
  filterAlarm,
  filterSnapshot,
  pointShown,
  visiblePoints,
  type PointFilter,
  type Principal,
} from './policy.js';
import type { OrgStore, PointGroup, PointGroupStore } from '@openbms/storage';
import { fakePack } from './testing/fake-gateway.js';

/** A gateway that only answers `pack` (all the policy asks of it). */
function link(gatewayId: string, orgId: string, packs: string[]): GatewayLink {
  return {
    gatewayId,
    orgId,
    controls: false,
    pack: async (id: string): Promise<PackStatus | undefined> =>
      packs.includes(id) ? fakePack(id) : undefined,
  } as unknown as GatewayLink;
}

const registry = new GatewayRegistry([
  link('GA', 'A', ['home/b/1', 'a/b/1']),
  link('GB', 'B', ['home/b/1', 'b/b/1']),
  link('GB2', 'B', ['b2/b/1']),
  link('GC', 'C', ['c/b/1']),
]);
const policy = new Policy(registry);

/** Viewer in A, operator in B, nothing in C. */
const pat: Principal = {
  userId: 'U1',
  username: 'pat',
  orgId: 'A',
  memberships: [
    { orgId: 'A', role: 'viewer' },
    { orgId: 'B', role: 'operator' },
  ],
  fleet: [],
  kind: 'session',
  tokenId: 'T1',
};
const only = (orgId: string, role: 'viewer' | 'operator' | 'admin'): Principal => ({
  ...pat,
  orgId,
  memberships: [{ orgId, role }],
});

describe('roles per organisation', () => {
  it('ranks roles within each organisation, and none outside', () => {
    expect(allows(pat, 'viewer', 'A')).toBe(true);
    expect(allows(pat, 'operator', 'A')).toBe(false);
    expect(allows(pat, 'operator', 'B')).toBe(true);
    expect(allows(pat, 'admin', 'B')).toBe(false);
    expect(allows(pat, 'viewer', 'C')).toBe(false);
    expect(orgsAllowing(pat, 'viewer')).toEqual(['A', 'B']);
    expect(orgsAllowing(pat, 'operator')).toEqual(['B']);
    expect(ownRole(pat)).toBe('viewer');
  });

  it('the route gate asks for the role in some organisation; the route then asks where', () => {
    expect(() => checkAccess('operator', pat, 'PUT /x')).not.toThrow();
    expect(() => checkAccess('admin', pat, 'GET /audit')).toThrow(
      'GET /audit needs the admin role; pat is operator',
    );
    expect(() => checkAccess('viewer', null, 'GET /packs')).toThrow(/log in/);
    expect(() => requireRole(pat, 'operator', 'A', 'acking')).toThrow(
      'acking needs the operator role; pat is viewer',
    );
    expect(() => requireRole(pat, 'viewer', 'C', 'reading')).toThrow(
      'reading needs the viewer role; pat is not a member of this organisation',
    );
  });
});

describe('visibility', () => {
  it('shows the gateways of the organisations the principal is a member of', () => {
    expect(policy.gateways(pat).map((l) => l.gatewayId)).toEqual(['GA', 'GB', 'GB2']);
    expect(policy.gateways(pat, 'operator').map((l) => l.gatewayId)).toEqual(['GB', 'GB2']);
    expect(policy.canSee(pat, 'GC')).toBe(false);
    expect(policy.canSee(pat, 'GB2')).toBe(true);
    expect(policy.canSee(pat, 'nowhere')).toBe(false);
    // Memberships as they are now: without B, B's gateways are gone at once.
    const demoted = { ...pat, memberships: [{ orgId: 'A', role: 'viewer' as const }] };
    expect(policy.canSee(demoted, 'GB')).toBe(false);
  });

  it('list scopes: one gateway narrows to it; several give their organisations; none: undefined', () => {
    expect(policy.dataScope(only('C', 'viewer'))).toEqual({ orgIds: ['C'], gatewayId: 'GC' });
    expect(policy.dataScope(pat)).toEqual({ orgIds: ['A', 'B'] });
    expect(policy.dataScope(pat, 'operator')).toEqual({ orgIds: ['B'] });
    expect(policy.dataScope(only('Z', 'admin'))).toBeUndefined();
    expect(policy.orgScope(pat, 'operator')).toEqual({ orgIds: ['B'] });
    expect(policy.orgScope(pat, 'admin')).toBeUndefined();
    // With fleet memberships: the subtrees' roots (joined through org_closure in SQL) and the
    // account's own organisation by id, however large the subtrees.
    const fleetPat: Principal = {
      ...pat,
      fleet: [
        { orgId: 'B', role: 'administrator' },
        { orgId: 'D', role: 'end_user' },
      ],
    };
    expect(policy.orgScope(fleetPat, 'operator')).toEqual({ orgIds: [], roots: ['B'] });
    expect(policy.orgScope(fleetPat, 'viewer')).toEqual({ orgIds: ['A'], roots: ['B', 'D', 'A'] });
  });

  it("another organisation's pack is NOT_FOUND; seen but not allowed is FORBIDDEN; two gateways' is ambiguous", async () => {
    await expect(policy.findPack(pat, 'c/b/1', 'viewer')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'no pack "c/b/1"',
    });
    await expect(policy.findPack(pat, 'a/b/1', 'operator')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const found = await policy.findPack(pat, 'b2/b/1', 'operator');
    expect(found.link.gatewayId).toBe('GB2');
    expect(found.scope).toEqual({ orgIds: ['B'], gatewayId: 'GB2' });
    await expect(policy.findPack(pat, 'home/b/1', 'viewer')).rejects.toMatchObject({
      code: 'REQUEST_INVALID',
    });
    // Seen from one organisation only, the shared id is that organisation's pack.
    expect((await policy.findPack(only('A', 'viewer'), 'home/b/1', 'viewer')).link.gatewayId).toBe(
      'GA',
    );
  });
});

describe('plant visitors', () => {
  /** Viewer in A, visiting a plant of B whose collector is GB2 (not GB). */
  const vic: Principal = {
    ...only('A', 'viewer'),
    visits: [{ plantId: 'PL', orgId: 'B', gatewayIds: ['GB2'] }],
  };

  it("adds the visited plant's collectors for reads only", async () => {
    expect(policy.gateways(vic).map((l) => l.gatewayId)).toEqual(['GA', 'GB2']);
    expect(policy.gateways(vic, 'operator')).toEqual([]);
    expect(policy.canSee(vic, 'GB2')).toBe(true);
    expect(policy.canSee(vic, 'GB')).toBe(false);
    expect((await policy.findPack(vic, 'b2/b/1', 'viewer')).link.gatewayId).toBe('GB2');
    await expect(policy.findPack(vic, 'b2/b/1', 'operator')).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(policy.findPack(vic, 'b/b/1', 'viewer')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('narrows the list scope to the gateways seen when an organisation is seen in part', () => {
    expect(policy.dataScope(vic)).toEqual({ orgIds: ['A', 'B'], gatewayIds: ['GA', 'GB2'] });
    const visitorOnly: Principal = { ...only('Z', 'viewer'), visits: vic.visits! };
    expect(policy.dataScope(visitorOnly)).toEqual({ orgIds: ['B'], gatewayId: 'GB2' });
    // A member of B who visits too: B is seen whole, no narrowing.
    expect(policy.dataScope({ ...pat, visits: vic.visits! })).toEqual({ orgIds: ['A', 'B'] });
  });
});

describe('the scope of fleet memberships (effectiveMemberships)', () => {
  // P → M → D1 (→ I1 → C1), D2; the box's own organisation H beside the tree.
  const tree = [
    { id: 'P' },
    { id: 'M', parentId: 'P' },
    { id: 'D1', parentId: 'M' },
    { id: 'D2', parentId: 'M' },
    { id: 'I1', parentId: 'D1' },
    { id: 'C1', parentId: 'I1' },
  ];
  const subtree = (...roots: string[]) => {
    const inside = new Set(roots);
    return tree.filter((o) => {
      if (inside.has(o.id)) return true;
      if (o.parentId !== undefined && inside.has(o.parentId)) inside.add(o.id);
      return inside.has(o.id);
    });
  };
  const ranks = (ms: { orgId: string; role: string }[]) =>
    Object.fromEntries(ms.map((m) => [m.orgId, m.role]));

  it("maps seed 000's roles onto the three ranks", () => {
    const table = {
      manager: 'admin',
      administrator: 'admin',
      operation_manager: 'operator',
      om_user: 'operator',
      installer: 'operator',
      general_user: 'viewer',
      marketing: 'viewer',
      end_user: 'viewer',
    } as const;
    for (const [role, rank] of Object.entries(table)) {
      const ms = effectiveMemberships(
        { orgId: 'H', role: 'viewer' },
        [{ orgId: 'C1', role: role as keyof typeof table }],
        subtree('C1'),
      );
      expect(ranks(ms)).toEqual({ C1: rank, H: 'viewer' });
    }
  });

  it("gives a member every organisation of the subtree, the highest rank above counting, never a sibling's", () => {
    const ms = effectiveMemberships(
      { orgId: 'D1', role: 'viewer' },
      [
        { orgId: 'D1', role: 'general_user' },
        { orgId: 'I1', role: 'installer' },
      ],
      subtree('D1', 'I1'),
    );
    expect(ranks(ms)).toEqual({ D1: 'viewer', I1: 'operator', C1: 'operator' });
    // A maker's administrator: both dealers and everything under them.
    const maker = effectiveMemberships(
      { orgId: 'M', role: 'admin' },
      [{ orgId: 'M', role: 'administrator' }],
      subtree('M'),
    );
    expect(ranks(maker)).toEqual({
      M: 'admin',
      D1: 'admin',
      D2: 'admin',
      I1: 'admin',
      C1: 'admin',
    });
    // A lower role below does not lower what a membership above gives.
    const below = effectiveMemberships(
      { orgId: 'D1', role: 'operator' },
      [
        { orgId: 'D1', role: 'om_user' },
        { orgId: 'C1', role: 'end_user' },
      ],
      subtree('D1', 'C1'),
    );
    expect(ranks(below)).toEqual({ D1: 'operator', I1: 'operator', C1: 'operator' });
  });

  it("keeps the account's own role where no membership is stored (the single box before the tree)", () => {
    expect(effectiveMemberships({ orgId: 'H', role: 'operator' }, [], [])).toEqual([
      { orgId: 'H', role: 'operator' },
    ]);
  });
});

describe('the point rule (visiblePoints)', () => {
  const group = (
    orgId: string,
    roles: PointGroup['roles'],
    points: PointGroup['points'],
  ): PointGroup => ({ orgId, name: roles.join('+'), kind: 'custom', roles, points, updatedAt: 1 });
  const groups: Record<string, PointGroup[]> = {
    dealer: [group('dealer', ['om_user'], { '*': ['soc_pct'], jk: ['soc_pct', 'cycles'] })],
    customer: [
      group('customer', ['end_user'], { jk: ['voltage_v'] }),
      group('customer', ['marketing'], {}),
    ],
  };
  const of = (id: string) => groups[id] ?? [];
  const set = (f: PointFilter) => (f === 'all' ? 'all' : [...f].sort());

  it("takes the pack's family before *, and a group listing neither shows every point", () => {
    const om = [{ orgId: 'dealer', role: 'om_user' as const }];
    expect(set(visiblePoints(om, of, deviceModels('jk')))).toEqual(['cycles', 'soc_pct']);
    expect(set(visiblePoints(om, of, deviceModels('daly')))).toEqual(['soc_pct']);
    const eu = [{ orgId: 'customer', role: 'end_user' as const }];
    expect(set(visiblePoints(eu, of, deviceModels('jk')))).toEqual(['voltage_v']);
    expect(visiblePoints(eu, of, deviceModels('daly'))).toBe('all');
    // A role in no group, a group listing no model, no membership on the path: every point.
    expect(visiblePoints([{ orgId: 'customer', role: 'installer' }], of, ['jk', '*'])).toBe('all');
    expect(visiblePoints([{ orgId: 'customer', role: 'marketing' }], of, ['jk', '*'])).toBe('all');
    expect(visiblePoints([], of, ['jk', '*'])).toBe('all');
  });

  it('gives the union of the memberships on the path: a lower role below never takes away', () => {
    const both = [
      { orgId: 'dealer', role: 'om_user' as const },
      { orgId: 'customer', role: 'end_user' as const },
    ];
    expect(set(visiblePoints(both, of, deviceModels('jk')))).toEqual([
      'cycles',
      'soc_pct',
      'voltage_v',
    ]);
    expect(visiblePoints(both, of, deviceModels('daly'))).toBe('all');
  });

  it('filters snapshots (always showing identity and alarms) and hides the readings of alarms', () => {
    const f: PointFilter = new Set(['soc_pct']);
    expect(
      filterSnapshot(
        {
          protocol: 'jk',
          ts: 't',
          soc_pct: 50,
          cycles: 3,
          alarms: [{ code: 'cell_ov', severity: 'warning' }],
          packs: [{ soc_pct: 1, cycles: 2 }],
        },
        f,
      ),
    ).toEqual({
      protocol: 'jk',
      ts: 't',
      soc_pct: 50,
      alarms: [{ code: 'cell_ov', severity: 'warning' }],
    });
    // A parallel system's packs are filtered alike.
    expect(
      filterSnapshot({ packs: [{ soc_pct: 1, cycles: 2 }] }, new Set(['packs', 'soc_pct'])),
    ).toEqual({ packs: [{ soc_pct: 1 }] });
    expect(pointShown(f, 'info')).toBe(true);
    const ev = {
      id: 'x',
      localId: 1,
      orgId: 'o',
      gatewayId: 'g',
      packId: 'p',
      severity: 'warning' as const,
      raisedAt: 1,
    };
    const low = { ...ev, code: 'soc_low', origin: 'bms' as const, value: 9, message: 'SOC 9 %' };
    expect(filterAlarm(low, f)).toEqual(low);
    const ov = { ...ev, code: 'cell_ov', origin: 'bms' as const, value: 3650, message: '3650 mV' };
    expect(filterAlarm(ov, f)).not.toHaveProperty('value');
    expect(filterAlarm(ov, f).message).not.toMatch(/3650/);
    const rule = { ...ev, code: 'soc_low', origin: 'rule' as const, value: 9, message: 'SOC 9 %' };
    expect(filterAlarm(rule, f)).not.toHaveProperty('value');
    expect(filterAlarm(rule, 'all')).toEqual(rule);
  });
});

describe('PointPolicy while the store is away', () => {
  // The End User Group of org O shows the voltage of jk packs only (cycles hidden).
  const hidden: PointGroup = {
    orgId: 'O',
    name: 'End User Group',
    kind: 'end_user',
    roles: ['end_user'],
    points: { jk: ['voltage_v'] },
    updatedAt: 1,
  };
  const user = { fleet: [{ orgId: 'O', role: 'end_user' as const }] };
  const orgs = { get: async () => ({}) } as unknown as OrgStore;

  it('keeps the groups last read when a refresh fails, answers at once, and reads them again once back', async () => {
    let now = 1000;
    let away = false;
    let reads = 0;
    let group = hidden;
    const hanging: (() => void)[] = [];
    const points = {
      list: async () => {
        reads++;
        if (away) {
          // An unreachable database: the read hangs until its timeout, then fails.
          await new Promise<void>((r) => hanging.push(r));
          throw new Error('connection refused');
        }
        return [group];
      },
    } as unknown as PointGroupStore;
    const policy = new PointPolicy({ orgs, points, clock: () => now });
    const shown = async () =>
      [...((await policy.filterFor(user, 'O', ['jk', '*'])) as Set<string>)].sort();
    const settle = () => new Promise((r) => setImmediate(r));
    expect(await shown()).toEqual(['voltage_v']);
    away = true;
    now += POINT_GROUPS_TTL_MS + 1;
    // Stale: served at once (the refresh hangs in the background), still hiding cycles.
    expect(await shown()).toEqual(['voltage_v']);
    expect(await shown()).toEqual(['voltage_v']);
    expect(reads).toBe(2); // one refresh in flight, not one per request
    hanging.shift()!();
    await settle();
    // The refresh failed: the groups last read still hold.
    expect(await shown()).toEqual(['voltage_v']);
    // Back, with the manager's newer groups: the next refresh brings them.
    away = false;
    group = { ...hidden, points: { jk: ['soc_pct', 'voltage_v'] } };
    for (const r of hanging.splice(0)) r();
    await settle();
    now += POINT_GROUPS_TTL_MS + 1;
    await shown();
    await settle();
    expect(await shown()).toEqual(['soc_pct', 'voltage_v']);
  });

  it('fails, never shows every point, when the groups were never read', async () => {
    const points = {
      list: async () => {
        throw new Error('connection refused');
      },
    } as unknown as PointGroupStore;
    const policy = new PointPolicy({ orgs, points });
    await expect(policy.filterFor(user, 'O', ['jk'])).rejects.toThrow('connection refused');
  });
});
