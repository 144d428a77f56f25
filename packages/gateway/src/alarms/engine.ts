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
 * accepted them, so a failed write (disk full) is retried at the next snapshot.
 */
import {
  BmsError,
  GATEWAY_ALARM_SCOPE,
  alarmInfo,
  completeSnapshot,
  type Alarm,
  type Reading,
} from '@openbms/core';
import type { AlarmEvent, AlarmQuery, AlarmStore } from '@openbms/storage';
import type { EventBus, GatewayEvent } from '../types.js';
import { bmsMessage, diffBmsAlarms } from './bms.js';
import { interruptTrack, stepRule, type RuleTrack } from './evaluate.js';
import { parseAlarmRules, ruleApplies, type AlarmRule } from './rules.js';

export interface AlarmEngineOptions {
  bus: EventBus;
  store: AlarmStore;
  /** Parsed rules (parseAlarmRules); default: the built-ins only. */
  rules?: readonly AlarmRule[];
  /** Clock for acknowledgements (ms); alarms themselves take the events' `ts`. */
  now?: () => number;
  /** Store failures and other non-fatal errors; the engine carries on. */
  onError?: (err: unknown) => void;
}

type NewEvent = Omit<
  AlarmEvent,
  'id' | 'packId' | 'clearedAt' | 'acknowledgedAt' | 'acknowledgedBy'
>;

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
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? (() => undefined);
    this.rules = [];
    this.setRules(opts.rules ?? parseAlarmRules([]));
  }

  /** Loads the active events from the store (no duplicates after a restart) and subscribes. */
  start(): this {
    if (this.unsubscribe) return this;
    let stored: AlarmEvent[] = [];
    try {
      stored = this.store.list({ active: true });
    } catch (err) {
      // An unreadable store must not stop alarms: start with none adopted.
      this.onError(err);
    }
    for (const ev of stored) {
      if (ev.clearedAt === undefined || ev.clearedAt === null) this.adopt(withoutNulls(ev));
    }
    this.unsubscribe = this.bus.on((e) => this.handle(e));
    return this;
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

  /** Feeds one gateway event (the bus does this after start()). */
  handle(e: GatewayEvent): void {
    if (e.type === 'alarm') return;
    this.retryCommLost();
    this.retrySite();
    if (e.type === 'snapshot') this.onSnapshot(e.packId, e.ts, e.snapshot);
    else this.onOnline(e.packId, e.ts, e.online, e.reason);
  }

  /**
   * Raises (`on`) or clears a gateway alarm (scope GATEWAY_ALARM_SCOPE, origin `gateway`):
   * one event per code, severity from the taxonomy. Idempotent; a raise the store refuses is
   * tried again at the next call or event.
   */
  setGatewayAlarm(code: string, on: boolean, o: { at: number; message: string }): void {
    const info = alarmInfo(code);
    if (!info) throw new BmsError('INVALID_ARGUMENT', `unknown alarm code ${code}`);
    const ev = this.site.get(code);
    if (!on) {
      this.siteWanted.delete(code);
      if (ev && this.clear(ev, o.at)) this.site.delete(code);
      return;
    }
    if (ev) return;
    this.siteWanted.set(code, { at: o.at, message: o.message });
    this.retrySite();
  }

  private retrySite(): void {
    for (const [code, want] of this.siteWanted) {
      if (this.site.has(code)) continue;
      const ev = this.raise(GATEWAY_ALARM_SCOPE, {
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
    return out.sort((a, b) => b.raisedAt - a.raisedAt || b.id - a.id).map((e) => ({ ...e }));
  }

  /** Events per alarm code (seed 003 protection counters), from the store. */
  counts(packId?: string): Record<string, number> {
    return this.store.counts(packId);
  }

  /** The event history, from the store. */
  history(q?: AlarmQuery): AlarmEvent[] {
    return this.store.list(q);
  }

  /** Acknowledges an event (active or not). Acknowledging twice keeps the first. */
  acknowledge(id: number, user: string): AlarmEvent {
    if (!Number.isInteger(id) || id <= 0) {
      throw new BmsError('REQUEST_INVALID', `alarm id must be a positive integer (got ${id})`);
    }
    if (typeof user !== 'string' || user.trim() === '') {
      throw new BmsError('REQUEST_INVALID', 'acknowledging an alarm needs a user name');
    }
    const cached = this.findActive(id);
    if (cached?.acknowledgedAt !== undefined) return { ...cached };
    const at = this.now();
    if (!this.store.acknowledge(id, user, at)) {
      // The store says no for an unknown id and for one acknowledged before (the first stays).
      const stored = cached ? undefined : this.lookup(id);
      if (stored?.acknowledgedAt !== undefined) return stored;
      throw new BmsError('NOT_FOUND', `no alarm event ${id} to acknowledge`);
    }
    let ev = cached;
    if (ev) {
      ev.acknowledgedAt = at;
      ev.acknowledgedBy = user;
    } else {
      ev = this.lookup(id);
      if (!ev) throw new BmsError('NOT_FOUND', `no alarm event ${id}`);
    }
    this.bus.emit({ type: 'alarm', state: 'acknowledged', event: { ...ev } });
    return { ...ev };
  }

  // ------------------------------------------------------------ snapshots

  private onSnapshot(packId: string, ts: number, snapshot: Reading): void {
    const p = this.pack(packId);
    p.commWanted = undefined;
    if (p.comm && this.clear(p.comm, ts)) p.comm = undefined;
    p.orphans = p.orphans.filter((ev) => !this.clear(ev, ts));
    if (Array.isArray(snapshot.alarms)) this.applyBms(p, packId, ts, snapshot.alarms);
    this.applyRules(p, packId, ts, snapshot);
  }

  private applyBms(p: PackAlarms, packId: string, ts: number, alarms: readonly Alarm[]): void {
    const active = new Map(
      [...p.bms].map(([code, ev]) => [code, { severity: ev.severity, level: ev.level }]),
    );
    const diff = diffBmsAlarms(active, alarms);
    for (const code of diff.clear) {
      const ev = p.bms.get(code);
      if (ev && this.clear(ev, ts)) p.bms.delete(code);
    }
    for (const a of diff.raise) {
      if (p.bms.has(a.code)) continue; // its old level failed to clear; retried next time
      const ev = this.raise(packId, {
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

  private applyRules(p: PackAlarms, packId: string, ts: number, snapshot: Reading): void {
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
        const ev = this.raise(packId, {
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
        if (!this.clear(slot.event, ts)) continue;
        slot.event = undefined;
      }
      slot.track = step.next;
      p.rules.set(rule.id, slot);
    }
    // Rules removed, disabled, or no longer covering this pack: their events end here.
    for (const [id, slot] of p.rules) {
      const rule = this.ruleById.get(id);
      if (rule && ruleApplies(rule, packId)) continue;
      if (slot.event && !this.clear(slot.event, ts)) continue;
      p.rules.delete(id);
    }
  }

  // ------------------------------------------------------------ online / offline

  private onOnline(packId: string, ts: number, online: boolean, reason?: string): void {
    const p = this.pack(packId);
    if (online) {
      p.commWanted = undefined;
      if (p.comm && this.clear(p.comm, ts)) p.comm = undefined;
      return;
    }
    for (const slot of p.rules.values()) slot.track = interruptTrack(slot.track, ts);
    if (!p.comm) {
      p.commWanted = reason === undefined ? { ts } : { ts, reason };
      this.raiseCommLost(packId, p);
    }
  }

  private raiseCommLost(packId: string, p: PackAlarms): void {
    const want = p.commWanted;
    if (!want) return;
    const ev = this.raise(packId, {
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

  private retryCommLost(): void {
    for (const [id, p] of this.packs) if (p.commWanted && !p.comm) this.raiseCommLost(id, p);
  }

  // ------------------------------------------------------------ store + bus

  private raise(packId: string, fields: NewEvent): AlarmEvent | undefined {
    let id: number;
    try {
      id = this.store.raise({ packId, ...fields });
    } catch (err) {
      this.onError(err);
      return undefined;
    }
    const ev: AlarmEvent = { id, packId, ...fields };
    this.bus.emit({ type: 'alarm', state: 'raised', event: { ...ev } });
    return ev;
  }

  private clear(ev: AlarmEvent, ts: number): boolean {
    const at = Math.max(ts, ev.raisedAt);
    try {
      this.store.clear(ev.id, at);
    } catch (err) {
      this.onError(err);
      return false;
    }
    ev.clearedAt = at;
    this.bus.emit({ type: 'alarm', state: 'cleared', event: { ...ev } });
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

  private findActive(id: number): AlarmEvent | undefined {
    for (const ev of this.site.values()) if (ev.id === id) return ev;
    for (const p of this.packs.values()) {
      if (p.comm?.id === id) return p.comm;
      for (const ev of p.bms.values()) if (ev.id === id) return ev;
      for (const s of p.rules.values()) if (s.event?.id === id) return s.event;
      const o = p.orphans.find((ev) => ev.id === id);
      if (o) return o;
    }
    return undefined;
  }

  /** An event by id from the store (the port has no get-by-id; this scans the history). */
  private lookup(id: number): AlarmEvent | undefined {
    const ev = this.store.list({}).find((x) => x.id === id);
    return ev ? withoutNulls(ev) : undefined;
  }

  /** Takes over an active event loaded from the store. */
  private adopt(ev: AlarmEvent): void {
    if (ev.packId === GATEWAY_ALARM_SCOPE) {
      // Its condition is judged again by whoever sets it (the storage watch, at start).
      if (!this.site.has(ev.code)) this.site.set(ev.code, ev);
      else this.clear(ev, this.now());
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
