/**
 * The one write path to a BMS. Every parameter write and control command of every family
 * goes through here: capability check, validation (range, step, chemistry safe limits,
 * consistency with what the device holds, MOSFET interlocks) with nothing sent on a
 * refusal, the transactions in the bus's exclusive slot, a read-back compared with what was
 * asked, and an audit entry (who, when, old, new, result) for every attempt.
 */
import {
  BmsError,
  calibration,
  cRate,
  isBmsError,
  parameter,
  recordsCsv,
  wallText,
  validateParameterValue,
  validateParameterWrite,
  writeOrder,
  type BmsRecord,
  type ErrorCode,
  type PackContext,
  type Reading,
  type RecordKind,
  type ResultKey,
  type ServerText,
} from '@openbms/core';
import {
  controlOf,
  type CalibrationKind,
  type ControlOpName,
  type ControlOps,
  type ControlTarget,
  type InverterProtocolSetting,
  type ReadSession,
} from '@openbms/protocols';
import type { ExchangeOptions, Exchanger, Transport } from '@openbms/transport';
import type { Clock } from '../scheduler/poller.js';
import { hostTimeZone, realOf, wallOf } from './clock.js';
import { CommandLog } from './commands.js';
import { requireBoolean, requireNumber, requireOneOf, requireValues } from './inputs.js';
import { mosInterlock } from './interlocks.js';
import {
  diffParameters,
  packContextOf,
  parameterFile,
  parameterInfo,
  readParameterFile,
  sameValue,
} from './parameters.js';
import { PartialRun, freshRead, parametersOf, runSession, runSteps } from './run.js';
import {
  WriteAborted,
  abortedError,
  runWrite,
  writeUnits,
  type WriteIo,
  type WritePlan,
} from './write-run.js';
import {
  actorOf,
  type Actor,
  type CalibrationInfo,
  type ClockView,
  type CommandListener,
  type CommandOutcome,
  type CommandState,
  type CommandStatus,
  type ControlCapabilities,
  type ControlOperation,
  type ControlServiceOptions,
  type InverterProtocolView,
  type ParameterDiff,
  type ParameterFile,
  type ParameterValues,
  type ProfileStore,
  type RecordsPage,
  type ResolvedPack,
  type WriteResult,
} from './types.js';

/** What an attempt records for the audit log as it goes (kept on failures too). */
interface Trail {
  old?: unknown;
  new?: unknown;
  /** A write that failed part-way: what was put back, and what the pack held after. */
  rolledBack?: { restored: string[]; not_restored: string[] };
  holds?: Record<string, number>;
}

const say = (key: ResultKey, params?: Record<string, string | number>): ServerText =>
  params ? { key: `result.${key}`, params } : { key: `result.${key}` };

/** A command's value and its result sentence, in English and as a key for the console. */
type Done<T> = { value: T; detail: string; text?: ServerText };

/** A validated write: the answer's rows plus what the write path needs to send it. */
type Plan = WriteResult & { reading: Reading; write: WritePlan };

const resultOf = (plan: Plan): WriteResult => ({
  dryRun: plan.dryRun,
  results: plan.results,
  changed: plan.changed,
});

/**
 * The command status recorded for an attempt that threw (refused or failed), by its error: a
 * caller that only has the error (the gateway seam, which turns it into a command result)
 * finds the status the log and the audit entry got.
 */
const statusOfError = new WeakMap<object, CommandStatus>();

/** The command status recorded for this error, when an audited attempt threw it. */
export function commandOfError(err: unknown): CommandStatus | undefined {
  return typeof err === 'object' && err !== null ? statusOfError.get(err) : undefined;
}

/**
 * Whether an error means "not done, on purpose" (nothing was sent): validation, capability,
 * interlock, confirmation, device refusal, an unknown pack.
 */
export function isRefusal(err: unknown): boolean {
  return isBmsError(err) && (REFUSALS.has(err.code) || err.code === 'NOT_FOUND');
}

/** Codes that mean "not done, on purpose": validation, capability, interlock, device no. */
const REFUSALS = new Set<ErrorCode>([
  'COMMAND_REFUSED',
  'CAPABILITY_MISSING',
  'PARAM_UNKNOWN',
  'PARAM_OUT_OF_RANGE',
  'PARAM_STEP',
  'PARAM_UNSAFE_FOR_CHEMISTRY',
  'PARAM_INCONSISTENT',
  'REQUEST_INVALID',
]);

/** Operation -> the ControlOps member that provides it. */
const OPS = {
  set_mos: 'setMos',
  set_soc: 'setSoc',
  set_clock: 'setClock',
  read_clock: 'readClock',
  read_parameters: 'readParameters',
  write_parameters: 'writeParameters',
  restore_defaults: 'restoreDefaults',
  restart: 'restart',
  factory_reset: 'factoryReset',
  shutdown: 'shutdown',
  records: 'readRecords',
  clear_records: 'clearRecords',
  read_inverter_protocol: 'readInverterProtocol',
  set_inverter_protocol: 'setInverterProtocol',
  calibrate: 'calibrate',
} as const satisfies Record<Exclude<ControlOperation, 'restore_profile'>, ControlOpName>;

const WORDS: Record<ControlOperation, string> = {
  set_mos: 'switch its MOSFETs',
  set_soc: 'set the state of charge',
  set_clock: 'set the BMS clock',
  read_clock: 'read the BMS clock',
  read_parameters: 'read parameters',
  write_parameters: 'write parameters',
  restore_defaults: 'restore default parameters',
  restart: 'restart the BMS',
  factory_reset: 'factory-reset the BMS',
  shutdown: 'shut the BMS down',
  records: 'read on-board data or alarm records',
  clear_records: 'erase its on-board records',
  read_inverter_protocol: 'read the inverter protocol',
  set_inverter_protocol: 'select an inverter protocol',
  calibrate: 'calibrate',
  restore_profile: 'restore a saved parameter profile',
};

/** The config key that lets a pack run commands resting on one source. */
export const UNVERIFIED_SETTING = 'allow_unverified';

/** How close a read-back SOC must be to the one set, %. */
const SOC_TOLERANCE_PCT = 0.5;
/** BMS clocks count from 2000 (DALY's year byte); 2100 is beyond any firmware's range. */
const CLOCK_MIN = Date.UTC(2000, 0, 1);
const CLOCK_MAX = Date.UTC(2100, 0, 1);
/** How far a clock read back may be behind the one set (the set, a read, a second tick). */
const CLOCK_TOLERANCE_MS = 3000;
/** How far ahead of the set time (plus the time passed) a clock read back may be. */
const CLOCK_AHEAD_MS = 10 * 60_000;
/** Most records one export reads (in pages of the family's size). */
export const MAX_EXPORT_RECORDS = 2000;
/** Current, A, under which a pack counts as idle for a zero-point calibration. */
const ZERO_CURRENT_A = 0.5;

/** Profiles kept in memory (a gateway given no store). */
class MemoryProfiles implements ProfileStore {
  private readonly files = new Map<string, ParameterFile>();
  load(packId: string): ParameterFile | undefined {
    return this.files.get(packId);
  }
  save(packId: string, file: ParameterFile): void {
    this.files.set(packId, file);
  }
}

const missing = (family: string, op: ControlOperation): BmsError =>
  new BmsError(
    'CAPABILITY_MISSING',
    `${family} cannot ${WORDS[op]} (its protocol has no such command)`,
    {
      protocol: family,
      operation: op,
    },
  );

const refused = (message: string, details?: Record<string, unknown>): BmsError =>
  new BmsError('COMMAND_REFUSED', message, details);

/** The refusal of a command whose wire format rests on one source, naming the setting. */
const unverifiedRefusal = (p: ResolvedPack, what: string, why: string): BmsError =>
  refused(
    `${p.def.id} could ${what}, but its wire format rests on a single source (${why}); refused because ${UNVERIFIED_SETTING} is off for ${p.ref.name}. Set ${UNVERIFIED_SETTING}: true on this pack in the config to allow it.`,
    { setting: UNVERIFIED_SETTING, unverified: why },
  );

export class ControlService {
  private readonly log: CommandLog;
  private readonly clock: Clock;
  private readonly retries: number;
  private readonly onError: (err: unknown) => void;
  private readonly tz: string;
  private readonly profiles: ProfileStore;

  constructor(private readonly o: ControlServiceOptions) {
    this.clock = o.clock ?? { now: () => Date.now() };
    this.retries = o.retries ?? 1;
    this.onError = o.onError ?? (() => undefined);
    this.log = new CommandLog(undefined, this.onError);
    this.tz = o.timeZone ?? hostTimeZone();
    wallOf(0, this.tz); // an unknown zone fails here, not at the first clock command
    this.profiles = o.profiles ?? new MemoryProfiles();
  }

  // ---------------------------------------------------------------- reads (not audited)

  capabilities(packId: string): ControlCapabilities {
    const p = this.pack(packId);
    const c = this.ops(p);
    const operations = Object.fromEntries(
      Object.entries(OPS).map(([op, member]) => [op, typeof c?.[member] === 'function']),
    ) as Record<ControlOperation, boolean>;
    const writable = operations.write_parameters ? (c?.writableParameters ?? []) : [];
    operations.write_parameters = writable.length > 0 && operations.read_parameters;
    operations.restore_profile =
      operations.write_parameters && this.profiles.load(p.ref.id) !== undefined;
    const ctx = this.context(p);
    const unverified: Record<string, string> = {};
    for (const [op, member] of Object.entries(OPS)) {
      const why = c?.unverified?.[member];
      if (why !== undefined && operations[op as ControlOperation]) unverified[op] = why;
    }
    for (const [id, why] of Object.entries(c?.unverifiedParameters ?? {})) {
      if (writable.includes(id)) unverified[`param:${id}`] = why;
    }
    const calibrations: CalibrationInfo[] = operations.calibrate
      ? (c?.calibrations ?? []).flatMap((spec) => {
          const def = calibration(spec.kind);
          return def
            ? [
                {
                  kind: spec.kind,
                  label: def.label,
                  unit: def.unit,
                  takesValue: def.takesValue,
                  min: spec.min,
                  max: spec.max,
                  step: spec.step,
                },
              ]
            : [];
        })
      : [];
    if (operations.calibrate && calibrations.length === 0) operations.calibrate = false;
    return {
      packId: p.ref.id,
      protocol: p.def.id,
      ...(p.ref.variant !== undefined ? { variant: p.ref.variant } : {}),
      chemistry: p.ref.chemistry,
      limits: {
        ...(ctx.cellCount !== undefined ? { cellCount: ctx.cellCount } : {}),
        ...(ctx.designAh !== undefined ? { designAh: ctx.designAh } : {}),
        maxChargeC: cRate('charge', ctx),
        maxDischargeC: cRate('discharge', ctx),
      },
      operations,
      unverified,
      allowUnverified: p.ref.allowUnverified === true,
      ...(operations.read_inverter_protocol && c?.inverterProtocols
        ? { inverterProtocols: c.inverterProtocols }
        : {}),
      calibrations,
      ...(operations.records
        ? { records: { kinds: [...(c?.recordKinds ?? [])], perRead: this.perRead(c) } }
        : {}),
      parameters: operations.write_parameters
        ? writable.flatMap((id) => {
            const def = parameter(id);
            return def ? [parameterInfo(def, ctx)] : [];
          })
        : [],
    };
  }

  async readParameters(packId: string): Promise<ParameterValues> {
    const p = this.pack(packId);
    const read = this.need(p, 'read_parameters');
    return {
      values: await p.poller.exclusive((_t, ex) => this.readValues(p, ex, read)),
    };
  }

  async exportParameters(packId: string): Promise<ParameterFile> {
    const p = this.pack(packId);
    const { values } = await this.readParameters(packId);
    const file = parameterFile(
      { id: p.ref.id, name: p.ref.name, protocol: p.def.id, chemistry: p.ref.chemistry },
      values,
      this.clock.now(),
    );
    // The last export is the pack's saved profile ("restore" where the family has no
    // documented default set). A store failure does not fail the export.
    try {
      this.profiles.save(p.ref.id, file);
    } catch (e) {
      this.onError(e);
    }
    return file;
  }

  /** Validates a parameter file against this pack and diffs it with the device; writes nothing. */
  async diffParameters(packId: string, file: unknown): Promise<ParameterDiff> {
    const p = this.pack(packId);
    const read = this.need(p, 'read_parameters');
    const parsed = readParameterFile(file);
    const current = await p.poller.exclusive((_t, ex) => this.readValues(p, ex, read));
    const c = this.ops(p);
    const writable = new Set(
      typeof c?.writeParameters === 'function' ? (c.writableParameters ?? []) : [],
    );
    return diffParameters(
      parsed.values,
      current,
      writable,
      { ...this.context(p), protocol: p.def.id },
      parsed.pack,
    );
  }

  /**
   * One page of the pack's on-board records (seed 004 data and alarm records, seed 002
   * history events), newest first: positions `start` .. `start + count - 1`. Not audited (a
   * read). A UI reads page after page and can stop between them (seed 004 "stop").
   */
  async readRecords(packId: string, startIn: unknown, countIn: unknown): Promise<RecordsPage> {
    const p = this.pack(packId);
    const read = this.need(p, 'records');
    const per = this.perRead(this.ops(p));
    const start = requireNumber(startIn, 'start');
    const count = requireNumber(countIn, 'count');
    if (!Number.isInteger(start) || start < 0 || start > 0xffff) {
      throw new BmsError(
        'REQUEST_INVALID',
        `start must be a whole number 0..65535 (got ${start})`,
        {
          field: 'start',
        },
      );
    }
    if (!Number.isInteger(count) || count < 1 || count > per) {
      throw new BmsError(
        'REQUEST_INVALID',
        `count must be a whole number 1..${per} (${p.def.id} reads at most ${per} records at a time)`,
        { field: 'count' },
      );
    }
    const reading = await p.poller.exclusive((_t, ex) =>
      runSession(
        ex,
        this.build(p, 'records', () => read(this.target(p), { start, count })),
        this.exOpts(p),
      ),
    );
    const raw = reading.raw ?? {};
    const records = Array.isArray(raw['records']) ? (raw['records'] as BmsRecord[]) : [];
    const end = raw['records_end'] === true;
    return {
      records: records.map((r) =>
        r.wall_ms !== undefined ? { ...r, ms: realOf(r.wall_ms, this.tz) } : { ...r },
      ),
      next: end || records.length === 0 ? null : start + records.length,
      timeZone: this.tz,
    };
  }

  /** Reads up to `max` records (in pages) and returns them as CSV (core recordsCsv). */
  async exportRecords(
    packId: string,
    maxIn: unknown = MAX_EXPORT_RECORDS,
  ): Promise<{ csv: string; count: number }> {
    const p = this.pack(packId);
    this.need(p, 'records');
    const max = requireNumber(maxIn, 'max');
    if (!Number.isInteger(max) || max < 1 || max > MAX_EXPORT_RECORDS) {
      throw new BmsError('REQUEST_INVALID', `max must be a whole number 1..${MAX_EXPORT_RECORDS}`, {
        field: 'max',
      });
    }
    const per = this.perRead(this.ops(p));
    const all: BmsRecord[] = [];
    let next: number | null = 0;
    while (next !== null && all.length < max) {
      const page: RecordsPage = await this.readRecords(
        packId,
        next,
        Math.min(per, max - all.length),
      );
      all.push(...page.records);
      next = page.next;
    }
    return { csv: recordsCsv(all), count: all.length };
  }

  /** Erases the pack's on-board records of one kind (or all); confirmed and audited. */
  async clearRecords(
    packId: string,
    kindIn: unknown,
    confirm: unknown,
    by: Actor | string,
  ): Promise<CommandOutcome> {
    const p = this.pack(packId);
    const r = await this.attempt(p, by, 'records.clear', async (trail) => {
      trail.new = { kind: kindIn };
      const kind = requireOneOf(kindIn, 'kind', ['data', 'alarm', 'all'] as const);
      if (typeof this.ops(p)?.clearRecords !== 'function') throw missing(p.def.id, 'clear_records');
      const kinds = this.ops(p)?.recordKinds ?? [];
      if (kind !== 'all' && !kinds.includes(kind as RecordKind)) {
        throw new BmsError(
          'REQUEST_INVALID',
          `kind must be one of ${[...kinds, 'all'].join(', ')} (${p.def.id} keeps no ${kind} records)`,
          { field: 'kind' },
        );
      }
      this.confirmed(p, confirm, 'erase its on-board records');
      const ops = this.need(p, 'clear_records');
      const steps = this.build(p, 'clear_records', () => ops(this.target(p), kind));
      return p.poller.exclusive(async (_t, ex) => {
        await runSteps(ex, steps, this.exOpts(p, 0));
        return {
          value: undefined,
          detail: `${kind} records erased on the BMS (acknowledged)`,
          text: say('records_erased', { kind }),
        };
      });
    });
    return { command: r.command };
  }

  /** The BMS clock now, with its drift from the gateway's time. Not audited (a read). */
  async readClock(packId: string): Promise<ClockView> {
    const p = this.pack(packId);
    const read = this.need(p, 'read_clock');
    return p.poller.exclusive((_t, ex) => this.clockNow(p, ex, read));
  }

  /** The inverter protocols selected now, and the family's list. Not audited (a read). */
  async readInverterProtocol(packId: string): Promise<InverterProtocolView> {
    const p = this.pack(packId);
    const read = this.need(p, 'read_inverter_protocol');
    const setting = await p.poller.exclusive((_t, ex) => this.inverterNow(p, ex, read));
    return { setting, list: this.ops(p)?.inverterProtocols ?? {} };
  }

  /**
   * Selects inverter protocols (seed 002 §2.5): every code must be in the family's list of
   * that link; sent in the exclusive slot, read back and compared, audited.
   */
  async setInverterProtocol(
    packId: string,
    settingIn: unknown,
    by: Actor | string,
  ): Promise<CommandOutcome> {
    const p = this.pack(packId);
    const r = await this.attempt(p, by, 'inverter_protocol.set', async (trail) => {
      trail.new = settingIn;
      if (typeof this.ops(p)?.setInverterProtocol !== 'function') {
        throw missing(p.def.id, 'set_inverter_protocol');
      }
      const setting = this.inverterSetting(p, settingIn);
      const ops = this.need(p, 'set_inverter_protocol');
      const read = this.need(p, 'read_inverter_protocol');
      const steps = this.build(p, 'set_inverter_protocol', () => ops(this.target(p), setting));
      return p.poller.exclusive(async (_t, ex) => {
        trail.old = await this.inverterNow(p, ex, read);
        await runSteps(ex, steps, this.exOpts(p));
        const back = await this.inverterNow(p, ex, read);
        const differs = (['can', 'rs485', 'mode'] as const).filter(
          (k) => setting[k] !== undefined && back[k] !== setting[k],
        );
        if (differs.length > 0) {
          throw new BmsError(
            'READBACK_MISMATCH',
            `inverter protocol sent, but the pack reads back ${differs.map((k) => `${k}=${String(back[k])}`).join(', ')}`,
            { setting: back },
          );
        }
        return {
          value: { inverter_protocol: back },
          detail: `inverter protocol set to ${this.inverterText(p, back)}; read back equal`,
          text: say('inverter_set', { protocol: this.inverterText(p, back) }),
        };
      });
    });
    return { command: r.command, readback: r.value };
  }

  /**
   * Calibrates one measurement or counter (seed 002 §2.4, seed 004): the value must be in the
   * range the family's wire format carries; a zero-point calibration is refused while current
   * flows, a charge (discharge) current calibration unless the pack charges (discharges).
   * Afterwards a fresh read shows what the pack reports; counters and capacities must match.
   */
  async calibrate(
    packId: string,
    kindIn: unknown,
    valueIn: unknown,
    by: Actor | string,
  ): Promise<CommandOutcome> {
    const p = this.pack(packId);
    const action =
      typeof kindIn === 'string' && calibration(kindIn) ? `calibrate.${kindIn}` : 'calibrate';
    const r = await this.attempt(p, by, action, async (trail) => {
      trail.new = { kind: kindIn, value: valueIn };
      if (typeof this.ops(p)?.calibrate !== 'function') throw missing(p.def.id, 'calibrate');
      // The request itself first (kind, value), then the unverified switch (in need()).
      const specs = this.ops(p)?.calibrations ?? [];
      const kind = requireOneOf(
        kindIn,
        'kind',
        specs.map((x) => x.kind),
      );
      const spec = specs.find((x) => x.kind === kind)!;
      const def = calibration(kind)!;
      const value = def.takesValue ? requireNumber(valueIn, 'value') : 0;
      if (def.takesValue) {
        if (value < spec.min || value > spec.max) {
          throw new BmsError(
            'PARAM_OUT_OF_RANGE',
            `${def.label}: ${value} ${def.unit} is outside ${spec.min}..${spec.max} ${def.unit}`,
            { field: 'value', min: spec.min, max: spec.max },
          );
        }
        const steps = value / spec.step;
        if (Math.abs(steps - Math.round(steps)) > 1e-6) {
          throw new BmsError(
            'PARAM_STEP',
            `${def.label}: ${value} is not a multiple of ${spec.step} ${def.unit}`,
            { field: 'value', step: spec.step },
          );
        }
      }
      const ops = this.need(p, 'calibrate');
      const snap = this.snapshotOf(p);
      this.calibrationInterlock(kind, snap);
      const before = snap?.[def.metric as keyof Reading];
      if (before !== undefined) trail.old = { [def.metric]: before };
      const steps = this.build(p, 'calibrate', () =>
        ops(this.target(p, snap), { kind: kind as CalibrationKind, value }),
      );
      return p.poller.exclusive(async (t, ex) => {
        await runSteps(ex, steps, this.exOpts(p));
        const after = await this.fresh(p, t, ex);
        const back = after[def.metric as keyof Reading];
        const readback = back !== undefined ? { [def.metric]: back } : undefined;
        const want = kind === 'current_zero' ? 0 : value;
        if (
          typeof back === 'number' &&
          def.tolerance >= 0 &&
          ['remaining_capacity', 'full_capacity', 'design_capacity', 'cycles', 'soc'].includes(kind)
        ) {
          if (Math.abs(back - want) > def.tolerance + 1e-9) {
            throw new BmsError(
              'READBACK_MISMATCH',
              `${def.label} calibrated to ${want} ${def.unit}, but the pack reports ${back} ${def.unit}`,
              readback,
            );
          }
        }
        return {
          value: readback,
          detail:
            `${def.label} calibrated${def.takesValue ? ` to ${value} ${def.unit}` : ''}; the pack now reports ${back === undefined ? 'no value' : `${Array.isArray(back) ? back.join('/') : String(back)} ${def.unit}`}`.trim(),
        };
      });
    });
    return r.value ? { command: r.command, readback: r.value } : { command: r.command };
  }

  /** Shuts the BMS down / puts it to sleep: confirmed, sent once, not read back. */
  async shutdown(packId: string, confirm: unknown, by: Actor | string): Promise<CommandOutcome> {
    return this.oneShot(packId, confirm, by, 'shutdown', 'pack.shutdown', 'shut it down');
  }

  /**
   * Writes the pack's saved profile (its last export) back through the one write path, for
   * families without a documented default set: only the values that differ are sent, with
   * every check of a write; confirmed and audited as `parameters.restore_profile`.
   */
  async restoreProfile(
    packId: string,
    confirm: unknown,
    by: Actor | string,
  ): Promise<CommandOutcome> {
    const p = this.pack(packId);
    const r = await this.attempt(p, by, 'parameters.restore_profile', async (trail) => {
      const file = this.profiles.load(p.ref.id);
      if (!file) {
        throw new BmsError(
          'CAPABILITY_MISSING',
          `no saved profile for ${p.ref.name}: export its parameters first (the last export is the profile)`,
          { operation: 'restore_profile' },
        );
      }
      this.confirmed(p, confirm, 'restore its saved parameter profile');
      const when = new Date(file.exported_at).toISOString();
      const diff = await this.diffParameters(packId, file);
      const first = diff.errors[0];
      if (first) {
        throw new BmsError(
          first.code === 'PARAM_INCONSISTENT' ? 'PARAM_INCONSISTENT' : 'PARAM_OUT_OF_RANGE',
          `the saved profile of ${when} cannot be written: ${diff.errors.map((e) => e.message).join('; ')}`,
          { errors: diff.errors },
        );
      }
      const values = Object.fromEntries(diff.changed.map((c) => [c.id, c.file]));
      if (Object.keys(values).length === 0) {
        return {
          value: undefined,
          detail: `the pack already holds the saved profile of ${when}; nothing sent`,
          text: say('profile_held', { when }),
        };
      }
      trail.new = values;
      // The one write path: validated, ordered, read back, rolled back on a failure, and
      // audited as parameter.write on its own.
      const result = await this.writeParameters(packId, values, by);
      return {
        value: Object.fromEntries(result.results.map((x) => [x.id, x.readback])),
        detail: `saved profile of ${when} restored: ${result.changed.join(', ')}`,
        text: say('profile_restored', { when, ids: result.changed.join(', ') }),
      };
    });
    return r.value ? { command: r.command, readback: r.value } : { command: r.command };
  }

  commands(packId?: string): CommandStatus[] {
    return this.log.list(packId);
  }

  onCommand(listener: CommandListener): () => void {
    return this.log.on(listener);
  }

  // ---------------------------------------------------------------- parameter writes

  /**
   * Writes catalog parameters. Refuses, before anything is sent: a value that is not a
   * finite number, an unknown or unwritable id, a value out of range, off-step or beyond the
   * chemistry's limits, and a resulting set (what the pack holds merged with the changes)
   * that breaks a rule. Sends only the values that differ, in an order where every
   * intermediate set is valid, reads everything back and compares; on a failure part-way
   * the values already sent are restored and read back (see write-run.ts). `dryRun` stops
   * after the validation and the frame building (it reads the device, writes nothing and
   * is not audited).
   */
  async writeParameters(
    packId: string,
    values: unknown,
    by: Actor | string,
    opts: { dryRun?: boolean } = {},
  ): Promise<WriteResult> {
    const p = this.pack(packId);
    if (opts.dryRun) {
      const checked = requireValues(values);
      return p.poller.exclusive(async (_t, ex) => {
        const plan = await this.planWrite(p, checked, ex, true);
        // Build (not send) the family's frames, so a value the family itself refuses (a
        // parameter this device variant lacks) is refused by the dry run too.
        if (plan.changed.length > 0) writeUnits(this.writeIo(p, ex, plan.reading), plan.write);
        return resultOf(plan);
      });
    }
    const { value, command } = await this.attempt(p, by, 'parameter.write', async (trail) => {
      trail.new = values;
      const checked = requireValues(values);
      return p.poller.exclusive(async (_t, ex) => {
        const plan = await this.planWrite(p, checked, ex, false, trail);
        const result = resultOf(plan);
        if (plan.changed.length === 0) {
          return {
            value: result,
            detail: 'every value already held; nothing sent',
            text: say('params_held'),
          };
        }
        const io = this.writeIo(p, ex, plan.reading);
        const units = writeUnits(io, plan.write);
        const back = await runWrite(io, plan.write, units);
        const results = result.results.map((r) => {
          const readback = back[r.id];
          return {
            ...r,
            readback,
            ok: readback !== undefined && sameValue(r.id, readback, r.requested),
          };
        });
        const sent = units.flatMap((u) => u.ids);
        return {
          value: { dryRun: false, results, changed: sent },
          detail: `wrote ${sent.map((id) => `${id}=${checked[id]}`).join(', ')}${units.length > 1 ? ' (in this order)' : ''}; read back equal`,
          text: say('params_written', {
            values: sent.map((id) => `${id}=${checked[id]}`).join(', '),
          }),
        };
      });
    });
    return { ...value, command };
  }

  /** How the write path sends frames on the held link: the family's builder, runSteps, a parameter read. */
  private writeIo(p: ResolvedPack, ex: Exchanger, settings: Reading): WriteIo {
    // The family sees the settings just read on top of the latest snapshot (Pylontech's
    // 0x94 carries values the write does not change; they come from there).
    const latest = this.snapshotOf(p);
    const snapshot: Reading = { ...latest, ...settings, raw: { ...latest?.raw, ...settings.raw } };
    const ops = this.ops(p)!;
    const held = (settings.raw?.['parameters'] ?? {}) as Record<string, number>;
    return {
      // `applied`: what this write sent before these frames; a family writing a block carries
      // its other members at the values the pack holds by then.
      build: (values, applied = {}) =>
        this.build(p, 'write_parameters', () =>
          ops.writeParameters!(
            this.target(p, {
              ...snapshot,
              raw: { ...snapshot.raw, parameters: { ...held, ...applied } },
            }),
            values,
          ),
        ),
      send: async (steps) => {
        try {
          await runSteps(ex, steps, this.exOpts(p));
        } catch (e) {
          throw e instanceof PartialRun ? e.error : e;
        }
      },
      read: () => this.readValues(p, ex, ops.readParameters!),
    };
  }

  // ---------------------------------------------------------------- commands

  /** Switches a MOSFET, honouring the interlocks, then confirms it with a fresh read cycle. */
  async setMos(
    packId: string,
    whichIn: unknown,
    onIn: unknown,
    by: Actor | string,
  ): Promise<CommandOutcome> {
    const p = this.pack(packId);
    const named = whichIn === 'charge' || whichIn === 'discharge' ? whichIn : undefined;
    const r = await this.attempt(p, by, named ? `mos.${named}` : 'mos', async (trail) => {
      trail.new = { which: whichIn, on: onIn };
      const which = requireOneOf(whichIn, 'which', ['charge', 'discharge'] as const);
      const on = requireBoolean(onIn, 'on');
      const key = which === 'charge' ? 'charge_mos' : 'discharge_mos';
      const ops = this.need(p, 'set_mos');
      trail.new = { [key]: on };
      const check = (snap: Reading): void => {
        if (snap[key] !== undefined) trail.old = { [key]: snap[key] };
        const why = mosInterlock(snap, which, on);
        if (why) {
          const known = typeof snap.current_a === 'number' && Number.isFinite(snap.current_a);
          throw refused(why, {
            interlock: known ? `${which}_mos_off` : 'current_unknown',
            current_a: snap.current_a,
          });
        }
      };
      const latest = this.snapshotOf(p);
      if (latest) check(latest);
      return p.poller.exclusive(async (t, ex) => {
        // Without a snapshot yet, a fresh read gives the current the interlock needs.
        const snap = latest ?? (await this.fresh(p, t, ex));
        if (!latest) check(snap);
        const steps = this.build(p, 'set_mos', () => ops(this.target(p, snap), which, on));
        await runSteps(ex, steps, this.exOpts(p));
        const after = await this.fresh(p, t, ex);
        const state = after[key];
        if (typeof state !== 'boolean') {
          throw new BmsError(
            'READBACK_MISMATCH',
            `${which} MOSFET command sent, but ${p.def.id}'s read cycle does not report ${key}, so it cannot be confirmed`,
          );
        }
        if (state !== on) {
          throw new BmsError(
            'READBACK_MISMATCH',
            `${which} MOSFET command sent, but the pack still reports it ${state ? 'on' : 'off'}${on ? ' (an active protection may hold it off)' : ''}`,
            { [key]: state },
          );
        }
        p.poller.readBack(p.ref.id, { [key]: state });
        return {
          value: { [key]: state },
          detail: `${which} MOSFET switched ${on ? 'on' : 'off'}; read back ${state ? 'on' : 'off'}`,
          text: say(`mos_${which}_${on ? 'on' : 'off'}`),
        };
      });
    });
    return { command: r.command, readback: r.value };
  }

  /** Sets the BMS's state of charge (its coulomb counter), then reads it back. */
  async setSoc(packId: string, pctIn: unknown, by: Actor | string): Promise<CommandOutcome> {
    const p = this.pack(packId);
    const r = await this.attempt(p, by, 'soc.set', async (trail) => {
      trail.new = { soc_pct: pctIn };
      const pct = requireNumber(pctIn, 'pct');
      const ops = this.need(p, 'set_soc');
      if (pct < 0 || pct > 100) {
        throw new BmsError('PARAM_OUT_OF_RANGE', `SOC ${pct} % is outside 0..100 %`, {
          field: 'pct',
          value: pct,
        });
      }
      const latest = this.snapshotOf(p);
      if (latest?.soc_pct !== undefined) trail.old = { soc_pct: latest.soc_pct };
      const steps = this.build(p, 'set_soc', () => ops(this.target(p, latest), pct));
      return p.poller.exclusive(async (t, ex) => {
        await runSteps(ex, steps, this.exOpts(p));
        const soc = (await this.fresh(p, t, ex)).soc_pct;
        if (typeof soc !== 'number' || Math.abs(soc - pct) > SOC_TOLERANCE_PCT) {
          throw new BmsError(
            'READBACK_MISMATCH',
            `SOC set to ${pct} %, but the pack reports ${soc === undefined ? 'no SOC' : `${soc} %`}`,
            { soc_pct: soc },
          );
        }
        p.poller.readBack(p.ref.id, { soc_pct: soc });
        return {
          value: { soc_pct: soc },
          detail: `SOC set to ${pct} %; read back ${soc} %`,
          text: say('soc_set', { pct, soc }),
        };
      });
    });
    return { command: r.command, readback: r.value };
  }

  /**
   * Sets the BMS clock (default: the gateway's now) to the wall time of the site's time zone;
   * read back and compared (within 3 s) when the family can read its clock.
   */
  async setClock(packId: string, ms: unknown, by: Actor | string): Promise<CommandOutcome> {
    const p = this.pack(packId);
    const r = await this.attempt(p, by, 'clock.set', async (trail) => {
      trail.new = { clock_ms: ms ?? 'now' };
      const at = ms === undefined ? this.clock.now() : requireNumber(ms, 'ms');
      const ops = this.need(p, 'set_clock');
      trail.new = { clock_ms: at };
      if (!Number.isInteger(at) || at < CLOCK_MIN || at >= CLOCK_MAX) {
        throw new BmsError(
          'REQUEST_INVALID',
          `clock ${at} must be whole ms between 2000-01-01 and 2100-01-01`,
          { field: 'ms' },
        );
      }
      const wall = wallOf(at, this.tz);
      trail.new = { clock_ms: at, bms_time: wallText(wall), time_zone: this.tz };
      const steps = this.build(p, 'set_clock', () => ops(this.target(p), wall));
      const read = this.ops(p)?.readClock;
      return p.poller.exclusive(async (_t, ex) => {
        // The clock before, for the audit entry (a read failure does not stop the set).
        if (read && !this.isGated(p, 'read_clock')) {
          try {
            trail.old = { bms_time: (await this.clockNow(p, ex, read.bind(this.ops(p)))).bmsTime };
          } catch {
            // the set is what was asked
          }
        }
        const sentAt = this.clock.now();
        await runSteps(ex, steps, this.exOpts(p));
        if (!read || this.isGated(p, 'read_clock')) {
          return {
            value: undefined,
            detail: `clock set to ${wallText(wall)} (${this.tz}; acknowledged; ${p.def.id} cannot read its clock back)`,
            text: say('clock_set_unread', {
              time: wallText(wall),
              tz: this.tz,
              protocol: p.def.id,
            }),
          };
        }
        const back = await this.clockNow(p, ex, read.bind(this.ops(p)));
        // The BMS clock kept running since it was set. A clock that took the set shows the set
        // time plus what has passed; one that ignored it, or wrote other fields (zone, day and
        // month swapped), is off by hours or days. Forward, allow CLOCK_AHEAD_MS: simulated
        // packs keep simulated time, which runs faster than ours.
        const elapsed = this.clock.now() - sentAt;
        if (back.ms < at - CLOCK_TOLERANCE_MS || back.ms > at + elapsed + CLOCK_AHEAD_MS) {
          throw new BmsError(
            'READBACK_MISMATCH',
            `clock set to ${wallText(wall)}, but the BMS reads back ${back.bmsTime}`,
            { bms_time: back.bmsTime },
          );
        }
        return {
          value: { bms_time: back.bmsTime, clock_ms: back.ms, drift_ms: back.driftMs },
          detail: `clock set to ${wallText(wall)} (${this.tz}); read back ${back.bmsTime}`,
          text: say('clock_set', { time: wallText(wall), tz: this.tz, back: back.bmsTime }),
        };
      });
    });
    return r.value ? { command: r.command, readback: r.value } : { command: r.command };
  }

  /** Restores the factory parameter set; reads the parameters before and after when it can. */
  async restoreDefaults(
    packId: string,
    confirm: unknown,
    by: Actor | string,
  ): Promise<CommandOutcome> {
    const p = this.pack(packId);
    const r = await this.attempt(p, by, 'parameters.restore_defaults', async (trail) => {
      const ops = this.need(p, 'restore_defaults');
      this.confirmed(p, confirm, 'restore its default parameters');
      const read = this.ops(p)?.readParameters;
      const steps = this.build(p, 'restore_defaults', () => ops(this.target(p)));
      return p.poller.exclusive(async (_t, ex) => {
        if (read) trail.old = await this.readValues(p, ex, read);
        await runSteps(ex, steps, this.exOpts(p));
        if (!read)
          return {
            value: undefined,
            detail: 'defaults restored (acknowledged)',
            text: say('defaults_acknowledged'),
          };
        const after = await this.readValues(p, ex, read);
        trail.new = after;
        const before = (trail.old ?? {}) as Record<string, number>;
        const changed = Object.keys(after).filter(
          (id) => before[id] === undefined || !sameValue(id, before[id], after[id]!),
        );
        return {
          value: { parameters: after },
          detail: `defaults restored; ${changed.length} parameter(s) changed${changed.length ? `: ${changed.join(', ')}` : ''}`,
          text: say('defaults_restored', { count: changed.length, ids: changed.join(', ') }),
        };
      });
    });
    return r.value ? { command: r.command, readback: r.value } : { command: r.command };
  }

  async restart(packId: string, confirm: unknown, by: Actor | string): Promise<CommandOutcome> {
    return this.oneShot(packId, confirm, by, 'restart', 'pack.restart', 'restart it');
  }

  async factoryReset(
    packId: string,
    confirm: unknown,
    by: Actor | string,
  ): Promise<CommandOutcome> {
    return this.oneShot(
      packId,
      confirm,
      by,
      'factory_reset',
      'pack.factory_reset',
      'factory-reset it',
    );
  }

  // ---------------------------------------------------------------- internals

  /** Restart and factory reset: confirmed, sent once (never retried), not read back. */
  private async oneShot(
    packId: string,
    confirm: unknown,
    by: Actor | string,
    op: 'restart' | 'factory_reset' | 'shutdown',
    action: string,
    what: string,
  ): Promise<CommandOutcome> {
    const p = this.pack(packId);
    const r = await this.attempt(p, by, action, async () => {
      const ops = this.need(p, op);
      this.confirmed(p, confirm, what);
      const steps = this.build(p, op, () => ops(this.target(p)));
      return p.poller.exclusive(async (_t, ex) => {
        const run = await runSteps(ex, steps, this.exOpts(p, 0));
        return {
          value: undefined,
          detail:
            op === 'shutdown'
              ? `shut-down sent (${run.sent} step(s)); the pack stops answering until it is woken (a flowing current restarts it at once)`
              : `${op === 'restart' ? 'restart' : 'factory reset'} sent (${run.sent} step(s)); the next polls show the pack coming back`,
          text: say(`${op}_sent`),
        };
      });
    });
    return { command: r.command };
  }

  private pack(packId: string): ResolvedPack {
    const p = this.o.resolve(packId);
    if (!p) throw new BmsError('NOT_FOUND', `no pack ${packId}`);
    return p;
  }

  /** The pack's control operations (its variant's, where the family has several command sets). */
  private ops(p: ResolvedPack): ControlOps | undefined {
    return controlOf(p.def, p.ref.variant);
  }

  /** Records per page: the family's own limit (default 10). */
  private perRead(c: ControlOps | undefined): number {
    const n = c?.recordsPerRead;
    return n !== undefined && Number.isInteger(n) && n > 0 ? n : 10;
  }

  /** Whether an operation rests on one source and this pack does not allow such commands. */
  private isGated(p: ResolvedPack, op: keyof typeof OPS): boolean {
    return this.ops(p)?.unverified?.[OPS[op]] !== undefined && p.ref.allowUnverified !== true;
  }

  /**
   * The family's builder for `op`: CAPABILITY_MISSING when it has none, COMMAND_REFUSED
   * naming the setting when its wire format rests on one source and the pack does not allow
   * unverified commands.
   */
  private need<K extends keyof typeof OPS>(
    p: ResolvedPack,
    op: K,
  ): NonNullable<ControlOps[(typeof OPS)[K]]> {
    const c = this.ops(p);
    const fn = c?.[OPS[op]];
    if (typeof fn !== 'function') throw missing(p.def.id, op);
    const why = c?.unverified?.[OPS[op]];
    if (why !== undefined && p.ref.allowUnverified !== true)
      throw unverifiedRefusal(p, WORDS[op], why);
    return fn.bind(c) as NonNullable<ControlOps[(typeof OPS)[K]]>;
  }

  private async clockNow(
    p: ResolvedPack,
    ex: Exchanger,
    read: NonNullable<ControlOps['readClock']>,
  ): Promise<ClockView> {
    const session = this.build(p, 'read_clock', () => read(this.target(p)));
    const reading = await runSession(ex, session, this.exOpts(p));
    const wall = reading.raw?.['clock_wall_ms'];
    if (typeof wall !== 'number' || !Number.isFinite(wall)) {
      throw new BmsError(
        'DECODE_UNSUPPORTED',
        `${p.def.id}: the clock read gave no raw.clock_wall_ms (a bug in the family's readClock)`,
      );
    }
    const ms = realOf(wall, this.tz);
    return { bmsTime: wallText(wall), ms, driftMs: ms - this.clock.now(), timeZone: this.tz };
  }

  private async inverterNow(
    p: ResolvedPack,
    ex: Exchanger,
    read: (t: ControlTarget) => ReadSession,
  ): Promise<InverterProtocolSetting> {
    const session = this.build(p, 'read_inverter_protocol', () => read(this.target(p)));
    const reading = await runSession(ex, session, this.exOpts(p));
    const s = reading.raw?.['inverter_protocol'];
    if (typeof s !== 'object' || s === null) {
      throw new BmsError(
        'DECODE_UNSUPPORTED',
        `${p.def.id}: the inverter protocol read gave no raw.inverter_protocol (a bug in the family)`,
      );
    }
    return s as InverterProtocolSetting;
  }

  /** Checks a selection against the family's lists; throws REQUEST_INVALID naming the field. */
  private inverterSetting(p: ResolvedPack, v: unknown): InverterProtocolSetting {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new BmsError('REQUEST_INVALID', 'setting must be an object {can?, rs485?, mode?}', {
        field: 'setting',
      });
    }
    const list = this.ops(p)?.inverterProtocols ?? {};
    const o = v as Record<string, unknown>;
    const out: InverterProtocolSetting = {};
    for (const key of Object.keys(o)) {
      if (!['can', 'rs485', 'mode'].includes(key)) {
        throw new BmsError('REQUEST_INVALID', `setting.${key} is not a link (can, rs485) or mode`, {
          field: `setting.${key}`,
        });
      }
    }
    for (const link of ['can', 'rs485'] as const) {
      if (o[link] === undefined) continue;
      const code = requireNumber(o[link], `setting.${link}`);
      const options = list[link];
      if (!options) {
        throw new BmsError('REQUEST_INVALID', `${p.def.id} has no ${link} inverter link`, {
          field: `setting.${link}`,
        });
      }
      if (!options.some((x) => x.code === code)) {
        throw new BmsError(
          'REQUEST_INVALID',
          `setting.${link} ${code} is not one of ${p.def.id}'s ${link} protocols (${options.map((x) => `${x.code} ${x.name}`).join(', ')})`,
          { field: `setting.${link}` },
        );
      }
      out[link] = code;
    }
    if (o['mode'] !== undefined) {
      out.mode = requireOneOf(o['mode'], 'setting.mode', ['auto', 'manual'] as const);
      if (out.mode === 'auto' && !list.auto) {
        throw new BmsError(
          'REQUEST_INVALID',
          `${p.def.id} cannot detect the inverter protocol itself`,
          {
            field: 'setting.mode',
          },
        );
      }
    }
    if (Object.keys(out).length === 0) {
      throw new BmsError('REQUEST_INVALID', 'setting: give can, rs485 or mode', {
        field: 'setting',
      });
    }
    return out;
  }

  private inverterText(p: ResolvedPack, s: InverterProtocolSetting): string {
    const list = this.ops(p)?.inverterProtocols ?? {};
    const name = (link: 'can' | 'rs485'): string =>
      s[link] === undefined
        ? ''
        : `${link.toUpperCase()} ${list[link]?.find((x) => x.code === s[link])?.name ?? s[link]}`;
    return [name('can'), name('rs485'), s.mode ? `mode ${s.mode}` : ''].filter(Boolean).join(', ');
  }

  /** Calibrating a current needs that current to flow; the zero point needs none. */
  private calibrationInterlock(kind: string, snap: Reading | undefined): void {
    if (kind !== 'current_zero' && kind !== 'charge_current' && kind !== 'discharge_current')
      return;
    const i = snap?.current_a;
    if (typeof i !== 'number') {
      throw refused(`no current reading of the pack yet: a current calibration needs one`, {
        interlock: 'calibration_current',
      });
    }
    if (kind === 'current_zero' && Math.abs(i) > ZERO_CURRENT_A) {
      throw refused(
        `${i} A flows: the current zero point can only be calibrated with no current flowing (at most ${ZERO_CURRENT_A} A)`,
        { interlock: 'calibration_current', current_a: i },
      );
    }
    if (kind === 'charge_current' && i <= ZERO_CURRENT_A) {
      throw refused(
        `the pack is not charging (${i} A): a charge current calibration needs a charge current`,
        {
          interlock: 'calibration_current',
          current_a: i,
        },
      );
    }
    if (kind === 'discharge_current' && i >= -ZERO_CURRENT_A) {
      throw refused(
        `the pack is not discharging (${i} A): a discharge current calibration needs a discharge current`,
        {
          interlock: 'calibration_current',
          current_a: i,
        },
      );
    }
  }

  private snapshotOf(p: ResolvedPack): Reading | undefined {
    return p.snapshot ?? p.poller.statusOf(p.ref.id)?.snapshot;
  }

  private context(p: ResolvedPack): PackContext {
    return packContextOf(p.ref, this.snapshotOf(p));
  }

  private target(p: ResolvedPack, snapshot = this.snapshotOf(p)): ControlTarget {
    return {
      address: p.ref.address,
      ...(p.ref.variant !== undefined ? { variant: p.ref.variant } : {}),
      ...(snapshot ? { snapshot } : {}),
    };
  }

  private exOpts(p: ResolvedPack, retries = this.retries): ExchangeOptions {
    return {
      timeoutMs: p.poller.timing.timeoutMs,
      gapMs: p.poller.timing.gapMs,
      retries,
      address: p.ref.address,
    };
  }

  private fresh(p: ResolvedPack, t: Transport, ex: Exchanger): Promise<Reading> {
    return freshRead(t, ex, p.def, this.target(p), this.exOpts(p));
  }

  private async readValues(
    p: ResolvedPack,
    ex: Exchanger,
    read: NonNullable<ControlOps['readParameters']>,
  ): Promise<Record<string, number>> {
    return (await this.readReading(p, ex, read)).values;
  }

  /** The parameter read, with the reading it came from (its raw settings, for write steps). */
  private async readReading(
    p: ResolvedPack,
    ex: Exchanger,
    read: NonNullable<ControlOps['readParameters']>,
  ): Promise<{ values: Record<string, number>; reading: Reading }> {
    const session = this.build(p, 'read_parameters', () => read(this.target(p)));
    const reading = await runSession(ex, session, this.exOpts(p));
    return { values: parametersOf(reading, p.def.id), reading };
  }

  /** Calls a family's pure builder; its refusal (bad argument, no encoding) is ours: nothing sent. */
  private build<T>(p: ResolvedPack, op: ControlOperation, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (!isBmsError(e) || REFUSALS.has(e.code)) throw e;
      throw refused(`${p.def.id} cannot encode this request (${WORDS[op]}): ${e.message}`, {
        cause: e.code,
      });
    }
  }

  private confirmed(p: ResolvedPack, confirm: unknown, what: string): void {
    if (confirm !== undefined && typeof confirm !== 'string') {
      throw new BmsError('REQUEST_INVALID', `confirm must be the pack's name as text`, {
        field: 'confirm',
      });
    }
    const c = typeof confirm === 'string' ? confirm.trim() : '';
    if (c === '' || (c !== p.ref.name && c !== p.ref.id)) {
      throw new BmsError(
        'REQUEST_INVALID',
        `confirm with the pack name "${p.ref.name}" (or its id "${p.ref.id}") to ${what}`,
        { field: 'confirm' },
      );
    }
  }

  /**
   * Validates a write against the device's current values (read on the held link) and
   * returns the plan: per-parameter old/requested and the ids that change. Range, step,
   * chemistry and capability checks come first, so a refused value costs no traffic at all.
   */
  private async planWrite(
    p: ResolvedPack,
    values: Record<string, number>,
    ex: Exchanger,
    dryRun: boolean,
    trail: Trail = {},
  ): Promise<Plan> {
    const ops = this.ops(p);
    const read = this.need(p, 'read_parameters');
    if (typeof ops?.writeParameters !== 'function') throw missing(p.def.id, 'write_parameters');
    const ids = Object.keys(values);
    const writable = new Set(ops.writableParameters ?? []);
    const ctx = this.context(p);
    // Each value on its own first: a refused value costs no traffic at all.
    for (const id of ids) {
      const def = parameter(id);
      if (!def) throw new BmsError('PARAM_UNKNOWN', `unknown parameter "${id}"`, { id });
      if (!writable.has(id)) {
        throw new BmsError('CAPABILITY_MISSING', `${p.def.id} cannot write ${def.label} (${id})`, {
          protocol: p.def.id,
          operation: 'write_parameters',
          id,
        });
      }
      const why = ops.unverifiedParameters?.[id];
      if (why !== undefined && p.ref.allowUnverified !== true) {
        throw unverifiedRefusal(p, `write ${def.label} (${id})`, why);
      }
      validateParameterValue(id, values[id]!, ctx);
    }
    // Then the set the pack would hold: what it holds now, read on the held link, plus the changes.
    const { values: current, reading } = await this.readReading(p, ex, read);
    trail.old = Object.fromEntries(ids.map((id) => [id, current[id] ?? null]));
    validateParameterWrite(values, current, ctx);
    const changed = ids.filter((id) => {
      const cur = current[id];
      return cur === undefined || !sameValue(id, cur, values[id]!);
    });
    const changes = Object.fromEntries(changed.map((id) => [id, values[id]!]));
    const order = writeOrder(changes, current, ctx);
    return {
      dryRun,
      results: ids.map((id) => ({
        id,
        old: current[id],
        requested: values[id]!,
        readback: undefined,
        ok: true,
      })),
      changed: order ?? changed,
      reading,
      write: {
        changes,
        old: Object.fromEntries(changed.map((id) => [id, current[id]])),
        order,
      },
    };
  }

  /**
   * Runs one audited command: the status (done / refused / failed) goes to the command log
   * and the audit store, whatever happens. NOT_FOUND packs are not audited (there is no pack).
   */
  private async attempt<T>(
    p: ResolvedPack,
    by: Actor | string,
    action: string,
    run: (trail: Trail) => Promise<Done<T>>,
  ): Promise<{ value: T; command: CommandStatus }> {
    const user = actorOf(by);
    const trail: Trail = {};
    try {
      const { value, detail, text } = await run(trail);
      return { value, command: await this.record(p, user, action, 'done', detail, trail, text) };
    } catch (e) {
      const err =
        e instanceof PartialRun ? unwrap(e) : e instanceof WriteAborted ? abortedError(e) : e;
      if (e instanceof WriteAborted) {
        trail.rolledBack = { restored: e.restored, not_restored: e.notRestored };
        if (e.holds) trail.holds = e.holds;
      }
      const sent = e instanceof PartialRun || (e instanceof WriteAborted && e.written.length > 0);
      const state: CommandState =
        isBmsError(err) && REFUSALS.has(err.code) && !sent ? 'refused' : 'failed';
      const command = await this.record(
        p,
        user,
        action,
        state,
        err instanceof Error ? err.message : String(err),
        trail,
        isBmsError(err) ? errorText(err) : undefined,
      );
      if (typeof err === 'object' && err !== null) statusOfError.set(err, command);
      throw err;
    }
  }

  /** Audits an attempt (an audit failure goes to onError: the command's own result stands). */
  private async record(
    p: ResolvedPack,
    user: Actor,
    action: string,
    status: CommandState,
    detail: string,
    trail: Trail,
    text?: ServerText,
  ): Promise<CommandStatus> {
    const at = this.clock.now();
    try {
      await this.o.audit.append(this.o.origin, {
        at,
        user: user.username,
        ...(user.userId !== undefined ? { userId: user.userId } : {}),
        packId: p.ref.id,
        action,
        ...(trail.old !== undefined ? { old: trail.old } : {}),
        ...(trail.new !== undefined ? { new: trail.new } : {}),
        result: status === 'done' ? 'ok' : status,
        detail,
      });
    } catch (e) {
      this.onError(e);
    }
    return this.log.add({
      packId: p.ref.id,
      action,
      user: user.username,
      ...(user.userId !== undefined ? { userId: user.userId } : {}),
      at,
      status,
      detail,
      ...(text ? { text } : {}),
    });
  }
}

/**
 * A refusal or failure as a key for the console: `error.<CODE>` with the error's simple
 * details as parameters, or the interlock's own key when one refused.
 */
export function errorText(e: BmsError): ServerText {
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(e.details ?? {})) {
    if (typeof v === 'string' || typeof v === 'number') params[k] = v;
  }
  const interlock = e.details?.['interlock'];
  const key = typeof interlock === 'string' ? `interlock.${interlock}` : `error.${e.code}`;
  return Object.keys(params).length > 0 ? { key, params } : { key };
}

/** A PartialRun's error with the partial-application note. */
function unwrap(e: PartialRun): unknown {
  const inner = e.error;
  const note = ` (step ${e.sent} failed after ${e.sent - 1} earlier step(s) were sent: the pack may be partly changed)`;
  if (isBmsError(inner)) {
    return new BmsError(inner.code, `${e.message}${note}`, inner.details);
  }
  return inner;
}
