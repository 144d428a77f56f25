/**
 * Where tracker messages go once decoded (issue 17; docs/trackers.md): the device list entry
 * of the tracker (made when unknown), its positions, and GB/T 32960 battery readings as
 * telemetry samples. Protocol-free: the servers (servers.ts) hand over a serial (IMEI, phone
 * number or VIN), fixes and readings.
 *
 * - **Unknown trackers** are registered as type `tracker`, activation `not_enabled`, owned by
 *   the receiving organisation (`identity.orgId`: the node's own, the platform on `openbms
 *   cloud`), linked to the node's gateway and the pack `tracker/<serial>`, so the device list
 *   shows them under "Not enabled" with their run status. A tracker found anywhere in the
 *   receiving organisation's subtree is used as it is (an expired one keeps reporting). At most
 *   `maxNotEnabled` (default 10,000) wait in the receiving organisation's "Not enabled" list:
 *   beyond that a new serial is refused (LIMIT_REACHED, its connection closed), so a stream of
 *   made-up IMEIs cannot fill the device list; known trackers keep reporting.
 * - **Positions**: fixes without a valid GPS position (or exactly 0,0) are not stored.
 * - **Readings**: stored as telemetry samples of the pack `tracker/<serial>` of the node's
 *   gateway, in the organisation that owns the tracker.
 * - **Alarms** (docs/trackers.md "Alarms"): the catalogue codes a message says are on (its
 *   `alarms`, from alarm-map.ts) are compared with the tracker's active alarm events: a code
 *   newly on is raised at the fix's device time, a code no longer on is cleared at it, so one
 *   episode is one event. Edge alarms (`raise`: GT06 alarm packets, which carry no "off") are
 *   raised when not active and cleared by the next status message that no longer reports them.
 * - **Geofences**: each valid fix is tested against the fences that apply to the device; a
 *   change of inside/outside raises `geofence_enter`/`geofence_exit` (the fence's choice) at
 *   the fix's time and clears the opposite one of that fence. The first fix a fence sees sets
 *   its state without an alarm. States are stored (GeofenceStore.setState, moved only forward
 *   in device time).
 * - **Order**: alarms and fences are evaluated in device-time order; a fix not later than the
 *   last one evaluated for the device (an old blind-area fix, a duplicate frame) is stored but
 *   changes no alarm and no fence state.
 */
import type { Reading } from '@openbms/core';
import { BmsError, isBmsError, trackerAlarmInfo } from '@openbms/core';
import {
  MAX_POSITION_BATCH,
  type AlarmEvent,
  type Geofence,
  type Origin,
  type Position,
  type Scope,
  type Storage,
} from '@openbms/storage';
import { insideFence } from './geofence.js';

/** How often (at most) a tracker's device entry is marked seen. */
const SEEN_EVERY_MS = 30_000;
/** Unknown trackers that may wait in the receiving organisation's "Not enabled" list. */
export const MAX_NOT_ENABLED = 10_000;
/** Devices kept in memory (serial → device); the oldest dropped beyond this. */
const CACHE_MAX = 50_000;

export interface TrackerFix {
  t: number;
  lat: number;
  lon: number;
  valid: boolean;
  speedKmh?: number;
  course?: number;
  altM?: number;
  satellites?: number;
  extras?: Record<string, unknown>;
  /** Catalogue alarm codes on at this fix (level: the others are off); absent: not said. */
  alarms?: readonly string[];
  /** Catalogue alarm codes this message raises as an event (edge: says nothing of the others). */
  raise?: readonly string[];
}

/** An alarm event of a tracker raised or cleared (for the alarm e-mails). */
export interface TrackerAlarmNotice {
  state: 'raised' | 'cleared';
  event: AlarmEvent;
  deviceId: string;
}

export interface TrackerDevice {
  id: string;
  orgId: string;
  packId: string;
}

export interface TrackerIngestOptions {
  storage: Pick<Storage, 'devices' | 'positions' | 'telemetry'> &
    Partial<Pick<Storage, 'alarms' | 'geofences'>>;
  /** The receiving organisation and the node's gateway. */
  identity: Origin;
  clock?: () => number;
  /** How many not-enabled devices the receiving organisation may hold (MAX_NOT_ENABLED). */
  maxNotEnabled?: number;
  /** Told of every tracker alarm event raised or cleared (the server's alarm e-mails). */
  onAlarm?: (n: TrackerAlarmNotice) => void;
  /** How long a device's fence list is reused before it is read again (default 10 s). */
  fenceTtlMs?: number;
}

/** What the ingest keeps per device for alarms and fences (loaded from storage on first use). */
interface DeviceAlarmState {
  /** Device time of the last fix evaluated. */
  lastT: number;
  /** Active events: by code, or `code fenceId` for geofence events. */
  active: Map<string, AlarmEvent>;
  /** The fences that apply, when read, and the inside/outside state of each. */
  fences?: { at: number; list: Geofence[]; inside: Map<string, boolean> };
}

const FENCE_CODES = new Set(['geofence_enter', 'geofence_exit']);

export const trackerPackId = (serial: string): string => `tracker/${serial}`;

/** One call's fixes waiting to be written, and how to tell it the outcome. */
interface Queued {
  ps: Position[];
  done: (e?: unknown) => void;
}

export class TrackerIngest {
  private readonly cache = new Map<string, TrackerDevice & { seenAt: number }>();
  private readonly clock: () => number;
  private readonly states = new Map<string, Promise<DeviceAlarmState>>();
  /** Per device, evaluations run one after another (a connection's frames, in order). */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Counters for logs and metrics. */
  readonly counts = {
    positions: 0,
    duplicates: 0,
    readings: 0,
    registered: 0,
    refused: 0,
    alarms: 0,
    /** Position writes (transactions): fewer than fixes when they are grouped. */
    writes: 0,
  };
  /** Fixes waiting for the write in flight (group commit, `positions`). */
  private readonly queue: Queued[] = [];
  private writing = false;

  constructor(private readonly opts: TrackerIngestOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /** The tracker's device entry, registered as "not enabled" when unknown. */
  async device(serial: string, protocol: string): Promise<TrackerDevice> {
    const key = serial.toLowerCase();
    const hit = this.cache.get(key);
    const now = this.clock();
    if (hit) {
      if (now - hit.seenAt >= SEEN_EVERY_MS) {
        hit.seenAt = now;
        await this.opts.storage.devices!.seen(this.opts.identity.gatewayId, [hit.packId], now);
      }
      return hit;
    }
    const d = (await this.find(serial)) ?? (await this.register(serial, protocol, now));
    const entry = { ...d, seenAt: now };
    await this.opts.storage.devices!.seen(this.opts.identity.gatewayId, [d.packId], now);
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, entry);
    return entry;
  }

  /** The tracker's entry: one lookup of the unique serial index (not a search of the list). */
  private async find(serial: string): Promise<TrackerDevice | undefined> {
    const d = await this.opts.storage.devices!.bySerial([this.opts.identity.orgId], serial);
    return d && { id: d.id, orgId: d.orgId, packId: d.packId ?? trackerPackId(d.serial) };
  }

  private async register(serial: string, protocol: string, now: number): Promise<TrackerDevice> {
    const max = this.opts.maxNotEnabled ?? MAX_NOT_ENABLED;
    const waiting = await this.opts.storage.devices!.counts([this.opts.identity.orgId], { now });
    if (waiting.not_enabled >= max) {
      this.counts.refused++;
      throw new BmsError(
        'LIMIT_REACHED',
        `tracker ${serial} (${protocol}) is unknown and ${waiting.not_enabled} trackers already wait to be enabled (at most ${max}): enable or delete some first`,
        { limit: 'not_enabled' },
      );
    }
    try {
      const d = await this.opts.storage.devices!.create([this.opts.identity.orgId], {
        serial,
        type: 'tracker',
        joinedAt: now,
        createdBy: `tracker:${protocol}`,
        orgId: this.opts.identity.orgId,
        activation: 'not_enabled',
        gatewayId: this.opts.identity.gatewayId,
        packId: trackerPackId(serial),
      });
      this.counts.registered++;
      return { id: d.id, orgId: d.orgId, packId: d.packId! };
    } catch (e) {
      // Another connection (or node) registered it meanwhile: use that one.
      if (isBmsError(e) && e.details?.['field'] === 'serial') {
        const again = await this.find(serial);
        if (again) return again;
      }
      throw e;
    }
  }

  /**
   * Stores the valid fixes (resolved once they are in the database: the caller acks then);
   * returns how many were stored, new or kept already (`counts` tells new from duplicates).
   *
   * Group commit: one write is in flight at a time; the fixes of every connection that arrive
   * meanwhile wait and go together as the next write (at most MAX_POSITION_BATCH). An idle
   * server writes a fix at once; a busy one writes fewer, larger transactions instead of one
   * per fix. A write refused (a bad fix) is retried call by call, so one tracker's fix cannot
   * fail another's.
   */
  async positions(d: TrackerDevice, fixes: readonly TrackerFix[]): Promise<number> {
    const receivedAt = this.clock();
    const ps: Position[] = [];
    for (const f of fixes) {
      if (!f.valid || (f.lat === 0 && f.lon === 0) || !Number.isFinite(f.t)) continue;
      const p: Position = { deviceId: d.id, t: f.t, receivedAt, lat: f.lat, lon: f.lon };
      if (f.speedKmh !== undefined) p.speedKmh = f.speedKmh;
      if (f.course !== undefined) p.course = f.course;
      if (f.altM !== undefined) p.altM = f.altM;
      if (f.satellites !== undefined) p.satellites = f.satellites;
      if (f.extras !== undefined && Object.keys(f.extras).length > 0) p.extras = f.extras;
      ps.push(p);
    }
    if (ps.length > 0)
      await new Promise<void>((resolve, reject) => {
        this.queue.push({ ps, done: (e) => (e === undefined ? resolve() : reject(e)) });
        if (!this.writing) void this.drain();
      });
    if (this.opts.storage.alarms) await this.serial(d.id, () => this.evaluate(d, fixes));
    return ps.length;
  }

  /** Writes the queued fixes, batch after batch, until none wait. */
  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = [this.queue.shift()!];
        let n = batch[0]!.ps.length;
        while (this.queue.length > 0 && n + this.queue[0]!.ps.length <= MAX_POSITION_BATCH) {
          const e = this.queue.shift()!;
          batch.push(e);
          n += e.ps.length;
        }
        this.counts.writes++;
        await this.write(batch);
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(batch: Queued[]): Promise<void> {
    const all = batch.length === 1 ? batch[0]!.ps : batch.flatMap((e) => e.ps);
    try {
      const added = await this.opts.storage.positions!.add(all);
      this.counts.positions += added;
      this.counts.duplicates += all.length - added;
    } catch (e) {
      if (batch.length === 1) return batch[0]!.done(e);
      for (const one of batch) await this.write([one]);
      return;
    }
    for (const one of batch) one.done();
  }

  /**
   * A status message without a fix (GT06 heartbeat): `codes` are the alarms it reports on now;
   * active alarms it no longer reports are cleared, and those it reports raised, at `t` (the
   * receive time) or the last fix's device time if that is later. It carries no device time,
   * so it does not move the device's order (a fix sent just before it still counts).
   */
  async status(d: TrackerDevice, t: number, codes: readonly string[]): Promise<void> {
    if (!this.opts.storage.alarms) return;
    await this.serial(d.id, async () => {
      const st = await this.stateOf(d);
      await this.level(d, st, Math.max(t, st.lastT), new Set(codes));
    });
  }

  // ---------------------------------------------------------------- alarms and fences

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return next;
  }

  private scope(d: TrackerDevice): Scope {
    return { orgIds: [d.orgId], gatewayId: this.opts.identity.gatewayId };
  }

  private stateOf(d: TrackerDevice): Promise<DeviceAlarmState> {
    let p = this.states.get(d.id);
    if (!p) {
      p = (async () => {
        const events = await this.opts.storage.alarms!.list(this.scope(d), {
          packId: d.packId,
          active: true,
          limit: 1000,
        });
        const active = new Map<string, AlarmEvent>();
        let lastT = -Infinity;
        for (const e of events) {
          active.set(e.ruleId && FENCE_CODES.has(e.code) ? `${e.code} ${e.ruleId}` : e.code, e);
          lastT = Math.max(lastT, e.raisedAt);
        }
        return { lastT, active };
      })();
      p.catch(() => this.states.delete(d.id));
      if (this.states.size >= CACHE_MAX) this.states.delete(this.states.keys().next().value!);
      this.states.set(d.id, p);
    }
    return p;
  }

  private async evaluate(d: TrackerDevice, fixes: readonly TrackerFix[]): Promise<void> {
    const st = await this.stateOf(d);
    const sorted = fixes.filter((f) => Number.isFinite(f.t)).sort((a, b) => a.t - b.t);
    for (const f of sorted) {
      if (f.t <= st.lastT) continue; // old or duplicate: changes nothing
      st.lastT = f.t;
      if (f.alarms) await this.level(d, st, f.t, new Set(f.alarms));
      for (const code of f.raise ?? [])
        if (!st.active.has(code)) await this.raise(d, st, code, f.t);
      if (f.valid && !(f.lat === 0 && f.lon === 0) && this.opts.storage.geofences)
        await this.fences(d, st, f);
    }
  }

  /** Codes on now: raise those not active, clear the active ones (not geofence events) not on. */
  private async level(d: TrackerDevice, st: DeviceAlarmState, t: number, on: Set<string>) {
    for (const code of on) if (!st.active.has(code)) await this.raise(d, st, code, t);
    for (const [key, e] of [...st.active])
      if (!FENCE_CODES.has(e.code) && !on.has(key)) await this.clear(d, st, key, t);
  }

  private async raise(
    d: TrackerDevice,
    st: DeviceAlarmState,
    code: string,
    t: number,
    fence?: Geofence,
  ): Promise<void> {
    const info = trackerAlarmInfo(code);
    const e = await this.opts.storage.alarms!.raise(
      { orgId: d.orgId, gatewayId: this.opts.identity.gatewayId },
      {
        packId: d.packId,
        code,
        severity: info?.severity ?? 'warning',
        origin: fence ? 'rule' : 'bms',
        ...(fence ? { ruleId: fence.id } : {}),
        raisedAt: t,
        message: fence
          ? `${info?.label ?? code}: ${fence.name}`
          : `${info?.label ?? code} (reported by the tracker)`,
      },
    );
    st.active.set(fence ? `${code} ${fence.id}` : code, e);
    this.counts.alarms++;
    this.opts.onAlarm?.({ state: 'raised', event: e, deviceId: d.id });
  }

  private async clear(d: TrackerDevice, st: DeviceAlarmState, key: string, t: number) {
    const e = st.active.get(key);
    if (!e) return;
    st.active.delete(key);
    try {
      await this.opts.storage.alarms!.clear(this.scope(d), e.id, Math.max(t, e.raisedAt));
    } catch (err) {
      // Cleared or moved away meanwhile (another node, the device bound elsewhere): forget it.
      if (!(isBmsError(err) && err.code === 'NOT_FOUND')) throw err;
      return;
    }
    this.opts.onAlarm?.({
      state: 'cleared',
      event: { ...e, clearedAt: Math.max(t, e.raisedAt) },
      deviceId: d.id,
    });
  }

  private async fences(d: TrackerDevice, st: DeviceAlarmState, f: TrackerFix): Promise<void> {
    const store = this.opts.storage.geofences!;
    const now = this.clock();
    if (!st.fences) {
      const [list, states] = await Promise.all([
        store.forDevice(d.id, d.orgId),
        store.states(d.id),
      ]);
      st.fences = { at: now, list, inside: new Map(states.map((s) => [s.fenceId, s.inside])) };
    } else if (now - st.fences.at >= (this.opts.fenceTtlMs ?? 10_000)) {
      // One query per device and period: the states stay in memory (this node writes them);
      // a fence new to the device, or whose shape changed (its stored states were dropped),
      // starts unknown, so its next fix sets the state without an alarm.
      const before = new Map(st.fences.list.map((x) => [x.id, JSON.stringify(x.shape)]));
      const list = await store.forDevice(d.id, d.orgId);
      for (const x of list)
        if (before.get(x.id) !== JSON.stringify(x.shape)) st.fences.inside.delete(x.id);
      st.fences = { at: now, list, inside: st.fences.inside };
    }
    for (const fence of st.fences.list) {
      const inside = insideFence(fence.shape, f.lat, f.lon);
      const was = st.fences.inside.get(fence.id);
      if (was === inside) continue;
      if (!(await store.setState(d.id, fence.id, inside, f.t))) {
        // A later fix (another node) set it already: take the stored state.
        const s = (await store.states(d.id)).find((x) => x.fenceId === fence.id);
        if (s) st.fences.inside.set(fence.id, s.inside);
        continue;
      }
      st.fences.inside.set(fence.id, inside);
      const code = inside ? 'geofence_enter' : 'geofence_exit';
      const other = inside ? 'geofence_exit' : 'geofence_enter';
      // An open event that says the opposite (left from before a new shape) ends here.
      await this.clear(d, st, `${other} ${fence.id}`, f.t);
      if (was === undefined) continue; // the first fix this fence sees: no alarm
      if (fence.alarm === 'both' || code === `geofence_${fence.alarm}`)
        await this.raise(d, st, code, f.t, fence);
    }
  }

  /** Stores a battery reading as a telemetry sample of the tracker's pack. */
  async reading(d: TrackerDevice, ts: number, snapshot: Reading): Promise<void> {
    await this.opts.storage.telemetry.writeSamples(
      { orgId: d.orgId, gatewayId: this.opts.identity.gatewayId },
      [{ packId: d.packId, ts, snapshot }],
    );
    this.counts.readings++;
  }
}

/** Fans tracker alarm notices out to listeners (the server's alarm e-mails), in process. */
export class TrackerAlarmHub {
  private readonly listeners = new Set<(n: TrackerAlarmNotice) => void>();
  readonly emit = (n: TrackerAlarmNotice): void => {
    for (const l of this.listeners) l(n);
  };
  subscribe(fn: (n: TrackerAlarmNotice) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
