export * from './transport.js';
export * from './tcp.js';
export * from './serial.js';
export * from './exchange.js';
export * from './open.js';
export * from './pty.js';
export * from './virtual.js';
