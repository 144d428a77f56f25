/**
 * The PostgreSQL schema, as numbered steps (migrate.ts). A step is never edited once
 * released, only followed by a new one.
 *
 * Telemetry: `telemetry_raw` holds one row per sample, `(pack, ts, v)`, where `v` is a
 * float8 array indexed by series number (`telemetry_series`: a name gets the next number the
 * first time it is written, and keeps it), NULL where a sample lacks the series; so a series
 * is the same array element in every row and SQL aggregates it directly. Rollup tiers hold,
 * per pack and bucket, parallel arrays of count, min, max and sum per series. Raw and rollup
 * tables are partitioned by range of `ts` (ms since 1970): partitions are created as rows
 * arrive (telemetry-partitions.ts), a whole partition past retention is dropped, and a BRIN
 * index on `ts` serves scans across packs. The primary key (pack, ts) makes a sample written
 * twice a no-op. Times are bigint ms (the port's unit: no conversion, exact).
 */
import type { PgMigration } from './migrate.js';

const rollup = (t: string): string => `
  CREATE TABLE telemetry_${t} (
    pack int NOT NULL, ts bigint NOT NULL,
    n int[] NOT NULL, mn float8[] NOT NULL, mx float8[] NOT NULL, sm float8[] NOT NULL,
    PRIMARY KEY (pack, ts)) PARTITION BY RANGE (ts);
  CREATE INDEX telemetry_${t}_ts ON telemetry_${t} USING brin (ts);`;

export const MIGRATIONS: PgMigration[] = [
  {
    id: '001-identity',
    sql: `CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);`,
  },
  {
    id: '002-telemetry',
    sql: `
      CREATE TABLE telemetry_packs (
        id serial PRIMARY KEY, org_id text NOT NULL, gateway_id text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        UNIQUE (gateway_id, name));
      CREATE INDEX telemetry_packs_org ON telemetry_packs (org_id, gateway_id);
      CREATE TABLE telemetry_series (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
      CREATE TABLE telemetry_raw (
        pack int NOT NULL, ts bigint NOT NULL, v float8[] NOT NULL,
        PRIMARY KEY (pack, ts)) PARTITION BY RANGE (ts);
      CREATE INDEX telemetry_raw_ts ON telemetry_raw USING brin (ts);
      ${rollup('1m')}
      ${rollup('15m')}
      ${rollup('1h')}
      CREATE TABLE telemetry_latest (pack int PRIMARY KEY, ts bigint NOT NULL, snapshot json NOT NULL);
      CREATE TABLE telemetry_days (
        pack int NOT NULL, day int NOT NULL, samples int NOT NULL, chars bigint NOT NULL,
        header int NOT NULL, cols int NOT NULL, PRIMARY KEY (pack, day));
      CREATE TABLE telemetry_rollup_state (
        pack int NOT NULL, tier text NOT NULL, done_until bigint NOT NULL, PRIMARY KEY (pack, tier));
    `,
  },
  {
    // Alarm events, the audit log, users and tokens: tenant-aware from the start (ADR 0012).
    // local_id is the gateway's own number, handed out by local_ids (never reused).
    id: '003-records',
    sql: `
      CREATE TABLE local_ids (gateway_id text NOT NULL, kind text NOT NULL, last bigint NOT NULL,
        PRIMARY KEY (gateway_id, kind));
      CREATE TABLE alarm_events (
        id text COLLATE "C" PRIMARY KEY, local_id bigint NOT NULL, org_id text NOT NULL, gateway_id text NOT NULL,
        pack_id text NOT NULL, code text NOT NULL,
        severity text NOT NULL CHECK (severity IN ('warning', 'protection', 'fault')),
        level int, origin text NOT NULL CHECK (origin IN ('bms', 'rule', 'gateway')), rule_id text,
        raised_at bigint NOT NULL, cleared_at bigint, acknowledged_at bigint, acknowledged_by text,
        value float8, message text NOT NULL,
        UNIQUE (gateway_id, local_id));
      CREATE INDEX alarm_events_org_raised ON alarm_events (org_id, raised_at);
      CREATE INDEX alarm_events_pack_raised ON alarm_events (gateway_id, pack_id, raised_at);
      CREATE INDEX alarm_events_active ON alarm_events (gateway_id, pack_id) WHERE cleared_at IS NULL;
      CREATE TABLE audit_log (
        id text COLLATE "C" PRIMARY KEY, local_id bigint NOT NULL, org_id text NOT NULL, gateway_id text NOT NULL,
        at bigint NOT NULL, user_name text NOT NULL, user_id text, pack_id text, action text NOT NULL,
        old_json text, new_json text,
        result text NOT NULL CHECK (result IN ('ok', 'refused', 'failed')), detail text,
        UNIQUE (gateway_id, local_id));
      CREATE INDEX audit_log_org_at ON audit_log (org_id, at);
      CREATE INDEX audit_log_pack_at ON audit_log (gateway_id, pack_id, at);
      CREATE INDEX audit_log_user_at ON audit_log (gateway_id, user_name, at);
      -- Names are unique within an organisation ignoring ASCII letter case only (as SQLite's
      -- NOCASE): lower() would also fold other letters.
      CREATE TABLE users (
        id text COLLATE "C" PRIMARY KEY, org_id text NOT NULL, gateway_id text NOT NULL, username text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
        password_hash text NOT NULL, created_at bigint NOT NULL);
      CREATE UNIQUE INDEX users_org_name ON users
        (org_id, translate(username, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'));
      CREATE TABLE tokens (
        hash text COLLATE "C" PRIMARY KEY, user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        org_id text NOT NULL, gateway_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('session', 'api')), name text,
        created_at bigint NOT NULL, expires_at bigint);
      CREATE INDEX tokens_user ON tokens (user_id);
      CREATE INDEX tokens_expires ON tokens (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
  {
    // Organisations (a tree, with its closure table: ADR 0016) and memberships (docs/fleet.md).
    // The box's own organisation and its accounts' memberships are made at open (orgs.ts
    // ensureRootOrg), as the identity may be stored only after the migrations ran.
    id: '004-orgs',
    sql: `
      CREATE TABLE orgs (
        id text COLLATE "C" PRIMARY KEY, parent_id text COLLATE "C" REFERENCES orgs (id),
        kind text NOT NULL CHECK (kind IN ('platform', 'battery_maker', 'dealer', 'installer', 'customer', 'group')),
        name text NOT NULL, code text COLLATE "C" NOT NULL UNIQUE, depth int NOT NULL,
        created_at bigint NOT NULL);
      CREATE INDEX orgs_parent ON orgs (parent_id);
      CREATE TABLE org_closure (
        ancestor text COLLATE "C" NOT NULL REFERENCES orgs (id),
        descendant text COLLATE "C" NOT NULL REFERENCES orgs (id),
        depth int NOT NULL,
        PRIMARY KEY (ancestor, descendant));
      CREATE INDEX org_closure_descendant ON org_closure (descendant, ancestor);
      CREATE TABLE memberships (
        user_id text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        org_id text COLLATE "C" NOT NULL REFERENCES orgs (id),
        role text NOT NULL CHECK (role IN ('manager', 'administrator', 'operation_manager',
          'om_user', 'installer', 'general_user', 'marketing', 'end_user')),
        created_at bigint NOT NULL,
        PRIMARY KEY (user_id, org_id));
      CREATE INDEX memberships_org ON memberships (org_id, created_at);
      CREATE UNIQUE INDEX memberships_one_manager ON memberships (org_id) WHERE role = 'manager';
    `,
  },
  {
    // Daily files follow the site's time zone (issue 11): the per-UTC-day counters become
    // per-15-minute-slot counters, which add up to any zone's local days. Samples are counted
    // again per slot from the raw rows; a slot's characters, header and widest row come from
    // its old day, the characters in proportion to its samples. Raw rows are not touched.
    id: '005-telemetry-slots',
    sql: `
      CREATE TABLE telemetry_slots (
        pack int NOT NULL, slot int NOT NULL, samples int NOT NULL, chars bigint NOT NULL,
        header int NOT NULL, cols int NOT NULL, PRIMARY KEY (pack, slot));
      INSERT INTO telemetry_slots (pack, slot, samples, chars, header, cols)
        SELECT k.pack, k.slot, k.n, coalesce(d.chars * k.n / d.samples, 0),
          coalesce(d.header, 4), coalesce(d.cols, 0)
        FROM (SELECT pack, (ts / 900000)::int AS slot, count(*)::int AS n FROM telemetry_raw
              GROUP BY pack, ts / 900000) k
        LEFT JOIN telemetry_days d ON d.pack = k.pack AND d.day = k.slot / 96;
      DROP TABLE telemetry_days;
    `,
  },
  {
    // Self-service accounts (storage accounts.ts): an optional e-mail address (plus time zone and phone) per user, unique
    // across the database (stored lower-cased), and the pending sign-up/reset codes, here so
    // that every API node on the database sees the code another one sent.
    id: '006-accounts',
    sql: `
      ALTER TABLE users ADD COLUMN email text;
      ALTER TABLE users ADD COLUMN timezone text;
      ALTER TABLE users ADD COLUMN phone text;
      CREATE UNIQUE INDEX users_email ON users (email) WHERE email IS NOT NULL;
      CREATE TABLE account_codes (
        purpose text NOT NULL CHECK (purpose IN ('signup', 'reset')),
        email text NOT NULL, hash text NOT NULL, tries int NOT NULL DEFAULT 0,
        created_at bigint NOT NULL, expires_at bigint NOT NULL,
        PRIMARY KEY (purpose, email));
    `,
  },
  {
    // Plants (storage plants.ts): owned by an organisation, shared read-only with visitors,
    // holding collectors (gateways, each of one plant at most: its id is the key).
    id: '007-plants',
    sql: `
      CREATE TABLE plants (
        id text COLLATE "C" PRIMARY KEY, org_id text COLLATE "C" NOT NULL REFERENCES orgs (id),
        name text NOT NULL, business_type text NOT NULL, plant_type text NOT NULL,
        lat float8, lon float8, time_zone text NOT NULL,
        created_at bigint NOT NULL, created_by text COLLATE "C",
        CHECK ((lat IS NULL) = (lon IS NULL)));
      CREATE INDEX plants_org ON plants (org_id, name);
      CREATE TABLE plant_visitors (
        plant_id text COLLATE "C" NOT NULL REFERENCES plants (id) ON DELETE CASCADE,
        user_id text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at bigint NOT NULL, created_by text COLLATE "C",
        PRIMARY KEY (plant_id, user_id));
      CREATE INDEX plant_visitors_user ON plant_visitors (user_id, plant_id);
      CREATE TABLE plant_collectors (
        gateway_id text COLLATE "C" PRIMARY KEY,
        plant_id text COLLATE "C" NOT NULL REFERENCES plants (id),
        name text, serial text, created_at bigint NOT NULL, created_by text COLLATE "C");
      CREATE INDEX plant_collectors_plant ON plant_collectors (plant_id, created_at);
    `,
  },
  {
    // The fleet's device list and the approvals that move devices (storage devices.ts,
    // docs/fleet.md "Devices"). Serial, bar code and nickname keep lower-cased copies (`*_lc`,
    // COLLATE "C") so "begins with" is a b-tree range; the serial's copy is unique (a serial is
    // registered once, any letter case). The list pages by id (ULIDs: newest first).
    id: '008-devices',
    sql: `
      CREATE TABLE devices (
        id text COLLATE "C" PRIMARY KEY,
        serial text NOT NULL, serial_lc text COLLATE "C" NOT NULL UNIQUE,
        barcode text, barcode_lc text COLLATE "C",
        nickname text, nickname_lc text COLLATE "C",
        type text NOT NULL CHECK (type IN ('bms', 'collector', 'tracker')),
        model text, manufacturer text, produced_on text,
        joined_at bigint NOT NULL, created_by text NOT NULL,
        org_id text COLLATE "C" NOT NULL REFERENCES orgs (id),
        activation text NOT NULL CHECK (activation IN ('enabled', 'not_enabled')),
        expires_at bigint,
        gateway_id text COLLATE "C", pack_id text COLLATE "C", last_seen_at bigint);
      CREATE INDEX devices_org ON devices (org_id, id);
      CREATE INDEX devices_barcode ON devices (barcode_lc) WHERE barcode_lc IS NOT NULL;
      CREATE INDEX devices_nickname ON devices (nickname_lc) WHERE nickname_lc IS NOT NULL;
      CREATE INDEX devices_pack ON devices (gateway_id, pack_id) WHERE gateway_id IS NOT NULL;
      CREATE TABLE approvals (
        id text COLLATE "C" PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('unbind')),
        device_id text COLLATE "C" NOT NULL REFERENCES devices (id),
        serial text NOT NULL,
        from_org text COLLATE "C" NOT NULL, to_org text COLLATE "C" NOT NULL,
        requested_by text COLLATE "C" NOT NULL, requested_by_name text NOT NULL,
        requested_at bigint NOT NULL, reason text,
        state text NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
        decided_by text, decided_by_name text, decided_at bigint, decision_reason text);
      CREATE UNIQUE INDEX approvals_one_pending ON approvals (device_id) WHERE state = 'pending';
      CREATE INDEX approvals_to ON approvals (to_org, id);
      CREATE INDEX approvals_asker ON approvals (requested_by, id);
    `,
  },
  {
    // Point groups (storage points.ts, seed 000 "Set of points"): an organisation's groups in
    // order, roles and per-model points as JSON text (read whole, never searched). No row: the
    // default End User Group. (007 and 008 are other parts of the fleet.)
    id: '009-point-groups',
    sql: `
      CREATE TABLE point_groups (
        org_id text COLLATE "C" NOT NULL, position int NOT NULL, name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('end_user', 'custom')),
        roles text NOT NULL, points text NOT NULL, updated_at bigint NOT NULL,
        PRIMARY KEY (org_id, position));
    `,
  },
  {
    // My account (storage accounts.ts): a user's language in the web console, and codes that
    // confirm a new e-mail address (purpose `email`).
    id: '010-user-prefs',
    sql: `
      ALTER TABLE users ADD COLUMN language text CHECK (language IN ('en', 'zh'));
      ALTER TABLE account_codes DROP CONSTRAINT account_codes_purpose_check;
      ALTER TABLE account_codes ADD CONSTRAINT account_codes_purpose_check
        CHECK (purpose IN ('signup', 'reset', 'email'));
    `,
  },
  {
    // Tracker positions (storage positions.ts, issue 17): keyed by device and device time, so
    // a duplicate frame is stored once and a track is a range of the key. No foreign key: a
    // tracker's fixes are kept as it reports them. (PostGIS is not needed for tracks and
    // mileage; geofences may add a geography column later.)
    id: '011-positions',
    sql: `
      CREATE TABLE positions (
        device_id text COLLATE "C" NOT NULL, t bigint NOT NULL, received_at bigint NOT NULL,
        lat double precision NOT NULL, lon double precision NOT NULL,
        speed_kmh double precision, course double precision, alt_m double precision,
        satellites int, extras text,
        PRIMARY KEY (device_id, t));
    `,
  },
  {
    // A user's notification settings (storage accounts.ts NotifySettings) as JSON text; null:
    // none.
    id: '012-user-notify',
    sql: `ALTER TABLE users ADD COLUMN notify text;`,
  },
  {
    // Instructions to GPS trackers (storage instructions.ts, issue 17) and each tracker's
    // armed state. The partial index serves the nodes' poll for queued instructions.
    id: '013-instructions',
    sql: `
      CREATE TABLE instructions (
        id text COLLATE "C" PRIMARY KEY, device_id text COLLATE "C" NOT NULL,
        org_id text COLLATE "C" NOT NULL, kind text NOT NULL,
        state text NOT NULL CHECK (state IN ('queued', 'sent', 'replied', 'failed', 'expired')),
        created_at bigint NOT NULL, created_by text NOT NULL, created_by_name text NOT NULL,
        expires_at bigint NOT NULL, sent_at bigint, sent_by text, replied_at bigint,
        result text, reply text);
      CREATE INDEX instructions_device ON instructions (device_id, created_at);
      CREATE INDEX instructions_open ON instructions (state, device_id)
        WHERE state IN ('queued', 'sent');
      CREATE TABLE tracker_state (
        device_id text COLLATE "C" PRIMARY KEY, armed boolean NOT NULL,
        armed_at bigint NOT NULL, armed_source text NOT NULL);
    `,
  },
  {
    // Tracker geofences (storage geofences.ts, issue 17): the shape as JSON text; the devices a
    // fence lists; the inside/outside state per (device, fence) with the device time of the fix
    // that set it (only a later fix moves it). No foreign key to devices: a fence may list a
    // tracker deleted later (it then matches nothing).
    id: '014-geofences',
    sql: `
      CREATE TABLE geofences (
        id text COLLATE "C" PRIMARY KEY, org_id text COLLATE "C" NOT NULL REFERENCES orgs (id),
        name text NOT NULL, shape text NOT NULL,
        alarm text NOT NULL CHECK (alarm IN ('enter', 'exit', 'both')),
        org_wide boolean NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL);
      CREATE INDEX geofences_org ON geofences (org_id);
      CREATE TABLE geofence_devices (
        fence_id text COLLATE "C" NOT NULL REFERENCES geofences (id) ON DELETE CASCADE,
        device_id text COLLATE "C" NOT NULL,
        PRIMARY KEY (fence_id, device_id));
      CREATE INDEX geofence_devices_device ON geofence_devices (device_id);
      CREATE TABLE geofence_states (
        device_id text COLLATE "C" NOT NULL,
        fence_id text COLLATE "C" NOT NULL REFERENCES geofences (id) ON DELETE CASCADE,
        inside boolean NOT NULL, t bigint NOT NULL,
        PRIMARY KEY (device_id, fence_id));
    `,
  },
  {
    // Renewal history (storage renewals.ts, issue 17): one row per device renewed, the expiry
    // before and after (NULL: none / lifetime), who and when, and the device's organisation
    // then (the fleet-level history is scoped by it). (013-015 are other tracker parts.)
    id: '016-renewals',
    sql: `
      CREATE TABLE renewals (
        id text COLLATE "C" PRIMARY KEY,
        device_id text COLLATE "C" NOT NULL, serial text NOT NULL,
        org_id text COLLATE "C" NOT NULL,
        period text NOT NULL CHECK (period IN ('1y', '2y', 'lifetime')),
        previous_expires_at bigint, new_expires_at bigint,
        by_user text COLLATE "C" NOT NULL, by_name text NOT NULL, at bigint NOT NULL);
      CREATE INDEX renewals_device ON renewals (device_id, id);
      CREATE INDEX renewals_org ON renewals (org_id, at);
    `,
  },
  {
    // Remote collectors of the fleet cloud (storage remote-collectors.ts, issue 15): one row
    // per serial, the claim code and the uplink secret as hashes only; a gateway id belongs to
    // one collector. Organisation and plant are set by the claim (no foreign keys: a revoked
    // collector outlives its plant).
    id: '017-remote-collectors',
    sql: `
      CREATE TABLE remote_collectors (
        serial text COLLATE "C" PRIMARY KEY,
        gateway_id text COLLATE "C" NOT NULL UNIQUE,
        state text NOT NULL CHECK (state IN ('unclaimed', 'claimed', 'revoked')),
        org_id text COLLATE "C", plant_id text COLLATE "C",
        claim_hash text NOT NULL, secret_hash text, version text,
        first_seen_at bigint NOT NULL, last_seen_at bigint NOT NULL,
        claimed_at bigint, claimed_by text, revoked_at bigint, revoked_by text,
        credentials_at bigint);
      CREATE INDEX remote_collectors_org ON remote_collectors (org_id, serial)
        WHERE org_id IS NOT NULL;
    `,
  },
];
