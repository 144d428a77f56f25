/**
 * A simulated bus: up to 16 packs behind one link, answering the host's requests through a
 * family's DeviceProtocol, with link timing (bytes at the baud rate plus a turnaround) and
 * injectable faults. One request is answered at a time, like a half-duplex RS485 line.
 */
import { BmsError, isBmsError } from '@openbms/core';
import type { Framer } from '@openbms/protocols';
import type { Clock } from './clock.js';
import { prng } from './clock.js';
import type { SimPack } from './pack.js';
import type { BusView, DeviceProtocol } from './types.js';

export const FAULT_KINDS = [
  'silent',
  'late',
  'corrupt',
  'garbage',
  'truncate',
  'offline',
  'drift',
  'sensor-open',
  'overcurrent',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * A fault: `kind[:arg][@address]`. For silent/corrupt/garbage/truncate the arg is the
 * share of replies affected (0..1, default 1); late: extra delay in ms; offline: the pack
 * leaves the bus; drift: the cell (1-based) that drifts out of balance; sensor-open: the
 * temperature sensor (1-based) that reads open circuit; overcurrent: extra discharge amps.
 */
export interface Fault {
  kind: FaultKind;
  arg?: number;
  address?: number;
}

export function parseFault(spec: string): Fault {
  const m = /^([a-z-]+)(?::(-?\d+(?:\.\d+)?))?(?:@(0x[0-9a-f]+|\d+))?$/i.exec(spec.trim());
  const kind = m?.[1]?.toLowerCase() as FaultKind | undefined;
  if (!m || !kind || !FAULT_KINDS.includes(kind)) {
    throw new BmsError(
      'CONFIG_INVALID',
      `bad fault "${spec}": use kind[:arg][@address] with kind one of ${FAULT_KINDS.join(', ')}`,
    );
  }
  const f: Fault = { kind };
  if (m[2] !== undefined) f.arg = Number(m[2]);
  if (m[3] !== undefined)
    f.address = m[3].toLowerCase().startsWith('0x') ? parseInt(m[3], 16) : Number(m[3]);
  if ((kind === 'drift' || kind === 'sensor-open') && f.arg === undefined) {
    throw new BmsError(
      'CONFIG_INVALID',
      `fault ${kind} needs the ${kind === 'drift' ? 'cell' : 'sensor'} number: ${kind}:<n>[@address]`,
    );
  }
  return f;
}

export const formatFault = (f: Fault): string =>
  `${f.kind}${f.arg !== undefined ? `:${f.arg}` : ''}${f.address !== undefined ? `@${f.address}` : ''}`;

export interface BusOptions {
  baud: number;
  /** Time from the end of a request to the first byte of the reply, ms. */
  turnaroundMs: number;
  seed: number;
}

/** A byte link the bus answers on (a TCP connection, the device end of a pty). */
export interface BusLink {
  write(bytes: Uint8Array): void;
}

export interface BusStats {
  requests: number;
  replies: number;
  unanswered: number;
  faulted: number;
}

export class SimBus implements BusView {
  readonly packs: readonly SimPack[];
  readonly faults: Fault[] = [];
  readonly stats: BusStats = { requests: 0, replies: 0, unanswered: 0, faulted: 0 };
  private readonly rand: () => number;

  constructor(
    readonly device: DeviceProtocol,
    packs: SimPack[],
    readonly clock: Clock,
    readonly opts: BusOptions,
  ) {
    this.packs = packs;
    this.rand = prng(opts.seed ^ 0x5bd1e995);
  }

  byAddress(address: number): SimPack | undefined {
    return this.packs.find((p) => p.address === address);
  }

  /** Brings every pack to the clock's time. */
  advance(): void {
    const t = this.clock.now();
    for (const p of this.packs) p.advanceTo(t);
  }

  private targets(f: Fault): SimPack[] {
    if (f.address === undefined) return [...this.packs];
    const p = this.byAddress(f.address);
    if (!p) throw new BmsError('CONFIG_INVALID', `no pack at address ${f.address} on this bus`);
    return [p];
  }

  addFault(f: Fault): void {
    this.advance();
    for (const p of this.targets(f)) {
      if (f.kind === 'drift') {
        const cell = p.physics.cells[(f.arg ?? 1) - 1];
        if (!cell) throw new BmsError('CONFIG_INVALID', `pack ${p.address} has no cell ${f.arg}`);
        cell.leakA = p.physics.designAh / 20;
      } else if (f.kind === 'sensor-open') {
        const i = (f.arg ?? 1) - 1;
        if (i < 0 || i >= p.physics.sensorOffsetC.length) {
          throw new BmsError(
            'CONFIG_INVALID',
            `pack ${p.address} has no temperature sensor ${f.arg}`,
          );
        }
        p.faults.openSensors.add(i);
      } else if (f.kind === 'overcurrent') {
        p.faults.overcurrentA = f.arg ?? 2 * p.physics.designAh;
      }
    }
    this.faults.push(f);
  }

  /** Clears faults of a kind (all kinds when omitted); the packs return to normal. */
  clearFaults(kind?: FaultKind): void {
    this.advance();
    const keep = this.faults.filter((f) => kind !== undefined && f.kind !== kind);
    const gone = this.faults.filter((f) => !keep.includes(f));
    this.faults.splice(0, this.faults.length, ...keep);
    for (const f of gone) {
      for (const p of this.targets(f)) {
        if (f.kind === 'drift') {
          const cell = p.physics.cells[(f.arg ?? 1) - 1];
          if (cell) cell.leakA = 0;
        } else if (f.kind === 'sensor-open') p.faults.openSensors.delete((f.arg ?? 1) - 1);
        else if (f.kind === 'overcurrent') p.faults.overcurrentA = 0;
      }
    }
  }

  private active(kind: FaultKind, address: number | undefined): Fault | undefined {
    return this.faults.find(
      (f) => f.kind === kind && (f.address === undefined || f.address === address),
    );
  }

  private hits(kind: FaultKind, address: number | undefined): boolean {
    const f = this.active(kind, address);
    if (!f) return false;
    const share = f.arg ?? 1;
    return share >= 1 || this.rand() < share;
  }

  /**
   * The reply to one request frame, as the pieces to write and the delay before them, or
   * undefined when nothing answers (no such address, pack offline, silent fault, a request
   * the device ignores).
   */
  respond(request: Uint8Array): { delayMs: number; pieces: Uint8Array[] } | undefined {
    this.stats.requests++;
    this.advance();
    const address = this.device.addressOf(request);
    const pack = address === undefined ? this.packs[0] : this.byAddress(address);
    if (!pack || this.active('offline', pack.address) || this.hits('silent', pack.address)) {
      this.stats.unanswered++;
      return undefined;
    }
    let reply: Uint8Array | undefined;
    try {
      reply = this.device.handle(request, pack, this);
    } catch (e) {
      if (!isBmsError(e)) throw e;
      reply = this.device.errorReply?.(request, e);
    }
    if (!reply || reply.length === 0) {
      this.stats.unanswered++;
      return undefined;
    }
    const pieces: Uint8Array[] = [];
    let faulted = false;
    if (this.hits('garbage', pack.address)) {
      pieces.push(
        Uint8Array.from(
          { length: 3 + Math.floor(this.rand() * 8) },
          () => [0x00, 0xff, 0x13, 0x37][Math.floor(this.rand() * 4)]!,
        ),
      );
      faulted = true;
    }
    if (this.hits('corrupt', pack.address)) {
      reply = reply.slice();
      const last = reply[reply.length - 1];
      const i = reply.length - (last === 0x0d || last === 0x77 ? 2 : 1);
      reply[i] = reply[i]! ^ 0x04;
      faulted = true;
    }
    if (this.hits('truncate', pack.address)) {
      reply = reply.slice(0, Math.max(1, Math.floor(reply.length / 2)));
      faulted = true;
    }
    pieces.push(reply);
    if (faulted) this.stats.faulted++;
    this.stats.replies++;
    const bytes = pieces.reduce((n, p) => n + p.length, 0);
    const late = this.active('late', pack.address)?.arg ?? 0;
    // 10 bits per byte on the wire (start, 8 data, stop).
    const delayMs = this.opts.turnaroundMs + (bytes * 10 * 1000) / this.opts.baud + late;
    return { delayMs, pieces };
  }

  /**
   * Serves a link: frames its bytes as requests and writes each reply after its delay.
   * Requests are handled one at a time in arrival order. Returns the feed function for
   * received bytes and a stop function that cancels pending replies.
   */
  serve(link: BusLink): { receive(chunk: Uint8Array): void; stop(): void } {
    const framer: Framer = this.device.createRequestFramer();
    const queue: Uint8Array[] = [];
    let busy = false;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const next = (): void => {
      if (busy || stopped) return;
      const req = queue.shift();
      if (!req) return;
      const r = this.respond(req);
      if (!r) {
        next();
        return;
      }
      busy = true;
      timer = setTimeout(() => {
        busy = false;
        if (stopped) return;
        for (const p of r.pieces) link.write(p);
        next();
      }, r.delayMs);
    };
    return {
      receive: (chunk) => {
        for (const ev of framer.push(chunk)) if (ev.type === 'frame') queue.push(ev.bytes);
        next();
      },
      stop: () => {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }
}
