/**
 * Replay device: answers recorded requests with recorded replies (a family's
 * fixtures/session.json, or any capture in that format) over a real TCP socket or a real
 * pseudo-terminal, optionally misbehaving. Used by the tests of transports, read cycles and
 * the CLI (test support: not built; the battery simulator is the device for everything else).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import { prng } from '@openbms/core';
import { ptyPair } from '../pty.js';

export interface Exchange {
  step: string;
  request_hex: string;
  response_hex: string;
  source?: string;
}

export interface SessionFixture {
  description: string;
  provenance: string;
  options: { address?: number; variant?: string };
  exchanges: Exchange[];
  expected: Record<string, unknown>;
}

export function loadSession(path: string): SessionFixture {
  return JSON.parse(readFileSync(path, 'utf8')) as SessionFixture;
}

/**
 * How the device misbehaves:
 * - `silent`: never answers;
 * - `garbage`: random bytes before every reply and between the frames of a reply;
 * - `corrupt-once` / `truncate-once`: the first answer to each request has a flipped
 *   checksum byte / is cut in half, the retry is correct;
 * - `split`: every reply is written in 1..3-byte pieces.
 */
export type Fault = 'silent' | 'garbage' | 'corrupt-once' | 'truncate-once' | 'split';

interface Sink {
  write(bytes: Uint8Array): void;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class ScriptedDevice {
  private rx = '';
  private readonly byRequest = new Map<string, Exchange>();
  private readonly answered = new Set<string>();
  private readonly rand: () => number;
  /** Requests received, as hex, in order. */
  readonly received: string[] = [];

  constructor(
    fixture: SessionFixture,
    private readonly faults: readonly Fault[] = [],
    seed = 1,
    /** Bytes that can never start a frame of the family, used as garbage. */
    private readonly garbageBytes: readonly number[] = [0x00, 0x11, 0x33, 0xfe, 0x20],
  ) {
    for (const e of fixture.exchanges) this.byRequest.set(e.request_hex.toLowerCase(), e);
    this.rand = prng(seed);
  }

  private garbage(n: number): Uint8Array {
    return Uint8Array.from(
      { length: n },
      () => this.garbageBytes[Math.floor(this.rand() * this.garbageBytes.length)]!,
    );
  }

  /** Feeds bytes received from the host; answers when they end with a known request. */
  receive(chunk: Uint8Array, sink: Sink): void {
    this.rx += hex(chunk);
    if (this.rx.length > 8192) this.rx = this.rx.slice(-4096);
    for (const [req, ex] of this.byRequest) {
      if (!this.rx.endsWith(req)) continue;
      this.rx = '';
      this.received.push(req);
      this.answer(req, ex, sink);
      return;
    }
  }

  private answer(req: string, ex: Exchange, sink: Sink): void {
    if (this.faults.includes('silent')) return;
    let reply = Uint8Array.from(Buffer.from(ex.response_hex, 'hex'));
    const first = !this.answered.has(req);
    this.answered.add(req);
    if (first && this.faults.includes('corrupt-once')) {
      reply = reply.slice();
      const i =
        reply.length -
        (reply[reply.length - 1] === 0x0d || reply[reply.length - 1] === 0x77 ? 2 : 1);
      reply[i] = reply[i]! ^ 0x01;
    }
    if (first && this.faults.includes('truncate-once'))
      reply = reply.slice(0, Math.ceil(reply.length / 2));
    const pieces: Uint8Array[] = [];
    if (this.faults.includes('garbage')) pieces.push(this.garbage(3 + Math.floor(this.rand() * 6)));
    if (this.faults.includes('split')) {
      for (let i = 0; i < reply.length;) {
        const n = 1 + Math.floor(this.rand() * 3);
        pieces.push(reply.subarray(i, i + n));
        i += n;
      }
    } else pieces.push(reply);
    for (const p of pieces) sink.write(p);
  }
}

/** Serves a scripted device on a TCP port on 127.0.0.1 (port 0 = any free port). */
export async function serveTcp(
  device: ScriptedDevice,
): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) =>
      device.receive(new Uint8Array(chunk), { write: (b) => socket.write(b) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no TCP address');
  return {
    url: `tcp://127.0.0.1:${addr.port}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Serves a scripted device on the device end of a pseudo-terminal pair. */
export async function servePty(
  device: ScriptedDevice,
  baud = 9600,
): Promise<{ path: string; close(): Promise<void> }> {
  const pair = await ptyPair();
  const port = new SerialPort({ path: pair.device, baudRate: baud, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  port.on('data', (chunk: Buffer) =>
    device.receive(new Uint8Array(chunk), { write: (b) => port.write(Buffer.from(b)) }),
  );
  return {
    path: pair.host,
    close: async () => {
      await new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
      await pair.close();
    },
  };
}
