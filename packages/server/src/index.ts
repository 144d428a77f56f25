export { buildServer, type ServerDeps } from './app.js';
export type { BoxGateway, BusInfo, GatewayLink, SiteInfo } from './gateway-api.js';
export type { Access, Membership, Principal } from './policy.js';
export { hashPassword, verifyPassword } from './passwords.js';
export { LOG_LEVELS, logLevel, type LogLevel, type LoggerOption } from './logging.js';
export type { SignupOptions, OutgoingMail } from './routes/signup.js';
export { accountMailer, type AccountMailer } from './mailer.js';
export type { UplinkPort } from './uplink.js';
export type { CollectorLinkView } from './routes/link.js';
