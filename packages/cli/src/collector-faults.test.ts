/**
 * The collector uplink's faults with real processes (issue 15 "Faults", ADR 0019): a real
 * `openbms start` collector (two simulated DALY packs, `cloud: {url}`) and real
 * `openbms cloud --no-demo` nodes, killed and stopped for real:
 *
 * - the cloud stopped while the collector keeps polling (a backlog builds), the collector
 *   killed with SIGKILL while it holds that backlog, then both started again;
 * - the cloud down for OUTAGE_MS, then back;
 * - the external broker (a Mosquitto child on a free port) killed for OUTAGE_MS, then back;
 * - two cloud nodes on one PostgreSQL database and one Mosquitto: a WebSocket client of node
 *   A's /api/v1/live receives the collector's snapshots whichever node ingested them; node B is
 *   killed with SIGKILL while the data flows.
 *
 * After each fault, per pack, the sample times the cloud stored over the window equal the ones
 * the collector stored locally over the same window (its own database): 0 lost; the cloud's
 * count equals the collector's, and (pack, time) is the cloud's key: 0 duplicated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@openbms/storage-postgres/testing';
import {
  claim,
  eventually,
  freePort,
  killAll,
  makePlant,
  pgSampleTimes,
  restartCloud,
  restartCollector,
  sqliteSampleTimes,
  startCloud,
  startCollector,
  startMosquitto,
  type Cloud,
  type Collector,
} from './testing/collectors.js';

/**
 * How long the cloud and the broker stay down. The issue says 60 s; the suite uses a shorter
 * outage that still outlasts the collector's resend timer and MQTT keepalive (both 30 s or
 * less), so reconnection with backoff and the resend both happen. COLLECTOR_OUTAGE_MS=60000
 * runs the figure.
 */
const OUTAGE_MS = Number(process.env.COLLECTOR_OUTAGE_MS ?? 35_000);
/** How long the cloud has, after a fault, to hold every sample the collector holds. */
const CATCH_UP_MS = 90_000;
const PACKS = ['s1/a/64', 's1/b/64'];

const dirs: string[] = [];
const tmp = (name: string): string => {
  const d = mkdtempSync(join(tmpdir(), `openbms-${name}-`));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  await killAll();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The collector's local sample times of its packs (by its own pack id) within [from, to]. */
function localTimes(c: Collector, from: number, to: number): Map<string, number[]> {
  return sqliteSampleTimes(c.opts.dir, from, to);
}

/** The cloud's sample times of the collector's packs, by the collector's pack id. */
async function cloudTimes(
  where: { dir: string } | { pg: string },
  serial: string,
  from: number,
  to: number,
): Promise<Map<string, number[]>> {
  const all =
    'pg' in where
      ? await pgSampleTimes(where.pg, from, to)
      : sqliteSampleTimes(where.dir, from, to);
  const out = new Map<string, number[]>();
  for (const [pack, ts] of all)
    if (pack.startsWith(`${serial}/`)) out.set(pack.slice(serial.length + 1), ts);
  return out;
}

/** The newest sample time of a pack in the collector's own database. */
const lastLocal = (c: Collector): number =>
  Math.min(...PACKS.map((p) => (localTimes(c, 0, Number.MAX_SAFE_INTEGER).get(p) ?? [0]).at(-1)!));

/**
 * Waits until the cloud holds every sample the collector holds in [from, to], then checks the
 * sets are equal per pack (nothing lost, nothing extra) and returns the counts.
 */
async function sameSamples(
  c: Collector,
  where: { dir: string } | { pg: string },
  serial: string,
  from: number,
  to: number,
): Promise<Record<string, number>> {
  const local = localTimes(c, from, to);
  for (const p of PACKS)
    expect(local.get(p)?.length ?? 0, `local samples of ${p}`).toBeGreaterThan(3);
  let remote = new Map<string, number[]>();
  try {
    await eventually(
      'the cloud holds every sample the collector holds',
      async () => {
        remote = await cloudTimes(where, serial, from, to);
        return PACKS.every((p) => (remote.get(p)?.length ?? 0) >= local.get(p)!.length)
          ? true
          : undefined;
      },
      CATCH_UP_MS,
    );
  } catch {
    // The comparison below says what is missing.
  }
  const counts: Record<string, number> = {};
  for (const p of PACKS) {
    const l = local.get(p)!;
    const r = remote.get(p) ?? [];
    const missing = l.filter((t) => !r.includes(t));
    const extra = r.filter((t) => !l.includes(t));
    expect({ pack: p, missing, extra, cloud: r.length, collector: l.length }).toEqual({
      pack: p,
      missing: [],
      extra: [],
      cloud: l.length,
      collector: l.length,
    });
    counts[p] = l.length;
  }
  return counts;
}

/** A cloud with its embedded broker, a collector claimed into a plant, data flowing. */
async function embeddedSetup(): Promise<{
  cloud: Cloud;
  collector: Collector;
  serial: string;
  from: number;
}> {
  const cloud = await startCloud({
    dir: tmp('cloud'),
    httpPort: await freePort(),
    broker: { port: await freePort() },
  });
  const collector = await startCollector({
    dir: tmp('collector'),
    cloudUrl: cloud.url,
    buses: ['a', 'b'],
  });
  const serial = await claim(cloud, collector.opts.dir, await makePlant(cloud, 'Faults'));
  // Data flows: the cloud holds samples of both packs.
  const from = await eventually(
    'the first samples in the cloud',
    async () => {
      const t = await cloudTimes({ dir: cloud.opts.dir }, serial, 0, Number.MAX_SAFE_INTEGER);
      return PACKS.every((p) => (t.get(p)?.length ?? 0) >= 2)
        ? Math.max(...PACKS.map((p) => t.get(p)![0]!))
        : undefined;
    },
    60_000,
  );
  return { cloud, collector, serial, from };
}

describe('collector faults (real processes)', () => {
  it('collector killed with SIGKILL while it holds a backlog: 0 lost, 0 duplicated', async () => {
    const setup = await embeddedSetup();
    let { cloud, collector } = setup;
    const { serial, from } = setup;
    await cloud.proc.kill('SIGTERM');
    // A backlog builds: the collector keeps polling and storing with no cloud.
    const before = lastLocal(collector);
    await eventually('a backlog of 10 s', () =>
      lastLocal(collector) > before + 10_000 ? true : undefined,
    );
    await collector.proc.kill('SIGKILL');
    const to = lastLocal(collector);
    cloud = await restartCloud(cloud);
    collector = await restartCollector(collector);
    const counts = await sameSamples(collector, { dir: cloud.opts.dir }, serial, from, to);
    expect(Object.values(counts).every((n) => n >= 10)).toBe(true);
  }, 240_000);

  it(`cloud down ${OUTAGE_MS / 1000} s, then back: 0 lost, 0 duplicated`, async () => {
    const setup = await embeddedSetup();
    let { cloud } = setup;
    const { collector, serial, from } = setup;
    await cloud.proc.kill('SIGKILL');
    await sleep(OUTAGE_MS); // the outage itself
    cloud = await restartCloud(cloud);
    // Past the outage: samples polled after the cloud came back are in the window too.
    const after = Date.now();
    await eventually('new samples after the outage', () =>
      lastLocal(collector) > after + 3000 ? true : undefined,
    );
    await sameSamples(collector, { dir: cloud.opts.dir }, serial, from, after + 3000);
  }, 240_000);

  it(`external broker down ${OUTAGE_MS / 1000} s, then back: 0 lost, 0 duplicated`, async () => {
    const mqttPort = await freePort();
    const brokerDir = tmp('mosquitto');
    let broker = await startMosquitto(brokerDir, mqttPort);
    const cloud = await startCloud({
      dir: tmp('cloud'),
      httpPort: await freePort(),
      broker: { url: `mqtt://127.0.0.1:${mqttPort}` },
    });
    const collector = await startCollector({ dir: tmp('collector'), cloudUrl: cloud.url });
    const serial = await claim(cloud, collector.opts.dir, await makePlant(cloud, 'Broker'));
    const from = await eventually(
      'the first samples in the cloud',
      async () => {
        const t = await cloudTimes({ dir: cloud.opts.dir }, serial, 0, Number.MAX_SAFE_INTEGER);
        return PACKS.every((p) => (t.get(p)?.length ?? 0) >= 2)
          ? Math.max(...PACKS.map((p) => t.get(p)![0]!))
          : undefined;
      },
      60_000,
    );
    await broker.kill('SIGKILL');
    await sleep(OUTAGE_MS);
    broker = await startMosquitto(brokerDir, mqttPort);
    const after = Date.now();
    await eventually('new samples after the outage', () =>
      lastLocal(collector) > after + 3000 ? true : undefined,
    );
    await sameSamples(collector, { dir: cloud.opts.dir }, serial, from, after + 3000);
    expect(cloud.proc.running).toBe(true);
  }, 240_000);

  describe('two cloud nodes, PostgreSQL, Mosquitto', () => {
    let db: TestDatabase | undefined;
    afterAll(async () => {
      await db?.drop();
    });

    it("node A's live stream shows what node B ingests; killing node B loses nothing", async () => {
      db = await createTestDatabase();
      const mqttPort = await freePort();
      await startMosquitto(tmp('mosquitto'), mqttPort);
      const broker = { url: `mqtt://127.0.0.1:${mqttPort}` };
      const nodeA = await startCloud({
        dir: tmp('node-a'),
        httpPort: await freePort(),
        broker,
        storageUrl: db.url,
      });
      const collector = await startCollector({ dir: tmp('collector'), cloudUrl: nodeA.url });
      const serial = await claim(nodeA, collector.opts.dir, await makePlant(nodeA, 'Scale-out'));
      // Its credentials come from node A's hello answer (the collector's cloud.url); then node A
      // stops and node B alone ingests for a while.
      const stored = async (after: number) => {
        const t = await cloudTimes({ pg: db!.url }, serial, after, Number.MAX_SAFE_INTEGER);
        return PACKS.every((p) => (t.get(p)?.length ?? 0) >= 2)
          ? Math.max(...PACKS.map((p) => t.get(p)![0]!))
          : undefined;
      };
      const from = await eventually('node A stores samples', () => stored(0), 60_000);
      await nodeA.proc.kill('SIGTERM');
      const nodeB = await startCloud({
        dir: tmp('node-b'),
        httpPort: await freePort(),
        broker,
        storageUrl: db.url,
        accountsDir: nodeA.opts.dir,
      });
      const bAlone = Date.now();
      await eventually('node B alone stores samples', () => stored(bAlone), 60_000);
      const a = await restartCloud(nodeA);
      const ws = new WebSocket(`${a.url.replace('http', 'ws')}/api/v1/live?token=${a.token}`);
      const messages: Record<string, unknown>[] = [];
      ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as Record<string, unknown>));
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const id = `${serial}/s1/a/64`;
      // Node A serves the collector once it has read the claimed collectors (at start).
      ws.send(JSON.stringify({ subscribe: [id] }));
      await eventually('subscribed on node A', () =>
        messages.find((m) => m['type'] === 'subscribed') ? true : undefined,
      );
      expect(messages.find((m) => m['type'] === 'subscribed')).toMatchObject({ packs: [id] });
      const snap = await eventually('a live snapshot on node A', () =>
        messages.find((m) => m['type'] === 'snapshot' && m['pack_id'] === id),
      );
      expect(snap['snapshot']).toMatchObject({ cell_count: expect.any(Number) });
      ws.close();
      // Both nodes share the ingest now; B dies with whatever it had in flight.
      await sleep(3000);
      await nodeB.proc.kill('SIGKILL');
      const after = Date.now();
      await eventually('new samples after node B died', () =>
        lastLocal(collector) > after + 3000 ? true : undefined,
      );
      await sameSamples(collector, { pg: db.url }, serial, from, after + 3000);
      expect(a.proc.running).toBe(true);
    }, 240_000);
  });
});
