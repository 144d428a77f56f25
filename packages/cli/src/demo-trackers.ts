/**
 * The demo's e-bike batteries (docs/trackers.md "Demo"): on `openbms cloud` in demo mode,
 * DEMO_RIDERS simulated JT/T 808 trackers (packages/simulator tracker.ts) ride around the
 * demo's Hamburg site and report to this node's own tracker server every RIDE_STEP_S, so the
 * console's maps show batteries moving.
 *
 * - Each is registered in the device list first (serial = its phone number, type tracker,
 *   enabled, in a demo organisation, linked to the node's gateway so its run status is live);
 *   a serial registered already (an earlier start, another node) is left as it is.
 * - A rider resumes where its last stored fix is (or starts near the city) and first uploads
 *   the last BACKFILL_MIN minutes it "rode" while the node was down, as one blind-area batch
 *   after another, so the Track and Mileage tabs have something at once.
 * - Riders are plain TCP clients of the server: the same path a real tracker takes.
 */
import { prng } from '@openbms/core';
import {
  createSimulation,
  ride,
  TrackerSim,
  type RoutePoint,
  type SimBus,
} from '@openbms/simulator';
import type { DeviceStore, Org, Origin, PositionStore } from '@openbms/storage';
import { trackerPackId } from '@openbms/gateway';

export const DEMO_RIDERS = 12;
/** Seconds between a rider's fixes. */
export const RIDE_STEP_S = 5;
const BACKFILL_MIN = 30;
/** Fixes per blind-area batch (a JT/T 808 body stays under 1 KB). */
const BATCH = 15;

/** Where they ride: the Harbour Cafe's city. */
export const DEMO_CITY = { name: 'Hamburg', lat: 53.5511, lon: 9.9937 };

/** The organisations the riders belong to, in turn (by name; absent ones are skipped). */
const OWNERS = [
  'Harbour Cafe',
  'Lin Family',
  'Hill School',
  'North Energy Dealer',
  'Green Farm Co-op',
  'Park Homes',
];

export interface DemoRider {
  serial: string;
  nickname: string;
  orgId: string;
}

/** The riders' phone numbers: 11 digits, the JT/T 808 serial the server derives. */
export const riderSerial = (i: number): string => `1390000${String(i + 1).padStart(4, '0')}`;

/** Registers the riders in the device list (once) and answers them. */
export async function registerDemoRiders(
  devices: DeviceStore,
  orgs: readonly Org[],
  identity: Origin,
  now: number,
): Promise<DemoRider[]> {
  const owners = OWNERS.map((n) => orgs.find((o) => o.name === n)).filter(
    (o): o is Org => o !== undefined,
  );
  if (owners.length === 0) return [];
  const riders: DemoRider[] = [];
  for (let i = 0; i < DEMO_RIDERS; i++) {
    const org = owners[i % owners.length]!;
    const serial = riderSerial(i);
    const nickname = `E-bike ${i + 1}`;
    try {
      await devices.create([org.id], {
        serial,
        type: 'tracker',
        nickname,
        model: 'EB-48V-GPS',
        manufacturer: 'OpenBMS demo',
        joinedAt: now,
        createdBy: 'demo',
        orgId: org.id,
        activation: 'enabled',
        gatewayId: identity.gatewayId,
        packId: trackerPackId(serial),
      });
    } catch (e) {
      // Registered by an earlier start (or another node): keep it as it is now.
      if ((e as { details?: { field?: string } }).details?.field !== 'serial') throw e;
    }
    riders.push({ serial, nickname, orgId: org.id });
  }
  return riders;
}

export interface RidersOptions {
  host: string;
  port: number;
  riders: readonly DemoRider[];
  devices: DeviceStore;
  positions: PositionStore;
  /** The organisation the riders are looked up in (the platform). */
  within: readonly string[];
  log: (level: 'info' | 'warn', message: string) => void;
  clock?: () => number;
  /**
   * Each rider carries a simulated BMS of this family behind its JT/T 808 pass-through (the
   * demo's `trackers.bms` polls it), so the tracker page's BMS tab has a battery to show.
   */
  bms?: { protocol: string; chemistry: 'lfp' | 'nmc' };
}

export interface Riders {
  /** Resolves once every rider has connected and uploaded its backfill. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** Starts the riders; each reconnects after a failure until closed. */
export function startDemoRiders(o: RidersOptions): Riders {
  const clock = o.clock ?? Date.now;
  let closed = false;
  /** Sleeps in progress: close() ends them at once. */
  const sleeping = new Map<NodeJS.Timeout, () => void>();
  const sims = new Set<TrackerSim>();
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        sleeping.delete(t);
        resolve();
      }, ms);
      sleeping.set(t, resolve);
    });

  async function lastFix(serial: string) {
    const page = await o.devices.list(o.within, { q: serial, limit: 5, now: clock() });
    const d = page.devices.find((x) => x.serial === serial);
    if (!d) return undefined;
    const [p] = await o.positions.latest([d.id]);
    return p;
  }

  async function run(r: DemoRider, i: number, ready: () => void): Promise<void> {
    const rand = prng(1000 + i);
    const now = clock();
    const last = await lastFix(r.serial);
    const since = now - BACKFILL_MIN * 60_000;
    const start =
      last && Math.abs(last.lat - DEMO_CITY.lat) < 0.3 && Math.abs(last.lon - DEMO_CITY.lon) < 0.5
        ? { lat: last.lat, lon: last.lon }
        : {
            lat: DEMO_CITY.lat + (rand() - 0.5) * 0.04,
            lon: DEMO_CITY.lon + (rand() - 0.5) * 0.06,
          };
    const t0 = Math.max(since, (last?.t ?? 0) + RIDE_STEP_S * 1000);
    const route = ride({ seed: 2000 + i + Math.floor(now / 86_400_000), start, t0, stepS: 5 });
    let soc = 95 - i * 4;
    // One BMS per rider for the whole run (its state outlives a reconnection).
    const bms: SimBus | undefined = o.bms
      ? createSimulation({
          protocol: o.bms.protocol,
          chemistry: o.bms.chemistry,
          cells: o.bms.chemistry === 'lfp' ? 16 : 13,
          capacityAh: 20,
          profile: 'ebike',
          seed: 3000 + i,
          initialSocPct: soc,
        }).bus
      : undefined;
    let pending: RoutePoint | undefined;
    let first = true;
    while (!closed) {
      const sim = new TrackerSim({
        protocol: 'jt808',
        host: o.host,
        port: o.port,
        id: r.serial,
        socPct: soc,
        batteryV: 40 + soc * 0.14,
        ...(bms ? { bms } : {}),
      });
      sims.add(sim);
      try {
        await sim.connect();
        // What it rode while away, in blind-area batches, then one fix per step.
        let batch: RoutePoint[] = [];
        for (;;) {
          const p = pending ?? route.next().value!;
          pending = p;
          if (p.t > clock()) break;
          batch.push(p);
          pending = undefined;
          if (batch.length === BATCH) {
            await sim.reportBatch(batch);
            batch = [];
          }
        }
        if (batch.length > 0) await sim.reportBatch(batch);
        if (first) {
          first = false;
          ready();
        }
        while (!closed) {
          const p = pending ?? route.next().value!;
          pending = p;
          const ahead = p.t - clock();
          if (ahead > 0) await wait(ahead);
          if (closed) break;
          if (!p.stopped) soc = Math.max(5, soc - 0.02);
          sim.battery = { socPct: soc, volts: 40 + soc * 0.14 };
          await sim.report(p);
          pending = undefined;
        }
      } catch (e) {
        if (closed) break;
        o.log('warn', `demo tracker ${r.serial}: ${(e as Error).message}; again in 5 s`);
        if (first) {
          first = false;
          ready();
        }
        await wait(5000);
      } finally {
        sim.close();
        sims.delete(sim);
      }
    }
  }

  const runs: Promise<void>[] = [];
  const ready = Promise.all(
    o.riders.map(
      (r, i) =>
        new Promise<void>((resolve) => {
          runs.push(
            run(r, i, resolve).catch((e: unknown) => {
              o.log('warn', `demo tracker ${r.serial} stopped: ${(e as Error).message}`);
              resolve();
            }),
          );
        }),
    ),
  ).then(() => undefined);
  return {
    ready,
    close: async () => {
      closed = true;
      for (const [t, wake] of sleeping) {
        clearTimeout(t);
        wake();
      }
      sleeping.clear();
      for (const s of sims) s.close();
      await Promise.all(runs);
    },
  };
}
