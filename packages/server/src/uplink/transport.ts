/**
 * How a cloud node reaches the collectors' broker (docs/collectors.md, ADR 0019), behind one
 * small interface so that ingest and the collector links do not care which:
 *
 * - `EmbeddedBroker`: aedes in this process, listening for collectors on `broker.port`. It
 *   authenticates each collector with its uplink credentials (client id = user name = serial)
 *   and lets it publish and subscribe under `openbms/v1/<its serial>/` only. The node itself
 *   subscribes and publishes in process (no loop-back TCP).
 * - `ExternalBroker`: an external broker (Mosquitto, EMQX) reached with mqtt.js (MQTT 5). The
 *   node takes `up` through the shared subscription `$share/openbms-ingest/...` at QoS 1 (the
 *   broker spreads batches over the nodes; the PUBACK goes after the handler has stored), and
 *   without sharing `up` at QoS 0 for the live view, `status` and its own reply topic.
 */
import { createServer as createTcpServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client as AedesClient } from 'aedes';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { parseUplinkTopic, UPLINK_ROOT } from '@openbms/contract/gateway';
import type { RemoteCollector } from '@openbms/storage';

/** What arrives from collectors, by topic kind. `serial` is the topic's (not yet checked). */
export interface UplinkHandlers {
  /**
   * An `up` batch to store (and, with `live`, to show live too). Resolves when it is stored (or
   * refused), never rejects: the external broker's PUBACK waits for it.
   */
  store(serial: string, payload: Buffer, live: boolean): Promise<void>;
  /** An `up` batch for the live view (every node gets every batch). */
  live(serial: string, payload: Buffer): void;
  status(serial: string, payload: Buffer): void;
  reply(serial: string, payload: Buffer): void;
  /** The collector's connection ended (the embedded broker knows; a clean disconnect sends no will). */
  gone(serial: string): void;
}

/** Refused attempts and dropped messages, by reason (exposed by the uplink's `counts()`). */
export type Counts = Record<string, number>;

export interface UplinkTransport {
  /** Starts listening / connects, and delivers what arrives to the handlers. */
  start(handlers: UplinkHandlers): Promise<void>;
  /** Publishes to a collector's topic (QoS 1). */
  publish(topic: string, payload: Buffer): Promise<void>;
  /** Whether the collector is connected to this broker now; undefined when it cannot tell. */
  connected(serial: string): boolean | undefined;
  /** Ends a collector's connection (revoked): the embedded broker closes it. */
  disconnect(serial: string): void;
  /** The port the embedded broker listens on (tests use port 0); undefined for an external one. */
  port(): number | undefined;
  close(): Promise<void>;
}

/** The ACL: what a collector may publish and subscribe (its own topics only). */
export function mayPublish(serial: string, topic: string): boolean {
  const base = `${UPLINK_ROOT}/${serial}/`;
  if (!topic.startsWith(base)) return false;
  const rest = topic.slice(base.length);
  return rest === 'up' || rest === 'status' || /^res\/[0-9A-Za-z_-]{1,64}$/.test(rest);
}

export function maySubscribe(serial: string, topic: string): boolean {
  const base = `${UPLINK_ROOT}/${serial}/`;
  return topic === `${base}ack` || topic === `${base}cmd`;
}

export interface EmbeddedOptions {
  port: number;
  host?: string;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** The node's id: its reply topic is `res/<nodeId>`. */
  nodeId: string;
  /** The claimed, unrevoked collector these credentials are of; undefined otherwise. */
  verify(serial: string, secret: string): Promise<RemoteCollector | undefined>;
  counts: Counts;
  log: (level: 'info' | 'warn', message: string) => void;
}

function count(counts: Counts, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** aedes's "not authorized" CONNACK code. */
const NOT_AUTHORIZED = 5;
const BAD_CREDENTIALS = 4;

function authError(message: string, code: number): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode: code });
}

export class EmbeddedBroker implements UplinkTransport {
  private readonly aedes: Aedes;
  private server: NetServer | undefined;
  private readonly clients = new Map<string, AedesClient>();
  private handlers: UplinkHandlers | undefined;

  constructor(private readonly opts: EmbeddedOptions) {
    const counts = opts.counts;
    this.aedes = new Aedes({
      // A slow or frozen collector must not stall delivery to the others.
      drainTimeout: 30_000,
      authenticate: (client, username, password, done) => {
        const serial = username ?? '';
        if (client.id !== serial || serial === '') {
          count(counts, 'auth_refused');
          return done(authError('client id must be the user name', BAD_CREDENTIALS), false);
        }
        const secret = password?.toString('utf8') ?? '';
        opts.verify(serial, secret).then(
          (c) => {
            if (!c) {
              count(counts, 'auth_refused');
              done(authError('wrong credentials', BAD_CREDENTIALS), false);
            } else done(null, true);
          },
          () => {
            count(counts, 'auth_refused');
            done(authError('cannot check credentials now', 3), false);
          },
        );
      },
      authorizePublish: (client, packet, done) => {
        if (client === null) return done(null); // the broker's own (wills are the client's)
        if (!mayPublish(client.id, packet.topic)) {
          count(counts, 'publish_refused');
          return done(authError(`may not publish to ${packet.topic}`, NOT_AUTHORIZED));
        }
        done(null);
      },
      authorizeSubscribe: (client, sub, done) => {
        if (!maySubscribe(client.id, sub.topic)) {
          count(counts, 'subscribe_refused');
          return done(null, null); // SUBACK 128 (failure); the connection stays
        }
        done(null, sub);
      },
    });
    this.aedes.on('clientReady', (c) => this.clients.set(c.id, c));
    this.aedes.on('clientDisconnect', (c) => {
      if (this.clients.get(c.id) !== c) return;
      this.clients.delete(c.id);
      this.handlers?.gone(c.id);
    });
  }

  async start(h: UplinkHandlers): Promise<void> {
    this.handlers = h;
    await this.aedes.listen(); // aedes 1.x handles connections only after it
    const sub = (topic: string, on: (serial: string, payload: Buffer) => void): Promise<void> =>
      new Promise((resolve) =>
        this.aedes.subscribe(
          topic,
          (packet, cb) => {
            const t = parseUplinkTopic(packet.topic);
            if (t) on(t.serial, Buffer.from(packet.payload as Buffer));
            cb();
          },
          resolve,
        ),
      );
    // One node: every batch is both stored and shown live here.
    await sub(`${UPLINK_ROOT}/+/up`, (serial, payload) => void h.store(serial, payload, true));
    await sub(`${UPLINK_ROOT}/+/status`, (s, p) => h.status(s, p));
    await sub(`${UPLINK_ROOT}/+/res/${this.opts.nodeId}`, (s, p) => h.reply(s, p));
    const handle = (socket: Socket): void => {
      this.aedes.handle(socket);
    };
    this.server = this.opts.tls
      ? createTlsServer({ cert: this.opts.tls.cert, key: this.opts.tls.key }, handle)
      : createTcpServer(handle);
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  publish(topic: string, payload: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.aedes.publish(
        { cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  connected(serial: string): boolean {
    return this.clients.has(serial);
  }

  disconnect(serial: string): void {
    const c = this.clients.get(serial);
    if (c) {
      this.clients.delete(serial);
      c.close();
      this.handlers?.gone(serial);
    }
  }

  port(): number | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
  }
}

export interface ExternalOptions {
  url: string;
  username?: string;
  password?: string;
  nodeId: string;
  log: (level: 'info' | 'warn', message: string) => void;
}

/** The shared subscription every node's ingest joins. */
export const INGEST_GROUP = 'openbms-ingest';

export class ExternalBroker implements UplinkTransport {
  private client: MqttClient | undefined;

  constructor(private readonly opts: ExternalOptions) {}

  async start(h: UplinkHandlers): Promise<void> {
    const shared = `$share/${INGEST_GROUP}/${UPLINK_ROOT}/+/up`;
    const client = mqtt.connect(this.opts.url, {
      protocolVersion: 5,
      clientId: `openbms-cloud-${this.opts.nodeId}`,
      // The node's id is new at every start: a session kept by the broker would outlive it. What
      // was in flight when a node dropped is sent again by the collectors (no ack came).
      clean: true,
      reconnectPeriod: 1000,
      ...(this.opts.username !== undefined ? { username: this.opts.username } : {}),
      ...(this.opts.password !== undefined ? { password: this.opts.password } : {}),
    });
    this.client = client;
    // mqtt.js sends the PUBACK when this callback is called: after the batch is stored.
    client.handleMessage = (packet: IPublishPacket, done) => {
      const t = parseUplinkTopic(packet.topic);
      const payload = Buffer.isBuffer(packet.payload)
        ? packet.payload
        : Buffer.from(packet.payload);
      if (!t) return done();
      if (packet.topic.endsWith('/up')) {
        if (packet.qos === 0) {
          h.live(t.serial, payload);
          return done();
        }
        return void h.store(t.serial, payload, false).then(
          () => done(),
          () => done(),
        );
      }
      if (t.rest === 'status') h.status(t.serial, payload);
      else if (t.rest === `res/${this.opts.nodeId}`) h.reply(t.serial, payload);
      done();
    };
    client.on('error', (e) => this.opts.log('warn', `broker ${this.opts.url}: ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error): void => reject(e);
      client.once('error', fail);
      client.once('connect', () => {
        client.off('error', fail);
        resolve();
      });
    });
    await client.subscribeAsync({
      [shared]: { qos: 1 },
      [`${UPLINK_ROOT}/+/up`]: { qos: 0 },
      [`${UPLINK_ROOT}/+/status`]: { qos: 1 },
      [`${UPLINK_ROOT}/+/res/${this.opts.nodeId}`]: { qos: 1 },
    });
  }

  async publish(topic: string, payload: Buffer): Promise<void> {
    if (!this.client) throw new Error('not started');
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }

  connected(): undefined {
    return undefined;
  }

  disconnect(): void {
    // The external broker's own ACL ends a revoked collector's access (its password file).
  }

  port(): undefined {
    return undefined;
  }

  /** Ends the connection abruptly, without DISCONNECT (tests: a node killed). */
  drop(): void {
    const c = this.client;
    if (!c) return;
    c.options.reconnectPeriod = 0;
    c.stream.destroy();
    c.end(true);
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
  }
}
