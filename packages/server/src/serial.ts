/**
 * Bounds on concurrent work, first come first served.
 *
 * - `Serial` (one at a time): the stores are asynchronous, so a check and the change it allows
 *   (only while no admin exists; never the last admin) would otherwise let another request in
 *   between.
 * - `Limiter(n)`: at most n heavy reads (history, export chunks) in flight. Each answer is then
 *   turned into JSON or file bytes on the main thread; with every client's answer arriving at
 *   once, that work came in bursts long enough to hold back the pollers (50 clients asking
 *   24 h of history during two 7-day exports: polls 3.8 s apart without a bound, 1.4-1.6 s
 *   with two in flight, 1.16 s with one). With one, each turn of the event loop handles one
 *   answer and the pollers' turns come between them; the storage still reads ahead one chunk
 *   per export.
 */
export class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** The chunks of `source`, each one fetched as one run (so chunks and other reads take turns). */
  async *chunks<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
    const it = source[Symbol.asyncIterator]();
    try {
      for (;;) {
        const r = await this.run(() => it.next());
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }
}

export class Serial extends Limiter {
  constructor() {
    super(1);
  }
}
