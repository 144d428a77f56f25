export * from './codec.js';
export { createJt808Framer, MAX_WIRE, unwrap, wrap } from './frame.js';
export * from './location.js';
