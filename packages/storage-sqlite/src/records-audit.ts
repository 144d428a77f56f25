/**
 * The audit log in SQLite: append-only, `old`/`new` kept as JSON text.
 */
import type { AuditEntry, AuditStore } from '@openbms/storage';
import { storageError, type Db } from './db.js';
import { type Stmt, json, oneOf, optInt, optText, prose, text, time } from './records-validate.js';

const RESULTS = ['ok', 'refused', 'failed'] as const;

interface Row {
  id: number;
  at: number;
  user: string;
  pack_id: string | null;
  action: string;
  old_json: string | null;
  new_json: string | null;
  result: AuditEntry['result'];
  detail: string | null;
}

function toEntry(r: Row): AuditEntry {
  const e: AuditEntry = { id: r.id, at: r.at, user: r.user, action: r.action, result: r.result };
  if (r.pack_id !== null) e.packId = r.pack_id;
  if (r.old_json !== null) e.old = JSON.parse(r.old_json) as unknown;
  if (r.new_json !== null) e.new = JSON.parse(r.new_json) as unknown;
  if (r.detail !== null) e.detail = r.detail;
  return e;
}

export class SqliteAudit implements AuditStore {
  private readonly insert: Stmt;

  constructor(private readonly db: Db) {
    try {
      this.insert = db.prepare(
        `INSERT INTO audit_log (at, user, pack_id, action, old_json, new_json, result, detail)
         VALUES (@at, @user, @packId, @action, @old, @new, @result, @detail)`,
      );
    } catch (e) {
      throw storageError(
        e,
        'the audit log is not available (were the records migrations applied?)',
      );
    }
  }

  append(e: Omit<AuditEntry, 'id'>): number {
    const row = {
      at: time(e.at, 'at'),
      user: text(e.user, 'user', 64),
      packId: optText(e.packId, 'packId'),
      action: text(e.action, 'action', 100),
      old: json(e.old, 'old'),
      new: json(e.new, 'new'),
      result: oneOf(e.result, 'result', RESULTS),
      detail: e.detail === undefined || e.detail === null ? null : prose(e.detail, 'detail'),
    };
    try {
      return Number(this.insert.run(row).lastInsertRowid);
    } catch (err) {
      throw storageError(err, `cannot append ${row.action} to the audit log`);
    }
  }

  /** Newest first (by time, then id). */
  list(q: { packId?: string; user?: string; limit?: number } = {}): AuditEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
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
      'SELECT * FROM audit_log' +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY at DESC, id DESC' +
      (limit !== null ? ` LIMIT ${limit}` : '');
    try {
      return (this.db.prepare(sql).all(...args) as Row[]).map(toEntry);
    } catch (err) {
      throw storageError(err, 'cannot list the audit log');
    }
  }
}
