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
 *
 * `records/005` adds the acting user's id to the audit log (`user_id`, NULL for entries that
 * no account made and for those made before).
 *
 * `records/006` adds organisations (a tree: `orgs` with its closure table `org_closure`, ADR
 * 0016) and memberships. The file's own organisation becomes a root (a `customer` named
 * "Local organisation", with a fresh code), and each account of it a member with its role
 * mapped (`orgRoleOf`); the oldest admin is the manager, the person in charge. Accounts of
 * other organisations (none on a single box) stay as they are.
 *
 * `records/007` adds the accounts' e-mail addresses and the sign-up/reset codes; `records/008`
 * plants (storage plants.ts), their visitors and their collectors (a gateway is a collector
 * of at most one plant: its id is the key).
 * `records/010` adds point groups (storage points.ts, seed 000 "Set of points"): one row per
 * group of an organisation, its roles and per-model points as JSON.
 */
import { randomBytes } from 'node:crypto';
import { newOrgCode, orgRoleOf } from '@openbms/storage';
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
  {
    id: 'records/005',
    up(db) {
      // The audit log records the acting principal (ADR: principal and policy): its user id
      // beside the name. Entries made before stay without one (NULL); nothing is rebuilt.
      db.exec('ALTER TABLE audit_log ADD COLUMN user_id TEXT');
    },
  },
  {
    id: 'records/006',
    up(db, { identity }) {
      db.exec(`
        CREATE TABLE orgs (
          id         TEXT    NOT NULL PRIMARY KEY,
          parent_id  TEXT    REFERENCES orgs (id),
          kind       TEXT    NOT NULL CHECK (kind IN ('platform', 'battery_maker', 'dealer', 'installer', 'customer', 'group')),
          name       TEXT    NOT NULL,
          code       TEXT    NOT NULL UNIQUE,
          depth      INTEGER NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX orgs_parent ON orgs (parent_id);
        CREATE TABLE org_closure (
          ancestor   TEXT    NOT NULL REFERENCES orgs (id),
          descendant TEXT    NOT NULL REFERENCES orgs (id),
          depth      INTEGER NOT NULL,
          PRIMARY KEY (ancestor, descendant)
        ) WITHOUT ROWID;
        CREATE INDEX org_closure_descendant ON org_closure (descendant, ancestor);
        CREATE TABLE memberships (
          user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          org_id     TEXT    NOT NULL REFERENCES orgs (id),
          role       TEXT    NOT NULL CHECK (role IN ('manager', 'administrator', 'operation_manager',
                               'om_user', 'installer', 'general_user', 'marketing', 'end_user')),
          created_at INTEGER NOT NULL,
          PRIMARY KEY (user_id, org_id)
        ) WITHOUT ROWID;
        CREATE INDEX memberships_org ON memberships (org_id, created_at);
        CREATE UNIQUE INDEX memberships_one_manager ON memberships (org_id) WHERE role = 'manager';
      `);
      const org = identity.orgId;
      const users = db
        .prepare(
          'SELECT id, role, created_at FROM users WHERE org_id = ? ORDER BY created_at, username',
        )
        .all(org) as { id: string; role: 'admin' | 'operator' | 'viewer'; created_at: number }[];
      const created = users[0]?.created_at ?? Date.now();
      db.prepare(
        "INSERT INTO orgs (id, parent_id, kind, name, code, depth, created_at) VALUES (?, NULL, 'customer', 'Local organisation', ?, 0, ?)",
      ).run(org, newOrgCode(randomBytes), created);
      db.prepare('INSERT INTO org_closure (ancestor, descendant, depth) VALUES (?, ?, 0)').run(
        org,
        org,
      );
      const member = db.prepare(
        'INSERT INTO memberships (user_id, org_id, role, created_at) VALUES (?, ?, ?, ?)',
      );
      let manager = false;
      for (const u of users) {
        const role = u.role === 'admin' && !manager ? 'manager' : orgRoleOf(u.role);
        if (role === 'manager') manager = true;
        member.run(u.id, org, role, u.created_at);
      }
    },
  },
  {
    id: 'records/007',
    up(db) {
      // Self-service accounts (storage accounts.ts): an optional e-mail address (plus time zone and phone) per user,
      // unique across the file (stored lower-cased), and the pending sign-up/reset codes.
      db.exec(`
        ALTER TABLE users ADD COLUMN email TEXT;
        ALTER TABLE users ADD COLUMN timezone TEXT;
        ALTER TABLE users ADD COLUMN phone TEXT;
        CREATE UNIQUE INDEX users_email ON users (email) WHERE email IS NOT NULL;
        CREATE TABLE account_codes (
          purpose    TEXT    NOT NULL CHECK (purpose IN ('signup', 'reset')),
          email      TEXT    NOT NULL,
          hash       TEXT    NOT NULL,
          tries      INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          PRIMARY KEY (purpose, email)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    id: 'records/008',
    up(db) {
      // Plants (storage plants.ts): owned by an organisation, shared read-only with visitors,
      // holding collectors (gateways, each of one plant at most). Times are ms; lat/lon degrees.
      db.exec(`
        CREATE TABLE plants (
          id            TEXT    NOT NULL PRIMARY KEY,
          org_id        TEXT    NOT NULL REFERENCES orgs (id),
          name          TEXT    NOT NULL,
          business_type TEXT    NOT NULL,
          plant_type    TEXT    NOT NULL,
          lat           REAL,
          lon           REAL,
          time_zone     TEXT    NOT NULL,
          created_at    INTEGER NOT NULL,
          created_by    TEXT,
          CHECK ((lat IS NULL) = (lon IS NULL))
        );
        CREATE INDEX plants_org ON plants (org_id, name);
        CREATE TABLE plant_visitors (
          plant_id   TEXT    NOT NULL REFERENCES plants (id) ON DELETE CASCADE,
          user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          created_at INTEGER NOT NULL,
          created_by TEXT,
          PRIMARY KEY (plant_id, user_id)
        ) WITHOUT ROWID;
        CREATE INDEX plant_visitors_user ON plant_visitors (user_id, plant_id);
        CREATE TABLE plant_collectors (
          gateway_id TEXT    NOT NULL PRIMARY KEY,
          plant_id   TEXT    NOT NULL REFERENCES plants (id),
          name       TEXT,
          serial     TEXT,
          created_at INTEGER NOT NULL,
          created_by TEXT
        ) WITHOUT ROWID;
        CREATE INDEX plant_collectors_plant ON plant_collectors (plant_id, created_at);
      `);
    },
  },
  {
    id: 'records/009',
    up(db) {
      // The fleet's device list and the approvals that move devices (storage devices.ts,
      // docs/fleet.md "Devices"): as PostgreSQL's 008-devices.
      db.exec(`
        CREATE TABLE devices (
          id           TEXT    NOT NULL PRIMARY KEY,
          serial       TEXT    NOT NULL,
          serial_lc    TEXT    NOT NULL UNIQUE,
          barcode      TEXT,
          barcode_lc   TEXT,
          nickname     TEXT,
          nickname_lc  TEXT,
          type         TEXT    NOT NULL CHECK (type IN ('bms', 'collector', 'tracker')),
          model        TEXT,
          manufacturer TEXT,
          produced_on  TEXT,
          joined_at    INTEGER NOT NULL,
          created_by   TEXT    NOT NULL,
          org_id       TEXT    NOT NULL REFERENCES orgs (id),
          activation   TEXT    NOT NULL CHECK (activation IN ('enabled', 'not_enabled')),
          expires_at   INTEGER,
          gateway_id   TEXT,
          pack_id      TEXT,
          last_seen_at INTEGER
        );
        CREATE INDEX devices_org ON devices (org_id, id);
        CREATE INDEX devices_barcode ON devices (barcode_lc) WHERE barcode_lc IS NOT NULL;
        CREATE INDEX devices_nickname ON devices (nickname_lc) WHERE nickname_lc IS NOT NULL;
        CREATE INDEX devices_pack ON devices (gateway_id, pack_id) WHERE gateway_id IS NOT NULL;
        CREATE TABLE approvals (
          id                TEXT    NOT NULL PRIMARY KEY,
          kind              TEXT    NOT NULL CHECK (kind IN ('unbind')),
          device_id         TEXT    NOT NULL REFERENCES devices (id),
          serial            TEXT    NOT NULL,
          from_org          TEXT    NOT NULL,
          to_org            TEXT    NOT NULL,
          requested_by      TEXT    NOT NULL,
          requested_by_name TEXT    NOT NULL,
          requested_at      INTEGER NOT NULL,
          reason            TEXT,
          state             TEXT    NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
          decided_by        TEXT,
          decided_by_name   TEXT,
          decided_at        INTEGER,
          decision_reason   TEXT
        );
        CREATE UNIQUE INDEX approvals_one_pending ON approvals (device_id) WHERE state = 'pending';
        CREATE INDEX approvals_to ON approvals (to_org, id);
        CREATE INDEX approvals_asker ON approvals (requested_by, id);
      `);
    },
  },
  {
    id: 'records/010',
    up(db) {
      // Point groups (storage points.ts): an organisation's groups in order; roles as a JSON
      // array, points as a JSON object (device model → points shown). No row: the default
      // End User Group. (records/008 and 009 are other parts of the fleet.)
      db.exec(`
        CREATE TABLE point_groups (
          org_id     TEXT    NOT NULL,
          position   INTEGER NOT NULL,
          name       TEXT    NOT NULL,
          kind       TEXT    NOT NULL CHECK (kind IN ('end_user', 'custom')),
          roles      TEXT    NOT NULL,
          points     TEXT    NOT NULL,
          updated_at INTEGER NOT NULL,
          PRIMARY KEY (org_id, position)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    id: 'records/011',
    up(db) {
      // My account (storage accounts.ts): a user's language in the web console, and codes that
      // confirm a new e-mail address (purpose `email`). The codes' table is made again for its
      // wider CHECK (SQLite cannot change one); pending codes are copied.
      db.exec(`
        ALTER TABLE users ADD COLUMN language TEXT CHECK (language IN ('en', 'zh'));
        CREATE TABLE account_codes_new (
          purpose    TEXT    NOT NULL CHECK (purpose IN ('signup', 'reset', 'email')),
          email      TEXT    NOT NULL,
          hash       TEXT    NOT NULL,
          tries      INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          PRIMARY KEY (purpose, email)
        ) WITHOUT ROWID;
        INSERT INTO account_codes_new SELECT purpose, email, hash, tries, created_at, expires_at FROM account_codes;
        DROP TABLE account_codes;
        ALTER TABLE account_codes_new RENAME TO account_codes;
      `);
    },
  },
  {
    id: 'records/012',
    up(db) {
      // Tracker positions (storage positions.ts, issue 17): keyed by device and device time,
      // so a duplicate frame is stored once and a track is a range of the key. Extras as JSON
      // text. No foreign key: a tracker's fixes are kept as it reports them.
      db.exec(`
        CREATE TABLE positions (
          device_id   TEXT    NOT NULL,
          t           INTEGER NOT NULL,
          received_at INTEGER NOT NULL,
          lat         REAL    NOT NULL,
          lon         REAL    NOT NULL,
          speed_kmh   REAL,
          course      REAL,
          alt_m       REAL,
          satellites  INTEGER,
          extras      TEXT,
          PRIMARY KEY (device_id, t)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    id: 'records/013',
    up(db) {
      // A user's notification settings (storage accounts.ts NotifySettings) as JSON text;
      // null: none.
      db.exec(`ALTER TABLE users ADD COLUMN notify TEXT;`);
    },
  },
  {
    id: 'records/014',
    up(db) {
      // Instructions to GPS trackers (storage instructions.ts, issue 17) and each tracker's
      // armed state. The partial index serves the nodes' poll for queued instructions.
      db.exec(`
        CREATE TABLE instructions (
          id              TEXT    NOT NULL PRIMARY KEY,
          device_id       TEXT    NOT NULL,
          org_id          TEXT    NOT NULL,
          kind            TEXT    NOT NULL,
          state           TEXT    NOT NULL,
          created_at      INTEGER NOT NULL,
          created_by      TEXT    NOT NULL,
          created_by_name TEXT    NOT NULL,
          expires_at      INTEGER NOT NULL,
          sent_at         INTEGER,
          sent_by         TEXT,
          replied_at      INTEGER,
          result          TEXT,
          reply           TEXT
        );
        CREATE INDEX instructions_device ON instructions (device_id, created_at);
        CREATE INDEX instructions_open ON instructions (state, device_id) WHERE state IN ('queued', 'sent');
        CREATE TABLE tracker_state (
          device_id    TEXT    NOT NULL PRIMARY KEY,
          armed        INTEGER NOT NULL,
          armed_at     INTEGER NOT NULL,
          armed_source TEXT    NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    id: 'records/015',
    up(db) {
      // Tracker geofences (storage geofences.ts, issue 17): the shape as JSON text; the devices
      // a fence lists; the inside/outside state per (device, fence) with the device time of the
      // fix that set it (only a later fix moves it). No foreign key to devices: a fence may
      // list a tracker that is deleted later (it then matches nothing).
      db.exec(`
        CREATE TABLE geofences (
          id         TEXT    PRIMARY KEY,
          org_id     TEXT    NOT NULL REFERENCES orgs (id),
          name       TEXT    NOT NULL,
          shape      TEXT    NOT NULL,
          alarm      TEXT    NOT NULL CHECK (alarm IN ('enter', 'exit', 'both')),
          org_wide   INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE INDEX geofences_org ON geofences (org_id);
        CREATE TABLE geofence_devices (
          fence_id  TEXT NOT NULL REFERENCES geofences (id) ON DELETE CASCADE,
          device_id TEXT NOT NULL,
          PRIMARY KEY (fence_id, device_id)
        ) WITHOUT ROWID;
        CREATE INDEX geofence_devices_device ON geofence_devices (device_id);
        CREATE TABLE geofence_states (
          device_id TEXT    NOT NULL,
          fence_id  TEXT    NOT NULL REFERENCES geofences (id) ON DELETE CASCADE,
          inside    INTEGER NOT NULL,
          t         INTEGER NOT NULL,
          PRIMARY KEY (device_id, fence_id)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    id: 'records/017',
    up(db) {
      // Renewal history (storage renewals.ts, issue 17): one row per device renewed, with the
      // expiry before and after (NULL: none / lifetime), who and when, and the device's
      // organisation then (the fleet-level history is scoped by it).
      db.exec(`
        CREATE TABLE renewals (
          id                  TEXT    PRIMARY KEY,
          device_id           TEXT    NOT NULL,
          serial              TEXT    NOT NULL,
          org_id              TEXT    NOT NULL,
          period              TEXT    NOT NULL CHECK (period IN ('1y', '2y', 'lifetime')),
          previous_expires_at INTEGER,
          new_expires_at      INTEGER,
          by_user             TEXT    NOT NULL,
          by_name             TEXT    NOT NULL,
          at                  INTEGER NOT NULL
        );
        CREATE INDEX renewals_device ON renewals (device_id, id);
        CREATE INDEX renewals_org ON renewals (org_id, at);
      `);
    },
  },
  {
    id: 'records/018',
    up(db) {
      // Remote collectors of the fleet cloud (storage remote-collectors.ts, issue 15): one row
      // per serial, the claim code and the uplink secret as hashes only; a gateway id belongs
      // to one collector. Organisation and plant are set by the claim (no foreign keys: a
      // revoked collector outlives its plant).
      db.exec(`
        CREATE TABLE remote_collectors (
          serial         TEXT    PRIMARY KEY,
          gateway_id     TEXT    NOT NULL UNIQUE,
          state          TEXT    NOT NULL CHECK (state IN ('unclaimed', 'claimed', 'revoked')),
          org_id         TEXT,
          plant_id       TEXT,
          claim_hash     TEXT    NOT NULL,
          secret_hash    TEXT,
          version        TEXT,
          first_seen_at  INTEGER NOT NULL,
          last_seen_at   INTEGER NOT NULL,
          claimed_at     INTEGER,
          claimed_by     TEXT,
          revoked_at     INTEGER,
          revoked_by     TEXT,
          credentials_at INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX remote_collectors_org ON remote_collectors (org_id, serial)
          WHERE org_id IS NOT NULL;
      `);
    },
  },
];
