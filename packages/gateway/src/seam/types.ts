/**
 * The gateway seam: what a server (the single box's, or the fleet cloud's) needs from a
 * gateway, shaped so that it can cross a network.
 *
 * - **An asynchronous read model.** Every read returns a Promise and plain JSON data (no
 *   functions, no class instances, no `Map`s), so a remote implementation answers it from a
 *   message exchange or from state kept from the event stream.
 * - **A versioned event stream** (`subscribe`): envelopes `{v, gatewayId, run, seq, ts, type,
 *   ...}` (`@openbms/contract/gateway`), numbered per gateway so a consumer across a network
 *   orders, de-duplicates and notices gaps.
 * - **Commands with a transaction id and a typed result** (`send`): `{txn, gatewayId, packId,
 *   op, args, principal}` -> `{txn, status: done | refused | failed, code?, detail, ...}`. A
 *   transaction runs at most once: sending the same command again returns the first result.
 *
 * `InProcessGateway` (in-process.ts) is the implementation for a gateway in the same process;
 * an MQTT implementation (collectors) implements the same interface, and the server does not
 * change (see README.md in this folder).
 */
import type {
  CommandResult,
  GatewayCommand,
  GatewayEnvelope,
  AlarmEventWire,
  CommandStatusWire,
} from '@openbms/contract/gateway';
import type { AlarmEvent } from '@openbms/storage';
import type {
  Actor,
  ClockView,
  CommandListener,
  InverterProtocolView,
  RecordsPage,
  CommandOutcome,
  CommandStatus,
  ControlCapabilities,
  ParameterDiff,
  ParameterFile,
  ParameterValues,
  WriteResult,
} from '../control/types.js';
import type { StorageStatus } from '../storage-watch.js';
import type { GatewayListener, PackStatus } from '../types.js';

export interface SiteInfo {
  id: string;
  name: string;
  /** The IANA zone the site's times are shown in (`location.timezone`, else the host's). */
  time_zone: string;
}

export interface BusInfo {
  id: string;
  site: string;
  /** Serial path or `tcp://host:port`. */
  port: string;
  protocol: string;
  /** Ids of the packs on this bus. */
  packs: string[];
  /** The line it runs with (the config's, else the family's defaults). */
  baud?: number;
  parity?: 'none' | 'even' | 'odd';
  stop_bits?: 1 | 2;
}

/** Called with every envelope of a gateway's stream, in `seq` order. */
export type EnvelopeListener = (e: GatewayEnvelope) => void;

/** What a server reads from a gateway. Every answer is plain JSON data. */
export interface GatewayReadModel {
  packs(): Promise<PackStatus[]>;
  /** One pack; undefined when the gateway has no such pack. */
  pack(id: string): Promise<PackStatus | undefined>;
  sites(): Promise<SiteInfo[]>;
  buses(): Promise<BusInfo[]>;
  /** Active alarms of one pack, of the gateway scope (`gateway`: storage alarms), or all; newest first. */
  activeAlarms(packId?: string): Promise<AlarmEvent[]>;
  /** Protection events per alarm code, optionally for one pack. */
  alarmCounts(packId?: string): Promise<Record<string, number>>;
  /** Whether everything is being stored; undefined when the gateway does not say. */
  storageStatus(): Promise<StorageStatus | undefined>;
  /** The last command statuses, newest first. */
  commands(packId?: string): Promise<CommandStatus[]>;
  /** What the pack's family can do, and its writable parameters (NOT_FOUND: no such pack). */
  capabilities(packId: string): Promise<ControlCapabilities>;
  /** The parameters read from the device now (in the bus's exclusive slot; not audited). */
  readParameters(packId: string): Promise<ParameterValues>;
  exportParameters(packId: string): Promise<ParameterFile>;
  /** Validates a parameter file against the pack and diffs it with the device; writes nothing. */
  diffParameters(packId: string, file: unknown): Promise<ParameterDiff>;
  /** The BMS clock now, with its drift from the gateway's. */
  readClock(packId: string): Promise<ClockView>;
  /** One page of on-board records (seed 004), newest first, read from the device now. */
  readRecords(packId: string, start: number, count: number): Promise<RecordsPage>;
  /** Up to `max` on-board records as CSV. */
  exportRecords(packId: string, max?: number): Promise<{ csv: string; count: number }>;
  /** The inverter protocols selected now, with the family's list. */
  readInverterProtocol(packId: string): Promise<InverterProtocolView>;
}

/**
 * One gateway as a server sees it, wherever it runs. Errors of reads are BmsErrors
 * (NOT_FOUND, CAPABILITY_MISSING, TRANSPORT_*...; GATEWAY_UNAVAILABLE when a remote gateway
 * does not answer in time). `send` never rejects for what the command met at the gateway:
 * that is the result's status and code; it rejects only with GATEWAY_UNAVAILABLE (no result
 * in time: the outcome is unknown; send the same command again to learn it).
 */
export interface GatewayLink extends GatewayReadModel {
  /** The gateway's id (ULID); the server addresses gateways by it. */
  readonly gatewayId: string;
  /** The organisation the gateway belongs to. */
  readonly orgId: string;
  /** Whether the gateway runs control commands (parameters, MOSFETs...). */
  readonly controls: boolean;
  /** Subscribes to the gateway's events; returns the unsubscribe. */
  subscribe(listener: EnvelopeListener): () => void;
  /** Runs a command (at most once per `txn`) and answers with its result. */
  send(command: GatewayCommand): Promise<CommandResult>;
}

/**
 * The control operations the in-process link drives: the gateway's `ControlService`
 * satisfies it. Every method that changes a pack validates, sends through the bus's exclusive
 * slot, reads back and audits by itself.
 */
export interface ControlPort {
  capabilities(packId: string): ControlCapabilities;
  readParameters(packId: string): Promise<ParameterValues>;
  exportParameters(packId: string): Promise<ParameterFile>;
  diffParameters(packId: string, file: unknown): Promise<ParameterDiff>;
  writeParameters(
    packId: string,
    values: Record<string, number>,
    by: Actor,
    opts?: { dryRun?: boolean },
  ): Promise<WriteResult>;
  setMos(
    packId: string,
    which: 'charge' | 'discharge',
    on: boolean,
    by: Actor,
  ): Promise<CommandOutcome>;
  setSoc(packId: string, pct: number, by: Actor): Promise<CommandOutcome>;
  setClock(packId: string, ms: number | undefined, by: Actor): Promise<CommandOutcome>;
  restoreDefaults(packId: string, confirm: string, by: Actor): Promise<CommandOutcome>;
  restart(packId: string, confirm: string, by: Actor): Promise<CommandOutcome>;
  factoryReset(packId: string, confirm: string, by: Actor): Promise<CommandOutcome>;
  shutdown(packId: string, confirm: string, by: Actor): Promise<CommandOutcome>;
  restoreProfile(packId: string, confirm: string, by: Actor): Promise<CommandOutcome>;
  readClock(packId: string): Promise<ClockView>;
  readRecords(packId: string, start: number, count: number): Promise<RecordsPage>;
  exportRecords(packId: string, max?: number): Promise<{ csv: string; count: number }>;
  clearRecords(
    packId: string,
    kind: 'data' | 'alarm' | 'all',
    confirm: string,
    by: Actor,
  ): Promise<CommandOutcome>;
  readInverterProtocol(packId: string): Promise<InverterProtocolView>;
  setInverterProtocol(
    packId: string,
    setting: { can?: number; rs485?: number; mode?: 'auto' | 'manual' },
    by: Actor,
  ): Promise<CommandOutcome>;
  calibrate(
    packId: string,
    kind: string,
    value: number | undefined,
    by: Actor,
  ): Promise<CommandOutcome>;
  commands(packId?: string): CommandStatus[];
  /** Every command status as it is recorded (they go on the event stream). */
  onCommand?(listener: CommandListener): () => void;
}

/**
 * The parts of a gateway in this process that `InProcessGateway` adapts: the `Gateway` class
 * has them all (tests pass small stand-ins).
 */
export interface LocalGatewayParts {
  /** Whose records the gateway writes: its organisation and gateway ids. */
  readonly identity: { orgId: string; gatewayId: string };
  /** The gateway's event bus. */
  readonly events: { on(listener: GatewayListener): () => void };
  packs(): PackStatus[];
  pack(id: string): PackStatus | undefined;
  sites(): SiteInfo[];
  buses(): BusInfo[];
  activeAlarms(packId?: string): AlarmEvent[];
  alarmCounts(packId?: string): Promise<Record<string, number>>;
  /** Acknowledges by the gateway's number; false when unknown or acknowledged already. */
  acknowledgeAlarm(localId: number, user: string): Promise<boolean>;
  storageStatus?(): Promise<StorageStatus>;
  /** Safe control; absent: the gateway runs no control commands. */
  readonly control?: ControlPort | undefined;
}

// The records inside events are the storage port's and the control log's own shapes: these
// lines fail to compile when a field is added on one side and not in the wire schema.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _alarmWire: Same<AlarmEvent, AlarmEventWire> = true;
const _statusWire: Same<CommandStatus, CommandStatusWire> = true;
void _alarmWire;
void _statusWire;
