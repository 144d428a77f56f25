/**
 * A WebSocket client for tests on the `ws` package (Node 20 has no global WebSocket).
 * `ws` ships no types and @types/ws is not installed, so it is loaded through createRequire
 * and used through the small interface below. Messages queue up; `next()` awaits one.
 */
import { createRequire } from 'node:module';

interface WsSocket {
  on(event: 'message', cb: (data: Buffer) => void): void;
  on(event: 'open', cb: () => void): void;
  on(event: 'close', cb: (code: number, reason: Buffer) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  on(event: 'unexpected-response', cb: (req: { destroy(): void }, res: HttpReply) => void): void;
  send(data: string): void;
  close(): void;
}
interface HttpReply {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  on(event: 'data', cb: (chunk: Buffer) => void): void;
  on(event: 'end', cb: () => void): void;
}
type WsCtor = new (
  url: string,
  opts?: { headers?: Record<string, string>; ca?: string | Buffer },
) => WsSocket;

/** A refused upgrade: the HTTP status, headers and body the server answered with. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly headers: HttpReply['headers'],
    readonly body: string,
  ) {
    super(`HTTP ${status} ${body}`);
  }
}

const WebSocket = createRequire(import.meta.url)('ws') as WsCtor;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = Record<string, any>;

export class LiveClient {
  private readonly queue: Msg[] = [];
  private waiting: ((m: Msg) => void) | undefined;
  closed: Promise<number>;
  /** The close code and reason. */
  closedWith: Promise<{ code: number; reason: string }>;

  private constructor(private readonly ws: WsSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Msg;
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(m);
      } else this.queue.push(m);
    });
    this.closedWith = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    this.closed = this.closedWith.then((c) => c.code);
  }

  /** Opens; resolves when open, rejects with the HTTP status when the upgrade is refused. */
  static connect(
    url: string,
    headers: Record<string, string> = {},
    tls: { ca?: string | Buffer } = {},
  ): Promise<LiveClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers, ...tls });
      const c = new LiveClient(ws);
      ws.on('open', () => resolve(c));
      ws.on('unexpected-response', (req, res) => {
        let body = '';
        res.on('data', (d) => (body += d.toString()));
        res.on('end', () => {
          req.destroy();
          reject(new UpgradeRefused(res.statusCode, res.headers, body));
        });
      });
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
