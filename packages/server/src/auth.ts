/**
 * Who is calling and what they may do. Sessions and API tokens are random 32-byte secrets;
 * only their sha256 is stored (UserStore.createToken/findToken), so a copy of the database
 * does not log anyone in. A request is authenticated by `Authorization: Bearer <secret>`
 * or the session cookie (and `?token=` on the WebSocket only, where browsers cannot set a
 * header). The role is read from the user on every request, so a role change or a deleted
 * user takes effect at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { BmsError } from '@openbms/core';
import type { Role, Scope, UserStore } from '@openbms/storage';
import type { FastifyRequest } from 'fastify';

/** Who may call a route: anyone (`public`), or a user with at least this role. */
export type Access = 'public' | Role;

export interface AuthInfo {
  /** The user's id (ULID) and organisation. */
  userId: string;
  orgId: string;
  username: string;
  role: Role;
  kind: 'session' | 'api';
  /** sha256 (hex) of the secret used: the token's id. */
  tokenId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthInfo | null;
  }
  interface FastifyContextConfig {
    /** Required on every /api route; checked by the onRequest hook of app.ts. */
    access?: Access;
    /** Accept `?token=` as a credential (WebSocket only). */
    tokenInQuery?: boolean;
  }
}

export const SESSION_COOKIE = 'openbms_session';

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function roleAtLeast(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export interface TokenIssuer {
  users: UserStore;
  /** Whose accounts these are (the single box's organisation). */
  scope: Scope;
  clock: () => number;
  sessionTtlMs: number;
}

/** Creates a session or API token; returns the secret (shown once) and its id. */
export async function issueToken(
  ctx: TokenIssuer,
  username: string,
  kind: 'session' | 'api',
  name?: string,
): Promise<{ secret: string; id: string; expiresAt?: number }> {
  const secret = randomBytes(32).toString('base64url');
  const id = hashToken(secret);
  const createdAt = ctx.clock();
  const expiresAt = kind === 'session' ? createdAt + ctx.sessionTtlMs : undefined;
  await ctx.users.createToken(ctx.scope, {
    hash: id,
    username,
    kind,
    createdAt,
    ...(name !== undefined ? { name } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  });
  return { secret, id, ...(expiresAt !== undefined ? { expiresAt } : {}) };
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
 * Resolves a presented secret to a user. Returns null when nothing was presented; throws
 * AUTH_REQUIRED when a secret was presented but is unknown, expired or its user is gone.
 */
export async function resolveSecret(
  ctx: TokenIssuer,
  secret: string | undefined,
): Promise<AuthInfo | null> {
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
  const user = await ctx.users.get({ orgIds: [token.orgId] }, token.username);
  if (!user || user.id !== token.userId)
    throw new BmsError('AUTH_REQUIRED', 'the user of this token no longer exists');
  return {
    userId: user.id,
    orgId: user.orgId,
    username: user.username,
    role: user.role,
    kind: token.kind,
    tokenId: id,
  };
}

/** Throws AUTH_REQUIRED / FORBIDDEN unless `auth` satisfies `access`. */
export function checkAccess(access: Access, auth: AuthInfo | null, what: string): void {
  if (access === 'public') return;
  if (!auth)
    throw new BmsError('AUTH_REQUIRED', `log in (session cookie or Bearer token) to ${what}`);
  if (!roleAtLeast(auth.role, access)) {
    throw new BmsError(
      'FORBIDDEN',
      `${what} needs the ${access} role; ${auth.username} is ${auth.role}`,
    );
  }
}

/** Throws FORBIDDEN unless the caller is `username` or an admin. */
export function requireSelfOrAdmin(auth: AuthInfo | null, username: string, what: string): void {
  if (!auth) throw new BmsError('AUTH_REQUIRED', `log in to ${what}`);
  if (auth.username !== username && auth.role !== 'admin') {
    throw new BmsError('FORBIDDEN', `only ${username} or an admin may ${what}`);
  }
}

/** The caller, for handlers of routes whose access is not `public`. */
export function caller(req: FastifyRequest): AuthInfo {
  if (!req.auth) throw new BmsError('AUTH_REQUIRED', 'log in first');
  return req.auth;
}
