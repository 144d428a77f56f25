/**
 * The storage port: what the gateway and the server need from a database, with no database
 * in it. Adapters (storage-sqlite embedded by default; storage-postgres for a server database) implement
 * these interfaces and pass the shared contract suites (`src/testing/contract/`).
 *
 * - **Asynchronous.** Every method returns a Promise, so an adapter may answer from another
 *   thread (SQLite's worker threads) or another machine (PostgreSQL). Exports stream: CSV as
 *   an async iterable of text chunks, rows for XLSX as an async iterable of row batches, each
 *   chunk at most MAX_EXPORT_CHUNK_ROWS rows; nothing unbounded is ever one value.
 * - **Tenant-aware.** Every stored record belongs to an organisation and a gateway (its
 *   `Origin`). Writes say whose record it is; queries take the `Scope` they may see, which the
 *   adapter applies in the database (the single box passes its local scope, `localScope`).
 *   Ids that must be unique across a fleet (alarm events, audit entries, users) are ULIDs;
 *   alarm events and audit entries also keep the gateway's own number (`localId`), which the
 *   single box's API shows as their id.
 *
 * Times are ms since the epoch (UTC). Pack ids are stable strings chosen by the gateway
 * (`<site>/<bus>/<address>`), unique within that gateway: the fleet-wide key of a pack is
 * (gateway id, pack id).
 */
import type { Alarm, Reading } from '@openbms/core';
import type { DayOptions } from './days.js';
import type { OrgStore } from './orgs.js';

/** Input checks every adapter applies (REQUEST_INVALID naming the field). */
export * as recordChecks from './validate.js';
/** Telemetry input checks and series names every adapter applies. */
export * as telemetryChecks from './telemetry-checks.js';
export { idFactory, isId, newId } from './ids.js';
/** Row shapes of the SQL adapters' alarm and audit tables, and their mapping to records. */
export {
  alarmFromRow,
  auditFromRow,
  membershipFromRow,
  orgFromRow,
  type AlarmRow,
  type AuditRow,
  type MemberRow,
  type OrgRow,
} from './rows.js';
/** Local days of a site's time zone for the daily files, and the CSV headings people read. */
export * as dayZones from './days.js';
export type { DayOptions } from './days.js';
/** Daily / monthly energy from the stored meters, one function every adapter answers with. */
export {
  checkEnergyQuery,
  energyFromHistory,
  energyPeriods,
  MAX_ENERGY_DAYS,
  MAX_ENERGY_PACKS,
  type EnergyPeriod,
  type EnergyQuery,
  type EnergyResult,
  type EnergyRow,
} from './energy.js';
import type { EnergyQuery, EnergyResult } from './energy.js';
/** Organisations and memberships: the port, codes and role mapping (checks under `orgChecks`). */
export {
  ORG_KINDS,
  ORG_ROLES,
  ORG_CODE_ALPHABET,
  MAX_ORG_DEPTH,
  newOrgCode,
  withFreshCode,
  localRole,
  orgRoleOf,
  type Org,
  type OrgKind,
  type OrgRole,
  type OrgStore,
  type NewOrg,
  type NewRootOrg,
  type Membership,
  type Member,
} from './orgs.js';
export * as orgChecks from './orgs.js';
export {
  CODE_PURPOSES,
  LANGUAGES,
  emailAddress,
  emailTaken,
  newCode,
  profile,
  profileColumns,
  notifySettings,
  storedNotify,
  alarmTypeOn,
  isSwitchableAlarm,
  NOTIFY_SEVERITIES,
  type NotifySettings,
  type NotifySeverity,
  type NotifyRecipient,
  type AccountStore,
  type Profile,
  type StoredProfile,
  type Language,
  type CodeCheck,
  type CodePurpose,
  type NewCode,
} from './accounts.js';
import type { AccountStore } from './accounts.js';
/** The fleet's device list and its approvals (checks and row mapping under `deviceChecks`). */
export {
  ACTIVATIONS,
  APPROVAL_STATES,
  DEVICE_STATUSES,
  DEVICE_TYPES,
  EXPIRING_WINDOW_MS,
  MAX_DEVICE_PAGE,
  ONLINE_WINDOW_MS,
  type Activation,
  type Approval,
  type ApprovalQuery,
  type ApprovalState,
  type Decision,
  type Device,
  type DeviceCounts,
  type DevicePage,
  type DevicePatch,
  type DeviceQuery,
  type DeviceStatus,
  type DeviceStore,
  type DeviceType,
  type ListedDevice,
  type NewDevice,
  type NewUnbind,
} from './devices.js';
export * as deviceChecks from './devices.js';
import type { DeviceStore } from './devices.js';
/** Service renewals (issue 17): types, checks and row mapping under `renewalChecks`. */
export {
  MAX_RENEWALS,
  MAX_RENEW_IDS,
  RENEWAL_PERIODS,
  renewedExpiry,
  type NewRenewal,
  type Renewal,
  type RenewalPeriod,
  type RenewalQuery,
} from './renewals.js';
export * as renewalChecks from './renewals.js';
/** Tracker positions (issue 17): the port, checks and row mapping under `positionChecks`. */
export {
  MAX_LATEST,
  MAX_POSITIONS,
  MAX_POSITION_BATCH,
  type Position,
  type PositionQuery,
  type PositionStore,
} from './positions.js';
export * as positionChecks from './positions.js';
import type { PositionStore } from './positions.js';
/** Instructions to GPS trackers and their armed state (issue 17): port and checks under `instructionChecks`. */
export {
  INSTRUCTION_KINDS,
  INSTRUCTION_STATES,
  type Instruction,
  type InstructionKind,
  type InstructionOutcome,
  type InstructionState,
  type InstructionStore,
  type NewInstruction,
  type TrackerState,
} from './instructions.js';
export * as instructionChecks from './instructions.js';
import type { InstructionStore } from './instructions.js';
/** Geofences of trackers and their inside/outside states (issue 17): checks under `geofenceChecks`. */
export {
  FENCE_ALARMS,
  MAX_FENCE_DEVICES,
  MAX_FENCE_VERTICES,
  MAX_FENCE_RADIUS_M,
  MIN_FENCE_RADIUS_M,
  type FenceAlarm,
  type FenceShape,
  type FenceState,
  type Geofence,
  type GeofencePatch,
  type GeofenceStore,
  type NewGeofence,
} from './geofences.js';
export * as geofenceChecks from './geofences.js';
import type { GeofenceStore } from './geofences.js';
/** Remote collectors of the fleet cloud (issue 15): claim, credentials, revocation. */
export {
  REMOTE_COLLECTOR_STATES,
  type HelloOutcome,
  type RemoteCollector,
  type RemoteCollectorState,
  type RemoteCollectorStore,
} from './remote-collectors.js';
export * as remoteCollectorChecks from './remote-collectors.js';
import type { RemoteCollectorStore } from './remote-collectors.js';
/** Plants, their visitors and collectors: the port (checks and row mapping under `plantChecks`). */
export {
  BUSINESS_TYPES,
  PLANT_TYPES,
  type BusinessType,
  type PlantType,
  type Plant,
  type NewPlant,
  type PlantPatch,
  type PlantVisitor,
  type Collector,
  type NewCollector,
  type Visit,
  type PlantView,
  type PlantStore,
} from './plants.js';
export * as plantChecks from './plants.js';
import type { PlantStore } from './plants.js';
export {
  END_USER_GROUP,
  ALWAYS_SHOWN,
  MAX_POINT_GROUPS,
  MAX_POINT_MODELS,
  POINTS,
  POINT_GROUP_KINDS,
  defaultGroups,
  deviceModel,
  groupsOf,
  isPoint,
  pointGroups,
  pointOrg,
  deviceModels,
  filterSnapshot,
  groupPoints,
  pointShown,
  visiblePoints,
  type PointFilter,
  type PointRole,
  type PointGroup,
  type PointGroupInput,
  type PointGroupKind,
  type PointGroupRow,
  type PointGroupStore,
} from './points.js';
import type { PointGroupStore } from './points.js';

// ---------------------------------------------------------------- identity

/** Whose a record is: the organisation and the gateway it belongs to (ULIDs). */
export interface Origin {
  orgId: string;
  gatewayId: string;
}

/**
 * What a query may see: the records of these organisations (at least one), and of one
 * gateway when `gatewayId` is given. A query that names a pack needs `gatewayId` (pack ids
 * are unique within a gateway); a lookup by user name needs exactly one organisation.
 * `gatewayIds` narrows the telemetry, alarm and audit records to those gateways' (a plant
 * visitor sees the plant's collectors, not the rest of its organisation); with `gatewayId` it
 * must include it. Accounts (`UserStore`) ignore it.
 */
export interface Scope {
  /** Organisations by id (at most 1,000; may be empty when `roots` is given). */
  orgIds: readonly string[];
  /**
   * Subtree roots (at most 1,000): every organisation under them too, found in SQL through
   * `org_closure` (no ids expanded in the application). Applied by the records stores (alarm
   * events, the audit log); accounts and telemetry read `orgIds` only.
   */
  roots?: readonly string[];
  gatewayId?: string;
  gatewayIds?: readonly string[];
}

/** The scope of one gateway's own records (what the single box passes everywhere). */
export function localScope(origin: Origin): Scope {
  return { orgIds: [origin.orgId], gatewayId: origin.gatewayId };
}

/** A stored record by its fleet-wide id, or by the gateway's own number (needs scope.gatewayId). */
export type RecordRef = { id: string } | { localId: number };

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
  /** The gateway whose pack it is. */
  gatewayId: string;
  packId: string;
  /** YYYY-MM-DD: the local day in the time zone asked for (`DayOptions.timeZone`, default UTC). */
  date: string;
  samples: number;
  /**
   * Size of the day's CSV as downloaded (`exportCsv` of the day with its header relabelled by
   * `dayZones.columnHeading`), bytes: exact while a day's samples carry one set of series,
   * an estimate within 10 % otherwise.
   */
  bytes: number;
}

/** Raw samples of one pack in [from, to] (both inclusive), as an export reads them. */
export interface ExportQuery {
  packId: string;
  from: number;
  to: number;
  /** The series, in column order; absent or empty: every series met in the range, canonically ordered. */
  fields?: readonly Field[];
}

/** The most rows one chunk of an export holds (CSV lines or a row batch). */
export const MAX_EXPORT_CHUNK_ROWS = 5000;

/**
 * Rows of an export: `times[r]` is row r's time; `values[r * width + c]` the value of column
 * c (`width` = the export's fields), NaN where the sample lacks that series.
 */
export interface RowBatch {
  times: Float64Array;
  values: Float64Array;
}

export interface RowExport {
  /** The series, in column order (after the time column). */
  fields: Field[];
  /** Batches of at most MAX_EXPORT_CHUNK_ROWS rows, in time order; fetched as they are read. */
  batches: AsyncIterable<RowBatch>;
}

export interface TelemetryStore {
  /** Writes the samples of one gateway in one transaction. STORAGE_* on disk full / read-only. */
  writeSamples(origin: Origin, samples: readonly Sample[]): Promise<void>;
  /** Folds raw samples up to `now` into the 1m/15m/1h rollups (idempotent, incremental; every gateway). */
  rollup(now: number): Promise<void>;
  /** Deletes what is older than each tier's retention (every gateway). */
  applyRetention(now: number, policy?: RetentionPolicy): Promise<void>;
  /** Needs `scope.gatewayId`. */
  history(scope: Scope, q: HistoryQuery): Promise<HistoryResult>;
  /** The most recent sample of a pack (needs `scope.gatewayId`). */
  latest(scope: Scope, packId: string): Promise<Sample | undefined>;
  /**
   * The daily files of the packs in scope, ordered by gateway, pack and date: one per pack and
   * local day of `opts.timeZone` (IANA; default UTC), local midnight to local midnight (23 h or
   * 25 h on a summer-time change). REQUEST_INVALID for a zone the runtime does not know.
   */
  dailyFiles(scope: Scope, packId?: string, opts?: DayOptions): Promise<DailyFile[]>;
  /**
   * Deletes one pack's raw samples of one local day of `opts.timeZone` (default UTC; needs
   * `scope.gatewayId`), exactly the samples `dailyFiles` counts for that date; returns how many.
   */
  deleteDay(scope: Scope, packId: string, date: string, opts?: DayOptions): Promise<number>;
  /**
   * CSV of raw samples: `time,<fields>` then one row per sample, ISO 8601 UTC times, values as
   * JavaScript prints them, empty cells for series a sample lacks. Resolves once the query is
   * checked (REQUEST_INVALID before anything streams); the text then comes in chunks of at
   * most MAX_EXPORT_CHUNK_ROWS lines, each read when the consumer asks for it.
   */
  exportCsv(scope: Scope, q: ExportQuery): Promise<AsyncIterable<string>>;
  /** The same rows as numbers, for the XLSX export (or any other encoding). */
  exportRows(scope: Scope, q: ExportQuery): Promise<RowExport>;
  /**
   * Charged and discharged kWh per day or month (in `q.timeZone`) of the packs, each and in
   * total, from the increases of the stored energy meters (needs `scope.gatewayId`; see
   * energy.ts). REQUEST_INVALID naming the field for a malformed query.
   */
  energy(scope: Scope, q: EnergyQuery): Promise<EnergyResult>;
}

// ---------------------------------------------------------------- events, audit, accounts

export interface AlarmEvent {
  /** Fleet-wide id (ULID). */
  id: string;
  /** The gateway's own number for the event: unique within the gateway, never reused. */
  localId: number;
  orgId: string;
  gatewayId: string;
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

/** What `raise` takes: the event as the engine sees it; ids and origin come from the store. */
export type NewAlarm = Omit<
  AlarmEvent,
  'id' | 'localId' | 'orgId' | 'gatewayId' | 'clearedAt' | 'acknowledgedAt' | 'acknowledgedBy'
>;

export interface AlarmQuery {
  packId?: string;
  /** Only packs whose id starts with this (e.g. `tracker/`: the tracker alarms). */
  packPrefix?: string;
  /** Only this code. */
  code?: string;
  /** Not these codes (at most 200: the types a user turned off). */
  notCodes?: readonly string[];
  active?: boolean;
  from?: number;
  to?: number;
  limit?: number;
}

export interface AlarmStore {
  /** Records a raised event of the origin's gateway; returns it as stored (ids included). */
  raise(origin: Origin, e: NewAlarm): Promise<AlarmEvent>;
  /** Sets the clear time once; an event that is unknown or out of scope is NOT_FOUND. */
  clear(scope: Scope, id: string, at: number): Promise<void>;
  /** False for an event unknown, out of scope or acknowledged already (the first one stays). */
  acknowledge(scope: Scope, id: string, by: string, at: number): Promise<boolean>;
  get(scope: Scope, ref: RecordRef): Promise<AlarmEvent | undefined>;
  /** Newest first (raise time, then id); `from`/`to` bound the raise time, both inclusive. */
  list(scope: Scope, q?: AlarmQuery): Promise<AlarmEvent[]>;
  /** Protection events per alarm code (seed 003 Stats), optionally for one pack. */
  counts(scope: Scope, packId?: string): Promise<Record<string, number>>;
}

export interface AuditEntry {
  /** Fleet-wide id (ULID). */
  id: string;
  /** The gateway's own number for the entry. */
  localId: number;
  orgId: string;
  gatewayId: string;
  at: number;
  /** Who acted: the user name (or the integration, such as `mqtt`, that acted). */
  user: string;
  /**
   * The acting principal's user id (ULID), when an account acted; absent for what no account
   * did (a failed login under an unknown name, an integration) and for entries made before it
   * was recorded.
   */
  userId?: string;
  packId?: string;
  /** e.g. `parameter.write`, `mos.charge`, `soc.set`, `user.add`, `login`. */
  action: string;
  old?: unknown;
  new?: unknown;
  result: 'ok' | 'refused' | 'failed';
  detail?: string;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'localId' | 'orgId' | 'gatewayId'>;

export interface AuditQuery {
  packId?: string;
  user?: string;
  limit?: number;
}

export interface AuditStore {
  append(origin: Origin, e: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first (time, then id). */
  list(scope: Scope, q?: AuditQuery): Promise<AuditEntry[]>;
}

export type Role = 'admin' | 'operator' | 'viewer';

export interface User {
  /** Fleet-wide id (ULID). */
  id: string;
  orgId: string;
  /** The gateway the account was made on. */
  gatewayId: string;
  /** Unique within the organisation, ignoring ASCII letter case. */
  username: string;
  role: Role;
  createdAt: number;
}

export interface NewUser {
  username: string;
  role: Role;
  createdAt: number;
}

export type TokenKind = 'session' | 'api';

export interface NewToken {
  /** sha256 of the secret (the secret itself is never stored). */
  hash: string;
  username: string;
  kind: TokenKind;
  name?: string;
  createdAt: number;
  expiresAt?: number;
}

/** Whose a presented token is. */
export interface FoundToken {
  userId: string;
  orgId: string;
  username: string;
  kind: TokenKind;
  expiresAt?: number;
}

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

/**
 * Accounts. Lookups by name take a scope with exactly one organisation (names are unique
 * within one). Tokens are found by hash alone: the hash is the credential, and the token
 * says whose it is (user, organisation) before any scope exists.
 */
export interface UserStore {
  /** Stores a user with an already hashed password (the server hashes with scrypt). */
  create(origin: Origin, user: NewUser, passwordHash: string): Promise<User>;
  get(scope: Scope, username: string): Promise<(User & { passwordHash: string }) | undefined>;
  /** Oldest first. */
  list(scope: Scope): Promise<User[]>;
  setPassword(scope: Scope, username: string, passwordHash: string): Promise<void>;
  setRole(scope: Scope, username: string, role: Role): Promise<void>;
  /** Deletes the user and every token of theirs. */
  delete(scope: Scope, username: string): Promise<void>;
  count(scope: Scope): Promise<number>;
  /** Sessions and API tokens are stored hashed (sha256 of the secret). */
  createToken(scope: Scope, t: NewToken): Promise<void>;
  findToken(hash: string): Promise<FoundToken | undefined>;
  deleteToken(hash: string): Promise<void>;
  /** A user's tokens (sessions and API tokens, expired ones included), oldest first. */
  listTokens(scope: Scope, username: string): Promise<TokenInfo[]>;
  /**
   * Deletes a user's tokens: all of them, or only those of `kind`, sparing the one whose hash
   * is `except` (the session making the change). Returns the hashes deleted, so the server
   * can close what was opened with them. An unknown user has none: `[]`.
   */
  deleteUserTokens(scope: Scope, username: string, filter?: TokenFilter): Promise<string[]>;
}

// ---------------------------------------------------------------- health

/** A storage problem that is present now (the file system is full, the file was damaged...). */
export interface StorageProblem {
  code:
    | 'STORAGE_FULL'
    | 'STORAGE_CORRUPT'
    | 'STORAGE_READ_ONLY'
    | 'STORAGE_FAILED'
    | 'STORAGE_UNAVAILABLE';
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
  /**
   * An embedded store's own gateway (the single box: made once and kept, see the adapter);
   * absent for a store shared by many gateways (the cloud), whose callers say whose records.
   */
  readonly identity?: Origin;
  telemetry: TelemetryStore;
  alarms: AlarmStore;
  audit: AuditStore;
  users: UserStore;
  /** Organisations (a tree) and their members (docs/fleet.md). */
  orgs: OrgStore;
  /** E-mail addresses and sign-up/reset codes (absent: this backend offers no self-service accounts). */
  accounts?: AccountStore;
  /** The fleet's device list and approvals (absent: this backend keeps no device list). */
  devices?: DeviceStore;
  /** Plants, their visitors and collectors (absent: this backend has no plants). */
  plants?: PlantStore;
  /** GPS tracker positions (absent: this backend keeps none). */
  positions?: PositionStore;
  /** Instructions sent to GPS trackers, their replies and armed state (absent: none). */
  instructions?: InstructionStore;
  /** Remote collectors of the fleet cloud (issue 15; absent: this backend takes none). */
  remoteCollectors?: RemoteCollectorStore;
  /** Tracker geofences and their states (absent: this backend keeps none). */
  geofences?: GeofenceStore;
  /** Point groups: the data points each role sees (absent: every role sees every point). */
  points?: PointGroupStore;
  /** Writes what it can of what waits, then closes (later calls fail with STORAGE_FAILED). */
  close(): Promise<void>;
  /** Problems now (absent: the backend never reports any). */
  health?(): Promise<StorageHealth>;
  /** Called (asynchronously) when `health()` may have changed; returns the unsubscribe. */
  onHealth?(listener: () => void): () => void;
  /** Checks the database's integrity off the event loop; a damaged file is handled as described in the adapter. */
  checkIntegrity?(opts?: { timeoutMs?: number }): Promise<IntegrityReport>;
  /** Tries now to write what was kept in memory (and to reopen a file that could not be opened). */
  retry?(): Promise<void>;
}
