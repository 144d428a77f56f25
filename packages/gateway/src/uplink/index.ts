export * from './collector.js';
export * from './identity.js';
export * from './outbox.js';
