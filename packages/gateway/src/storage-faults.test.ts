/**
 * The gateway when its storage fails, with real parts: a simulated pack polled over TCP, a
 * real SQLite file. A full disk is `PRAGMA max_page_count` on the gateway's own connection
 * after the file's last pages are filled (the next write that needs a page fails SQLITE_FULL);
 * a damaged file is pages overwritten with random bytes while the gateway runs. The writer's
 * flush is driven directly, so nothing waits on its timer. MQTT goes to the local broker
 * (OPENBMS_TEST_MQTT), Modbus is read with a real client.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GATEWAY_ALARM_SCOPE, prng } from '@openbms/core';
import { localScope } from '@openbms/storage';
import { openSqliteStorage, type Db } from '@openbms/storage-sqlite';
import { inThreadStorage } from '@openbms/storage-sqlite/testing';
import Modbus from 'modbus-serial';
import { parseAlarmRules } from './alarms/index.js';
import { BROKER, Watcher, namespace } from './testing/mqtt.js';
import { freePort } from './testing/modbus.js';
import { simulatedBuses } from './testing/sim-buses.js';
import { validateConfig } from './config.js';
import { Gateway } from './gateway.js';
import type { GatewayEvent } from './types.js';

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

const PACK = 's/b/2';

function config(extra: Record<string, unknown> = {}) {
  return validateConfig({
    version: 1,
    ...extra,
    storage: { batch_ms: 2000, integrity_check_h: 0 },
    sites: [
      {
        id: 's',
        buses: [
          {
            id: 'b',
            port: 'sim',
            protocol: 'pylontech',
            poll_interval_s: 0.2,
            retries: 0,
            timeout_ms: 200,
            simulator: { speed: 1 },
            packs: [{ address: 2 }],
          },
        ],
      },
    ],
  });
}

function until(gw: Gateway, pred: (e: GatewayEvent) => boolean): Promise<GatewayEvent> {
  return new Promise((resolve) => {
    const off = gw.events.on((e) => {
      if (pred(e)) {
        off();
        resolve(e);
      }
    });
  });
}

const snapshots = (gw: Gateway, n: number): Promise<number[]> =>
  new Promise((resolve) => {
    const ts: number[] = [];
    const off = gw.events.on((e) => {
      if (e.type !== 'snapshot' || e.packId !== PACK) return;
      ts.push(e.ts);
      if (ts.length === n) {
        off();
        resolve(ts);
      }
    });
  });

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'openbms-gw-storage-'));
  stops.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Caps the file at its size, then fills the pages where the next live samples of the pack
 * go: samples a day ahead until one is refused (this also uses up the free pages the
 * migrations left, which a split could otherwise take), then samples ten minutes ahead,
 * which sort right after the live ones, until one is refused again.
 */
function fillDisk(storage: ReturnType<typeof inThreadStorage>, conn: Db): void {
  conn.pragma(`max_page_count = ${conn.pragma('page_count', { simple: true })}`);
  // On the file's own (synchronous) class: nothing else writes until the pages are full.
  const fillFrom = (start: number): void => {
    for (let i = 0; i < 100_000; i++) {
      try {
        storage.file.telemetry.writeSamples(storage.identity, [
          { packId: PACK, ts: start + i, snapshot: { soc_pct: 1 } },
        ]);
      } catch (e) {
        expect((e as { code?: string }).code).toBe('STORAGE_FULL');
        return;
      }
    }
    throw new Error('the capped file never filled');
  };
  fillFrom(Date.now() + 86_400_000);
  fillFrom(Date.now() + 600_000);
}

describe('gateway storage faults', () => {
  it('full disk: polling, live events, alarms, MQTT and Modbus go on, storage_full is raised once (a small alarm write that fits does not clear it), samples wait in memory and are all written when space returns, then the alarm clears', async () => {
    // In the test's thread (the writer thread's own class), so the test reaches the
    // connection and caps the file: a full disk (the worker threads on a real full file
    // system: storage-sqlite's storage-tmpfs.test.ts).
    let conn: Db | undefined;
    const storage = inThreadStorage({ dataDir: dataDir(), onOpen: (db) => (conn = db) });
    stops.push(() => storage.close());
    const scope = localScope(storage.identity);
    const port = await freePort();
    const { base } = namespace();
    const watch = await Watcher.open([`${base}/#`]);
    stops.push(async () => {
      await watch.clear([`${base}/gateway/alarms`, `${base}/status`]);
      await watch.close();
    });
    const gw = new Gateway({
      config: config({
        modbus_tcp: { port },
        mqtt: { url: BROKER, base_topic: base, interval_s: 0.2, homeassistant: { enabled: false } },
      }),
      storage,
      busFactory: simulatedBuses().busFactory,
    });
    await gw.start();
    stops.push(() => gw.stop());
    await snapshots(gw, 1);
    expect(await gw.writer.flush()).toBe(true);
    expect((await gw.storageStatus()).status).toBe('ok');
    await watch.on(`${base}/gateway/alarms`, (p) => JSON.parse(p).active === 0);

    const raised = until(
      gw,
      (e) => e.type === 'alarm' && e.state === 'raised' && e.event.code === 'storage_full',
    );
    fillDisk(storage, conn!);
    const during = await snapshots(gw, 3); // polling and live events go on

    expect(await gw.writer.flush()).toBe(false);
    const alarm = await raised;
    expect(alarm.type === 'alarm' && alarm.event).toMatchObject({
      packId: GATEWAY_ALARM_SCOPE,
      origin: 'gateway',
      severity: 'fault',
    });
    expect(gw.activeAlarms().map((a) => `${a.packId}:${a.code}`)).toContain('gateway:storage_full');
    expect(await gw.storageStatus()).toMatchObject({ status: 'degraded', code: 'STORAGE_FULL' });
    expect(gw.writerStatus()).toMatchObject({ lastErrorCode: 'STORAGE_FULL', dropped: 0 });
    // MQTT: the gateway's alarm topic says so, and the pack's state keeps coming.
    const mqttAlarm = await watch.on(`${base}/gateway/alarms`, (p) => JSON.parse(p).active === 1);
    expect(JSON.parse(mqttAlarm.payload)).toMatchObject({
      fault: true,
      alarms: [{ code: 'storage_full', severity: 'fault' }],
    });
    const mark = watch.seen.length;
    await watch.on(`${base}/s_b_2/state`, () => true, 15_000, mark);
    // Modbus: the pack's register block is served from the live snapshot.
    const client = new Modbus.default();
    await client.connectTCP('127.0.0.1', { port });
    stops.push(() => new Promise<void>((r) => client.close(() => r())));
    client.setID(1);
    const { data } = await client.readHoldingRegisters(0, 36);
    expect(data[0]).toBe(Math.round(gw.pack(PACK)!.snapshot!.soc_pct!));
    expect(data[35]).toBe(gw.pack(PACK)!.snapshot!.cell_mv!.length);
    // A pack alarm raised now still reaches the bus and the active list.
    const socRule = until(gw, (e) => e.type === 'alarm' && e.event.ruleId === 'any-soc');
    gw.alarms.setRules(
      parseAlarmRules([
        { id: 'any-soc', name: 'Any SOC', metric: 'soc_pct', op: '>', threshold: -1, clear: -2 },
      ]),
    );
    await socRule;
    expect(gw.activeAlarms(PACK).map((a) => a.ruleId)).toContain('any-soc');

    const cleared = until(
      gw,
      (e) => e.type === 'alarm' && e.state === 'cleared' && e.event.code === 'storage_full',
    );
    conn!.pragma('max_page_count = 1073741823');
    await snapshots(gw, 1);
    expect(await gw.writer.flush()).toBe(true);
    await cleared;
    await watch.on(`${base}/gateway/alarms`, (p) => JSON.parse(p).active === 0, 15_000, mark);
    expect(await gw.storageStatus()).toMatchObject({ status: 'ok', problems: [], buffered: 0 });
    expect(gw.activeAlarms(GATEWAY_ALARM_SCOPE)).toEqual([]);
    // Every sample polled while the disk was full is stored.
    const h = await storage.telemetry.history(scope, {
      packId: PACK,
      from: during[0]!,
      to: during.at(-1)! + 1,
      fields: ['soc_pct'],
      resolution: 'raw',
    });
    for (const ts of during) expect(h.series['soc_pct']?.t).toContain(ts);
    // And the alarm events of the episode are in the history under their ids.
    const stored = await storage.alarms.list(scope, { packId: GATEWAY_ALARM_SCOPE });
    expect(stored.map((e) => [e.id, e.code, e.clearedAt !== undefined])).toEqual([
      [alarm.type === 'alarm' ? alarm.event.id : '', 'storage_full', true],
    ]);
  });

  it('database damaged while running: the periodic check raises storage_corrupt, the file is set aside, and new samples are stored in a fresh one', async () => {
    const dir = dataDir();
    const seed = await openSqliteStorage({ dataDir: dir });
    const old = Date.now() - 86_400_000;
    await seed.telemetry.writeSamples(
      seed.identity,
      Array.from({ length: 6000 }, (_, i) => ({
        packId: 's/old/1',
        ts: old + i * 1000,
        snapshot: { soc_pct: i % 100, voltage_v: 52.1, cell_mv: [3300, 3301, 3302, 3303] },
      })),
    );
    await seed.close();
    const storage = await openSqliteStorage({ dataDir: dir });
    const scope = localScope(storage.identity);
    stops.push(() => storage.close());
    const gw = new Gateway({ config: config(), storage, busFactory: simulatedBuses().busFactory });
    await gw.start();
    stops.push(() => gw.stop());
    await snapshots(gw, 1);
    expect(await gw.writer.flush()).toBe(true);

    // Garbage over pages in the middle of the file, behind SQLite's back.
    const path = join(dir, 'openbms.sqlite');
    const pages = Math.floor(statSync(path).size / 4096);
    const rnd = prng(11);
    const fd = openSync(path, 'r+');
    for (let p = Math.floor(pages / 2); p < Math.floor(pages / 2) + 6; p++) {
      const junk = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rnd() * 256)));
      writeSync(fd, junk, 0, 4096, p * 4096);
    }
    closeSync(fd);

    const raised = until(
      gw,
      (e) => e.type === 'alarm' && e.state === 'raised' && e.event.code === 'storage_corrupt',
    );
    await gw.storageWatch.check();
    await raised;
    const st = await gw.storageStatus();
    expect(st).toMatchObject({ status: 'degraded', code: 'STORAGE_CORRUPT' });
    expect(st.problems[0]?.files?.[0]).toMatch(/openbms\.sqlite\.corrupt-\d{8}T\d{6}Z$/);
    const after = await snapshots(gw, 2);
    expect(await gw.writer.flush()).toBe(true);
    // Both are in the fresh file (a later poll may have been flushed with them, so the
    // latest sample is at least the second one, not necessarily it).
    const fresh = await storage.telemetry.history(scope, {
      packId: PACK,
      from: after[0]!,
      to: after[1]! + 1,
      fields: ['soc_pct'],
      resolution: 'raw',
    });
    expect(fresh.series['soc_pct']?.t).toEqual(after);
    expect((await storage.telemetry.latest(scope, PACK))!.ts).toBeGreaterThanOrEqual(after[1]!);
    // The alarm is stored in the fresh file, under the id the engine handed out.
    const active = gw.activeAlarms(GATEWAY_ALARM_SCOPE);
    expect((await storage.alarms.list(scope, { active: true })).map((e) => e.id)).toEqual(
      active.map((e) => e.id),
    );
  });
});
