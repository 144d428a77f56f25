/**
 * The cloud side of the collector uplink with its embedded broker (aedes): real mqtt.js
 * clients play the collectors, the server's HTTP API and live WebSocket serve what they send,
 * SQLite stores it. Credentials, topic ACL, idempotent ingest acknowledged after storing,
 * malformed payloads counted and survived, commands down and results back.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { uplinkTopics, type GatewayEnvelope } from '@openbms/contract/gateway';
import { encodeUplink } from '@openbms/gateway';
import { newId, type RemoteCollectorStore } from '@openbms/storage';
import { contractSnapshot } from '@openbms/storage/testing';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../app.js';
import { GatewayRegistry } from '../gateways.js';
import { FakeGateway, fakePack } from '../testing/fake-gateway.js';
import { TEST_COST } from '../testing/harness.js';
import { LiveClient } from '../testing/ws-client.js';
import { uplinkMetrics } from '../uplink.js';
import { CollectorUplink } from './service.js';
import { claimedCollector, TestCollector } from '../testing/uplink.js';
import { EmbeddedBroker } from './transport.js';

const A = 'OB00000000A1';
const B = 'OB00000000B2';
const R = 'OB00000000C3';
const secretA = 'secret-a'.padEnd(40, 'a');
const secretB = 'secret-b'.padEnd(40, 'b');
const SECRET_R = 'secret-r'.padEnd(40, 'r');
const gwA = newId();
const gwB = newId();
const gwR = newId();
const run = newId();

let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let store: RemoteCollectorStore;
let uplink: CollectorUplink;
let app: FastifyInstance;
let url: string;
let mqttUrl: string;
let token: string;
let a: TestCollector;
const logged: string[] = [];

async function call(method: string, path: string, body?: unknown) {
  const r = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: JSON.parse(text) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const snap = (seq: number, packId: string, ts: number, gatewayId = gwA): GatewayEnvelope => ({
  v: 1,
  gatewayId,
  run,
  seq,
  ts,
  type: 'snapshot',
  packId,
  snapshot: contractSnapshot(seq),
});

const fleet = (local: string) => `${A}/${local}`;

async function samples(packId: string): Promise<number> {
  const h = await storage.telemetry.history(
    { orgIds: [storage.identity.orgId], gatewayId: gwA },
    { packId, from: 0, to: Date.now() + 1, fields: ['soc_pct'], resolution: 'raw' },
  );
  return h.series['soc_pct']?.avg.length ?? 0;
}

beforeAll(async () => {
  storage = await openSqliteStorage({ dataDir: mkdtempSync(join(tmpdir(), 'obt-uplink-')) });
  store = storage.remoteCollectors;
  const orgId = storage.identity.orgId;
  await claimedCollector(store, { serial: A, gatewayId: gwA, orgId, secret: secretA });
  await claimedCollector(store, { serial: B, gatewayId: gwB, orgId, secret: secretB });
  await claimedCollector(store, { serial: R, gatewayId: gwR, orgId, secret: SECRET_R });
  await store.revoke(R, 'u', Date.now());
  const registry = new GatewayRegistry([]);
  const counts: Record<string, number> = {};
  const transport = new EmbeddedBroker({
    port: 0,
    host: '127.0.0.1',
    nodeId: 'node-test',
    verify: (s, p) => store.verify(s, p),
    counts,
    log: () => undefined,
  });
  uplink = new CollectorUplink({
    transport,
    collectors: store,
    telemetry: storage.telemetry,
    alarms: storage.alarms,
    registry,
    nodeId: 'node-test',
    brokerUrl: '',
    counts,
    log: (_l, m) => logged.push(m),
  });
  const box = new FakeGateway([], storage.alarms, Date.now, storage.identity);
  app = await buildServer({ storage, gateway: box, registry, uplink, passwordCost: TEST_COST });
  await uplink.start();
  mqttUrl = `mqtt://127.0.0.1:${transport.port()}`;
  await app.listen({ port: 0, host: '127.0.0.1' });
  const ad = app.server.address();
  url = `http://127.0.0.1:${typeof ad === 'object' && ad ? ad.port : 0}`;
  const r = await fetch(`${url}/api/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'ada', password: 'ada-password' }),
  });
  token = ((await r.json()) as { token: string }).token;
  a = await TestCollector.connect(mqttUrl, A, secretA);
  // The collector answers reads of its packs and MOS commands as its gateway would.
  a.answer = (d) => {
    if (d.kind === 'read' && d.method === 'packs')
      return { ok: true, value: [fakePack('yard/rs/1'), fakePack('yard/rs/2')] };
    if (d.kind === 'command' && d.command.op === 'mos.set') {
      const c = d.command;
      return {
        ok: true,
        value: {
          v: 1,
          txn: c.txn,
          gatewayId: c.gatewayId,
          packId: c.packId,
          op: c.op,
          status: 'done',
          detail: 'charge MOSFET off',
          command: {
            id: 7,
            packId: c.packId,
            action: 'mos.charge',
            user: c.principal.username,
            at: Date.now(),
            status: 'done',
            detail: 'charge MOSFET off',
          },
          readback: { charge_mos: false },
        },
      };
    }
    return undefined;
  };
});

afterAll(async () => {
  await a?.end();
  await app?.close();
  await uplink?.close();
  await storage?.close();
});

describe('the embedded broker refuses what is not the collector itself', () => {
  it('wrong password, another collector’s credentials, a revoked collector', async () => {
    const before = uplink.counts()['auth_refused'] ?? 0;
    await expect(TestCollector.connect(mqttUrl, B, 'wrong')).rejects.toThrow(
      /Bad username or password|Not authorized/i,
    );
    // B's valid credentials presented under A's client id.
    await expect(TestCollector.connect(mqttUrl, B, secretB, { clientId: A })).rejects.toThrow();
    await expect(TestCollector.connect(mqttUrl, R, SECRET_R)).rejects.toThrow();
    expect(uplink.counts()['auth_refused']).toBe(before + 3);
    // /metrics shows the counts (appended to the box's exposition).
    expect(uplinkMetrics(uplink)).toContain(
      `openbms_uplink_messages_total{outcome="auth_refused"} ${before + 3}\n`,
    );
  });

  it('a collector cannot publish or subscribe under another serial, nor write another gateway’s data', async () => {
    const b = await TestCollector.connect(mqttUrl, B, secretB);
    const before = { ...uplink.counts() };
    // aedes closes the connection of a client whose publish it refuses (MQTT 3.1.1).
    // (no PUBACK comes: not awaited)
    void b
      .publishRaw(
        uplinkTopics(A).up,
        encodeUplink({ v: 1, gatewayId: gwA, events: [snap(1, 'yard/rs/1', 1_000)] }),
      )
      .catch(() => undefined);
    await b.until(
      () => (uplink.counts()['publish_refused'] ?? 0) > (before['publish_refused'] ?? 0),
      5000,
      'publish refusal',
    );
    b.client.end(true);
    const b2 = await TestCollector.connect(mqttUrl, B, secretB);
    // SUBACK 128: mqtt.js rejects the subscription.
    await expect(b2.client.subscribeAsync(uplinkTopics(A).cmd, { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    expect(uplink.counts()['subscribe_refused']).toBe((before['subscribe_refused'] ?? 0) + 1);
    // Under its own topic, but naming A's gateway: refused, not stored, not acked.
    await b2.send(gwA, [snap(1, 'yard/rs/1', 1_000, gwA)]);
    await b2.until(
      () => (uplink.counts()['foreign_gateway'] ?? 0) > (before['foreign_gateway'] ?? 0),
    );
    expect(b2.acks).toEqual([]);
    expect(await samples(fleet('yard/rs/1'))).toBe(0);
    await b2.end();
  });
});

describe('ingest', () => {
  it('stores a batch and acks each envelope once; the same batch again stores nothing new and is acked again', async () => {
    const t0 = Date.now() - 60_000;
    const batch = [
      snap(1, 'yard/rs/1', t0),
      snap(2, 'yard/rs/2', t0),
      snap(3, 'yard/rs/1', t0 + 1000),
    ];
    await a.send(gwA, batch);
    await a.until(() => a.acks.length === 1, 5000, 'the ack');
    expect(a.acks[0]).toEqual([{ run, from: 1, to: 3 }]);
    expect(await samples(fleet('yard/rs/1'))).toBe(2);
    expect(await samples(fleet('yard/rs/2'))).toBe(1);
    await a.send(gwA, batch);
    await a.until(() => a.acks.length === 2, 5000, 'the second ack');
    expect(a.acks[1]).toEqual([{ run, from: 1, to: 3 }]);
    expect(await samples(fleet('yard/rs/1'))).toBe(2);
    expect(await samples(fleet('yard/rs/2'))).toBe(1);
  });

  it('an envelope whose fleet pack id would be too long is dropped, counted and acknowledged; the rest of its batch is stored', async () => {
    // 195 characters pass the wire schema (200) but not the stores once the serial prefixes it.
    const long = `yard/${'x'.repeat(190)}`;
    const t0 = Date.now() - 50_000;
    const before = uplink.counts()['rejected'] ?? 0;
    const stored = await samples(fleet('yard/rs/2'));
    const acks = a.acks.length;
    await a.send(gwA, [snap(20, long, t0), snap(21, 'yard/rs/2', t0)]);
    await a.until(() => a.acks.length === acks + 1, 5000, 'the ack');
    expect(a.acks[acks]).toEqual([{ run, from: 20, to: 21 }]);
    expect(await samples(fleet('yard/rs/2'))).toBe(stored + 1);
    expect((uplink.counts()['rejected'] ?? 0) - before).toBe(1);
    expect(logged.some((m) => m.includes('(rejected)'))).toBe(true);
  });

  it('an alarm event stored twice is one alarm, cleared once', async () => {
    const raisedAt = Date.now() - 30_000;
    const alarm = {
      id: newId(),
      localId: 3,
      orgId: newId(), // the collector's own organisation: the cloud's replaces it
      gatewayId: gwA,
      packId: 'yard/rs/1',
      code: 'cell_ov',
      severity: 'protection' as const,
      origin: 'bms' as const,
      raisedAt,
      message: 'cell over voltage',
    };
    const raised: GatewayEnvelope = {
      v: 1,
      gatewayId: gwA,
      run,
      seq: 4,
      ts: raisedAt,
      type: 'alarm',
      state: 'raised',
      alarm,
    };
    const cleared: GatewayEnvelope = {
      ...raised,
      seq: 5,
      state: 'cleared',
      alarm: { ...alarm, clearedAt: raisedAt + 5000 },
    };
    const n = a.acks.length;
    await a.send(gwA, [raised, cleared]);
    await a.send(gwA, [raised, cleared]);
    await a.until(() => a.acks.length === n + 2, 5000, 'two acks');
    const list = await storage.alarms.list({ orgIds: [storage.identity.orgId], gatewayId: gwA });
    expect(list.map((x) => ({ packId: x.packId, code: x.code, clearedAt: x.clearedAt }))).toEqual([
      { packId: fleet('yard/rs/1'), code: 'cell_ov', clearedAt: raisedAt + 5000 },
    ]);
  });
});

describe('the API and live view serve the collector’s packs', () => {
  it('GET /packs lists them with fleet ids', async () => {
    const packs = await call('GET', '/api/v1/packs');
    expect(packs.status).toBe(200);
    const ids = (packs.body as { id: string }[]).map((p) => p.id).sort();
    expect(ids).toEqual([fleet('yard/rs/1'), fleet('yard/rs/2')]);
    const one = await call('GET', `/api/v1/packs/${encodeURIComponent(fleet('yard/rs/1'))}`);
    expect(one.status).toBe(200);
    expect(one.body.online).toBe(true);
  });

  it('a command goes down, the collector answers, the API returns its result with the fleet id', async () => {
    const r = await call(
      'POST',
      `/api/v1/packs/${encodeURIComponent(fleet('yard/rs/1'))}/commands/mos`,
      { which: 'charge', on: false },
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      command: { pack_id: fleet('yard/rs/1'), action: 'mos.charge', status: 'done' },
      readback: { charge_mos: false },
    });
    const down = a.downlinks.find((d) => d.kind === 'command');
    expect(down).toMatchObject({
      kind: 'command',
      replyTo: 'node-test',
      command: { op: 'mos.set', packId: 'yard/rs/1', gatewayId: gwA },
    });
    expect(down!.expiresAt).toBeGreaterThan(Date.now());
  });

  it('the live WebSocket gets a snapshot ingested', async () => {
    const c = await LiveClient.connect(`${url.replace('http', 'ws')}/api/v1/live?token=${token}`);
    expect((await c.next())['type']).toBe('hello');
    c.send({ subscribe: [fleet('yard/rs/2')] });
    expect(await c.next()).toMatchObject({ type: 'subscribed', packs: [fleet('yard/rs/2')] });
    await a.send(gwA, [snap(100, 'yard/rs/2', Date.now())]);
    for (;;) {
      const m = await c.next();
      if (
        m['type'] === 'snapshot' &&
        m['ts'] !== undefined &&
        (m['ts'] as number) > Date.now() - 5000
      ) {
        expect(m['pack_id']).toBe(fleet('yard/rs/2'));
        break;
      }
    }
    c.close();
    await c.closed;
  });

  it('hundreds of malformed payloads are counted, never acked, and the broker and node live on', async () => {
    const before = uplink.counts()['malformed'] ?? 0;
    const received = uplink.counts()['received'] ?? 0;
    const good = JSON.stringify({
      v: 1,
      gatewayId: gwA,
      events: [snap(9, 'yard/rs/1', Date.now())],
    });
    let seed = 42;
    const rnd = (k: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % k;
    };
    const payloads: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const kind = i % 3;
      if (kind === 0) payloads.push(randomBytes(1 + rnd(400)));
      else if (kind === 1) {
        // The good batch with a few characters changed: mostly broken JSON or schema.
        const chars = good.split('');
        for (let k = 0; k < 1 + rnd(4); k++)
          chars[rnd(chars.length)] = String.fromCharCode(32 + rnd(90));
        payloads.push(Buffer.from(chars.join('')));
      } else {
        const bad = [
          {},
          { v: 2, gatewayId: gwA, events: [] },
          { v: 1, gatewayId: gwA, events: [{ type: 'snapshot' }] },
          [1, 2],
          'x',
          null,
          { v: 1, gatewayId: gwA, events: new Array(501).fill(snap(1, 'p', 1)) },
        ];
        payloads.push(Buffer.from(JSON.stringify(bad[rnd(bad.length)])));
      }
    }
    for (const p of payloads) await a.publishRaw(uplinkTopics(A).up, p);
    // Some mutations still parse (a changed digit in a value): those are stored and acked.
    await a.until(
      () => (uplink.counts()['received'] ?? 0) >= received + payloads.length,
      10_000,
      'every payload handled',
    );
    expect((uplink.counts()['malformed'] ?? 0) - before).toBeGreaterThan(250);
    // Still serving: a good batch is stored and acked.
    const m = a.acks.length;
    await a.send(gwA, [snap(10, 'yard/rs/2', Date.now() - 10_000)]);
    await a.until(() => a.acks.length === m + 1, 5000, 'an ack after the fuzz');
  });

  it('an offline collector: commands refused at once with when it went offline', async () => {
    await a.end();
    await a.until(() => uplink.link(A)?.isOnline() === false, 5000, 'the will');
    const r = await call(
      'POST',
      `/api/v1/packs/${encodeURIComponent(fleet('yard/rs/1'))}/commands/mos`,
      { which: 'charge', on: true },
    );
    expect(r.status).toBe(504);
    expect(r.body.error).toMatch(new RegExp(`collector ${A} is offline since`));
    const packs = await call('GET', '/api/v1/packs');
    expect((packs.body as { online: boolean }[]).every((p) => !p.online)).toBe(true);
  });

  it('revoking removes the link and ends the connection', async () => {
    const b = await TestCollector.connect(mqttUrl, B, secretB);
    const closed = new Promise<void>((resolve) => b.client.once('close', () => resolve()));
    await store.revoke(B, 'u', Date.now());
    await uplink.revoked(B);
    await closed;
    expect(uplink.link(B)).toBeUndefined();
    await b.end().catch(() => undefined);
  });
});
