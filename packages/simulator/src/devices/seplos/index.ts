/**
 * Device side of `seplos`: V2 (ASCII, the default) and V3 (Modbus RTU, `--variant v3`).
 * See README.md.
 */
export { deviceV2 as device, canProtocolOfPack } from './v2.js';
export { deviceV3 } from './v3.js';
export { seplosDefaults } from './defaults.js';
