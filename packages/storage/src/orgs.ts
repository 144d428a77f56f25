/**
 * Organisations and memberships (the fleet, docs/fleet.md and the subtree ADR): the types of
 * the `OrgStore` port, the input checks every adapter applies, the organisation codes and the
 * mapping between the single box's three roles and seed 000's eight.
 *
 * Organisations form a tree (platform → battery maker → dealer → installer → customer, any
 * depth). Every call names the organisations the caller stands in (`within`: the roots of
 * the subtrees it may see, from its memberships); an organisation outside those subtrees is
 * NOT_FOUND, exactly as one that does not exist, so existence never leaks. Adapters apply
 * `within` in SQL through a closure table (every ancestor–descendant pair with its distance).
 */
import { BmsError } from '@openbms/core';
import { invalid, ident, oneOf, text, time } from './validate.js';

export { invalid, ident };

export const ORG_KINDS = [
  'platform',
  'battery_maker',
  'dealer',
  'installer',
  'customer',
  'group',
] as const;
export type OrgKind = (typeof ORG_KINDS)[number];

/** Seed 000's roles; `manager` is the organisation's person in charge (at most one). */
export const ORG_ROLES = [
  'manager',
  'administrator',
  'operation_manager',
  'om_user',
  'installer',
  'general_user',
  'marketing',
  'end_user',
] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

/** The deepest an organisation may sit (the root is depth 0): bounds the closure rows per organisation. */
export const MAX_ORG_DEPTH = 15;

export interface Org {
  /** ULID. */
  id: string;
  /** Absent for a root. */
  parentId?: string;
  kind: OrgKind;
  name: string;
  /** Six characters of Crockford's base32 (`EC03B0`): what a user types at sign-up. */
  code: string;
  /** Distance from the root (0 for a root). */
  depth: number;
  createdAt: number;
}

export interface NewOrg {
  parentId: string;
  kind: OrgKind;
  name: string;
  createdAt: number;
  /** An existing code to keep (an organisation moved from another system); absent: a new one. */
  code?: string;
}

export interface NewRootOrg {
  kind: OrgKind;
  name: string;
  createdAt: number;
  code?: string;
}

export interface Membership {
  userId: string;
  orgId: string;
  role: OrgRole;
  createdAt: number;
}

/** A member as an organisation's member list shows them. */
export interface Member extends Membership {
  username: string;
}

/**
 * Organisations and their members. `within` (at least one organisation id) is the set of
 * subtree roots the caller may see: the server's policy passes the organisations of the
 * principal's memberships. Who may *do* what (only the manager changes roles...) is the
 * policy's decision; the store enforces what is visible and the tree's own rules.
 */
export interface OrgStore {
  /** A new tree (the platform, or a single box's own organisation). Not scoped: only setup and the CLI call it. */
  createRoot(org: NewRootOrg): Promise<Org>;
  /**
   * A new organisation under `parentId`, which must lie within: else NOT_FOUND. Refused with
   * REQUEST_INVALID naming the field: a `platform` below a root, anything under a `customer`,
   * deeper than MAX_ORG_DEPTH, a given code that is taken or malformed.
   */
  create(within: readonly string[], org: NewOrg): Promise<Org>;
  /** An organisation within, or undefined. */
  get(within: readonly string[], id: string): Promise<Org | undefined>;
  /** Every organisation within (the roots included), by depth, then name, then id. */
  subtree(within: readonly string[]): Promise<Org[]>;
  /** The organisation with this code (any tree: sign-up finds the organisation by it), or undefined. */
  byCode(code: string): Promise<Org | undefined>;
  /**
   * Makes the user a member of an organisation within (NOT_FOUND for an unknown user or an
   * organisation outside); a member already there is REQUEST_INVALID (`userId`).
   */
  addMember(within: readonly string[], m: Membership): Promise<Membership>;
  /** The members of one organisation within, oldest first. */
  members(within: readonly string[], orgId: string): Promise<Member[]>;
  /**
   * Changes a member's role. Making someone `manager` hands the role over: the previous
   * manager becomes `administrator`. Taking `manager` away without naming a new one is
   * REQUEST_INVALID (`role`): an organisation keeps its person in charge. A change in the
   * user's own organisation also sets the account's single-box role (`localRole`).
   */
  setRole(
    within: readonly string[],
    orgId: string,
    userId: string,
    role: OrgRole,
  ): Promise<Membership>;
  /**
   * Ends a membership of an organisation within; returns it as it was. NOT_FOUND for an
   * organisation outside or a user who is not a member. Refused with REQUEST_INVALID
   * (`userId`): the organisation's manager (hand the role over first) and a member of their
   * own organisation, the account's home (delete the account instead: its single-box role
   * and that membership stay in step).
   */
  removeMember(within: readonly string[], orgId: string, userId: string): Promise<Membership>;
  /** Every membership of a user (for the principal), oldest first. Not scoped: the user's own. */
  membershipsOf(userId: string): Promise<Membership[]>;
}

// ---------------------------------------------------------------- codes

/** Crockford's base32: no I, L, O, U, so a code read aloud or typed is hard to get wrong. */
export const ORG_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE = /^[0-9A-HJKMNP-TV-Z]{6}$/;

/**
 * A new organisation code from `random(n)` (n random bytes: the adapters pass node's CSPRNG,
 * `crypto.randomBytes`). 32 divides 256, so the low five bits of a byte are uniform.
 * 32^6 ≈ 1.07e9 codes; adapters retry on the (rare) collision with a stored one.
 */
export function newOrgCode(random: (n: number) => Uint8Array): string {
  const bytes = random(6);
  let out = '';
  for (let i = 0; i < 6; i++) out += ORG_CODE_ALPHABET[bytes[i]! & 31];
  return out;
}

/** How many fresh codes an adapter tries before giving up (a 1e-54 chance at a billion organisations). */
export const ORG_CODE_ATTEMPTS = 8;

/**
 * Runs `insert(code)` with fresh codes until it does not report a taken code. `insert`
 * returns false when the code is taken (a unique violation), true when stored.
 */
export async function withFreshCode(
  gen: () => string,
  insert: (code: string) => Promise<boolean> | boolean,
): Promise<string> {
  for (let i = 0; i < ORG_CODE_ATTEMPTS; i++) {
    const code = gen();
    if (await insert(code)) return code;
  }
  throw new BmsError(
    'STORAGE_FAILED',
    `no free organisation code after ${ORG_CODE_ATTEMPTS} attempts (is the code generator random?)`,
  );
}

export const codeTaken = (code: string): BmsError =>
  new BmsError('REQUEST_INVALID', `code ${code} is taken by another organisation`, {
    field: 'code',
  });

// ---------------------------------------------------------------- roles

/**
 * The single box's role of a fleet role (what today's policy ranks): the people who run the
 * organisation are admins, those who operate and service its batteries operators, the rest
 * viewers.
 */
export function localRole(role: OrgRole): 'admin' | 'operator' | 'viewer' {
  switch (role) {
    case 'manager':
    case 'administrator':
      return 'admin';
    case 'operation_manager':
    case 'om_user':
    case 'installer':
      return 'operator';
    default:
      return 'viewer';
  }
}

/**
 * The fleet role of a single-box role: admin → administrator (the organisation's first
 * admin is made its `manager`, by the upgrade and by account creation), operator →
 * operation_manager, viewer → general_user (not end_user: that role comes with seed 000's
 * End User point group, which would hide data a viewer sees today).
 */
export function orgRoleOf(role: 'admin' | 'operator' | 'viewer'): OrgRole {
  return role === 'admin'
    ? 'administrator'
    : role === 'operator'
      ? 'operation_manager'
      : 'general_user';
}

// ---------------------------------------------------------------- checks

export function orgCode(value: unknown, field = 'code'): string {
  if (typeof value !== 'string' || !CODE.test(value))
    throw invalid(field, `must be 6 characters of ${ORG_CODE_ALPHABET} (like EC03B0)`);
  return value;
}

/** An organisation's name: 1-100 characters, no control characters, no surrounding spaces. */
export function orgName(value: unknown, field = 'name'): string {
  const name = text(value, field, 100);
  if (name.trim() !== name) throw invalid(field, 'must not begin or end with spaces');
  return name;
}

/** `within`: 1-1000 organisation ids. */
export function within(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0)
    throw invalid('within', 'must be a non-empty array of organisation ids');
  if (value.length > 1000) throw invalid('within', 'must hold at most 1000 ids');
  return value.map((o, i) => ident(o, `within[${i}]`));
}

const object = (value: unknown, what: string): Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(what, 'must be an object');
  return value as Record<string, unknown>;
};

export function newRootOrg(value: unknown): {
  kind: OrgKind;
  name: string;
  createdAt: number;
  code: string | null;
} {
  const o = object(value, 'org');
  return {
    kind: oneOf(o['kind'], 'kind', ORG_KINDS),
    name: orgName(o['name']),
    createdAt: time(o['createdAt'], 'createdAt'),
    code: o['code'] === undefined ? null : orgCode(o['code']),
  };
}

export function newOrg(value: unknown): ReturnType<typeof newRootOrg> & { parentId: string } {
  const o = object(value, 'org');
  const parentId = ident(o['parentId'], 'parentId');
  const kind = oneOf(o['kind'], 'kind', ORG_KINDS);
  if (kind === 'platform') throw invalid('kind', 'platform is only a root, never under a parent');
  return { ...newRootOrg(o), kind, parentId };
}

/** The tree's rules for a child of `parent` (found within). */
export function checkChild(parent: { kind: string; depth: number }): void {
  if (parent.kind === 'customer')
    throw invalid('parentId', 'names a customer: customers hold plants, not organisations');
  if (parent.depth + 1 > MAX_ORG_DEPTH)
    throw invalid(
      'parentId',
      `is at depth ${parent.depth}: organisations nest at most ${MAX_ORG_DEPTH} deep`,
    );
}

export function membership(value: unknown): Membership {
  const m = object(value, 'membership');
  return {
    userId: ident(m['userId'], 'userId'),
    orgId: ident(m['orgId'], 'orgId'),
    role: oneOf(m['role'], 'role', ORG_ROLES),
    createdAt: time(m['createdAt'], 'createdAt'),
  };
}

export const orgRole = (value: unknown): OrgRole => oneOf(value, 'role', ORG_ROLES);

export const keepManager = (): BmsError =>
  invalid('role', 'cannot take the manager role away: make another member manager instead');

export const removeManager = (): BmsError =>
  invalid('userId', 'is the manager: make another member manager before removing them');

export const removeHome = (): BmsError =>
  invalid(
    'userId',
    'is a member of their own organisation, where the account lives: delete the account instead',
  );

export const orgNotFound = (id: string): BmsError =>
  new BmsError('NOT_FOUND', `no organisation ${JSON.stringify(id)}`);

export const memberNotFound = (userId: string, orgId: string): BmsError =>
  new BmsError(
    'NOT_FOUND',
    `user ${JSON.stringify(userId)} is not a member of ${JSON.stringify(orgId)}`,
  );
