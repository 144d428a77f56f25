export * from './poller.js';
export * from './discovery.js';
export * from './timing.js';
export { requiredSteps, runCycle, withSlow, slowPart } from './cycle.js';
export type { CycleOptions, CycleResult } from './cycle.js';
