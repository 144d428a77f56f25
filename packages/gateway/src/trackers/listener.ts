/**
 * A TCP listener for trackers that connect to us, with the limits a public port needs:
 * at most `maxConnections` at once and `maxPerIp` from one address (the rest are closed on
 * accept), an idle timeout that ends silent, slow and half-open connections, a bounded read
 * side (the socket is paused while a chunk's frames are handled, so a fast sender waits for
 * storage instead of filling memory; the framers hold at most one maximal frame) and a bounded
 * write side (a peer that does not read its replies is dropped).
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface ListenerLimits {
  maxConnections: number;
  maxPerIp: number;
  idleMs: number;
  /** Replies waiting to be read by the peer beyond this: the connection is dropped. */
  maxWriteBytes?: number;
}

export interface Connection {
  readonly remote: string;
  /** Writes a reply (dropped when the peer does not read). */
  send(bytes: Uint8Array): void;
  close(): void;
}

export interface ConnectionHandler {
  /** Handles one chunk; the next is read once this settles. */
  data(chunk: Uint8Array): Promise<void>;
  end?(): void;
}

export interface TrackerListener {
  readonly server: Server;
  /** The port it listens on (the one given, or the one chosen for port 0). */
  readonly port: number;
  readonly connections: () => number;
  /** Connections refused for the limits, since start. */
  readonly refused: () => number;
  close(): Promise<void>;
}

export async function listen(
  host: string,
  port: number,
  limits: ListenerLimits,
  handler: (c: Connection) => ConnectionHandler,
  onError: (e: unknown) => void,
): Promise<TrackerListener> {
  const perIp = new Map<string, number>();
  const sockets = new Set<Socket>();
  let refused = 0;
  const maxWrite = limits.maxWriteBytes ?? 64 * 1024;

  const server = createServer({ pauseOnConnect: true }, (socket) => {
    const ip = socket.remoteAddress ?? '?';
    const n = perIp.get(ip) ?? 0;
    if (sockets.size >= limits.maxConnections || n >= limits.maxPerIp) {
      refused++;
      socket.destroy();
      return;
    }
    perIp.set(ip, n + 1);
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleMs, () => socket.destroy());
    const conn: Connection = {
      remote: `${ip}:${socket.remotePort ?? 0}`,
      send(bytes) {
        if (socket.destroyed) return;
        if (socket.writableLength + bytes.length > maxWrite) socket.destroy();
        else socket.write(bytes);
      },
      close: () => socket.destroy(),
    };
    const h = handler(conn);
    socket.on('data', (chunk: Buffer) => {
      socket.pause();
      h.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)).then(
        () => {
          if (!socket.destroyed) socket.resume();
        },
        (e: unknown) => {
          onError(e);
          socket.destroy();
        },
      );
    });
    // Half-open: the peer ended its side; we end ours (nothing more will be asked).
    socket.on('end', () => socket.end());
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left <= 0) perIp.delete(ip);
      else perIp.set(ip, left);
      h.end?.();
    });
    socket.resume();
  });
  server.on('error', onError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return {
    server,
    port: typeof addr === 'object' && addr ? addr.port : port,
    connections: () => sockets.size,
    refused: () => refused,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
