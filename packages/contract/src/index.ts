/**
 * @openbms/contract — what the gateway, the server and the web console agree on, in one
 * browser-safe package: the config file's section schemas (zod) and the API's JSON schemas
 * with the TypeScript types derived from them. No Node built-ins (ESLint enforces it).
 */
export * from './config/index.js';
