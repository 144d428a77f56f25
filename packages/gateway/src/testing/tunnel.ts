/** Test helpers: a raw TCP client of the tunnel that collects what it receives. */
import { connect, type Socket } from 'node:net';
import type { ProtocolDefinition } from '@openbms/protocols';

export interface RawClient {
  socket: Socket;
  /** Every byte received so far. */
  received(): number;
  /** Resolves with the next `count` whole frames (framed with the family's framer). */
  frames(count: number): Promise<Uint8Array[]>;
  /** Resolves when the socket has closed (either side). */
  closed: Promise<void>;
}

export function rawClient(port: number, def: ProtocolDefinition): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    const framer = def.createFramer();
    const queue: Uint8Array[] = [];
    let bytes = 0;
    let want: { count: number; resolve: (f: Uint8Array[]) => void } | undefined;
    const check = (): void => {
      if (want && queue.length >= want.count) {
        const w = want;
        want = undefined;
        w.resolve(queue.splice(0, w.count));
      }
    };
    socket.on('data', (chunk) => {
      bytes += chunk.length;
      for (const ev of framer.push(chunk)) if (ev.type === 'frame') queue.push(ev.bytes);
      check();
    });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => bytes,
        frames: (count) =>
          new Promise((r) => {
            want = { count, resolve: r };
            check();
          }),
        closed,
      }),
    );
    socket.once('error', reject);
  });
}
