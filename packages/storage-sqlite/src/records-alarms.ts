/**
 * Alarm events in SQLite: one row per raise, updated in place by clear and acknowledge.
 */
import { BmsError } from '@openbms/core';
import type { AlarmEvent, AlarmQuery, AlarmStore } from '@openbms/storage';
import { storageError, type Db } from './db.js';
import {
  type Stmt,
  measured,
  oneOf,
  optInt,
  optText,
  optTime,
  prose,
  text,
  time,
} from './records-validate.js';

const SEVERITIES = ['warning', 'protection', 'fault'] as const;
const ORIGINS = ['bms', 'rule', 'gateway'] as const;

interface Row {
  id: number;
  pack_id: string;
  code: string;
  severity: AlarmEvent['severity'];
  level: number | null;
  origin: AlarmEvent['origin'];
  rule_id: string | null;
  raised_at: number;
  cleared_at: number | null;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  value: number | null;
  message: string;
}

function toEvent(r: Row): AlarmEvent {
  const e: AlarmEvent = {
    id: r.id,
    packId: r.pack_id,
    code: r.code,
    severity: r.severity,
    origin: r.origin,
    raisedAt: r.raised_at,
    message: r.message,
  };
  if (r.level !== null) e.level = r.level;
  if (r.rule_id !== null) e.ruleId = r.rule_id;
  if (r.cleared_at !== null) e.clearedAt = r.cleared_at;
  if (r.acknowledged_at !== null) e.acknowledgedAt = r.acknowledged_at;
  if (r.acknowledged_by !== null) e.acknowledgedBy = r.acknowledged_by;
  if (r.value !== null) e.value = r.value;
  return e;
}

export class SqliteAlarms implements AlarmStore {
  private readonly insert: Stmt;
  private readonly clearStmt: Stmt;
  private readonly exists: Stmt;
  private readonly ack: Stmt;

  constructor(private readonly db: Db) {
    try {
      this.insert = db.prepare(
        `INSERT INTO alarm_events (id, pack_id, code, severity, level, origin, rule_id, raised_at, value, message)
         VALUES (@id, @packId, @code, @severity, @level, @origin, @ruleId, @raisedAt, @value, @message)`,
      );
      this.clearStmt = db.prepare(
        'UPDATE alarm_events SET cleared_at = ? WHERE id = ? AND cleared_at IS NULL',
      );
      this.exists = db.prepare('SELECT 1 FROM alarm_events WHERE id = ?');
      this.ack = db.prepare(
        'UPDATE alarm_events SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL',
      );
    } catch (e) {
      throw storageError(
        e,
        'alarm events are not available (were the records migrations applied?)',
      );
    }
  }

  /**
   * Records a raised event. `id` (beyond the port) stores it under an id chosen by the caller:
   * the storage facade hands ids out itself so an event kept in memory while the disk is full
   * keeps its id when it is written (one process owns the alarm events of a file).
   */
  raise(
    e: Omit<AlarmEvent, 'id' | 'clearedAt' | 'acknowledgedAt' | 'acknowledgedBy'>,
    id?: number,
  ): number {
    const row = {
      id: optInt(id, 'id'),
      packId: text(e.packId, 'packId'),
      code: text(e.code, 'code', 100),
      severity: oneOf(e.severity, 'severity', SEVERITIES),
      level: optInt(e.level, 'level'),
      origin: oneOf(e.origin, 'origin', ORIGINS),
      ruleId: optText(e.ruleId, 'ruleId'),
      raisedAt: time(e.raisedAt, 'raisedAt'),
      value: measured(e.value),
      message: prose(e.message, 'message'),
    };
    try {
      return Number(this.insert.run(row).lastInsertRowid);
    } catch (err) {
      throw storageError(err, `cannot record alarm ${row.code} of ${row.packId}`);
    }
  }

  /** Sets the clear time once; clearing a cleared event keeps the first time. Unknown id: NOT_FOUND. */
  clear(id: number, at: number): void {
    time(at, 'at');
    try {
      if (this.clearStmt.run(at, id).changes > 0) return;
      if (this.exists.get(id) === undefined)
        throw new BmsError('NOT_FOUND', `no alarm event with id ${id}`);
    } catch (err) {
      throw storageError(err, `cannot clear alarm event ${id}`);
    }
  }

  /** False when the id is unknown or the event was already acknowledged (the first one stays). */
  acknowledge(id: number, by: string, at: number): boolean {
    text(by, 'by', 64);
    time(at, 'at');
    try {
      return this.ack.run(at, by, id).changes > 0;
    } catch (err) {
      throw storageError(err, `cannot acknowledge alarm event ${id}`);
    }
  }

  /** Newest first. `from`/`to` bound the raise time (both inclusive); `active` = not cleared. */
  list(q: AlarmQuery = {}): AlarmEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.packId !== undefined) {
      where.push('pack_id = ?');
      args.push(text(q.packId, 'packId'));
    }
    if (q.active !== undefined)
      where.push(q.active ? 'cleared_at IS NULL' : 'cleared_at IS NOT NULL');
    const from = optTime(q.from, 'from');
    const to = optTime(q.to, 'to');
    if (from !== null) {
      where.push('raised_at >= ?');
      args.push(from);
    }
    if (to !== null) {
      where.push('raised_at <= ?');
      args.push(to);
    }
    const limit = optInt(q.limit, 'limit');
    const sql =
      'SELECT * FROM alarm_events' +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY raised_at DESC, id DESC' +
      (limit !== null ? ` LIMIT ${limit}` : '');
    try {
      return (this.db.prepare(sql).all(...args) as Row[]).map(toEvent);
    } catch (err) {
      throw storageError(err, 'cannot list alarm events');
    }
  }

  /** Raised events with level >= 2 or severity protection/fault, per code (cleared ones count). */
  counts(packId?: string): Record<string, number> {
    const pack = packId === undefined ? null : text(packId, 'packId');
    try {
      const rows = this.db
        .prepare(
          `SELECT code, COUNT(*) AS n FROM alarm_events
           WHERE (level >= 2 OR severity IN ('protection', 'fault'))${pack !== null ? ' AND pack_id = ?' : ''}
           GROUP BY code ORDER BY code`,
        )
        .all(...(pack !== null ? [pack] : [])) as { code: string; n: number }[];
      // fromEntries defines own properties, so even a code named `__proto__` is counted.
      return Object.fromEntries(rows.map((r) => [r.code, r.n]));
    } catch (err) {
      throw storageError(err, 'cannot count alarm events');
    }
  }
}
