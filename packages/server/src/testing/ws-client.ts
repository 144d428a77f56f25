/**
 * A WebSocket client for tests on the `ws` package (Node 20 has no global WebSocket).
 * `ws` ships no types and @types/ws is not installed, so it is loaded through createRequire
 * and used through the small interface below. Messages queue up; `next()` awaits one.
 */
import { createRequire } from 'node:module';

interface WsSocket {
  on(event: 'message', cb: (data: Buffer) => void): void;
  on(event: 'open', cb: () => void): void;
  on(event: 'close', cb: (code: number) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  on(event: 'unexpected-response', cb: (req: unknown, res: { statusCode: number }) => void): void;
  send(data: string): void;
  close(): void;
}
type WsCtor = new (url: string, opts?: { headers?: Record<string, string> }) => WsSocket;

const WebSocket = createRequire(import.meta.url)('ws') as WsCtor;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = Record<string, any>;

export class LiveClient {
  private readonly queue: Msg[] = [];
  private waiting: ((m: Msg) => void) | undefined;
  closed: Promise<number>;

  private constructor(private readonly ws: WsSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Msg;
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(m);
      } else this.queue.push(m);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  }

  /** Opens; resolves when open, rejects with the HTTP status when the upgrade is refused. */
  static connect(url: string, headers: Record<string, string> = {}): Promise<LiveClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const c = new LiveClient(ws);
      ws.on('open', () => resolve(c));
      ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.on('error', (err) => reject(err));
    });
  }

  next(): Promise<Msg> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** Messages received and not yet taken. */
  pending(): Msg[] {
    return [...this.queue];
  }

  send(m: unknown): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }

  close(): void {
    this.ws.close();
  }
}
