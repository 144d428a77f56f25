/**
 * Records kept in memory while the database cannot take them (disk full, file set aside):
 * alarm events (raise, clear, acknowledge), audit entries, login sessions and their logout.
 * They are written in the order they happened as soon as a write succeeds again. Reads merge
 * them in, so the alarm history, the audit log and the session check see them meanwhile.
 *
 * The ids of alarm events and audit entries are handed out here, not by SQLite: an event
 * raised while the disk is full gets its final ids at once (its ULID and its gateway's local
 * number), so the engine, the WebSocket clients and the later history all name it alike.
 * Local numbers continue from the highest in the file and from the counter kept in `meta`, so
 * a fresh file that replaces a damaged one never gives out a number again. The active events
 * are remembered, so a fresh database gets them back under the same ids.
 *
 * At most MAX_DEFERRED operations wait; beyond that the caller gets the storage error, as
 * without this layer (the alarm engine then retries at its next event, the audit failure is
 * logged, a login is refused). Memory sessions are never written to disk in the clear: the
 * token hash is what is stored, as always.
 */
import { BmsError } from '@openbms/core';
import {
  idFactory,
  recordChecks,
  type AlarmEvent,
  type AlarmQuery,
  type AuditEntry,
  type AuditQuery,
  type NewAlarm,
  type NewAuditEntry,
  type Origin,
  type Scope,
} from '@openbms/storage';
import type { Db } from './db.js';
import { metaNumber, setMetaNumber } from './identity.js';
import type { SqliteAlarms } from './records-alarms.js';
import type { SqliteAudit } from './records-audit.js';
import type { SqliteUsers } from './records-users.js';
import type { SqliteOrgs } from './records-orgs.js';

export const MAX_DEFERRED = 10_000;

export interface SessionToken {
  hash: string;
  userId: string;
  orgId: string;
  username: string;
  kind: 'session';
  name?: string;
  createdAt: number;
  expiresAt?: number;
}

type Op =
  | { kind: 'raise'; ev: AlarmEvent }
  | { kind: 'clear'; id: string; at: number }
  | { kind: 'ack'; id: string; by: string; at: number }
  | { kind: 'audit'; entry: AuditEntry }
  | { kind: 'session'; token: SessionToken }
  | { kind: 'logout'; hash: string };

/** The stores of the current connection, as the facade holds them. */
export interface RecordStores {
  db: Db;
  alarms: SqliteAlarms;
  audit: SqliteAudit;
  users: SqliteUsers;
  orgs: SqliteOrgs;
}

/** Storage errors that go away by themselves or by the operator freeing space: worth waiting for. */
const WAIT_FOR = new Set(['STORAGE_FULL', 'STORAGE_READ_ONLY', 'STORAGE_CORRUPT']);

const copy = (e: AlarmEvent): AlarmEvent => ({ ...e });

/** The scope of one record's own gateway: what writing it back needs. */
const own = (r: { orgId: string; gatewayId: string }): Scope => ({
  orgIds: [r.orgId],
  gatewayId: r.gatewayId,
});

type Checked = {
  orgIds: string[];
  roots: string[] | null;
  gatewayId: string | null;
  gatewayIds: string[] | null;
};

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The alarm event an operation is about, if any. */
function alarmIdOf(op: Op): string | undefined {
  if (op.kind === 'raise') return op.ev.id;
  if (op.kind === 'clear' || op.kind === 'ack') return op.id;
  return undefined;
}

/** `meta` keys of the local-number counters of a gateway. */
const SEQ = {
  alarms: (gw: string) => `seq:alarm_events:${gw}`,
  audit: (gw: string) => `seq:audit_log:${gw}`,
};

export class DeferredRecords {
  private queue: Op[] = [];
  /** Alarm events with a queued operation, in their current state (for reads). */
  private readonly alarmsWaiting = new Map<string, AlarmEvent>();
  /** Every event not cleared, stored or not (re-inserted into a fresh database). */
  private readonly active = new Map<string, AlarmEvent>();
  private readonly auditWaiting: AuditEntry[] = [];
  private readonly sessions = new Map<string, SessionToken>();
  private readonly loggedOut = new Set<string>();
  private readonly ids = idFactory();
  /** Next local numbers per gateway; a gateway not seen yet is read from the file first. */
  private readonly nextAlarm = new Map<string, number>();
  private readonly nextAudit = new Map<string, number>();
  private stores: RecordStores | undefined;
  /** Operations the database refused for good (e.g. an id taken meanwhile), counted. */
  lost = 0;
  /** Why the last operation had to wait (taken by the facade to mark the disk full...). */
  private lastError: BmsError | undefined;

  /** `classify` turns a failure into the storage error the facade sees (a full disk behind an I/O error...). */
  /** The organisations of a scope's subtrees, per checked scope (one query's). */
  private readonly subtrees = new WeakMap<Checked, ReadonlySet<string>>();

  /**
   * @param subtree the organisations under some roots, from the file's closure table; for the
   *   waiting records alone (the stored ones are filtered in SQL). Empty when it cannot be read.
   */
  constructor(
    private readonly classify: (e: unknown) => BmsError,
    private readonly subtree: (roots: readonly string[]) => ReadonlySet<string> = () => new Set(),
  ) {}

  private inScope(r: { orgId: string; gatewayId: string }, s: Checked): boolean {
    let org = s.orgIds.includes(r.orgId);
    if (!org && s.roots !== null) {
      let under = this.subtrees.get(s);
      if (!under) this.subtrees.set(s, (under = this.subtree(s.roots)));
      org = under.has(r.orgId);
    }
    return (
      org &&
      (s.gatewayId === null || r.gatewayId === s.gatewayId) &&
      (s.gatewayIds === null || s.gatewayIds.includes(r.gatewayId))
    );
  }

  private retryable(e: unknown): boolean {
    return WAIT_FOR.has(this.classify(e).code);
  }

  /** The error that made the last operation wait, once. */
  takeError(): BmsError | undefined {
    const e = this.lastError;
    this.lastError = undefined;
    return e;
  }

  get size(): number {
    return this.queue.length;
  }

  /** The highest local number of a table's gateway in the file (and its counter in meta). */
  private stored(s: RecordStores, table: 'alarm_events' | 'audit_log', gw: string): number {
    try {
      const row = s.db
        .prepare(`SELECT coalesce(max(local_id), 0) AS n FROM ${table} WHERE gateway_id = ?`)
        .get(gw) as { n: number };
      const key = table === 'alarm_events' ? SEQ.alarms(gw) : SEQ.audit(gw);
      return Math.max(row.n, metaNumber(s.db, key));
    } catch {
      return 0;
    }
  }

  private take(kind: 'alarms' | 'audit', gw: string): number {
    const next = kind === 'alarms' ? this.nextAlarm : this.nextAudit;
    let n = next.get(gw);
    if (n === undefined) {
      const table = kind === 'alarms' ? 'alarm_events' : 'audit_log';
      n = (this.stores ? this.stored(this.stores, table, gw) : 0) + 1;
    }
    next.set(gw, n + 1);
    return n;
  }

  /** Takes the counters and the active events of a newly opened database. */
  adopt(s: RecordStores, identity: Origin): void {
    this.stores = s;
    for (const [map, table] of [
      [this.nextAlarm, 'alarm_events'],
      [this.nextAudit, 'audit_log'],
    ] as const) {
      for (const gw of new Set([...map.keys(), identity.gatewayId])) {
        map.set(gw, Math.max(map.get(gw) ?? 1, this.stored(s, table, gw) + 1));
      }
    }
    for (const ev of s.alarms.list(own(identity), { active: true })) {
      if (!this.active.has(ev.id)) this.active.set(ev.id, ev);
    }
  }

  /**
   * A fresh database replaced a damaged one: its local numbers continue after the old ones
   * (counters written to its meta), and the active events are written into it again (with
   * their acknowledgement).
   */
  carryOver(s: RecordStores): void {
    this.stores = s;
    try {
      for (const [gw, n] of this.nextAlarm) setMetaNumber(s.db, SEQ.alarms(gw), n - 1);
      for (const [gw, n] of this.nextAudit) setMetaNumber(s.db, SEQ.audit(gw), n - 1);
    } catch {
      // No room for the counters: the numbers are kept here while the process runs.
    }
    const unstored = new Set(this.queue.flatMap((op) => (op.kind === 'raise' ? [op.ev.id] : [])));
    // Clear/ack operations of events stored in the old file are moot (the active ones are
    // raised again below, in their current state); events never stored keep their queue.
    this.queue = this.queue.filter((op) => {
      const id = alarmIdOf(op);
      return id === undefined || unstored.has(id);
    });
    const again: Op[] = [];
    for (const ev of this.active.values()) {
      if (unstored.has(ev.id)) continue;
      again.push({ kind: 'raise', ev: copy(ev) });
      this.alarmsWaiting.set(ev.id, copy(ev));
    }
    for (const id of [...this.alarmsWaiting.keys()]) {
      if (!unstored.has(id) && !this.active.has(id)) this.alarmsWaiting.delete(id);
    }
    this.queue = [...again, ...this.queue];
  }

  // ------------------------------------------------------------------ alarms

  raise(s: RecordStores | undefined, origin: Origin, e: NewAlarm): AlarmEvent {
    const o = recordChecks.origin(origin);
    checkAlarm(e);
    const ids = { id: this.ids(), localId: this.take('alarms', o.gatewayId) };
    if (s) {
      try {
        const ev = s.alarms.raise(o, e, ids);
        this.active.set(ev.id, copy(ev));
        return ev;
      } catch (err) {
        if (!this.retryable(err)) throw err;
        const ev = eventOf(o, e, ids);
        this.enqueue(err, { kind: 'raise', ev: copy(ev) });
        return this.waiting(ev);
      }
    }
    const ev = eventOf(o, e, ids);
    this.enqueue(this.standbyError(), { kind: 'raise', ev: copy(ev) });
    return this.waiting(ev);
  }

  private waiting(ev: AlarmEvent): AlarmEvent {
    this.alarmsWaiting.set(ev.id, copy(ev));
    this.active.set(ev.id, copy(ev));
    return ev;
  }

  /** An event this layer knows (waiting, or active) and the scope may see. */
  private known(scope: Checked, id: string): AlarmEvent | undefined {
    const e = this.active.get(id) ?? this.alarmsWaiting.get(id);
    return e && this.inScope(e, scope) ? e : undefined;
  }

  clear(s: RecordStores | undefined, scope: Scope, id: string, at: number): void {
    const sc = recordChecks.scope(scope);
    recordChecks.time(at, 'at');
    const known = this.known(sc, id);
    if (s && !this.alarmsWaiting.has(id)) {
      try {
        s.alarms.clear(scope, id, at);
        this.active.delete(id);
        return;
      } catch (err) {
        if (!this.retryable(err) || !known) throw err;
        this.enqueue(err, { kind: 'clear', id, at });
      }
    } else {
      if (!known) {
        throw s ? new BmsError('NOT_FOUND', `no alarm event with id ${id}`) : this.standbyError();
      }
      this.enqueue(this.standbyError(), { kind: 'clear', id, at });
    }
    const w = this.alarmsWaiting.get(id) ?? copy(known);
    w.clearedAt ??= at;
    this.alarmsWaiting.set(id, w);
    this.active.delete(id);
  }

  acknowledge(
    s: RecordStores | undefined,
    scope: Scope,
    id: string,
    by: string,
    at: number,
  ): boolean {
    const sc = recordChecks.scope(scope);
    recordChecks.text(by, 'by', 64);
    recordChecks.time(at, 'at');
    const waiting = this.alarmsWaiting.get(id);
    if (waiting && !this.inScope(waiting, sc)) return false;
    if (s && !waiting) {
      try {
        const ok = s.alarms.acknowledge(scope, id, by, at);
        const a = this.active.get(id);
        if (ok && a) Object.assign(a, { acknowledgedAt: at, acknowledgedBy: by });
        return ok;
      } catch (err) {
        const a = this.known(sc, id);
        if (!this.retryable(err) || !a) throw err;
        if (a.acknowledgedAt !== undefined) return false;
        this.enqueue(err, { kind: 'ack', id, by, at });
        this.alarmsWaiting.set(id, { ...a, acknowledgedAt: at, acknowledgedBy: by });
        Object.assign(a, { acknowledgedAt: at, acknowledgedBy: by });
        return true;
      }
    }
    if (!waiting) throw this.standbyError();
    if (waiting.acknowledgedAt !== undefined) return false;
    this.enqueue(this.standbyError(), { kind: 'ack', id, by, at });
    Object.assign(waiting, { acknowledgedAt: at, acknowledgedBy: by });
    const a = this.active.get(id);
    if (a) Object.assign(a, { acknowledgedAt: at, acknowledgedBy: by });
    return true;
  }

  /** A waiting event found by id or local number, as the store's `get` would. */
  waitingEvent(scope: Scope, ref: { id: string } | { localId: number }): AlarmEvent | undefined {
    const sc = recordChecks.scope(scope);
    for (const e of this.alarmsWaiting.values()) {
      if (!this.inScope(e, sc)) continue;
      if ('id' in ref ? e.id === ref.id : e.localId === ref.localId) return copy(e);
    }
    return undefined;
  }

  /** Stored events with the waiting ones laid over them, filtered and ordered as the store does. */
  mergeAlarms(stored: AlarmEvent[], scope: Scope, q: AlarmQuery): AlarmEvent[] {
    if (this.alarmsWaiting.size === 0) return stored;
    const sc = recordChecks.scope(scope);
    const all = new Map(stored.map((e) => [e.id, e]));
    for (const [id, e] of this.alarmsWaiting) all.set(id, copy(e));
    return [...all.values()]
      .filter(
        (e) =>
          this.inScope(e, sc) &&
          (q.packId === undefined || e.packId === q.packId) &&
          (q.active === undefined || (e.clearedAt === undefined) === q.active) &&
          (q.from === undefined || e.raisedAt >= q.from) &&
          (q.to === undefined || e.raisedAt <= q.to),
      )
      .sort((a, b) => b.raisedAt - a.raisedAt || byId(b.id, a.id))
      .slice(0, q.limit ?? Infinity);
  }

  /** Protection counts including the waiting events (same rule as the store's). */
  mergeCounts(
    stored: Record<string, number>,
    scope: Scope,
    packId?: string,
  ): Record<string, number> {
    const sc = recordChecks.scope(scope);
    const out = { ...stored };
    for (const [id, e] of this.alarmsWaiting) {
      if (!this.queue.some((op) => op.kind === 'raise' && op.ev.id === id)) continue;
      if (!this.inScope(e, sc) || (packId !== undefined && e.packId !== packId)) continue;
      if (!((e.level ?? 0) >= 2 || e.severity !== 'warning')) continue;
      out[e.code] = (out[e.code] ?? 0) + 1;
    }
    return out;
  }

  // ------------------------------------------------------------------ audit

  append(s: RecordStores | undefined, origin: Origin, e: NewAuditEntry): AuditEntry {
    const o = recordChecks.origin(origin);
    checkAudit(e);
    const ids = { id: this.ids(), localId: this.take('audit', o.gatewayId) };
    if (s) {
      try {
        return s.audit.append(o, e, ids);
      } catch (err) {
        if (!this.retryable(err)) throw err;
        return this.queueAudit(err, o, e, ids);
      }
    }
    return this.queueAudit(this.standbyError(), o, e, ids);
  }

  private queueAudit(
    err: unknown,
    o: Origin,
    e: NewAuditEntry,
    ids: { id: string; localId: number },
  ): AuditEntry {
    const entry: AuditEntry = {
      ...stripUndefined(e),
      ...ids,
      orgId: o.orgId,
      gatewayId: o.gatewayId,
    };
    this.enqueue(err, { kind: 'audit', entry });
    this.auditWaiting.push(entry);
    return { ...entry };
  }

  mergeAudit(stored: AuditEntry[], scope: Scope, q: AuditQuery): AuditEntry[] {
    if (this.auditWaiting.length === 0) return stored;
    const sc = recordChecks.scope(scope);
    return [...stored, ...this.auditWaiting.map((e) => ({ ...e }))]
      .filter(
        (e) =>
          this.inScope(e, sc) &&
          (q.packId === undefined || e.packId === q.packId) &&
          (q.user === undefined || e.user === q.user),
      )
      .sort((a, b) => b.at - a.at || byId(b.id, a.id))
      .slice(0, q.limit ?? Infinity);
  }

  // ------------------------------------------------------------------ sessions

  /** A login the store could not take: kept here and checked here until it can be written. */
  keepSession(err: unknown, t: SessionToken): void {
    this.enqueue(err, { kind: 'session', token: { ...t } });
    this.sessions.set(t.hash, { ...t });
  }

  /** A session kept in memory (undefined when unknown, expired or logged out). */
  session(hash: string, now: number): SessionToken | undefined {
    const t = this.sessions.get(hash);
    if (!t) return undefined;
    if (t.expiresAt !== undefined && t.expiresAt <= now) {
      this.sessions.delete(hash);
      return undefined;
    }
    return t;
  }

  loggedOutHere(hash: string): boolean {
    return this.loggedOut.has(hash);
  }

  /** Logout of a session: true when it was only in memory (nothing to delete on disk). */
  dropSession(hash: string): boolean {
    if (!this.sessions.delete(hash)) return false;
    this.queue = this.queue.filter((op) => op.kind !== 'session' || op.token.hash !== hash);
    return true;
  }

  /** A logout the store could not write: the hash is refused from now on, deleted later. */
  keepLogout(err: unknown, hash: string): void {
    this.enqueue(err, { kind: 'logout', hash });
    this.loggedOut.add(hash);
  }

  /** Ends the user's sessions kept in memory (but `except`); returns their hashes. */
  dropSessionsOf(userId: string, except?: string): string[] {
    const dropped: string[] = [];
    for (const [hash, t] of this.sessions) {
      if (t.userId === userId && hash !== except) {
        this.dropSession(hash);
        dropped.push(hash);
      }
    }
    return dropped;
  }

  // ------------------------------------------------------------------ writing

  /**
   * Writes what waits, oldest first. Stops at the first storage error and returns it;
   * an operation the database refuses for another reason is dropped and counted in `lost`.
   */
  flush(s: RecordStores): BmsError | undefined {
    while (this.queue.length > 0) {
      const op = this.queue[0]!;
      try {
        this.apply(s, op);
      } catch (err) {
        if (this.retryable(err)) return this.classify(err);
        this.lost++;
      }
      this.queue.shift();
      this.settled(op);
    }
    return undefined;
  }

  private apply(s: RecordStores, op: Op): void {
    switch (op.kind) {
      case 'raise': {
        // A carried-over event may have been acknowledged already: one transaction for both.
        const {
          id,
          localId,
          orgId,
          gatewayId,
          clearedAt,
          acknowledgedAt,
          acknowledgedBy,
          ...fields
        } = op.ev;
        const scope = own({ orgId, gatewayId });
        s.db.transaction(() => {
          s.alarms.raise({ orgId, gatewayId }, fields, { id, localId });
          if (acknowledgedAt !== undefined && acknowledgedBy !== undefined) {
            s.alarms.acknowledge(scope, id, acknowledgedBy, acknowledgedAt);
          }
          if (clearedAt !== undefined) s.alarms.clear(scope, id, clearedAt);
        })();
        return;
      }
      case 'clear': {
        const ev = this.alarmsWaiting.get(op.id) ?? this.active.get(op.id);
        s.alarms.clear(ev ? own(ev) : { orgIds: [] }, op.id, op.at);
        return;
      }
      case 'ack': {
        const ev = this.alarmsWaiting.get(op.id) ?? this.active.get(op.id);
        s.alarms.acknowledge(ev ? own(ev) : { orgIds: [] }, op.id, op.by, op.at);
        return;
      }
      case 'audit': {
        const { id, localId, orgId, gatewayId, ...entry } = op.entry;
        s.audit.append({ orgId, gatewayId }, entry, { id, localId });
        return;
      }
      case 'session': {
        const t = op.token;
        s.users.createToken(
          { orgIds: [t.orgId] },
          {
            hash: t.hash,
            username: t.username,
            kind: t.kind,
            createdAt: t.createdAt,
            ...(t.name !== undefined ? { name: t.name } : {}),
            ...(t.expiresAt !== undefined ? { expiresAt: t.expiresAt } : {}),
          },
        );
        return;
      }
      case 'logout':
        s.users.deleteToken(op.hash);
        return;
    }
  }

  private settled(op: Op): void {
    const id = alarmIdOf(op);
    if (id !== undefined) {
      if (!this.queue.some((o) => alarmIdOf(o) === id)) this.alarmsWaiting.delete(id);
      return;
    }
    if (op.kind === 'audit') {
      const i = this.auditWaiting.indexOf(op.entry);
      if (i >= 0) this.auditWaiting.splice(i, 1);
    } else if (op.kind === 'session') this.sessions.delete(op.token.hash);
    else if (op.kind === 'logout') this.loggedOut.delete(op.hash);
  }

  private enqueue(err: unknown, op: Op): void {
    if (this.queue.length >= MAX_DEFERRED) throw err;
    this.queue.push(op);
    this.lastError = this.classify(err);
  }

  private standbyError(): BmsError {
    return new BmsError(
      'STORAGE_FULL',
      'the database file is not open yet (no space to open it); kept in memory until it is',
    );
  }
}

function eventOf(o: Origin, e: NewAlarm, ids: { id: string; localId: number }): AlarmEvent {
  const ev = {
    ...stripUndefined(e, true),
    ...ids,
    orgId: o.orgId,
    gatewayId: o.gatewayId,
  } as AlarmEvent;
  if (typeof ev.value === 'number' && !Number.isFinite(ev.value)) delete ev.value;
  return ev;
}

/** A copy without undefined fields (and null ones with `nulls`: SQL NULLs read back absent). */
function stripUndefined<T extends object>(o: T, nulls = false): T {
  const out = { ...o } as Record<string, unknown>;
  for (const k of Object.keys(out)) {
    if (out[k] === undefined || (nulls && out[k] === null)) delete out[k];
  }
  return out as T;
}

function checkAlarm(e: NewAlarm): void {
  recordChecks.text(e.packId, 'packId');
  recordChecks.text(e.code, 'code', 100);
  recordChecks.oneOf(e.severity, 'severity', ['warning', 'protection', 'fault'] as const);
  recordChecks.optInt(e.level, 'level');
  recordChecks.oneOf(e.origin, 'origin', ['bms', 'rule', 'gateway'] as const);
  recordChecks.optText(e.ruleId, 'ruleId');
  recordChecks.time(e.raisedAt, 'raisedAt');
  recordChecks.prose(e.message, 'message');
}

function checkAudit(e: NewAuditEntry): void {
  recordChecks.time(e.at, 'at');
  recordChecks.text(e.user, 'user', 64);
  recordChecks.optText(e.userId, 'userId', 64);
  recordChecks.optText(e.packId, 'packId');
  recordChecks.text(e.action, 'action', 100);
  recordChecks.json(e.old, 'old');
  recordChecks.json(e.new, 'new');
  recordChecks.oneOf(e.result, 'result', ['ok', 'refused', 'failed'] as const);
  if (e.detail !== undefined && e.detail !== null) recordChecks.prose(e.detail, 'detail');
}
