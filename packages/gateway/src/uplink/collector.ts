/**
 * The collector side of the uplink (issue 15, docs/collectors.md): a site's gateway sends its
 * event stream to a fleet cloud over MQTT and runs the cloud's commands through its own safe
 * control path.
 *
 * - **Identity and hello**: the serial and claim code (identity.ts); `POST <cloud>/api/v1/
 *   collectors/hello` every 30 s until the cloud answers 200 with broker credentials (202:
 *   not claimed yet; 403: revoked or another claim code, asked again slowly). A broker that
 *   refuses the credentials sends the collector back to hello for new ones.
 * - **Store-and-forward**: every envelope of `link.subscribe` goes into the outbox first. A
 *   sender publishes batches (at most 500 envelopes, QoS 1) on `up` at a bounded rate
 *   (`drainBatchesPerS`), alternating the newest waiting rows (live data) and the oldest (the
 *   backlog), so live data keeps flowing while a backlog drains. Rows go only when an `ack`
 *   names them (the cloud acks after storing, not on PUBACK); rows unacknowledged for
 *   `resendAfterMs` (30 s) are sent again, and a new connection sends everything again.
 * - **Connection**: client id = user name = serial, clean session false, keepalive 30 s, a
 *   retained last will `{v:1, online:false}` on `status`, a retained `{online:true, ts, run,
 *   version, backlog, dropped}` on connect and every 30 s. Reconnects are ours (mqtt.js's
 *   reconnectPeriod is fixed): 1 s doubling to 60 s, each delay drawn between half and all of
 *   it (jitter), back to 1 s after a connection that worked.
 * - **Downlinks** (`cmd`): decoded and checked with the contract's schema; a malformed one is
 *   refused and counted (answered REQUEST_INVALID when its id and replyTo can be read), an
 *   expired one is dropped and counted and never run, a command goes to `link.send` (at most
 *   once per txn), a read to the link's read method; the answer goes to `res/<replyTo>`.
 *
 * The password and the claim code are never logged.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { z } from 'zod';
import {
  MAX_BATCH_EVENTS,
  SEAM_VERSION,
  downlinkSchema,
  nodeIdSchema,
  uplinkAckSchema,
  uplinkTopics,
  type CollectorStatus,
  type Downlink,
  type GatewayEnvelope,
  type Reply,
  type UplinkTopics,
} from '@openbms/contract/gateway';
import { isBmsError } from '@openbms/core';
import { decodeUplink, encodeUplink } from '../seam/uplink-codec.js';
import type { GatewayLink } from '../seam/types.js';
import { GATEWAY_VERSION } from '../version.js';
import {
  ensureCollectorIdentity,
  writeCollectorIdentity,
  type CollectorCredentials,
  type CollectorIdentity,
} from './identity.js';
import type { Outbox } from './outbox.js';

export type CollectorLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface CollectorOptions {
  link: GatewayLink;
  outbox: Outbox;
  /** Where collector.json is kept. */
  dataDir: string;
  /** The cloud's URL (config cloud.url). */
  cloudUrl: string;
  /** At most this many `up` messages a second (config cloud.drain_batches_per_s). */
  drainBatchesPerS?: number;
  log?: CollectorLog;
  /** Tests shorten the protocol's times. */
  timing?: Partial<CollectorTiming>;
  version?: string;
}

export interface CollectorTiming {
  /** Between hellos while unclaimed (30 s). */
  helloMs: number;
  /** Between hellos while the cloud refuses (403) or is unreachable (5 min). */
  helloSlowMs: number;
  /** Rows in flight this long without an ack are sent again (30 s). */
  resendAfterMs: number;
  /** Reconnect delays: the first and the largest (1 s, 60 s). */
  backoffMinMs: number;
  backoffMaxMs: number;
  /** Between the retained status messages while connected (30 s). */
  statusMs: number;
}

const DEFAULT_TIMING: CollectorTiming = {
  helloMs: 30_000,
  helloSlowMs: 300_000,
  resendAfterMs: 30_000,
  backoffMinMs: 1_000,
  backoffMaxMs: 60_000,
  statusMs: 30_000,
};

/** A batch's JSON stays well below MAX_UPLINK_BYTES (the receiver's bound). */
const BATCH_MAX_BYTES = 900_000;

/** The cloud's answer to a hello of a claimed collector. */
const claimedAnswerSchema = z.object({
  status: z.literal('claimed'),
  org_id: z.string().optional(),
  plant_id: z.string().optional(),
  broker: z.object({
    url: z
      .string()
      .regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
  }),
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(1024),
});

/** Counters of what the collector did, for its status and tests. */
export interface CollectorStats {
  serial: string;
  claimed: boolean;
  connected: boolean;
  backlog: number;
  dropped: number;
  batchesSent: number;
  acked: number;
  commandsRun: number;
  readsRun: number;
  /** Downlinks and acks refused as malformed. */
  malformed: number;
  /** Downlinks dropped unrun because they had expired. */
  expired: number;
  /** Envelopes that could not be written to the outbox (disk full...). */
  outboxErrors: number;
  connects: number;
}

export class Collector {
  readonly identity: CollectorIdentity;
  private readonly topics: UplinkTopics;
  private readonly timing: CollectorTiming;
  private readonly log: CollectorLog;
  private readonly version: string;
  private readonly rateMs: number;
  private client: MqttClient | undefined;
  private unsubscribe: (() => void) | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private sendTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  private newestTurn = true;
  private lastStatusAt = 0;
  private run: string | undefined;
  private readonly pendingReplies: { topic: string; payload: Buffer; expiresAt: number }[] = [];
  private readonly counts = {
    batchesSent: 0,
    acked: 0,
    commandsRun: 0,
    readsRun: 0,
    malformed: 0,
    expired: 0,
    outboxErrors: 0,
    connects: 0,
  };

  constructor(private readonly opts: CollectorOptions) {
    this.identity = ensureCollectorIdentity(opts.dataDir);
    this.topics = uplinkTopics(this.identity.serial);
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.log = opts.log ?? (() => undefined);
    this.version = opts.version ?? GATEWAY_VERSION;
    this.rateMs = Math.max(10, Math.round(1000 / (opts.drainBatchesPerS ?? 4)));
  }

  get serial(): string {
    return this.identity.serial;
  }

  get claimed(): boolean {
    return this.identity.credentials !== undefined;
  }

  stats(): CollectorStats {
    return {
      serial: this.serial,
      claimed: this.claimed,
      connected: this.client?.connected ?? false,
      backlog: this.opts.outbox.count(),
      dropped: this.opts.outbox.dropped(),
      ...this.counts,
    };
  }

  /** Starts keeping the gateway's events, saying hello and connecting. */
  start(): void {
    this.unsubscribe = this.opts.link.subscribe((e) => this.keep(e));
    if (this.identity.credentials) this.connect();
    else void this.hello();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.helloTimer);
    clearTimeout(this.reconnectTimer);
    clearInterval(this.sendTimer);
    const c = this.client;
    this.client = undefined;
    if (c) {
      if (c.connected) {
        // Said now rather than left to the will (which the broker sends after the keepalive).
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 2000);
          c.publish(
            this.topics.status,
            encodeUplink({ v: SEAM_VERSION, online: false } satisfies CollectorStatus),
            { qos: 1, retain: true },
            () => {
              clearTimeout(t);
              resolve();
            },
          );
        });
      }
      await c.endAsync(true).catch(() => undefined);
    }
  }

  // --- store ---------------------------------------------------------------------------------

  private keep(e: GatewayEnvelope): void {
    this.run = e.run;
    try {
      const { dropped } = this.opts.outbox.put([
        { run: e.run, seq: e.seq, ts: e.ts, body: JSON.stringify(e) },
      ]);
      if (dropped > 0)
        this.log(
          'warn',
          `uplink: the outbox is full: dropped the ${dropped} oldest envelope(s) unsent (${this.opts.outbox.dropped()} in all); raise cloud.outbox_max_mb or restore the link to the cloud`,
        );
    } catch (err) {
      this.counts.outboxErrors++;
      if (this.counts.outboxErrors === 1 || this.counts.outboxErrors % 1000 === 0)
        this.log(
          'error',
          `uplink: cannot keep an envelope in the outbox (${this.counts.outboxErrors} so far): ${(err as Error).message}`,
        );
    }
  }

  // --- hello ---------------------------------------------------------------------------------

  private async hello(): Promise<void> {
    if (this.stopped) return;
    let next = this.timing.helloMs;
    const url = new URL('/api/v1/collectors/hello', this.opts.cloudUrl).toString();
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          serial: this.identity.serial,
          claim_code: this.identity.claim_code,
          gateway_id: this.opts.link.gatewayId,
          version: this.version,
        }),
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await res.json().catch(() => undefined)) as unknown;
      if (res.status === 200) {
        const r = claimedAnswerSchema.safeParse(body);
        if (r.success) {
          this.claimedWith({
            username: r.data.username,
            password: r.data.password,
            broker: r.data.broker.url,
            ...(r.data.org_id ? { org_id: r.data.org_id } : {}),
            ...(r.data.plant_id ? { plant_id: r.data.plant_id } : {}),
          });
          return;
        }
        const i = r.error.issues[0]!;
        this.log(
          'warn',
          `uplink: the cloud's hello answer is not understood (${i.path.join('.')}: ${i.message}); asking again`,
        );
      } else if (res.status === 202) {
        // Not claimed yet: the owner adds it in the cloud with the serial and claim code.
      } else if (res.status === 403) {
        next = this.timing.helloSlowMs;
        const status = (body as { status?: unknown } | undefined)?.status;
        this.log(
          'warn',
          status === 'revoked'
            ? `uplink: the cloud revoked collector ${this.serial}; it sends nothing until it is claimed again`
            : `uplink: the cloud refuses collector ${this.serial} (another collector claims this serial with another claim code); asking again in ${Math.round(next / 1000)} s`,
        );
      } else {
        next = this.timing.helloSlowMs;
        this.log('warn', `uplink: the cloud answered hello with HTTP ${res.status}; asking again`);
      }
    } catch (err) {
      this.log(
        'warn',
        `uplink: cannot reach the cloud at ${this.opts.cloudUrl}: ${(err as Error).message}; asking again in ${Math.round(next / 1000)} s`,
      );
    }
    if (!this.stopped) this.helloTimer = setTimeout(() => void this.hello(), next);
  }

  private claimedWith(credentials: CollectorCredentials): void {
    this.identity.credentials = credentials;
    writeCollectorIdentity(this.opts.dataDir, this.identity);
    this.log(
      'info',
      `uplink: collector ${this.serial} is claimed; connecting to ${credentials.broker}`,
    );
    this.attempt = 0;
    this.connect();
  }

  // --- connection ----------------------------------------------------------------------------

  private connect(): void {
    const cred = this.identity.credentials;
    if (this.stopped || !cred) return;
    const will = {
      topic: this.topics.status,
      payload: encodeUplink({ v: SEAM_VERSION, online: false } satisfies CollectorStatus),
      qos: 1 as const,
      retain: true,
    };
    const options: IClientOptions = {
      clientId: this.serial,
      username: cred.username,
      password: cred.password,
      clean: false,
      keepalive: 30,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 15_000,
      will,
    };
    const client = mqtt.connect(cred.broker, options);
    this.client = client;
    let authFailed = false;
    client.on('connect', () => {
      this.attempt = 0;
      this.counts.connects++;
      this.opts.outbox.release();
      this.publishStatus();
      client.subscribe([this.topics.ack, this.topics.cmd], { qos: 1 });
      for (const r of this.pendingReplies.splice(0))
        if (r.expiresAt >= Date.now()) client.publish(r.topic, r.payload, { qos: 1 });
      clearInterval(this.sendTimer);
      this.sendTimer = setInterval(() => this.tick(), this.rateMs);
    });
    client.on('message', (topic, payload) => {
      if (topic === this.topics.ack) this.onAck(payload);
      else if (topic === this.topics.cmd) void this.onDownlink(payload);
    });
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      // CONNACK 4 (bad user name or password) / 5 (not authorised): the credentials are old.
      if (code === 4 || code === 5 || code === 134 || code === 135) authFailed = true;
      else this.log('warn', `uplink: broker ${cred.broker}: ${err.message}`);
    });
    client.on('close', () => {
      if (this.client !== client) return;
      clearInterval(this.sendTimer);
      this.client = undefined;
      client.end(true);
      if (this.stopped) return;
      if (authFailed) {
        this.log(
          'warn',
          `uplink: the broker refused collector ${this.serial}'s credentials; asking the cloud for new ones`,
        );
        delete this.identity.credentials;
        writeCollectorIdentity(this.opts.dataDir, this.identity);
        void this.hello();
        return;
      }
      const base = Math.min(
        this.timing.backoffMaxMs,
        this.timing.backoffMinMs * 2 ** Math.min(this.attempt, 30),
      );
      this.attempt++;
      const delay = Math.round(base / 2 + (Math.random() * base) / 2);
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });
  }

  private publishStatus(): void {
    const c = this.client;
    if (!c?.connected) return;
    this.lastStatusAt = Date.now();
    const status: CollectorStatus = {
      v: SEAM_VERSION,
      online: true,
      ts: this.lastStatusAt,
      ...(this.run ? { run: this.run } : {}),
      version: this.version.slice(0, 64),
      backlog: this.opts.outbox.count(),
      dropped: this.opts.outbox.dropped(),
    };
    c.publish(this.topics.status, encodeUplink(status), { qos: 1, retain: true });
  }

  // --- sending -------------------------------------------------------------------------------

  /** One batch per tick: the newest waiting rows and the oldest ones in turn. */
  private tick(): void {
    const c = this.client;
    if (!c?.connected) return;
    if (Date.now() - this.lastStatusAt >= this.timing.statusMs) this.publishStatus();
    const newest = this.newestTurn;
    this.newestTurn = !newest;
    const take = (n: boolean) =>
      this.opts.outbox.next(MAX_BATCH_EVENTS, {
        newest: n,
        maxBytes: BATCH_MAX_BYTES,
        resendAfterMs: this.timing.resendAfterMs,
      });
    let rows = take(newest);
    if (rows.length === 0) rows = take(!newest);
    if (rows.length === 0) return;
    const events = rows.map((r) => JSON.parse(r.body) as GatewayEnvelope);
    const batch = { v: SEAM_VERSION, gatewayId: this.opts.link.gatewayId, events };
    c.publish(this.topics.up, encodeUplink(batch), { qos: 1 });
    this.counts.batchesSent++;
  }

  private onAck(payload: Buffer): void {
    let raw: unknown;
    try {
      raw = decodeUplink(payload);
    } catch (err) {
      this.refused('ack', (err as Error).message);
      return;
    }
    const r = uplinkAckSchema.safeParse(raw);
    if (!r.success) {
      this.refused('ack', issueText(r.error));
      return;
    }
    this.counts.acked += this.opts.outbox.ack(r.data.ranges);
  }

  // --- downlinks -----------------------------------------------------------------------------

  private refused(what: string, why: string): void {
    this.counts.malformed++;
    this.log('warn', `uplink: refused a malformed ${what} message (${why})`);
  }

  private async onDownlink(payload: Buffer): Promise<void> {
    let raw: unknown;
    try {
      raw = decodeUplink(payload);
    } catch (err) {
      this.refused('cmd', (err as Error).message);
      return;
    }
    const r = downlinkSchema.safeParse(raw);
    if (!r.success) {
      this.refused('cmd', issueText(r.error));
      // Answer when the sender can be told (it would otherwise wait for its timeout).
      const head = raw as { id?: unknown; replyTo?: unknown } | null;
      if (
        typeof head?.id === 'string' &&
        /^[0-9A-Za-z_-]{1,64}$/.test(head.id) &&
        nodeIdSchema.safeParse(head.replyTo).success
      ) {
        this.reply(head.replyTo as string, Date.now() + 60_000, {
          v: SEAM_VERSION,
          id: head.id,
          ok: false,
          error: {
            code: 'REQUEST_INVALID',
            message: `malformed downlink: ${issueText(r.error)}`,
            details: { field: r.error.issues[0]?.path.join('.') ?? '' },
          },
        });
      }
      return;
    }
    const d = r.data;
    if (d.expiresAt < Date.now()) {
      this.counts.expired++;
      this.log('warn', `uplink: dropped downlink ${d.id} unrun: it expired`);
      return;
    }
    this.reply(d.replyTo, d.expiresAt, await this.run1(d));
  }

  private async run1(d: Downlink): Promise<Reply> {
    try {
      if (d.kind === 'command') {
        this.counts.commandsRun++;
        const value = await this.opts.link.send(d.command);
        return { v: SEAM_VERSION, id: d.id, ok: true, value };
      }
      this.counts.readsRun++;
      const fn = this.opts.link[d.method] as (...args: unknown[]) => Promise<unknown>;
      const value = await fn.apply(this.opts.link, d.args);
      return { v: SEAM_VERSION, id: d.id, ok: true, value };
    } catch (err) {
      if (isBmsError(err)) {
        return {
          v: SEAM_VERSION,
          id: d.id,
          ok: false,
          error: {
            code: err.code,
            message: err.message.slice(0, 2000),
            ...(err.details ? { details: err.details } : {}),
          },
        };
      }
      this.log('error', `uplink: downlink ${d.id} failed: ${(err as Error).stack ?? String(err)}`);
      return {
        v: SEAM_VERSION,
        id: d.id,
        ok: false,
        error: { code: 'INTERNAL', message: 'internal error' },
      };
    }
  }

  private reply(node: string, expiresAt: number, reply: Reply): void {
    const topic = this.topics.res(node);
    const payload = encodeUplink(reply);
    const c = this.client;
    if (c?.connected) c.publish(topic, payload, { qos: 1 });
    // Sent at the next connection, while its sender may still wait.
    else if (this.pendingReplies.length < 1000)
      this.pendingReplies.push({ topic, payload, expiresAt });
  }
}

function issueText(e: z.ZodError): string {
  const i = e.issues[0];
  return i ? `${i.path.join('.') || '(message)'}: ${i.message}` : 'invalid';
}
