import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/**
 * The machine's serial ports (serialport's list) with the USB chip named where known. On Linux
 * `serialport` lists them through `udevadm`; where that is not installed (containers, minimal
 * installs) the same facts are read from sysfs instead (`sysfsSerialPorts`).
 */
export async function listSerialPorts(): Promise<SerialPortInfo[]> {
  let ports: Awaited<ReturnType<typeof SerialPort.list>>;
  try {
    ports = await SerialPort.list();
  } catch (e) {
    if (process.platform !== 'linux' || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return sysfsSerialPorts();
  }
  return ports.map((p) =>
    named({
      path: p.path,
      ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}),
      ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}),
      ...(p.vendorId ? { vendorId: p.vendorId.toLowerCase() } : {}),
      ...(p.productId ? { productId: p.productId.toLowerCase() } : {}),
    }),
  );
}

function named(out: SerialPortInfo): SerialPortInfo {
  const chip = out.vendorId && out.productId && USB_CHIPS[`${out.vendorId}:${out.productId}`];
  return chip ? { ...out, chip } : out;
}

/**
 * Serial ports from sysfs, as udev would list them: every `tty` with a device behind it
 * (`<root>/<name>/device`), except the legacy 8250 placeholders every kernel makes (`ttyS0`..
 * bound to the `serial8250` platform device with nothing there); a USB adapter's ids,
 * maker and serial number come from the USB device above the interface. Hand-written: no
 * library reads this without udev, and it is a directory walk.
 */
export function sysfsSerialPorts(root = '/sys/class/tty', dev = '/dev'): SerialPortInfo[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const out: SerialPortInfo[] = [];
  for (const name of names.sort()) {
    const link = join(root, name, 'device');
    if (!existsSync(link)) continue;
    let device: string;
    try {
      device = realpathSync(link);
    } catch {
      continue;
    }
    if (device.endsWith('/serial8250')) continue;
    const info: SerialPortInfo = { path: join(dev, name) };
    // Up from the interface to the USB device that has the ids (at most a few levels).
    for (let d = device, i = 0; i < 4 && d !== dirname(d); d = dirname(d), i++) {
      const read = (f: string): string | undefined => {
        try {
          return readFileSync(join(d, f), 'utf8').trim() || undefined;
        } catch {
          return undefined;
        }
      };
      const vendor = read('idVendor');
      if (!vendor) continue;
      const product = read('idProduct');
      const maker = read('manufacturer');
      const serial = read('serial');
      info.vendorId = vendor.toLowerCase();
      if (product) info.productId = product.toLowerCase();
      if (maker) info.manufacturer = maker;
      if (serial) info.serialNumber = serial;
      break;
    }
    out.push(named(info));
  }
  return out;
}
