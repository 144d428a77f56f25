/**
 * Counts failures per key in a sliding window (login: per IP + user name, and per IP).
 * Memory stays bounded: expired keys are dropped, and at most `maxKeys` keys are kept.
 */
export interface RateLimitOptions {
  /** Failures allowed inside the window before the key is blocked. */
  max: number;
  windowMs: number;
  maxKeys?: number;
}

export class FailureLimiter {
  private readonly hits = new Map<string, number[]>();
  private readonly maxKeys: number;

  constructor(
    private readonly opts: RateLimitOptions,
    private readonly clock: () => number,
  ) {
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  private recent(key: string, now: number): number[] {
    const list = (this.hits.get(key) ?? []).filter((t) => now - t < this.opts.windowMs);
    if (list.length === 0) this.hits.delete(key);
    else this.hits.set(key, list);
    return list;
  }

  /** Milliseconds until the key may try again; 0 when it is not blocked. */
  blockedFor(key: string): number {
    const now = this.clock();
    const list = this.recent(key, now);
    if (list.length < this.opts.max) return 0;
    const oldest = list[list.length - this.opts.max] ?? now;
    return Math.max(1, oldest + this.opts.windowMs - now);
  }

  fail(key: string): void {
    const now = this.clock();
    const list = this.recent(key, now);
    list.push(now);
    this.hits.set(key, list);
    if (this.hits.size > this.maxKeys) this.prune(now);
  }

  reset(key: string): void {
    this.hits.delete(key);
  }

  private prune(now: number): void {
    for (const key of [...this.hits.keys()]) this.recent(key, now);
    // Still too many live keys (a spray): forget the oldest ones first.
    for (const key of this.hits.keys()) {
      if (this.hits.size <= this.maxKeys) break;
      this.hits.delete(key);
    }
  }
}
