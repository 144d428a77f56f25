export { buildServer, type ServerDeps } from './app.js';
export type { BusInfo, GatewayApi, GatewayEvents, SiteInfo } from './gateway-api.js';
export type { Access, AuthInfo } from './auth.js';
export { hashPassword, verifyPassword } from './passwords.js';
export { LOG_LEVELS, logLevel, type LogLevel, type LoggerOption } from './logging.js';
