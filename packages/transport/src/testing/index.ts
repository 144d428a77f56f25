/**
 * Transport test support for other packages' tests (`@openbms/transport/testing`, resolved by
 * vitest and tsconfig.test.json only; not built): the replay device that answers recorded
 * requests with recorded replies over a real TCP socket or pseudo-terminal.
 */
export * from './replay.js';
