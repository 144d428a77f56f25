/**
 * Test helpers: a watcher client on the real broker that records every message and lets a
 * test await the one it needs (no sleeps), and a unique topic namespace per run.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';

export const BROKER = process.env['OPENBMS_TEST_MQTT'] ?? 'mqtt://127.0.0.1:1883';

export interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
  at: number;
}

/** A fresh, unique base topic and discovery prefix. */
export function namespace(): { base: string; prefix: string } {
  const r = randomBytes(5).toString('hex');
  return { base: `obt-${r}`, prefix: `obt-ha-${r}` };
}

export class Watcher {
  readonly seen: Seen[] = [];
  private waiters: { pred: (m: Seen) => boolean; resolve: (m: Seen) => void }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const m = { topic, payload: payload.toString('utf8'), retain: packet.retain, at: Date.now() };
      this.seen.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  static async open(filters: string[]): Promise<Watcher> {
    const client = await mqtt.connectAsync(BROKER, {
      clientId: `obt-watch-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 0,
    });
    const w = new Watcher(client);
    await client.subscribeAsync(filters, { qos: 1 });
    return w;
  }

  /** The first message (already seen or coming) matching; rejects after `ms`. */
  next(pred: (m: Seen) => boolean, ms = 15_000, fromIndex = 0): Promise<Seen> {
    const hit = this.seen.slice(fromIndex).find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (m: Seen) => (clearTimeout(timer), resolve(m)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no matching MQTT message within ${ms} ms`));
      }, ms);
      this.waiters.push(w);
    });
  }

  on(topic: string, pred: (payload: string) => boolean = () => true, ms?: number, from = 0) {
    return this.next((m) => m.topic === topic && pred(m.payload), ms, from);
  }

  async publish(topic: string, payload: string, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  /** Clears retained messages under the given topics. */
  async clear(topicsToClear: Iterable<string>): Promise<void> {
    for (const t of topicsToClear) await this.publish(t, '', true);
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
