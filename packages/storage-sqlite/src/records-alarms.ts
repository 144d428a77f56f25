/**
 * Alarm events in SQLite: one row per raise, updated in place by clear and acknowledge. Each
 * row carries its organisation and gateway; queries filter by the scope in SQL.
 */
import { BmsError } from '@openbms/core';
import {
  alarmFromRow,
  newId,
  type AlarmEvent,
  type AlarmRow,
  type AlarmQuery,
  type NewAlarm,
  type Origin,
  type RecordRef,
  type Scope,
} from '@openbms/storage';
import { storageError, type Db } from './db.js';
import {
  type Stmt,
  gatewayScope,
  measured,
  oneOf,
  optInt,
  optText,
  optTime,
  origin as checkOrigin,
  prose,
  recordRef,
  scopeWhere,
  text,
  time,
} from './records-validate.js';

const SEVERITIES = ['warning', 'protection', 'fault'] as const;

/** `notCodes`: at most 200 codes. */
function codeList(v: unknown): string[] {
  if (!Array.isArray(v) || v.length > 200)
    throw new BmsError('REQUEST_INVALID', 'notCodes must be an array of at most 200 codes', {
      field: 'notCodes',
    });
  return v.map((x, i) => text(x, `notCodes[${i}]`, 100));
}
const ORIGINS = ['bms', 'rule', 'gateway'] as const;

/** The ids a new event gets: handed out by the storage facade (deferred.ts), or made here. */
export interface NewIds {
  id: string;
  localId: number;
}

export class SqliteAlarms {
  private readonly insert: Stmt;

  constructor(private readonly db: Db) {
    try {
      this.insert = db.prepare(
        `INSERT INTO alarm_events (id, local_id, org_id, gateway_id, pack_id, code, severity, level, origin, rule_id, raised_at, value, message)
         VALUES (@id, coalesce(@localId, (SELECT coalesce(max(local_id), 0) + 1 FROM alarm_events WHERE gateway_id = @gatewayId)),
                 @orgId, @gatewayId, @packId, @code, @severity, @level, @origin, @ruleId, @raisedAt, @value, @message)
         RETURNING *`,
      );
    } catch (e) {
      throw storageError(
        e,
        'alarm events are not available (were the records migrations applied?)',
      );
    }
  }

  /**
   * Records a raised event. `ids` (beyond the port) stores it under ids chosen by the caller:
   * the storage facade hands them out itself so an event kept in memory while the disk is
   * full keeps them when it is written (one process owns its gateway's alarm events).
   */
  raise(origin: Origin, e: NewAlarm, ids?: NewIds): AlarmEvent {
    const o = checkOrigin(origin);
    const row = {
      id: ids ? text(ids.id, 'id', 64) : newId(),
      localId: ids ? optInt(ids.localId, 'localId', 1) : null,
      orgId: o.orgId,
      gatewayId: o.gatewayId,
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
      // all(), not get(): the statement must run to its end, so that a commit the disk refuses
      // fails here instead of being dropped with the reset after the first row.
      return alarmFromRow((this.insert.all(row) as AlarmRow[])[0]!);
    } catch (err) {
      throw storageError(err, `cannot record alarm ${row.code} of ${row.packId}`);
    }
  }

  /** Sets the clear time once; clearing a cleared event keeps the first time. Unknown id: NOT_FOUND. */
  clear(scope: Scope, id: string, at: number): void {
    const w = scopeWhere(scope);
    time(at, 'at');
    try {
      const set = this.db.prepare(
        `UPDATE alarm_events SET cleared_at = ? WHERE id = ? AND ${w.sql} AND cleared_at IS NULL`,
      );
      if (set.run(at, id, ...w.args).changes > 0) return;
      const exists = this.db.prepare(`SELECT 1 FROM alarm_events WHERE id = ? AND ${w.sql}`);
      if (exists.get(id, ...w.args) === undefined)
        throw new BmsError('NOT_FOUND', `no alarm event with id ${id}`);
    } catch (err) {
      throw storageError(err, `cannot clear alarm event ${id}`);
    }
  }

  /** False when the id is unknown (or out of scope) or the event was acknowledged already. */
  acknowledge(scope: Scope, id: string, by: string, at: number): boolean {
    const w = scopeWhere(scope);
    text(by, 'by', 64);
    time(at, 'at');
    try {
      return (
        this.db
          .prepare(
            `UPDATE alarm_events SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND ${w.sql} AND acknowledged_at IS NULL`,
          )
          .run(at, by, id, ...w.args).changes > 0
      );
    } catch (err) {
      throw storageError(err, `cannot acknowledge alarm event ${id}`);
    }
  }

  /** One event by its id, or by its gateway's number (then the scope must name the gateway). */
  get(scope: Scope, ref: RecordRef): AlarmEvent | undefined {
    const r = recordRef(ref);
    if ('localId' in r) gatewayScope(scope);
    const w = scopeWhere(scope);
    const [col, key] = 'id' in r ? ['id', r.id] : ['local_id', r.localId];
    try {
      const row = this.db
        .prepare(`SELECT * FROM alarm_events WHERE ${col} = ? AND ${w.sql}`)
        .get(key, ...w.args) as AlarmRow | undefined;
      return row && alarmFromRow(row);
    } catch (err) {
      throw storageError(err, 'cannot read alarm events');
    }
  }

  /** Newest first. `from`/`to` bound the raise time (both inclusive); `active` = not cleared. */
  list(scope: Scope, q: AlarmQuery = {}): AlarmEvent[] {
    const w = scopeWhere(scope);
    const where: string[] = [w.sql];
    const args: unknown[] = [...w.args];
    if (q.packId !== undefined) {
      where.push('pack_id = ?');
      args.push(text(q.packId, 'packId'));
    }
    if (q.packPrefix !== undefined) {
      const prefix = text(q.packPrefix, 'packPrefix', 200);
      where.push('substr(pack_id, 1, ?) = ?');
      args.push(prefix.length, prefix);
    }
    if (q.code !== undefined) {
      where.push('code = ?');
      args.push(text(q.code, 'code', 100));
    }
    if (q.notCodes !== undefined && q.notCodes.length > 0) {
      where.push('code NOT IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(codeList(q.notCodes)));
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
      `SELECT * FROM alarm_events WHERE ${where.join(' AND ')}` +
      ' ORDER BY raised_at DESC, id DESC' +
      (limit !== null ? ` LIMIT ${limit}` : '');
    try {
      return (this.db.prepare(sql).all(...args) as AlarmRow[]).map(alarmFromRow);
    } catch (err) {
      throw storageError(err, 'cannot list alarm events');
    }
  }

  /** Raised events with level >= 2 or severity protection/fault, per code (cleared ones count). */
  counts(scope: Scope, packId?: string): Record<string, number> {
    const w = scopeWhere(scope);
    const pack = packId === undefined ? null : text(packId, 'packId');
    try {
      const rows = this.db
        .prepare(
          `SELECT code, COUNT(*) AS n FROM alarm_events
           WHERE ${w.sql} AND (level >= 2 OR severity IN ('protection', 'fault'))${pack !== null ? ' AND pack_id = ?' : ''}
           GROUP BY code ORDER BY code`,
        )
        .all(...w.args, ...(pack !== null ? [pack] : [])) as { code: string; n: number }[];
      // fromEntries defines own properties, so even a code named `__proto__` is counted.
      return Object.fromEntries(rows.map((r) => [r.code, r.n]));
    } catch (err) {
      throw storageError(err, 'cannot count alarm events');
    }
  }
}
