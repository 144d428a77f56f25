/**
 * The alarm engine: listens to the gateway's EventBus and turns snapshots and online/offline
 * changes into alarm events (raised / cleared / acknowledged), stored through the AlarmStore
 * port and re-emitted on the bus as `alarm` events.
 *
 * - BMS alarms (origin `bms`): the pack's own flags, diffed per code at each snapshot.
 * - comm_lost (origin `gateway`, fault): raised when the scheduler says a pack went offline,
 *   cleared when it is back online or a snapshot arrives.
 * - User rules (origin `rule`): thresholds with hysteresis and durations (evaluate.ts).
 * - Gateway alarms (origin `gateway`, scope GATEWAY_ALARM_SCOPE instead of a pack id): the
 *   storage's `storage_full` / `storage_corrupt`, set and cleared by `setGatewayAlarm`.
 *
 * Time is the events' `ts`; there are no timers. State changes only after the store
 * accepted them, so a failed write (disk full) is retried at the next snapshot. The store is
 * asynchronous: events are handled one at a time, in the order they came (a queue), so an
 * event never sees the state half way through the one before; `settled()` resolves when
 * everything queued so far is done. `active()` answers from memory at once.
 */
import {
  BmsError,
  GATEWAY_ALARM_SCOPE,
  alarmInfo,
  completeSnapshot,
  type Alarm,
  type Reading,
} from '@openbms/core';
import {
  localScope,
  type AlarmEvent,
  type AlarmQuery,
  type AlarmStore,
  type NewAlarm,
  type Origin,
  type Scope,
} from '@openbms/storage';
import type { EventBus, GatewayEvent } from '../types.js';
import { bmsMessage, diffBmsAlarms } from './bms.js';
import { interruptTrack, stepRule, type RuleTrack } from './evaluate.js';
import { parseAlarmRules, ruleApplies, type AlarmRule } from './rules.js';

export interface AlarmEngineOptions {
  bus: EventBus;
  store: AlarmStore;
  /** Whose events these are (the gateway's identity); the engine reads and writes its own only. */
  origin: Origin;
  /** Parsed rules (parseAlarmRules); default: the built-ins only. */
  rules?: readonly AlarmRule[];
  /** Clock for acknowledgements (ms); alarms themselves take the events' `ts`. */
  now?: () => number;
  /** Store failures and other non-fatal errors; the engine carries on. */
  onError?: (err: unknown) => void;
}

type NewEvent = Omit<NewAlarm, 'packId'>;

interface RuleSlot {
  track: RuleTrack;
  event?: AlarmEvent;
}

interface PackAlarms {
  bms: Map<string, AlarmEvent>;
  comm?: AlarmEvent;
  /** Offline but the comm_lost write failed: retried on the next event the engine sees. */
  commWanted?: { ts: number; reason?: string };
  rules: Map<string, RuleSlot>;
  /** Active events loaded from the store that nothing tracks (duplicates, unknown kinds). */
  orphans: AlarmEvent[];
}

const COMM_LOST = 'comm_lost';

/** An adapter may give SQL NULLs for absent optional fields; the engine compares with undefined. */
function withoutNulls(ev: AlarmEvent): AlarmEvent {
  const out = { ...ev } as Record<string, unknown>;
  for (const k of Object.keys(out)) if (out[k] === null) delete out[k];
  return out as unknown as AlarmEvent;
}

export class AlarmEngine {
  private readonly bus: EventBus;
  private readonly store: AlarmStore;
  private readonly origin: Origin;
  private readonly scope: Scope;
  /** The work queued so far: one event (or call) at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  /**
   * Alarm events to emit once the job that made them is done: a listener sees the engine's
   * state (active(), the pack's slots) as it is after the change, never half way.
   */
  private outbox: GatewayEvent[] = [];
  private readonly now: () => number;
  private readonly onError: (err: unknown) => void;
  private rules: readonly AlarmRule[];
  private ruleById = new Map<string, AlarmRule>();
  private readonly packs = new Map<string, PackAlarms>();
  /** Active gateway alarms by code; `wanted` holds a raise the store refused (retried). */
  private readonly site = new Map<string, AlarmEvent>();
  private readonly siteWanted = new Map<string, { at: number; message: string }>();
  private unsubscribe: (() => void) | undefined;

  constructor(opts: AlarmEngineOptions) {
    this.bus = opts.bus;
    this.store = opts.store;
    this.origin = opts.origin;
    this.scope = localScope(opts.origin);
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? (() => undefined);
    this.rules = [];
    this.setRules(opts.rules ?? parseAlarmRules([]));
  }

  /** Runs `fn` after everything queued before it; a failure goes to onError (and the caller). */
  private enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(async () => {
      try {
        return await fn();
      } finally {
        const out = this.outbox;
        this.outbox = [];
        for (const e of out) this.bus.emit(e);
      }
    });
    this.queue = run.then(
      () => undefined,
      (e: unknown) => this.onError(e),
    );
    return run;
  }

  /** Resolves when everything queued so far (events, calls) has been handled. */
  settled(): Promise<void> {
    return this.queue;
  }

  /**
   * Subscribes, and loads the active events from the store (no duplicates after a restart)
   * before any event is handled; resolves once they are loaded.
   */
  start(): Promise<this> {
    if (this.unsubscribe) return this.settled().then(() => this);
    // A failure was given to onError by the queue already.
    this.unsubscribe = this.bus.on((e) => void this.handle(e).catch(() => undefined));
    return this.enqueue(async () => {
      let stored: AlarmEvent[] = [];
      try {
        stored = await this.store.list(this.scope, { active: true });
      } catch (err) {
        // An unreadable store must not stop alarms: start with none adopted.
        this.onError(err);
      }
      for (const ev of stored) {
        if (ev.clearedAt === undefined || ev.clearedAt === null) await this.adopt(withoutNulls(ev));
      }
      return this;
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Replaces the rules; events of removed rules clear at their pack's next snapshot. */
  setRules(rules: readonly AlarmRule[]): void {
    this.rules = [...rules];
    this.ruleById = new Map(rules.map((r) => [r.id, r]));
  }

  /** Feeds one gateway event (the bus does this after start()); resolves once it is handled. */
  handle(e: GatewayEvent): Promise<void> {
    if (e.type === 'alarm') return Promise.resolve();
    return this.enqueue(async () => {
      await this.retryCommLost();
      await this.retrySite();
      if (e.type === 'snapshot') await this.onSnapshot(e.packId, e.ts, e.snapshot);
      else await this.onOnline(e.packId, e.ts, e.online, e.reason);
    });
  }

  /**
   * Raises (`on`) or clears a gateway alarm (scope GATEWAY_ALARM_SCOPE, origin `gateway`):
   * one event per code, severity from the taxonomy. Idempotent; a raise the store refuses is
   * tried again at the next call or event.
   */
  setGatewayAlarm(code: string, on: boolean, o: { at: number; message: string }): Promise<void> {
    const info = alarmInfo(code);
    if (!info)
      return Promise.reject(new BmsError('INVALID_ARGUMENT', `unknown alarm code ${code}`));
    return this.enqueue(async () => {
      const ev = this.site.get(code);
      if (!on) {
        this.siteWanted.delete(code);
        if (ev && (await this.clear(ev, o.at))) this.site.delete(code);
        return;
      }
      if (ev) return;
      this.siteWanted.set(code, { at: o.at, message: o.message });
      await this.retrySite();
    });
  }

  private async retrySite(): Promise<void> {
    for (const [code, want] of this.siteWanted) {
      if (this.site.has(code)) continue;
      const ev = await this.raise(GATEWAY_ALARM_SCOPE, {
        code,
        severity: alarmInfo(code)?.severity ?? 'fault',
        origin: 'gateway',
        raisedAt: want.at,
        message: want.message,
      });
      if (!ev) continue;
      this.site.set(code, ev);
      this.siteWanted.delete(code);
    }
  }

  /** Active events, newest first, of one pack (or the gateway scope) or all. */
  active(packId?: string): AlarmEvent[] {
    const out: AlarmEvent[] = [];
    if (packId === undefined || packId === GATEWAY_ALARM_SCOPE) out.push(...this.site.values());
    for (const [id, p] of this.packs) {
      if (packId !== undefined && id !== packId) continue;
      out.push(...p.bms.values(), ...p.orphans);
      if (p.comm) out.push(p.comm);
      for (const s of p.rules.values()) if (s.event) out.push(s.event);
    }
    return out
      .filter((e) => e.clearedAt === undefined)
      .sort((a, b) => b.raisedAt - a.raisedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .map((e) => ({ ...e }));
  }

  /** Events per alarm code (seed 003 protection counters), from the store. */
  counts(packId?: string): Promise<Record<string, number>> {
    return this.store.counts(this.scope, packId);
  }

  /** The event history, from the store. */
  history(q?: AlarmQuery): Promise<AlarmEvent[]> {
    return this.store.list(this.scope, q);
  }

  /**
   * Acknowledges an event (active or not) by the gateway's number for it (what the API
   * shows as its id). Acknowledging twice keeps the first.
   */
  acknowledge(localId: number, user: string): Promise<AlarmEvent> {
    if (!Number.isInteger(localId) || localId <= 0) {
      return Promise.reject(
        new BmsError('REQUEST_INVALID', `alarm id must be a positive integer (got ${localId})`),
      );
    }
    if (typeof user !== 'string' || user.trim() === '') {
      return Promise.reject(
        new BmsError('REQUEST_INVALID', 'acknowledging an alarm needs a user name'),
      );
    }
    return this.enqueue(async () => {
      const cached = this.findActive(localId);
      if (cached?.acknowledgedAt !== undefined) return { ...cached };
      const target = cached ?? (await this.lookup(localId));
      if (!target) throw new BmsError('NOT_FOUND', `no alarm event ${localId} to acknowledge`);
      const at = this.now();
      if (!(await this.store.acknowledge(this.scope, target.id, user, at))) {
        // The store says no for an unknown id and for one acknowledged before (the first stays).
        const stored = cached ? undefined : await this.lookup(localId);
        if (stored?.acknowledgedAt !== undefined) return stored;
        throw new BmsError('NOT_FOUND', `no alarm event ${localId} to acknowledge`);
      }
      let ev = cached;
      if (ev) {
        ev.acknowledgedAt = at;
        ev.acknowledgedBy = user;
      } else {
        ev = await this.lookup(localId);
        if (!ev) throw new BmsError('NOT_FOUND', `no alarm event ${localId}`);
      }
      this.outbox.push({ type: 'alarm', state: 'acknowledged', event: { ...ev } });
      return { ...ev };
    });
  }

  // ------------------------------------------------------------ snapshots

  private async onSnapshot(packId: string, ts: number, snapshot: Reading): Promise<void> {
    const p = this.pack(packId);
    p.commWanted = undefined;
    if (p.comm && (await this.clear(p.comm, ts))) p.comm = undefined;
    const orphans: AlarmEvent[] = [];
    for (const ev of p.orphans) if (!(await this.clear(ev, ts))) orphans.push(ev);
    p.orphans = orphans;
    if (Array.isArray(snapshot.alarms)) await this.applyBms(p, packId, ts, snapshot.alarms);
    await this.applyRules(p, packId, ts, snapshot);
  }

  private async applyBms(
    p: PackAlarms,
    packId: string,
    ts: number,
    alarms: readonly Alarm[],
  ): Promise<void> {
    const active = new Map(
      [...p.bms].map(([code, ev]) => [code, { severity: ev.severity, level: ev.level }]),
    );
    const diff = diffBmsAlarms(active, alarms);
    for (const code of diff.clear) {
      const ev = p.bms.get(code);
      if (ev && (await this.clear(ev, ts))) p.bms.delete(code);
    }
    for (const a of diff.raise) {
      if (p.bms.has(a.code)) continue; // its old level failed to clear; retried next time
      const ev = await this.raise(packId, {
        code: a.code,
        severity: a.severity,
        ...(a.level !== undefined ? { level: a.level } : {}),
        origin: 'bms',
        raisedAt: ts,
        message: bmsMessage(a),
      });
      if (ev) p.bms.set(a.code, ev);
    }
  }

  private async applyRules(
    p: PackAlarms,
    packId: string,
    ts: number,
    snapshot: Reading,
  ): Promise<void> {
    let completed: Reading | undefined;
    const valueOf = (metric: string): number | undefined => {
      let v = (snapshot as Record<string, unknown>)[metric];
      if (typeof v !== 'number') {
        completed ??= completeSnapshot({ ...snapshot });
        v = (completed as Record<string, unknown>)[metric];
      }
      return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    };
    for (const rule of this.rules) {
      if (!ruleApplies(rule, packId)) continue;
      const slot = p.rules.get(rule.id) ?? { track: { phase: 'idle', since: ts } };
      const value = valueOf(rule.metric);
      const step = stepRule(rule, slot.track, value, ts);
      if (step.action === 'raise' && value !== undefined) {
        const ev = await this.raise(packId, {
          code: rule.code,
          severity: rule.severity,
          origin: 'rule',
          ruleId: rule.id,
          raisedAt: ts,
          value,
          message:
            rule.message ?? `${rule.name}: ${rule.metric} ${value} ${rule.op} ${rule.threshold}`,
        });
        if (!ev) continue;
        slot.event = ev;
      } else if (step.action === 'clear' && slot.event) {
        if (!(await this.clear(slot.event, ts))) continue;
        slot.event = undefined;
      }
      slot.track = step.next;
      p.rules.set(rule.id, slot);
    }
    // Rules removed, disabled, or no longer covering this pack: their events end here.
    for (const [id, slot] of [...p.rules]) {
      const rule = this.ruleById.get(id);
      if (rule && ruleApplies(rule, packId)) continue;
      if (slot.event && !(await this.clear(slot.event, ts))) continue;
      p.rules.delete(id);
    }
  }

  // ------------------------------------------------------------ online / offline

  private async onOnline(
    packId: string,
    ts: number,
    online: boolean,
    reason?: string,
  ): Promise<void> {
    const p = this.pack(packId);
    if (online) {
      p.commWanted = undefined;
      if (p.comm && (await this.clear(p.comm, ts))) p.comm = undefined;
      return;
    }
    for (const slot of p.rules.values()) slot.track = interruptTrack(slot.track, ts);
    if (!p.comm) {
      p.commWanted = reason === undefined ? { ts } : { ts, reason };
      await this.raiseCommLost(packId, p);
    }
  }

  private async raiseCommLost(packId: string, p: PackAlarms): Promise<void> {
    const want = p.commWanted;
    if (!want) return;
    const ev = await this.raise(packId, {
      code: COMM_LOST,
      severity: 'fault',
      origin: 'gateway',
      raisedAt: want.ts,
      message: want.reason ? `Communication lost: ${want.reason}` : 'Communication lost',
    });
    if (!ev) return;
    p.comm = ev;
    p.commWanted = undefined;
  }

  private async retryCommLost(): Promise<void> {
    for (const [id, p] of this.packs) {
      if (p.commWanted && !p.comm) await this.raiseCommLost(id, p);
    }
  }

  // ------------------------------------------------------------ store + bus

  private async raise(packId: string, fields: NewEvent): Promise<AlarmEvent | undefined> {
    let stored: AlarmEvent;
    try {
      stored = await this.store.raise(this.origin, { packId, ...fields });
    } catch (err) {
      this.onError(err);
      return undefined;
    }
    const ev = withoutNulls(stored);
    this.outbox.push({ type: 'alarm', state: 'raised', event: { ...ev } });
    return ev;
  }

  private async clear(ev: AlarmEvent, ts: number): Promise<boolean> {
    const at = Math.max(ts, ev.raisedAt);
    try {
      await this.store.clear(this.scope, ev.id, at);
    } catch (err) {
      this.onError(err);
      return false;
    }
    ev.clearedAt = at;
    this.outbox.push({ type: 'alarm', state: 'cleared', event: { ...ev } });
    return true;
  }

  private pack(packId: string): PackAlarms {
    let p = this.packs.get(packId);
    if (!p) {
      p = { bms: new Map(), rules: new Map(), orphans: [] };
      this.packs.set(packId, p);
    }
    return p;
  }

  /** An active event by the gateway's number for it. */
  private findActive(localId: number): AlarmEvent | undefined {
    for (const ev of this.site.values()) if (ev.localId === localId) return ev;
    for (const p of this.packs.values()) {
      if (p.comm?.localId === localId) return p.comm;
      for (const ev of p.bms.values()) if (ev.localId === localId) return ev;
      for (const s of p.rules.values()) if (s.event?.localId === localId) return s.event;
      const o = p.orphans.find((ev) => ev.localId === localId);
      if (o) return o;
    }
    return undefined;
  }

  /** An event of this gateway by its number, from the store. */
  private async lookup(localId: number): Promise<AlarmEvent | undefined> {
    const ev = await this.store.get(this.scope, { localId });
    return ev ? withoutNulls(ev) : undefined;
  }

  /** Takes over an active event loaded from the store. */
  private async adopt(ev: AlarmEvent): Promise<void> {
    if (ev.packId === GATEWAY_ALARM_SCOPE) {
      // Its condition is judged again by whoever sets it (the storage watch, at start).
      if (!this.site.has(ev.code)) this.site.set(ev.code, ev);
      else await this.clear(ev, this.now());
      return;
    }
    const p = this.pack(ev.packId);
    if (ev.origin === 'bms' && !p.bms.has(ev.code)) p.bms.set(ev.code, ev);
    else if (ev.origin === 'gateway' && ev.code === COMM_LOST && !p.comm) p.comm = ev;
    else if (ev.origin === 'rule' && ev.ruleId !== undefined && !p.rules.get(ev.ruleId)?.event) {
      p.rules.set(ev.ruleId, { track: { phase: 'raised', since: ev.raisedAt }, event: ev });
    } else p.orphans.push(ev);
  }
}
