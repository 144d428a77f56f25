/**
 * In-memory AlarmStore, AuditStore and UserStore: for tests of the alarm engine and the
 * server, and for runs that keep nothing. Same behaviour as the SQLite adapter (the shared
 * contract suite in `contract/records.ts` runs against both), including the input checks.
 * Not exported from the port's index (which stays free of implementations): import it by
 * path.
 */
import { BmsError } from '@openbms/core';
import type {
  AlarmEvent,
  AlarmQuery,
  AlarmStore,
  AuditEntry,
  AuditStore,
  Role,
  TokenFilter,
  TokenInfo,
  User,
  UserStore,
} from '../index.js';
import {
  json as checkJson,
  oneOf,
  optInt as checkOptInt,
  prose,
  text,
  time,
  tokenFilter,
  username,
} from '../validate.js';

// ---------------------------------------------------------------- checks (as the SQLite adapter)

// The same checks as every adapter (validate.ts); absent values are undefined here.
const optInt = (value: unknown, field: string): number | undefined =>
  checkOptInt(value, field) ?? undefined;
const json = (value: unknown, field: string): string | undefined =>
  checkJson(value, field) ?? undefined;

/** SQLite's NOCASE: folds ASCII letters only. */
const fold = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const newestFirst = (a: { t: number; id: number }, b: { t: number; id: number }): number =>
  b.t - a.t || b.id - a.id;

// ---------------------------------------------------------------- alarms

const SEVERITIES = ['warning', 'protection', 'fault'] as const;
const ORIGINS = ['bms', 'rule', 'gateway'] as const;

export class MemoryAlarms implements AlarmStore {
  private readonly events = new Map<number, AlarmEvent>();
  private nextId = 1;

  raise(e: Omit<AlarmEvent, 'id' | 'clearedAt' | 'acknowledgedAt' | 'acknowledgedBy'>): number {
    const ev: AlarmEvent = {
      id: 0,
      packId: text(e.packId, 'packId'),
      code: text(e.code, 'code', 100),
      severity: oneOf(e.severity, 'severity', SEVERITIES),
      origin: oneOf(e.origin, 'origin', ORIGINS),
      raisedAt: time(e.raisedAt, 'raisedAt'),
      message: prose(e.message, 'message'),
    };
    const level = optInt(e.level, 'level');
    if (level !== undefined) ev.level = level;
    if (e.ruleId !== undefined && e.ruleId !== null) ev.ruleId = text(e.ruleId, 'ruleId');
    if (typeof e.value === 'number' && Number.isFinite(e.value)) ev.value = e.value;
    ev.id = this.nextId++;
    this.events.set(ev.id, ev);
    return ev.id;
  }

  clear(id: number, at: number): void {
    time(at, 'at');
    const ev = this.events.get(id);
    if (!ev) throw new BmsError('NOT_FOUND', `no alarm event with id ${id}`);
    if (ev.clearedAt === undefined) ev.clearedAt = at;
  }

  acknowledge(id: number, by: string, at: number): boolean {
    text(by, 'by', 64);
    time(at, 'at');
    const ev = this.events.get(id);
    if (!ev || ev.acknowledgedAt !== undefined) return false;
    ev.acknowledgedAt = at;
    ev.acknowledgedBy = by;
    return true;
  }

  list(q: AlarmQuery = {}): AlarmEvent[] {
    const pack = q.packId === undefined ? undefined : text(q.packId, 'packId');
    const from = q.from === undefined || q.from === null ? undefined : time(q.from, 'from');
    const to = q.to === undefined || q.to === null ? undefined : time(q.to, 'to');
    const limit = optInt(q.limit, 'limit');
    const out = [...this.events.values()]
      .filter(
        (e) =>
          (pack === undefined || e.packId === pack) &&
          (q.active === undefined || (e.clearedAt === undefined) === q.active) &&
          (from === undefined || e.raisedAt >= from) &&
          (to === undefined || e.raisedAt <= to),
      )
      .sort((a, b) => newestFirst({ t: a.raisedAt, id: a.id }, { t: b.raisedAt, id: b.id }))
      .slice(0, limit)
      .map((e) => ({ ...e }));
    return out;
  }

  counts(packId?: string): Record<string, number> {
    const pack = packId === undefined ? undefined : text(packId, 'packId');
    const n = new Map<string, number>();
    for (const e of this.events.values()) {
      if (pack !== undefined && e.packId !== pack) continue;
      if ((e.level ?? 0) >= 2 || e.severity === 'protection' || e.severity === 'fault') {
        n.set(e.code, (n.get(e.code) ?? 0) + 1);
      }
    }
    return Object.fromEntries([...n].sort(([a], [b]) => byText(a, b)));
  }
}

// ---------------------------------------------------------------- audit

interface StoredAudit extends Omit<AuditEntry, 'old' | 'new'> {
  old?: string;
  new?: string;
}

export class MemoryAudit implements AuditStore {
  private readonly entries: StoredAudit[] = [];

  append(e: Omit<AuditEntry, 'id'>): number {
    const s: StoredAudit = {
      id: this.entries.length + 1,
      at: time(e.at, 'at'),
      user: text(e.user, 'user', 64),
      action: text(e.action, 'action', 100),
      result: oneOf(e.result, 'result', ['ok', 'refused', 'failed'] as const),
    };
    if (e.packId !== undefined && e.packId !== null) s.packId = text(e.packId, 'packId');
    const old = json(e.old, 'old');
    const nu = json(e.new, 'new');
    if (old !== undefined) s.old = old;
    if (nu !== undefined) s.new = nu;
    if (e.detail !== undefined && e.detail !== null) s.detail = prose(e.detail, 'detail');
    this.entries.push(s);
    return s.id;
  }

  list(q: { packId?: string; user?: string; limit?: number } = {}): AuditEntry[] {
    const pack = q.packId === undefined ? undefined : text(q.packId, 'packId');
    const user = q.user === undefined ? undefined : text(q.user, 'user', 64);
    const limit = optInt(q.limit, 'limit');
    return this.entries
      .filter(
        (e) => (pack === undefined || e.packId === pack) && (user === undefined || e.user === user),
      )
      .sort((a, b) => newestFirst({ t: a.at, id: a.id }, { t: b.at, id: b.id }))
      .slice(0, limit)
      .map(({ old, new: nu, ...rest }) => {
        const e: AuditEntry = { ...rest };
        if (old !== undefined) e.old = JSON.parse(old) as unknown;
        if (nu !== undefined) e.new = JSON.parse(nu) as unknown;
        return e;
      });
  }
}

// ---------------------------------------------------------------- users and tokens

const ROLES = ['admin', 'operator', 'viewer'] as const;
const KINDS = ['session', 'api'] as const;
type Kind = (typeof KINDS)[number];

const notFound = (name: string): BmsError =>
  new BmsError('NOT_FOUND', `no user named ${JSON.stringify(name)}`);

export class MemoryUsers implements UserStore {
  /** Keyed by the ASCII-folded name. */
  private readonly users = new Map<string, User & { passwordHash: string }>();
  private readonly tokens = new Map<string, TokenInfo>();

  private find(name: unknown): (User & { passwordHash: string }) | undefined {
    return typeof name === 'string' ? this.users.get(fold(name)) : undefined;
  }

  private must(name: string): User & { passwordHash: string } {
    text(name, 'username', 64);
    const u = this.find(name);
    if (!u) throw notFound(name);
    return u;
  }

  create(user: User, passwordHash: string): void {
    const name = username(user.username);
    const u = {
      username: name,
      role: oneOf(user.role, 'role', ROLES),
      createdAt: time(user.createdAt, 'createdAt'),
      passwordHash: text(passwordHash, 'passwordHash'),
    };
    const existing = this.find(name);
    if (existing) {
      throw new BmsError(
        'REQUEST_INVALID',
        `username ${JSON.stringify(name)} is taken (by ${JSON.stringify(existing.username)}; names ignore letter case)`,
        {
          field: 'username',
        },
      );
    }
    this.users.set(fold(name), u);
  }

  get(name: string): (User & { passwordHash: string }) | undefined {
    const u = this.find(name);
    return u && { ...u };
  }

  list(): User[] {
    return [...this.users.values()]
      .sort((a, b) => a.createdAt - b.createdAt || byText(fold(a.username), fold(b.username)))
      .map(({ username: n, role, createdAt }) => ({ username: n, role, createdAt }));
  }

  setPassword(name: string, passwordHash: string): void {
    const hash = text(passwordHash, 'passwordHash');
    this.must(name).passwordHash = hash;
  }

  setRole(name: string, role: Role): void {
    const r = oneOf(role, 'role', ROLES);
    this.must(name).role = r;
  }

  delete(name: string): void {
    const u = this.must(name);
    this.deleteUserTokens(u.username);
    this.users.delete(fold(u.username));
  }

  count(): number {
    return this.users.size;
  }

  createToken(t: {
    hash: string;
    username: string;
    kind: Kind;
    name?: string;
    createdAt: number;
    expiresAt?: number;
  }): void {
    const info: TokenInfo = {
      hash: text(t.hash, 'hash', 200),
      username: '',
      kind: oneOf(t.kind, 'kind', KINDS),
      createdAt: time(t.createdAt, 'createdAt'),
    };
    if (t.name !== undefined && t.name !== null) info.name = text(t.name, 'name', 200);
    if (t.expiresAt !== undefined && t.expiresAt !== null)
      info.expiresAt = time(t.expiresAt, 'expiresAt');
    info.username = this.must(t.username).username;
    if (this.tokens.has(info.hash))
      throw new BmsError('REQUEST_INVALID', 'token hash is already stored', { field: 'hash' });
    this.tokens.set(info.hash, info);
  }

  findToken(
    hash: string,
    now: number = Date.now(),
  ): { username: string; kind: Kind; expiresAt?: number } | undefined {
    if (typeof hash !== 'string' || hash.length === 0) return undefined;
    time(now, 'now');
    const t = this.tokens.get(hash);
    if (!t || (t.expiresAt !== undefined && t.expiresAt <= now)) return undefined;
    return t.expiresAt === undefined
      ? { username: t.username, kind: t.kind }
      : { username: t.username, kind: t.kind, expiresAt: t.expiresAt };
  }

  deleteToken(hash: string): void {
    if (typeof hash === 'string') this.tokens.delete(hash);
  }

  listTokens(name: string): TokenInfo[] {
    const key = typeof name === 'string' ? fold(name) : undefined;
    return [...this.tokens.values()]
      .filter((t) => fold(t.username) === key)
      .sort((a, b) => a.createdAt - b.createdAt || byText(a.hash, b.hash))
      .map((t) => ({ ...t }));
  }

  deleteUserTokens(name: string, filter?: TokenFilter): string[] {
    const { kind, except } = tokenFilter(filter);
    const gone: string[] = [];
    for (const t of this.listTokens(name)) {
      if ((kind === null || t.kind === kind) && t.hash !== except && this.tokens.delete(t.hash))
        gone.push(t.hash);
    }
    return gone;
  }

  purgeExpiredTokens(now: number): number {
    time(now, 'now');
    let n = 0;
    for (const t of [...this.tokens.values()]) {
      if (t.expiresAt !== undefined && t.expiresAt <= now) n += this.tokens.delete(t.hash) ? 1 : 0;
    }
    return n;
  }
}

/** Fresh, empty in-memory records stores. */
export function memoryStorage(): { alarms: MemoryAlarms; audit: MemoryAudit; users: MemoryUsers } {
  return { alarms: new MemoryAlarms(), audit: new MemoryAudit(), users: new MemoryUsers() };
}
