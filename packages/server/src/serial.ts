/**
 * One at a time: `run(fn)` starts `fn` when every run before it has finished. The stores are
 * asynchronous, so a check and the change it allows (only while no admin exists; never the
 * last admin) would otherwise let another request in between.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
