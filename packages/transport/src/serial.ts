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

/** A serial port of this machine, as `listSerialPorts` gives it. */
export interface SerialPortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
  /** The USB bridge chip by its vendor:product id, where it is a common one. */
  chip?: string;
}

/**
 * USB-serial bridges the RS485/UART adapters sold with BMS packs use, by vendor:product id
 * (the ids are the chip makers' public USB ids). A table because `serialport` reports the
 * ids and the driver's manufacturer string only, which is often empty or the driver's name.
 */
const USB_CHIPS: Record<string, string> = {
  '1a86:7523': 'QinHeng CH340',
  '1a86:5523': 'QinHeng CH341',
  '1a86:55d4': 'QinHeng CH9102',
  '0403:6001': 'FTDI FT232R',
  '0403:6015': 'FTDI FT231X',
  '10c4:ea60': 'Silicon Labs CP210x',
  '067b:2303': 'Prolific PL2303',
};

/** The machine's serial ports (serialport's list) with the USB chip named where known. */
export async function listSerialPorts(): Promise<SerialPortInfo[]> {
  const ports = await SerialPort.list();
  return ports.map((p) => {
    const out: SerialPortInfo = { path: p.path };
    if (p.manufacturer) out.manufacturer = p.manufacturer;
    if (p.serialNumber) out.serialNumber = p.serialNumber;
    if (p.vendorId) out.vendorId = p.vendorId.toLowerCase();
    if (p.productId) out.productId = p.productId.toLowerCase();
    const chip = out.vendorId && out.productId && USB_CHIPS[`${out.vendorId}:${out.productId}`];
    if (chip) out.chip = chip;
    return out;
  });
}
