/**
 * A gateway stand-in for the server's tests: packs held in memory, a real event bus shape,
 * and the real in-process seam (`InProcessGateway`) in front of it, so the server reads it,
 * streams its events and sends it commands exactly as it does a real gateway.
 */
import { InProcessGateway, type ControlPort, type LocalGatewayParts } from '@openbms/gateway';
import { localScope, type AlarmEvent, type AlarmStore, type Origin } from '@openbms/storage';
import type {
  BoxGateway,
  BusInfo,
  GatewayEvent,
  GatewayListener,
  PackStatus,
  SiteInfo,
} from '../gateway-api.js';

export function fakePack(id: string, extra: Partial<PackStatus> = {}): PackStatus {
  const [site = 'home', bus = 'bus1', address = '1'] = id.split('/');
  return {
    id,
    name: `Pack ${address}`,
    site,
    bus,
    address: Number(address),
    protocol: 'pylontech',
    chemistry: 'lfp',
    online: true,
    lastSeen: 1_000,
    snapshot: { voltage_v: 52.1, current_a: 3.2, soc_pct: 81, cell_mv: [3300, 3301, 3302, 3299] },
    link: {
      requests: 10,
      replies: 10,
      retries: 0,
      timeouts: 0,
      checksum_errors: 0,
      polls: 10,
      failures: 0,
    },
    ...extra,
  };
}

export class FakeGateway implements LocalGatewayParts, BoxGateway {
  /** The seam the server reads this gateway through (the real in-process implementation). */
  readonly link: InProcessGateway;
  /** Safe control, when a test gives the gateway one. */
  control?: ControlPort;
  /** The site's zone, when a test sets one (absent: UTC). */
  timeZone?: () => string;
  readonly listeners = new Set<GatewayListener>();
  readonly events = {
    on: (l: GatewayListener) => {
      this.listeners.add(l);
      return () => {
        this.listeners.delete(l);
        for (const w of [...this.waiters]) w();
      };
    },
  };
  private readonly waiters = new Set<() => void>();

  /** Resolves once no listener is left (every WebSocket has let go of the bus). */
  untilNoListeners(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.listeners.size > 0) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }
  /** The alarm events active now, as the gateway's engine keeps them (the API reads them at once). */
  active: AlarmEvent[] = [];

  constructor(
    public packList: PackStatus[],
    private readonly alarms: AlarmStore,
    private readonly clock: () => number,
    private readonly origin: Origin,
  ) {
    this.link = new InProcessGateway(this, { now: clock });
  }

  get identity(): Origin {
    return this.origin;
  }

  emit(e: GatewayEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  packs(): PackStatus[] {
    return this.packList;
  }
  pack(id: string): PackStatus | undefined {
    return this.packList.find((p) => p.id === id);
  }
  sites(): SiteInfo[] {
    return [...new Set(this.packList.map((p) => p.site))].map((id) => ({
      id,
      name: `Site ${id}`,
      time_zone: this.timeZone?.() ?? 'UTC',
    }));
  }
  buses(): BusInfo[] {
    const ids = [...new Set(this.packList.map((p) => `${p.site}/${p.bus}`))];
    return ids.map((key) => {
      const packs = this.packList.filter((p) => `${p.site}/${p.bus}` === key);
      return {
        id: packs[0]?.bus ?? key,
        site: packs[0]?.site ?? '',
        port: 'tcp://127.0.0.1:9000',
        protocol: 'pylontech',
        packs: packs.map((p) => p.id),
      };
    });
  }
  /** Raises an event in the store and keeps it active (as the engine would). */
  async raise(e: Parameters<AlarmStore['raise']>[1]): Promise<AlarmEvent> {
    const ev = await this.alarms.raise(this.origin, e);
    this.active.push(ev);
    return ev;
  }
  /** Clears an event in the store and in the active list. */
  async clear(ev: AlarmEvent, at: number): Promise<void> {
    await this.alarms.clear(localScope(this.origin), ev.id, at);
    this.active = this.active.filter((x) => x.id !== ev.id);
  }
  async acknowledgeAlarm(localId: number, user: string): Promise<boolean> {
    const scope = localScope(this.origin);
    const ev = await this.alarms.get(scope, { localId });
    if (!ev) return false;
    const ok = await this.alarms.acknowledge(scope, ev.id, user, this.clock());
    const a = this.active.find((x) => x.id === ev.id);
    if (ok && a) Object.assign(a, { acknowledgedAt: this.clock(), acknowledgedBy: user });
    return ok;
  }
  activeAlarms(packId?: string): AlarmEvent[] {
    return this.active
      .filter((e) => e.clearedAt === undefined && (packId === undefined || e.packId === packId))
      .map((e) => ({ ...e }))
      .reverse();
  }
  alarmCounts(packId?: string): Promise<Record<string, number>> {
    return this.alarms.counts(localScope(this.origin), packId);
  }
}
