import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type ApiError } from './client';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/** GETs a path (undefined: nothing) and keeps the result; reload() asks again. */
export function useApi<T>(path: string | undefined): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(path !== undefined);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === undefined) return;
    let live = true;
    setLoading(true);
    api<T>(path).then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: ApiError) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/** Runs an action (a write, a command) and keeps its pending state, result and error. */
export function useAction<A extends unknown[], R>(
  f: (...args: A) => Promise<R>,
): {
  run: (...args: A) => Promise<R | undefined>;
  pending: boolean;
  result: R | undefined;
  error: ApiError | undefined;
  reset: () => void;
} {
  const [pending, setPending] = useState(false);
  const [result, setResult] = useState<R | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const fn = useRef(f);
  fn.current = f;
  const run = useCallback(async (...args: A) => {
    setPending(true);
    setError(undefined);
    setResult(undefined);
    try {
      const r = await fn.current(...args);
      setResult(r);
      return r;
    } catch (e) {
      setError(e as ApiError);
      return undefined;
    } finally {
      setPending(false);
    }
  }, []);
  const reset = useCallback(() => {
    setResult(undefined);
    setError(undefined);
  }, []);
  return { run, pending, result, error, reset };
}
