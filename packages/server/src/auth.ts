/**
 * Who is calling. Sessions and API tokens are random 32-byte secrets; only their sha256 is
 * stored (UserStore.createToken/findToken), so a copy of the database does not log anyone
 * in. A request is authenticated by `Authorization: Bearer <secret>` or the session cookie
 * (and `?token=` on the WebSocket only, where browsers cannot set a header), and resolved
 * once into a `Principal` (policy.ts): the user, their organisations and their role in each,
 * read from the store on every request, so a role change or a deleted user takes effect at
 * once. What the principal may do is the policy's to say.
 */
import { createHash, randomBytes } from 'node:crypto';
import { BmsError } from '@openbms/core';
import {
  emailAddress,
  type AccountStore,
  type OrgStore,
  type Origin,
  type PlantStore,
  type Scope,
  type User,
  type UserStore,
  type Visit,
} from '@openbms/storage';
import type { FastifyRequest } from 'fastify';
import {
  allows,
  effectiveMemberships,
  type Access,
  type FleetMembership,
  type Membership,
  type Principal,
} from './policy.js';

export type { Access, Principal };
export { checkAccess } from './policy.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, resolved once by the onRequest hook; null on public routes without credentials. */
    auth: Principal | null;
  }
  interface FastifyContextConfig {
    /** Required on every /api route; checked by the onRequest hook of app.ts. */
    access?: Access;
    /** Accept `?token=` as a credential (WebSocket only). */
    tokenInQuery?: boolean;
    /**
     * A route about the box the server runs on (its settings, notifications, metrics, tunnel):
     * `access` is needed in the box's own organisation.
     */
    box?: boolean;
  }
}

export const SESSION_COOKIE = 'openbms_session';

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export interface TokenIssuer {
  users: UserStore;
  /** Organisations and memberships (absent: a store without them; the account's role alone counts). */
  orgs?: OrgStore;
  /** Plants (absent: a store without them; nobody visits anything). */
  plants?: PlantStore;
  /** E-mail addresses of accounts (absent: a store without them; no login by e-mail). */
  accountStore?: AccountStore;
  clock: () => number;
  sessionTtlMs: number;
}

/** The scope of one organisation's accounts (a user name is unique within one). */
export function accountScope(orgId: string): Scope {
  return { orgIds: [orgId] };
}

/** What a user may act in: their fleet memberships and the ranks those give (policy.ts). */
export interface Standing {
  memberships: Membership[];
  fleet: FleetMembership[];
  /** The plants shared with the user (read-only) and their collectors' gateways. */
  visits: Visit[];
}

/**
 * A user's standing, read from the store now: their fleet memberships
 * (`OrgStore.membershipsOf`), the subtrees under them, and the account's own role in its
 * organisation, ranked by `effectiveMemberships` (the one place that computes a principal's
 * scope). Every request and every live stream's recheck comes through here.
 */
export async function standingOf(
  ctx: Pick<TokenIssuer, 'orgs' | 'plants'>,
  user: Pick<User, 'id' | 'orgId' | 'role'>,
): Promise<Standing> {
  const home = { orgId: user.orgId, role: user.role };
  const visits = ctx.plants ? await ctx.plants.visitsOf(user.id) : [];
  if (!ctx.orgs) return { memberships: [home], fleet: [], visits };
  const fleet = (await ctx.orgs.membershipsOf(user.id)).map((m) => ({
    orgId: m.orgId,
    role: m.role,
  }));
  const tree = fleet.length > 0 ? await ctx.orgs.subtree(fleet.map((m) => m.orgId)) : [];
  return { memberships: effectiveMemberships(home, fleet, tree), fleet, visits };
}

/**
 * Reads a user's standing again and gives it to their open live streams (after a change of
 * their memberships), so those act with it at once; a user gone has nothing to update.
 */
export async function refreshStanding(
  ctx: Pick<TokenIssuer, 'orgs' | 'plants' | 'users'> & {
    live: { setMemberships(userId: string, s: Standing): void };
  },
  user: Pick<User, 'id' | 'orgId' | 'role'>,
): Promise<void> {
  ctx.live.setMemberships(user.id, await standingOf(ctx, user));
}

/** Creates a session or API token of a user of `orgId`; returns the secret (shown once) and its id. */
export async function issueToken(
  ctx: TokenIssuer,
  orgId: string,
  username: string,
  kind: 'session' | 'api',
  name?: string,
): Promise<{ secret: string; id: string; expiresAt?: number }> {
  const secret = randomBytes(32).toString('base64url');
  const id = hashToken(secret);
  const createdAt = ctx.clock();
  const expiresAt = kind === 'session' ? createdAt + ctx.sessionTtlMs : undefined;
  await ctx.users.createToken(accountScope(orgId), {
    hash: id,
    username,
    kind,
    createdAt,
    ...(name !== undefined ? { name } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  });
  return { secret, id, ...(expiresAt !== undefined ? { expiresAt } : {}) };
}

/** An organisation code as typed after the `@` of a login name (any letter case). */
const LOGIN_CODE = /^(.+)@([0-9A-Za-z]{6})$/;
const ORG_CODE = /^[0-9A-HJKMNP-TV-Z]{6}$/;

/**
 * The account a login name names (docs/fleet.md, "Logging in"). User names are unique within
 * one organisation only, so a name alone names an account of the box's own organisation
 * (today's login, unchanged: an account of it whose name is exactly what was typed always
 * wins); `name@CODE` names the account `name` of the organisation whose code is CODE (codes
 * are unique across the fleet, six characters of Crockford's base32, typed in any case).
 * An e-mail address (an after-`@` part that is no organisation code: it has a dot) names the
 * account with that address (addresses are unique across the store, lower-cased).
 * Exactly one account can match, or none.
 */
export async function accountByLogin(
  ctx: Pick<TokenIssuer, 'users' | 'orgs' | 'accountStore'> & { scope: Scope },
  login: string,
): Promise<{ scope: Scope; username: string }> {
  const own = { scope: ctx.scope, username: login };
  const m = LOGIN_CODE.exec(login);
  if (m) {
    if (!ctx.orgs) return own;
    const code = m[2]!.toUpperCase();
    if (!ORG_CODE.test(code) || (await ctx.users.get(ctx.scope, login))) return own;
    const org = await ctx.orgs.byCode(code);
    return org ? { scope: accountScope(org.id), username: m[1]! } : own;
  }
  const email = asEmail(login);
  if (email === undefined || !ctx.accountStore || (await ctx.users.get(ctx.scope, login)))
    return own;
  const user = await ctx.accountStore.userByEmail(email);
  return user ? { scope: accountScope(user.orgId), username: user.username } : own;
}

/** The login as a stored e-mail address (lower-cased), or undefined when it is none. */
function asEmail(login: string): string | undefined {
  try {
    return emailAddress(login);
  } catch {
    return undefined;
  }
}

/** The secret a request presents, if any. */
export function presentedSecret(req: FastifyRequest, allowQuery: boolean): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m)
      throw new BmsError('AUTH_REQUIRED', 'the Authorization header must be "Bearer <token>"');
    return m[1];
  }
  const cookie = req.cookies[SESSION_COOKIE];
  if (cookie) return cookie;
  if (allowQuery) {
    const q = (req.query as Record<string, unknown> | undefined)?.['token'];
    if (typeof q === 'string' && q.length > 0) return q;
  }
  return undefined;
}

/**
 * Resolves a presented secret to a principal. Returns null when nothing was presented; throws
 * AUTH_REQUIRED when a secret was presented but is unknown, expired or its user is gone.
 */
export async function resolveSecret(
  ctx: TokenIssuer,
  secret: string | undefined,
): Promise<Principal | null> {
  if (secret === undefined) return null;
  const id = hashToken(secret);
  const token = await ctx.users.findToken(id);
  if (!token)
    throw new BmsError('AUTH_REQUIRED', 'the session or API token is not valid (log in again)');
  if (token.expiresAt !== undefined && token.expiresAt <= ctx.clock()) {
    await ctx.users.deleteToken(id);
    throw new BmsError('AUTH_REQUIRED', 'the session has expired (log in again)');
  }
  // The user in the token's own organisation, read now: a role change or a deletion counts at once.
  const user = await ctx.users.get(accountScope(token.orgId), token.username);
  if (!user || user.id !== token.userId)
    throw new BmsError('AUTH_REQUIRED', 'the user of this token no longer exists');
  return {
    userId: user.id,
    username: user.username,
    orgId: user.orgId,
    ...(await standingOf(ctx, user)),
    kind: token.kind,
    tokenId: id,
  };
}

/** The caller, for handlers of routes whose access is not `public`. */
export function caller(req: FastifyRequest): Principal {
  if (!req.auth) throw new BmsError('AUTH_REQUIRED', 'log in first');
  return req.auth;
}

/**
 * Whose an audit entry about a principal's own account is (login, password, tokens): their
 * organisation, recorded by this server's gateway.
 */
export function accountOrigin(server: Origin, p: Pick<Principal, 'orgId'>): Origin {
  return { orgId: p.orgId, gatewayId: server.gatewayId };
}

/** How an audit entry names the principal who acted. */
export function actedBy(p: Principal): { user: string; userId: string } {
  return { user: p.username, userId: p.userId };
}

/**
 * Throws unless the principal may manage this token: their own, or one of an organisation
 * they are an admin of. A token of an organisation the principal is not a member of is
 * NOT_FOUND (its existence does not leak).
 */
export function requireSelfOrAdmin(
  p: Principal,
  token: { userId: string; orgId: string; username: string },
  what: string,
): void {
  if (token.userId === p.userId) return;
  if (!p.memberships.some((m) => m.orgId === token.orgId))
    throw new BmsError('NOT_FOUND', 'no such token');
  if (!allows(p, 'admin', token.orgId)) {
    throw new BmsError('FORBIDDEN', `only ${token.username} or an admin may ${what}`);
  }
}
