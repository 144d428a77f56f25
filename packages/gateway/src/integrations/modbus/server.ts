/**
 * Modbus TCP server (seed 001's map, docs/modbus.md): one 60-register block per pack, unit
 * id = the pack's position in the config (1..N). Framing and exceptions are `pdu.ts` (why
 * not modbus-serial's ServerTCP is said there) on a node:net server; this file answers
 * register reads from the latest PackStatus and, when `writes` is on,
 * turns writes of the two MOS registers into ControlService.setMos (validation,
 * interlocks, read-back, audit) as user "modbus". Nothing here can crash the gateway: a
 * bind failure is logged, shown in status() and retried with backoff.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AlarmEvent } from '@openbms/storage';
import type { PackStatus } from '../../types.js';
import { DailyMaxSoc } from './daily.js';
import { BLOCK_SIZE, MOS_REGISTERS, encodeBlock } from './registers.js';
import type { ModbusTcpConfig } from './schema.js';
import { EXCEPTION, ModbusException, answer, frame, takeFrames } from './pdu.js';
import { SUNSPEC_BASE, SUNSPEC_SIZE, sunspecBlock } from './sunspec.js';

/** Seed 001's block at 0, the SunSpec map at 40000. */
const BLOCKS = [
  { start: 0, size: BLOCK_SIZE },
  { start: SUNSPEC_BASE, size: SUNSPEC_SIZE },
] as const;

export { EXCEPTION, ModbusException } from './pdu.js';

/** The subset of ControlService the server uses. */
export interface MosControl {
  setMos(
    packId: string,
    which: 'charge' | 'discharge',
    on: boolean,
    user: string,
  ): Promise<{ command: { status: string; detail: string } }>;
}

export type ModbusLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface ModbusTcpServerOptions {
  config: ModbusTcpConfig;
  /** The gateway's live status, in config order (unit id = index + 1). */
  packs(): PackStatus[];
  /** Needed for writes (Gateway.control). */
  control?: MosControl;
  /** Gateway alarms (comm_lost, rules) counted by the failure flag besides the BMS's own. */
  activeAlarms?(packId: string): Pick<AlarmEvent, 'severity' | 'code'>[];
  log?: ModbusLog;
  clock?: { now(): number };
  /** Bind retry backoff, ms (default 1 s doubling to 60 s). */
  backoff?: { minMs: number; maxMs: number };
}

export interface ModbusTcpServerStatus {
  state: 'stopped' | 'starting' | 'listening' | 'error';
  host: string;
  port: number;
  writes: boolean;
  requests: number;
  /** Requests answered with a Modbus exception. */
  exceptions: number;
  writesDone: number;
  clients: number;
  /** Unit id -> pack id. */
  units: { unit: number; pack: string }[];
  lastError?: string;
  nextAttemptAt?: number;
}

const SEVERE = new Set(['protection', 'fault']);

export class ModbusTcpServer {
  private server: Server | undefined;
  private readonly socks = new Set<Socket>();
  private retry: NodeJS.Timeout | undefined;
  private tick: NodeJS.Timeout | undefined;
  private delay: number;
  private startedAt = 0;
  private readonly clock: { now(): number };
  private readonly log: ModbusLog;
  private readonly daily: DailyMaxSoc;
  private readonly st: ModbusTcpServerStatus;
  private wanted = false;

  constructor(private readonly o: ModbusTcpServerOptions) {
    this.clock = o.clock ?? { now: () => Date.now() };
    this.log = o.log ?? (() => undefined);
    this.daily = new DailyMaxSoc(o.config.utc_offset_min);
    this.delay = o.backoff?.minMs ?? 1000;
    this.st = {
      state: 'stopped',
      host: o.config.host,
      port: o.config.port,
      writes: o.config.writes,
      requests: 0,
      exceptions: 0,
      writesDone: 0,
      clients: 0,
      units: [],
    };
  }

  status(): ModbusTcpServerStatus {
    return {
      ...this.st,
      clients: this.socks.size,
      units: this.o.packs().map((p, i) => ({ unit: i + 1, pack: p.id })),
    };
  }

  /** Resolves once the port is bound, or after the first failure (then retried). */
  async start(): Promise<ModbusTcpServerStatus> {
    if (this.wanted) return this.status();
    this.wanted = true;
    this.startedAt = this.clock.now();
    // Max SOC today is sampled every second too, so it is kept with no client reading.
    this.tick = setInterval(() => this.sample(), 1000);
    this.tick.unref?.();
    await this.bind();
    return this.status();
  }

  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.retry);
    clearInterval(this.tick);
    await this.close();
    this.st.state = 'stopped';
    delete this.st.nextAttemptAt;
  }

  private close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return Promise.resolve();
    for (const sock of this.socks) sock.destroy();
    this.socks.clear();
    return new Promise((resolve) => s.close(() => resolve()));
  }

  /** One client connection: frames in, one answer per frame (in the order they complete). */
  private connection(sock: Socket): void {
    this.socks.add(sock);
    let buf: Buffer = Buffer.alloc(0);
    sock.on('close', () => this.socks.delete(sock));
    sock.on('error', (err) => this.log('warn', `modbus tcp: client socket: ${msg(err)}`));
    sock.on('data', (data) => {
      const { frames, rest, bad } = takeFrames(Buffer.concat([buf, data]));
      buf = rest;
      for (const f of frames) {
        this.st.requests++;
        void answer(f.pdu, f.unit, BLOCKS, {
          read: (addr, length, unit) =>
            addr >= SUNSPEC_BASE
              ? this.sunspec(unit).slice(addr - SUNSPEC_BASE, addr - SUNSPEC_BASE + length)
              : this.block(unit).slice(addr, addr + length),
          write: (addr, value, unit) => this.write(addr, value, unit),
        }).then((r) => {
          if (r.exception) this.st.exceptions++;
          if (!sock.destroyed) sock.write(frame(f.transaction, f.unit, r.pdu));
        });
      }
      if (bad) {
        this.log('warn', `modbus tcp: not Modbus TCP (${bad}); closing the connection`);
        sock.destroy();
      }
    });
  }

  private bind(): Promise<void> {
    const { host, port } = this.o.config;
    this.st.state = 'starting';
    return new Promise((resolve) => {
      const server = createServer((sock) => this.connection(sock));
      this.server = server;
      server.once('listening', () => {
        this.st.state = 'listening';
        delete this.st.lastError;
        delete this.st.nextAttemptAt;
        this.delay = this.o.backoff?.minMs ?? 1000;
        this.log('info', `modbus tcp: serving ${this.o.packs().length} pack(s) on ${host}:${port}`);
        resolve();
      });
      server.on('error', (err: unknown) => {
        this.failed(`cannot listen on ${host}:${port}: ${msg(err)}`);
        resolve();
      });
      server.listen({ host, port });
    });
  }

  private failed(reason: string): void {
    this.st.state = 'error';
    this.st.lastError = reason;
    void this.close();
    if (!this.wanted) return;
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, this.o.backoff?.maxMs ?? 60_000);
    this.st.nextAttemptAt = this.clock.now() + wait;
    this.log('error', `modbus tcp: ${reason}; retrying in ${Math.round(wait / 1000)} s`);
    this.retry = setTimeout(() => void this.bind(), wait);
    this.retry.unref?.();
  }

  private sample(): void {
    const now = this.clock.now();
    for (const p of this.o.packs()) {
      this.daily.update(p.id, p.snapshot?.soc_pct, p.lastSeen ?? now, now);
    }
  }

  private pack(unit: number): PackStatus {
    const packs = this.o.packs();
    // Unit 0 and 255 are what many TCP clients send for "the device": answer as unit 1.
    const p = packs[(unit === 0 || unit === 255 ? 1 : unit) - 1];
    if (!p) {
      throw new ModbusException(
        EXCEPTION.TARGET_FAILED,
        `unit ${unit} is not a pack (units 1..${packs.length})`,
      );
    }
    return p;
  }

  /** The SunSpec map of a pack for one request (sunspec.ts). */
  sunspec(unit: number): number[] {
    const p = this.pack(unit);
    const snap = p.snapshot;
    if (!snap) throw new ModbusException(EXCEPTION.TARGET_FAILED, `pack ${p.id} not heard yet`);
    const packs = this.o.packs();
    return sunspecBlock({
      status: p,
      snap,
      unit: packs.findIndex((x) => x.id === p.id) + 1,
      uptimeS: (this.clock.now() - this.startedAt) / 1000,
      alarms: this.o.activeAlarms?.(p.id) ?? [],
    });
  }

  /** Builds the block of a pack for one request. */
  block(unit: number): number[] {
    const p = this.pack(unit);
    const snap = p.snapshot;
    if (!snap) throw new ModbusException(EXCEPTION.TARGET_FAILED, `pack ${p.id} not heard yet`);
    const now = this.clock.now();
    this.daily.update(p.id, snap.soc_pct, p.lastSeen ?? now, now);
    const daily = this.daily.get(p.id, now);
    const severe =
      (snap.alarms ?? []).some((a) => SEVERE.has(a.severity)) ||
      (this.o.activeAlarms?.(p.id) ?? []).some((a) => SEVERE.has(a.severity));
    return encodeBlock({
      status: p,
      snap,
      now,
      uptimeS: (now - this.startedAt) / 1000,
      utcOffsetMin: this.o.config.utc_offset_min,
      failure: severe,
      rssBytes: process.memoryUsage.rss(),
      ...(daily ? { daily } : {}),
    });
  }

  private async write(addr: number, value: number, unit: number): Promise<void> {
    try {
      if (!this.o.config.writes || !this.o.control) {
        throw new ModbusException(EXCEPTION.ILLEGAL_FUNCTION, 'the server is read-only');
      }
      const which =
        addr === MOS_REGISTERS.charge
          ? 'charge'
          : addr === MOS_REGISTERS.discharge
            ? 'discharge'
            : undefined;
      if (!which) {
        throw new ModbusException(
          EXCEPTION.ILLEGAL_ADDRESS,
          `register ${addr} is read-only (writable: ${MOS_REGISTERS.discharge}, ${MOS_REGISTERS.charge})`,
        );
      }
      if (value !== 0 && value !== 1) {
        throw new ModbusException(
          EXCEPTION.ILLEGAL_VALUE,
          `MOS register takes 0 or 1, not ${value}`,
        );
      }
      const p = this.pack(unit);
      const r = await this.o.control.setMos(p.id, which, value === 1, 'modbus');
      if (r.command.status !== 'done') {
        this.log('warn', `modbus tcp: ${which} MOS of ${p.id}: ${r.command.detail}`);
        throw new ModbusException(EXCEPTION.DEVICE_FAILURE, r.command.detail);
      }
      this.st.writesDone++;
    } catch (e) {
      if (!(e instanceof ModbusException)) {
        this.log('error', `modbus tcp: write failed: ${msg(e)}`);
        throw new ModbusException(EXCEPTION.DEVICE_FAILURE, msg(e));
      }
      throw e;
    }
  }
}

const msg = (e: unknown): string => (e instanceof Error ? e.message : String(e));
