/**
 * Virtual links: byte links that another part of this process provides while it has them,
 * reached by name (`tracker://<serial>`: a GPS tracker's serial-port pass-through, registered
 * by the tracker server while the terminal is connected and authenticated). A transport to a
 * name that is not registered fails to open (TRANSPORT_OPEN_FAILED), as a serial port that is
 * not plugged in does; when the provider goes, the open transport closes, and the poller
 * reconnects once the name is registered again.
 */
import { BmsError } from '@openbms/core';
import { Listeners, type Transport } from './transport.js';

/** What a provider registers: its bytes out, and its bytes in and end as events. */
export interface VirtualLink {
  send(bytes: Uint8Array): void;
  onData(listener: (chunk: Uint8Array) => void): () => void;
  onClose(listener: () => void): () => void;
}

/** The links registered now, by endpoint (`tracker://<serial>`, compared without case). */
export class VirtualLinks {
  private readonly links = new Map<string, VirtualLink>();
  private readonly registered = new Listeners<[string]>();

  /** Subscribes to registrations (the endpoint as registered); returns the unsubscribe function. */
  onRegister(listener: (endpoint: string) => void): () => void {
    return this.registered.add(listener);
  }

  /** The endpoints registered now. */
  endpoints(): string[] {
    return [...this.links.keys()];
  }

  /**
   * Registers a link under `endpoint` (replacing one registered before: a tracker that came
   * back on a new connection). Returns the unregister function, which removes this link only.
   */
  register(endpoint: string, link: VirtualLink): () => void {
    const key = endpoint.toLowerCase();
    this.links.set(key, link);
    this.registered.emit(endpoint);
    return () => {
      if (this.links.get(key) === link) this.links.delete(key);
    };
  }

  get(endpoint: string): VirtualLink | undefined {
    return this.links.get(endpoint.toLowerCase());
  }

  has(endpoint: string): boolean {
    return this.links.has(endpoint.toLowerCase());
  }
}

/** The process's registry: what `createTransport` opens `tracker://` endpoints from. */
export const virtualLinks = new VirtualLinks();

/** `tracker://<serial>`: the serial (letters, digits, `-`, `_`, 1-64), or undefined for other endpoints. */
export function parseTrackerUrl(url: string): string | undefined {
  if (!/^tracker:\/\//i.test(url)) return undefined;
  const m = /^tracker:\/\/([A-Za-z0-9_-]{1,64})$/i.exec(url);
  if (!m) {
    throw new BmsError(
      'CONFIG_INVALID',
      `"${url}" is not a valid tracker endpoint; use tracker://<serial> (letters, digits, - and _)`,
    );
  }
  return m[1]!;
}

export const trackerEndpoint = (serial: string): string => `tracker://${serial}`;

/** A transport over a registered virtual link. */
export class VirtualTransport implements Transport {
  private link: VirtualLink | undefined;
  private offs: (() => void)[] = [];
  private readonly data = new Listeners<[Uint8Array]>();
  private readonly closed = new Listeners<[Error | undefined]>();

  constructor(
    readonly endpoint: string,
    private readonly registry: VirtualLinks = virtualLinks,
  ) {}

  get isOpen(): boolean {
    return this.link !== undefined;
  }

  open(): Promise<void> {
    const link = this.registry.get(this.endpoint);
    if (!link) {
      return Promise.reject(
        new BmsError(
          'TRANSPORT_OPEN_FAILED',
          `cannot open ${this.endpoint}: the tracker is not connected`,
        ),
      );
    }
    this.link = link;
    this.offs = [
      link.onData((chunk) => this.data.emit(chunk)),
      link.onClose(() => {
        if (this.link !== link) return;
        this.detach();
        this.closed.emit(
          new BmsError('TRANSPORT_CLOSED', `${this.endpoint}: the tracker disconnected`),
        );
      }),
    ];
    return Promise.resolve();
  }

  write(bytes: Uint8Array): Promise<void> {
    const link = this.link;
    if (!link) {
      return Promise.reject(new BmsError('TRANSPORT_CLOSED', `${this.endpoint} is not open`));
    }
    link.send(bytes);
    return Promise.resolve();
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.data.add(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    return this.closed.add(listener);
  }

  private detach(): void {
    for (const off of this.offs) off();
    this.offs = [];
    this.link = undefined;
  }

  close(): Promise<void> {
    this.detach();
    return Promise.resolve();
  }
}
