/** Serving a simulated bus on a TCP port or a new pseudo-terminal. */
import { createServer, type Socket } from 'node:net';
import { BmsError } from '@openbms/core';
import { createTransport, ptyPair, parseTcpUrl } from '@openbms/transport';
import type { SimBus } from './bus.js';

export interface Listening {
  /** Where a reader connects: `tcp://host:port` or the pty path. */
  endpoint: string;
  close(): Promise<void>;
}

/** Listens on `tcp://host:port` (port 0 picks a free one); every connection sees the bus. */
export async function serveTcp(bus: SimBus, url = 'tcp://127.0.0.1:0'): Promise<Listening> {
  const addr = parseTcpUrl(url, { listen: true });
  if (!addr)
    throw new BmsError('CONFIG_INVALID', `--listen must be tcp://host:port (got "${url}")`);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const session = bus.serve({ write: (b) => socket.write(b) });
    socket.on('data', (chunk) => session.receive(new Uint8Array(chunk)));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      session.stop();
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => resolve());
  });
  const a = server.address();
  const port = a && typeof a === 'object' ? a.port : addr.port;
  return {
    endpoint: `tcp://${addr.host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Makes a pseudo-terminal pair (socat), serves the bus on one end, returns the other. */
export async function servePty(bus: SimBus): Promise<Listening> {
  const pair = await ptyPair();
  const link = createTransport(pair.device, { baud: bus.opts.baud });
  await link.open();
  const session = bus.serve({ write: (b) => void link.write(b).catch(() => undefined) });
  const off = link.onData((chunk) => session.receive(chunk));
  return {
    endpoint: pair.host,
    close: async () => {
      session.stop();
      off();
      await link.close();
      await pair.close();
    },
  };
}
