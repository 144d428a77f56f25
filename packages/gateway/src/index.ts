export * from './types.js';
export * from './config.js';
export * from './writer.js';
export * from './gateway.js';
export * from './alarms/index.js';
export * from './scheduler/index.js';
export * from './control/index.js';
