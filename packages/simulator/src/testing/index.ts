/**
 * Comparing what a reader got with the simulator's true state, for other packages' tests
 * (`@openbms/simulator/testing`, resolved by vitest and tsconfig.test.json only; not built).
 */
export * from './compare.js';
/** Device-side state of families whose firmware has modes the pack model does not (tests). */
export { eepromOf as jbdEeprom } from '../devices/jbd/eeprom.js';
export { inFactoryMode as jbdInFactoryMode } from '../devices/jbd/index.js';
export { canProtocolOfPack as seplosCanProtocol } from '../devices/seplos/index.js';
