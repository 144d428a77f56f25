/**
 * Users and their tokens in PostgreSQL. Passwords arrive hashed (scrypt, by the server);
 * tokens are stored by the sha256 of their secret. A name is unique within its organisation
 * ignoring ASCII letter case (the unique index on `fold(username)`), as in SQLite.
 */
import { BmsError } from '@openbms/core';
import {
  newId,
  recordChecks as c,
  type FoundToken,
  type NewToken,
  type NewUser,
  type Origin,
  type Role,
  type Scope,
  type TokenFilter,
  type TokenInfo,
  type User,
  type UserStore,
} from '@openbms/storage';
import type { PgDb } from './db.js';
import { HOME_SQL, LOCK_ORG, orgRoleOf, sameRank } from './orgs.js';

const ROLES = ['admin', 'operator', 'viewer'] as const;
const KINDS = ['session', 'api'] as const;

/** ASCII-only case folding, the expression of the unique index. */
const fold = (x: string): string =>
  `translate(${x}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`;

interface UserRow {
  id: string;
  org_id: string;
  gateway_id: string;
  username: string;
  role: Role;
  password_hash: string;
  created_at: number;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  orgId: r.org_id,
  gatewayId: r.gateway_id,
  username: r.username,
  role: r.role,
  createdAt: r.created_at,
});

const notFound = (name: string): BmsError =>
  new BmsError('NOT_FOUND', `no user named ${JSON.stringify(name)}`);

/** The UserStore of this adapter, with what it adds: `now` for findToken, purging tokens. */
export interface PgUserStore extends UserStore {
  findToken(hash: string, now?: number): Promise<FoundToken | undefined>;
  purgeExpiredTokens(now: number): Promise<number>;
}

export function pgUsers(db: PgDb): PgUserStore {
  const row = async (orgId: string, name: string): Promise<UserRow | undefined> =>
    (
      await db.query<UserRow>(
        'cannot read users',
        `SELECT * FROM users WHERE org_id = $1 AND ${fold('username')} = ${fold('$2')}`,
        [orgId, name],
      )
    )[0];
  const update = async (
    name: string,
    what: string,
    sql: string,
    args: unknown[],
  ): Promise<void> => {
    c.text(name, 'username', 64);
    if ((await db.query(what, sql, args)).length === 0) throw notFound(name);
  };
  return {
    async create(origin: Origin, user: NewUser, passwordHash: string): Promise<User> {
      const o = c.origin(origin);
      if (typeof user !== 'object' || user === null) throw c.invalid('user', 'must be an object');
      const name = c.username(user.username);
      const role = c.oneOf(user.role, 'role', ROLES);
      const hash = c.text(passwordHash, 'passwordHash', 1000);
      const createdAt = c.time(user.createdAt, 'createdAt');
      const taken = (by: string): BmsError =>
        new BmsError(
          'REQUEST_INVALID',
          `username ${JSON.stringify(name)} is taken (by ${JSON.stringify(by)}; names ignore letter case)`,
          { field: 'username' },
        );
      const existing = await row(o.orgId, name);
      if (existing) throw taken(existing.username);
      try {
        // The account joins its organisation (when that is one of ours: orgs.ts).
        const r = await db.tx(`cannot create user ${name}`, async (t) => {
          await t.query(LOCK_ORG, [o.orgId]);
          const rows = await t.query<UserRow>(
            `INSERT INTO users (id, org_id, gateway_id, username, role, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
            [newId(), o.orgId, o.gatewayId, name, role, hash, createdAt],
          );
          const u = rows.rows[0]!;
          await t.query(HOME_SQL.join, [u.id, o.orgId, role, orgRoleOf(role), createdAt]);
          return u;
        });
        return toUser(r);
      } catch (e) {
        // Made at the same moment by another connection.
        if (/users_org_name/.test((e as Error).message)) throw taken(name);
        throw e;
      }
    },

    async get(scope: Scope, name: string) {
      const { orgId } = c.orgScope(scope);
      if (typeof name !== 'string' || name.length === 0) return undefined;
      const r = await row(orgId, name);
      return r && { ...toUser(r), passwordHash: r.password_hash };
    },

    async list(scope: Scope): Promise<User[]> {
      const s = c.scope(scope);
      const rows = await db.query<UserRow>(
        'cannot read users',
        'SELECT * FROM users WHERE org_id = ANY($1::text[]) ORDER BY created_at, username',
        [s.orgIds],
      );
      return rows.map(toUser);
    },

    async count(scope: Scope): Promise<number> {
      const s = c.scope(scope);
      const rows = await db.query<{ n: number }>(
        'cannot count users',
        'SELECT count(*) AS n FROM users WHERE org_id = ANY($1::text[])',
        [s.orgIds],
      );
      return rows[0]!.n;
    },

    async setPassword(scope: Scope, name: string, passwordHash: string): Promise<void> {
      const { orgId } = c.orgScope(scope);
      const hash = c.text(passwordHash, 'passwordHash', 1000);
      await update(
        name,
        `cannot change the password of ${name}`,
        `UPDATE users SET password_hash = $1 WHERE org_id = $2 AND ${fold('username')} = ${fold('$3')} RETURNING 1`,
        [hash, orgId, name],
      );
    },

    async setRole(scope: Scope, name: string, role: Role): Promise<void> {
      const { orgId } = c.orgScope(scope);
      const r = c.oneOf(role, 'role', ROLES);
      c.text(name, 'username', 64);
      // The account's membership of its organisation follows (orgs.ts).
      const found = await db.tx(`cannot change the role of ${name}`, async (t) => {
        await t.query(LOCK_ORG, [orgId]);
        const u = (
          await t.query<{ id: string }>(
            `UPDATE users SET role = $1 WHERE org_id = $2 AND ${fold('username')} = ${fold('$3')} RETURNING id`,
            [r, orgId, name],
          )
        ).rows[0];
        if (!u) return false;
        await t.query(HOME_SQL.follow, [orgRoleOf(r), u.id, orgId, sameRank(r)]);
        await t.query(HOME_SQL.ensureManager, [orgId]);
        return true;
      });
      if (!found) throw notFound(name);
    },

    async delete(scope: Scope, name: string): Promise<void> {
      const { orgId } = c.orgScope(scope);
      // The tokens and memberships go with the user (ON DELETE CASCADE), in the same statement;
      // an organisation that lost its manager so gets its oldest administrator as the next.
      c.text(name, 'username', 64);
      const found = await db.tx(`cannot delete user ${name}`, async (t) => {
        await t.query(LOCK_ORG, [orgId]);
        const gone = await t.query(
          `DELETE FROM users WHERE org_id = $1 AND ${fold('username')} = ${fold('$2')} RETURNING 1`,
          [orgId, name],
        );
        if (gone.rows.length === 0) return false;
        await t.query(HOME_SQL.ensureManager, [orgId]);
        return true;
      });
      if (!found) throw notFound(name);
    },

    async createToken(scope: Scope, t: NewToken): Promise<void> {
      const { orgId } = c.orgScope(scope);
      if (typeof t !== 'object' || t === null) throw c.invalid('token', 'must be an object');
      const hash = c.text(t.hash, 'hash', 200);
      const kind = c.oneOf(t.kind, 'kind', KINDS);
      const label = c.optText(t.name, 'name', 200);
      const createdAt = c.time(t.createdAt, 'createdAt');
      const expiresAt = c.optTime(t.expiresAt, 'expiresAt');
      c.text(t.username, 'username', 64);
      const user = await row(orgId, t.username);
      if (!user) throw notFound(t.username);
      const rows = await db.query(
        'cannot store the token',
        `INSERT INTO tokens (hash, user_id, org_id, gateway_id, kind, name, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (hash) DO NOTHING RETURNING 1`,
        [hash, user.id, user.org_id, user.gateway_id, kind, label, createdAt, expiresAt],
      );
      if (rows.length === 0)
        throw new BmsError('REQUEST_INVALID', 'token hash is already stored', { field: 'hash' });
    },

    async findToken(hash: string, now: number = Date.now()): Promise<FoundToken | undefined> {
      if (typeof hash !== 'string' || hash.length === 0) return undefined;
      c.time(now, 'now');
      const rows = await db.query<{
        user_id: string;
        org_id: string;
        username: string;
        kind: FoundToken['kind'];
        expires_at: number | null;
      }>(
        'cannot read tokens',
        `SELECT t.user_id, u.org_id, u.username, t.kind, t.expires_at FROM tokens t
         JOIN users u ON u.id = t.user_id WHERE t.hash = $1 AND (t.expires_at IS NULL OR t.expires_at > $2)`,
        [hash, now],
      );
      const r = rows[0];
      if (!r) return undefined;
      const found: FoundToken = {
        userId: r.user_id,
        orgId: r.org_id,
        username: r.username,
        kind: r.kind,
      };
      if (r.expires_at !== null) found.expiresAt = r.expires_at;
      return found;
    },

    async deleteToken(hash: string): Promise<void> {
      if (typeof hash !== 'string') return;
      await db.query('cannot delete the token', 'DELETE FROM tokens WHERE hash = $1', [hash]);
    },

    async listTokens(scope: Scope, name: string): Promise<TokenInfo[]> {
      const { orgId } = c.orgScope(scope);
      if (typeof name !== 'string' || name.length === 0) return [];
      const u = await row(orgId, name);
      if (!u) return [];
      const rows = await db.query<{
        hash: string;
        kind: TokenInfo['kind'];
        name: string | null;
        created_at: number;
        expires_at: number | null;
      }>(
        'cannot read tokens',
        'SELECT hash, kind, name, created_at, expires_at FROM tokens WHERE user_id = $1 ORDER BY created_at, hash',
        [u.id],
      );
      return rows.map((r) => {
        const t: TokenInfo = {
          hash: r.hash,
          username: u.username,
          kind: r.kind,
          createdAt: r.created_at,
        };
        if (r.name !== null) t.name = r.name;
        if (r.expires_at !== null) t.expiresAt = r.expires_at;
        return t;
      });
    },

    async deleteUserTokens(scope: Scope, name: string, filter?: TokenFilter): Promise<string[]> {
      const { orgId } = c.orgScope(scope);
      const { kind, except } = c.tokenFilter(filter);
      if (typeof name !== 'string' || name.length === 0) return [];
      const u = await row(orgId, name);
      if (!u) return [];
      const rows = await db.query<{ hash: string }>(
        'cannot delete tokens',
        `DELETE FROM tokens WHERE user_id = $1 AND ($2::text IS NULL OR kind = $2)
           AND ($3::text IS NULL OR hash <> $3) RETURNING hash`,
        [u.id, kind, except],
      );
      return rows.map((r) => r.hash);
    },

    async purgeExpiredTokens(now: number): Promise<number> {
      c.time(now, 'now');
      const rows = await db.query(
        'cannot purge tokens',
        'DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= $1 RETURNING 1',
        [now],
      );
      return rows.length;
    },
  };
}
