/**
 * Test helpers of the cloud uplink: a collector played by a real mqtt.js client that speaks
 * the protocol of docs/collectors.md (batches on `up`, acks, status with its will, downlinks
 * answered on `res/<node>`), and a remote collector store in memory with the port's rules
 * (claimed, revoked, credentials by SHA-256 hash), for tests of the uplink that do not test the
 * storage adapters.
 */
import { createHash } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import {
  downlinkSchema,
  uplinkAckSchema,
  uplinkTopics,
  type Downlink,
  type GatewayEnvelope,
  type SeqRange,
} from '@openbms/contract/gateway';
import { BmsError } from '@openbms/core';
import { decodeUplink, encodeUplink } from '@openbms/gateway';
import type { HelloOutcome, RemoteCollector, RemoteCollectorStore } from '@openbms/storage';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export class MemoryCollectorStore implements RemoteCollectorStore {
  private readonly rows = new Map<string, RemoteCollector & { code: string; secret?: string }>();

  async hello(i: {
    serial: string;
    claimCode: string;
    gatewayId: string;
    version?: string;
    at: number;
  }): Promise<HelloOutcome> {
    const known = this.rows.get(i.serial);
    if (known) return { collector: { ...known }, codeMatches: known.code === sha256(i.claimCode) };
    const row = {
      serial: i.serial,
      gatewayId: i.gatewayId,
      state: 'unclaimed' as const,
      firstSeenAt: i.at,
      lastSeenAt: i.at,
      code: sha256(i.claimCode),
    };
    this.rows.set(i.serial, row);
    return { collector: { ...row }, codeMatches: true };
  }

  async claim(i: {
    serial: string;
    claimCode: string;
    orgId: string;
    plantId: string;
    by: string;
    at: number;
  }): Promise<RemoteCollector> {
    const r = this.rows.get(i.serial);
    if (!r || r.code !== sha256(i.claimCode))
      throw new BmsError('NOT_FOUND', 'no such collector', { field: 'serial' });
    if (r.state !== 'unclaimed') throw new BmsError('REQUEST_INVALID', 'claimed already');
    Object.assign(r, {
      state: 'claimed',
      orgId: i.orgId,
      plantId: i.plantId,
      claimedAt: i.at,
      claimedBy: i.by,
    });
    return { ...r };
  }

  async setCredentials(serial: string, secretHash: string, at: number): Promise<void> {
    const r = this.rows.get(serial);
    if (!r) throw new BmsError('NOT_FOUND', 'no such collector');
    r.secret = secretHash;
    r.credentialsAt = at;
  }

  async verify(serial: string, secret: string): Promise<RemoteCollector | undefined> {
    const r = this.rows.get(serial);
    return r && r.state === 'claimed' && r.secret === sha256(secret) ? { ...r } : undefined;
  }

  async revoke(serial: string, by: string, at: number): Promise<RemoteCollector> {
    const r = this.rows.get(serial);
    if (!r) throw new BmsError('NOT_FOUND', 'no such collector');
    Object.assign(r, { state: 'revoked', revokedAt: at, revokedBy: by });
    return { ...r };
  }

  async get(serial: string): Promise<RemoteCollector | undefined> {
    const r = this.rows.get(serial);
    return r && { ...r };
  }

  async byGateway(gatewayId: string): Promise<RemoteCollector | undefined> {
    return [...this.rows.values()].find((r) => r.gatewayId === gatewayId);
  }

  async list(orgIds?: readonly string[]): Promise<RemoteCollector[]> {
    return [...this.rows.values()].filter(
      (r) => r.state === 'claimed' && (!orgIds || orgIds.includes(r.orgId ?? '')),
    );
  }

  async seen(serial: string, at: number): Promise<void> {
    const r = this.rows.get(serial);
    if (r) r.lastSeenAt = at;
  }

  /** A claimed collector with these credentials, in one step (tests). */
  async add(c: {
    serial: string;
    gatewayId: string;
    orgId: string;
    secret: string;
  }): Promise<void> {
    const at = Date.now();
    await this.hello({ serial: c.serial, claimCode: 'ABCD1234', gatewayId: c.gatewayId, at });
    await this.claim({
      serial: c.serial,
      claimCode: 'ABCD1234',
      orgId: c.orgId,
      plantId: 'p',
      by: 'u',
      at,
    });
    await this.setCredentials(c.serial, sha256(c.secret), at);
  }
}

/** What a test collector answers a downlink with (undefined: it does not answer). */
export type Answer = (
  d: Downlink,
) =>
  | { ok: true; value: unknown }
  | { ok: false; error: { code: string; message: string } }
  | undefined;

/** A collector played by a real MQTT client. */
export class TestCollector {
  readonly acks: SeqRange[][] = [];
  readonly downlinks: Downlink[] = [];
  private waiters: (() => void)[] = [];
  answer: Answer = () => undefined;

  private constructor(
    readonly client: MqttClient,
    readonly serial: string,
  ) {
    const t = uplinkTopics(serial);
    client.on('message', (topic, payload) => {
      if (topic === t.ack) this.acks.push(uplinkAckSchema.parse(decodeUplink(payload)).ranges);
      if (topic === t.cmd) {
        const d = downlinkSchema.parse(decodeUplink(payload));
        this.downlinks.push(d);
        const a = this.answer(d);
        if (a) client.publish(t.res(d.replyTo), encodeUplink({ v: 1, id: d.id, ...a }), { qos: 1 });
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Connects (rejects with the broker's refusal), subscribes to ack and cmd, says online. */
  static async connect(
    url: string,
    serial: string,
    secret: string,
    opts: { clientId?: string; subscribe?: boolean } = {},
  ): Promise<TestCollector> {
    const t = uplinkTopics(serial);
    const client = mqtt.connect(url, {
      clientId: opts.clientId ?? serial,
      username: serial,
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      will: {
        topic: t.status,
        payload: Buffer.from('{"v":1,"online":false}'),
        qos: 1,
        retain: true,
      },
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (e) => {
        client.end(true);
        reject(e);
      });
      client.once('close', () => reject(new Error('closed')));
    });
    const c = new TestCollector(client, serial);
    if (opts.subscribe !== false) {
      await client.subscribeAsync({ [t.ack]: { qos: 1 }, [t.cmd]: { qos: 1 } });
      await client.publishAsync(
        t.status,
        encodeUplink({ v: 1, online: true, ts: Date.now(), backlog: 0 }),
        { qos: 1, retain: true },
      );
    }
    return c;
  }

  /** Publishes a batch of envelopes on `up`. */
  async send(gatewayId: string, events: GatewayEnvelope[]): Promise<void> {
    await this.client.publishAsync(
      uplinkTopics(this.serial).up,
      encodeUplink({ v: 1, gatewayId, events }),
      { qos: 1 },
    );
  }

  async publishRaw(topic: string, payload: Buffer): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }

  /** Waits until `check` holds, re-checking on every message (deadline: ms). */
  async until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async end(): Promise<void> {
    await this.client.endAsync();
  }
}
