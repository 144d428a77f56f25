/**
 * Alarm events and the audit log in PostgreSQL: the same checks as every adapter
 * (`recordChecks`), one row per event or entry carrying its organisation and gateway, scopes
 * applied in SQL (`org_id = ANY(...)`). The gateway's own numbers (`local_id`) come from one
 * counter row per gateway and kind, bumped in the insert's statement, so two writers never
 * get the same number and a number is never reused.
 */
import { BmsError } from '@openbms/core';
import {
  alarmFromRow,
  auditFromRow,
  newId,
  recordChecks as c,
  type AlarmEvent,
  type AlarmRow,
  type AlarmQuery,
  type AlarmStore,
  type AuditEntry,
  type AuditQuery,
  type AuditRow,
  type AuditStore,
  type NewAlarm,
  type NewAuditEntry,
  type Origin,
  type RecordRef,
  type Scope,
} from '@openbms/storage';
import type { PgDb } from './db.js';

const SEVERITIES = ['warning', 'protection', 'fault'] as const;
const ORIGINS = ['bms', 'rule', 'gateway'] as const;
const RESULTS = ['ok', 'refused', 'failed'] as const;

/** The WHERE condition of a scope from parameter `$n` on; returns its SQL and parameters. */
export function scopeWhere(scope: unknown, n: number): { sql: string; args: unknown[] } {
  const s = c.scope(scope);
  let sql = `org_id = ANY($${n}::text[])`;
  const args: unknown[] = [s.orgIds];
  if (s.roots !== null) {
    // The subtrees by the closure semi-join (ADR 0017), no ids expanded here.
    args.push(s.roots);
    sql = `(${sql} OR org_id IN (SELECT descendant FROM org_closure
      WHERE ancestor = ANY($${n + args.length - 1}::text[])))`;
  }
  if (s.gatewayId !== null) {
    args.push(s.gatewayId);
    sql += ` AND gateway_id = $${n + args.length - 1}`;
  }
  if (s.gatewayIds !== null) {
    args.push(s.gatewayIds);
    sql += ` AND gateway_id = ANY($${n + args.length - 1}::text[])`;
  }
  return { sql, args };
}

/** The next local number of a gateway for `kind` (inside the insert). */
const nextLocal = (gw: string, kind: string): string =>
  `(INSERT INTO local_ids (gateway_id, kind, last) VALUES (${gw}, '${kind}', 1)
    ON CONFLICT (gateway_id, kind) DO UPDATE SET last = local_ids.last + 1 RETURNING last)`;

export function pgAlarms(db: PgDb): AlarmStore {
  return {
    async raise(origin: Origin, e: NewAlarm): Promise<AlarmEvent> {
      const o = c.origin(origin);
      if (typeof e !== 'object' || e === null) throw c.invalid('event', 'must be an object');
      const row = [
        newId(),
        o.orgId,
        o.gatewayId,
        c.text(e.packId, 'packId'),
        c.text(e.code, 'code', 100),
        c.oneOf(e.severity, 'severity', SEVERITIES),
        c.optInt(e.level, 'level'),
        c.oneOf(e.origin, 'origin', ORIGINS),
        c.optText(e.ruleId, 'ruleId'),
        c.time(e.raisedAt, 'raisedAt'),
        c.measured(e.value),
        c.prose(e.message, 'message'),
      ];
      const rows = await db.query<AlarmRow>(
        `cannot record alarm ${String(row[4])} of ${String(row[3])}`,
        `WITH n AS ${nextLocal('$3', 'alarm')}
         INSERT INTO alarm_events (id, local_id, org_id, gateway_id, pack_id, code, severity, level, origin, rule_id, raised_at, value, message)
         SELECT $1, n.last, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM n RETURNING *`,
        row,
      );
      return alarmFromRow(rows[0]!);
    },

    async clear(scope: Scope, id: string, at: number): Promise<void> {
      const w = scopeWhere(scope, 3);
      c.time(at, 'at');
      const rows = await db.query<{ cleared: boolean }>(
        `cannot clear alarm event ${String(id)}`,
        `WITH u AS (UPDATE alarm_events SET cleared_at = coalesce(cleared_at, $1)
           WHERE id = $2 AND ${w.sql} RETURNING 1) SELECT count(*) > 0 AS cleared FROM u`,
        [at, String(id), ...w.args],
      );
      if (!rows[0]?.cleared)
        throw new BmsError('NOT_FOUND', `no alarm event with id ${String(id)}`);
    },

    async acknowledge(scope: Scope, id: string, by: string, at: number): Promise<boolean> {
      const w = scopeWhere(scope, 4);
      c.text(by, 'by', 64);
      c.time(at, 'at');
      const rows = await db.query(
        `cannot acknowledge alarm event ${String(id)}`,
        `UPDATE alarm_events SET acknowledged_at = $1, acknowledged_by = $2
         WHERE id = $3 AND ${w.sql} AND acknowledged_at IS NULL RETURNING 1`,
        [at, by, String(id), ...w.args],
      );
      return rows.length > 0;
    },

    async get(scope: Scope, ref: RecordRef): Promise<AlarmEvent | undefined> {
      const r = c.recordRef(ref);
      if ('localId' in r) c.gatewayScope(scope);
      const w = scopeWhere(scope, 2);
      const [col, key] = 'id' in r ? ['id', r.id] : ['local_id', r.localId];
      const rows = await db.query<AlarmRow>(
        'cannot read alarm events',
        `SELECT * FROM alarm_events WHERE ${col} = $1 AND ${w.sql}`,
        [key, ...w.args],
      );
      return rows[0] && alarmFromRow(rows[0]);
    },

    async list(scope: Scope, q: AlarmQuery = {}): Promise<AlarmEvent[]> {
      const w = scopeWhere(scope, 1);
      const where = [w.sql];
      const args = [...w.args];
      const add = (sql: string, v: unknown): void => {
        args.push(v);
        where.push(sql.replace('?', `$${args.length}`));
      };
      if (q.packId !== undefined) add('pack_id = ?', c.text(q.packId, 'packId'));
      if (q.packPrefix !== undefined) {
        const prefix = c.text(q.packPrefix, 'packPrefix', 200);
        add(`left(pack_id, ${prefix.length}) = ?`, prefix);
      }
      if (q.code !== undefined) add('code = ?', c.text(q.code, 'code', 100));
      if (q.notCodes !== undefined && q.notCodes.length > 0) {
        if (!Array.isArray(q.notCodes) || q.notCodes.length > 200)
          throw c.invalid('notCodes', 'must be an array of at most 200 codes');
        add(
          'code <> ALL(?::text[])',
          q.notCodes.map((x, i) => c.text(x, `notCodes[${i}]`, 100)),
        );
      }
      if (q.active !== undefined)
        where.push(q.active ? 'cleared_at IS NULL' : 'cleared_at IS NOT NULL');
      const from = c.optTime(q.from, 'from');
      const to = c.optTime(q.to, 'to');
      if (from !== null) add('raised_at >= ?', from);
      if (to !== null) add('raised_at <= ?', to);
      const limit = c.optInt(q.limit, 'limit');
      const rows = await db.query<AlarmRow>(
        'cannot list alarm events',
        `SELECT * FROM alarm_events WHERE ${where.join(' AND ')} ORDER BY raised_at DESC, id DESC` +
          (limit !== null ? ` LIMIT ${limit}` : ''),
        args,
      );
      return rows.map(alarmFromRow);
    },

    async counts(scope: Scope, packId?: string): Promise<Record<string, number>> {
      const w = scopeWhere(scope, 1);
      const pack = packId === undefined ? null : c.text(packId, 'packId');
      const rows = await db.query<{ code: string; n: number }>(
        'cannot count alarm events',
        `SELECT code, count(*) AS n FROM alarm_events
         WHERE ${w.sql} AND (level >= 2 OR severity IN ('protection', 'fault'))
           ${pack !== null ? `AND pack_id = $${w.args.length + 1}` : ''}
         GROUP BY code ORDER BY code`,
        pack !== null ? [...w.args, pack] : w.args,
      );
      return Object.fromEntries(rows.map((r) => [r.code, r.n]));
    },
  };
}

/** The table's user-name column is `user_name` (`user` is a reserved word in PostgreSQL). */
type PgAuditRow = AuditRow & { user_name: string };

export function pgAudit(db: PgDb): AuditStore {
  return {
    async append(origin: Origin, e: NewAuditEntry): Promise<AuditEntry> {
      const o = c.origin(origin);
      if (typeof e !== 'object' || e === null) throw c.invalid('entry', 'must be an object');
      const row = [
        newId(),
        o.orgId,
        o.gatewayId,
        c.time(e.at, 'at'),
        c.text(e.user, 'user', 64),
        c.optText(e.userId, 'userId', 64),
        c.optText(e.packId, 'packId'),
        c.text(e.action, 'action', 100),
        c.json(e.old, 'old'),
        c.json(e.new, 'new'),
        c.oneOf(e.result, 'result', RESULTS),
        e.detail === undefined || e.detail === null ? null : c.prose(e.detail, 'detail'),
      ];
      const rows = await db.query<PgAuditRow>(
        `cannot append ${String(row[7])} to the audit log`,
        `WITH n AS ${nextLocal('$3', 'audit')}
         INSERT INTO audit_log (id, local_id, org_id, gateway_id, at, user_name, user_id, pack_id, action, old_json, new_json, result, detail)
         SELECT $1, n.last, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM n RETURNING *`,
        row,
      );
      return auditFromRow(rows[0]!, rows[0]!.user_name);
    },

    async list(scope: Scope, q: AuditQuery = {}): Promise<AuditEntry[]> {
      const w = scopeWhere(scope, 1);
      const where = [w.sql];
      const args = [...w.args];
      if (q.packId !== undefined) {
        args.push(c.text(q.packId, 'packId'));
        where.push(`pack_id = $${args.length}`);
      }
      if (q.user !== undefined) {
        args.push(c.text(q.user, 'user', 64));
        where.push(`user_name = $${args.length}`);
      }
      const limit = c.optInt(q.limit, 'limit');
      const rows = await db.query<PgAuditRow>(
        'cannot list the audit log',
        `SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY at DESC, id DESC` +
          (limit !== null ? ` LIMIT ${limit}` : ''),
        args,
      );
      return rows.map((r) => auditFromRow(r, r.user_name));
    },
  };
}
