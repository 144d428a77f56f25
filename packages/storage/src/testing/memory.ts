/**
 * In-memory AlarmStore, AuditStore and UserStore: for tests of the alarm engine and the
 * server, and for runs that keep nothing. Same behaviour as the SQLite adapter (the shared
 * contract suites in `contract/records.ts` run against both), including the input checks,
 * the scopes and the ids (ULIDs, and per-gateway local numbers). Not exported from the port's
 * index (which stays free of implementations): tests reach it as `@openbms/storage/testing`.
 */
import { BmsError } from '@openbms/core';
import type {
  AlarmEvent,
  AlarmQuery,
  AlarmStore,
  AuditEntry,
  AuditQuery,
  AuditStore,
  FoundToken,
  NewAlarm,
  NewAuditEntry,
  NewToken,
  NewUser,
  Origin,
  RecordRef,
  Role,
  Scope,
  TokenFilter,
  TokenInfo,
  User,
  UserStore,
} from '../index.js';
import { idFactory } from '../ids.js';
import {
  gatewayScope,
  json as checkJson,
  oneOf,
  optInt as checkOptInt,
  orgScope,
  origin as checkOrigin,
  prose,
  recordRef,
  scope as checkScope,
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

const newestFirst = (a: { t: number; id: string }, b: { t: number; id: string }): number =>
  b.t - a.t || byText(b.id, a.id);

type CheckedScope = { orgIds: string[]; gatewayId: string | null };

const inScope = (r: { orgId: string; gatewayId: string }, s: CheckedScope): boolean =>
  s.orgIds.includes(r.orgId) && (s.gatewayId === null || r.gatewayId === s.gatewayId);

/** Local numbers per gateway: 1, 2, 3... never reused. */
class Counters {
  private readonly next = new Map<string, number>();
  take(gatewayId: string): number {
    const n = this.next.get(gatewayId) ?? 1;
    this.next.set(gatewayId, n + 1);
    return n;
  }
}

function findRef<T extends { id: string; localId: number; gatewayId: string }>(
  all: Iterable<T>,
  scope: unknown,
  ref: RecordRef,
  visible: (r: T, s: CheckedScope) => boolean,
): T | undefined {
  const r = recordRef(ref);
  const s = 'localId' in r ? gatewayScope(scope) : checkScope(scope);
  for (const e of all) {
    if (!visible(e, s)) continue;
    if ('id' in r ? e.id === r.id : e.localId === r.localId) return e;
  }
  return undefined;
}

// ---------------------------------------------------------------- alarms

const SEVERITIES = ['warning', 'protection', 'fault'] as const;
const ORIGINS = ['bms', 'rule', 'gateway'] as const;

export class MemoryAlarms implements AlarmStore {
  private readonly events = new Map<string, AlarmEvent>();
  private readonly ids = idFactory();
  private readonly local = new Counters();

  async raise(origin: Origin, e: NewAlarm): Promise<AlarmEvent> {
    const o = checkOrigin(origin);
    const ev: AlarmEvent = {
      id: '',
      localId: 0,
      orgId: o.orgId,
      gatewayId: o.gatewayId,
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
    ev.id = this.ids();
    ev.localId = this.local.take(o.gatewayId);
    this.events.set(ev.id, ev);
    return { ...ev };
  }

  async clear(scope: Scope, id: string, at: number): Promise<void> {
    const s = checkScope(scope);
    time(at, 'at');
    const ev = this.events.get(id);
    if (!ev || !inScope(ev, s)) throw new BmsError('NOT_FOUND', `no alarm event with id ${id}`);
    if (ev.clearedAt === undefined) ev.clearedAt = at;
  }

  async acknowledge(scope: Scope, id: string, by: string, at: number): Promise<boolean> {
    const s = checkScope(scope);
    text(by, 'by', 64);
    time(at, 'at');
    const ev = this.events.get(id);
    if (!ev || !inScope(ev, s) || ev.acknowledgedAt !== undefined) return false;
    ev.acknowledgedAt = at;
    ev.acknowledgedBy = by;
    return true;
  }

  async get(scope: Scope, ref: RecordRef): Promise<AlarmEvent | undefined> {
    const ev = findRef(this.events.values(), scope, ref, inScope);
    return ev && { ...ev };
  }

  async list(scope: Scope, q: AlarmQuery = {}): Promise<AlarmEvent[]> {
    const s = checkScope(scope);
    const pack = q.packId === undefined ? undefined : text(q.packId, 'packId');
    const from = q.from === undefined || q.from === null ? undefined : time(q.from, 'from');
    const to = q.to === undefined || q.to === null ? undefined : time(q.to, 'to');
    const limit = optInt(q.limit, 'limit');
    return [...this.events.values()]
      .filter(
        (e) =>
          inScope(e, s) &&
          (pack === undefined || e.packId === pack) &&
          (q.packPrefix === undefined || e.packId.startsWith(q.packPrefix)) &&
          (q.code === undefined || e.code === q.code) &&
          (q.notCodes === undefined || !q.notCodes.includes(e.code)) &&
          (q.active === undefined || (e.clearedAt === undefined) === q.active) &&
          (from === undefined || e.raisedAt >= from) &&
          (to === undefined || e.raisedAt <= to),
      )
      .sort((a, b) => newestFirst({ t: a.raisedAt, id: a.id }, { t: b.raisedAt, id: b.id }))
      .slice(0, limit)
      .map((e) => ({ ...e }));
  }

  async counts(scope: Scope, packId?: string): Promise<Record<string, number>> {
    const s = checkScope(scope);
    const pack = packId === undefined ? undefined : text(packId, 'packId');
    const n = new Map<string, number>();
    for (const e of this.events.values()) {
      if (!inScope(e, s) || (pack !== undefined && e.packId !== pack)) continue;
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
  private readonly ids = idFactory();
  private readonly local = new Counters();

  async append(origin: Origin, e: NewAuditEntry): Promise<AuditEntry> {
    const o = checkOrigin(origin);
    const s: StoredAudit = {
      id: '',
      localId: 0,
      orgId: o.orgId,
      gatewayId: o.gatewayId,
      at: time(e.at, 'at'),
      user: text(e.user, 'user', 64),
      action: text(e.action, 'action', 100),
      result: oneOf(e.result, 'result', ['ok', 'refused', 'failed'] as const),
    };
    if (e.userId !== undefined && e.userId !== null) s.userId = text(e.userId, 'userId', 64);
    if (e.packId !== undefined && e.packId !== null) s.packId = text(e.packId, 'packId');
    const old = json(e.old, 'old');
    const nu = json(e.new, 'new');
    if (old !== undefined) s.old = old;
    if (nu !== undefined) s.new = nu;
    if (e.detail !== undefined && e.detail !== null) s.detail = prose(e.detail, 'detail');
    s.id = this.ids();
    s.localId = this.local.take(o.gatewayId);
    this.entries.push(s);
    return toEntry(s);
  }

  async list(scope: Scope, q: AuditQuery = {}): Promise<AuditEntry[]> {
    const sc = checkScope(scope);
    const pack = q.packId === undefined ? undefined : text(q.packId, 'packId');
    const user = q.user === undefined ? undefined : text(q.user, 'user', 64);
    const limit = optInt(q.limit, 'limit');
    return this.entries
      .filter(
        (e) =>
          inScope(e, sc) &&
          (pack === undefined || e.packId === pack) &&
          (user === undefined || e.user === user),
      )
      .sort((a, b) => newestFirst({ t: a.at, id: a.id }, { t: b.at, id: b.id }))
      .slice(0, limit)
      .map(toEntry);
  }
}

function toEntry({ old, new: nu, ...rest }: StoredAudit): AuditEntry {
  const e: AuditEntry = { ...rest };
  if (old !== undefined) e.old = JSON.parse(old) as unknown;
  if (nu !== undefined) e.new = JSON.parse(nu) as unknown;
  return e;
}

// ---------------------------------------------------------------- users and tokens

const ROLES = ['admin', 'operator', 'viewer'] as const;
const KINDS = ['session', 'api'] as const;

type StoredUser = User & { passwordHash: string };
type StoredToken = TokenInfo & { userId: string; orgId: string };

const notFound = (name: string): BmsError =>
  new BmsError('NOT_FOUND', `no user named ${JSON.stringify(name)}`);

export class MemoryUsers implements UserStore {
  /** Keyed by organisation and the ASCII-folded name. */
  private readonly users = new Map<string, StoredUser>();
  private readonly tokens = new Map<string, StoredToken>();
  private readonly ids = idFactory();

  private key(orgId: string, name: string): string {
    return `${orgId}\u0000${fold(name)}`;
  }

  private find(orgId: string, name: unknown): StoredUser | undefined {
    return typeof name === 'string' ? this.users.get(this.key(orgId, name)) : undefined;
  }

  private must(scope: Scope, name: string): StoredUser {
    const { orgId } = orgScope(scope);
    text(name, 'username', 64);
    const u = this.find(orgId, name);
    if (!u) throw notFound(name);
    return u;
  }

  async create(origin: Origin, user: NewUser, passwordHash: string): Promise<User> {
    const o = checkOrigin(origin);
    const name = username(user.username);
    const u: StoredUser = {
      id: '',
      orgId: o.orgId,
      gatewayId: o.gatewayId,
      username: name,
      role: oneOf(user.role, 'role', ROLES),
      createdAt: time(user.createdAt, 'createdAt'),
      passwordHash: text(passwordHash, 'passwordHash'),
    };
    const existing = this.find(o.orgId, name);
    if (existing) {
      throw new BmsError(
        'REQUEST_INVALID',
        `username ${JSON.stringify(name)} is taken (by ${JSON.stringify(existing.username)}; names ignore letter case)`,
        { field: 'username' },
      );
    }
    u.id = this.ids();
    this.users.set(this.key(o.orgId, name), u);
    const { passwordHash: _hash, ...out } = u;
    return out;
  }

  async get(scope: Scope, name: string): Promise<StoredUser | undefined> {
    const { orgId } = orgScope(scope);
    const u = this.find(orgId, name);
    return u && { ...u };
  }

  async list(scope: Scope): Promise<User[]> {
    const s = checkScope(scope);
    return [...this.users.values()]
      .filter((u) => s.orgIds.includes(u.orgId))
      .sort((a, b) => a.createdAt - b.createdAt || byText(fold(a.username), fold(b.username)))
      .map(({ passwordHash: _hash, ...u }) => u);
  }

  async setPassword(scope: Scope, name: string, passwordHash: string): Promise<void> {
    const hash = text(passwordHash, 'passwordHash');
    this.must(scope, name).passwordHash = hash;
  }

  async setRole(scope: Scope, name: string, role: Role): Promise<void> {
    const r = oneOf(role, 'role', ROLES);
    this.must(scope, name).role = r;
  }

  async delete(scope: Scope, name: string): Promise<void> {
    const u = this.must(scope, name);
    for (const t of [...this.tokens.values()]) if (t.userId === u.id) this.tokens.delete(t.hash);
    this.users.delete(this.key(u.orgId, u.username));
  }

  async count(scope: Scope): Promise<number> {
    const s = checkScope(scope);
    return [...this.users.values()].filter((u) => s.orgIds.includes(u.orgId)).length;
  }

  async createToken(scope: Scope, t: NewToken): Promise<void> {
    const info: TokenInfo = {
      hash: text(t.hash, 'hash', 200),
      username: '',
      kind: oneOf(t.kind, 'kind', KINDS),
      createdAt: time(t.createdAt, 'createdAt'),
    };
    if (t.name !== undefined && t.name !== null) info.name = text(t.name, 'name', 200);
    if (t.expiresAt !== undefined && t.expiresAt !== null)
      info.expiresAt = time(t.expiresAt, 'expiresAt');
    const u = this.must(scope, t.username);
    info.username = u.username;
    if (this.tokens.has(info.hash))
      throw new BmsError('REQUEST_INVALID', 'token hash is already stored', { field: 'hash' });
    this.tokens.set(info.hash, { ...info, userId: u.id, orgId: u.orgId });
  }

  async findToken(hash: string, now: number = Date.now()): Promise<FoundToken | undefined> {
    if (typeof hash !== 'string' || hash.length === 0) return undefined;
    time(now, 'now');
    const t = this.tokens.get(hash);
    if (!t || (t.expiresAt !== undefined && t.expiresAt <= now)) return undefined;
    const found: FoundToken = {
      userId: t.userId,
      orgId: t.orgId,
      username: t.username,
      kind: t.kind,
    };
    if (t.expiresAt !== undefined) found.expiresAt = t.expiresAt;
    return found;
  }

  async deleteToken(hash: string): Promise<void> {
    if (typeof hash === 'string') this.tokens.delete(hash);
  }

  async listTokens(scope: Scope, name: string): Promise<TokenInfo[]> {
    const { orgId } = orgScope(scope);
    const u = this.find(orgId, name);
    if (!u) return [];
    return [...this.tokens.values()]
      .filter((t) => t.userId === u.id)
      .sort((a, b) => a.createdAt - b.createdAt || byText(a.hash, b.hash))
      .map(({ userId: _u, orgId: _o, ...t }) => ({ ...t }));
  }

  async deleteUserTokens(scope: Scope, name: string, filter?: TokenFilter): Promise<string[]> {
    const { kind, except } = tokenFilter(filter);
    const gone: string[] = [];
    for (const t of await this.listTokens(scope, name)) {
      if ((kind === null || t.kind === kind) && t.hash !== except && this.tokens.delete(t.hash))
        gone.push(t.hash);
    }
    return gone;
  }

  async purgeExpiredTokens(now: number): Promise<number> {
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

/** An identity for tests: fixed ids, so failures read the same every run. */
export const TEST_ORIGIN: Origin = {
  orgId: '01JD00000000000000000000RG',
  gatewayId: '01JD000000000000000000GW01',
};
