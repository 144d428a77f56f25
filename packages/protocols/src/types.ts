import type { ErrorCode, Reading, RecordKind } from '@openbms/core';

export type Parity = 'none' | 'even' | 'odd';
export type StopBits = 1 | 2;

/** Serial link settings a family uses by default (the user can override them). */
export interface LinkDefaults {
  baud: number;
  dataBits: 7 | 8;
  parity: Parity;
  stopBits: StopBits;
  /**
   * Parity and stop bits the family's devices can be set to, the defaults included. Absent:
   * the family's framing is fixed at the defaults (its documents name one setting, e.g. 8N1
   * for Pylontech, PACE, DALY, JBD, JK), and nothing else is offered or accepted.
   */
  lineOptions?: { parity: readonly Parity[]; stopBits: readonly StopBits[] };
  /** Address used when the user gives none. */
  defaultAddress: number;
  /** Reply timeout that works on real devices at the default baud. */
  timeoutMs: number;
}

/** What a framer produces: whole frames, and every run of bytes it had to throw away. */
export type FramerEvent =
  | { type: 'frame'; bytes: Uint8Array }
  | { type: 'discard'; bytes: Uint8Array; code: ErrorCode; reason: string };

/**
 * Finds frames in a byte stream that arrives in arbitrary chunks. Never throws: bytes that
 * cannot start or complete a frame come out as `discard` events with a coded reason.
 */
export interface Framer {
  push(chunk: Uint8Array): FramerEvent[];
  /** End of stream (or a silence long enough to end a frame): flushes what is buffered. */
  end(): FramerEvent[];
  /** Bytes buffered while waiting for the rest of a frame. */
  readonly pending: number;
  reset(): void;
}

/** Out-of-band facts a decoder may need. */
export interface DecodeOptions {
  /** The request the reply answers (Pylontech replies do not echo the command). */
  request?: Uint8Array;
  /** Record layout (JK: JK02_24S or JK02_32S). */
  variant?: string;
  /** Cell count known from an earlier reply (DALY 0x94). */
  cells?: number;
  /** Temperature sensor count known from an earlier reply (DALY 0x94). */
  tempSensors?: number;
  /** Flip the sign of the current (firmware that reports it the other way round). */
  invertCurrent?: boolean;
}

/** A request in structured form: encoders take it, parseRequest gives it back. */
export interface Request {
  /** Command id from the family's command list. */
  command: string;
  /** Bus address (meaning per family: DALY host byte, Pylontech ADR, Modbus unit id...). */
  address?: number;
  /** Command arguments (register, count, value, on/off...), per family. */
  args?: Record<string, number | boolean | string | number[]>;
}

export interface CommandInfo {
  id: string;
  description: string;
  kind: 'read' | 'write' | 'control';
}

/** What a family can do. The gateway asks this instead of branching on protocol ids. */
export interface Capabilities {
  /** Switch the charge / discharge MOSFETs. */
  mosControl: boolean;
  setSoc: boolean;
  parameterRead: boolean;
  parameterWrite: boolean;
  setClock: boolean;
  records: boolean;
  /** Several packs on one bus at different addresses. */
  multiDrop: boolean;
}

/** A parameter the family can read or write, mapped to the catalog's parameter id. */
export interface ProtocolParameter {
  /** Canonical parameter id (core PARAMETERS). */
  id: string;
  /** Where it lives on the wire (register, record offset, field). */
  wire: string;
  access: 'r' | 'rw';
}

/** One request/reply exchange of a read cycle. */
export interface ReadStep {
  name: string;
  request: Uint8Array;
  /** True when `frame` belongs to this step's reply (stale frames of earlier steps are dropped). */
  accepts(frame: Uint8Array): boolean;
  /** True once the frames collected so far make the whole reply. */
  complete(frames: readonly Uint8Array[]): boolean;
  /** Failure of an optional step (e.g. device info on old firmware) does not fail the cycle. */
  optional?: boolean;
  /**
   * Steps to send, best effort, when this step or a later one of the same run fails once
   * this step's request may have gone out: they undo a mode the run entered (JBD: leave
   * factory mode without saving). The nearest earlier step's list applies to a step that has
   * none. Every runner honours it (the gateway's control runs, `readPack`); their replies
   * are taken as they come and their own failures are ignored.
   */
  cleanup?: readonly ReadStep[];
}

/**
 * A full read cycle for one pack, as a small state machine without I/O: the transport asks
 * next(), sends the request, collects frames through the family's framer, and hands the
 * reply to accept(). Steps may depend on earlier replies (DALY cell count from 0x94).
 */
export interface ReadSession {
  next(): ReadStep | undefined;
  /** Decodes a complete reply and merges it; throws BmsError when it is not a valid answer. */
  accept(step: ReadStep, frames: Uint8Array[]): void;
  /** The merged snapshot of every accepted reply. */
  result(): Reading;
}

export interface ReadOptions {
  address?: number;
  variant?: string;
  invertCurrent?: boolean;
}

export interface ProtocolDefinition {
  id: string;
  /** Other names accepted on the command line (e.g. the vector files' names). */
  aliases: readonly string[];
  /** One line for `openbms protocols`. */
  title: string;
  link: LinkDefaults;
  /** Record layouts selectable with --variant. */
  variants: readonly string[];
  commands: readonly CommandInfo[];
  parameters: readonly ProtocolParameter[];
  /** Canonical metric keys this family can report (each is in the core catalog). */
  metrics: readonly string[];
  capabilities: Capabilities;
  createFramer(): Framer;
  /**
   * Validates and decodes one whole reply: one frame, or the consecutive frames of a
   * multi-frame reply (DALY 0x95/0x96) concatenated. Throws BmsError on anything invalid.
   */
  decode(bytes: Uint8Array, opts?: DecodeOptions): Reading;
  encode(req: Request): Uint8Array;
  /** The inverse of encode; throws BmsError on bytes that are not a request of the family. */
  parseRequest(bytes: Uint8Array): Request;
  /** Requests the definition test round-trips through encode/parseRequest. */
  requestExamples: readonly Request[];
  readSession(opts: ReadOptions): ReadSession;
  /**
   * Control and parameter operations the family's wire protocol really has. Absent members
   * mean the family cannot do that (the gateway reports CAPABILITY_MISSING, never pretends).
   */
  control?: ControlOps;
  /**
   * Control operations of a variant that speaks a different command set (PACE v20-eg4 has
   * only the clock and shut-down of v25's list): replaces `control` for packs configured with
   * that variant. Use `controlOf(definition, variant)`.
   */
  variantControl?: Readonly<Record<string, ControlOps>>;
}

/** The control operations of a pack of `def` configured with `variant`. */
export function controlOf(def: ProtocolDefinition, variant?: string): ControlOps | undefined {
  return (variant !== undefined ? def.variantControl?.[variant] : undefined) ?? def.control;
}

/** Where a control operation is sent (pack address and record variant). */
export interface ControlTarget {
  address: number;
  variant?: string;
  /**
   * The pack's latest snapshot, for requests that must also carry what they do not change
   * (JBD 0xE1 sets both MOSFETs at once).
   */
  snapshot?: Reading;
}

/**
 * One control transaction: a request step plus how to read its reply. `result` decodes the
 * complete reply frames; it throws BmsError COMMAND_REFUSED when the device said no (NAK,
 * Modbus exception, RTN, an echo of the unchanged state) and other codes for invalid replies.
 */
export interface ControlStep extends ReadStep {
  result(frames: Uint8Array[]): ControlOutcome;
}

export interface ControlOutcome {
  /** What the device's reply says, when it says anything (e.g. the echoed MOS state). */
  reading?: Reading;
}

/**
 * Pure builders of control transactions (no I/O): the gateway runs the steps through its
 * bus scheduler, then reads back (a fresh read cycle or readParameters) and compares.
 * Parameter ids and units are the core catalog's (PARAMETERS); each family maps them to its
 * wire fields and scaling, and throws PARAM_UNKNOWN for an id it cannot write.
 */
export interface ControlOps {
  /** Steps that switch the charge or discharge MOSFET. */
  setMos?(t: ControlTarget, which: 'charge' | 'discharge', on: boolean): ControlStep[];
  /** Steps that set the state of charge (the BMS's coulomb counter), %. */
  setSoc?(t: ControlTarget, pct: number): ControlStep[];
  /**
   * Steps that set the BMS clock. BMS clocks keep a date and a time without a time zone, so
   * the time is given as `wallMs`: those fields read as UTC (`new Date(wallMs).getUTCHours()`
   * is the hour the BMS must show). The gateway converts from and to real time with the
   * site's time zone.
   */
  setClock?(t: ControlTarget, wallMs: number): ControlStep[];
  /** A read session whose result carries the BMS clock as `raw.clock_wall_ms` (see setClock). */
  readClock?(t: ControlTarget): ReadSession;
  /**
   * A read session whose result() carries the parameter values as
   * `raw.parameters: Record<catalog id, number>` (in catalog units).
   */
  readParameters?(t: ControlTarget): ReadSession;
  /** Catalog ids this family can write (a subset of definition.parameters with access rw). */
  writableParameters?: readonly string[];
  /** Steps that write catalog parameters (values already validated by the gateway). */
  writeParameters?(t: ControlTarget, values: Record<string, number>): ControlStep[];
  restoreDefaults?(t: ControlTarget): ControlStep[];
  restart?(t: ControlTarget): ControlStep[];
  factoryReset?(t: ControlTarget): ControlStep[];
  /** Puts the BMS to sleep / switches it off (seed 002 "shut down", seed 004 "forced sleep"). */
  shutdown?(t: ControlTarget): ControlStep[];

  /** Record kinds the device keeps (seed 004: on-board data records and alarm records). */
  recordKinds?: readonly RecordKind[];
  /**
   * Most records one readRecords session may ask for (each may be a transaction of its own,
   * so a UI reads in pages of at most this many and can stop between pages).
   */
  recordsPerRead?: number;
  /**
   * A read session for the records at positions `query.start` .. `start + count - 1` (0 =
   * newest). Its result carries `raw.records: BmsRecord[]` (newest first) and
   * `raw.records_end: true` when the device holds no record beyond the last one returned.
   */
  readRecords?(t: ControlTarget, query: RecordQuery): ReadSession;
  /** Steps that erase the device's records of one kind (or all). */
  clearRecords?(t: ControlTarget, kind: RecordKind | 'all'): ControlStep[];

  /** The inverter protocols the pack can speak, per inverter-facing link (seed 002 §2.5). */
  inverterProtocols?: InverterProtocolList;
  /** A read session whose result carries `raw.inverter_protocol: InverterProtocolSetting`. */
  readInverterProtocol?(t: ControlTarget): ReadSession;
  /** Steps that select inverter protocols (links not named are left as they are). */
  setInverterProtocol?(t: ControlTarget, s: InverterProtocolSetting): ControlStep[];

  /** What the family can calibrate, with the value range its wire format carries. */
  calibrations?: readonly CalibrationSpec[];
  /**
   * Steps that calibrate one measurement: `value` is the true value the user measured with a
   * reference meter (in the calibration's unit; ignored by kinds that take none, e.g. the
   * current zero point).
   */
  calibrate?(t: ControlTarget, c: { kind: CalibrationKind; value: number }): ControlStep[];

  /**
   * Operations (ControlOps member names) whose wire format rests on a single source (marked
   * uncertain in the protocol reference): the gateway refuses them unless the pack's config
   * says `allow_unverified: true`. The value says why, in words, for the refusal and the UI.
   */
  unverified?: Readonly<Partial<Record<ControlOpName, string>>>;
  /** Parameter ids whose wire location rests on a single source, with the reason (as above). */
  unverifiedParameters?: Readonly<Record<string, string>>;
}

/** Names of the ControlOps members that are operations (not data). */
export type ControlOpName =
  | 'setMos'
  | 'setSoc'
  | 'setClock'
  | 'readClock'
  | 'readParameters'
  | 'writeParameters'
  | 'restoreDefaults'
  | 'restart'
  | 'factoryReset'
  | 'shutdown'
  | 'readRecords'
  | 'clearRecords'
  | 'readInverterProtocol'
  | 'setInverterProtocol'
  | 'calibrate';

/** Compiles only when every function member of ControlOps is in ControlOpName. */
type FunctionMembers = {
  [K in keyof ControlOps]-?: NonNullable<ControlOps[K]> extends (...a: never[]) => unknown
    ? K
    : never;
}[keyof ControlOps];
type NoneMissing<T extends never> = T;
type _EveryOp = NoneMissing<Exclude<FunctionMembers, ControlOpName>>;

export type { BmsRecord, RecordKind } from '@openbms/core';

export interface RecordQuery {
  /** Position of the first record, 0 = the newest. */
  start: number;
  /** How many records (at most the family's recordsPerRead). */
  count: number;
}

/** An inverter protocol a pack can speak on one link. */
export interface InverterProtocolOption {
  code: number;
  name: string;
}

/** The inverter protocols of each inverter-facing link the family has. */
export interface InverterProtocolList {
  can?: readonly InverterProtocolOption[];
  rs485?: readonly InverterProtocolOption[];
  /** Whether the pack can detect the inverter protocol itself (mode `auto`). */
  auto?: boolean;
}

/** The selected inverter protocols (codes of InverterProtocolList) and the selection mode. */
export interface InverterProtocolSetting {
  can?: number;
  rs485?: number;
  mode?: 'auto' | 'manual';
}

/**
 * What a BMS can be calibrated for (seed 002 §2.4, seed 004 system configuration): measured
 * values against a reference meter, and the counters a new or repaired pack is set to.
 */
export type CalibrationKind =
  | 'total_voltage'
  | 'current_zero'
  | 'charge_current'
  | 'discharge_current'
  | 'temperature'
  | 'remaining_capacity'
  | 'full_capacity'
  | 'design_capacity'
  | 'soc'
  | 'cycles';

export interface CalibrationSpec {
  kind: CalibrationKind;
  /** The range the wire format carries, in the calibration's unit (core CALIBRATIONS). */
  min: number;
  max: number;
  step: number;
}
