/**
 * A first-come first-served lock. The bus poller takes it for each pack's poll, an exclusive
 * session for its whole run: a session asked for during a poll gets the very next slot.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  /** Runs `fn` once every earlier holder has finished; the lock is released even if it throws. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    this.queued++;
    return previous.then(async () => {
      try {
        return await fn();
      } finally {
        this.queued--;
        release();
      }
    });
  }

  /** Holders running or waiting. */
  get pending(): number {
    return this.queued;
  }
}
