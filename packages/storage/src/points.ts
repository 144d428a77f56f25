/**
 * Point groups (seed 000 "Set of points", docs/fleet.md): per organisation, which data points
 * (canonical snapshot keys) each role may see, per device model.
 *
 * - Each organisation has one **End User Group** (`kind: end_user`, role `end_user`). An
 *   organisation that never saved its groups has that group alone, showing every point.
 * - The manager may add groups (`kind: custom`) for the other roles; a role is in at most one
 *   group of an organisation. A role in no group sees every point.
 * - A group lists, per device model (docs/fleet.md: a pack's protocol family such as `jk`,
 *   or `*` for any), the points it shows. A pack's own family wins over `*`; a group listing
 *   neither shows the pack's every point.
 *
 * The groups of an organisation are saved whole (`replace`), in one transaction: what the
 * "Set of points" page edits is the whole table. Adapters keep one row per group with its
 * roles and points as JSON, and refuse the same input through `pointGroups` below.
 */
import { DERIVED_METRICS, METRICS, type Reading } from '@openbms/core';
import { ORG_ROLES, type OrgRole } from './orgs.js';
import { ident, invalid, text } from './validate.js';

/**
 * Keys always shown, never a point to hide: what and when a sample is (`protocol`, `address`,
 * `ts`, `info`), and the pack's alarms (codes and severities: a pack in protection is shown as
 * such to everyone who sees the pack; docs/fleet.md says how an alarm's reading is hidden).
 */
export const ALWAYS_SHOWN: readonly string[] = ['protocol', 'address', 'ts', 'info', 'alarms'];

/** Every point a group may list: the catalog's snapshot keys but those always shown. */
export const POINTS: readonly string[] = [...METRICS, ...DERIVED_METRICS]
  .map((m) => m.key)
  .filter((k) => !ALWAYS_SHOWN.includes(k));

const POINT_SET = new Set(POINTS);

export const POINT_GROUP_KINDS = ['end_user', 'custom'] as const;
export type PointGroupKind = (typeof POINT_GROUP_KINDS)[number];

/** At most this many groups per organisation (one per role, and the End User Group). */
export const MAX_POINT_GROUPS = ORG_ROLES.length;
/** At most this many device models listed in one group. */
export const MAX_POINT_MODELS = 64;
export const END_USER_GROUP = 'End User Group';

/** A device model: `*` (any) or a protocol family id (`jk`, `daly-modbus`). */
const MODEL = /^(\*|[a-z0-9][a-z0-9-]{0,31})$/;

export interface PointGroupInput {
  name: string;
  kind: PointGroupKind;
  roles: OrgRole[];
  /** Device model → the points shown for it (sorted, unique). */
  points: Record<string, string[]>;
}

export interface PointGroup extends PointGroupInput {
  orgId: string;
  /** When the organisation last saved its groups; null for the default End User Group. */
  updatedAt: number | null;
}

export interface PointGroupStore {
  /**
   * The groups of each organisation of `orgIds`, in their saved order; an organisation that
   * never saved any answers the default End User Group (every point shown). Organisations are
   * not checked to exist: the caller asks for those it sees.
   */
  list(orgIds: readonly string[]): Promise<PointGroup[]>;
  /** Replaces an organisation's groups (checked by `pointGroups`), in one transaction. */
  replace(orgId: string, groups: readonly PointGroupInput[], now: number): Promise<PointGroup[]>;
}

/** The group an organisation has before its manager saves any. */
export function defaultGroups(orgId: string): PointGroup[] {
  return [
    {
      orgId,
      name: END_USER_GROUP,
      kind: 'end_user',
      roles: ['end_user'],
      points: {},
      updatedAt: null,
    },
  ];
}

export function isPoint(key: string): boolean {
  return POINT_SET.has(key);
}

export function deviceModel(value: unknown, field: string): string {
  if (typeof value !== 'string' || !MODEL.test(value))
    throw invalid(
      field,
      'must be a device model: * (any) or a protocol family id such as jk or daly-modbus',
    );
  return value;
}

/**
 * An organisation's groups, checked: 1..8 groups, exactly one End User Group (role
 * `end_user` alone) and it first, unique names (1-50 characters), each role in at most one
 * group, custom groups with 1..7 roles and never `end_user`, at most 64 models per group,
 * known points only (no duplicates). Fields are named as the API's schema errors name them:
 * `groups.1.roles.0`.
 */
export function pointGroups(value: unknown, field = 'groups'): PointGroupInput[] {
  if (!Array.isArray(value)) throw invalid(field, 'must be an array of groups');
  if (value.length < 1 || value.length > MAX_POINT_GROUPS)
    throw invalid(field, `must hold 1..${MAX_POINT_GROUPS} groups`);
  const names = new Set<string>();
  const taken = new Map<string, number>();
  const out = value.map((g: unknown, i): PointGroupInput => {
    const f = `${field}.${i}`;
    if (typeof g !== 'object' || g === null || Array.isArray(g))
      throw invalid(f, 'must be an object');
    const o = g as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (!['name', 'kind', 'roles', 'points'].includes(k))
        throw invalid(`${f}.${k}`, 'is not a field of a point group');
    const name = text(o['name'], `${f}.name`, 50);
    if (name.trim() !== name) throw invalid(`${f}.name`, 'must not start or end with spaces');
    if (names.has(name.toLowerCase())) throw invalid(`${f}.name`, `"${name}" is used twice`);
    names.add(name.toLowerCase());
    const kind = o['kind'];
    if (kind !== 'end_user' && kind !== 'custom')
      throw invalid(`${f}.kind`, 'must be end_user or custom');
    if ((kind === 'end_user') !== (i === 0))
      throw invalid(`${f}.kind`, 'the End User Group (kind end_user) is the first group, once');
    const rawRoles = o['roles'];
    if (!Array.isArray(rawRoles) || rawRoles.length < 1 || rawRoles.length > ORG_ROLES.length)
      throw invalid(`${f}.roles`, `must be an array of 1..${ORG_ROLES.length} roles`);
    const roles = rawRoles.map((r: unknown, j) => {
      const rf = `${f}.roles.${j}`;
      if (typeof r !== 'string' || !(ORG_ROLES as readonly string[]).includes(r))
        throw invalid(rf, `must be one of ${ORG_ROLES.join(', ')}`);
      if ((kind === 'end_user') !== (r === 'end_user'))
        throw invalid(rf, 'the End User Group holds the end_user role alone, and only it');
      const before = taken.get(r);
      if (before !== undefined) throw invalid(rf, `${r} is in group ${before} already`);
      taken.set(r, i);
      return r as OrgRole;
    });
    const rawPoints = o['points'];
    if (typeof rawPoints !== 'object' || rawPoints === null || Array.isArray(rawPoints))
      throw invalid(`${f}.points`, 'must be an object: device model → points shown');
    const entries = Object.entries(rawPoints as Record<string, unknown>);
    if (entries.length > MAX_POINT_MODELS)
      throw invalid(`${f}.points`, `must list at most ${MAX_POINT_MODELS} device models`);
    const points: Record<string, string[]> = {};
    for (const [model, list] of entries) {
      const pf = `${f}.points.${model}`;
      deviceModel(model, pf);
      if (!Array.isArray(list) || list.length > POINTS.length)
        throw invalid(pf, `must be an array of at most ${POINTS.length} points`);
      const seen = new Set<string>();
      list.forEach((k: unknown, j) => {
        if (typeof k !== 'string' || !POINT_SET.has(k))
          throw invalid(`${pf}.${j}`, `is not a point (one of ${POINTS.join(', ')})`);
        if (seen.has(k)) throw invalid(`${pf}.${j}`, `"${k}" is listed twice`);
        seen.add(k);
      });
      points[model] = [...seen].sort();
    }
    return { name, kind, roles, points };
  });
  return out;
}

/** An organisation id as the stores take it. */
export function pointOrg(value: unknown): string {
  return ident(value, 'orgId');
}

/** Rows as both adapters store them: roles and points as JSON text. */
export interface PointGroupRow {
  org_id: string;
  position: number;
  name: string;
  kind: PointGroupKind;
  roles: string;
  points: string;
  updated_at: number | string;
}

export function pointGroupOfRow(r: PointGroupRow): PointGroup {
  return {
    orgId: r.org_id,
    name: r.name,
    kind: r.kind,
    roles: JSON.parse(r.roles) as OrgRole[],
    points: JSON.parse(r.points) as Record<string, string[]>,
    updatedAt: Number(r.updated_at),
  };
}

/** The stored groups of `orgIds` in order, with the default for an organisation without rows. */
export function groupsOf(orgIds: readonly string[], rows: readonly PointGroupRow[]): PointGroup[] {
  const by = new Map<string, PointGroup[]>();
  for (const r of [...rows].sort((a, b) => a.position - b.position)) {
    const list = by.get(r.org_id) ?? [];
    list.push(pointGroupOfRow(r));
    by.set(r.org_id, list);
  }
  return [...new Set(orgIds)].flatMap((id) => by.get(id) ?? defaultGroups(id));
}

// ------------------------------------------------------------------ the point rule
// Pure, shared by the server's policy (server/src/policy.ts) and the gateway's MQTT bridge.

/**
 * The data points a principal sees (seed 000 "Set of points", docs/fleet.md "Point groups").
 * `all`, or the set of snapshot keys shown; keys in ALWAYS_SHOWN are shown whatever the set.
 */
export type PointFilter = 'all' | ReadonlySet<string>;

/**
 * The device models a pack answers to, most specific first: its protocol family (`jk`, set
 * by the poller on every snapshot and known from the pack's configuration, so it never
 * changes between two snapshots of one pack), then `*` (any model).
 */
export function deviceModels(protocol: string | undefined): string[] {
  return protocol ? [protocol, '*'] : ['*'];
}

/**
 * What one group shows of a device: the points of its most specific listed model, or `all`
 * when it lists none of the device's models.
 */
export function groupPoints(g: Pick<PointGroup, 'points'>, models: readonly string[]): PointFilter {
  for (const m of models) {
    const listed = g.points[m];
    if (listed) return new Set(listed);
  }
  return 'all';
}

/**
 * THE point rule (the one function every output goes through: the server's
 * PointPolicy.filterFor, and the gateway's MQTT bridge with `mqtt.points_as`):
 * the principal's fleet memberships at or above the pack's organisation (`applicable`, each
 * with the groups of its own organisation) each give a set: the group holding the member's
 * role there decides (a role in no group: every point). A principal sees the union: as with
 * ranks, a lower role further down never takes away what a membership above shows. No
 * applicable membership (the account's own organisation outside the tree, a store without
 * organisations): every point.
 */
/** A membership as the rule reads it: a role in an organisation. */
export interface PointRole {
  orgId: string;
  role: OrgRole;
}

export function visiblePoints(
  applicable: readonly PointRole[],
  groupsOf: (orgId: string) => readonly PointGroup[],
  models: readonly string[],
): PointFilter {
  if (applicable.length === 0) return 'all';
  const union = new Set<string>();
  for (const m of applicable) {
    const group = groupsOf(m.orgId).find((g) => g.roles.includes(m.role));
    if (!group) return 'all';
    const shown = groupPoints(group, models);
    if (shown === 'all') return 'all';
    for (const k of shown) union.add(k);
  }
  return union;
}

export function pointShown(filter: PointFilter, key: string): boolean {
  return filter === 'all' || ALWAYS_SHOWN.includes(key) || filter.has(key);
}

/** A snapshot with only the points shown (a parallel system's `packs` filtered alike). */
export function filterSnapshot<T extends Reading>(snapshot: T, filter: PointFilter): T {
  if (filter === 'all') return snapshot;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(snapshot)) {
    if (!pointShown(filter, k)) continue;
    out[k] =
      k === 'packs' && Array.isArray(v) ? v.map((p: Reading) => filterSnapshot(p, filter)) : v;
  }
  return out as T;
}
