/**
 * A tiny in-memory AlarmStore for the engine's tests, with the SQLite adapter's semantics
 * (acknowledge is false for unknown ids and second acknowledgements; counts are protection
 * events). `failWrites` makes raise/clear throw STORAGE_FULL, like a full disk.
 */
import { BmsError } from '@openbms/core';
import type { AlarmEvent, AlarmQuery, AlarmStore } from '@openbms/storage';

export class FakeAlarmStore implements AlarmStore {
  readonly events: AlarmEvent[] = [];
  failWrites = false;

  raise(e: Omit<AlarmEvent, 'id' | 'clearedAt' | 'acknowledgedAt' | 'acknowledgedBy'>): number {
    this.check();
    const id = this.events.length + 1;
    this.events.push({ ...e, id });
    return id;
  }

  clear(id: number, at: number): void {
    this.check();
    const e = this.events.find((x) => x.id === id);
    if (e && e.clearedAt === undefined) e.clearedAt = at;
  }

  acknowledge(id: number, by: string, at: number): boolean {
    const e = this.events.find((x) => x.id === id);
    if (!e || e.acknowledgedAt !== undefined) return false;
    e.acknowledgedAt = at;
    e.acknowledgedBy = by;
    return true;
  }

  list(q: AlarmQuery = {}): AlarmEvent[] {
    return this.events
      .filter((e) => q.packId === undefined || e.packId === q.packId)
      .filter((e) => q.active === undefined || (e.clearedAt === undefined) === q.active)
      .map((e) => ({ ...e }))
      .reverse()
      .slice(0, q.limit ?? Infinity);
  }

  /** Protection events (level >= 2, or severity protection/fault) per code, like SQLite's. */
  counts(packId?: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const e of this.events) {
      if (packId !== undefined && e.packId !== packId) continue;
      if (!((e.level ?? 0) >= 2 || e.severity !== 'warning')) continue;
      out[e.code] = (out[e.code] ?? 0) + 1;
    }
    return out;
  }

  private check(): void {
    if (this.failWrites) throw new BmsError('STORAGE_FULL', 'disk full (fake)');
  }
}
