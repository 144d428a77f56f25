/**
 * Schema of the records module: alarm events, the audit log, users and their tokens.
 * Ids are `records/NNN`; a step is never edited once released, only followed by a new one.
 */
import type { Migration } from './db.js';

export const RECORDS_MIGRATIONS: Migration[] = [
  {
    id: 'records/001',
    up(db) {
      // AUTOINCREMENT: an id is never reused, so an acknowledgement can never land on a
      // newer event after old ones were deleted.
      db.exec(`
        CREATE TABLE alarm_events (
          id              INTEGER PRIMARY KEY AUTOINCREMENT,
          pack_id         TEXT    NOT NULL,
          code            TEXT    NOT NULL,
          severity        TEXT    NOT NULL CHECK (severity IN ('warning', 'protection', 'fault')),
          level           INTEGER,
          origin          TEXT    NOT NULL CHECK (origin IN ('bms', 'rule', 'gateway')),
          rule_id         TEXT,
          raised_at       INTEGER NOT NULL,
          cleared_at      INTEGER,
          acknowledged_at INTEGER,
          acknowledged_by TEXT,
          value           REAL,
          message         TEXT    NOT NULL
        );
        CREATE INDEX alarm_events_raised ON alarm_events (raised_at);
        CREATE INDEX alarm_events_pack_raised ON alarm_events (pack_id, raised_at);
        CREATE INDEX alarm_events_active ON alarm_events (pack_id) WHERE cleared_at IS NULL;
      `);
    },
  },
  {
    id: 'records/002',
    up(db) {
      db.exec(`
        CREATE TABLE audit_log (
          id       INTEGER PRIMARY KEY AUTOINCREMENT,
          at       INTEGER NOT NULL,
          user     TEXT    NOT NULL,
          pack_id  TEXT,
          action   TEXT    NOT NULL,
          old_json TEXT,
          new_json TEXT,
          result   TEXT    NOT NULL CHECK (result IN ('ok', 'refused', 'failed')),
          detail   TEXT
        );
        CREATE INDEX audit_log_at ON audit_log (at);
        CREATE INDEX audit_log_pack_at ON audit_log (pack_id, at);
        CREATE INDEX audit_log_user_at ON audit_log (user, at);
      `);
    },
  },
  {
    id: 'records/003',
    up(db) {
      // User names are unique without regard to ASCII case (NOCASE), so `Admin` cannot be
      // created next to `admin` and impersonate it in the audit log.
      db.exec(`
        CREATE TABLE users (
          username      TEXT    NOT NULL PRIMARY KEY COLLATE NOCASE,
          role          TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
          password_hash TEXT    NOT NULL,
          created_at    INTEGER NOT NULL
        );
        CREATE TABLE tokens (
          hash       TEXT    NOT NULL PRIMARY KEY,
          username   TEXT    NOT NULL COLLATE NOCASE REFERENCES users (username) ON DELETE CASCADE,
          kind       TEXT    NOT NULL CHECK (kind IN ('session', 'api')),
          name       TEXT,
          created_at INTEGER NOT NULL,
          expires_at INTEGER
        );
        CREATE INDEX tokens_username ON tokens (username);
        CREATE INDEX tokens_expires ON tokens (expires_at) WHERE expires_at IS NOT NULL;
      `);
    },
  },
];
