import { SerialTransport } from './serial.js';
import { TcpTransport } from './tcp.js';
import { parseTcpUrl, type LinkSettings, type Transport } from './transport.js';

/** Opens nothing yet: picks TCP for `tcp://host:port`, a serial port for anything else. */
export function createTransport(endpoint: string, settings: LinkSettings): Transport {
  const tcp = parseTcpUrl(endpoint);
  return tcp ? new TcpTransport(tcp) : new SerialTransport(endpoint, settings);
}
