export { buildServer, type ServerDeps } from './app.js';
export type { BusInfo, GatewayApi, GatewayEvents, SiteInfo } from './gateway-api.js';
export type { Access, AuthInfo } from './auth.js';
export { hashPassword, verifyPassword } from './passwords.js';
export type { LoggerOption } from './logging.js';
