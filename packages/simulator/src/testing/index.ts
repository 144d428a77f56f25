/**
 * Comparing what a reader got with the simulator's true state, for other packages' tests
 * (`@openbms/simulator/testing`, resolved by vitest and tsconfig.test.json only; not built).
 */
export * from './compare.js';
