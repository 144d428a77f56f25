/**
 * Shapes of the safe control service: what it is given (how to find a pack, its family and
 * its bus), what it answers (capabilities, per-parameter write results, parameter files and
 * their diff) and the command statuses it keeps.
 */
import type { BmsRecord, ParameterGroup, ParameterKind, Reading, ServerText } from '@openbms/core';
import type {
  InverterProtocolList,
  InverterProtocolSetting,
  ProtocolDefinition,
} from '@openbms/protocols';
import type { AuditStore, Origin } from '@openbms/storage';
import type { BusPoller, Clock } from '../scheduler/poller.js';
import type { EventBus, PackRef } from '../types.js';

/** Everything the service needs to reach one pack. */
export interface ResolvedPack {
  ref: PackRef;
  def: ProtocolDefinition;
  /** The poller that owns the pack's bus: every transaction goes through its exclusive slot. */
  poller: BusPoller;
  /** The latest snapshot (interlocks, cell count for pack-voltage limits). */
  snapshot?: Reading;
}

export interface ControlServiceOptions {
  /** Finds a pack by id; undefined for an unknown pack (NOT_FOUND). */
  resolve(packId: string): ResolvedPack | undefined;
  audit: AuditStore;
  /** Whose audit entries these are (the gateway's identity). */
  origin: Origin;
  /**
   * The gateway's event bus. GatewayEvent has no command member yet, so nothing is emitted
   * on it today; command statuses go to `onCommand` listeners and `commands()`.
   */
  events?: EventBus;
  clock?: Clock;
  /** Audit write failures (the command's own result is not changed by them). */
  onError?: (err: unknown) => void;
  /** Retries of a read transaction (default 1). Writes are retried once too (they are absolute). */
  retries?: number;
  /**
   * The IANA time zone BMS clocks are set in and read from (config `location.timezone`);
   * default: the zone the gateway runs in. BMS clocks keep local time without a zone.
   */
  timeZone?: string;
  /**
   * Where each pack's saved parameter profile (its last export) is kept, for "restore" on
   * families without a documented default set. Default: in memory (lost at a restart).
   */
  profiles?: ProfileStore;
}

/** The saved parameter profile of each pack: the last parameter file exported from it. */
export interface ProfileStore {
  load(packId: string): ParameterFile | undefined;
  save(packId: string, file: ParameterFile): void;
}

/** Operation names as the API and the audit log spell them. */
export type ControlOperation =
  | 'set_mos'
  | 'set_soc'
  | 'set_clock'
  | 'read_parameters'
  | 'write_parameters'
  | 'restore_defaults'
  | 'restart'
  | 'factory_reset'
  | 'shutdown'
  | 'read_clock'
  | 'records'
  | 'clear_records'
  | 'read_inverter_protocol'
  | 'set_inverter_protocol'
  | 'calibrate'
  | 'restore_profile';

/** A writable parameter as the web parameter table shows it: the catalog definition. */
export interface ParameterInfo {
  id: string;
  label: string;
  unit: string;
  min: number;
  max: number;
  step: number;
  group: ParameterGroup;
  kind: ParameterKind;
  level?: 1 | 2 | 3;
  /** The tighter of min and the chemistry's safe lower limit, when the parameter has one. */
  safeMin?: number;
  /** The tighter of max and the chemistry's safe upper limit, when the parameter has one. */
  safeMax?: number;
}

/** A calibration the family has, with its catalog label and unit (core CALIBRATIONS). */
export interface CalibrationInfo {
  kind: string;
  label: string;
  unit: string;
  takesValue: boolean;
  min: number;
  max: number;
  step: number;
}

export interface ControlCapabilities {
  packId: string;
  protocol: string;
  /** The pack's configured variant, when it has one. */
  variant?: string;
  chemistry: string;
  /**
   * What the family's wire protocol really has for this pack's variant (restore_profile:
   * the gateway keeps a saved profile of the pack to write back).
   */
  operations: Record<ControlOperation, boolean>;
  /**
   * Operations (and `param:<id>` parameters) whose wire format rests on one source, with why:
   * refused unless `allowUnverified` (config `packs[].allow_unverified`).
   */
  unverified: Record<string, string>;
  allowUnverified: boolean;
  /** Inverter protocols per link (seed 002 §2.5), when the family can select one. */
  inverterProtocols?: InverterProtocolList;
  calibrations: CalibrationInfo[];
  /** Record kinds the device keeps, and how many one page may ask for. */
  records?: { kinds: string[]; perRead: number };
  /** Writable parameters (empty when the family cannot write parameters). */
  parameters: ParameterInfo[];
  /** What the whole-set rules judge this pack by (cell count, design capacity, C-rates). */
  limits: { cellCount?: number; designAh?: number; maxChargeC: number; maxDischargeC: number };
}

export interface ParameterValues {
  values: Record<string, number>;
}

/** One parameter of a write: what it was, what was asked, what reading back gave. */
export interface ParameterResult {
  id: string;
  old: number | undefined;
  requested: number;
  /** Undefined on a dry run, or when the read-back did not report the parameter. */
  readback: number | undefined;
  ok: boolean;
}

export interface WriteResult {
  dryRun: boolean;
  results: ParameterResult[];
  /** Ids whose value differs from the current one (the only ones sent). */
  changed: string[];
  /** The write's command status (absent on a dry run, which is not a command). */
  command?: CommandStatus;
}

export type CommandState = 'done' | 'refused' | 'failed';

/**
 * Who a command runs for: the principal's user name and id, or an integration acting under a
 * name of its own (`mqtt`, `modbus`: no user id). A bare string is such a name.
 */
export interface Actor {
  username: string;
  /** The user's id (ULID) when an account acts. */
  userId?: string;
}

/** An Actor from what a caller passes (a bare string: a name without an account). */
export function actorOf(by: Actor | string): Actor {
  return typeof by === 'string' ? { username: by } : by;
}

/** A control command as the API lists it (the last 200 are kept in memory). */
export interface CommandStatus {
  id: number;
  packId: string;
  action: string;
  /** Who asked (a user name, or `mqtt`, `modbus`). */
  user: string;
  /** The principal's user id, when an account asked. */
  userId?: string;
  at: number;
  status: CommandState;
  detail: string;
  /** The detail as a key and parameters, for the console to translate. */
  text?: ServerText;
}

/** The result of a command other than a parameter write. */
export interface CommandOutcome {
  command: CommandStatus;
  /** What reading back showed (e.g. `{charge_mos: false}`), when something was read back. */
  readback?: Record<string, unknown>;
}

/** Seed 004's parameter export, versioned. */
export interface ParameterFile {
  format: 'openbms-parameters';
  version: 1;
  pack: { id: string; name: string; protocol: string; chemistry: string };
  /** ms since the epoch. */
  exported_at: number;
  values: Record<string, number>;
}

export interface DiffIssue {
  /** Parameter ids at fault (empty for a problem with the file itself). */
  ids: string[];
  code: string;
  message: string;
}

export interface ParameterDiff {
  /** True when writing `changed` would pass every check. */
  valid: boolean;
  errors: DiffIssue[];
  /** Things worth knowing that do not block (other protocol or chemistry in the file). */
  warnings: string[];
  changed: { id: string; current: number | undefined; file: number }[];
  unchanged: string[];
  /** Ids the catalog does not know, or whose value differs and the family cannot write. */
  unknown: { id: string; reason: string }[];
}

export type CommandListener = (c: CommandStatus) => void;

/** The BMS clock as read now. */
export interface ClockView {
  /** The BMS's date and time as it shows them (no zone): `YYYY-MM-DD HH:MM:SS`. */
  bmsTime: string;
  /** That wall time as a real instant in `timeZone`, ms since the epoch. */
  ms: number;
  /** `ms` minus the gateway's time when it was read: + = the BMS clock is ahead. */
  driftMs: number;
  timeZone: string;
}

/** One page of on-board records. */
export interface RecordsPage {
  records: (BmsRecord & { ms?: number })[];
  /** Where the next (older) page starts; null when the device has none beyond this page. */
  next: number | null;
  timeZone: string;
}

/** The inverter protocols selected now, with the family's list. */
export interface InverterProtocolView {
  setting: InverterProtocolSetting;
  list: InverterProtocolList;
}
