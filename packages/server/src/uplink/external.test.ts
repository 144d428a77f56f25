/**
 * Scale-out mode: two cloud nodes ingest from an external broker (a real Mosquitto child)
 * through the shared subscription `$share/openbms-ingest/openbms/v1/+/up`, into one store.
 * Both take a share of the batches; each sees every batch live (node B's link shows what node
 * A stored); a node killed with batches in flight loses nothing: the collector sends again
 * what was not acknowledged and the other node stores it, once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayEnvelope } from '@openbms/contract/gateway';
import { newId, type TelemetryStore } from '@openbms/storage';
import { contractSnapshot } from '@openbms/storage/testing';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayRegistry } from '../gateways.js';
import { CollectorUplink } from './service.js';
import { claimedCollector, TestCollector } from '../testing/uplink.js';
import { ExternalBroker } from './transport.js';

const MOSQUITTO = '/usr/sbin/mosquitto';
const S = 'OB00000000E1';
const SECRET = 'external-secret'.padEnd(40, 'x');
const gw = newId();
const run = newId();

let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let broker: ChildProcess | undefined;
let brokerLog = '';
let url: string;
const nodes: { uplink: CollectorUplink; transport: ExternalBroker; gate?: () => void }[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A telemetry store whose writes wait until the gate opens (a node stuck before it is killed). */
function stuck(t: TelemetryStore): { store: TelemetryStore; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const store = Object.create(t) as TelemetryStore;
  store.writeSamples = async (o, s) => {
    await gate;
    return t.writeSamples(o, s);
  };
  return { store, open };
}

async function node(name: string, telemetry: TelemetryStore) {
  const transport = new ExternalBroker({ url, nodeId: name, log: () => undefined });
  const uplink = new CollectorUplink({
    transport,
    collectors: storage.remoteCollectors,
    telemetry,
    alarms: storage.alarms,
    registry: new GatewayRegistry([]),
    nodeId: name,
    brokerUrl: url,
    counts: {},
    log: () => undefined,
  });
  await uplink.start();
  return { uplink, transport };
}

const batch = (i: number): GatewayEnvelope[] =>
  [0, 1, 2, 3].map((k) => ({
    v: 1,
    gatewayId: gw,
    run,
    seq: i * 4 + k + 1,
    ts: 1_700_000_000_000 + (i * 4 + k) * 1000,
    type: 'snapshot',
    packId: `site/bus/${k + 1}`,
    snapshot: contractSnapshot(i * 4 + k),
  }));

async function stored(): Promise<number> {
  let n = 0;
  for (const k of [1, 2, 3, 4]) {
    const h = await storage.telemetry.history(
      { orgIds: [storage.identity.orgId], gatewayId: gw },
      {
        packId: `${S}/site/bus/${k}`,
        from: 0,
        to: 1_800_000_000_000,
        fields: ['soc_pct'],
        resolution: 'raw',
      },
    );
    n += h.series['soc_pct']?.avg.length ?? 0;
  }
  return n;
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'obt-mosq-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 5\n`,
  );
  broker = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf'), '-v'], { stdio: 'pipe' });
  broker.stderr!.on('data', (d: Buffer) => (brokerLog += d.toString()));
  broker.stdout!.on('data', (d: Buffer) => (brokerLog += d.toString()));
  url = `mqtt://127.0.0.1:${port}`;
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 1000 });
        c.once('connect', () => {
          c.end(true);
          resolve(true);
        });
        c.once('error', () => {
          c.end(true);
          resolve(false);
        });
      }),
    10_000,
    'mosquitto',
  );
  storage = await openSqliteStorage({ dataDir: mkdtempSync(join(tmpdir(), 'obt-ext-')) });
  await claimedCollector(storage.remoteCollectors, {
    serial: S,
    gatewayId: gw,
    orgId: storage.identity.orgId,
    secret: SECRET,
  });
});

afterAll(async () => {
  for (const n of nodes) {
    n.gate?.();
    n.transport.drop();
    await n.uplink.close().catch(() => undefined);
  }
  const b = broker;
  if (b && b.exitCode === null) {
    const done = new Promise((r) => b.once('exit', r));
    b.kill('SIGTERM');
    await done;
  }
  await storage?.close();
});

describe('two nodes on an external broker', () => {
  it('share the ingest, both show every batch live, and a killed node loses nothing', async () => {
    const a = stuck(storage.telemetry);
    const nodeA = await node('node-a', a.store);
    nodes.push({ ...nodeA, gate: a.open });
    const nodeB = await node('node-b', storage.telemetry);
    nodes.push(nodeB);
    const liveOnB: number[] = [];
    nodeB.uplink.link(S)!.subscribe((e) => liveOnB.push(e.seq));

    const c = await TestCollector.connect(url, S, SECRET);
    const N = 20;
    for (let i = 0; i < N; i++) await c.send(gw, batch(i));
    // Node A is stuck with its share in flight; node B stores and acks its own share.
    await waitFor(() => (nodeB.uplink.counts()['stored'] ?? 0) > 0, 10_000, 'node B storing');
    await waitFor(() => (nodeA.uplink.counts()['received'] ?? 0) > 0, 10_000, 'node A receiving');
    // Live: node B's link shows every envelope, those node A took included.
    await waitFor(() => liveOnB.length === N * 4, 10_000, 'every envelope live on node B');
    const bBefore = nodeB.uplink.counts()['received'] ?? 0;
    const aReceived = nodeA.uplink.counts()['received'] ?? 0;
    // Node A's handler holds one batch; the rest of its share wait in its socket or at the
    // broker (mqtt.js takes the next message only after the handler's callback).
    expect(aReceived).toBeGreaterThan(0);
    expect(bBefore).toBeLessThan(N);

    // Node A dies with its batches unacknowledged.
    nodeA.transport.drop();
    await waitFor(
      () =>
        /(Socket error on client|Client) openbms-cloud-node-a(,| ) ?(disconnecting|closed its connection|disconnected)/.test(
          brokerLog,
        ),
      5_000,
      'Mosquitto noticing node A gone',
    );
    // What the broker hands node B now is what it redelivers; it would come at once.
    await new Promise((r) => setTimeout(r, 300));
    const redeliveredToB = (nodeB.uplink.counts()['received'] ?? 0) - bBefore;
    const toA = brokerLog
      .split('\n')
      .filter((l) => /Sending PUBLISH to openbms-cloud-node-a \(d\d, q1/.test(l)).length;
    console.log(
      `mosquitto: ${toA} of ${N} batches went to node A at QoS 1 (its handler held ${aReceived}, ` +
        `none acknowledged) before it was killed; the broker then handed node B ${redeliveredToB}`,
    );

    // The collector sends again what has no ack.
    const acked = new Set<number>();
    for (const ranges of c.acks)
      for (const r of ranges) for (let s = r.from; s <= r.to; s++) acked.add(s);
    const resend = Array.from({ length: N }, (_, i) => i).filter((i) => !acked.has(i * 4 + 1));
    expect(resend.length).toBe(N - bBefore);
    for (const i of resend) await c.send(gw, batch(i));
    await c.until(
      () => {
        const all = new Set<number>();
        for (const ranges of c.acks)
          for (const r of ranges) for (let s = r.from; s <= r.to; s++) all.add(s);
        return all.size === N * 4;
      },
      10_000,
      'every envelope acknowledged',
    );
    expect(await stored()).toBe(N * 4);
    await c.end();
  });
});
