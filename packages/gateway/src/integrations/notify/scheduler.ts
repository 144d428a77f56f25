/**
 * Wakes at each sunrise and sunset of the site. It sleeps at most an hour at a time and, on
 * each wake, looks at what happened since the last one, so a late timer, a changed system
 * clock or a suspended host still fire the event (only the latest if several were missed).
 * Nothing fires for events before `start()`. Polar day/night: no event, nothing fires.
 */
import { nextSunEvent, sunEvents, type Place, type SunEvent } from './sun.js';
import type { Clock, Timers } from './types.js';

const MAX_SLEEP_MS = 3_600_000;

export class SunScheduler {
  private timer: unknown;
  private checked = 0;
  private running = false;
  private next: SunEvent | undefined;

  constructor(
    private readonly o: {
      place: Place;
      clock: Clock;
      timers: Timers;
      onEvent(e: SunEvent): void;
    },
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.checked = this.o.clock.now();
    this.arm();
  }

  stop(): void {
    this.running = false;
    this.o.timers.clear(this.timer);
    this.timer = undefined;
  }

  /** The next sunrise or sunset it will fire for (within two days). */
  upcoming(): SunEvent | undefined {
    return this.running ? this.next : undefined;
  }

  private arm(): void {
    const now = this.o.clock.now();
    this.next = nextSunEvent(now, this.o.place);
    const wait = this.next ? Math.min(this.next.at - now, MAX_SLEEP_MS) : MAX_SLEEP_MS;
    this.timer = this.o.timers.set(() => this.wake(), Math.max(0, wait));
  }

  private wake(): void {
    this.timer = undefined;
    if (!this.running) return;
    const now = this.o.clock.now();
    const due = sunEvents(this.checked, now, this.o.place).at(-1);
    this.checked = now;
    if (due) this.o.onEvent(due);
    if (this.running) this.arm();
  }
}
