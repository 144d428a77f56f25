/**
 * The alarm events of one pack (or all packs): the active ones from the gateway plus the
 * stored history, then kept current by the live socket's alarm messages (raised, cleared,
 * acknowledged) — no polling. Older history pages in with `to` = the oldest event loaded.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ALARMS_MAX_LIMIT, type AlarmView } from '@openbms/contract/api';
import { api, type ApiError } from '../api/client';
import { live } from '../api/live';

export interface AlarmFeed {
  /** Every loaded event, newest first. */
  alarms: AlarmView[];
  loading: boolean;
  error: ApiError | undefined;
  hasMore: boolean;
  loadingOlder: boolean;
  loadOlder: () => Promise<void>;
  /** Acknowledges an event; resolves to the error when the server refused. */
  ack: (id: number, user: string) => Promise<ApiError | undefined>;
}

const byTime = (a: AlarmView, b: AlarmView): number => b.raised_at - a.raised_at || b.id - a.id;

export function useAlarmFeed(pack: string | undefined, pageSize = 100): AlarmFeed {
  const [map, setMap] = useState<Map<number, AlarmView>>(() => new Map());
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [hasMore, setHasMore] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const generation = useRef(0);
  const query = pack === undefined ? '' : `&pack=${encodeURIComponent(pack)}`;

  useEffect(() => {
    const gen = ++generation.current;
    setMap(new Map());
    setLoading(true);
    setError(undefined);
    setHasMore(false);
    // Listen before loading, so an event raised while the lists load is not missed; a live
    // event is newer than what the lists say, so it wins the merge.
    const off = live.onAlarm((_state, a) => {
      if (pack !== undefined && a.pack_id !== pack) return;
      setMap((prev) => new Map(prev).set(a.id, a));
    });
    Promise.all([
      api<AlarmView[]>(`/alarms?active=true&limit=${ALARMS_MAX_LIMIT}${query}`),
      api<AlarmView[]>(`/alarms?limit=${pageSize}${query}`),
    ]).then(
      ([active, history]) => {
        if (gen !== generation.current) return;
        setMap((liveSoFar) => {
          const m = new Map<number, AlarmView>();
          for (const a of active) m.set(a.id, a);
          for (const a of history) if (!m.has(a.id)) m.set(a.id, a);
          for (const [id, a] of liveSoFar) m.set(id, a);
          return m;
        });
        setHasMore(history.length >= pageSize);
        setLoading(false);
      },
      (e: ApiError) => {
        if (gen !== generation.current) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      off();
    };
  }, [pack, pageSize, query]);

  const alarms = useMemo(() => [...map.values()].sort(byTime), [map]);

  const oldest = alarms.length > 0 ? alarms[alarms.length - 1]!.raised_at : undefined;
  const loadOlder = useCallback(async () => {
    if (oldest === undefined) return;
    const gen = generation.current;
    setLoadingOlder(true);
    try {
      const older = await api<AlarmView[]>(`/alarms?limit=${pageSize}&to=${oldest}${query}`);
      if (gen !== generation.current) return;
      setMap((prev) => {
        const m = new Map(prev);
        for (const a of older) if (!m.has(a.id)) m.set(a.id, a);
        return m;
      });
      // `to` is inclusive: a page made only of events already shown means the end.
      setHasMore(older.length >= pageSize && older.some((a) => !map.has(a.id)));
      setError(undefined);
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setLoadingOlder(false);
    }
  }, [oldest, pageSize, query, map]);

  const ack = useCallback(async (id: number, user: string) => {
    try {
      await api(`/alarms/${id}/ack`, { method: 'POST' });
    } catch (e) {
      return e as ApiError;
    }
    setMap((prev) => {
      const a = prev.get(id);
      if (!a || a.acknowledged_at !== undefined) return prev;
      return new Map(prev).set(id, { ...a, acknowledged_at: Date.now(), acknowledged_by: user });
    });
    return undefined;
  }, []);

  return { alarms, loading, error, hasMore, loadingOlder, loadOlder, ack };
}
