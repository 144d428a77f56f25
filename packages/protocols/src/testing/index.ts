/**
 * Recorded vectors and their matchers for other packages' tests (`@openbms/protocols/testing`,
 * resolved by vitest and tsconfig.test.json only; `src/testing/` is not built).
 */
export * from './vectors.js';
