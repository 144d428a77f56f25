/**
 * Records kept in memory while the database cannot take them (disk full, file set aside):
 * alarm events (raise, clear, acknowledge), audit entries, login sessions and their logout.
 * They are written in the order they happened as soon as a write succeeds again. Reads merge
 * them in, so the alarm history, the audit log and the session check see them meanwhile.
 *
 * Alarm event ids are handed out here, not by SQLite's AUTOINCREMENT: an event raised while
 * the disk is full gets its final id at once, so the engine, the WebSocket clients and the
 * later history all name it alike. The active events are remembered, so a fresh database that
 * replaces a damaged one gets them back under the same ids.
 *
 * At most MAX_DEFERRED operations wait; beyond that the caller gets the storage error, as
 * without this layer (the alarm engine then retries at its next event, the audit failure is
 * logged, a login is refused). Memory sessions are never written to disk in the clear: the
 * token hash is what is stored, as always.
 */
import { BmsError } from '@openbms/core';
import { recordChecks, type AlarmEvent, type AuditEntry } from '@openbms/storage';
import type { Db } from './db.js';
import type { SqliteAlarms } from './records-alarms.js';
import type { SqliteAudit } from './records-audit.js';
import type { SqliteUsers } from './records-users.js';

export const MAX_DEFERRED = 10_000;

export type NewAlarm = Omit<AlarmEvent, 'id' | 'clearedAt' | 'acknowledgedAt' | 'acknowledgedBy'>;
type NewAudit = Omit<AuditEntry, 'id'>;

export interface SessionToken {
  hash: string;
  username: string;
  kind: 'session';
  name?: string;
  createdAt: number;
  expiresAt?: number;
}

type Op =
  | { kind: 'raise'; ev: AlarmEvent }
  | { kind: 'clear'; id: number; at: number }
  | { kind: 'ack'; id: number; by: string; at: number }
  | { kind: 'audit'; entry: AuditEntry }
  | { kind: 'session'; token: SessionToken }
  | { kind: 'logout'; hash: string };

/** The stores of the current connection, as the facade holds them. */
export interface RecordStores {
  db: Db;
  alarms: SqliteAlarms;
  audit: SqliteAudit;
  users: SqliteUsers;
}

/** Storage errors that go away by themselves or by the operator freeing space: worth waiting for. */
const WAIT_FOR = new Set(['STORAGE_FULL', 'STORAGE_READ_ONLY', 'STORAGE_CORRUPT']);

const copy = (e: AlarmEvent): AlarmEvent => ({ ...e });

/** The alarm event an operation is about, if any. */
function alarmIdOf(op: Op): number | undefined {
  if (op.kind === 'raise') return op.ev.id;
  if (op.kind === 'clear' || op.kind === 'ack') return op.id;
  return undefined;
}

export class DeferredRecords {
  private queue: Op[] = [];
  /** Alarm events with a queued operation, in their current state (for reads). */
  private readonly alarmsWaiting = new Map<number, AlarmEvent>();
  /** Every event not cleared, stored or not (re-inserted into a fresh database). */
  private readonly active = new Map<number, AlarmEvent>();
  private readonly auditWaiting: AuditEntry[] = [];
  private readonly sessions = new Map<string, SessionToken>();
  private readonly loggedOut = new Set<string>();
  private nextAlarmId = 1;
  private nextAuditId = 1;
  /** Operations the database refused for good (e.g. an id taken meanwhile), counted. */
  lost = 0;
  /** Why the last operation had to wait (taken by the facade to mark the disk full...). */
  private lastError: BmsError | undefined;

  /** `classify` turns a failure into the storage error the facade sees (a full disk behind an I/O error...). */
  constructor(private readonly classify: (e: unknown) => BmsError) {}

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

  /** Takes the ids and active events of a newly opened database. */
  adopt(s: RecordStores): void {
    const seq = (table: string): number => {
      const row = s.db
        .prepare(
          `SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), coalesce((SELECT max(id) FROM ${table}), 0)) AS n`,
        )
        .get(table) as { n: number };
      return row.n;
    };
    this.nextAlarmId = Math.max(this.nextAlarmId, seq('alarm_events') + 1);
    this.nextAuditId = Math.max(this.nextAuditId, seq('audit_log') + 1);
    for (const ev of s.alarms.list({ active: true })) {
      if (!this.active.has(ev.id)) this.active.set(ev.id, ev);
    }
  }

  /**
   * A fresh database replaced a damaged one: its ids continue after the old ones, and the
   * active events are written into it again (with their acknowledgement).
   */
  carryOver(s: RecordStores): void {
    try {
      const seed = s.db.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)');
      seed.run('alarm_events', this.nextAlarmId - 1);
      seed.run('audit_log', this.nextAuditId - 1);
    } catch {
      // No room for the seed: the explicit alarm ids below move the sequence anyway.
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

  raise(s: RecordStores | undefined, e: NewAlarm): number {
    const id = this.nextAlarmId++;
    const ev = { ...e, id } as AlarmEvent;
    if (s) {
      try {
        s.alarms.raise(e, id);
        this.active.set(id, copy(ev));
        return id;
      } catch (err) {
        if (!this.retryable(err)) throw err;
        this.enqueue(err, { kind: 'raise', ev: copy(ev) });
      }
    } else {
      checkAlarm(e);
      this.enqueue(this.standbyError(), { kind: 'raise', ev: copy(ev) });
    }
    this.alarmsWaiting.set(id, copy(ev));
    this.active.set(id, copy(ev));
    return id;
  }

  clear(s: RecordStores | undefined, id: number, at: number): void {
    recordChecks.time(at, 'at');
    const known = this.active.get(id) ?? this.alarmsWaiting.get(id);
    if (s && !this.alarmsWaiting.has(id)) {
      try {
        s.alarms.clear(id, at);
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

  acknowledge(s: RecordStores | undefined, id: number, by: string, at: number): boolean {
    recordChecks.text(by, 'by', 64);
    recordChecks.time(at, 'at');
    const waiting = this.alarmsWaiting.get(id);
    if (s && !waiting) {
      try {
        const ok = s.alarms.acknowledge(id, by, at);
        const a = this.active.get(id);
        if (ok && a) Object.assign(a, { acknowledgedAt: at, acknowledgedBy: by });
        return ok;
      } catch (err) {
        const a = this.active.get(id);
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

  /** Stored events with the waiting ones laid over them, filtered and ordered as the store does. */
  mergeAlarms(
    stored: AlarmEvent[],
    q: { packId?: string; active?: boolean; from?: number; to?: number; limit?: number },
  ): AlarmEvent[] {
    if (this.alarmsWaiting.size === 0) return stored;
    const byId = new Map(stored.map((e) => [e.id, e]));
    for (const [id, e] of this.alarmsWaiting) byId.set(id, copy(e));
    return [...byId.values()]
      .filter(
        (e) =>
          (q.packId === undefined || e.packId === q.packId) &&
          (q.active === undefined || (e.clearedAt === undefined) === q.active) &&
          (q.from === undefined || e.raisedAt >= q.from) &&
          (q.to === undefined || e.raisedAt <= q.to),
      )
      .sort((a, b) => b.raisedAt - a.raisedAt || b.id - a.id)
      .slice(0, q.limit ?? Infinity);
  }

  /** Protection counts including the waiting events (same rule as the store's). */
  mergeCounts(stored: Record<string, number>, packId?: string): Record<string, number> {
    const out = { ...stored };
    for (const [id, e] of this.alarmsWaiting) {
      if (!this.queue.some((op) => op.kind === 'raise' && op.ev.id === id)) continue;
      if (packId !== undefined && e.packId !== packId) continue;
      if (!((e.level ?? 0) >= 2 || e.severity !== 'warning')) continue;
      out[e.code] = (out[e.code] ?? 0) + 1;
    }
    return out;
  }

  // ------------------------------------------------------------------ audit

  append(s: RecordStores | undefined, e: NewAudit): number {
    if (s) {
      try {
        const id = s.audit.append(e);
        this.nextAuditId = Math.max(this.nextAuditId, id + 1);
        return id;
      } catch (err) {
        if (!this.retryable(err)) throw err;
        return this.queueAudit(err, e);
      }
    }
    checkAudit(e);
    return this.queueAudit(this.standbyError(), e);
  }

  private queueAudit(err: unknown, e: NewAudit): number {
    const entry = { ...e, id: this.nextAuditId++ } as AuditEntry;
    this.enqueue(err, { kind: 'audit', entry });
    this.auditWaiting.push(entry);
    return entry.id;
  }

  mergeAudit(
    stored: AuditEntry[],
    q: { packId?: string; user?: string; limit?: number },
  ): AuditEntry[] {
    if (this.auditWaiting.length === 0) return stored;
    return [...stored, ...this.auditWaiting.map((e) => ({ ...e }))]
      .filter(
        (e) =>
          (q.packId === undefined || e.packId === q.packId) &&
          (q.user === undefined || e.user === q.user),
      )
      .sort((a, b) => b.at - a.at || b.id - a.id)
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

  /** A user deleted, or their sessions ended: their memory sessions end too (but `except`). */
  /** Ends the user's sessions kept in memory (but `except`); returns their hashes. */
  dropSessionsOf(username: string, except?: string): string[] {
    const name = username.toLowerCase();
    const dropped: string[] = [];
    for (const [hash, t] of this.sessions) {
      if (t.username.toLowerCase() === name && hash !== except) {
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
        const { id, clearedAt, acknowledgedAt, acknowledgedBy, ...fields } = op.ev;
        s.db.transaction(() => {
          s.alarms.raise(fields, id);
          if (acknowledgedAt !== undefined && acknowledgedBy !== undefined) {
            s.alarms.acknowledge(id, acknowledgedBy, acknowledgedAt);
          }
          if (clearedAt !== undefined) s.alarms.clear(id, clearedAt);
        })();
        return;
      }
      case 'clear':
        s.alarms.clear(op.id, op.at);
        return;
      case 'ack':
        s.alarms.acknowledge(op.id, op.by, op.at);
        return;
      case 'audit': {
        const { id: _stored, ...entry } = op.entry;
        s.audit.append(entry);
        return;
      }
      case 'session':
        s.users.createToken(op.token);
        return;
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

function checkAudit(e: NewAudit): void {
  recordChecks.time(e.at, 'at');
  recordChecks.text(e.user, 'user', 64);
  recordChecks.optText(e.packId, 'packId');
  recordChecks.text(e.action, 'action', 100);
  recordChecks.json(e.old, 'old');
  recordChecks.json(e.new, 'new');
  recordChecks.oneOf(e.result, 'result', ['ok', 'refused', 'failed'] as const);
  if (e.detail !== undefined && e.detail !== null) recordChecks.prose(e.detail, 'detail');
}
