/**
 * The cloud side of the collector uplink (issue 15, docs/collectors.md, ADR 0019): ingest of
 * the collectors' `up` batches, their status, the replies to this node's downlinks, and one
 * `CollectorLink` per claimed collector in the server's gateway registry. It is the server's
 * `UplinkPort` (routes/collectors.ts calls it at claim and revoke).
 *
 * Ingest is idempotent and acknowledges only what it stored: a batch is decoded, checked with
 * the contract's schema, refused when it is not from a claimed, unrevoked collector or names
 * another gateway than the collector's own; its pack ids become fleet ids
 * (`<serial>/<packId>`) and its alarms take the collector's cloud organisation; snapshots go to
 * the telemetry store (insert-or-ignore under pack and time), alarm events to the alarm store
 * (found again by pack, code and raise time, so a second delivery changes nothing), and then
 * the `ack` names exactly the envelopes of the batch. Nothing a collector sends can crash the
 * node: every refusal is counted (`counts()`) and logged in a short line.
 */
import {
  collectorStatusSchema,
  replySchema,
  uplinkBatchSchema,
  uplinkTopics,
  SERIAL_PATTERN,
  type GatewayEnvelope,
  type SeqRange,
  type UplinkBatch,
} from '@openbms/contract/gateway';
import { BmsError, ERROR_CODE_LIST, type ErrorCode } from '@openbms/core';
import { decodeUplink, encodeUplink } from '@openbms/gateway';
import {
  newId,
  type AlarmStore,
  type RemoteCollector,
  type RemoteCollectorStore,
  type Sample,
  type TelemetryStore,
} from '@openbms/storage';
import type { GatewayRegistry } from '../gateways.js';
import type { UplinkPort } from '../uplink.js';
import { CollectorLink, fleetPackId, type DownlinkBody, type Requester } from './link.js';
import type { Counts, UplinkHandlers, UplinkTransport } from './transport.js';

export interface CollectorUplinkOptions {
  transport: UplinkTransport;
  collectors: RemoteCollectorStore;
  telemetry: TelemetryStore;
  alarms: AlarmStore;
  registry: GatewayRegistry;
  /** This node's id (its reply topic `res/<nodeId>`). */
  nodeId: string;
  /** What collectors are told to connect to. */
  brokerUrl: string;
  counts: Counts;
  log: (level: 'info' | 'warn', message: string) => void;
  clock?: () => number;
  /** How often the claimed collectors are read again (a claim on another node). Default 10 s. */
  refreshMs?: number;
}

type Claimed = RemoteCollector & { orgId: string };

interface Pending {
  serial: string;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

const CACHE_MS = 10_000;
const SEEN_EVERY_MS = 60_000;

export class CollectorUplink implements UplinkPort, Requester {
  private readonly links = new Map<string, CollectorLink>();
  private readonly pending = new Map<string, Pending>();
  /** Collectors by serial as last read (undefined: not claimed), with when. */
  private readonly cache = new Map<string, { c: Claimed | undefined; at: number }>();
  private readonly seenAt = new Map<string, number>();
  /** Alarm events are stored one batch at a time per collector (find-then-write). */
  private readonly alarmQueue = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;
  private closed = false;

  constructor(private readonly o: CollectorUplinkOptions) {
    this.clock = o.clock ?? Date.now;
    o.registry.controlsLater = true; // collectors run commands
  }

  /** Refused and dropped messages by reason, and stored envelopes (`stored`). */
  counts(): Readonly<Counts> {
    return { ...this.o.counts };
  }

  private count(key: string, n = 1): void {
    this.o.counts[key] = (this.o.counts[key] ?? 0) + n;
  }

  /** Starts the transport and serves every claimed collector. */
  async start(): Promise<void> {
    const h: UplinkHandlers = {
      store: (s, p, live) => this.ingest(s, p, live),
      live: (s, p) => void this.live(s, p),
      status: (s, p) => void this.status(s, p),
      reply: (s, p) => this.reply(s, p),
      gone: (s) => this.links.get(s)?.setOnline(false, this.clock()),
    };
    await this.refresh();
    await this.o.transport.start(h);
    const every = this.o.refreshMs ?? 10_000;
    this.timer = setInterval(() => {
      this.refresh().catch((e: unknown) =>
        this.o.log('warn', `cannot read the claimed collectors: ${(e as Error).message}`),
      );
    }, every);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new BmsError('GATEWAY_UNAVAILABLE', 'the cloud node is stopping'));
    }
    this.pending.clear();
    await this.o.transport.close();
    for (const serial of [...this.links.keys()]) this.unregister(serial);
  }

  /** Registers a link for every claimed collector not served yet; removes revoked ones. */
  async refresh(): Promise<void> {
    const list = await this.o.collectors.list();
    const now = this.clock();
    const claimed = new Set<string>();
    for (const c of list) {
      if (c.state !== 'claimed' || c.orgId === undefined) continue;
      claimed.add(c.serial);
      this.cache.set(c.serial, { c: c as Claimed, at: now });
      if (!this.links.has(c.serial)) this.register(c as Claimed);
    }
    for (const serial of [...this.links.keys()]) {
      if (!claimed.has(serial)) {
        this.unregister(serial);
        this.o.transport.disconnect(serial);
      }
    }
  }

  private register(c: Claimed): CollectorLink {
    const link = new CollectorLink(c, this, this.o.alarms);
    const known = this.o.transport.connected(c.serial);
    if (known === false) link.setOnline(false, this.clock());
    this.links.set(c.serial, link);
    this.o.registry.add(link);
    return link;
  }

  private unregister(serial: string): void {
    const link = this.links.get(serial);
    if (!link) return;
    this.links.delete(serial);
    this.o.registry.remove(link.gatewayId);
  }

  /** The link of a collector served here (tests). */
  link(serial: string): CollectorLink | undefined {
    return this.links.get(serial);
  }

  // ------------------------------------------------------------------ UplinkPort

  brokerUrl(): string {
    return this.o.brokerUrl;
  }

  /** Sets the URL collectors are told (known once the embedded broker listens). */
  setBrokerUrl(url: string): void {
    this.o.brokerUrl = url;
  }

  online(serial: string): boolean | undefined {
    const connected = this.o.transport.connected(serial);
    if (connected !== undefined) return connected;
    return this.links.get(serial)?.isOnline();
  }

  async claimed(serial: string): Promise<void> {
    const c = await this.o.collectors.get(serial);
    if (!c || c.state !== 'claimed' || c.orgId === undefined) return;
    this.cache.set(serial, { c: c as Claimed, at: this.clock() });
    if (!this.links.has(serial)) this.register(c as Claimed);
  }

  async revoked(serial: string): Promise<void> {
    this.cache.set(serial, { c: undefined, at: this.clock() });
    this.unregister(serial);
    this.o.transport.disconnect(serial);
  }

  // ------------------------------------------------------------------ ingest

  private async collector(serial: string): Promise<Claimed | undefined> {
    const now = this.clock();
    const hit = this.cache.get(serial);
    if (hit && now - hit.at < CACHE_MS) return hit.c;
    const c = await this.o.collectors.get(serial);
    const claimed =
      c && c.state === 'claimed' && c.orgId !== undefined ? (c as Claimed) : undefined;
    this.cache.set(serial, { c: claimed, at: now });
    return claimed;
  }

  /** Decodes and checks a batch; undefined (counted, logged) when it is refused. */
  private async check(
    serial: string,
    payload: Buffer,
  ): Promise<{ c: Claimed; batch: UplinkBatch } | undefined> {
    if (!SERIAL_PATTERN.test(serial)) {
      this.refuse('unknown_collector', serial, 'not a serial');
      return undefined;
    }
    let raw: unknown;
    try {
      raw = decodeUplink(payload);
    } catch (e) {
      this.refuse('malformed', serial, (e as Error).message);
      return undefined;
    }
    const parsed = uplinkBatchSchema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      this.refuse('malformed', serial, `${i?.path.join('.') || 'batch'}: ${i?.message ?? ''}`);
      return undefined;
    }
    const c = await this.collector(serial);
    if (!c) {
      this.refuse('unknown_collector', serial, 'not a claimed collector');
      return undefined;
    }
    const batch = parsed.data;
    if (batch.gatewayId !== c.gatewayId || batch.events.some((e) => e.gatewayId !== c.gatewayId)) {
      this.refuse('foreign_gateway', serial, "names another gateway than the collector's own");
      return undefined;
    }
    return { c, batch: { ...batch, events: batch.events.map((e) => rewrite(e, c)) } };
  }

  private refuse(reason: string, serial: string, why: string): void {
    this.count(reason);
    this.o.log(
      'warn',
      `uplink from ${serial.slice(0, 20)} refused (${reason}): ${why.slice(0, 200)}`,
    );
  }

  /** Stores one `up` batch and acknowledges it; never rejects. */
  async ingest(serial: string, payload: Buffer, alsoLive = false): Promise<void> {
    this.count('received');
    try {
      const ok = await this.check(serial, payload);
      if (!ok) return;
      if (alsoLive) this.deliver(serial, ok.batch);
      await this.store(ok.c, ok.batch);
      this.count('stored', ok.batch.events.length);
      // Not awaited: mqtt.js handles the broker's PUBACK of the ack only after this handler
      // returns (its input is one stream), so waiting here would wait for ever. A lost ack
      // costs a resend that storage ignores.
      this.o.transport
        .publish(uplinkTopics(serial).ack, encodeUplink({ v: 1, ranges: ranges(ok.batch.events) }))
        .catch((e: unknown) => {
          this.count('ack_failed');
          this.o.log('warn', `cannot acknowledge a batch of ${serial}: ${(e as Error).message}`);
        });
      this.noteSeen(serial);
    } catch (e) {
      // Storage refused (full, unavailable): no ack, the collector sends it again.
      this.count('store_failed');
      this.o.log('warn', `cannot store a batch of ${serial}: ${(e as Error).message}`);
    }
  }

  private noteSeen(serial: string): void {
    const now = this.clock();
    if (now - (this.seenAt.get(serial) ?? 0) < SEEN_EVERY_MS) return;
    this.seenAt.set(serial, now);
    this.o.collectors.seen(serial, now).catch(() => undefined);
  }

  private async store(c: Claimed, batch: UplinkBatch): Promise<void> {
    const origin = { orgId: c.orgId, gatewayId: c.gatewayId };
    const samples: Sample[] = [];
    const alarms: Extract<GatewayEnvelope, { type: 'alarm' }>[] = [];
    for (const e of batch.events) {
      if (e.type === 'snapshot') samples.push({ packId: e.packId, ts: e.ts, snapshot: e.snapshot });
      else if (e.type === 'alarm') alarms.push(e);
    }
    if (samples.length > 0) await this.o.telemetry.writeSamples(origin, samples);
    if (alarms.length > 0) {
      const before = this.alarmQueue.get(c.serial) ?? Promise.resolve();
      const mine = before.catch(() => undefined).then(() => this.storeAlarms(c, alarms));
      this.alarmQueue.set(c.serial, mine);
      try {
        await mine;
      } finally {
        if (this.alarmQueue.get(c.serial) === mine) this.alarmQueue.delete(c.serial);
      }
    }
  }

  /**
   * Alarm events as the collector's record says them: the cloud's copy is found by gateway,
   * pack, code and raise time (the alarm store makes its own ids), raised when missing, then
   * cleared and acknowledged as the record says. A repeat finds it all done.
   */
  private async storeAlarms(
    c: Claimed,
    events: Extract<GatewayEnvelope, { type: 'alarm' }>[],
  ): Promise<void> {
    const origin = { orgId: c.orgId, gatewayId: c.gatewayId };
    const scope = { orgIds: [c.orgId], gatewayId: c.gatewayId };
    for (const e of events) {
      const a = e.alarm;
      const found = await this.o.alarms.list(scope, {
        packId: a.packId,
        code: a.code,
        from: a.raisedAt,
        to: a.raisedAt,
        limit: 1,
      });
      const stored =
        found[0] ??
        (await this.o.alarms.raise(origin, {
          packId: a.packId,
          code: a.code,
          severity: a.severity,
          ...(a.level !== undefined ? { level: a.level } : {}),
          origin: a.origin,
          ...(a.ruleId !== undefined ? { ruleId: a.ruleId } : {}),
          raisedAt: a.raisedAt,
          ...(a.value !== undefined ? { value: a.value } : {}),
          message: a.message,
        }));
      if (a.clearedAt !== undefined && stored.clearedAt === undefined)
        await this.o.alarms.clear(scope, stored.id, a.clearedAt);
      if (a.acknowledgedAt !== undefined && stored.acknowledgedAt === undefined)
        await this.o.alarms.acknowledge(
          scope,
          stored.id,
          a.acknowledgedBy ?? 'collector',
          a.acknowledgedAt,
        );
    }
  }

  // ------------------------------------------------------------------ live, status, replies

  private async live(serial: string, payload: Buffer): Promise<void> {
    if (!this.links.has(serial)) return;
    let raw: unknown;
    try {
      raw = decodeUplink(payload);
    } catch {
      return; // the ingest's copy counts it
    }
    const parsed = uplinkBatchSchema.safeParse(raw);
    const link = this.links.get(serial);
    if (!parsed.success || !link) return;
    const b = parsed.data;
    if (b.gatewayId !== link.gatewayId || b.events.some((e) => e.gatewayId !== link.gatewayId))
      return;
    const c = { serial, orgId: link.orgId } as Claimed;
    this.deliver(serial, { ...b, events: b.events.map((e) => rewrite(e, c)) });
  }

  private deliver(serial: string, batch: UplinkBatch): void {
    const link = this.links.get(serial);
    if (!link) return;
    for (const e of batch.events) link.deliver(e);
  }

  private async status(serial: string, payload: Buffer): Promise<void> {
    const link = this.links.get(serial);
    if (!link) return;
    try {
      const s = collectorStatusSchema.parse(decodeUplink(payload));
      link.setOnline(s.online, s.online ? (s.ts ?? this.clock()) : this.clock());
    } catch {
      this.count('malformed_status');
    }
  }

  private reply(serial: string, payload: Buffer): void {
    let r;
    try {
      r = replySchema.parse(decodeUplink(payload));
    } catch {
      this.count('malformed_reply');
      return;
    }
    const p = this.pending.get(r.id);
    if (!p) return; // late (the sender gave up) or a repeat
    if (p.serial !== serial) {
      this.count('foreign_reply');
      return;
    }
    this.pending.delete(r.id);
    clearTimeout(p.timer);
    if (r.ok) p.resolve(r.value);
    else {
      const code = (ERROR_CODE_LIST as string[]).includes(r.error.code)
        ? (r.error.code as ErrorCode)
        : 'INTERNAL';
      p.reject(new BmsError(code, r.error.message, r.error.details));
    }
  }

  /** Publishes a downlink to a collector and waits for its reply (the links call it). */
  request(serial: string, body: DownlinkBody, timeoutMs: number): Promise<unknown> {
    if (this.closed)
      return Promise.reject(new BmsError('GATEWAY_UNAVAILABLE', 'the cloud node is stopping'));
    const id = newId();
    const what =
      body.kind === 'command' ? `${body.command.op} (txn ${body.command.txn})` : body.method;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new BmsError(
            'GATEWAY_UNAVAILABLE',
            `collector ${serial} did not answer ${what} within ${timeoutMs} ms` +
              (body.kind === 'command'
                ? '; its outcome is unknown: send it again with the same txn'
                : ''),
            body.kind === 'command' ? { txn: body.command.txn } : { serial },
          ),
        );
      }, timeoutMs);
      this.pending.set(id, { serial, resolve, reject, timer });
      const down = {
        v: 1,
        id,
        replyTo: this.o.nodeId,
        expiresAt: this.clock() + timeoutMs,
        ...body,
      };
      this.o.transport.publish(uplinkTopics(serial).cmd, encodeUplink(down)).catch((e: unknown) => {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(
          new BmsError('GATEWAY_UNAVAILABLE', `cannot reach the broker: ${(e as Error).message}`),
        );
      });
    });
  }
}

/** An envelope as the cloud keeps it: fleet pack ids, the alarm in the collector's cloud organisation. */
function rewrite(e: GatewayEnvelope, c: { serial: string; orgId: string }): GatewayEnvelope {
  switch (e.type) {
    case 'snapshot':
    case 'online':
      return { ...e, packId: fleetPackId(c.serial, e.packId) };
    case 'alarm':
      return {
        ...e,
        alarm: { ...e.alarm, packId: fleetPackId(c.serial, e.alarm.packId), orgId: c.orgId },
      };
    case 'command':
      return { ...e, command: { ...e.command, packId: fleetPackId(c.serial, e.command.packId) } };
  }
}

/** The (run, seq) of envelopes as the fewest ranges. */
export function ranges(events: readonly { run: string; seq: number }[]): SeqRange[] {
  const sorted = [...events].sort((a, b) =>
    a.run === b.run ? a.seq - b.seq : a.run < b.run ? -1 : 1,
  );
  const out: SeqRange[] = [];
  for (const e of sorted) {
    const last = out[out.length - 1];
    if (last && last.run === e.run && e.seq <= last.to + 1) last.to = Math.max(last.to, e.seq);
    else out.push({ run: e.run, from: e.seq, to: e.seq });
  }
  return out;
}
