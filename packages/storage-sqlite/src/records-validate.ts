/** The records stores' input checks (shared with every adapter) and the statement type. */
import { recordChecks } from '@openbms/storage';

export const {
  invalid,
  text,
  optText,
  prose,
  time,
  optTime,
  oneOf,
  optInt,
  username,
  json,
  measured,
  tokenFilter,
  origin,
  scope,
  gatewayScope,
  orgScope,
  recordRef,
} = recordChecks;

/**
 * The part of a better-sqlite3 prepared statement the records stores use. Declared here so
 * these files need no library types (and keep the library behind `Db`).
 */
export interface Stmt {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/**
 * The WHERE condition of a scope (columns `org_id`, `gateway_id`), checked: the
 * organisations (and `gatewayIds`) as JSON parameters, so one prepared statement serves any
 * number of them; `roots` adds their subtrees by the closure semi-join (ADR 0017).
 */
export function scopeWhere(value: unknown, prefix = ''): { sql: string; args: unknown[] } {
  const s = scope(value);
  let sql = `${prefix}org_id IN (SELECT value FROM json_each(?))`;
  const args: unknown[] = [JSON.stringify(s.orgIds)];
  if (s.roots !== null) {
    sql = `(${sql} OR ${prefix}org_id IN (SELECT descendant FROM org_closure
      WHERE ancestor IN (SELECT value FROM json_each(?))))`;
    args.push(JSON.stringify(s.roots));
  }
  if (s.gatewayId !== null) {
    sql += ` AND ${prefix}gateway_id = ?`;
    args.push(s.gatewayId);
  }
  if (s.gatewayIds !== null) {
    sql += ` AND ${prefix}gateway_id IN (SELECT value FROM json_each(?))`;
    args.push(JSON.stringify(s.gatewayIds));
  }
  return { sql, args };
}
