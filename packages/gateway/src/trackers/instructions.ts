/**
 * Instructions to GPS trackers on this node (issue 17; docs/trackers.md "Instructions").
 *
 * - **Sessions**: which connection serves which tracker now (JT/T 808 after register/auth,
 *   GT06 after login), by device id. A newer connection of the same tracker replaces the
 *   older one; a closed connection leaves only if it is still the one registered.
 * - **Dispatch**: instructions are created `queued` in the store (by the API, on any node).
 *   The node holding the tracker's connection sends them: at once when the tracker comes
 *   online here, and on a poll (every `pollMs`) of the queued instructions of the trackers it
 *   holds, which is how an instruction made on another node of the same PostgreSQL reaches
 *   it. The claim (queued → sent) is a conditional update, so one node sends it, once.
 * - **Replies** are matched per connection by the key the session gave when it sent
 *   (JT/T 808: the platform serial + message id, echoed in 0x0001 / 0x0201; GT06: the server
 *   flag echoed in 0x15 / 0x21) and stored (replied, or failed with the terminal's result).
 *   An instruction sent but unanswered for `replyTimeoutMs` becomes failed (`no_reply`) on the
 *   next poll of any node; a queued one past its expiry becomes expired.
 * - **Armed state**: set by an arm/disarm that was answered ok, and by the trackers' own
 *   reports (JT/T 808 item 0xF3, GT06 terminal-info bit 0), stored when it changes.
 */
import { gt06, jt808 } from '@openbms/protocols/trackers';
import type { Instruction, InstructionKind, InstructionStore } from '@openbms/storage';
import type { TrackerDevice } from './ingest.js';
import type { Connection } from './listener.js';

/** Kinds that go on the wire (`air_upgrade` is refused by the API: firmware updates, issue 16). */
export type SendableKind = Exclude<InstructionKind, 'air_upgrade'>;

/** A connection that serves a tracker now. */
export interface TrackerSession {
  readonly deviceId: string;
  readonly serial: string;
  readonly protocol: 'jt808' | 'gt06';
  /** Writes the instruction's downlink; returns the key its reply will carry. */
  send(kind: SendableKind): string;
}

export interface InstructionReply {
  ok: boolean;
  /** `ok`, or the terminal's reason (`failure`, `message_error`, `not_supported`...). */
  result: string;
  text?: string;
}

export class TrackerSessions {
  private readonly byDevice = new Map<string, TrackerSession>();
  open(s: TrackerSession): void {
    this.byDevice.set(s.deviceId, s);
  }
  /** Forgets the session if it is still the tracker's current one. */
  close(s: TrackerSession): boolean {
    if (this.byDevice.get(s.deviceId) !== s) return false;
    this.byDevice.delete(s.deviceId);
    return true;
  }
  get(deviceId: string): TrackerSession | undefined {
    return this.byDevice.get(deviceId);
  }
  deviceIds(): string[] {
    return [...this.byDevice.keys()];
  }
  get size(): number {
    return this.byDevice.size;
  }
}

export interface InstructionDispatcherOptions {
  store: InstructionStore;
  /** This node (its gateway id): recorded as the sender. */
  node: string;
  clock?: () => number;
  /** How often the store is polled for instructions made elsewhere (default 2,000 ms). */
  pollMs?: number;
  /** A sent instruction unanswered this long fails with `no_reply` (default 60,000 ms). */
  replyTimeoutMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Devices asked per store query on a poll. */
const POLL_CHUNK = 500;

export class InstructionDispatcher {
  readonly sessions = new TrackerSessions();
  /** Instructions sent and awaiting their reply, per session. */
  private readonly pending = new Map<TrackerSession, Map<string, { i: Instruction; at: number }>>();
  /** The armed state last stored per device (reports are stored only when it changes). */
  private readonly armedKnown = new Map<string, boolean>();
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  /** Counts for logs and tests. */
  readonly counts = { sent: 0, replied: 0, failed: 0, polls: 0 };

  constructor(private readonly o: InstructionDispatcherOptions) {
    this.clock = o.clock ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.o.pollMs ?? 2000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  /** A tracker is online on this node: its queued instructions are sent now. */
  async online(s: TrackerSession): Promise<void> {
    const before = this.sessions.get(s.deviceId);
    if (before && before !== s) this.pending.delete(before);
    this.sessions.open(s);
    await this.sendQueued([s.deviceId]);
  }

  /** The session's connection closed: replies can no longer come on it. */
  offline(s: TrackerSession): void {
    this.sessions.close(s);
    this.pending.delete(s);
  }

  /**
   * One poll: expires queued instructions past their expiry, fails those unanswered for too
   * long, and sends the queued instructions of the trackers held here. Polls do not overlap.
   */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    this.counts.polls++;
    try {
      const now = this.clock();
      const before = now - (this.o.replyTimeoutMs ?? 60_000);
      await this.o.store.expire(now);
      await this.o.store.timeOut(before, now);
      // What timed out is no longer awaited (a late answer is ignored).
      for (const m of this.pending.values()) for (const [k, p] of m) if (p.at < before) m.delete(k);
      const ids = this.sessions.deviceIds();
      for (let i = 0; i < ids.length; i += POLL_CHUNK)
        await this.sendQueued(ids.slice(i, i + POLL_CHUNK));
    } catch (e) {
      this.o.log?.('warn', `instructions: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async sendQueued(deviceIds: string[]): Promise<void> {
    const queued = await this.o.store.queued(deviceIds, this.clock());
    for (const i of queued) {
      const s = this.sessions.get(i.deviceId);
      if (s) await this.dispatch(i, s);
    }
  }

  private async dispatch(i: Instruction, s: TrackerSession): Promise<void> {
    const at = this.clock();
    if (!(await this.o.store.claim(i.id, this.o.node, at))) return; // another node, or expired
    if (i.kind === 'air_upgrade') {
      // Never created by the API (firmware updates are issue 16); refused if found.
      await this.o.store.finish(i.id, { state: 'failed', at, result: 'not_supported' });
      return;
    }
    let key: string;
    try {
      key = s.send(i.kind);
    } catch (e) {
      this.counts.failed++;
      await this.o.store.finish(i.id, {
        state: 'failed',
        at,
        result: 'send_failed',
        reply: e instanceof Error ? e.message : String(e),
      });
      return;
    }
    this.counts.sent++;
    let m = this.pending.get(s);
    if (!m) this.pending.set(s, (m = new Map()));
    m.set(key, { i, at });
  }

  /**
   * A reply decoded on the session's connection: stores it when it answers an instruction
   * sent on that connection (true), else false (an answer to something else).
   */
  async reply(s: TrackerSession, key: string, r: InstructionReply): Promise<boolean> {
    const m = this.pending.get(s);
    const i = m?.get(key)?.i;
    if (!m || !i) return false;
    m.delete(key);
    const at = this.clock();
    const stored = await this.o.store.finish(i.id, {
      state: r.ok ? 'replied' : 'failed',
      at,
      result: r.result,
      ...(r.text !== undefined ? { reply: r.text } : {}),
    });
    if (!stored) return true; // final already (timed out by a poll): the answer comes too late
    if (r.ok) this.counts.replied++;
    else this.counts.failed++;
    if (r.ok && (i.kind === 'arm' || i.kind === 'disarm')) {
      const armed = i.kind === 'arm';
      this.armedKnown.set(i.deviceId, armed);
      await this.o.store.setArmed({
        deviceId: i.deviceId,
        armed,
        armedAt: at,
        armedSource: 'instruction',
      });
    }
    return true;
  }

  /**
   * The tracker reported its armed state (live messages only, not re-sent batches): stored,
   * at the time received, when it differs from the one this node stored last.
   */
  async armedReport(deviceId: string, armed: boolean): Promise<void> {
    if (this.armedKnown.get(deviceId) === armed) return;
    const at = this.clock();
    this.armedKnown.set(deviceId, armed);
    if (this.armedKnown.size > 100_000)
      this.armedKnown.delete(this.armedKnown.keys().next().value!);
    await this.o.store.setArmed({ deviceId, armed, armedAt: at, armedSource: 'report' });
  }
}

// ---------------------------------------------------------------- sessions of the servers

/**
 * The JT/T 808 downlinks: locate 0x8201; restart and factory reset 0x8105 with the standard
 * words 0x04 / 0x05; arm / disarm 0x8105 with the G10LS vendor words 0x66 / 0x67 (not in the
 * standard). The reply key is the platform serial and message id the terminal echoes.
 */
export function jt808Session(
  conn: Connection,
  device: TrackerDevice & { serial?: string },
  terminal: jt808.Jt808Terminal,
  nextSerial: () => number,
): TrackerSession {
  const to: jt808.Jt808Terminal = {
    protocol_version: terminal.protocol_version,
    phone: terminal.phone,
    ...(terminal.version_byte !== undefined ? { version_byte: terminal.version_byte } : {}),
  };
  const control: Record<Exclude<SendableKind, 'locate'>, number> = {
    restart: jt808.CONTROL.reset,
    factory_reset: jt808.CONTROL.factory_reset,
    arm: jt808.VENDOR_CONTROL_G10LS.arm,
    disarm: jt808.VENDOR_CONTROL_G10LS.disarm,
  };
  return {
    deviceId: device.id,
    serial: device.serial ?? device.packId.replace(/^tracker\//, ''),
    protocol: 'jt808',
    send(kind) {
      const serial = nextSerial();
      if (kind === 'locate') {
        conn.send(jt808.encodeLocateNow(to, serial));
        return `${serial}:${jt808.MSG.locate_now}`;
      }
      conn.send(jt808.encodeTerminalControl(to, serial, control[kind]));
      return `${serial}:${jt808.MSG.terminal_control}`;
    },
  };
}

/**
 * The GT06 downlinks: 0x80 with the vendor SMS-syntax words of `gt06.COMMAND_WORDS`; the reply
 * key is the server flag (a counter of the connection) the terminal echoes in 0x15 / 0x21.
 */
export function gt06Session(
  conn: Connection,
  device: TrackerDevice & { serial?: string },
): TrackerSession {
  let flag = 0;
  return {
    deviceId: device.id,
    serial: device.serial ?? device.packId.replace(/^tracker\//, ''),
    protocol: 'gt06',
    send(kind) {
      flag = (flag + 1) >>> 0;
      conn.send(gt06.encodeCommand(gt06.COMMAND_WORDS[kind], flag, flag & 0xffff));
      return flag.toString(16).padStart(8, '0');
    },
  };
}
