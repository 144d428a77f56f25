import { Socket } from 'node:net';
import { BmsError } from '@openbms/core';
import { Listeners, type TcpAddress, type Transport } from './transport.js';

/** Raw TCP link (serial-over-TCP): bytes in, bytes out, no framing added. */
export class TcpTransport implements Transport {
  readonly endpoint: string;
  private socket: Socket | undefined;
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly closed = new Listeners<[Error | undefined]>();

  constructor(
    private readonly addr: TcpAddress,
    private readonly connectTimeoutMs = 5000,
  ) {
    this.endpoint = `tcp://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      socket.setNoDelay(true);
      const fail = (err: Error): void => {
        socket.destroy();
        reject(
          new BmsError(
            'TRANSPORT_OPEN_FAILED',
            `cannot connect to ${this.endpoint}: ${err.message}`,
          ),
        );
      };
      socket.setTimeout(this.connectTimeoutMs, () => fail(new Error('connect timed out')));
      socket.once('error', fail);
      socket.connect(this.addr.port, this.addr.host, () => {
        socket.setTimeout(0);
        socket.off('error', fail);
        socket.on('error', (err) => {
          socket.destroy();
          this.closed.emit(err);
        });
        socket.on('close', () => this.closed.emit(undefined));
        socket.on('data', (chunk: Buffer) => this.data.emit(new Uint8Array(chunk)));
        this.socket = socket;
        resolve();
      });
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) {
      return Promise.reject(new BmsError('TRANSPORT_CLOSED', `${this.endpoint} is not open`));
    }
    return new Promise((resolve, reject) => {
      socket.write(bytes, (err) =>
        err
          ? reject(
              new BmsError(
                'TRANSPORT_WRITE_FAILED',
                `write to ${this.endpoint} failed: ${err.message}`,
              ),
            )
          : resolve(),
      );
    });
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.data.add(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.closed.add(listener);
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      socket.destroySoon();
    });
  }
}
