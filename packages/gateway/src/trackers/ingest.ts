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
 */
import type { Reading } from '@openbms/core';
import { BmsError, isBmsError } from '@openbms/core';
import { MAX_POSITION_BATCH, type Origin, type Position, type Storage } from '@openbms/storage';

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
}

export interface TrackerDevice {
  id: string;
  orgId: string;
  packId: string;
}

export interface TrackerIngestOptions {
  storage: Pick<Storage, 'devices' | 'positions' | 'telemetry'>;
  /** The receiving organisation and the node's gateway. */
  identity: Origin;
  clock?: () => number;
  /** How many not-enabled devices the receiving organisation may hold (MAX_NOT_ENABLED). */
  maxNotEnabled?: number;
}

export const trackerPackId = (serial: string): string => `tracker/${serial}`;

/** One call's fixes waiting to be written, and how to tell it the outcome. */
interface Queued {
  ps: Position[];
  done: (e?: unknown) => void;
}

export class TrackerIngest {
  private readonly cache = new Map<string, TrackerDevice & { seenAt: number }>();
  private readonly clock: () => number;
  /** Counters for logs and metrics. */
  readonly counts = {
    positions: 0,
    duplicates: 0,
    readings: 0,
    registered: 0,
    refused: 0,
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
    if (ps.length === 0) return 0;
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ ps, done: (e) => (e === undefined ? resolve() : reject(e)) });
      if (!this.writing) void this.drain();
    });
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

  /** Stores a battery reading as a telemetry sample of the tracker's pack. */
  async reading(d: TrackerDevice, ts: number, snapshot: Reading): Promise<void> {
    await this.opts.storage.telemetry.writeSamples(
      { orgId: d.orgId, gatewayId: this.opts.identity.gatewayId },
      [{ packId: d.packId, ts, snapshot }],
    );
    this.counts.readings++;
  }
}
