/**
 * The alarms active now, shared by the overview, the parallel view and the large screen:
 * GET /alarms?active=true once, then kept current by the live store's alarm events
 * (raised / acknowledged / cleared). After the WebSocket reconnects it asks once more, as
 * events sent while it was away are lost. Events that arrive while a request is on its
 * way are applied again on top of its answer, so none is overwritten.
 */
import { useSyncExternalStore } from 'react';
import type { AlarmView, alarmsQuery } from '@openbms/contract/api';
import { api, type ApiError } from '../api/client';
import { live } from '../api/live';

/**
 * The most alarms one request may ask for: the API's maximum, as a type, so the overview
 * (first load) does not import the contract's schemas at run time; a change there fails
 * the type check here.
 */
const MAX_LIMIT: (typeof alarmsQuery)['properties']['limit']['maximum'] = 1000;

type AlarmEvent = [state: string, alarm: AlarmView];

class ActiveAlarms {
  private map = new Map<number, AlarmView>();
  private list: AlarmView[] = [];
  private listeners = new Set<() => void>();
  private pending: AlarmEvent[] | undefined;
  private started = false;
  private lastLive: string = 'closed';
  private wasOpen = false;
  private request = 0;
  loaded = false;
  error: ApiError | undefined;

  subscribe = (l: () => void): (() => void) => {
    this.start();
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  alarms = (): AlarmView[] => this.list;
  status = (): string => `${this.loaded}|${this.error?.message ?? ''}`;

  private changed(): void {
    this.list = [...this.map.values()].sort((a, b) => b.raised_at - a.raised_at);
    for (const l of this.listeners) l();
  }

  private apply(state: string, a: AlarmView): void {
    if (state === 'cleared' || a.cleared_at !== undefined) this.map.delete(a.id);
    else this.map.set(a.id, a);
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    live.onAlarm((state, a) => {
      this.pending?.push([state, a]);
      this.apply(state, a);
      this.changed();
    });
    this.lastLive = live.state;
    this.wasOpen = live.state === 'open';
    live.subscribe(() => {
      const s = live.state;
      if (s === 'open' && this.lastLive !== 'open') {
        // A reconnect (or a new login): what happened meanwhile is only in the server.
        if (this.wasOpen) void this.fetch();
        this.wasOpen = true;
      }
      this.lastLive = s;
    });
    void this.fetch();
  }

  private async fetch(): Promise<void> {
    const mine = ++this.request;
    this.pending = [];
    try {
      const list = await api<AlarmView[]>(`/alarms?active=true&limit=${MAX_LIMIT}`);
      if (mine !== this.request) return;
      this.map = new Map(list.map((a) => [a.id, a]));
      for (const [state, a] of this.pending ?? []) this.apply(state, a);
      this.loaded = true;
      this.error = undefined;
    } catch (e) {
      if (mine !== this.request) return;
      this.error = e as ApiError;
    } finally {
      if (mine === this.request) this.pending = undefined;
    }
    this.changed();
  }
}

export const activeAlarms = new ActiveAlarms();

export function useActiveAlarms(): {
  alarms: AlarmView[];
  loaded: boolean;
  error: ApiError | undefined;
} {
  const alarms = useSyncExternalStore(activeAlarms.subscribe, activeAlarms.alarms);
  // Re-render when loading ends or fails, too.
  useSyncExternalStore(activeAlarms.subscribe, activeAlarms.status);
  return { alarms, loaded: activeAlarms.loaded, error: activeAlarms.error };
}
