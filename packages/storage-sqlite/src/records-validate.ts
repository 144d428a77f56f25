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
