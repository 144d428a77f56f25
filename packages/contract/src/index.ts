/**
 * @openbms/contract — what the gateway, the server and the web console agree on, in one
 * browser-safe package: the config file's section schemas (zod) and the API's JSON schemas
 * with the TypeScript types derived from them. No Node built-ins (ESLint enforces it).
 *
 * Entry points: `.` (everything), `./api` (JSON schemas and types, no zod), `./forms`
 * (the config sections as plain JSON Schema for the web's forms, no zod), `./gateway` (the
 * gateway seam's wire messages: event envelope, commands, results; zod) and `./xlsx` (the
 * text parts of a one-sheet .xlsx workbook, shared by the server's export and the web's live
 * table; no zod, no zip).
 */
export * from './config/index.js';
export * from './api/index.js';
export * from './gateway/index.js';
