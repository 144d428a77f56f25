// The `tunnel:` section's schema lives in the browser-safe contract (packages/contract).
export { tunnelConfigSchema, type TunnelConfig } from '@openbms/contract';
