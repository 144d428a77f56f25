/**
 * The storage port: what the gateway and the server need from a database, with no database
 * in it. Adapters (storage-sqlite embedded by default; storage-postgres later) implement
 * these interfaces and pass the shared contract suite (`contract.ts`).
 *
 * Times are ms since the epoch (UTC). Pack ids are stable strings chosen by the gateway
 * (`<site>/<bus>/<address>`), never display names.
 */
import type { Alarm, Reading } from '@openbms/core';

/** Input checks every records adapter applies (REQUEST_INVALID naming the field). */
export * as recordChecks from './validate.js';

// ---------------------------------------------------------------- telemetry

/** One poll result of one pack. */
export interface Sample {
  packId: string;
  ts: number;
  snapshot: Reading;
}

/** Resolution tiers: raw samples and rollups with min/max/avg. */
export type Tier = 'raw' | '1m' | '15m' | '1h';

export interface RetentionPolicy {
  /** Days to keep per tier; Infinity keeps forever. Defaults: raw 30, 1m 365, 15m 365*2, 1h forever. */
  raw: number;
  '1m': number;
  '15m': number;
  '1h': number;
}

export const DEFAULT_RETENTION: RetentionPolicy = {
  raw: 30,
  '1m': 365,
  '15m': 730,
  '1h': Infinity,
};

/**
 * Series names: every numeric scalar metric of the snapshot (`voltage_v`, `current_a`,
 * `power_w`, `soc_pct`, `soh_pct`, `remaining_ah`, `full_ah`, `cycles`, `max_cell_mv`,
 * `min_cell_mv`, `delta_cell_mv`, `avg_cell_mv`, `max_temp_c`, `min_temp_c`, `mos_temp_c`,
 * `board_temp_c`, `env_temp_c`, booleans `charge_mos`/`discharge_mos`/`balancing` as 0/1)
 * plus array elements as `cell_mv.<i>` and `temps_c.<i>` (0-based).
 */
export type Field = string;

export interface HistoryQuery {
  packId: string;
  from: number;
  to: number;
  fields: readonly Field[];
  /** `auto` (default) picks the coarsest tier that still gives about maxPoints points. */
  resolution?: Tier | 'auto';
  /** Upper bound of points per series (default 2000): min/max-preserving downsampling. */
  maxPoints?: number;
}

/** One series: parallel arrays; for raw points min = max = avg. */
export interface Series {
  t: number[];
  avg: number[];
  min: number[];
  max: number[];
}

export interface HistoryResult {
  packId: string;
  resolution: Tier;
  from: number;
  to: number;
  series: Record<Field, Series>;
}

/** A day of one pack's samples as a CSV file (seed 001's daily files / file manager). */
export interface DailyFile {
  packId: string;
  /** YYYY-MM-DD (UTC). */
  date: string;
  samples: number;
  /** Size of the CSV the file would have, bytes (estimate is fine, within 10 %). */
  bytes: number;
}

export interface TelemetryStore {
  /** Writes samples in one transaction. Throws BmsError STORAGE_* on disk full / read-only. */
  writeSamples(samples: readonly Sample[]): void;
  /** Folds raw samples up to `now` into the 1m/15m/1h rollups (idempotent, incremental). */
  rollup(now: number): void;
  /** Deletes what is older than each tier's retention. */
  applyRetention(now: number, policy?: RetentionPolicy): void;
  history(q: HistoryQuery): HistoryResult;
  /** The most recent sample of a pack. */
  latest(packId: string): Sample | undefined;
  dailyFiles(packId?: string): DailyFile[];
  deleteDay(packId: string, date: string): number;
  /** CSV (header + one row per raw sample) for a pack and range, chosen fields (default all). */
  exportCsv(packId: string, from: number, to: number, fields?: readonly Field[]): string;
  /** Bytes the raw tier takes on disk per stored sample (for the bench). */
  rawBytesPerSample(): number;
}

// ---------------------------------------------------------------- events, audit, accounts

export interface AlarmEvent {
  id: number;
  packId: string;
  code: string;
  severity: Alarm['severity'];
  level?: number;
  /** Where it came from: the BMS flags, a user rule (its id), or the gateway (comm_lost). */
  origin: 'bms' | 'rule' | 'gateway';
  ruleId?: string;
  raisedAt: number;
  clearedAt?: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  /** The value that raised it, when there is one. */
  value?: number;
  message: string;
}

export interface AlarmQuery {
  packId?: string;
  active?: boolean;
  from?: number;
  to?: number;
  limit?: number;
}

export interface AlarmStore {
  /** Records a raised alarm; returns its id. */
  raise(e: Omit<AlarmEvent, 'id' | 'clearedAt' | 'acknowledgedAt' | 'acknowledgedBy'>): number;
  clear(id: number, at: number): void;
  acknowledge(id: number, by: string, at: number): boolean;
  list(q?: AlarmQuery): AlarmEvent[];
  /** Protection events per alarm code (seed 003 Stats), optionally for one pack. */
  counts(packId?: string): Record<string, number>;
}

export interface AuditEntry {
  id: number;
  at: number;
  user: string;
  packId?: string;
  /** e.g. `parameter.write`, `mos.charge`, `soc.set`, `user.add`, `login`. */
  action: string;
  old?: unknown;
  new?: unknown;
  result: 'ok' | 'refused' | 'failed';
  detail?: string;
}

export interface AuditStore {
  append(e: Omit<AuditEntry, 'id'>): number;
  list(q?: { packId?: string; user?: string; limit?: number }): AuditEntry[];
}

export type Role = 'admin' | 'operator' | 'viewer';

export interface User {
  username: string;
  role: Role;
  createdAt: number;
}

export interface UserStore {
  /** Stores a user with an already hashed password (the server hashes with scrypt). */
  create(user: User, passwordHash: string): void;
  get(username: string): (User & { passwordHash: string }) | undefined;
  list(): User[];
  setPassword(username: string, passwordHash: string): void;
  setRole(username: string, role: Role): void;
  delete(username: string): void;
  count(): number;
  /** Sessions and API tokens are stored hashed (sha256 of the secret). */
  createToken(t: {
    hash: string;
    username: string;
    kind: 'session' | 'api';
    name?: string;
    createdAt: number;
    expiresAt?: number;
  }): void;
  findToken(
    hash: string,
  ): { username: string; kind: 'session' | 'api'; expiresAt?: number } | undefined;
  deleteToken(hash: string): void;
  /** A user's tokens (sessions and API tokens, expired ones included), oldest first. */
  listTokens(username: string): TokenInfo[];
  /**
   * Deletes a user's tokens: all of them, or only those of `kind`, sparing the one whose hash
   * is `except` (the session making the change). Returns the hashes deleted, so the server
   * can close what was opened with them. An unknown user has none: `[]`.
   */
  deleteUserTokens(username: string, filter?: TokenFilter): string[];
}

export type TokenKind = 'session' | 'api';

/** A stored token as listed (the hash identifies it; it is not the secret). */
export interface TokenInfo {
  hash: string;
  username: string;
  kind: TokenKind;
  name?: string;
  createdAt: number;
  expiresAt?: number;
}

/** Which of a user's tokens `deleteUserTokens` removes. */
export interface TokenFilter {
  kind?: TokenKind;
  /** The hash of a token to keep. */
  except?: string;
}

// ---------------------------------------------------------------- health

/** A storage problem that is present now (the file system is full, the file was damaged...). */
export interface StorageProblem {
  code: 'STORAGE_FULL' | 'STORAGE_CORRUPT' | 'STORAGE_READ_ONLY' | 'STORAGE_FAILED';
  message: string;
  /** When it was first seen, ms. */
  since: number;
  /** STORAGE_CORRUPT: the damaged files kept aside for recovery. */
  files?: string[];
}

export interface StorageHealth {
  /** Empty when every write is being stored; the most serious first. */
  problems: StorageProblem[];
  /** Records (alarm events, audit entries, sessions) kept in memory until the store takes them. */
  deferred: number;
}

/** Result of an integrity check (`PRAGMA quick_check` for SQLite). */
export interface IntegrityReport {
  /** `ok`; `corrupt` (the file was set aside and a fresh one opened); `unfinished` (time budget spent, or the check could not run). */
  result: 'ok' | 'corrupt' | 'unfinished';
  /** What the check said (first lines), or why it did not finish. */
  detail: string;
  ms: number;
  /** Where the damaged file was moved, for `corrupt`. */
  setAside?: string;
}

/** Everything one storage backend provides. */
export interface Storage {
  telemetry: TelemetryStore;
  alarms: AlarmStore;
  audit: AuditStore;
  users: UserStore;
  close(): void;
  /** Problems now (absent: the backend never reports any). */
  health?(): StorageHealth;
  /** Called (asynchronously) when `health()` may have changed; returns the unsubscribe. */
  onHealth?(listener: () => void): () => void;
  /** Checks the database's integrity off the event loop; a damaged file is handled as described in the adapter. */
  checkIntegrity?(opts?: { timeoutMs?: number }): Promise<IntegrityReport>;
  /** Tries now to write what was kept in memory (and to reopen a file that could not be opened). */
  retry?(): void;
}
