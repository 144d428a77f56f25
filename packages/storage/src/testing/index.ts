/**
 * The storage port's test support, for adapters' and callers' tests
 * (`@openbms/storage/testing`, resolved by vitest and tsconfig.test.json only; not built):
 * the contract suites every adapter runs, and the in-memory record stores.
 */
export * from './memory.js';
export * from './promised.js';
export * from './contract/records.js';
export * from './contract/telemetry.js';
export * from './contract/orgs.js';
export * from './contract/devices.js';
export * from './contract/plants.js';
export * from './contract/points.js';
export * from './contract/accounts.js';
export * from './contract/positions.js';
export * from './contract/instructions.js';
export * from './contract/geofences.js';
export * from './contract/renewals.js';
export * from './contract/remote-collectors.js';
