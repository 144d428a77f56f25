/**
 * A tiny in-memory AlarmStore for the engine's tests, with the SQLite adapter's semantics
 * (acknowledge is false for unknown ids and second acknowledgements; counts are protection
 * events; ULIDs and local numbers). `failWrites` makes raise/clear throw STORAGE_FULL, like a
 * full disk. Scopes are not checked here (the contract suites hold the real stores to them):
 * every event is the engine's own.
 */
import { BmsError } from '@openbms/core';
import {
  newId,
  type AlarmEvent,
  type AlarmQuery,
  type AlarmStore,
  type NewAlarm,
  type Origin,
  type RecordRef,
} from '@openbms/storage';

export class FakeAlarmStore implements AlarmStore {
  readonly events: AlarmEvent[] = [];
  failWrites = false;

  async raise(origin: Origin, e: NewAlarm): Promise<AlarmEvent> {
    this.check();
    const ev: AlarmEvent = {
      ...e,
      id: newId(),
      localId: this.events.length + 1,
      orgId: origin.orgId,
      gatewayId: origin.gatewayId,
    };
    this.events.push(ev);
    return { ...ev };
  }

  async clear(_scope: unknown, id: string, at: number): Promise<void> {
    this.check();
    const e = this.events.find((x) => x.id === id);
    if (e && e.clearedAt === undefined) e.clearedAt = at;
  }

  async acknowledge(_scope: unknown, id: string, by: string, at: number): Promise<boolean> {
    const e = this.events.find((x) => x.id === id);
    if (!e || e.acknowledgedAt !== undefined) return false;
    e.acknowledgedAt = at;
    e.acknowledgedBy = by;
    return true;
  }

  async get(_scope: unknown, ref: RecordRef): Promise<AlarmEvent | undefined> {
    const e = this.events.find((x) => ('id' in ref ? x.id === ref.id : x.localId === ref.localId));
    return e && { ...e };
  }

  async list(_scope: unknown, q: AlarmQuery = {}): Promise<AlarmEvent[]> {
    return this.events
      .filter((e) => q.packId === undefined || e.packId === q.packId)
      .filter((e) => q.active === undefined || (e.clearedAt === undefined) === q.active)
      .map((e) => ({ ...e }))
      .reverse()
      .slice(0, q.limit ?? Infinity);
  }

  /** Protection events (level >= 2, or severity protection/fault) per code, like SQLite's. */
  async counts(_scope: unknown, packId?: string): Promise<Record<string, number>> {
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
