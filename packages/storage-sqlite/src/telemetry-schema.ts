/**
 * Telemetry tables. Packs (each of one gateway of one organisation) and layouts (the ordered series names a row carries) are
 * interned as small integers so a row holds `(pack, ts, blob)` and nothing else. Raw rows
 * live in a rowid table (appends fill pages completely) with a unique `(pack, ts)` index, so
 * rewriting a sample is a no-op. Rollups have one row per pack and bucket with every series
 * folded in one blob. `telemetry_slots` counts samples and CSV characters per pack and
 * 15-minute slot of UTC time as they are written, so the daily-file list of any time zone
 * sums slots and reads no sample (`telemetry_days`, per UTC day, until telemetry/003); `telemetry_rollup_state` records
 * up to where each tier is folded; `telemetry_latest` keeps the full last snapshot per pack.
 */
import type { Migration } from './db.js';
import type { Tier } from '@openbms/storage';

export type RollupTier = Exclude<Tier, 'raw'>;

export const MINUTE = 60_000;
export const DAY = 86_400_000;
/** Width of a `telemetry_slots` slot (the port's dayZones.SLOT_MS). */
export const SLOT = 15 * MINUTE;

/** Bucket width of each tier (raw: none, ms). */
export const STEP: Record<Tier, number> = {
  raw: 0,
  '1m': MINUTE,
  '15m': 15 * MINUTE,
  '1h': 60 * MINUTE,
};
export const ROLLUP_TIERS: readonly RollupTier[] = ['1m', '15m', '1h'];
export const TIERS: readonly Tier[] = ['raw', ...ROLLUP_TIERS];
export const TABLE: Record<Tier, string> = {
  raw: 'telemetry_raw',
  '1m': 'telemetry_1m',
  '15m': 'telemetry_15m',
  '1h': 'telemetry_1h',
};

const rollupTable = (t: RollupTier): string => `
  CREATE TABLE ${TABLE[t]} (pack INTEGER NOT NULL, ts INTEGER NOT NULL, data BLOB NOT NULL);
  CREATE UNIQUE INDEX ${TABLE[t]}_pack_ts ON ${TABLE[t]} (pack, ts);`;

export const TELEMETRY_MIGRATIONS: Migration[] = [
  {
    id: 'telemetry/001',
    up(db) {
      db.exec(`
        CREATE TABLE telemetry_packs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        CREATE TABLE telemetry_layouts (id INTEGER PRIMARY KEY, fields TEXT NOT NULL UNIQUE);
        CREATE TABLE telemetry_raw (
          pack INTEGER NOT NULL, ts INTEGER NOT NULL, data BLOB NOT NULL,
          PRIMARY KEY (pack, ts)) WITHOUT ROWID;
        ${ROLLUP_TIERS.map(rollupTable).join('\n')}
        CREATE TABLE telemetry_latest (pack INTEGER PRIMARY KEY, ts INTEGER NOT NULL, snapshot TEXT NOT NULL);
        CREATE TABLE telemetry_days (
          pack INTEGER NOT NULL, day INTEGER NOT NULL, samples INTEGER NOT NULL,
          chars INTEGER NOT NULL, layout INTEGER NOT NULL, cols INTEGER NOT NULL,
          PRIMARY KEY (pack, day)) WITHOUT ROWID;
        CREATE TABLE telemetry_rollup_state (
          pack INTEGER NOT NULL, tier TEXT NOT NULL, done_until INTEGER NOT NULL,
          PRIMARY KEY (pack, tier)) WITHOUT ROWID;
      `);
    },
  },
  {
    // Packs belong to a gateway of an organisation: a pack id is unique within its gateway
    // (ADR: identity). Existing packs keep their ids (the raw and rollup rows point at them)
    // and get the file's organisation and gateway.
    id: 'telemetry/002',
    up(db, { identity }) {
      db.exec(`
        CREATE TABLE telemetry_packs_v2 (
          id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, gateway_id TEXT NOT NULL, name TEXT NOT NULL,
          UNIQUE (gateway_id, name));
      `);
      db.prepare(
        'INSERT INTO telemetry_packs_v2 (id, org_id, gateway_id, name) SELECT id, ?, ?, name FROM telemetry_packs',
      ).run(identity.orgId, identity.gatewayId);
      db.exec(`
        DROP TABLE telemetry_packs;
        ALTER TABLE telemetry_packs_v2 RENAME TO telemetry_packs;
        CREATE INDEX telemetry_packs_org ON telemetry_packs (org_id, gateway_id);
      `);
    },
  },
  {
    // Daily files follow the site's time zone (issue 11): the per-UTC-day counters become
    // per-15-minute-slot counters, which add up to any zone's local days. Samples are counted
    // again per slot from the raw rows (the (pack, ts) key walks them in order); a slot's
    // characters and widest layout come from its old day, its characters in proportion to its
    // samples. The raw rows are not touched.
    id: 'telemetry/003',
    up(db) {
      db.exec(`
        CREATE TABLE telemetry_slots (
          pack INTEGER NOT NULL, slot INTEGER NOT NULL, samples INTEGER NOT NULL,
          chars INTEGER NOT NULL, layout INTEGER NOT NULL, cols INTEGER NOT NULL,
          PRIMARY KEY (pack, slot)) WITHOUT ROWID;
        INSERT INTO telemetry_slots (pack, slot, samples, chars, layout, cols)
          SELECT k.pack, k.slot, k.n,
            coalesce(CAST(d.chars * 1.0 * k.n / d.samples AS INTEGER), 0),
            coalesce(d.layout, (SELECT min(id) FROM telemetry_layouts), 0), coalesce(d.cols, 0)
          FROM (SELECT pack, ts / ${SLOT} AS slot, count(*) AS n FROM telemetry_raw GROUP BY pack, ts / ${SLOT}) k
          LEFT JOIN telemetry_days d ON d.pack = k.pack AND d.day = k.slot * ${SLOT} / ${DAY};
        DROP TABLE telemetry_days;
      `);
    },
  },
];
