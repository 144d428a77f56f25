/**
 * A synchronous object seen through the asynchronous port: every method returns a promise
 * (a throw becomes a rejection). For running the contract suites on an adapter's own
 * synchronous classes (the SQLite stores on one connection, the writer thread's facade).
 */
export type Promised<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : T[K];
};

export function promised<T extends object>(target: T): Promised<T> {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const v = Reflect.get(t, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => (v as (...a: unknown[]) => unknown).apply(t, args);
    },
  }) as unknown as Promised<T>;
}
