export * from './errors.js';
export * from './untrusted.js';
export * from './alarms.js';
export * from './metrics.js';
export * from './snapshot.js';
export * from './parameters.js';
export * from './random.js';
export * from './parameter-rules.js';
