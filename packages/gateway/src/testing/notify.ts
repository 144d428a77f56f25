/**
 * Test helpers: timers driven by hand (with the clock they share) and a real HTTP receiver
 * on 127.0.0.1 that records every request and answers as told (fail N times with 500/429,
 * or refuse with 400).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Clock, Timers } from '../integrations/notify/types.js';

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** A clock and timers that only move when the test says so (advance / set). */
export class ManualTimers implements Timers, Clock {
  private t: number;
  private seq = 0;
  private readonly pending = new Map<number, ManualTimer>();

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  set(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clear(handle: unknown): void {
    if (typeof handle === 'number') this.pending.delete(handle);
  }

  /** Timers waiting. */
  get size(): number {
    return this.pending.size;
  }

  /** Moves time forward to `to`, running each timer due on the way at its own time. */
  advanceTo(to: number): void {
    for (;;) {
      let next: ManualTimer | undefined;
      for (const tm of this.pending.values()) {
        if (tm.at <= to && (!next || tm.at < next.at || (tm.at === next.at && tm.seq < next.seq))) {
          next = tm;
        }
      }
      if (!next) break;
      this.pending.delete(next.seq);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = Math.max(this.t, to);
  }

  advance(ms: number): void {
    this.advanceTo(this.t + ms);
  }
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/** A local HTTP server that records requests; `plan` answers the next ones in order. */
export class HttpReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Answers for the next requests, first first; when empty, `fallback`. */
  readonly plan: Answer[] = [];
  fallback: Answer = { status: 200, body: '{"status":1}' };
  /** When true, requests get no answer at all (for timeouts). */
  hang = false;
  private server: Server | undefined;
  private waiters: { n: number; resolve: () => void }[] = [];
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.hang) return;
        const a = this.plan.shift() ?? this.fallback;
        this.requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          status: a.status,
        });
        res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
        res.end(a.body ?? '');
        this.waiters = this.waiters.filter((w) => {
          if (this.requests.length < w.n) return true;
          w.resolve();
          return false;
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  /** Resolves once `n` requests have been answered (rejects after `ms`). */
  received(n: number, ms = 5000): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`only ${this.requests.length} of ${n} requests within ${ms} ms`)),
        ms,
      );
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** Polls `cond` every few ms until it holds (rejects after `ms`): no fixed sleeps. */
export async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
