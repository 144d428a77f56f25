/**
 * The live store: the pack list from GET /packs, then kept current by one WebSocket
 * (/api/v1/live, subscribed to every pack) — no page polls. Components read it through
 * usePacks()/usePack(), which re-render only when a message arrives. On a dropped socket it
 * reconnects with backoff and reloads the list (so nothing missed while away stays stale).
 */
import { useSyncExternalStore } from 'react';
import { api } from './client';
import type { AlarmView, LiveMessage, PackView, Snapshot } from '@openbms/contract/api';

export type LiveState = 'connecting' | 'open' | 'closed';

/** A message of the live socket (the contract's `liveMessageSchema`). */
type Msg = LiveMessage;
export type ScanProgress = Extract<LiveMessage, { type: 'scan' }>['scan'];

class LiveStore {
  private map = new Map<string, PackView>();
  private list: PackView[] = [];
  private listeners = new Set<() => void>();
  private alarmListeners = new Set<(state: string, a: AlarmView) => void>();
  private scanListeners = new Set<(scan: ScanProgress) => void>();
  private snapshotListeners = new Set<(packId: string, ts: number, s: Snapshot) => void>();
  private ws: WebSocket | undefined;
  private retryMs = 500;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private started = false;
  state: LiveState = 'closed';
  loaded = false;

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  packs = (): PackView[] => this.list;
  pack = (id: string): PackView | undefined => this.map.get(id);

  onAlarm(l: (state: string, a: AlarmView) => void): () => void {
    this.alarmListeners.add(l);
    return () => this.alarmListeners.delete(l);
  }

  /** Bus scan progress (sent to admins only): the address asked, the packs that answered. */
  onScan(l: (scan: ScanProgress) => void): () => void {
    this.scanListeners.add(l);
    return () => this.scanListeners.delete(l);
  }

  /** Every snapshot as it arrives (one per poll of a pack), for logs that keep each one. */
  onSnapshot(l: (packId: string, ts: number, s: Snapshot) => void): () => void {
    this.snapshotListeners.add(l);
    return () => this.snapshotListeners.delete(l);
  }

  private changed(): void {
    this.list = [...this.map.values()];
    for (const l of this.listeners) l();
  }

  private setState(s: LiveState): void {
    this.state = s;
    for (const l of this.listeners) l();
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.connect();
  }

  stop(): void {
    this.started = false;
    clearTimeout(this.timer);
    this.ws?.close();
    this.ws = undefined;
    this.map.clear();
    this.loaded = false;
    this.changed();
  }

  async reload(): Promise<void> {
    const packs = await api<PackView[]>('/packs');
    this.map = new Map(packs.map((p) => [p.id, p]));
    this.loaded = true;
    this.changed();
  }

  private connect(): void {
    if (!this.started) return;
    this.setState('connecting');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/live`);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 500;
      ws.send(JSON.stringify({ subscribe: '*' }));
      this.setState('open');
      this.reload().catch(() => undefined);
    };
    ws.onmessage = (ev) => {
      let m: Msg;
      try {
        m = JSON.parse(String(ev.data)) as Msg;
      } catch {
        return;
      }
      this.handle(m);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.setState('closed');
      if (!this.started) return;
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 15_000);
    };
  }

  private handle(m: Msg): void {
    switch (m.type) {
      case 'snapshot': {
        const p = this.map.get(m.pack_id);
        if (!p) return;
        this.map.set(m.pack_id, { ...p, snapshot: m.snapshot, online: true, last_seen: m.ts });
        this.changed();
        for (const l of this.snapshotListeners) l(m.pack_id, m.ts, m.snapshot);
        // `npm run bench` measures gateway -> DOM: React commits the re-render in a microtask,
        // so a timer callback runs after the DOM shows this snapshot.
        const probe = (window as { __openbmsLatency?: number[] }).__openbmsLatency;
        if (probe && m.sent_at !== undefined) {
          const sent = m.sent_at;
          setTimeout(() => probe.push(Date.now() - sent), 0);
        }
        return;
      }
      case 'online': {
        const p = this.map.get(m.pack_id);
        if (!p) return;
        this.map.set(m.pack_id, { ...p, online: m.online });
        this.changed();
        return;
      }
      case 'alarm':
        for (const l of this.alarmListeners) l(m.state, m.alarm);
        return;
      case 'scan':
        for (const l of this.scanListeners) l(m.scan);
        return;
      default:
        return;
    }
  }
}

export const live = new LiveStore();

export function usePacks(): PackView[] {
  return useSyncExternalStore(live.subscribe, live.packs);
}

export function usePack(id: string): PackView | undefined {
  return useSyncExternalStore(live.subscribe, () => live.pack(id));
}

export function useLiveState(): { state: LiveState; loaded: boolean } {
  const state = useSyncExternalStore(live.subscribe, () => live.state);
  const loaded = useSyncExternalStore(live.subscribe, () => live.loaded);
  return { state, loaded };
}
