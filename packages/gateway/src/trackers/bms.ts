/**
 * The BMS of tracker batteries (issue 17, seed 003; docs/trackers.md "BMS through the
 * tracker"): each enabled tracker of this gateway whose JT/T 808 terminal has connected gets a
 * bus of the run-time site `tracker` with `port: tracker://<serial>` and the configured BMS
 * family, so its pack is an ordinary pack of the gateway: polled (live, history, alarms), and
 * written through the same safe control path as a wired BMS (validation against the range and
 * the chemistry's limits, role, interlocks, read-back, audit).
 *
 * - The pack's id is the device list's pack link (`tracker/<serial>`), so the device's run
 *   status, the GB/T 32960 readings and the polled samples are one pack.
 * - A bus stays once made: while the tracker is away its transport cannot open, the poller
 *   reports the pack offline (comm_lost) and retries; it polls again when the tracker is back.
 * - Enabling, disabling or removing a connected tracker is seen at the next `refresh` (every
 *   15 s by default: one paged read of the online devices), else at its next connection.
 */
import { getProtocol } from '@openbms/protocols';
import {
  parseTrackerUrl,
  trackerEndpoint,
  virtualLinks,
  type VirtualLinks,
} from '@openbms/transport';
import type { DeviceStore, ListedDevice, Origin } from '@openbms/storage';
import type { BusConfig, TrackersConfig } from '../config.js';
import type { RuntimeSite } from '../gateway.js';
import type { PackRef } from '../types.js';

export type TrackerBmsConfig = NonNullable<TrackersConfig['bms']>;

/** The run-time site the tracker buses belong to. */
export const TRACKER_SITE = 'tracker';

/** Bus ids are 1-32 letters, digits, `-`, `_`: a serial that is not one gets no bus. */
const BUS_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/i;

export interface TrackerBmsOptions {
  gateway: {
    readonly identity: Origin;
    setRuntimeSite(site: RuntimeSite): Promise<unknown>;
  };
  devices: Pick<DeviceStore, 'list'>;
  config: TrackerBmsConfig;
  links?: VirtualLinks;
  clock?: () => number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** How often enabled/disabled trackers are looked at again (ms, default 15,000). */
  refreshMs?: number;
}

interface Polled {
  serial: string;
  packId: string;
  name: string;
}

export class TrackerBms {
  private readonly links: VirtualLinks;
  private readonly polled = new Map<string, Polled>();
  private chain: Promise<unknown> = Promise.resolve();
  private off: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: TrackerBmsOptions) {
    this.links = o.links ?? virtualLinks;
  }

  /** Looks at the trackers connected now, then at each that connects. */
  start(): Promise<void> {
    this.off = this.links.onRegister((endpoint) => {
      const serial = parseTrackerUrl(endpoint);
      if (serial) void this.queue(() => this.consider(serial));
    });
    const every = this.o.refreshMs ?? 15_000;
    this.timer = setInterval(() => void this.refresh(), every);
    this.timer.unref?.();
    return this.refresh();
  }

  stop(): void {
    this.off?.();
    clearInterval(this.timer);
  }

  /**
   * Looks again at the trackers connected now (one paged read of the online devices, not a
   * query per tracker): an enabled one gets its bus, a disabled or removed one loses it. A
   * tracker away is looked at again when it connects.
   */
  refresh(): Promise<void> {
    return this.queue(async () => {
      const connected = new Set(
        this.links.endpoints().flatMap((e) => parseTrackerUrl(e)?.toLowerCase() ?? []),
      );
      const me = this.o.gateway.identity;
      const found = new Map<string, ListedDevice>();
      let after: string | undefined;
      do {
        const page = await this.o.devices.list([me.orgId], {
          status: 'online',
          limit: 500,
          now: (this.o.clock ?? Date.now)(),
          ...(after ? { after } : {}),
        });
        for (const d of page.devices) {
          const key = d.serial.toLowerCase();
          if (d.type === 'tracker' && connected.has(key)) found.set(key, d);
        }
        after = page.next;
      } while (after);
      let changed = false;
      for (const key of connected) changed = this.decide(key, found.get(key)) || changed;
      if (changed) await this.apply();
    });
  }

  /** The pack ids polled now. */
  packs(): string[] {
    return [...this.polled.values()].map((p) => p.packId);
  }

  private queue(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn).catch((e: unknown) => {
      this.o.log?.('error', `tracker BMS: ${e instanceof Error ? e.message : String(e)}`);
    });
    this.chain = run;
    return run;
  }

  /** Looks at one tracker that has just connected. */
  private async consider(serial: string): Promise<void> {
    const key = serial.toLowerCase();
    const page = await this.o.devices.list([this.o.gateway.identity.orgId], {
      q: serial,
      limit: 20,
      now: (this.o.clock ?? Date.now)(),
    });
    const d = page.devices.find((x) => x.serial.toLowerCase() === key && x.type === 'tracker');
    if (this.decide(key, d)) await this.apply();
  }

  /** Polls the tracker when its entry says so (enabled, on this gateway); true on a change. */
  private decide(key: string, d: ListedDevice | undefined): boolean {
    const me = this.o.gateway.identity;
    const wanted =
      d &&
      d.activation === 'enabled' &&
      d.gatewayId === me.gatewayId &&
      d.packId &&
      BUS_ID.test(d.serial)
        ? { serial: d.serial, packId: d.packId, name: d.nickname ?? d.serial }
        : undefined;
    const had = this.polled.get(key);
    if (wanted && (!had || had.packId !== wanted.packId || had.name !== wanted.name)) {
      this.polled.set(key, wanted);
      return true;
    }
    if (!wanted && had) {
      this.polled.delete(key);
      return true;
    }
    return false;
  }

  private async apply(): Promise<void> {
    const c = this.o.config;
    const protocol = getProtocol(c.protocol).id;
    const buses = [...this.polled.values()].map((p) => {
      const bus: BusConfig = {
        id: p.serial,
        port: trackerEndpoint(p.serial),
        protocol,
        poll_interval_s: c.poll_interval_s,
        timeout_ms: c.timeout_ms,
        retries: c.retries,
        packs: [
          {
            address: c.address,
            chemistry: c.chemistry,
            allow_unverified: false,
            name: p.name,
            ...(c.variant !== undefined ? { variant: c.variant } : {}),
          },
        ],
      };
      const ref: PackRef = {
        id: p.packId,
        name: p.name,
        site: TRACKER_SITE,
        bus: p.serial,
        address: c.address,
        protocol,
        chemistry: c.chemistry,
        ...(c.variant !== undefined ? { variant: c.variant } : {}),
      };
      return { bus, packs: [ref] };
    });
    await this.o.gateway.setRuntimeSite({ id: TRACKER_SITE, name: 'Trackers', buses });
  }
}
