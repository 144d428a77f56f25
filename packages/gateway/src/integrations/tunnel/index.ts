export {
  UartTunnel,
  type UartTunnelOptions,
  type TunnelStatus,
  type TunnelClientStatus,
  type TunnelLog,
} from './tunnel.js';
export { tunnelConfigSchema, type TunnelConfig } from './schema.js';
export {
  parseCidr,
  parseIpv4,
  allowed as addressAllowed,
  cidrContains,
  type Cidr,
} from './cidr.js';
