/**
 * The MQTT integration: publishes each pack's canonical state (and seed 001's payloads when
 * chosen), keeps Home Assistant discovery in step with the packs, and takes MOS/SOC
 * commands through the gateway's one safe write path. A broker that is down or goes away
 * is retried with backoff (1 s doubling to 60 s) and shown in `status()`; nothing here
 * throws into the gateway.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { hostTimeZone } from '../../control/clock.js';
import { GATEWAY_ALARM_SCOPE, type DeviceInfo } from '@openbms/core';
import {
  deviceModels,
  filterSnapshot,
  pointShown,
  visiblePoints,
  type AlarmEvent,
  type PointFilter,
  type PointGroup,
} from '@openbms/storage';
import type { EventBus, GatewayEvent, PackStatus } from '../../types.js';
import {
  gatewayDiscovery,
  offeredCommands,
  packDiscovery,
  systemDiscovery,
  systemState,
  topics,
  type DiscoveryContext,
  type DiscoveryMessage,
  type FamilyCapabilities,
} from './discovery.js';
import { TopicNames, legacyName } from './ids.js';
import {
  DailyMax,
  alarmSummary,
  summarizeAlarms,
  heartbeatPayload,
  seedPackPayload,
  statePayload,
} from './payloads.js';
import type { MqttConfig } from './schema.js';

export type MqttLogFn = (level: 'info' | 'warn' | 'error', message: string) => void;

/** The part of ControlService the commands use (validation, interlocks, audit live there). */
export interface MqttControl {
  setMos(
    packId: string,
    which: 'charge' | 'discharge',
    on: boolean,
    user: string,
  ): Promise<unknown>;
  setSoc(packId: string, pct: number, user: string): Promise<unknown>;
  /**
   * What the pack's family can do: discovery offers a MOS switch or a SOC number only where
   * the family has the command (and the pack may send it: not behind the unverified switch).
   */
  capabilities?(packId: string): FamilyCapabilities;
}

export interface MqttIntegrationOptions {
  config: MqttConfig;
  events: EventBus;
  packs(): PackStatus[];
  control?: MqttControl;
  /** The gateway's own active alarms (storage), for `<base>/gateway/alarms`. */
  gatewayAlarms?(): AlarmEvent[];
  log?: MqttLogFn;
  clock?: { now(): number };
  /** The site's IANA time zone (heartbeat time, daily maxima); default the host's. */
  timeZone?: string;
  /**
   * The point groups of the gateway's organisation (storage), for `points_as`; absent: no
   * groups (every role sees every point, as the server's policy has it without a store).
   */
  pointGroups?(): Promise<readonly PointGroup[]>;
}

/**
 * How long the point groups read for `points_as` are reused: read again at the first publish
 * after this (as the server's policy caches them, POINT_GROUPS_TTL_MS in server/src/policy.ts).
 */
export const MQTT_POINT_GROUPS_TTL_MS = 2000;

export interface MqttStatus {
  connected: boolean;
  lastError?: string;
  /** Messages handed to the broker connection. */
  published: number;
  lastPublishAt?: number;
  /** Messages not sent because the broker was unreachable (states are not queued). */
  dropped: number;
  reconnects: number;
  commands: number;
}

export interface CommandResult {
  command: string;
  ok: boolean;
  value?: unknown;
  error?: string;
  code?: string;
  /** The request's `id`, when it was sent as JSON `{"value": ..., "id": "..."}`. */
  id?: string;
}

/** What a command's reply carries back: the request's `id` and its MQTT 5 correlation. */
interface Correlation {
  id?: string;
  correlationData?: Buffer;
  responseTopic?: string;
}

/** The user commands from MQTT are audited as. */
export const MQTT_USER = 'mqtt';
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 60_000;

/** `mqtt://user:secret@host` -> `mqtt://user:***@host`: passwords never reach a log. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
}

export class MqttIntegration {
  private client: MqttClient | undefined;
  private readonly cfg: MqttConfig;
  /** Topic names of the configured packs (rebuilt when the set of packs changes). */
  private namesKey = '\0';
  private t!: ReturnType<typeof topics>;
  private ctx!: DiscoveryContext;
  private readonly baseCtx: Omit<DiscoveryContext, 'names'>;
  private readonly clock: { now(): number };
  private readonly log: MqttLogFn;
  private readonly tz: string;
  private readonly st: MqttStatus = {
    connected: false,
    published: 0,
    dropped: 0,
    reconnects: 0,
    commands: 0,
  };
  private timer: NodeJS.Timeout | undefined;
  private off: (() => void) | undefined;
  private startedAt = 0;
  private failures = 0;
  private readonly lastPublish = new Map<string, number>();
  private readonly info = new Map<string, DeviceInfo>();
  private readonly daily = new Map<string, DailyMax>();
  /** Discovery payloads sent, by topic, and the topics of each owner (pack id, system, gateway). */
  private readonly sent = new Map<string, string>();
  private readonly owned = new Map<string, Set<string>>();
  private readonly signature = new Map<string, string>();
  private indexSeen = false;
  /** The index is published only once the subscription to it is acknowledged (so the previous one is read first). */
  private indexReady = false;
  private lastIndex = '';
  /** `points_as`: the groups last read (undefined until the first read: nothing published). */
  private groups: readonly PointGroup[] | undefined;
  private groupsKey = '';
  private groupsAt = 0;
  private groupsReading = false;

  constructor(private readonly o: MqttIntegrationOptions) {
    this.cfg = o.config;
    this.clock = o.clock ?? { now: () => Date.now() };
    this.log = o.log ?? (() => undefined);
    this.tz = o.timeZone ?? hostTimeZone();
    this.baseCtx = {
      base: this.cfg.base_topic,
      prefix: this.cfg.homeassistant.discovery_prefix,
      commands: {
        mos: this.cfg.commands.enabled && this.cfg.commands.mos && !!o.control,
        soc: this.cfg.commands.enabled && this.cfg.commands.soc && !!o.control,
      },
    };
    this.refreshNames();
  }

  /** Names every configured pack's topics (one name per pack id; see `ids.ts`). */
  private refreshNames(packs: readonly { id: string }[] = this.o.packs()): void {
    const key = packs.map((p) => p.id).join('\n');
    if (key === this.namesKey) return;
    this.namesKey = key;
    const names = new TopicNames(packs.map((p) => p.id));
    this.t = topics(this.cfg.base_topic, names);
    this.ctx = { ...this.baseCtx, names };
  }

  /**
   * The state JSON of a pack: its snapshot's fields, the energy meters included (the gateway
   * counts them in device time and stores them with every sample, see ../../energy.ts).
   */
  private state(p: PackStatus): Record<string, unknown> {
    return statePayload(p.snapshot ?? {}, this.cfg.fields);
  }

  // ------------------------------------------------------------------ point groups

  /**
   * What `points_as` sees of a pack: the server's point rule (`visiblePoints`, storage) for
   * that role of the gateway's organisation, with the pack's device models. `all` without
   * `points_as`; undefined while the groups were never read (the pack is not published yet).
   */
  private filterOf(p: PackStatus): PointFilter | undefined {
    const role = this.cfg.points_as;
    if (role === undefined) return 'all';
    this.readGroups();
    const groups = this.groups;
    if (groups === undefined) return undefined;
    return visiblePoints(
      [{ orgId: 'self', role }],
      () => groups,
      deviceModels(p.protocol ?? p.snapshot?.protocol),
    );
  }

  /** A pack as `points_as` sees it (its snapshot without the hidden points), or undefined. */
  private view(p: PackStatus): PackStatus | undefined {
    const f = this.filterOf(p);
    if (f === undefined) return undefined;
    if (f === 'all' || !p.snapshot) return p;
    return { ...p, snapshot: filterSnapshot(p.snapshot, f) };
  }

  /**
   * Reads the groups again when older than MQTT_POINT_GROUPS_TTL_MS (in the background; the
   * publish at hand uses the ones known). A change publishes everything again, so discovery
   * drops the entities of points now hidden.
   */
  private readGroups(): void {
    if (this.cfg.points_as === undefined || this.groupsReading) return;
    const now = this.clock.now();
    if (this.groups !== undefined && now - this.groupsAt < MQTT_POINT_GROUPS_TTL_MS) return;
    const read = this.o.pointGroups;
    if (!read) {
      this.groups = [];
      this.groupsAt = now;
      return;
    }
    this.groupsReading = true;
    read().then(
      (gs) => {
        this.groupsReading = false;
        this.groupsAt = this.clock.now();
        const key = JSON.stringify(gs.map((g) => [g.roles, g.points]));
        const first = this.groups === undefined;
        this.groups = gs;
        if (!first && key === this.groupsKey) return;
        this.groupsKey = key;
        if (!first) this.daily.clear(); // maxima of points now hidden are not kept
        if (this.started()) this.tick(true);
      },
      (e: unknown) => {
        this.groupsReading = false;
        this.groupsAt = this.clock.now();
        this.error(`MQTT: reading the point groups failed: ${msg(e)}`);
      },
    );
  }

  private started(): boolean {
    return this.client !== undefined;
  }

  status(): MqttStatus {
    return { ...this.st };
  }

  /** Starts connecting (it does not wait for the broker) and publishing. */
  start(): void {
    if (this.client || !this.cfg.enabled) return;
    this.startedAt = this.clock.now();
    let opts: IClientOptions;
    try {
      opts = this.clientOptions();
    } catch (e) {
      this.error(`MQTT not started: ${msg(e)}`);
      return;
    }
    this.log('info', `MQTT: connecting to ${redactUrl(this.cfg.url)} as ${opts.clientId}`);
    const client = mqtt.connect(this.cfg.url, opts);
    this.client = client;
    client.on('connect', () => this.connected());
    client.on('message', (topic, payload, packet) =>
      this.message(topic, payload.toString('utf8'), packet),
    );
    client.on('error', (e) => this.error(`MQTT: ${msg(e)}`));
    client.on('close', () => {
      if (this.st.connected) this.log('warn', 'MQTT: connection closed; reconnecting');
      this.st.connected = false;
      this.failures++;
      client.options.reconnectPeriod = Math.min(
        BACKOFF_MAX_MS,
        BACKOFF_MIN_MS * 2 ** Math.min(this.failures - 1, 10),
      );
    });
    client.on('reconnect', () => this.st.reconnects++);
    this.off = this.o.events.on((e) => this.event(e));
    this.timer = setInterval(() => this.tick(), this.cfg.interval_s * 1000);
    this.timer.unref?.();
  }

  /** Publishes `offline` (a clean stop sends no last will) and disconnects. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.off?.();
    this.off = undefined;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      if (client.connected) {
        await client.publishAsync(this.t.status, 'offline', { qos: 1, retain: true });
      }
    } catch (e) {
      this.error(`MQTT: publishing offline failed: ${msg(e)}`);
    }
    await client.endAsync(!client.connected).catch(() => undefined);
    this.st.connected = false;
  }

  /** Publishes every pack's state now and resolves when the broker connection took it all. */
  async flush(): Promise<void> {
    const c = this.client;
    if (!c?.connected) return;
    const jobs: Promise<unknown>[] = [];
    for (const p of this.o.packs().map((x) => this.view(x))) {
      if (!p?.snapshot) continue;
      const payload = JSON.stringify(this.state(p));
      jobs.push(c.publishAsync(this.t.state(p.id), payload, this.stateOpts()));
      this.count();
    }
    await Promise.all(jobs);
  }

  // ------------------------------------------------------------------ connection

  private clientOptions(): IClientOptions {
    const c = this.cfg;
    const opts: IClientOptions = {
      clientId:
        c.client_id ?? `openbms-${legacyName(c.base_topic)}-${randomBytes(4).toString('hex')}`,
      protocolVersion: c.protocol_version,
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: BACKOFF_MIN_MS,
      queueQoSZero: false,
      will: { topic: this.t.status, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    if (c.username !== undefined) opts.username = c.username;
    if (c.password !== undefined) opts.password = c.password;
    if (c.tls) {
      const read = (what: string, path: string | undefined): Buffer | undefined => {
        if (path === undefined) return undefined;
        try {
          return readFileSync(path);
        } catch (e) {
          throw new Error(`cannot read tls.${what} ${path}: ${msg(e)}`);
        }
      };
      const ca = read('ca', c.tls.ca);
      const cert = read('cert', c.tls.cert);
      const key = read('key', c.tls.key);
      if (ca) opts.ca = ca;
      if (cert) opts.cert = cert;
      if (key) opts.key = key;
      opts.rejectUnauthorized = !c.tls.insecure;
    }
    return opts;
  }

  private connected(): void {
    const c = this.client;
    if (!c) return;
    this.st.connected = true;
    this.indexReady = false;
    delete this.st.lastError;
    this.failures = 0;
    c.options.reconnectPeriod = BACKOFF_MIN_MS;
    this.log('info', `MQTT: connected to ${redactUrl(this.cfg.url)}`);
    this.pub(this.t.status, 'online', { qos: 1, retain: true });
    const subs: string[] = [];
    if (this.cfg.homeassistant.enabled) subs.push(this.haStatusTopic(), this.t.index);
    if (this.cfg.commands.enabled) subs.push(`${this.cfg.base_topic}/+/set/+`);
    if (subs.length) {
      c.subscribe(subs, { qos: 1 }, (err) => {
        if (err) this.error(`MQTT: subscribe failed: ${msg(err)}`);
        this.indexReady = true;
        this.pubIndex();
      });
    }
    // Everything again: the broker may have restarted without persistence.
    this.sent.clear();
    this.signature.clear();
    for (const p of this.o.packs()) this.pubAvailability(p.id, p.online);
    this.tick(true);
  }

  private haStatusTopic(): string {
    return (
      this.cfg.homeassistant.status_topic ?? `${this.cfg.homeassistant.discovery_prefix}/status`
    );
  }

  private error(m: string): void {
    this.st.lastError = m;
    this.log('error', m);
  }

  private stateOpts(): { qos: 0 | 1 | 2; retain: boolean } {
    return { qos: this.cfg.qos, retain: this.cfg.retain };
  }

  private count(): void {
    this.st.published++;
    this.st.lastPublishAt = this.clock.now();
  }

  private pub(
    topic: string,
    payload: string,
    opts: {
      qos: 0 | 1 | 2;
      retain: boolean;
      properties?: { correlationData: Buffer };
    },
  ): void {
    const c = this.client;
    if (!c?.connected) {
      this.st.dropped++;
      return;
    }
    c.publish(topic, payload, opts, (err) => {
      if (err) this.error(`MQTT: publish to ${topic} failed: ${msg(err)}`);
    });
    this.count();
  }

  // ------------------------------------------------------------------ publishing

  private event(e: GatewayEvent): void {
    if (e.type === 'snapshot') {
      if (e.snapshot.info)
        this.info.set(e.packId, { ...this.info.get(e.packId), ...e.snapshot.info });
      const p = this.o.packs().find((x) => x.id === e.packId);
      // The daily maxima see only the points shown (none while the groups are unknown).
      const f = p ? this.filterOf(p) : 'all';
      let d = this.daily.get(e.packId);
      if (!d) this.daily.set(e.packId, (d = new DailyMax(this.tz)));
      d.update(filterSnapshot(e.snapshot, f ?? new Set()), this.clock.now());
      const last = this.lastPublish.get(e.packId);
      if (last !== undefined && this.clock.now() - last < this.cfg.interval_s * 1000) return;
      if (p) this.publishPack(p);
    } else if (e.type === 'online') {
      this.pubAvailability(e.packId, e.online);
    } else if (e.event.packId === GATEWAY_ALARM_SCOPE) {
      // The engine lists the event as active once its emit has returned.
      queueMicrotask(() => this.pubGatewayAlarms());
    }
  }

  /** The gateway's own alarms, summarized like a pack's (retained: a late subscriber sees them). */
  private pubGatewayAlarms(): void {
    const list = this.o.gatewayAlarms?.();
    if (!list) return;
    this.pub(this.t.gatewayAlarms, JSON.stringify(summarizeAlarms(list)), { qos: 1, retain: true });
  }

  private pubAvailability(id: string, online: boolean): void {
    this.pub(this.t.availability(id), online ? 'online' : 'offline', { qos: 1, retain: true });
  }

  /** Each interval: every pack not published in the last half interval, systems, heartbeats. */
  private tick(all = false): void {
    if (!this.client?.connected) return;
    const now = this.clock.now();
    const packs = this.o.packs();
    this.refreshNames(packs);
    // What `points_as` sees; a pack whose points are not known yet is not published.
    const seen = packs.flatMap((p) => this.view(p) ?? []);
    if (this.cfg.homeassistant.enabled) this.discoverFixed(packs);
    if (all) this.pubGatewayAlarms();
    for (const p of packs) {
      const last = this.lastPublish.get(p.id);
      if (all || last === undefined || now - last >= this.cfg.interval_s * 500) this.publishPack(p);
      if (this.cfg.compat.heartbeat) {
        const hb = heartbeatPayload({
          online: p.online,
          now,
          startedAt: this.startedAt,
          rssBytes: process.memoryUsage.rss(),
          timeZone: this.tz,
        });
        this.pub(this.t.compat(p.id, 'heartbeat'), JSON.stringify(hb), this.stateOpts());
      }
    }
    if (this.cfg.homeassistant.enabled) {
      for (const [key, group] of buses(seen)) {
        const [site, bus] = key.split('\n') as [string, string];
        this.pub(this.t.system(site, bus), JSON.stringify(systemState(group)), this.stateOpts());
      }
    }
  }

  private publishPack(pack: PackStatus): void {
    const p = this.view(pack);
    if (!p?.snapshot || !this.client?.connected) return;
    this.lastPublish.set(p.id, this.clock.now());
    this.refreshNames();
    const state = this.state(p);
    const opts = this.stateOpts();
    this.pub(this.t.state(p.id), JSON.stringify(state), opts);
    this.pub(this.t.alarms(p.id), JSON.stringify(alarmSummary(p.snapshot)), opts);
    const compat = this.cfg.compat;
    if (compat.pack !== 'off') {
      this.pub(
        this.t.compat(p.id, 'pack'),
        JSON.stringify(seedPackPayload(p.snapshot, compat.pack)),
        opts,
      );
    }
    if (compat.daily_max) {
      const d = this.daily.get(p.id)?.payload();
      if (d) this.pub(this.t.compat(p.id, 'daily_max'), JSON.stringify(d), opts);
    }
    if (this.cfg.homeassistant.enabled) this.discoverPack(p, state);
  }

  // ------------------------------------------------------------------ discovery

  /** The gateway and one device per bus (they do not depend on snapshots). */
  private discoverFixed(packs: PackStatus[]): void {
    this.sendOwned('gateway', gatewayDiscovery(this.ctx));
    for (const [key, group] of buses(packs)) {
      const [site, bus] = key.split('\n') as [string, string];
      // An aggregate has an entity when `points_as` sees its point on a pack of the bus.
      const filters = group.map((p) => this.filterOf(p));
      if (filters.includes(undefined)) continue; // groups not read yet
      const shown = (k: string): boolean => filters.some((f) => pointShown(f!, k));
      this.sendOwned(`system:${site}/${bus}`, systemDiscovery(site, bus, this.ctx, shown));
    }
    this.pubIndex();
  }

  /** The discovery context of one pack: its commands only where its family has them. */
  private packCtx(packId: string): DiscoveryContext {
    const caps = (() => {
      try {
        return this.o.control?.capabilities?.(packId);
      } catch {
        return undefined;
      }
    })();
    return { ...this.ctx, commands: offeredCommands(this.ctx.commands, caps) };
  }

  private discoverPack(p: PackStatus, state: Record<string, unknown>): void {
    const info = this.info.get(p.id) ?? p.snapshot?.info;
    const sigBase = JSON.stringify([
      this.namesKey,
      p.name,
      Object.keys(state).map((k) => [
        k,
        Array.isArray(state[k]) ? (state[k] as unknown[]).length : 0,
      ]),
      info ?? null,
    ]);
    const serial = info?.serial;
    const shared =
      serial !== undefined &&
      [...this.info].some(([id, other]) => id !== p.id && other.serial === serial);
    const sig = `${sigBase}\n${shared}`;
    if (this.signature.get(p.id) === sig) return;
    this.signature.set(p.id, sig);
    this.sendOwned(p.id, packDiscovery(p, state, info, this.packCtx(p.id), shared));
    this.pubIndex();
  }

  /** Sends changed configs of an owner and empties (removes) the ones it no longer has. */
  private sendOwned(owner: string, msgs: DiscoveryMessage[]): void {
    const now = new Set<string>();
    for (const m of msgs) {
      now.add(m.topic);
      const json = JSON.stringify(m.payload);
      if (this.sent.get(m.topic) === json) continue;
      this.sent.set(m.topic, json);
      this.pub(m.topic, json, { qos: 1, retain: true });
    }
    for (const topic of this.owned.get(owner) ?? []) {
      if (!now.has(topic)) this.remove(topic);
    }
    this.owned.set(owner, now);
  }

  private remove(topic: string): void {
    this.sent.delete(topic);
    this.pub(topic, '', { qos: 1, retain: true });
  }

  /** The retained list of discovery topics by owner, so a later run can remove stale ones. */
  private pubIndex(): void {
    const index: Record<string, string[]> = {};
    for (const [owner, set] of [...this.owned].sort(([a], [b]) => a.localeCompare(b))) {
      index[owner] = [...set].sort();
    }
    const json = JSON.stringify(index);
    if (!this.indexReady || json === this.lastIndex) return;
    this.lastIndex = json;
    this.pub(this.t.index, json, { qos: 1, retain: true });
  }

  /** The previous run's index: owners no longer configured lose their entities. */
  private previousIndex(payload: string): void {
    if (this.indexSeen) return;
    this.indexSeen = true;
    let index: Record<string, unknown>;
    try {
      index = JSON.parse(payload) as Record<string, unknown>;
    } catch {
      return;
    }
    const packs = this.o.packs();
    const live = new Set<string>([
      'gateway',
      ...packs.map((p) => p.id),
      ...[...buses(packs).keys()].map((k) => `system:${k.replace('\n', '/')}`),
    ]);
    for (const [owner, list] of Object.entries(index ?? {})) {
      if (!Array.isArray(list)) continue;
      const topicsOf = list.filter((x): x is string => typeof x === 'string');
      if (live.has(owner)) {
        // Kept: merged, so the next discovery of this owner removes what it no longer has.
        const set = this.owned.get(owner) ?? new Set<string>();
        for (const t of topicsOf) set.add(t);
        this.owned.set(owner, set);
        this.signature.delete(owner);
      } else {
        for (const t of topicsOf) this.remove(t);
        this.log(
          'info',
          `MQTT: removed Home Assistant entities of ${owner} (no longer configured)`,
        );
      }
    }
    this.lastIndex = '';
    this.tick(true);
  }

  // ------------------------------------------------------------------ messages and commands

  private message(topic: string, payload: string, packet?: IPublishPacket): void {
    try {
      if (topic === this.haStatusTopic()) {
        if (payload.trim().toLowerCase() === 'online') {
          this.log('info', 'MQTT: Home Assistant is online; re-sending discovery');
          this.sent.clear();
          this.signature.clear();
          this.tick(true);
        }
      } else if (topic === this.t.index) {
        this.previousIndex(payload);
      } else if (this.cfg.commands.enabled && topic.startsWith(`${this.cfg.base_topic}/`)) {
        const rest = topic.slice(this.cfg.base_topic.length + 1).split('/');
        if (rest.length === 3 && rest[1] === 'set') {
          const props = packet?.properties;
          const corr: Correlation = {};
          if (props?.correlationData) corr.correlationData = Buffer.from(props.correlationData);
          if (props?.responseTopic) corr.responseTopic = props.responseTopic;
          void this.command(rest[0]!, rest[2]!, payload, corr);
        }
      }
    } catch (e) {
      this.error(`MQTT: message on ${topic} failed: ${msg(e)}`);
    }
  }

  private async command(
    packSlug: string,
    what: string,
    payload: string,
    corr: Correlation,
  ): Promise<void> {
    this.st.commands++;
    this.refreshNames();
    const packId = this.ctx.names.packOf(packSlug);
    const pack = this.o.packs().find((p) => p.id === packId);
    let text = payload.trim();
    let idError: string | undefined;
    // `{"value": "ON", "id": "req-1"}`: the value as the plain payload would be, and an id the
    // result echoes (MQTT 3.1.1 has no correlation data).
    if (text.startsWith('{')) {
      const req = requestObject(text);
      if (typeof req === 'string') idError = req;
      else {
        text = req.value;
        if (req.id !== undefined) corr.id = req.id;
      }
    }
    const reply = (r: CommandResult): void => {
      const out = JSON.stringify(corr.id !== undefined ? { ...r, id: corr.id } : r);
      const opts = {
        qos: 1 as const,
        retain: false,
        ...(corr.correlationData ? { properties: { correlationData: corr.correlationData } } : {}),
      };
      this.pub(`${this.cfg.base_topic}/${packSlug}/result`, out, opts);
      // MQTT 5 request/response: the reply also goes where the request asked (not to our own
      // command topics, and never to a wildcard).
      const rt = corr.responseTopic;
      if (rt && !/[#+]/.test(rt) && !rt.startsWith(`${this.cfg.base_topic}/`))
        this.pub(rt, out, opts);
    };
    const fail = (code: string, error: string): void =>
      reply({ command: what, ok: false, error, code });
    if (!pack) return fail('NOT_FOUND', `no pack ${packSlug}`);
    if (idError !== undefined) return fail('REQUEST_INVALID', idError);
    const control = this.o.control;
    try {
      if (what === 'charge_mos' || what === 'discharge_mos') {
        if (!this.cfg.commands.mos || !control) {
          return fail('COMMAND_REFUSED', `MOS commands are disabled (mqtt.commands.mos)`);
        }
        const on = onOff(text);
        if (on === undefined) {
          return fail(
            'REQUEST_INVALID',
            `payload must be ON or OFF (or true / false), got "${text.slice(0, 20)}"`,
          );
        }
        await control.setMos(
          pack.id,
          what === 'charge_mos' ? 'charge' : 'discharge',
          on,
          MQTT_USER,
        );
        reply({ command: what, ok: true, value: on ? 'ON' : 'OFF' });
      } else if (what === 'soc') {
        if (!this.cfg.commands.soc || !control) {
          return fail('COMMAND_REFUSED', `SOC commands are disabled (mqtt.commands.soc)`);
        }
        const pct = decimal(text);
        if (pct === undefined) {
          return fail(
            'REQUEST_INVALID',
            `payload must be a decimal number 0..100 (like 55 or 55.5), got "${text.slice(0, 20)}"`,
          );
        }
        await control.setSoc(pack.id, pct, MQTT_USER);
        reply({ command: what, ok: true, value: pct });
      } else {
        return fail(
          'REQUEST_INVALID',
          `unknown command "${what}"; accepted: charge_mos, discharge_mos, soc`,
        );
      }
      // Show the switched state without waiting for the next interval.
      const fresh = this.o.packs().find((p) => p.id === pack.id);
      if (fresh) this.publishPack(fresh);
    } catch (e) {
      const code = (e as { code?: unknown })?.code;
      reply({
        command: what,
        ok: false,
        error: msg(e),
        ...(typeof code === 'string' ? { code } : {}),
      });
    }
  }
}

/**
 * A MOS command payload: Home Assistant's (and IoT MQTT Panel's) `ON` / `OFF`, or JSON's
 * `true` / `false`. Nothing else: `1`, `0`, `null` or `on` are refused, not guessed at.
 */
function onOff(s: string): boolean | undefined {
  if (s === 'ON' || s === 'true') return true;
  if (s === 'OFF' || s === 'false') return false;
  return undefined;
}

/**
 * A JSON command `{"value": "ON" | "OFF" | true | false | <number>, "id"?: "<1..64 chars>"}`,
 * its value as the plain payload's text; or why it is refused (nothing else is accepted).
 */
function requestObject(s: string): { value: string; id?: string } | string {
  let o: unknown;
  try {
    o = JSON.parse(s);
  } catch {
    return 'payload is neither a plain value nor valid JSON';
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    return 'a JSON payload must be an object {"value": ..., "id": "..."}';
  const extra = Object.keys(o).filter((k) => k !== 'value' && k !== 'id');
  if (extra.length) return `unknown key "${extra[0]}" (accepted: value, id)`;
  const { value, id } = o as { value?: unknown; id?: unknown };
  if (id !== undefined && (typeof id !== 'string' || id.length < 1 || id.length > 64))
    return 'id must be a string of 1..64 characters';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)))
    text = String(value);
  else return 'value must be "ON", "OFF", true, false or a number';
  return id !== undefined ? { value: text, id } : { value: text };
}

/** A plain decimal number (`55`, `55.5`, `-1`); no hex, exponent, sign-only or empty text. */
function decimal(s: string): number | undefined {
  return /^-?\d{1,6}(\.\d{1,6})?$/.test(s) ? Number(s) : undefined;
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Packs grouped by `site\nbus`. */
function buses(packs: PackStatus[]): Map<string, PackStatus[]> {
  const out = new Map<string, PackStatus[]>();
  for (const p of packs) {
    const k = `${p.site}\n${p.bus}`;
    const g = out.get(k);
    if (g) g.push(p);
    else out.set(k, [p]);
  }
  return out;
}
