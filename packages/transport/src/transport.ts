import { BmsError } from '@openbms/core';

/** Serial line settings; ignored by TCP links (a serial-over-TCP converter holds its own). */
export interface LinkSettings {
  baud: number;
  dataBits?: 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
}

/**
 * A byte link to one physical bus: a serial port (RS485/UART adapter, pseudo-terminal) or
 * a raw TCP socket (RS485-to-Ethernet converter, the seed 001 dongle's UART tunnel).
 * Library types (serialport, net.Socket) stay behind this interface.
 */
export interface Transport {
  /** Human-readable endpoint for messages: "/dev/ttyUSB0" or "tcp://10.0.0.5:8899". */
  readonly endpoint: string;
  open(): Promise<void>;
  write(bytes: Uint8Array): Promise<void>;
  /** Subscribes to received bytes; returns the unsubscribe function. */
  onData(listener: (chunk: Uint8Array) => void): () => void;
  /** Subscribes to the link closing or failing after open. */
  onClose(listener: (err?: Error) => void): () => void;
  close(): Promise<void>;
  readonly isOpen: boolean;
}

/** Small listener list shared by the transports. */
export class Listeners<T extends unknown[]> {
  private readonly fns = new Set<(...args: T) => void>();
  add(fn: (...args: T) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  emit(...args: T): void {
    for (const fn of [...this.fns]) fn(...args);
  }
}

export interface TcpAddress {
  host: string;
  port: number;
}

/**
 * Parses `tcp://host:port`; returns undefined for anything else (a serial path). Port 0
 * ("any free port") is accepted only for listening.
 */
export function parseTcpUrl(url: string, opts: { listen?: boolean } = {}): TcpAddress | undefined {
  if (!/^tcp:\/\//i.test(url)) return undefined;
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/i.exec(url);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < (opts.listen ? 0 : 1) || port > 65535) {
    throw new BmsError(
      'CONFIG_INVALID',
      `"${url}" is not a valid TCP endpoint; use tcp://host:port (port ${opts.listen ? 0 : 1}-65535)`,
    );
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
