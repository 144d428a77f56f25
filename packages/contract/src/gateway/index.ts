/**
 * The gateway seam's wire contract (zod): the event envelope, commands and their results.
 * What crosses between a gateway and the server (in one process today; over MQTT between a
 * collector and the fleet cloud next) is exactly these messages, JSON-serialisable, checked
 * with these schemas on the receiving side. See docs/adr (gateway seam) and
 * packages/gateway/src/seam/README.md.
 */
export * from './common.js';
export * from './events.js';
export * from './commands.js';
export * from './uplink.js';
