/**
 * The collector uplink end to end with real parts: a real gateway on a simulated DALY pack,
 * the SQLite outbox, a Mosquitto broker of the test's own (killed and started again), a tiny
 * HTTP server answering hello, and an mqtt.js client playing the cloud.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import {
  SEAM_VERSION,
  collectorStatusSchema,
  replySchema,
  uplinkBatchSchema,
  uplinkTopics,
  type GatewayEnvelope,
  type Reply,
  type UplinkTopics,
} from '@openbms/contract/gateway';
import { openSqliteStorage, SqliteOutbox } from '@openbms/storage-sqlite';
import type { Storage } from '@openbms/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../config.js';
import { Gateway } from '../gateway.js';
import { decodeUplink, encodeUplink } from '../seam/uplink-codec.js';
import { simulatedBuses } from '../testing/sim-buses.js';
import { TestBroker } from '../testing/mosquitto.js';
import { Collector } from './collector.js';
import { readCollectorIdentity } from './identity.js';

const key = (run: string, seq: number): string => `${run}#${seq}`;

let broker: TestBroker;
let hello: Server;
let helloCalls = 0;
let storage: Storage;
let gw: Gateway;
let outbox: SqliteOutbox;
let collector: Collector;
let cloud: MqttClient;
let topics: UplinkTopics;
let dataDir: string;
const logs: string[] = [];
/** Every envelope the gateway emitted, and how often the cloud received each. */
const emitted: GatewayEnvelope[] = [];
const received = new Map<string, number>();
const replies: Reply[] = [];
const statuses: unknown[] = [];
/** Whether the cloud acks what it receives (switched by the tests). */
let autoAck = true;

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  broker = await TestBroker.start();
  // The cloud's hello: unclaimed twice, then claimed with credentials for the test broker.
  hello = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const b = JSON.parse(body) as { serial: string; claim_code: string; gateway_id: string };
      helloCalls++;
      res.setHeader('content-type', 'application/json');
      if (helloCalls <= 2) {
        res.statusCode = 202;
        res.end(JSON.stringify({ status: 'unclaimed' }));
        return;
      }
      res.end(
        JSON.stringify({
          status: 'claimed',
          org_id: 'ORG',
          plant_id: 'PLANT',
          broker: { url: broker.url },
          username: b.serial,
          password: 'the-secret-password',
        }),
      );
    });
  });
  await new Promise<void>((r) => hello.listen(0, '127.0.0.1', r));
  const cloudUrl = `http://127.0.0.1:${(hello.address() as { port: number }).port}`;

  storage = await openSqliteStorage({});
  const sims = simulatedBuses();
  const config = validateConfig({
    version: 1,
    sites: [
      {
        id: 's',
        buses: [
          {
            id: 'b',
            port: 'sim',
            protocol: 'daly-modbus',
            poll_interval_s: 0.2,
            retries: 1,
            timeout_ms: 500,
            simulator: { speed: 0, profile: 'idle' },
            packs: [{ address: 210, name: 'Pack 1' }],
          },
        ],
      },
    ],
  });
  gw = new Gateway({ config, storage, busFactory: sims.busFactory });
  gw.link.subscribe((e) => emitted.push(e));
  dataDir = mkdtempSync(join(tmpdir(), 'obt-collector-'));
  outbox = SqliteOutbox.open({ dataDir, maxBytes: 64 * 1024 * 1024 });
  collector = new Collector({
    link: gw.link,
    outbox,
    dataDir,
    cloudUrl,
    drainBatchesPerS: 20,
    log: (lvl, m) => logs.push(`${lvl}: ${m}`),
    timing: {
      helloMs: 50,
      helloSlowMs: 200,
      resendAfterMs: 3000,
      backoffMinMs: 50,
      backoffMaxMs: 400,
    },
  });
  topics = uplinkTopics(collector.serial);

  cloud = mqtt.connect(broker.url, { clientId: `cloud-${collector.serial}`, reconnectPeriod: 100 });
  cloud.on('message', (topic, payload) => {
    const raw = decodeUplink(payload);
    if (topic === topics.up) {
      const batch = uplinkBatchSchema.parse(raw);
      for (const e of batch.events) {
        const k = key(e.run, e.seq);
        received.set(k, (received.get(k) ?? 0) + 1);
      }
      if (autoAck) {
        const ranges = batch.events.map((e) => ({ run: e.run, from: e.seq, to: e.seq }));
        cloud.publish(topics.ack, encodeUplink({ v: 1, ranges }), { qos: 1 });
      }
    } else if (topic === topics.status) statuses.push(collectorStatusSchema.parse(raw));
    else replies.push(replySchema.parse(raw));
  });
  await new Promise<void>((r) => cloud.once('connect', () => r()));
  await cloud.subscribeAsync([topics.up, topics.status, `${topics.res('node-1')}`], { qos: 1 });

  await gw.start();
  collector.start();
  await until('the collector to be claimed and connected', () => collector.stats().connected);
});

afterAll(async () => {
  await collector?.stop();
  await gw?.stop();
  outbox?.close();
  await storage?.close();
  cloud?.end(true);
  await new Promise((r) => hello?.close(r));
  await broker?.stop();
});

describe('linking', () => {
  it('asks hello until claimed, keeps the credentials 0600 and never logs the secrets', () => {
    expect(helloCalls).toBe(3);
    const id = readCollectorIdentity(dataDir)!;
    expect(id.serial).toMatch(/^OB[0-9A-HJKMNP-TV-Z]{10}$/);
    expect(id.claim_code).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
    expect(id.credentials?.password).toBe('the-secret-password');
    expect(statSync(join(dataDir, 'collector.json')).mode & 0o777).toBe(0o600);
    const all = logs.join('\n');
    expect(all).not.toContain('the-secret-password');
    expect(all).not.toContain(id.claim_code);
  });

  it('says online in a retained status with its backlog and dropped count', async () => {
    await until('a status', () => statuses.length > 0);
    expect(statuses[0]).toMatchObject({ v: 1, online: true, dropped: 0 });
    expect(typeof (statuses[0] as { backlog: unknown }).backlog).toBe('number');
  });
});

describe('store and forward', () => {
  it('deletes only what an ack names and sends the rest again', async () => {
    autoAck = false;
    const first = emitted.length;
    await until('8 new envelopes', () => emitted.length >= first + 8);
    const mine = emitted.slice(first, first + 8);
    await until('them at the cloud', () => mine.every((e) => received.has(key(e.run, e.seq))));
    // Ack the first four only (within resendAfterMs of their sending).
    const acked = mine.slice(0, 4);
    const run = acked[0]!.run;
    cloud.publish(
      topics.ack,
      encodeUplink({ v: 1, ranges: [{ run, from: acked[0]!.seq, to: acked[3]!.seq }] }),
      { qos: 1 },
    );
    const unacked = mine.slice(4);
    await until(
      'the unacknowledged ones again',
      () => unacked.every((e) => (received.get(key(e.run, e.seq)) ?? 0) >= 2),
      8000,
    );
    for (const e of acked) expect(received.get(key(e.run, e.seq))).toBe(1);
    autoAck = true;
    await until('the backlog to drain', () => collector.stats().backlog < 5, 8000);
  });

  it('loses nothing while the broker is down', async () => {
    const before = emitted.length;
    await broker.pause();
    await until('the collector to notice', () => !collector.stats().connected);
    await until('events during the outage', () => emitted.length >= before + 8);
    await broker.resume();
    const upTo = emitted.length;
    await until('the collector to reconnect', () => collector.stats().connected);
    await until(
      'every envelope at the cloud',
      () => emitted.slice(0, upTo).every((e) => received.has(key(e.run, e.seq))),
      12_000,
    );
    expect(collector.stats().connects).toBeGreaterThanOrEqual(2);
  });
});

describe('downlinks', () => {
  const down = (over: Record<string, unknown>) =>
    encodeUplink({
      v: SEAM_VERSION,
      id: `01JDOWN${Math.random().toString(36).slice(2, 12).toUpperCase()}`,
      replyTo: 'node-1',
      expiresAt: Date.now() + 10_000,
      ...over,
    });

  const replyTo = async (id: string): Promise<Reply> => {
    await until(`the reply to ${id}`, () => replies.some((r) => r.id === id));
    return replies.find((r) => r.id === id)!;
  };

  it('runs a command once, however often it arrives, and answers on res/<node>', async () => {
    const command = {
      v: SEAM_VERSION,
      txn: '01JDTXN0000000000000000001',
      gatewayId: gw.identity.gatewayId,
      packId: 's/b/210',
      principal: { userId: 'U1', username: 'otto', orgId: gw.identity.orgId },
      op: 'mos.set',
      args: { which: 'charge', on: false },
    };
    const n = (await gw.link.commands()).length;
    const msg = down({ id: 'DOWN-CMD-1', kind: 'command', command });
    cloud.publish(topics.cmd, msg, { qos: 1 });
    cloud.publish(topics.cmd, msg, { qos: 1 });
    await until('two replies', () => replies.filter((r) => r.id === 'DOWN-CMD-1').length === 2);
    const [a, b] = replies.filter((r) => r.id === 'DOWN-CMD-1');
    expect(a).toMatchObject({ ok: true, value: { txn: command.txn, status: 'done' } });
    expect(b).toEqual(a);
    expect((await gw.link.commands()).length).toBe(n + 1);
  });

  it('answers a read, and a read error with its code', async () => {
    cloud.publish(
      topics.cmd,
      down({ id: 'READ-1', kind: 'read', method: 'pack', args: ['s/b/210'] }),
      {
        qos: 1,
      },
    );
    expect(await replyTo('READ-1')).toMatchObject({ ok: true, value: { id: 's/b/210' } });
    cloud.publish(
      topics.cmd,
      down({ id: 'READ-2', kind: 'read', method: 'capabilities', args: ['s/b/999'] }),
      { qos: 1 },
    );
    expect(await replyTo('READ-2')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('never runs an expired command', async () => {
    const n = (await gw.link.commands()).length;
    const expired = collector.stats().expired;
    const command = {
      v: SEAM_VERSION,
      txn: '01JDTXN0000000000000000002',
      gatewayId: gw.identity.gatewayId,
      packId: 's/b/210',
      principal: { userId: 'U1', username: 'otto', orgId: gw.identity.orgId },
      op: 'mos.set',
      args: { which: 'charge', on: true },
    };
    cloud.publish(
      topics.cmd,
      down({ id: 'DOWN-OLD', kind: 'command', command, expiresAt: Date.now() - 1000 }),
      { qos: 1 },
    );
    // A read after it: downlinks are taken in order, so its reply means the first was seen.
    cloud.publish(topics.cmd, down({ id: 'READ-3', kind: 'read', method: 'sites', args: [] }), {
      qos: 1,
    });
    await replyTo('READ-3');
    expect(collector.stats().expired).toBe(expired + 1);
    expect(replies.some((r) => r.id === 'DOWN-OLD')).toBe(false);
    expect((await gw.link.commands()).length).toBe(n);
  });

  it('refuses malformed downlinks and keeps going', async () => {
    const malformed = collector.stats().malformed;
    cloud.publish(topics.cmd, Buffer.from([0xff, 0x00, 0x13]), { qos: 1 });
    cloud.publish(topics.cmd, Buffer.from('{"v":1,"oops"'), { qos: 1 });
    cloud.publish(topics.cmd, down({ id: 'BAD-1', kind: 'read', method: 'rm -rf', args: [] }), {
      qos: 1,
    });
    cloud.publish(topics.ack, Buffer.from('{"v":1,"ranges":[]}'), { qos: 1 });
    expect(await replyTo('BAD-1')).toMatchObject({
      ok: false,
      error: { code: 'REQUEST_INVALID', details: { field: 'method' } },
    });
    await until('four refusals', () => collector.stats().malformed === malformed + 4);
    cloud.publish(topics.cmd, down({ id: 'READ-4', kind: 'read', method: 'buses', args: [] }), {
      qos: 1,
    });
    expect(await replyTo('READ-4')).toMatchObject({ ok: true });
  });
});
