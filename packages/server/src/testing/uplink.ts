/**
 * Test helpers of the cloud uplink: a collector played by a real mqtt.js client that speaks
 * the protocol of docs/collectors.md (batches on `up`, acks, status with its will, downlinks
 * answered on `res/<node>`), and a claimed collector made in a real store.
 */
import mqtt, { type MqttClient } from 'mqtt';
import {
  downlinkSchema,
  uplinkAckSchema,
  uplinkTopics,
  type Downlink,
  type GatewayEnvelope,
  type SeqRange,
} from '@openbms/contract/gateway';
import { decodeUplink, encodeUplink } from '@openbms/gateway';
import { newId, type RemoteCollectorStore } from '@openbms/storage';

/** A claimed collector with these uplink credentials, made through the store's own steps. */
export async function claimedCollector(
  store: RemoteCollectorStore,
  c: { serial: string; gatewayId: string; orgId: string; secret: string },
): Promise<void> {
  const at = Date.now();
  const claimCode = 'ABCD1234';
  await store.hello({ serial: c.serial, claimCode, gatewayId: c.gatewayId, at });
  await store.claim({
    serial: c.serial,
    claimCode,
    orgId: c.orgId,
    plantId: newId(),
    by: newId(),
    at,
  });
  await store.setCredentials(c.serial, c.secret, at);
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
