import { SerialTransport } from './serial.js';
import { TcpTransport } from './tcp.js';
import { parseTcpUrl, type LinkSettings, type Transport } from './transport.js';
import { parseTrackerUrl, VirtualTransport } from './virtual.js';

/**
 * Opens nothing yet: picks TCP for `tcp://host:port`, a tracker's pass-through for
 * `tracker://<serial>` (virtual.ts), a serial port for anything else.
 */
export function createTransport(endpoint: string, settings: LinkSettings): Transport {
  if (parseTrackerUrl(endpoint) !== undefined) return new VirtualTransport(endpoint);
  const tcp = parseTcpUrl(endpoint);
  return tcp ? new TcpTransport(tcp) : new SerialTransport(endpoint, settings);
}
