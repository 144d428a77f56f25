export * from './types.js';
export { InProcessGateway, type InProcessOptions } from './in-process.js';
export { StreamCursor, type Arrival, type StreamPosition } from './cursor.js';
export { encodeUplink, decodeUplink } from './uplink-codec.js';
