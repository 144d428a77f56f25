/**
 * What the poller knows about one pack: its public status, the online/offline hysteresis,
 * the backoff of a pack that keeps failing, and the fast/full cadence with the slow values
 * kept from the last full cycle.
 */
import type { Reading } from '@openbms/core';
import type { LinkStats } from '@openbms/transport';
import type { PackRef, PackStatus } from '../types.js';
import { mergeSlow, withSlow } from './cycle.js';

export interface Hysteresis {
  /** Consecutive failed polls before a pack is declared offline. */
  offlineAfter: number;
  /** Full cycle every this many polls. */
  slowEvery: number;
  /** Most rounds a failing pack sits out between attempts. */
  backoffMaxRounds: number;
}

type Counted = 'requests' | 'replies' | 'retries' | 'timeouts' | 'checksum_errors';
const COUNTED: readonly Counted[] = [
  'requests',
  'replies',
  'retries',
  'timeouts',
  'checksum_errors',
];

/** A change the poller turns into an `online` event. */
export interface Transition {
  online: boolean;
  reason?: string;
}

export class PackState {
  readonly status: PackStatus;
  /** Consecutive failed polls. */
  failures = 0;
  /** Rounds to sit out before the next attempt. */
  skip = 0;
  private announced: boolean | undefined;
  private fastSinceFull = 0;
  private needFull = true;
  private slow: Reading | undefined;

  constructor(
    readonly ref: PackRef,
    private readonly h: Hysteresis,
  ) {
    this.status = {
      ...ref,
      online: false,
      link: {
        requests: 0,
        replies: 0,
        retries: 0,
        timeouts: 0,
        checksum_errors: 0,
        polls: 0,
        failures: 0,
      },
    };
  }

  /** Healthy packs get retries; a failing or never seen one is probed once per attempt. */
  get probing(): boolean {
    return this.failures > 0 || this.status.lastSeen === undefined;
  }

  /** Whether this poll runs the optional (slow) steps too. A failing pack is probed fast. */
  get fullDue(): boolean {
    if (this.failures > 0) return false;
    return this.needFull || this.fastSinceFull >= this.h.slowEvery - 1;
  }

  /** Adds a poll's share of the link counters (`before` taken when the poll started). */
  count(before: LinkStats, after: LinkStats): void {
    for (const k of COUNTED) this.status.link[k] += after[k] - before[k];
  }

  /** A successful poll: returns the snapshot to publish and the transition, if any. */
  succeeded(
    reading: Reading,
    full: boolean,
    slow: Reading | undefined,
    now: number,
  ): { snapshot: Reading; change?: Transition } {
    this.status.link.polls++;
    this.failures = 0;
    this.skip = 0;
    if (full) {
      this.slow = mergeSlow(this.slow, slow);
      this.fastSinceFull = 0;
      this.needFull = false;
    } else {
      this.fastSinceFull++;
    }
    const snapshot = full ? reading : withSlow(reading, this.slow);
    this.status.snapshot = snapshot;
    this.status.lastSeen = now;
    this.status.online = true;
    delete this.status.link.lastError;
    if (this.announced === true) return { snapshot };
    this.announced = true;
    return { snapshot, change: { online: true } };
  }

  /**
   * A failed poll (or a failed reconnect, `polled` false): counts it, declares the pack
   * offline after `offlineAfter` in a row, and sets the backoff once it is offline (1, 2,
   * 4... rounds, capped).
   */
  failed(message: string, polled: boolean): Transition | undefined {
    this.failures++;
    this.status.link.failures++;
    if (polled) this.status.link.polls++;
    this.status.link.lastError = message;
    const over = this.failures - this.h.offlineAfter;
    if (polled && over >= 0) this.skip = Math.min(this.h.backoffMaxRounds, 2 ** over);
    if (over < 0 || this.announced === false) return undefined;
    this.announced = false;
    this.status.online = false;
    // Back online, the device may be another one: read everything again.
    this.needFull = true;
    this.slow = undefined;
    return { online: false, reason: message };
  }
}
