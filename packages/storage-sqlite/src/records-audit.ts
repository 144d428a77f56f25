/**
 * The audit log in SQLite: append-only, `old`/`new` kept as JSON text, each entry of one
 * organisation and gateway.
 */
import {
  auditFromRow,
  newId,
  type AuditEntry,
  type AuditRow,
  type AuditQuery,
  type NewAuditEntry,
  type Origin,
  type Scope,
} from '@openbms/storage';
import { storageError, type Db } from './db.js';
import type { NewIds } from './records-alarms.js';
import {
  type Stmt,
  json,
  oneOf,
  optInt,
  optText,
  origin as checkOrigin,
  prose,
  scopeWhere,
  text,
  time,
} from './records-validate.js';

const RESULTS = ['ok', 'refused', 'failed'] as const;

/** The table's user-name column is `user`. */
type Row = AuditRow & { user: string };
const toEntry = (r: Row): AuditEntry => auditFromRow(r, r.user);

export class SqliteAudit {
  private readonly insert: Stmt;

  constructor(private readonly db: Db) {
    try {
      this.insert = db.prepare(
        `INSERT INTO audit_log (id, local_id, org_id, gateway_id, at, user, user_id, pack_id, action, old_json, new_json, result, detail)
         VALUES (@id, coalesce(@localId, (SELECT coalesce(max(local_id), 0) + 1 FROM audit_log WHERE gateway_id = @gatewayId)),
                 @orgId, @gatewayId, @at, @user, @userId, @packId, @action, @old, @new, @result, @detail)
         RETURNING *`,
      );
    } catch (e) {
      throw storageError(
        e,
        'the audit log is not available (were the records migrations applied?)',
      );
    }
  }

  /** `ids` (beyond the port): stored under ids the storage facade handed out (see SqliteAlarms.raise). */
  append(origin: Origin, e: NewAuditEntry, ids?: NewIds): AuditEntry {
    const o = checkOrigin(origin);
    const row = {
      id: ids ? text(ids.id, 'id', 64) : newId(),
      localId: ids ? optInt(ids.localId, 'localId', 1) : null,
      orgId: o.orgId,
      gatewayId: o.gatewayId,
      at: time(e.at, 'at'),
      user: text(e.user, 'user', 64),
      userId: optText(e.userId, 'userId', 64),
      packId: optText(e.packId, 'packId'),
      action: text(e.action, 'action', 100),
      old: json(e.old, 'old'),
      new: json(e.new, 'new'),
      result: oneOf(e.result, 'result', RESULTS),
      detail: e.detail === undefined || e.detail === null ? null : prose(e.detail, 'detail'),
    };
    try {
      // all(): run to the end, so a refused commit fails here (see SqliteAlarms.raise).
      return toEntry((this.insert.all(row) as Row[])[0]!);
    } catch (err) {
      throw storageError(err, `cannot append ${row.action} to the audit log`);
    }
  }

  /** Newest first (by time, then id). */
  list(scope: Scope, q: AuditQuery = {}): AuditEntry[] {
    const w = scopeWhere(scope);
    const where: string[] = [w.sql];
    const args: unknown[] = [...w.args];
    if (q.packId !== undefined) {
      where.push('pack_id = ?');
      args.push(text(q.packId, 'packId'));
    }
    if (q.user !== undefined) {
      where.push('user = ?');
      args.push(text(q.user, 'user', 64));
    }
    const limit = optInt(q.limit, 'limit');
    const sql =
      `SELECT * FROM audit_log WHERE ${where.join(' AND ')}` +
      ' ORDER BY at DESC, id DESC' +
      (limit !== null ? ` LIMIT ${limit}` : '');
    try {
      return (this.db.prepare(sql).all(...args) as Row[]).map(toEntry);
    } catch (err) {
      throw storageError(err, 'cannot list the audit log');
    }
  }
}
