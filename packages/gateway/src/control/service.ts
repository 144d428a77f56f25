/**
 * The one write path to a BMS. Every parameter write and control command of every family
 * goes through here: capability check, validation (range, step, chemistry safe limits,
 * consistency with what the device holds, MOSFET interlocks) with nothing sent on a
 * refusal, the transactions in the bus's exclusive slot, a read-back compared with what was
 * asked, and an audit entry (who, when, old, new, result) for every attempt.
 */
import {
  BmsError,
  cRate,
  isBmsError,
  parameter,
  validateParameterValue,
  validateParameterWrite,
  writeOrder,
  type ErrorCode,
  type PackContext,
  type Reading,
} from '@openbms/core';
import type { ControlOps, ControlTarget } from '@openbms/protocols';
import type { ExchangeOptions, Exchanger, Transport } from '@openbms/transport';
import type { Clock } from '../scheduler/poller.js';
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
  type CommandListener,
  type CommandOutcome,
  type CommandState,
  type CommandStatus,
  type ControlCapabilities,
  type ControlOperation,
  type ControlServiceOptions,
  type ParameterDiff,
  type ParameterFile,
  type ParameterValues,
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

type Done<T> = { value: T; detail: string };

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
  read_parameters: 'readParameters',
  write_parameters: 'writeParameters',
  restore_defaults: 'restoreDefaults',
  restart: 'restart',
  factory_reset: 'factoryReset',
} as const satisfies Record<Exclude<ControlOperation, 'records'>, keyof ControlOps>;

const WORDS: Record<ControlOperation, string> = {
  set_mos: 'switch its MOSFETs',
  set_soc: 'set the state of charge',
  set_clock: 'set the BMS clock',
  read_parameters: 'read parameters',
  write_parameters: 'write parameters',
  restore_defaults: 'restore default parameters',
  restart: 'restart the BMS',
  factory_reset: 'factory-reset the BMS',
  records: 'read on-board data or alarm records',
};

/** How close a read-back SOC must be to the one set, %. */
const SOC_TOLERANCE_PCT = 0.5;
/** BMS clocks count from 2000 (DALY's year byte); 2100 is beyond any firmware's range. */
const CLOCK_MIN = Date.UTC(2000, 0, 1);
const CLOCK_MAX = Date.UTC(2100, 0, 1);

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

export class ControlService {
  private readonly log: CommandLog;
  private readonly clock: Clock;
  private readonly retries: number;
  private readonly onError: (err: unknown) => void;

  constructor(private readonly o: ControlServiceOptions) {
    this.clock = o.clock ?? { now: () => Date.now() };
    this.retries = o.retries ?? 1;
    this.onError = o.onError ?? (() => undefined);
    this.log = new CommandLog(undefined, this.onError);
  }

  // ---------------------------------------------------------------- reads (not audited)

  capabilities(packId: string): ControlCapabilities {
    const p = this.pack(packId);
    const c = p.def.control;
    const operations = Object.fromEntries(
      Object.entries(OPS).map(([op, member]) => [op, typeof c?.[member] === 'function']),
    ) as Record<ControlOperation, boolean>;
    operations.records = false;
    const writable = operations.write_parameters ? (c?.writableParameters ?? []) : [];
    operations.write_parameters = writable.length > 0 && operations.read_parameters;
    const ctx = this.context(p);
    return {
      packId: p.ref.id,
      protocol: p.def.id,
      chemistry: p.ref.chemistry,
      limits: {
        ...(ctx.cellCount !== undefined ? { cellCount: ctx.cellCount } : {}),
        ...(ctx.designAh !== undefined ? { designAh: ctx.designAh } : {}),
        maxChargeC: cRate('charge', ctx),
        maxDischargeC: cRate('discharge', ctx),
      },
      operations,
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
    return parameterFile(
      { id: p.ref.id, name: p.ref.name, protocol: p.def.id, chemistry: p.ref.chemistry },
      values,
      this.clock.now(),
    );
  }

  /** Validates a parameter file against this pack and diffs it with the device; writes nothing. */
  async diffParameters(packId: string, file: unknown): Promise<ParameterDiff> {
    const p = this.pack(packId);
    const read = this.need(p, 'read_parameters');
    const parsed = readParameterFile(file);
    const current = await p.poller.exclusive((_t, ex) => this.readValues(p, ex, read));
    const c = p.def.control;
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

  /** Seed 004's on-board data and alarm records: no family's public protocol exposes them. */
  records(packId: string): never {
    const p = this.pack(packId);
    throw new BmsError(
      'CAPABILITY_MISSING',
      `${p.def.id} cannot ${WORDS.records}: no public description of its protocol has them`,
      { protocol: p.def.id, operation: 'records' },
    );
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
          return { value: result, detail: 'every value already held; nothing sent' };
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
    const ops = p.def.control!;
    return {
      build: (values) =>
        this.build(p, 'write_parameters', () =>
          ops.writeParameters!(this.target(p, snapshot), values),
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
        if (why) throw refused(why, { interlock: `${which}_mos_off`, current_a: snap.current_a });
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
        return {
          value: { [key]: state },
          detail: `${which} MOSFET switched ${on ? 'on' : 'off'}; read back ${state ? 'on' : 'off'}`,
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
        return { value: { soc_pct: soc }, detail: `SOC set to ${pct} %; read back ${soc} %` };
      });
    });
    return { command: r.command, readback: r.value };
  }

  /** Sets the BMS clock (default: the gateway's now). No family reports its clock back. */
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
      const steps = this.build(p, 'set_clock', () => ops(this.target(p), at));
      return p.poller.exclusive(async (_t, ex) => {
        await runSteps(ex, steps, this.exOpts(p));
        return {
          value: undefined,
          detail: `clock set to ${new Date(at).toISOString()} (acknowledged; ${p.def.id} does not report its clock, so it is not read back)`,
        };
      });
    });
    return { command: r.command };
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
      const read = p.def.control?.readParameters;
      const steps = this.build(p, 'restore_defaults', () => ops(this.target(p)));
      return p.poller.exclusive(async (_t, ex) => {
        if (read) trail.old = await this.readValues(p, ex, read);
        await runSteps(ex, steps, this.exOpts(p));
        if (!read) return { value: undefined, detail: 'defaults restored (acknowledged)' };
        const after = await this.readValues(p, ex, read);
        trail.new = after;
        const before = (trail.old ?? {}) as Record<string, number>;
        const changed = Object.keys(after).filter(
          (id) => before[id] === undefined || !sameValue(id, before[id], after[id]!),
        );
        return {
          value: { parameters: after },
          detail: `defaults restored; ${changed.length} parameter(s) changed${changed.length ? `: ${changed.join(', ')}` : ''}`,
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
    op: 'restart' | 'factory_reset',
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
          detail: `${op === 'restart' ? 'restart' : 'factory reset'} sent (${run.sent} step(s)); the next polls show the pack coming back`,
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

  private need<K extends keyof typeof OPS>(
    p: ResolvedPack,
    op: K,
  ): NonNullable<ControlOps[(typeof OPS)[K]]> {
    const fn = p.def.control?.[OPS[op]];
    if (typeof fn !== 'function') throw missing(p.def.id, op);
    return fn.bind(p.def.control) as NonNullable<ControlOps[(typeof OPS)[K]]>;
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
    const ops = p.def.control;
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
      const { value, detail } = await run(trail);
      return { value, command: await this.record(p, user, action, 'done', detail, trail) };
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
    });
  }
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
