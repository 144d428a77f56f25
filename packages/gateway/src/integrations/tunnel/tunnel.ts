/**
 * UART-over-TCP tunnel: one bus exposed as a raw TCP port, so DALY's PCMaster or JK's BMS
 * monitor reach the BMS through a virtual COM port. A client holds the bus's exclusive lease
 * (the gateway's polling of that bus pauses) and bytes flow unchanged both ways until the
 * client leaves, goes quiet for `timeout_s`, or the tunnel stops. One client at a time;
 * anyone else, or anyone outside the allow-list, is closed without a byte (a raw tunnel must
 * not inject text into a serial stream) and logged.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { BusPoller } from '../../scheduler/index.js';
import { allowed, parseCidr, type Cidr } from './cidr.js';
import type { TunnelConfig } from './schema.js';

export type TunnelLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface UartTunnelOptions {
  config: TunnelConfig;
  /** The poller of the bus named by `config.bus`. */
  poller: Pick<BusPoller, 'exclusive' | 'bus'>;
  log?: TunnelLog;
  /** Wall clock for `since` (timers use the monotonic clock). */
  clock?: { now(): number };
  /** Bind retry backoff, ms (default 1 s doubling to 60 s). */
  backoff?: { minMs: number; maxMs: number };
}

export interface TunnelClientStatus {
  address: string;
  /** ISO time the client connected. */
  since: string;
  uptimeS: number;
  /** Bytes from the client to the bus. */
  bytesIn: number;
  /** Bytes from the bus to the client. */
  bytesOut: number;
  /** Seconds of silence left before the session is closed. */
  expiresInS: number;
  /** False while the session waits for the poll in progress to finish. */
  leased: boolean;
}

export interface TunnelStatus {
  enabled: boolean;
  listening: boolean;
  bus: string;
  host: string;
  /** The bound port (the configured one, or the one picked for port 0). */
  port: number;
  client?: TunnelClientStatus;
  /** Sessions accepted since start. */
  sessions: number;
  /** Connections closed at once (second client, not in the allow-list). */
  refused: number;
  lastError?: string;
  /** Why the last session ended. */
  lastClose?: string;
}

interface Session {
  socket: Socket;
  address: string;
  since: number;
  startedMono: number;
  lastMono: number;
  bytesIn: number;
  bytesOut: number;
  leased: boolean;
  ending: string | undefined;
  end(reason: string): void;
  done: Promise<void>;
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class UartTunnel {
  private readonly config: TunnelConfig;
  private readonly poller: UartTunnelOptions['poller'];
  private readonly log: TunnelLog;
  private readonly clock: { now(): number };
  private readonly backoff: { minMs: number; maxMs: number };
  private readonly allow: Cidr[];
  private server: Server | undefined;
  private session: Session | undefined;
  private wanted = false;
  private listening = false;
  private boundPort: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs: number;
  private sessions = 0;
  private refused = 0;
  private lastError: string | undefined;
  private lastClose: string | undefined;

  constructor(o: UartTunnelOptions) {
    this.config = o.config;
    this.poller = o.poller;
    this.log = o.log ?? (() => undefined);
    this.clock = o.clock ?? { now: () => Date.now() };
    this.backoff = o.backoff ?? { minMs: 1000, maxMs: 60_000 };
    this.retryMs = this.backoff.minMs;
    this.boundPort = o.config.port;
    // The schema has checked every entry.
    this.allow = o.config.allow.flatMap((s) => parseCidr(s) ?? []);
  }

  /**
   * Starts listening when the config enables the tunnel. Resolves once bound or after the
   * first failed attempt (then it retries with backoff; the failure is in status()).
   */
  async start(): Promise<void> {
    if (!this.config.enabled || this.wanted) return;
    this.wanted = true;
    await this.listen();
  }

  /** Closes the session (releasing the bus) and the listener. */
  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const s = this.session;
    if (s) {
      s.end('tunnel stopped');
      await s.done;
    }
    const server = this.server;
    this.server = undefined;
    this.listening = false;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  status(): TunnelStatus {
    const s = this.session;
    const st: TunnelStatus = {
      enabled: this.config.enabled,
      listening: this.listening,
      bus: this.config.bus,
      host: this.config.host,
      port: this.boundPort,
      sessions: this.sessions,
      refused: this.refused,
    };
    if (s) {
      const now = performance.now();
      const left = this.config.timeout_s - (now - s.lastMono) / 1000;
      st.client = {
        address: s.address,
        since: new Date(s.since).toISOString(),
        uptimeS: Math.round((now - s.startedMono) / 100) / 10,
        bytesIn: s.bytesIn,
        bytesOut: s.bytesOut,
        expiresInS: Math.max(0, Math.round(left * 10) / 10),
        leased: s.leased,
      };
    }
    if (this.lastError !== undefined) st.lastError = this.lastError;
    if (this.lastClose !== undefined) st.lastClose = this.lastClose;
    return st;
  }

  private listen(): Promise<void> {
    return new Promise((resolve) => {
      const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
      const where = `${this.config.host}:${this.config.port}`;
      server.once('error', (e) => {
        this.lastError = `cannot listen on ${where}: ${messageOf(e)}`;
        this.log('warn', `tunnel: ${this.lastError}; retrying in ${this.retryMs} ms`);
        server.close();
        this.scheduleRetry();
        resolve();
      });
      server.listen(this.config.port, this.config.host, () => {
        if (!this.wanted) {
          server.close();
          resolve();
          return;
        }
        const a = server.address();
        if (a && typeof a === 'object') this.boundPort = a.port;
        this.server = server;
        this.listening = true;
        this.retryMs = this.backoff.minMs;
        server.removeAllListeners('error');
        server.on('error', (e) => {
          this.lastError = messageOf(e);
          this.log('error', `tunnel: ${this.lastError}`);
        });
        this.log(
          'info',
          `tunnel: bus ${this.config.bus} on ${this.config.host}:${this.boundPort}` +
            ` (timeout ${this.config.timeout_s} s${this.allow.length ? `, allow ${this.config.allow.join(' ')}` : ''})`,
        );
        resolve();
      });
    });
  }

  private scheduleRetry(): void {
    if (!this.wanted) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.backoff.maxMs, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.wanted && !this.server) void this.listen();
    }, wait);
  }

  private accept(socket: Socket): void {
    const address = socket.remoteAddress?.replace(/^::ffff:/i, '') ?? 'unknown';
    socket.on('error', (e) => this.log('warn', `tunnel: client ${address}: ${messageOf(e)}`));
    if (!this.wanted) {
      socket.destroy();
      return;
    }
    if (!allowed(this.allow, socket.remoteAddress)) {
      this.refused++;
      this.log('warn', `tunnel: refused ${address}: not in the allow-list`);
      socket.destroy();
      return;
    }
    if (this.session) {
      this.refused++;
      this.log('warn', `tunnel: refused ${address}: ${this.session.address} is connected`);
      socket.destroy();
      return;
    }
    this.begin(socket, address);
  }

  private begin(socket: Socket, address: string): void {
    // Hold the client's bytes until the lease is ours (a poll may be in progress).
    socket.pause();
    let ended!: (reason: string) => void;
    const endedP = new Promise<string>((r) => (ended = r));
    const now = performance.now();
    const s: Session = {
      socket,
      address,
      since: this.clock.now(),
      startedMono: now,
      lastMono: now,
      bytesIn: 0,
      bytesOut: 0,
      leased: false,
      ending: undefined,
      end: (reason) => {
        if (s.ending !== undefined) return;
        s.ending = reason;
        ended(reason);
      },
      done: Promise.resolve(),
    };
    this.session = s;
    this.sessions++;
    const timeoutMs = this.config.timeout_s * 1000;
    const timer = setTimeout(() => s.end(`no bytes for ${this.config.timeout_s} s`), timeoutMs);
    const touch = (): void => {
      s.lastMono = performance.now();
      timer.refresh();
    };
    socket.on('close', () => s.end('client disconnected'));
    this.log('info', `tunnel: ${address} connected, waiting for bus ${this.config.bus}`);

    s.done = this.poller
      .exclusive(async (transport) => {
        if (s.ending !== undefined) return;
        s.leased = true;
        this.log('info', `tunnel: ${address} <-> bus ${this.config.bus}, polling paused`);
        const offData = transport.onData((chunk) => {
          s.bytesOut += chunk.length;
          touch();
          socket.write(chunk);
        });
        const offClose = transport.onClose((err) =>
          s.end(`bus link closed${err ? `: ${err.message}` : ''}`),
        );
        const onData = (chunk: Buffer): void => {
          s.bytesIn += chunk.length;
          touch();
          transport.write(chunk).catch((e: unknown) => s.end(`bus write failed: ${messageOf(e)}`));
        };
        socket.on('data', onData);
        socket.resume();
        try {
          await endedP;
        } finally {
          socket.off('data', onData);
          offData();
          offClose();
          s.leased = false;
        }
      })
      .catch((e: unknown) => {
        this.lastError = `bus ${this.config.bus}: ${messageOf(e)}`;
        this.log('error', `tunnel: ${address}: ${this.lastError}`);
        s.end(this.lastError);
      })
      .finally(() => {
        clearTimeout(timer);
        socket.destroy();
        if (this.session === s) this.session = undefined;
        this.lastClose = s.ending ?? 'closed';
        this.log(
          'info',
          `tunnel: ${address} closed (${this.lastClose}); ${s.bytesIn} bytes in, ${s.bytesOut} out; polling resumes`,
        );
      });
  }
}
