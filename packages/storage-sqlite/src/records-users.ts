/**
 * Users and their tokens in SQLite. Passwords arrive hashed (the server uses scrypt); session
 * and API tokens are stored by the sha256 of their secret, never the secret itself.
 */
import { BmsError } from '@openbms/core';
import type { Role, TokenFilter, TokenInfo, User, UserStore } from '@openbms/storage';
import { storageError, type Db } from './db.js';
import {
  type Stmt,
  oneOf,
  optText,
  optTime,
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

const SQL = {
  insert: 'INSERT INTO users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?)',
  get: 'SELECT * FROM users WHERE username = ?',
  list: 'SELECT * FROM users ORDER BY created_at, username',
  setPassword: 'UPDATE users SET password_hash = ? WHERE username = ?',
  setRole: 'UPDATE users SET role = ? WHERE username = ?',
  delete: 'DELETE FROM users WHERE username = ?',
  deleteTokensOf: 'DELETE FROM tokens WHERE username = ?',
  // kind NULL: any kind; except NULL: keep none
  deleteUserTokens:
    'DELETE FROM tokens WHERE username = @username AND (@kind IS NULL OR kind = @kind) AND (@except IS NULL OR hash <> @except) RETURNING hash',
  count: 'SELECT COUNT(*) AS n FROM users',
  insertToken:
    'INSERT INTO tokens (hash, username, kind, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
  hasToken: 'SELECT 1 FROM tokens WHERE hash = ?',
  findToken:
    'SELECT username, kind, expires_at FROM tokens WHERE hash = ? AND (expires_at IS NULL OR expires_at > ?)',
  listTokens: 'SELECT * FROM tokens WHERE username = ? ORDER BY created_at, hash',
  deleteToken: 'DELETE FROM tokens WHERE hash = ?',
  purge: 'DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ?',
} as const;

export class SqliteUsers implements UserStore {
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

  /** Duplicate names (ASCII case ignored) are refused with REQUEST_INVALID. */
  create(user: User, passwordHash: string): void {
    const name = username(user.username);
    const role = oneOf(user.role, 'role', ROLES);
    const hash = text(passwordHash, 'passwordHash', 1000);
    const createdAt = time(user.createdAt, 'createdAt');
    this.run(`cannot create user ${name}`, () =>
      this.db.transaction(() => {
        const existing = this.s.get.get(name) as UserRow | undefined;
        if (existing) {
          throw new BmsError(
            'REQUEST_INVALID',
            `username ${JSON.stringify(name)} is taken (by ${JSON.stringify(existing.username)}; names ignore letter case)`,
            {
              field: 'username',
            },
          );
        }
        this.s.insert.run(name, role, hash, createdAt);
      })(),
    );
  }

  /** Looks the name up ignoring ASCII case; the stored spelling is returned. */
  get(name: string): (User & { passwordHash: string }) | undefined {
    if (typeof name !== 'string' || name.length === 0) return undefined;
    const r = this.run('cannot read users', () => this.s.get.get(name) as UserRow | undefined);
    return (
      r && {
        username: r.username,
        role: r.role,
        createdAt: r.created_at,
        passwordHash: r.password_hash,
      }
    );
  }

  /** Oldest first. */
  list(): User[] {
    const rows = this.run('cannot read users', () => this.s.list.all() as UserRow[]);
    return rows.map((r) => ({ username: r.username, role: r.role, createdAt: r.created_at }));
  }

  setPassword(name: string, passwordHash: string): void {
    const hash = text(passwordHash, 'passwordHash', 1000);
    this.update(
      name,
      `cannot change the password of ${name}`,
      () => this.s.setPassword.run(hash, name).changes,
    );
  }

  setRole(name: string, role: Role): void {
    const r = oneOf(role, 'role', ROLES);
    this.update(
      name,
      `cannot change the role of ${name}`,
      () => this.s.setRole.run(r, name).changes,
    );
  }

  /** Deletes the user and every token of theirs. Unknown user: NOT_FOUND. */
  delete(name: string): void {
    this.update(name, `cannot delete user ${name}`, () =>
      this.db.transaction(() => {
        this.s.deleteTokensOf.run(name);
        return this.s.delete.run(name).changes;
      })(),
    );
  }

  private update(name: string, what: string, fn: () => number): void {
    text(name, 'username', 64);
    if (this.run(what, fn) === 0) throw notFound(name);
  }

  count(): number {
    return this.run('cannot count users', () => (this.s.count.get() as { n: number }).n);
  }

  /** The user must exist (NOT_FOUND otherwise); a hash already stored is REQUEST_INVALID. */
  createToken(t: {
    hash: string;
    username: string;
    kind: Kind;
    name?: string;
    createdAt: number;
    expiresAt?: number;
  }): void {
    const hash = text(t.hash, 'hash', 200);
    const kind = oneOf(t.kind, 'kind', KINDS);
    const label = optText(t.name, 'name', 200);
    const createdAt = time(t.createdAt, 'createdAt');
    const expiresAt = optTime(t.expiresAt, 'expiresAt');
    text(t.username, 'username', 64);
    this.run('cannot store the token', () =>
      this.db.transaction(() => {
        const user = this.s.get.get(t.username) as UserRow | undefined;
        if (!user) throw notFound(t.username);
        if (this.s.hasToken.get(hash) !== undefined) {
          throw new BmsError('REQUEST_INVALID', 'token hash is already stored', { field: 'hash' });
        }
        this.s.insertToken.run(hash, user.username, kind, label, createdAt, expiresAt);
      })(),
    );
  }

  /**
   * The token's owner and kind, or undefined when unknown or expired (`expiresAt <= now`).
   * `now` (ms) defaults to the wall clock; pass the gateway's clock in tests.
   */
  findToken(
    hash: string,
    now: number = Date.now(),
  ): { username: string; kind: Kind; expiresAt?: number } | undefined {
    if (typeof hash !== 'string' || hash.length === 0) return undefined;
    time(now, 'now');
    const r = this.run(
      'cannot read tokens',
      () =>
        this.s.findToken.get(hash, now) as
          Pick<TokenRow, 'username' | 'kind' | 'expires_at'> | undefined,
    );
    if (!r) return undefined;
    return r.expires_at === null
      ? { username: r.username, kind: r.kind }
      : { username: r.username, kind: r.kind, expiresAt: r.expires_at };
  }

  /** Deleting an unknown token is not an error (logout twice). */
  deleteToken(hash: string): void {
    if (typeof hash !== 'string') return;
    this.run('cannot delete the token', () => this.s.deleteToken.run(hash));
  }

  /** A user's tokens, expired ones included, oldest first (for "your API tokens" lists). */
  listTokens(name: string): TokenInfo[] {
    const rows = this.run('cannot read tokens', () => this.s.listTokens.all(name) as TokenRow[]);
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
  deleteUserTokens(name: string, filter?: TokenFilter): string[] {
    const { kind, except } = tokenFilter(filter);
    if (typeof name !== 'string') return [];
    const rows = this.run(
      'cannot delete tokens',
      () => this.s.deleteUserTokens.all({ kind, except, username: name }) as { hash: string }[],
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
