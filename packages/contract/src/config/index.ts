/** The config file's section schemas (zod 4), shared by the gateway, the server and the web. */
export * from './accounts.js';
export * from './broker.js';
export * from './checks.js';
export * from './cidr.js';
export * from './cloud.js';
export * from './enums.js';
export * from './fleet.js';
export * from './http.js';
export * from './metrics.js';
export * from './modbus.js';
export * from './mqtt.js';
export * from './notify.js';
export * from './tunnel.js';
export * from './storage-url.js';
export * from './web.js';
