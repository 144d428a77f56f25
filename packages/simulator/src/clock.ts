import { prng } from '@openbms/core';

export { prng };

/** Simulated time in ms since the epoch. Everything in the simulator reads time from here. */
export interface Clock {
  now(): number;
}

/** A clock that moves only when told: tests advance it instead of sleeping. */
export class ManualClock implements Clock {
  constructor(private t = Date.UTC(2026, 5, 21, 6, 0, 0)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(t: number): void {
    this.t = t;
  }
}

/**
 * Real time scaled by `speed` from a start instant: at speed 60 one real second is one
 * simulated minute. Speed 0 freezes the simulation (useful to compare two reads).
 */
export class ScaledClock implements Clock {
  private readonly realStart: number;
  constructor(
    private readonly speed: number,
    private readonly start: number = Date.now(),
    private readonly real: () => number = Date.now,
  ) {
    this.realStart = real();
  }
  now(): number {
    return this.start + Math.floor((this.real() - this.realStart) * this.speed);
  }
}

/** Standard normal sample from a uniform PRNG (Box-Muller). */
export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}
