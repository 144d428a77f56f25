/**
 * Telemetry tables. Packs (each of one gateway of one organisation) and layouts (the ordered series names a row carries) are
 * interned as small integers so a row holds `(pack, ts, blob)` and nothing else. Raw rows
 * live in a rowid table (appends fill pages completely) with a unique `(pack, ts)` index, so
 * rewriting a sample is a no-op. Rollups have one row per pack and bucket with every series
 * folded in one blob. `telemetry_days` counts samples and CSV characters per pack and UTC day
 * as they are written (the daily-file list needs no scan); `telemetry_rollup_state` records
 * up to where each tier is folded; `telemetry_latest` keeps the full last snapshot per pack.
 */
import type { Migration } from './db.js';
import type { Tier } from '@openbms/storage';

export type RollupTier = Exclude<Tier, 'raw'>;

export const MINUTE = 60_000;
export const DAY = 86_400_000;

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
];
