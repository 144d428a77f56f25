export * from './types.js';
export * from './registry.js';
export * from './line.js';
export * from './util/bytes.js';
export * from './util/checksum.js';
export * from './util/framer.js';
export * from './util/session.js';
export * as modbus from './modbus-rtu/codec.js';
