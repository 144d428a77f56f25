import type { ErrorCode, Reading } from '@openbms/core';

/** Serial link settings a family uses by default (the user can override them). */
export interface LinkDefaults {
  baud: number;
  dataBits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
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
  /** Steps that set the BMS clock to `ms` (UTC). */
  setClock?(t: ControlTarget, ms: number): ControlStep[];
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
}
