/**
 * `CollectorLink`: one claimed collector's gateway as the cloud's server sees it (the seam's
 * `GatewayLink`, docs/collectors.md). State the event stream carries is kept here (packs with
 * their latest snapshot and online state, command statuses); alarms are read from the cloud's
 * alarm store (what ingest stored); everything else is asked of the collector by a downlink on
 * `cmd` and its reply on `res/<node>`. Pack ids are fleet ids `<serial>/<site>/<bus>/<address>`
 * on this side; the prefix comes off on the way down and goes back on on the way up.
 */
import {
  commandResultSchema,
  type CommandResult,
  type Downlink,
  type GatewayCommand,
  type GatewayEnvelope,
  type ReadMethod,
} from '@openbms/contract/gateway';
import { BmsError } from '@openbms/core';
import type {
  EnvelopeListener,
  GatewayLink,
  PackStatus,
  SiteInfo,
  BusInfo,
} from '@openbms/gateway';
import { StreamCursor } from '@openbms/gateway';
import type { AlarmStore } from '@openbms/storage';
import type { RemoteCollector } from '@openbms/storage';

/** What a link needs of the node: sending a downlink and waiting for its reply. */
export interface Requester {
  /** Publishes the downlink and resolves with the reply's value (rejects with its error). */
  request(serial: string, down: DownlinkBody, timeoutMs: number): Promise<unknown>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type DownlinkBody = DistributiveOmit<Downlink, 'v' | 'id' | 'replyTo' | 'expiresAt'>;

/** How long a read or command waits for the collector's reply (ms). */
export const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_COMMANDS = 200;

/** The fleet id of a collector's pack, and back. */
export const fleetPackId = (serial: string, local: string): string => `${serial}/${local}`;
export function localPackId(serial: string, fleet: string): string | undefined {
  return fleet.startsWith(`${serial}/`) ? fleet.slice(serial.length + 1) : undefined;
}

type CommandStatusWire = Extract<GatewayEnvelope, { type: 'command' }>['command'];

export class CollectorLink implements GatewayLink {
  readonly gatewayId: string;
  readonly orgId: string;
  readonly serial: string;
  readonly controls = true;
  private readonly listeners = new Set<EnvelopeListener>();
  private readonly state = new Map<string, PackStatus>();
  private statuses: CommandStatusWire[] = [];
  private readonly cursor = new StreamCursor();
  /** Since when the collector is offline (its status will); undefined: online or not known. */
  private offlineSince: number | undefined;
  private seeded = false;
  timeoutMs = DEFAULT_TIMEOUT_MS;

  constructor(
    collector: RemoteCollector & { orgId: string },
    private readonly node: Requester,
    private readonly alarms: AlarmStore,
  ) {
    this.serial = collector.serial;
    this.gatewayId = collector.gatewayId;
    this.orgId = collector.orgId;
  }

  // ---------------------------------------------------------------- the stream

  /** The collector said it is online or offline (its retained status, or its will). */
  setOnline(online: boolean, at: number): void {
    if (online) {
      this.offlineSince = undefined;
      if (!this.seeded) void this.seed();
    } else {
      this.offlineSince ??= at;
    }
  }

  isOnline(): boolean {
    return this.offlineSince === undefined;
  }

  /** Reads the collector's packs once (after a cloud restart the stream has not named them yet). */
  async seed(): Promise<void> {
    this.seeded = true;
    try {
      await this.packs(true);
    } catch {
      this.seeded = false; // the next online status tries again
    }
  }

  /**
   * An envelope of the live view, already checked and with fleet pack ids: updates the state
   * and goes to the subscribers unless it is a repeat or older than what they saw.
   */
  deliver(e: GatewayEnvelope): void {
    if (this.cursor.accept(e).kind === 'duplicate') return;
    this.apply(e);
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // one listener failing must not stop the others
      }
    }
  }

  private apply(e: GatewayEnvelope): void {
    if (e.type === 'snapshot') {
      const p = this.state.get(e.packId) ?? this.bare(e.packId);
      this.state.set(e.packId, { ...p, snapshot: e.snapshot, lastSeen: e.ts, online: true });
    } else if (e.type === 'online') {
      const p = this.state.get(e.packId) ?? this.bare(e.packId);
      this.state.set(e.packId, { ...p, online: e.online });
    } else if (e.type === 'command') {
      this.statuses = [e.command, ...this.statuses.filter((s) => s.id !== e.command.id)].slice(
        0,
        MAX_COMMANDS,
      );
    }
  }

  /** A pack the stream named before a read did: what its id says. */
  private bare(id: string): PackStatus {
    const [, site = '', bus = '', address = '0'] = id.split('/');
    return {
      id,
      name: id,
      site,
      bus,
      address: Number(address) || 0,
      protocol: 'unknown',
      chemistry: 'lfp',
      online: false,
      link: {
        requests: 0,
        replies: 0,
        retries: 0,
        timeouts: 0,
        checksum_errors: 0,
        polls: 0,
        failures: 0,
      },
    };
  }

  subscribe(listener: EnvelopeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---------------------------------------------------------------- reads

  private refuseOffline(): void {
    if (this.offlineSince !== undefined) {
      throw new BmsError(
        'GATEWAY_UNAVAILABLE',
        `collector ${this.serial} is offline since ${new Date(this.offlineSince).toISOString()}`,
        { serial: this.serial },
      );
    }
  }

  private async ask(method: ReadMethod, args: unknown[]): Promise<unknown> {
    this.refuseOffline();
    return this.node.request(this.serial, { kind: 'read', method, args }, this.timeoutMs);
  }

  private local(packId: string): string {
    const id = localPackId(this.serial, packId);
    if (id === undefined) throw new BmsError('NOT_FOUND', `no pack "${packId}"`);
    return id;
  }

  /** A value from the collector with its pack ids made fleet ids (`id`, `packId`, `packs`). */
  private fleet<T>(value: T): T {
    return prefixIds(this.serial, value) as T;
  }

  async packs(fromCollector = false): Promise<PackStatus[]> {
    if (fromCollector || (this.state.size === 0 && this.isOnline() && !this.seeded)) {
      this.seeded = true;
      const list = this.fleet((await this.ask('packs', [])) as PackStatus[]);
      if (Array.isArray(list)) {
        for (const p of list) {
          const known = this.state.get(p.id);
          this.state.set(
            p.id,
            known?.snapshot && !p.snapshot ? { ...p, snapshot: known.snapshot } : p,
          );
        }
      }
    }
    return [...this.state.values()].map((p) => this.shown(p));
  }

  /** A pack as served: offline while its collector is. */
  private shown(p: PackStatus): PackStatus {
    return this.isOnline() ? p : { ...p, online: false };
  }

  async pack(id: string): Promise<PackStatus | undefined> {
    if (localPackId(this.serial, id) === undefined) return undefined;
    const p = this.state.get(id);
    return p && this.shown(p);
  }

  async sites(): Promise<SiteInfo[]> {
    return (await this.ask('sites', [])) as SiteInfo[];
  }

  async buses(): Promise<BusInfo[]> {
    return this.fleet((await this.ask('buses', [])) as BusInfo[]);
  }

  async activeAlarms(packId?: string) {
    return this.alarms.list(
      { orgIds: [this.orgId], gatewayId: this.gatewayId },
      { active: true, ...(packId !== undefined ? { packId } : { packPrefix: `${this.serial}/` }) },
    );
  }

  async alarmCounts(packId?: string) {
    return this.alarms.counts({ orgIds: [this.orgId], gatewayId: this.gatewayId }, packId);
  }

  async storageStatus(): Promise<undefined> {
    return undefined;
  }

  async commands(packId?: string) {
    return this.statuses.filter((s) => packId === undefined || s.packId === packId);
  }

  capabilities = (packId: string) => this.packRead('capabilities', packId) as Promise<never>;
  readParameters = (packId: string) => this.packRead('readParameters', packId) as Promise<never>;
  exportParameters = (packId: string) =>
    this.packRead('exportParameters', packId) as Promise<never>;
  diffParameters = (packId: string, file: unknown) =>
    this.packRead('diffParameters', packId, file) as Promise<never>;
  readClock = (packId: string) => this.packRead('readClock', packId) as Promise<never>;
  readRecords = (packId: string, start: number, count: number) =>
    this.packRead('readRecords', packId, start, count) as Promise<never>;
  exportRecords = (packId: string, max?: number) =>
    this.packRead('exportRecords', packId, ...(max !== undefined ? [max] : [])) as Promise<never>;
  readInverterProtocol = (packId: string) =>
    this.packRead('readInverterProtocol', packId) as Promise<never>;

  private async packRead(method: ReadMethod, packId: string, ...rest: unknown[]): Promise<unknown> {
    return this.fleet(await this.ask(method, [this.local(packId), ...rest]));
  }

  // ---------------------------------------------------------------- commands

  async send(command: GatewayCommand): Promise<CommandResult> {
    this.refuseOffline();
    const local = this.local(command.packId);
    const value = await this.node.request(
      this.serial,
      { kind: 'command', command: { ...command, packId: local } },
      this.timeoutMs,
    );
    const parsed = commandResultSchema.safeParse(value);
    if (!parsed.success) {
      throw new BmsError(
        'GATEWAY_UNAVAILABLE',
        `collector ${this.serial} answered ${command.op} (txn ${command.txn}) with a malformed result: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`,
        { txn: command.txn },
      );
    }
    const r = parsed.data;
    return {
      ...r,
      packId: fleetPackId(this.serial, r.packId),
      ...(r.command
        ? { command: { ...r.command, packId: fleetPackId(this.serial, r.command.packId) } }
        : {}),
    };
  }
}

/**
 * A collector's answer with its pack ids made fleet ids: `packId` fields, a pack's `id` (objects
 * with `site` and `bus`), and `packs` lists of buses.
 */
export function prefixIds(serial: string, v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => prefixIds(serial, x));
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) {
    if (k === 'packId' && typeof x === 'string') out[k] = fleetPackId(serial, x);
    else if (k === 'id' && typeof x === 'string' && 'site' in o && 'bus' in o)
      out[k] = fleetPackId(serial, x);
    else if (k === 'packs' && Array.isArray(x) && x.every((p) => typeof p === 'string'))
      out[k] = x.map((p) => fleetPackId(serial, p as string));
    else out[k] = prefixIds(serial, x);
  }
  return out;
}
