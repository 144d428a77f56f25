/**
 * The gateway seam for a gateway in the same process (the single box): the `Gateway`'s parts
 * behind `GatewayLink`. It does what a remote implementation does on the gateway's side, so
 * the server cannot tell them apart:
 *
 * - events are stamped into envelopes (gateway id, run, seq) once, then given to every
 *   subscriber in order;
 * - commands are checked against the wire schema (the server's own checks passed already; a
 *   failure here is a bug and is refused as REQUEST_INVALID naming the field), run through the
 *   gateway's safe control path with the principal as the actor, and answered with a typed
 *   result; an error never escapes `send`;
 * - a transaction runs at most once: the last `keep` transactions' results are kept, a repeat
 *   gets the first result (still pending, if the first is), and a txn reused for a different
 *   command is refused.
 */
import {
  SEAM_VERSION,
  gatewayCommandSchema,
  type CommandOf,
  type CommandResult,
  type GatewayCommand,
  type GatewayEnvelope,
  type GatewayEventBody,
  type WriteResultWire,
} from '@openbms/contract/gateway';
import { BmsError, isBmsError } from '@openbms/core';
import { newId, type AlarmEvent } from '@openbms/storage';
import { commandOfError, isRefusal } from '../control/service.js';
import type { Actor, CommandOutcome, CommandStatus, WriteResult } from '../control/types.js';
import type { GatewayEvent } from '../types.js';
import type {
  BusInfo,
  ControlPort,
  EnvelopeListener,
  GatewayLink,
  LocalGatewayParts,
  SiteInfo,
} from './types.js';

export interface InProcessOptions {
  /** Transactions whose results are kept for repeats (default 1,024). */
  keep?: number;
  /** Failures that are not the command's (a bug, a listener throwing): logged by the owner. */
  onError?: (err: unknown) => void;
  /** ms since the epoch, for alarm events without a time of their own. Default Date.now. */
  now?: () => number;
}

/** What an error tells a result (refused or failed, code, message, details, command status). */
function failureOf(
  cmd: GatewayCommand,
  err: unknown,
  onError: (err: unknown) => void,
): Pick<CommandResult, 'status' | 'code' | 'detail' | 'details' | 'command'> {
  const command = commandOfError(err);
  if (!isBmsError(err)) {
    onError(err);
    return {
      status: command?.status === 'refused' ? 'refused' : 'failed',
      code: 'INTERNAL',
      detail: `internal failure at gateway ${cmd.gatewayId} running ${cmd.op} (see its log)`,
      ...(command ? { command } : {}),
    };
  }
  return {
    status: command?.status ?? (isRefusal(err) ? 'refused' : 'failed'),
    code: err.code,
    detail: err.message,
    ...(err.details !== undefined ? { details: jsonSafe(err.details) } : {}),
    ...(command ? { command } : {}),
  };
}

/**
 * A command's content as text with its keys sorted, so the same command sent again compares
 * equal whatever order its sender wrote the keys in (JSON.stringify keeps insertion order).
 */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}

/** Details as they would arrive over a network (functions, undefined and cycles dropped). */
function jsonSafe(d: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(d)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

const writeWire = (w: WriteResult): WriteResultWire => ({
  dryRun: w.dryRun,
  changed: [...w.changed],
  results: w.results.map((r) => ({
    id: r.id,
    ...(r.old !== undefined ? { old: r.old } : {}),
    requested: r.requested,
    ...(r.readback !== undefined ? { readback: r.readback } : {}),
    ok: r.ok,
  })),
});

/** The time an alarm event happened in the state it is in. */
function alarmTime(
  state: 'raised' | 'cleared' | 'acknowledged',
  e: AlarmEvent,
): number | undefined {
  if (state === 'cleared') return e.clearedAt;
  if (state === 'acknowledged') return e.acknowledgedAt;
  return e.raisedAt;
}

export class InProcessGateway implements GatewayLink {
  /** This stream's run: a ULID made when the link is made (a restart makes a new one). */
  readonly run = newId();
  private seq = 0;
  private readonly listeners = new Set<EnvelopeListener>();
  private detach: (() => void) | undefined;
  private readonly results = new Map<string, { key: string; result: Promise<CommandResult> }>();
  private readonly keep: number;
  private readonly onError: (err: unknown) => void;
  private readonly now: () => number;

  constructor(
    private readonly parts: LocalGatewayParts,
    opts: InProcessOptions = {},
  ) {
    this.keep = opts.keep ?? 1024;
    this.onError = opts.onError ?? (() => undefined);
    this.now = opts.now ?? Date.now;
  }

  get gatewayId(): string {
    return this.parts.identity.gatewayId;
  }

  get orgId(): string {
    return this.parts.identity.orgId;
  }

  get controls(): boolean {
    return this.parts.control !== undefined;
  }

  // ---------------------------------------------------------------- read model

  async packs() {
    return this.parts.packs();
  }

  async pack(id: string) {
    return this.parts.pack(id);
  }

  async sites(): Promise<SiteInfo[]> {
    return this.parts.sites();
  }

  async buses(): Promise<BusInfo[]> {
    return this.parts.buses();
  }

  async activeAlarms(packId?: string): Promise<AlarmEvent[]> {
    return this.parts.activeAlarms(packId);
  }

  alarmCounts(packId?: string): Promise<Record<string, number>> {
    return this.parts.alarmCounts(packId);
  }

  async storageStatus() {
    return this.parts.storageStatus?.();
  }

  async commands(packId?: string): Promise<CommandStatus[]> {
    return this.parts.control?.commands(packId) ?? [];
  }

  async capabilities(packId: string) {
    return this.control().capabilities(packId);
  }

  readParameters(packId: string) {
    return this.control().readParameters(packId);
  }

  exportParameters(packId: string) {
    return this.control().exportParameters(packId);
  }

  diffParameters(packId: string, file: unknown) {
    return this.control().diffParameters(packId, file);
  }

  readClock(packId: string) {
    return this.control().readClock(packId);
  }

  readRecords(packId: string, start: number, count: number) {
    return this.control().readRecords(packId, start, count);
  }

  exportRecords(packId: string, max?: number) {
    return this.control().exportRecords(packId, max);
  }

  readInverterProtocol(packId: string) {
    return this.control().readInverterProtocol(packId);
  }

  private control(): ControlPort {
    const c = this.parts.control;
    if (!c) {
      throw new BmsError('NOT_FOUND', `gateway ${this.gatewayId} runs no control commands`);
    }
    return c;
  }

  // ---------------------------------------------------------------- events

  /**
   * The gateway's events in envelopes. The link listens to the gateway while it has
   * subscribers (the first subscribes it, the last unsubscribes it); `seq` grows by one for
   * every event delivered in this run, whoever listens.
   */
  subscribe(listener: EnvelopeListener): () => void {
    if (!this.detach) this.attach();
    this.listeners.add(listener);
    return () => {
      if (!this.listeners.delete(listener)) return;
      if (this.listeners.size === 0) {
        this.detach?.();
        this.detach = undefined;
      }
    };
  }

  private attach(): void {
    // Subscribed before anything is kept, so a bus that throws leaves the link as it was.
    const offEvents = this.parts.events.on((e) => this.publish(this.body(e)));
    let offCommands: () => void = () => undefined;
    try {
      offCommands =
        this.parts.control?.onCommand?.((command) =>
          this.publish({ type: 'command', ts: command.at, command }),
        ) ?? offCommands;
    } catch (e) {
      offEvents();
      throw e;
    }
    this.detach = () => {
      offEvents();
      offCommands();
    };
  }

  private body(e: GatewayEvent): GatewayEventBody {
    switch (e.type) {
      case 'snapshot':
        return { type: 'snapshot', ts: e.ts, packId: e.packId, snapshot: e.snapshot };
      case 'online':
        return {
          type: 'online',
          ts: e.ts,
          packId: e.packId,
          online: e.online,
          ...(e.reason !== undefined ? { reason: e.reason } : {}),
        };
      case 'alarm':
        return {
          type: 'alarm',
          ts: alarmTime(e.state, e.event) ?? this.now(),
          state: e.state,
          alarm: e.event,
        };
    }
  }

  private publish(body: GatewayEventBody): void {
    const envelope = {
      v: SEAM_VERSION,
      gatewayId: this.gatewayId,
      run: this.run,
      seq: ++this.seq,
      ...body,
    } as GatewayEnvelope;
    for (const l of [...this.listeners]) {
      try {
        l(envelope);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  // ---------------------------------------------------------------- commands

  send(command: GatewayCommand): Promise<CommandResult> {
    const txn = typeof command?.txn === 'string' ? command.txn : '';
    const key = canonical(command);
    const seen = txn !== '' ? this.results.get(txn) : undefined;
    if (seen) {
      if (seen.key === key) return seen.result;
      return Promise.resolve(
        this.refusal(command, 'REQUEST_INVALID', `txn ${txn} was used for another command`, 'txn'),
      );
    }
    const result = this.answer(command);
    if (txn !== '') {
      this.results.set(txn, { key, result });
      if (this.results.size > this.keep) {
        const oldest = this.results.keys().next().value;
        if (oldest !== undefined) this.results.delete(oldest);
      }
    }
    return result;
  }

  private async answer(raw: GatewayCommand): Promise<CommandResult> {
    const parsed = gatewayCommandSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') ?? '';
      return this.refusal(
        raw,
        'REQUEST_INVALID',
        `command field "${field || '(root)'}": ${issue?.message ?? 'invalid'}`,
        field,
      );
    }
    const cmd = parsed.data;
    if (cmd.gatewayId !== this.gatewayId) {
      return this.refusal(
        cmd,
        'NOT_FOUND',
        `this is gateway ${this.gatewayId}, not ${cmd.gatewayId}`,
        'gatewayId',
      );
    }
    try {
      return { ...this.head(cmd), ...(await this.execute(cmd)) };
    } catch (err) {
      return { ...this.head(cmd), ...failureOf(cmd, err, this.onError) };
    }
  }

  private head(
    cmd: GatewayCommand,
  ): Pick<CommandResult, 'v' | 'txn' | 'gatewayId' | 'packId' | 'op'> {
    return {
      v: SEAM_VERSION,
      txn: cmd.txn,
      gatewayId: cmd.gatewayId,
      packId: cmd.packId,
      op: cmd.op,
    };
  }

  private refusal(
    cmd: GatewayCommand,
    code: 'REQUEST_INVALID' | 'NOT_FOUND',
    detail: string,
    field: string,
  ): CommandResult {
    const str = (v: unknown, d: string): string => (typeof v === 'string' && v !== '' ? v : d);
    const c = (cmd ?? {}) as Partial<GatewayCommand>;
    return {
      v: SEAM_VERSION,
      txn: str(c.txn, '-'),
      gatewayId: str(c.gatewayId, this.gatewayId),
      packId: str(c.packId, '-'),
      op: str(c.op, '-'),
      status: 'refused',
      code,
      detail,
      ...(field ? { details: { field } } : {}),
    };
  }

  private async execute(
    cmd: GatewayCommand,
  ): Promise<Omit<CommandResult, 'v' | 'txn' | 'gatewayId' | 'packId' | 'op'>> {
    const by: Actor = {
      username: cmd.principal.username,
      ...(cmd.principal.userId !== undefined ? { userId: cmd.principal.userId } : {}),
    };
    const id = cmd.packId;
    const outcome = (o: CommandOutcome) => ({
      status: 'done' as const,
      detail: o.command.detail,
      command: o.command,
      ...(o.readback !== undefined ? { readback: o.readback } : {}),
    });
    switch (cmd.op) {
      case 'parameters.write': {
        const a = (cmd as CommandOf<'parameters.write'>).args;
        const w = await this.control().writeParameters(id, a.values, by, {
          dryRun: a.dry_run === true,
        });
        return {
          status: 'done',
          detail: w.command?.detail ?? 'dry run: validated, nothing written',
          write: writeWire(w),
          ...(w.command ? { command: w.command } : {}),
        };
      }
      case 'mos.set':
        return outcome(await this.control().setMos(id, cmd.args.which, cmd.args.on, by));
      case 'soc.set':
        return outcome(await this.control().setSoc(id, cmd.args.pct, by));
      case 'clock.set':
        return outcome(await this.control().setClock(id, cmd.args.ms, by));
      case 'parameters.restore_defaults':
        return outcome(await this.control().restoreDefaults(id, cmd.args.confirm, by));
      case 'pack.restart':
        return outcome(await this.control().restart(id, cmd.args.confirm, by));
      case 'pack.factory_reset':
        return outcome(await this.control().factoryReset(id, cmd.args.confirm, by));
      case 'parameters.restore_profile':
        return outcome(await this.control().restoreProfile(id, cmd.args.confirm, by));
      case 'pack.shutdown':
        return outcome(await this.control().shutdown(id, cmd.args.confirm, by));
      case 'records.clear':
        return outcome(await this.control().clearRecords(id, cmd.args.kind, cmd.args.confirm, by));
      case 'inverter_protocol.set':
        return outcome(await this.control().setInverterProtocol(id, cmd.args, by));
      case 'calibrate':
        return outcome(await this.control().calibrate(id, cmd.args.kind, cmd.args.value, by));
      case 'alarm.ack': {
        const n = cmd.args.alarm;
        if (!(await this.parts.acknowledgeAlarm(n, by.username))) {
          throw new BmsError('NOT_FOUND', `no unacknowledged alarm ${n}`);
        }
        return { status: 'done', detail: `alarm ${n} acknowledged by ${by.username}` };
      }
    }
  }
}
