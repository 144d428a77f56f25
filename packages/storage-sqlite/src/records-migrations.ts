/**
 * Schema of the records module: alarm events, the audit log, users and their tokens.
 * Ids are `records/NNN`; a step is never edited once released, only followed by a new one.
 *
 * `records/004` makes the records tenant-aware (ADR: identity): every row gets the
 * organisation and gateway it belongs to (the file's identity for the rows already there),
 * alarm events, audit entries and users get ULIDs, and the old integer ids of events and
 * entries stay as their `local_id` (the gateway's own number, which the API shows), so a
 * bookmark or an audit line naming event 42 still finds it. ULIDs of existing rows take their
 * time from the row (raise time, entry time, creation time), in the old order. User names
 * become unique within an organisation; tokens point at their user's id.
 */
import type { Migration } from './db.js';

type Row = Record<string, unknown>;

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
  {
    id: 'records/004',
    up(db, { identity, newId }) {
      const org = identity.orgId;
      const gw = identity.gatewayId;
      db.exec(`
        CREATE TABLE alarm_events_v4 (
          id              TEXT    NOT NULL PRIMARY KEY,
          local_id        INTEGER NOT NULL,
          org_id          TEXT    NOT NULL,
          gateway_id      TEXT    NOT NULL,
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
          message         TEXT    NOT NULL,
          UNIQUE (gateway_id, local_id)
        );
        CREATE TABLE audit_log_v4 (
          id         TEXT    NOT NULL PRIMARY KEY,
          local_id   INTEGER NOT NULL,
          org_id     TEXT    NOT NULL,
          gateway_id TEXT    NOT NULL,
          at         INTEGER NOT NULL,
          user       TEXT    NOT NULL,
          pack_id    TEXT,
          action     TEXT    NOT NULL,
          old_json   TEXT,
          new_json   TEXT,
          result     TEXT    NOT NULL CHECK (result IN ('ok', 'refused', 'failed')),
          detail     TEXT,
          UNIQUE (gateway_id, local_id)
        );
        CREATE TABLE users_v4 (
          id            TEXT    NOT NULL PRIMARY KEY,
          org_id        TEXT    NOT NULL,
          gateway_id    TEXT    NOT NULL,
          username      TEXT    NOT NULL COLLATE NOCASE,
          role          TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
          password_hash TEXT    NOT NULL,
          created_at    INTEGER NOT NULL,
          UNIQUE (org_id, username)
        );
        CREATE TABLE tokens_v4 (
          hash       TEXT    NOT NULL PRIMARY KEY,
          user_id    TEXT    NOT NULL REFERENCES users_v4 (id) ON DELETE CASCADE,
          org_id     TEXT    NOT NULL,
          gateway_id TEXT    NOT NULL,
          kind       TEXT    NOT NULL CHECK (kind IN ('session', 'api')),
          name       TEXT,
          created_at INTEGER NOT NULL,
          expires_at INTEGER
        );
      `);
      const copy = (from: string, to: string, order: string, time: string): void => {
        const rows = db.prepare(`SELECT * FROM ${from} ORDER BY ${order}`).all() as Row[];
        for (const r of rows) {
          const row: Row = { ...r, id: newId(r[time] as number), org_id: org, gateway_id: gw };
          if (from !== 'users') row['local_id'] = r['id'];
          const cols = Object.keys(row);
          db.prepare(
            `INSERT INTO ${to} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`,
          ).run(row);
        }
      };
      copy('alarm_events', 'alarm_events_v4', 'raised_at, id', 'raised_at');
      copy('audit_log', 'audit_log_v4', 'at, id', 'at');
      copy('users', 'users_v4', 'created_at, username', 'created_at');
      db.exec(`
        INSERT INTO tokens_v4 (hash, user_id, org_id, gateway_id, kind, name, created_at, expires_at)
          SELECT t.hash, u.id, u.org_id, u.gateway_id, t.kind, t.name, t.created_at, t.expires_at
          FROM tokens t JOIN users_v4 u ON u.username = t.username;
        DROP TABLE tokens;
        DROP TABLE users;
        DROP TABLE audit_log;
        DROP TABLE alarm_events;
        ALTER TABLE alarm_events_v4 RENAME TO alarm_events;
        ALTER TABLE audit_log_v4 RENAME TO audit_log;
        ALTER TABLE users_v4 RENAME TO users;
        ALTER TABLE tokens_v4 RENAME TO tokens;
        CREATE INDEX alarm_events_org_raised ON alarm_events (org_id, raised_at);
        CREATE INDEX alarm_events_pack_raised ON alarm_events (gateway_id, pack_id, raised_at);
        CREATE INDEX alarm_events_active ON alarm_events (gateway_id, pack_id) WHERE cleared_at IS NULL;
        CREATE INDEX audit_log_org_at ON audit_log (org_id, at);
        CREATE INDEX audit_log_pack_at ON audit_log (gateway_id, pack_id, at);
        CREATE INDEX audit_log_user_at ON audit_log (gateway_id, user, at);
        CREATE INDEX tokens_user ON tokens (user_id);
        CREATE INDEX tokens_expires ON tokens (expires_at) WHERE expires_at IS NOT NULL;
      `);
    },
  },
];
