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
 *
 * The single box is the one-organisation case: its users are members of the local
 * organisation with today's three roles, and it serves one gateway.
 */
import { BmsError } from '@openbms/core';
import type { GatewayLink, PackStatus } from '@openbms/gateway';
import {
  localRole,
  type Origin,
  type Org,
  type OrgRole,
  type Role,
  type Scope,
  type TelemetryStore,
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

/** A pack found for a principal: the gateway that has it and the scope its data is read in. */
export interface FoundPack {
  link: GatewayLink;
  /** Its live status; undefined for a pack the gateway no longer polls (stored data only). */
  pack: PackStatus | undefined;
  scope: Scope;
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
  constructor(private readonly registry: GatewayRegistry) {}

  /** The gateways whose organisation the principal has at least `needed` in. */
  gateways(p: Principal, needed: Role = 'viewer'): GatewayLink[] {
    return this.registry.all().filter((l) => allows(p, needed, l.orgId));
  }

  /** Whether the principal may see a gateway's events and data (the live WebSocket's filter). */
  canSee(p: Principal, gatewayId: string): boolean {
    const l = this.registry.get(gatewayId);
    return l !== undefined && allows(p, 'viewer', l.orgId);
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
    return orgIds.length > 0 ? { orgIds } : undefined;
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
   * has `needed` in, whichever gateway or server wrote them. Undefined: none.
   */
  orgScope(p: Principal, needed: Role): Scope | undefined {
    const orgIds = orgsAllowing(p, needed);
    return orgIds.length > 0 ? { orgIds } : undefined;
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
    requireRole(p, needed, found.link.orgId, `acting on pack "${packId}"`);
    return found;
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
    return found[0];
  }
}
