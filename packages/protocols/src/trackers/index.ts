/**
 * GPS tracker codecs (seed 003): JT/T 808, GT06, OsmAnd HTTP and GB/T 32960. Each is a pure
 * module: a streaming framer (TCP protocols), a decoder returning typed messages, and
 * encoders for the replies and commands the protocol requires. See each folder's README.
 */
export * as jt808 from './jt808/index.js';
export * as gt06 from './gt06/index.js';
export * as osmand from './osmand/index.js';
export * as gb32960 from './gb32960/index.js';
