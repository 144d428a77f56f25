import { SerialPort } from 'serialport';
import { BmsError } from '@openbms/core';
import { Listeners, type LinkSettings, type Transport } from './transport.js';

/** A serial port (USB-RS485/UART adapter or pseudo-terminal) through `serialport`. */
export class SerialTransport implements Transport {
  readonly endpoint: string;
  private port: SerialPort | undefined;
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly closed = new Listeners<[Error | undefined]>();

  constructor(
    private readonly path: string,
    private readonly settings: LinkSettings,
  ) {
    this.endpoint = path;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({
        path: this.path,
        baudRate: this.settings.baud,
        dataBits: this.settings.dataBits ?? 8,
        parity: this.settings.parity ?? 'none',
        stopBits: this.settings.stopBits ?? 1,
        autoOpen: false,
      });
      port.open((err) => {
        if (err) {
          reject(new BmsError('TRANSPORT_OPEN_FAILED', `cannot open ${this.path}: ${err.message}`));
          return;
        }
        port.on('data', (chunk: Buffer) => this.data.emit(new Uint8Array(chunk)));
        port.on('error', (e: Error) => this.closed.emit(e));
        port.on('close', (e?: Error | null) => this.closed.emit(e ?? undefined));
        this.port = port;
        resolve();
      });
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) {
      return Promise.reject(new BmsError('TRANSPORT_CLOSED', `${this.path} is not open`));
    }
    return new Promise((resolve, reject) => {
      port.write(Buffer.from(bytes), (err) => {
        if (err) {
          reject(
            new BmsError('TRANSPORT_WRITE_FAILED', `write to ${this.path} failed: ${err.message}`),
          );
          return;
        }
        port.drain(() => resolve());
      });
    });
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.data.add(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.closed.add(listener);
  }

  close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }
}
