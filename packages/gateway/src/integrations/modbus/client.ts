/**
 * Modbus TCP client (seed 001): every `interval_s`, writes chosen pack values to registers
 * of another Modbus TCP server (a display, a PLC, an inverter's controller). A failed
 * connect or write closes the link and retries with exponential backoff; nothing throws
 * out of here. Values of an offline pack, or missing from its snapshot, are skipped (never
 * a stale value written as if fresh).
 */
import Modbus from 'modbus-serial';
import type { PackStatus } from '../../types.js';
import { encodeValue } from './registers.js';
import { parseField, type ModbusClientConfig, type ModbusClientWrite } from './schema.js';
import type { ModbusLog } from './server.js';

export interface ModbusTcpClientOptions {
  config: ModbusClientConfig;
  packs(): PackStatus[];
  log?: ModbusLog;
  clock?: { now(): number };
  /** Reconnect backoff, ms (default 1 s doubling to 60 s). */
  backoff?: { minMs: number; maxMs: number };
}

export interface ModbusTcpClientStatus {
  state: 'stopped' | 'connecting' | 'connected' | 'backoff';
  host: string;
  port: number;
  /** Register writes that the remote acknowledged. */
  writes: number;
  /** Values not written: pack offline or unknown, or value missing from its snapshot. */
  skipped: number;
  /** Values clamped into their register type's range. */
  clamped: number;
  failures: number;
  connects: number;
  lastWriteAt?: number;
  lastError?: string;
  nextAttemptAt?: number;
}

// modbus-serial is CommonJS: its default import is module.exports, whose `default` is itself.
const ModbusRTU = Modbus.default;
type Client = InstanceType<typeof ModbusRTU>;

/** The value of `field` (`soc_pct`, `cell_mv[0]`) in a pack's snapshot. */
export function fieldValue(p: PackStatus | undefined, field: string): number | undefined {
  const f = parseField(field);
  if (typeof f === 'string' || !p?.snapshot) return undefined;
  const raw = (p.snapshot as Record<string, unknown>)[f.key];
  const v =
    f.index === undefined ? raw : Array.isArray(raw) ? (raw as unknown[])[f.index] : undefined;
  return typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : undefined;
}

/** Registers for one configured write, or undefined when there is nothing fresh to write. */
export function registersOf(
  w: ModbusClientWrite,
  p: PackStatus | undefined,
  lowFirst = true,
): { words: number[]; clamped: boolean } | undefined {
  if (!p?.online) return undefined;
  const v = fieldValue(p, w.field);
  if (v === undefined) return undefined;
  const scaled = v * w.scale;
  const clamped =
    (w.type === 'u16' && (Math.round(scaled) < 0 || Math.round(scaled) > 0xffff)) ||
    (w.type === 's16' && (Math.round(scaled) < -0x8000 || Math.round(scaled) > 0x7fff));
  return { words: encodeValue(v, w.type, w.scale, lowFirst), clamped };
}

export class ModbusTcpClient {
  private client: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private delay: number;
  private readonly clock: { now(): number };
  private readonly log: ModbusLog;
  private readonly st: ModbusTcpClientStatus;

  constructor(private readonly o: ModbusTcpClientOptions) {
    this.clock = o.clock ?? { now: () => Date.now() };
    this.log = o.log ?? (() => undefined);
    this.delay = o.backoff?.minMs ?? 1000;
    this.st = {
      state: 'stopped',
      host: o.config.host,
      port: o.config.port,
      writes: 0,
      skipped: 0,
      clamped: 0,
      failures: 0,
      connects: 0,
    };
  }

  status(): ModbusTcpClientStatus {
    return { ...this.st };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.disconnect();
    this.st.state = 'stopped';
    delete this.st.nextAttemptAt;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    this.timer = setTimeout(() => void this.cycle(), ms);
    this.timer.unref?.();
  }

  private disconnect(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        c.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private async connect(): Promise<Client> {
    const { host, port, unit_id, timeout_ms } = this.o.config;
    this.st.state = 'connecting';
    const c = new ModbusRTU();
    // Errors also reach the pending request; this listener only keeps them from throwing.
    c.on('error', (e: unknown) => this.log('warn', `modbus client: ${String(e)}`));
    c.on('close', () => {
      if (this.client === c) this.client = undefined;
    });
    c.setTimeout(timeout_ms);
    await c.connectTCP(host, { port, timeout: timeout_ms } as { port: number });
    c.setID(unit_id);
    this.client = c;
    this.st.connects++;
    this.st.state = 'connected';
    this.log('info', `modbus client: connected to ${host}:${port}`);
    return c;
  }

  /** One round: connect if needed, write every value, then wait for the next. */
  private async cycle(): Promise<void> {
    if (!this.running) return;
    const cfg = this.o.config;
    try {
      const c = this.client?.isOpen ? this.client : await this.connect();
      const packs = new Map(this.o.packs().map((p) => [p.id, p]));
      const lowFirst = cfg.float_words === 'low_first';
      for (const w of cfg.writes) {
        if (!this.running) return;
        const regs = registersOf(w, packs.get(w.pack), lowFirst);
        if (!regs) {
          this.st.skipped++;
          continue;
        }
        if (regs.clamped) this.st.clamped++;
        await c.writeRegisters(w.register, regs.words);
        this.st.writes++;
        this.st.lastWriteAt = this.clock.now();
      }
      this.delay = this.o.backoff?.minMs ?? 1000;
      delete this.st.lastError;
      delete this.st.nextAttemptAt;
      this.schedule(cfg.interval_s * 1000);
    } catch (e) {
      if (!this.running) return;
      const reason = e instanceof Error ? e.message : String(e);
      this.st.failures++;
      this.st.lastError = reason;
      this.st.state = 'backoff';
      await this.disconnect();
      const wait = this.delay;
      this.delay = Math.min(this.delay * 2, this.o.backoff?.maxMs ?? 60_000);
      this.st.nextAttemptAt = this.clock.now() + wait;
      this.log(
        'warn',
        `modbus client: ${cfg.host}:${cfg.port}: ${reason}; retrying in ${(wait / 1000).toFixed(1)} s`,
      );
      this.schedule(wait);
    }
  }
}
