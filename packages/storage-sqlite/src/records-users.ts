/**
 * Users and their tokens in SQLite. Passwords arrive hashed (the server uses scrypt); session
 * and API tokens are stored by the sha256 of their secret, never the secret itself. A user
 * belongs to one organisation, where the name is unique (ASCII case ignored); a token points
 * at its user's id.
 */
import { BmsError } from '@openbms/core';
import {
  newId,
  type FoundToken,
  type NewToken,
  type NewUser,
  type Origin,
  type Role,
  type Scope,
  type TokenFilter,
  type TokenInfo,
  type User,
} from '@openbms/storage';
import { storageError, type Db } from './db.js';
import { HOME_SQL, orgRoleOf, sameRank } from './records-orgs.js';
import {
  type Stmt,
  oneOf,
  optText,
  optTime,
  orgScope,
  origin as checkOrigin,
  scope as checkScope,
  text,
  time,
  tokenFilter,
  username,
} from './records-validate.js';

const ROLES = ['admin', 'operator', 'viewer'] as const;
const KINDS = ['session', 'api'] as const;
type Kind = (typeof KINDS)[number];

export type { TokenInfo };

interface UserRow {
  id: string;
  org_id: string;
  gateway_id: string;
  username: string;
  role: Role;
  password_hash: string;
  created_at: number;
}

interface TokenRow {
  hash: string;
  username: string;
  kind: Kind;
  name: string | null;
  created_at: number;
  expires_at: number | null;
}

const notFound = (name: string): BmsError =>
  new BmsError('NOT_FOUND', `no user named ${JSON.stringify(name)}`);

const toUser = (r: UserRow): User => ({
  id: r.id,
  orgId: r.org_id,
  gatewayId: r.gateway_id,
  username: r.username,
  role: r.role,
  createdAt: r.created_at,
});

const SQL = {
  insert:
    'INSERT INTO users (id, org_id, gateway_id, username, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
  get: 'SELECT * FROM users WHERE org_id = ? AND username = ?',
  list: 'SELECT * FROM users WHERE org_id IN (SELECT value FROM json_each(?)) ORDER BY created_at, username',
  setPassword: 'UPDATE users SET password_hash = ? WHERE org_id = ? AND username = ?',
  setRole: 'UPDATE users SET role = ? WHERE org_id = ? AND username = ?',
  delete: 'DELETE FROM users WHERE id = ?',
  deleteTokensOf: 'DELETE FROM tokens WHERE user_id = ?',
  // kind NULL: any kind; except NULL: keep none
  deleteUserTokens:
    'DELETE FROM tokens WHERE user_id = @user AND (@kind IS NULL OR kind = @kind) AND (@except IS NULL OR hash <> @except) RETURNING hash',
  count: 'SELECT COUNT(*) AS n FROM users WHERE org_id IN (SELECT value FROM json_each(?))',
  insertToken:
    'INSERT INTO tokens (hash, user_id, org_id, gateway_id, kind, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  hasToken: 'SELECT 1 FROM tokens WHERE hash = ?',
  findToken: `SELECT t.user_id AS userId, u.org_id AS orgId, u.username, t.kind, t.expires_at
    FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ? AND (t.expires_at IS NULL OR t.expires_at > ?)`,
  listTokens: `SELECT t.hash, u.username, t.kind, t.name, t.created_at, t.expires_at
    FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.user_id = ? ORDER BY t.created_at, t.hash`,
  deleteToken: 'DELETE FROM tokens WHERE hash = ?',
  purge: 'DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ?',
  ...HOME_SQL,
} as const;

export class SqliteUsers {
  private readonly s: { [K in keyof typeof SQL]: Stmt };

  constructor(private readonly db: Db) {
    try {
      const prepared: Partial<Record<keyof typeof SQL, Stmt>> = {};
      for (const [k, sql] of Object.entries(SQL)) prepared[k as keyof typeof SQL] = db.prepare(sql);
      this.s = prepared as { [K in keyof typeof SQL]: Stmt };
    } catch (e) {
      throw storageError(e, 'users are not available (were the records migrations applied?)');
    }
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw storageError(e, what);
    }
  }

  private row(orgId: string, name: string): UserRow | undefined {
    return this.run('cannot read users', () => this.s.get.get(orgId, name) as UserRow | undefined);
  }

  /** Duplicate names (ASCII case ignored) within the organisation are refused with REQUEST_INVALID. */
  create(origin: Origin, user: NewUser, passwordHash: string): User {
    const o = checkOrigin(origin);
    const name = username(user.username);
    const role = oneOf(user.role, 'role', ROLES);
    const hash = text(passwordHash, 'passwordHash', 1000);
    const createdAt = time(user.createdAt, 'createdAt');
    return this.run(`cannot create user ${name}`, () =>
      this.db.transaction(() => {
        const existing = this.s.get.get(o.orgId, name) as UserRow | undefined;
        if (existing) {
          throw new BmsError(
            'REQUEST_INVALID',
            `username ${JSON.stringify(name)} is taken (by ${JSON.stringify(existing.username)}; names ignore letter case)`,
            { field: 'username' },
          );
        }
        const [r] = this.s.insert.all(
          newId(),
          o.orgId,
          o.gatewayId,
          name,
          role,
          hash,
          createdAt,
        ) as UserRow[];
        this.s.join.run({
          userId: r!.id,
          orgId: o.orgId,
          local: role,
          mapped: orgRoleOf(role),
          createdAt,
        });
        return toUser(r!);
      })(),
    );
  }

  /** Looks the name up in the scope's organisation ignoring ASCII case; the stored spelling is returned. */
  get(scope: Scope, name: string): (User & { passwordHash: string }) | undefined {
    const { orgId } = orgScope(scope);
    if (typeof name !== 'string' || name.length === 0) return undefined;
    const r = this.row(orgId, name);
    return r && { ...toUser(r), passwordHash: r.password_hash };
  }

  /** Oldest first. */
  list(scope: Scope): User[] {
    const s = checkScope(scope);
    const rows = this.run(
      'cannot read users',
      () => this.s.list.all(JSON.stringify(s.orgIds)) as UserRow[],
    );
    return rows.map(toUser);
  }

  setPassword(scope: Scope, name: string, passwordHash: string): void {
    const { orgId } = orgScope(scope);
    const hash = text(passwordHash, 'passwordHash', 1000);
    this.update(
      name,
      `cannot change the password of ${name}`,
      () => this.s.setPassword.run(hash, orgId, name).changes,
    );
  }

  setRole(scope: Scope, name: string, role: Role): void {
    const { orgId } = orgScope(scope);
    const r = oneOf(role, 'role', ROLES);
    // The account's membership of its organisation follows (records-orgs.ts).
    this.update(name, `cannot change the role of ${name}`, () =>
      this.db.transaction(() => {
        const u = this.s.get.get(orgId, name) as UserRow | undefined;
        if (!u) return 0;
        this.s.setRole.run(r, orgId, name);
        this.s.follow.run({ mapped: orgRoleOf(r), userId: u.id, orgId, same: sameRank(r) });
        this.s.ensureManager.run({ orgId });
        return 1;
      })(),
    );
  }

  /** Deletes the user and every token of theirs. Unknown user: NOT_FOUND. */
  delete(scope: Scope, name: string): void {
    const { orgId } = orgScope(scope);
    this.update(name, `cannot delete user ${name}`, () =>
      this.db.transaction(() => {
        const u = this.s.get.get(orgId, name) as UserRow | undefined;
        if (!u) return 0;
        this.s.deleteTokensOf.run(u.id);
        const n = this.s.delete.run(u.id).changes;
        this.s.ensureManager.run({ orgId });
        return n;
      })(),
    );
  }

  private update(name: string, what: string, fn: () => number): void {
    text(name, 'username', 64);
    if (this.run(what, fn) === 0) throw notFound(name);
  }

  count(scope: Scope): number {
    const s = checkScope(scope);
    return this.run(
      'cannot count users',
      () => (this.s.count.get(JSON.stringify(s.orgIds)) as { n: number }).n,
    );
  }

  /** The user must exist in the scope's organisation (NOT_FOUND otherwise); a hash already stored is REQUEST_INVALID. */
  createToken(scope: Scope, t: NewToken): void {
    const { orgId } = orgScope(scope);
    const hash = text(t.hash, 'hash', 200);
    const kind = oneOf(t.kind, 'kind', KINDS);
    const label = optText(t.name, 'name', 200);
    const createdAt = time(t.createdAt, 'createdAt');
    const expiresAt = optTime(t.expiresAt, 'expiresAt');
    text(t.username, 'username', 64);
    this.run('cannot store the token', () =>
      this.db.transaction(() => {
        const user = this.s.get.get(orgId, t.username) as UserRow | undefined;
        if (!user) throw notFound(t.username);
        if (this.s.hasToken.get(hash) !== undefined) {
          throw new BmsError('REQUEST_INVALID', 'token hash is already stored', { field: 'hash' });
        }
        this.s.insertToken.run(
          hash,
          user.id,
          user.org_id,
          user.gateway_id,
          kind,
          label,
          createdAt,
          expiresAt,
        );
      })(),
    );
  }

  /**
   * The token's owner and kind, or undefined when unknown or expired (`expiresAt <= now`).
   * `now` (ms) defaults to the wall clock; pass the gateway's clock in tests.
   */
  findToken(hash: string, now: number = Date.now()): FoundToken | undefined {
    if (typeof hash !== 'string' || hash.length === 0) return undefined;
    time(now, 'now');
    const r = this.run(
      'cannot read tokens',
      () =>
        this.s.findToken.get(hash, now) as
          (Omit<FoundToken, 'expiresAt'> & { expires_at: number | null }) | undefined,
    );
    if (!r) return undefined;
    const found: FoundToken = {
      userId: r.userId,
      orgId: r.orgId,
      username: r.username,
      kind: r.kind,
    };
    if (r.expires_at !== null) found.expiresAt = r.expires_at;
    return found;
  }

  /** Deleting an unknown token is not an error (logout twice). */
  deleteToken(hash: string): void {
    if (typeof hash !== 'string') return;
    this.run('cannot delete the token', () => this.s.deleteToken.run(hash));
  }

  /** A user's tokens, expired ones included, oldest first (for "your API tokens" lists). */
  listTokens(scope: Scope, name: string): TokenInfo[] {
    const { orgId } = orgScope(scope);
    if (typeof name !== 'string' || name.length === 0) return [];
    const u = this.row(orgId, name);
    if (!u) return [];
    const rows = this.run('cannot read tokens', () => this.s.listTokens.all(u.id) as TokenRow[]);
    return rows.map((r) => {
      const t: TokenInfo = {
        hash: r.hash,
        username: r.username,
        kind: r.kind,
        createdAt: r.created_at,
      };
      if (r.name !== null) t.name = r.name;
      if (r.expires_at !== null) t.expiresAt = r.expires_at;
      return t;
    });
  }

  /** Deletes a user's tokens (of one kind, or all; sparing `except`); returns the hashes deleted. */
  deleteUserTokens(scope: Scope, name: string, filter?: TokenFilter): string[] {
    const { orgId } = orgScope(scope);
    const { kind, except } = tokenFilter(filter);
    if (typeof name !== 'string' || name.length === 0) return [];
    const u = this.row(orgId, name);
    if (!u) return [];
    const rows = this.run(
      'cannot delete tokens',
      () => this.s.deleteUserTokens.all({ kind, except, user: u.id }) as { hash: string }[],
    );
    return rows.map((r) => r.hash);
  }

  // ------------------------------------------------------------ beyond the UserStore port

  /** Deletes tokens expired at `now`; returns how many. */
  purgeExpiredTokens(now: number): number {
    time(now, 'now');
    return this.run('cannot purge tokens', () => this.s.purge.run(now).changes);
  }
}
