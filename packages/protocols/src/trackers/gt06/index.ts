export * from './codec.js';
export { checkFrame, crcItu, createGt06Framer, MAX_FRAME, wrapFrame } from './frame.js';
