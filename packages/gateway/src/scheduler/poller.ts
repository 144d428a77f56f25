/**
 * The bus scheduler: one BusPoller owns one physical port (serial or serial-over-TCP) and
 * is the only thing that writes to it. It polls the packs of the bus round-robin, one
 * transaction at a time, publishes snapshots and online/offline changes on the EventBus,
 * lends the link to command and tunnel sessions between polls, and reconnects when the
 * link drops. Nothing leaves its loop as an exception: failures become status and events.
 */
import { performance } from 'node:perf_hooks';
import { BmsError, isBmsError, type Reading } from '@openbms/core';
import { getProtocol, type ProtocolDefinition } from '@openbms/protocols';
import {
  Exchanger,
  createTransport,
  type LinkSettings,
  type LinkStats,
  type Transport,
} from '@openbms/transport';
import type { EnergyCounters } from '../energy.js';
import type { EventBus, PackRef, PackStatus } from '../types.js';
import { CycleAborted, messageOf, runCycle } from './cycle.js';
import { Mutex } from './mutex.js';
import { PackState, type Transition } from './pack-state.js';
import { busTiming, linkOf, type BusTiming } from './timing.js';

/** Where event timestamps come from (a ManualClock in tests, Date.now otherwise). */
export interface Clock {
  now(): number;
}

export interface BusPollerOptions {
  /** Serial path or `tcp://host:port`. */
  endpoint: string;
  packs: readonly PackRef[];
  events: EventBus;
  /** Bus id for messages; default: the packs' `bus`. */
  bus?: string;
  /** Protocol id; default: the packs' `protocol` (every pack of a bus speaks the same one). */
  protocol?: string;
  /** Line settings; missing ones come from the family's link defaults. */
  link?: Partial<LinkSettings>;
  /** Time from the start of one round to the start of the next, ms (default 5000). */
  pollIntervalMs?: number;
  /** Reply timeout, ms (default: from the baud, see timing.ts). */
  timeoutMs?: number;
  /** Quiet time before each request, ms (default: 3.5 characters, at least 5 ms). */
  gapMs?: number;
  /** Tries after the first for a healthy pack's transactions (default 1). */
  retries?: number;
  /** Full cycle (with device info and settings) every N polls of a pack (default 10). */
  slowEvery?: number;
  /** Consecutive failed polls before a pack is offline (default 3). */
  offlineAfter?: number;
  /** Most rounds an offline pack sits out between attempts (default 16). */
  backoffMaxRounds?: number;
  /** First and longest wait between reconnection attempts, ms (default 1000 / 30000). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  clock?: Clock;
  /**
   * The devices' own time, which energy is integrated over (default: `clock`). A simulated
   * bus runs on the simulator's clock (faster than wall time in the demo).
   */
  deviceClock?: Clock;
  /** Energy meters: when given, every snapshot carries the pack's charged/discharged kWh. */
  energy?: EnergyCounters;
  /** Builds the link (default createTransport); tests and the bench wrap it. */
  openTransport?: (endpoint: string, settings: LinkSettings) => Transport;
  /** Unexpected (non-BmsError) failures, for the log. The loop carries on regardless. */
  onError?: (err: unknown) => void;
}

export interface PollReport {
  packId: string;
  ok: boolean;
  full: boolean;
  /** Wall time of the poll, ms. */
  ms: number;
  error?: string;
}

/** One pass over the packs of the bus, for diagnostics, tests and the bench. */
export interface RoundReport {
  round: number;
  /** performance.now() at the start of the round. */
  startedAt: number;
  durationMs: number;
  polls: PollReport[];
}

interface Connection {
  transport: Transport;
  exchanger: Exchanger;
  off: () => void;
}

function int(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) {
    throw new BmsError('CONFIG_INVALID', `${name} must be an integer >= ${min} (got ${v})`);
  }
  return v;
}

function num(name: string, v: number, min: number): number {
  if (!Number.isFinite(v) || v < min) {
    throw new BmsError('CONFIG_INVALID', `${name} must be a number >= ${min} (got ${v})`);
  }
  return v;
}

export class BusPoller {
  readonly bus: string;
  readonly endpoint: string;
  readonly def: ProtocolDefinition;
  readonly link: LinkSettings;
  readonly timing: BusTiming;
  private readonly packs: PackState[];
  private readonly events: EventBus;
  private readonly clock: Clock;
  private readonly deviceClock: Clock;
  private readonly energy: EnergyCounters | undefined;
  private readonly intervalMs: number;
  private readonly retries: number;
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private readonly open: (endpoint: string, settings: LinkSettings) => Transport;
  private readonly onError: (err: unknown) => void;
  private readonly lock = new Mutex();
  private readonly roundListeners = new Set<(r: RoundReport) => void>();
  private conn: Connection | undefined;
  private running = false;
  private stopped = false;
  private loopDone: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(o: BusPollerOptions) {
    const first = o.packs[0];
    this.endpoint = o.endpoint;
    this.bus = o.bus ?? first?.bus ?? o.endpoint;
    const protocol = o.protocol ?? first?.protocol;
    if (protocol === undefined) {
      throw new BmsError('CONFIG_INVALID', `bus ${this.bus}: no protocol and no packs`);
    }
    this.def = getProtocol(protocol);
    this.link = linkOf(this.def, o.link);
    this.timing = busTiming(this.link, {
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.gapMs !== undefined ? { gapMs: o.gapMs } : {}),
    });
    this.intervalMs = num('pollIntervalMs', o.pollIntervalMs ?? 5000, 0);
    this.retries = int('retries', o.retries ?? 1, 0);
    this.reconnectMinMs = num('reconnectMinMs', o.reconnectMinMs ?? 1000, 1);
    this.reconnectMaxMs = Math.max(this.reconnectMinMs, o.reconnectMaxMs ?? 30_000);
    const hysteresis = {
      offlineAfter: int('offlineAfter', o.offlineAfter ?? 3, 1),
      slowEvery: int('slowEvery', o.slowEvery ?? 10, 1),
      backoffMaxRounds: int('backoffMaxRounds', o.backoffMaxRounds ?? 16, 0),
    };
    this.checkPacks(o.packs);
    this.packs = o.packs.map((p) => new PackState(p, hysteresis));
    this.events = o.events;
    this.clock = o.clock ?? { now: () => Date.now() };
    this.deviceClock = o.deviceClock ?? this.clock;
    this.energy = o.energy;
    this.open = o.openTransport ?? createTransport;
    this.onError = o.onError ?? (() => undefined);
  }

  private checkPacks(packs: readonly PackRef[]): void {
    const ids = new Set<string>();
    const addresses = new Set<number>();
    for (const p of packs) {
      const where = `bus ${this.bus}, pack ${p.id}`;
      if (ids.has(p.id)) throw new BmsError('CONFIG_INVALID', `${where}: duplicate pack id`);
      if (addresses.has(p.address)) {
        throw new BmsError('CONFIG_INVALID', `${where}: address ${p.address} is used twice`);
      }
      ids.add(p.id);
      addresses.add(p.address);
      if (getProtocol(p.protocol).id !== this.def.id) {
        throw new BmsError(
          'CONFIG_INVALID',
          `${where}: protocol ${p.protocol} differs from the bus protocol ${this.def.id}`,
        );
      }
      try {
        this.def.readSession(readOptionsOf(p));
      } catch (e) {
        throw new BmsError('CONFIG_INVALID', `${where}: ${messageOf(e)}`);
      }
    }
  }

  get connected(): boolean {
    return this.conn !== undefined;
  }

  /** Live status of every pack (copies). */
  status(): PackStatus[] {
    return this.packs.map((p) => ({ ...p.status, link: { ...p.status.link } }));
  }

  statusOf(packId: string): PackStatus | undefined {
    return this.status().find((s) => s.id === packId);
  }

  /**
   * A value a command has just read back from the pack (a MOSFET, the SOC): the live status
   * shows it at once, so a read right after the acknowledged write (API, Modbus, MQTT) never
   * returns the value from before it. The next poll replaces the whole snapshot as usual.
   */
  readBack(packId: string, values: Partial<Reading>): void {
    const p = this.packs.find((x) => x.ref.id === packId);
    if (!p?.status.snapshot) return;
    p.status.snapshot = { ...p.status.snapshot, ...values };
  }

  /** Subscribes to round reports; returns the unsubscribe function. */
  onRound(listener: (r: RoundReport) => void): () => void {
    this.roundListeners.add(listener);
    return () => this.roundListeners.delete(listener);
  }

  /** Starts polling (connecting first). Returns at once; failures become events. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    this.loopDone = this.loop();
  }

  /** Stops after the running transaction, then closes the link. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    this.wake?.();
    await this.loopDone;
    this.loopDone = undefined;
    await this.lock.run(async () => {
      const c = this.conn;
      if (!c) return;
      this.conn = undefined;
      c.off();
      c.exchanger.dispose();
      await c.transport.close().catch(() => undefined);
    });
  }

  /**
   * Runs a command or tunnel session with the link to itself: it starts after the pack
   * poll in progress and polling of this bus waits until it returns (other buses have
   * their own poller and carry on). Connects first if the link is down; its errors are the
   * caller's.
   */
  exclusive<T>(fn: (transport: Transport, exchanger: Exchanger) => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      if (this.stopped) {
        throw new BmsError('TRANSPORT_CLOSED', `bus ${this.bus} (${this.endpoint}) is stopped`);
      }
      const c = this.conn ?? (await this.connect());
      return fn(c.transport, c.exchanger);
    });
  }

  private async connect(): Promise<Connection> {
    const transport = this.open(this.endpoint, this.link);
    try {
      await transport.open();
    } catch (e) {
      if (isBmsError(e)) throw e;
      throw new BmsError('TRANSPORT_OPEN_FAILED', `cannot open ${this.endpoint}: ${messageOf(e)}`);
    }
    const exchanger = new Exchanger(transport, this.def.createFramer());
    const c: Connection = { transport, exchanger, off: () => undefined };
    c.off = transport.onClose(() => this.dropped(c));
    this.conn = c;
    return c;
  }

  /** The link closed under us (converter rebooted, adapter unplugged): reconnect later. */
  private dropped(c: Connection): void {
    if (this.conn !== c) return;
    this.conn = undefined;
    c.off();
    c.exchanger.dispose();
    void c.transport.close().catch(() => undefined);
  }

  private pause(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.wake = done;
    });
  }

  private emitChange(p: PackState, change: Transition | undefined): void {
    if (!change) return;
    this.events.emit({
      type: 'online',
      packId: p.ref.id,
      ts: this.clock.now(),
      online: change.online,
      ...(change.reason !== undefined ? { reason: change.reason } : {}),
    });
  }

  private async loop(): Promise<void> {
    let round = 0;
    let reconnectDelay = this.reconnectMinMs;
    while (this.running) {
      try {
        if (!this.conn) {
          const ok = await this.lock.run(() => this.reconnect());
          if (!ok) {
            await this.pause(reconnectDelay);
            reconnectDelay = Math.min(this.reconnectMaxMs, reconnectDelay * 2);
            continue;
          }
          reconnectDelay = this.reconnectMinMs;
        }
        const startedAt = performance.now();
        const polls: PollReport[] = [];
        for (const p of this.packs) {
          if (!this.running || !this.conn) break;
          if (p.skip > 0) {
            p.skip--;
            continue;
          }
          const r = await this.lock.run(() => this.poll(p));
          if (r) polls.push(r);
        }
        const durationMs = performance.now() - startedAt;
        this.report({ round: ++round, startedAt, durationMs, polls });
        // A round that polled nothing (every pack backing off) still lasts a timeout, so the
        // backoff counted in rounds also means time.
        const period =
          polls.length > 0 ? this.intervalMs : Math.max(this.intervalMs, this.timing.timeoutMs);
        const wait = period - (performance.now() - startedAt);
        await (wait > 0 ? this.pause(wait) : new Promise<void>((r) => setImmediate(r)));
      } catch (e) {
        // Only a bug gets here; keep polling, slowly.
        this.onError(e);
        await this.pause(this.reconnectMinMs);
      }
    }
  }

  private report(r: RoundReport): void {
    for (const l of [...this.roundListeners]) {
      try {
        l(r);
      } catch (e) {
        this.onError(e);
      }
    }
  }

  /** One connection attempt; a failure counts against every pack of the bus. */
  private async reconnect(): Promise<boolean> {
    if (this.conn) return true;
    if (!this.running) return false;
    try {
      await this.connect();
      return true;
    } catch (e) {
      const message = messageOf(e);
      for (const p of this.packs) this.emitChange(p, p.failed(message, false));
      if (!isBmsError(e)) this.onError(e);
      return false;
    }
  }

  private async poll(p: PackState): Promise<PollReport | undefined> {
    const c = this.conn;
    if (!c || !this.running) return undefined;
    const full = p.fullDue;
    const before: LinkStats = { ...c.exchanger.stats };
    const t0 = performance.now();
    try {
      const r = await runCycle(c.exchanger, this.def, readOptionsOf(p.ref), {
        exchange: {
          timeoutMs: this.timing.timeoutMs,
          retries: this.retries,
          gapMs: this.timing.gapMs,
          address: p.ref.address,
        },
        probeRetries: p.probing ? 0 : this.retries,
        full,
        keepGoing: () => this.running,
      });
      p.count(before, c.exchanger.stats);
      const now = this.clock.now();
      const reading = r.reading;
      reading.protocol = this.def.id;
      reading.address ??= p.ref.address;
      reading.ts = new Date(now).toISOString();
      this.energy?.add(p.ref.id, reading, now, this.deviceClock.now());
      const { snapshot, change } = p.succeeded(reading, full, r.slow, now);
      this.emitChange(p, change);
      this.events.emit({ type: 'snapshot', packId: p.ref.id, ts: now, snapshot });
      return { packId: p.ref.id, ok: true, full, ms: performance.now() - t0 };
    } catch (e) {
      p.count(before, c.exchanger.stats);
      if (e instanceof CycleAborted) return undefined;
      const error = messageOf(e);
      this.emitChange(p, p.failed(error, true));
      if (!isBmsError(e)) this.onError(e);
      return { packId: p.ref.id, ok: false, full, ms: performance.now() - t0, error };
    }
  }
}

function readOptionsOf(p: PackRef): { address: number; variant?: string } {
  return p.variant !== undefined
    ? { address: p.address, variant: p.variant }
    : { address: p.address };
}
