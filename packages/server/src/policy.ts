/**
 * Who may do what, in one place (ADR: principal and policy). A request carries a `Principal`
 * (auth.ts resolves it once): the user, the organisations they belong to and their role in
 * each. Everything that decides access asks this module:
 *
 * - **Actions** are ranked by role (`viewer` < `operator` < `admin`): reading pack data needs
 *   viewer, control and acknowledgements operator, the audit log, accounts and the box's
 *   settings admin, each *in the organisation that owns the thing*.
 * - **Visibility**: a principal sees the gateways of the organisations they are a member of,
 *   and nothing else. List queries take a storage `Scope` built here, so the database filters
 *   (nothing is fetched and dropped after); single resources are found among the visible
 *   gateways only, so another organisation's pack, alarm or token is `NOT_FOUND` (404), never
 *   `FORBIDDEN`: its existence does not leak. A principal who may see a thing but not act on it
 *   gets `FORBIDDEN`.
 * - The same rules apply to REST lists, single reads, history, exports, alarms, audit,
 *   commands and the live WebSocket (which asks `canSee` for every event).
 * - **Data points** (seed 000's point groups, the last section of this file): which keys of a
 *   pack's readings a principal sees, decided by `PointPolicy.filterFor` alone.
 *
 * - **Plant visitors** (docs/fleet.md "Plants"): a plant shared with a user lets them *read* its
 *   collectors' gateways (packs, live data, history, alarms, exports) and nothing else of the
 *   owner organisation: the principal carries the visited plants' gateway ids, `gateways`,
 *   `canSee`, `dataScope` and `lookPack` add them for viewer reads only, and a scope over an
 *   organisation seen only in part names its gateways (`Scope.gatewayIds`). Any write asks for
 *   a rank in the owner organisation, which a visitor does not have: 403.
 * - **Device-linked packs**: a pack of a gateway the principal does not see that is the own
 *   pack (`tracker/<serial>`) of a tracker device in their subtrees (a dealer's tracker
 *   battery whose BMS the node's gateway polls) is found by `lookPack` too (a device merely
 *   registered with a link to another pack grants nothing): read in the gateway's scope, acted on
 *   with the principal's role in the device's organisation. Pack lists and the live
 *   WebSocket (gateway-wide) do not include it; its pack routes answer it.
 *
 * The single box is the one-organisation case: its users are members of the local
 * organisation with today's three roles, and it serves one gateway.
 */
import { BmsError, alarmInfo, type Reading } from '@openbms/core';
import type { GatewayLink, PackStatus } from '@openbms/gateway';
import {
  deviceModels,
  localRole,
  pointShown,
  visiblePoints,
  type PointFilter,
  type AlarmEvent,
  type DeviceStore,
  type OrgStore,
  type PointGroup,
  type PointGroupStore,
  type Origin,
  type Org,
  type OrgRole,
  type Role,
  type Scope,
  type TelemetryStore,
  type Visit,
} from '@openbms/storage';
import type { GatewayRegistry } from './gateways.js';

/** Who may call a route: anyone (`public`), or a principal with at least this role somewhere. */
export type Access = 'public' | Role;

/** A principal's role in one organisation. */
export interface Membership {
  orgId: string;
  role: Role;
}

/** Who is calling: resolved once per request from the session or API token. */
export interface Principal {
  /** The user's id (ULID). */
  userId: string;
  username: string;
  /** The organisation the account belongs to (where its name is unique, its tokens live). */
  orgId: string;
  /**
   * The organisations the user may act in, with the rank they have in each: every organisation
   * of the subtrees of their fleet memberships (a member of a dealer is so in each of its
   * installers and customers too, with the highest rank any membership above gives), and their
   * own organisation with the account's role. Computed by `effectiveMemberships` only.
   */
  memberships: readonly Membership[];
  /** The user's own fleet memberships (seed 000's roles), as stored: the roots of what they see. */
  fleet: readonly FleetMembership[];
  /** The plants shared with the user (read-only) with their collectors' gateways; absent: none. */
  visits?: readonly Visit[];
  /** The credential used: a login session or an API token. */
  kind: 'session' | 'api';
  /** sha256 (hex) of the secret used: the token's id. */
  tokenId: string;
}

/** A stored membership with its fleet role (seed 000). */
export interface FleetMembership {
  orgId: string;
  role: OrgRole;
}

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/**
 * The one place a principal's scope is computed (docs/fleet.md, "Roles and rights"): each
 * organisation of `tree` (the subtrees of the user's fleet memberships, parents before
 * children, as `OrgStore.subtree` lists them) gets the highest rank of the memberships at or
 * above it, each fleet role counted at its single-box rank (`localRole`: manager and
 * administrator → admin, operation manager, O&M user and installer → operator, general user,
 * marketing and end user → viewer). The account's own organisation keeps the account's role
 * (the store keeps the two in step; an organisation that is not in the tree, such as a test's
 * second organisation, is reached this way only), so the single box's users keep exactly
 * their rights.
 */
export function effectiveMemberships(
  home: { orgId: string; role: Role },
  fleet: readonly FleetMembership[],
  tree: readonly Pick<Org, 'id' | 'parentId'>[],
): Membership[] {
  const direct = new Map<string, Role>();
  for (const m of fleet) direct.set(m.orgId, higher(direct.get(m.orgId), localRole(m.role)));
  const rank = new Map<string, Role>();
  for (const o of tree) {
    const above = o.parentId !== undefined ? rank.get(o.parentId) : undefined;
    const r = higher(direct.get(o.id), above);
    if (r) rank.set(o.id, r);
  }
  rank.set(home.orgId, higher(rank.get(home.orgId), home.role));
  return [...rank].map(([orgId, role]) => ({ orgId, role }));
}

function higher(a: Role | undefined, b: Role): Role;
function higher(a: Role | undefined, b: Role | undefined): Role | undefined;
function higher(a: Role | undefined, b: Role | undefined): Role | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/** The principal's role in an organisation; undefined when not a member. */
export function roleIn(p: Principal, orgId: string): Role | undefined {
  return p.memberships.find((m) => m.orgId === orgId)?.role;
}

/** The principal's role in their own organisation (what `/auth/me` and the live `hello` show). */
export function ownRole(p: Principal): Role {
  return roleIn(p, p.orgId) ?? 'viewer';
}

/** Whether the principal has at least `needed` in `orgId`. */
export function allows(p: Principal, needed: Role, orgId: string): boolean {
  const r = roleIn(p, orgId);
  return r !== undefined && roleAtLeast(r, needed);
}

/** The organisations in which the principal has at least `needed`. */
export function orgsAllowing(p: Principal, needed: Role): string[] {
  return p.memberships.filter((m) => roleAtLeast(m.role, needed)).map((m) => m.orgId);
}

/** The highest role the principal has anywhere. */
function bestRole(p: Principal): Role | undefined {
  let best: Role | undefined;
  for (const m of p.memberships) if (!best || RANK[m.role] > RANK[best]) best = m.role;
  return best;
}

/**
 * The route-level gate, before the body is parsed: AUTH_REQUIRED without a principal,
 * FORBIDDEN unless the principal has `access` in at least one organisation. Which
 * organisation a route acts in is decided by the route (the resource's owner) through
 * `requireRole` or the Policy's lookups.
 */
export function checkAccess(access: Access, p: Principal | null, what: string): void {
  if (access === 'public') return;
  if (!p) throw new BmsError('AUTH_REQUIRED', `log in (session cookie or Bearer token) to ${what}`);
  if (orgsAllowing(p, access).length === 0) {
    const has = bestRole(p);
    throw new BmsError(
      'FORBIDDEN',
      `${what} needs the ${access} role; ${p.username} is ${has ?? 'not a member of any organisation'}`,
    );
  }
}

/** Throws FORBIDDEN unless the principal has at least `needed` in `orgId`. */
export function requireRole(p: Principal, needed: Role, orgId: string, what: string): void {
  if (allows(p, needed, orgId)) return;
  const has = roleIn(p, orgId);
  throw new BmsError(
    'FORBIDDEN',
    `${what} needs the ${needed} role; ${p.username} is ${has ?? 'not a member of this organisation'}`,
  );
}

/**
 * The roots of the subtrees in which the principal has at least `needed`: their fleet
 * memberships of that rank, and their own organisation when its rank suffices. What the
 * device and approval queries take as `within` (the store applies it in SQL through the
 * closure table, so nothing is expanded here); empty: nothing.
 */
export function subtreeRoots(p: Principal, needed: Role = 'viewer'): string[] {
  const roots = new Set(
    p.fleet.filter((m) => roleAtLeast(localRole(m.role), needed)).map((m) => m.orgId),
  );
  if (allows(p, needed, p.orgId)) roots.add(p.orgId);
  return [...roots];
}

/** Whether the principal visits a plant one of whose collectors is this gateway. */
export function visits(p: Principal, gatewayId: string): boolean {
  return p.visits?.some((v) => v.gatewayIds.includes(gatewayId)) ?? false;
}

/** A pack found for a principal: the gateway that has it and the scope its data is read in. */
export interface FoundPack {
  link: GatewayLink;
  /** Its live status; undefined for a pack the gateway no longer polls (stored data only). */
  pack: PackStatus | undefined;
  scope: Scope;
  /**
   * Found through the device list rather than the gateway: a device within the principal's
   * subtrees is linked to this pack of a gateway of another organisation (a tracker battery's
   * BMS, polled by the node's gateway). Its organisation's roles decide, not the gateway's.
   */
  deviceOrgId?: string;
}

/** The scope of one gateway's own records. */
export function gatewayScope(link: GatewayLink): Scope {
  return { orgIds: [link.orgId], gatewayId: link.gatewayId };
}

/** Whose a record about a gateway's pack is (audit entries the server writes about it). */
export function gatewayOrigin(link: GatewayLink): Origin {
  return { orgId: link.orgId, gatewayId: link.gatewayId };
}

export class Policy {
  /** The data points each principal sees (point groups); every point without the stores. */
  readonly points: PointPolicy;

  constructor(
    private readonly registry: GatewayRegistry,
    stores: PointStores = {},
    /** The device list: packs linked to devices a principal sees are theirs (`lookPack`). */
    private readonly devices?: DeviceStore,
  ) {
    this.points = new PointPolicy(stores);
  }

  /**
   * The gateways whose organisation the principal has at least `needed` in; for `viewer`, also
   * the collectors of the plants they visit.
   */
  gateways(p: Principal, needed: Role = 'viewer'): GatewayLink[] {
    return this.registry
      .all()
      .filter((l) => allows(p, needed, l.orgId) || (needed === 'viewer' && visits(p, l.gatewayId)));
  }

  /** Whether the principal may see a gateway's events and data (the live WebSocket's filter). */
  canSee(p: Principal, gatewayId: string): boolean {
    const l = this.registry.get(gatewayId);
    return l !== undefined && (allows(p, 'viewer', l.orgId) || visits(p, gatewayId));
  }

  /**
   * Throws FORBIDDEN unless the principal may do what needs `needed` on a gateway it sees:
   * reading (`viewer`) is what seeing it gives (a visitor reads their plant's collectors), and
   * anything more needs the rank in the gateway's organisation.
   */
  requireOn(p: Principal, needed: Role, link: GatewayLink, what: string): void {
    if (needed === 'viewer' && this.canSee(p, link.gatewayId)) return;
    requireRole(p, needed, link.orgId, what);
  }

  /**
   * The scope of the pack data (telemetry, alarm events) the principal may list with `needed`:
   * the visible gateways' organisations, narrowed to the gateway when they see exactly one (the
   * single box). Undefined: nothing visible (the list is empty without asking the store).
   */
  dataScope(p: Principal, needed: Role = 'viewer'): Scope | undefined {
    const links = this.gateways(p, needed);
    if (links.length === 1) return gatewayScope(links[0]!);
    const orgIds = [...new Set(links.map((l) => l.orgId))];
    if (orgIds.length === 0) return undefined;
    // An organisation seen only in part (a visited plant's collectors, not the rest of its
    // gateways): the records of the gateways seen, not the organisation's.
    const partly = orgIds.some((o) => !allows(p, needed, o));
    return partly ? { orgIds, gatewayIds: links.map((l) => l.gatewayId) } : { orgIds };
  }

  /**
   * The scope of a list of pack data, optionally of one pack: `dataScope`, and with a pack id
   * the scope of the visible gateway that has it (when the principal sees one gateway, that
   * is its scope, and the database finds nothing for a pack it does not have). Undefined:
   * nothing to list.
   */
  async listScope(
    p: Principal,
    packId: string | undefined,
    stored: TelemetryStore,
  ): Promise<Scope | undefined> {
    const scope = this.dataScope(p);
    if (packId === undefined || !scope || scope.gatewayId !== undefined) return scope;
    return (await this.lookPack(p, packId, stored))?.scope;
  }

  /**
   * The scope of an organisation's records (the audit log): every organisation the principal
   * has `needed` in, whichever gateway or server wrote them: for a principal with fleet
   * memberships, the roots of those subtrees (the store joins `org_closure` in SQL, so a
   * subtree of any size is one scope; docs/fleet.md plan item 2) and the account's own
   * organisation by id (it may lie outside any tree). Undefined: none.
   */
  orgScope(p: Principal, needed: Role): Scope | undefined {
    const roots = subtreeRoots(p, needed);
    // Without fleet memberships (the single box) the organisations are few: by id, as ever.
    if (p.fleet.length === 0 || roots.length === 0) {
      const orgIds = orgsAllowing(p, needed);
      return orgIds.length > 0 ? { orgIds } : undefined;
    }
    return { orgIds: allows(p, needed, p.orgId) ? [p.orgId] : [], roots };
  }

  /**
   * Finds a pack among the gateways the principal may see: live at its gateway, or (with
   * `stored`) known to the store in the gateway's scope (history and exports of a pack no
   * longer polled). NOT_FOUND when no visible gateway has it (another organisation's pack
   * looks exactly like a pack that does not exist); REQUEST_INVALID when two visible gateways
   * have a pack of that id; FORBIDDEN when the principal sees it but lacks `needed` in its
   * organisation.
   */
  async findPack(
    p: Principal,
    packId: string,
    needed: Role,
    stored?: TelemetryStore,
  ): Promise<FoundPack> {
    const found = await this.lookPack(p, packId, stored);
    if (!found) throw new BmsError('NOT_FOUND', `no pack "${packId}"`);
    this.requireOnPack(p, needed, found, `acting on pack "${packId}"`);
    return found;
  }

  /** As `requireOn` for a pack found by `lookPack`: a device-linked pack asks its device's organisation. */
  requireOnPack(p: Principal, needed: Role, found: FoundPack, what: string): void {
    if (found.deviceOrgId === undefined) return this.requireOn(p, needed, found.link, what);
    requireRole(p, needed, found.deviceOrgId, what);
  }

  /** As findPack, undefined instead of NOT_FOUND (lists filtered by a pack that is not there). */
  async lookPack(
    p: Principal,
    packId: string,
    stored?: TelemetryStore,
  ): Promise<FoundPack | undefined> {
    const links = this.gateways(p, 'viewer');
    const found: FoundPack[] = [];
    for (const link of links) {
      const pack = await link.pack(packId);
      const scope = gatewayScope(link);
      if (pack || (stored && (await stored.latest(scope, packId)))) {
        found.push({ link, pack, scope });
      }
    }
    if (found.length > 1) {
      throw new BmsError(
        'REQUEST_INVALID',
        `pack id "${packId}" names a pack on ${found.length} gateways (${found.map((f) => f.link.gatewayId).join(', ')})`,
        { field: 'pack' },
      );
    }
    return found[0] ?? (await this.linkedPack(p, packId, links));
  }

  /**
   * A pack of a gateway the principal does not see, linked in the device list to a device in
   * their subtrees (seed 003: a dealer's tracker battery whose BMS the node's gateway polls).
   * Its data stays in the gateway's scope; its device's organisation decides who may act.
   */
  private async linkedPack(
    p: Principal,
    packId: string,
    seen: readonly GatewayLink[],
  ): Promise<FoundPack | undefined> {
    const roots = subtreeRoots(p);
    if (!this.devices || roots.length === 0) return undefined;
    const others = this.registry
      .all()
      .filter((l) => !seen.includes(l))
      .slice(0, 100);
    if (others.length === 0) return undefined;
    const d = await this.devices.byPack(
      roots,
      others.map((l) => l.gatewayId),
      packId,
    );
    const link = d?.gatewayId === undefined ? undefined : this.registry.get(d.gatewayId);
    if (!d || !link) return undefined;
    return { link, pack: await link.pack(packId), scope: gatewayScope(link), deviceOrgId: d.orgId };
  }
}

// ------------------------------------------------------------------ data points (point groups)

// The rule itself is pure and lives in storage (packages/storage/src/points.ts), shared with
// the gateway's MQTT bridge (`mqtt.points_as`); re-exported for the routes.
export {
  deviceModels,
  filterSnapshot,
  groupPoints,
  pointShown,
  visiblePoints,
  type PointFilter,
} from '@openbms/storage';

export interface PointStores {
  orgs?: OrgStore | undefined;
  points?: PointGroupStore | undefined;
  clock?: () => number;
}

/**
 * The point an alarm code is about, where the taxonomy names one (its reading would tell
 * that point's value). The other codes (insulation, comm_lost, hardware faults) name none.
 */
const ALARM_POINT: Record<string, string> = {
  cell_ov: 'cell_mv',
  cell_uv: 'cell_mv',
  cell_diff: 'delta_cell_mv',
  pack_ov: 'voltage_v',
  pack_uv: 'voltage_v',
  chg_oc: 'current_a',
  dsg_oc: 'current_a',
  short_circuit: 'current_a',
  chg_ot: 'temps_c',
  chg_ut: 'temps_c',
  dsg_ot: 'temps_c',
  dsg_ut: 'temps_c',
  mos_ot: 'mos_temp_c',
  env_ot: 'env_temp_c',
  env_ut: 'env_temp_c',
  soc_low: 'soc_pct',
};

/**
 * An alarm event as a principal sees it: always there (that a pack is in protection is not a
 * data point), but its reading (`value`, and the message, which may quote it) only when the
 * point it is about is shown; a user rule's event, whose point the event does not name, keeps
 * them only for a principal who sees every point. Without them the message is the code's label.
 */
export function filterAlarm(e: AlarmEvent, filter: PointFilter): AlarmEvent {
  if (filter === 'all') return e;
  const point = e.origin === 'rule' ? undefined : ALARM_POINT[e.code];
  if (point !== undefined && pointShown(filter, point)) return e;
  if (e.value === undefined && e.origin !== 'rule' && point === undefined) return e;
  const { value: _value, ...rest } = e;
  return { ...rest, message: alarmInfo(e.code)?.label ?? e.code };
}

/** How long the point groups read for one organisation are reused (one node's own changes count at once). */
export const POINT_GROUPS_TTL_MS = 2000;

/**
 * The point groups as the policy reads them: per organisation, cached for POINT_GROUPS_TTL_MS
 * (a live stream asks for every snapshot), forgotten at once when this node saves them; which
 * organisations lie at or above another is asked of the store once per pair (organisations do
 * not move).
 */
export class PointPolicy {
  private readonly groups = new Map<string, { at: number; groups: readonly PointGroup[] }>();
  private readonly above = new Map<string, boolean>();
  /** How many times each organisation's groups were saved here (a read begun before a save is not kept). */
  private readonly saves = new Map<string, number>();
  /** Organisations whose groups are being read again in the background. */
  private readonly refreshing = new Set<string>();

  constructor(private readonly stores: PointStores) {}

  private now(): number {
    return (this.stores.clock ?? Date.now)();
  }

  /** After a save: the organisation's groups are read again on the next use. */
  forget(orgId: string): void {
    this.groups.delete(orgId);
    this.saves.set(orgId, (this.saves.get(orgId) ?? 0) + 1);
  }

  /**
   * The filter for a principal and a pack of organisation `orgId` with device `models`
   * (`deviceModels`): the one entry point of every output (REST, WebSocket, history, exports,
   * alarms, MQTT).
   */
  async filterFor(
    p: Pick<Principal, 'fleet'>,
    orgId: string,
    models: readonly string[],
  ): Promise<PointFilter> {
    const { orgs, points } = this.stores;
    if (!orgs || !points || p.fleet.length === 0) return 'all';
    const applicable: FleetMembership[] = [];
    for (const m of p.fleet) if (await this.isAtOrAbove(orgs, m.orgId, orgId)) applicable.push(m);
    if (applicable.length === 0) return 'all';
    const read = await this.read(points, [...new Set(applicable.map((m) => m.orgId))]);
    return visiblePoints(applicable, (id) => read.get(id) ?? [], models);
  }

  /** The filter for a pack: its device model from the pack's configuration or a snapshot of it. */
  filterForPack(
    p: Pick<Principal, 'fleet'>,
    orgId: string,
    pack: { protocol?: string | undefined; snapshot?: Reading | undefined } | undefined,
  ): Promise<PointFilter> {
    return this.filterFor(p, orgId, deviceModels(pack?.protocol ?? pack?.snapshot?.protocol));
  }

  private async isAtOrAbove(orgs: OrgStore, ancestor: string, orgId: string): Promise<boolean> {
    if (ancestor === orgId) return true;
    const key = `${ancestor} ${orgId}`;
    let known = this.above.get(key);
    if (known === undefined) {
      known = (await orgs.get([ancestor], orgId)) !== undefined;
      if (this.above.size > 100_000) this.above.clear();
      this.above.set(key, known);
    }
    return known;
  }

  /**
   * The groups of `orgIds`: fresh ones from the cache; stale ones are served as they are while
   * one read brings them up to date in the background, so a store that is slow or away (a
   * database outage) never holds back the live stream or a page, and a failed refresh keeps the
   * groups last read (never every point: what a manager hid stays hidden). Only groups never
   * read are awaited (and a store that fails then fails the request).
   */
  private async read(
    store: PointGroupStore,
    orgIds: readonly string[],
  ): Promise<Map<string, readonly PointGroup[]>> {
    const now = this.now();
    const out = new Map<string, readonly PointGroup[]>();
    const missing: string[] = [];
    const stale: string[] = [];
    for (const id of orgIds) {
      const c = this.groups.get(id);
      if (!c) missing.push(id);
      else {
        out.set(id, c.groups);
        if (!(now - c.at < POINT_GROUPS_TTL_MS && c.at <= now)) stale.push(id);
      }
    }
    const refresh = stale.filter((id) => !this.refreshing.has(id));
    if (refresh.length > 0) {
      for (const id of refresh) this.refreshing.add(id);
      void this.fetch(store, refresh, now)
        .catch(() => undefined)
        .finally(() => {
          for (const id of refresh) this.refreshing.delete(id);
        });
    }
    if (missing.length > 0) {
      const fresh = await this.fetch(store, missing, now);
      for (const [id, gs] of fresh) out.set(id, gs);
    }
    return out;
  }

  private async fetch(
    store: PointGroupStore,
    orgIds: readonly string[],
    now: number,
  ): Promise<Map<string, readonly PointGroup[]>> {
    const before = orgIds.map((id) => this.saves.get(id) ?? 0);
    const fresh = await store.list(orgIds);
    const out = new Map<string, readonly PointGroup[]>();
    for (const [i, id] of orgIds.entries()) {
      const gs = fresh.filter((g) => g.orgId === id);
      out.set(id, gs);
      // Saved here meanwhile (`forget`), or read by a newer call: not kept over it.
      if ((this.saves.get(id) ?? 0) !== before[i]) continue;
      const had = this.groups.get(id);
      if (had && had.at > now) continue;
      if (this.groups.size > 10_000) this.groups.clear();
      this.groups.set(id, { at: now, groups: gs });
    }
    return out;
  }
}
