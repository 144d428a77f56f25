/**
 * The whole gateway on its demo site: simulated packs served on local TCP ports, polled by
 * the bus pollers, stored in a real SQLite file, alarms evaluated.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Modbus from 'modbus-serial';
import { afterEach, describe, expect, it } from 'vitest';
import { localScope } from '@openbms/storage';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { defaultConfig, validateConfig } from './config.js';
import type { BusFactory, BusRequest } from './buses.js';
import { Gateway } from './gateway.js';
import { simulatedBuses } from './testing/sim-buses.js';
import { MQTT_INTEGRATION } from './integrations/mqtt/descriptor.js';
import type { GatewayEvent } from './types.js';

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

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

describe('gateway on the demo site', () => {
  it('polls every demo pack, stores samples, and serves them as live status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openbms-gw-'));
    const storage = await openSqliteStorage({ dataDir: dir });
    stops.push(() => storage.close());
    const config = defaultConfig();
    config.sites = [];
    const sims = simulatedBuses();
    const gw = new Gateway({ config, storage, busFactory: sims.busFactory });
    const seen = new Set<string>();
    const all = new Promise<void>((resolve) => {
      gw.events.on((e) => {
        if (e.type === 'snapshot') seen.add(e.packId);
        if (seen.size === 7) resolve();
      });
    });
    await gw.start();
    stops.push(() => gw.stop());
    await all;
    const packs = gw.packs();
    expect(packs).toHaveLength(7);
    const online = packs.filter((p) => p.online);
    expect(online.length).toBe(7);
    for (const p of packs) {
      expect(p.snapshot?.voltage_v, p.id).toBeGreaterThan(40);
      expect(p.snapshot?.cell_mv, p.id).toHaveLength(16);
    }
    expect(await gw.writer.flush()).toBe(true);
    const latest = await storage.telemetry.latest(localScope(storage.identity), 'demo/rack/2');
    expect(latest?.snapshot.cell_mv).toHaveLength(16);
    expect(gw.sites()).toEqual([
      { id: 'demo', name: 'Demo site (simulated)', time_zone: gw.timeZone() },
    ]);
    expect(gw.buses().map((b) => [b.id, b.packs.length])).toEqual([
      ['rack', 4],
      ['pylon', 1],
      ['jk', 1],
      ['daly', 1],
    ]);
    // The rack is PACE (SOH on the wire), the kept Pylontech pack on its own bus.
    expect(packs.find((p) => p.id === 'demo/rack/1')?.protocol).toBe('pace');
    expect(packs.find((p) => p.id === 'demo/rack/1')?.snapshot?.soh_pct).toBeGreaterThan(0);
    expect(packs.find((p) => p.id === 'demo/pylon/2')?.protocol).toBe('pylontech');
  });

  it("counts energy in the simulated packs' time and goes on from the stored meters after a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openbms-gw-'));
    const storage = await openSqliteStorage({ dataDir: dir });
    stops.push(() => storage.close());
    const PACK = 'demo/jk/1';
    const snapshots = (gw: Gateway, n: number) =>
      new Promise<{ c: number; d: number; at: number; w: number }[]>((resolve) => {
        const got: { c: number; d: number; at: number; w: number }[] = [];
        const off = gw.events.on((e) => {
          if (e.type !== 'snapshot' || e.packId !== PACK) return;
          const s = e.snapshot;
          got.push({
            c: s.energy_charged_kwh!,
            d: s.energy_discharged_kwh!,
            at: e.ts,
            w: s.power_w!,
          });
          if (got.length === n) {
            off();
            resolve(got);
          }
        });
      });
    const run = async (n: number) => {
      const config = defaultConfig();
      config.sites = [];
      const gw = new Gateway({ config, storage, busFactory: simulatedBuses().busFactory });
      const got = snapshots(gw, n);
      await gw.start();
      const list = await got;
      await gw.stop();
      return list;
    };
    const first = await run(6);
    expect(first[0]).toMatchObject({ c: 0, d: 0 });
    const a = first.at(-1)!;
    const b = first.at(-2)!;
    // The demo runs at 60x: a step holds 60 times the energy of its wall-time span.
    const wallKwh = (((Math.abs(a.w) + Math.abs(b.w)) / 2) * (a.at - b.at)) / 3_600_000 / 1000;
    expect(wallKwh).toBeGreaterThan(0);
    const step = a.c + a.d - (b.c + b.d);
    expect(step / wallKwh).toBeGreaterThan(50);
    expect(step / wallKwh).toBeLessThan(70);
    // A new gateway on the same store starts from the last stored meters, not from 0.
    const second = await run(1);
    expect(second[0]!.c).toBeGreaterThanOrEqual(a.c);
    expect(second[0]!.d).toBeGreaterThanOrEqual(a.d);
    expect(second[0]!.c + second[0]!.d).toBeGreaterThan(0);
  });

  it('marks a pack offline with comm_lost when it leaves the bus, and back when it returns', async () => {
    const storage = await openSqliteStorage({});
    stops.push(() => storage.close());
    const config = validateConfig({
      version: 1,
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
              timeout_ms: 100,
              simulator: { speed: 1 },
              packs: [{ address: 2 }, { address: 3 }],
            },
          ],
        },
      ],
    });
    const sims = simulatedBuses();
    const gw = new Gateway({ config, storage, busFactory: sims.busFactory });
    await gw.start();
    stops.push(() => gw.stop());
    await until(gw, (e) => e.type === 'snapshot' && e.packId === 's/b/3');
    const sim = sims.simulations()[0]!;
    // The alarm follows the online event synchronously: listen for both before the fault.
    const offP = until(gw, (e) => e.type === 'online' && e.packId === 's/b/3' && !e.online);
    const alarmP = until(gw, (e) => e.type === 'alarm' && e.event.code === 'comm_lost');
    sim.bus.addFault({ kind: 'offline', address: 3 });
    const off = await offP;
    expect(off.type === 'online' && off.reason).toMatch(/no answer from address 3/);
    const alarm = await alarmP;
    expect(alarm.type === 'alarm' && alarm.event.packId).toBe('s/b/3');
    expect(gw.pack('s/b/2')?.online).toBe(true);
    const backP = until(gw, (e) => e.type === 'online' && e.packId === 's/b/3' && e.online);
    const clearedP = until(
      gw,
      (e) => e.type === 'alarm' && e.state === 'cleared' && e.event.code === 'comm_lost',
    );
    sim.bus.clearFaults();
    await backP;
    await clearedP;
    expect(gw.activeAlarms('s/b/3').filter((a) => a.code === 'comm_lost')).toEqual([]);
  });

  it('refuses a simulated bus whose configured addresses the simulator does not answer', async () => {
    const storage = await openSqliteStorage({});
    stops.push(() => storage.close());
    const config = validateConfig({
      version: 1,
      sites: [
        {
          id: 's',
          buses: [{ id: 'b', port: 'sim', protocol: 'pylontech', packs: [{ address: 9 }] }],
        },
      ],
    });
    const sims = simulatedBuses();
    const gw = new Gateway({ config, storage, busFactory: sims.busFactory });
    stops.push(() => gw.stop());
    await expect(gw.start()).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('answer at 2'),
    });
    // The refused bus's simulator is not left serving.
    expect(sims.simulations()).toEqual([]);
  });
});

describe('gateway bus factory', () => {
  const simConfig = () =>
    validateConfig({
      version: 1,
      sites: [
        {
          id: 's',
          buses: [
            {
              id: 'b',
              port: 'sim',
              protocol: 'pylontech',
              poll_interval_s: 0.2,
              simulator: { speed: 0 },
              packs: [{ address: 2 }],
            },
          ],
        },
      ],
    });

  it('refuses a port: sim bus when started without a simulator, naming the bus', async () => {
    const storage = await openSqliteStorage({});
    stops.push(() => storage.close());
    const gw = new Gateway({ config: simConfig(), storage });
    stops.push(() => gw.stop());
    await expect(gw.start()).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('bus s/b: port: sim needs the simulator'),
    });
    expect(gw.packs()).toEqual([]);
  });

  it('polls each bus on the endpoint its factory opened and closes it on stop', async () => {
    const storage = await openSqliteStorage({});
    stops.push(() => storage.close());
    const sims = simulatedBuses();
    const requests: BusRequest[] = [];
    let closed = 0;
    const busFactory: BusFactory = async (request) => {
      requests.push(request);
      const opened = await sims.busFactory(request);
      return { endpoint: opened.endpoint, close: () => (closed++, opened.close()) };
    };
    const gw = new Gateway({ config: simConfig(), storage, busFactory });
    stops.push(() => gw.stop());
    const polled = until(gw, (e) => e.type === 'snapshot' && e.packId === 's/b/2');
    await gw.start();
    await polled;
    expect(requests.map((r) => [r.site, r.bus.id, r.packs.map((p) => p.id)])).toEqual([
      ['s', 'b', ['s/b/2']],
    ]);
    const [bus] = gw.buses();
    expect(bus?.port).toMatch(/^sim \(tcp:\/\/127\.0\.0\.1:\d+\)$/);
    // What the poller read is what the served simulation holds (speed 0: frozen).
    const truth = sims.simulations()[0]!.packs[0]!.snapshot();
    expect(gw.pack('s/b/2')?.snapshot?.soc_pct).toBeCloseTo(truth.soc_pct!, 0);
    await gw.stop();
    expect(closed).toBe(1);
    expect(sims.simulations()).toEqual([]);
  });
});

describe('gateway with MQTT configured', () => {
  it('publishes availability and pack states to the broker', async () => {
    const { connectAsync } = await import('mqtt');
    const base = `obgw-${Math.random().toString(36).slice(2, 8)}`;
    const storage = await openSqliteStorage({});
    stops.push(() => storage.close());
    const config = validateConfig({
      version: 1,
      mqtt: { base_topic: base, interval_s: 1, homeassistant: { enabled: false } },
      sites: [
        {
          id: 's',
          buses: [
            {
              id: 'b',
              port: 'sim',
              protocol: 'daly',
              poll_interval_s: 0.5,
              simulator: { speed: 1 },
              packs: [{ address: 64 }],
            },
          ],
        },
      ],
    });
    const client = await connectAsync('mqtt://127.0.0.1:1883');
    stops.push(async () => {
      // Clear what this run left retained on the broker.
      await client.publishAsync(`${base}/status`, '', { retain: true });
      await client.endAsync();
    });
    const got = new Map<string, string>();
    const seen = new Promise<void>((resolve) => {
      client.on('message', (topic, payload) => {
        got.set(topic, payload.toString());
        if (
          got.get(`${base}/status`) === 'online' &&
          [...got.keys()].some((t) => t.endsWith('/state'))
        )
          resolve();
      });
    });
    await client.subscribeAsync(`${base}/#`);
    const sims = simulatedBuses();
    const gw = new Gateway({ config, storage, busFactory: sims.busFactory });
    await gw.start();
    stops.push(() => gw.stop());
    await seen;
    const stateTopic = [...got.keys()].find((t) => t.endsWith('/state'))!;
    const state = JSON.parse(got.get(stateTopic)!) as { voltage_v?: number; cell_mv?: number[] };
    expect(state.cell_mv).toHaveLength(16);
    expect(gw.integration(MQTT_INTEGRATION)!.publisher()?.status().connected).toBe(true);
    // Seed 001's IoT MQTT Panel dashboard points at the same topics.
    expect(JSON.stringify(gw.mqttPanel())).toContain(base);
  });
});

describe('gateway with Modbus TCP and metrics configured', () => {
  it('serves the seed 001 register block of each pack and Prometheus metrics', async () => {
    const { freePort } = await import('./testing/modbus.js');
    const port = await freePort();
    const storage = await openSqliteStorage({});
    stops.push(() => storage.close());
    const config = validateConfig({
      version: 1,
      modbus_tcp: { port },
      sites: [
        {
          id: 's',
          buses: [
            {
              id: 'b',
              port: 'sim',
              protocol: 'pylontech',
              poll_interval_s: 0.5,
              simulator: { speed: 0 },
              packs: [{ address: 2 }, { address: 3 }],
            },
          ],
        },
      ],
    });
    const sims = simulatedBuses();
    const gw = new Gateway({ config, storage, busFactory: sims.busFactory });
    const both = new Promise<void>((resolve) => {
      const seen = new Set<string>();
      gw.events.on((e) => {
        if (e.type === 'snapshot') seen.add(e.packId);
        if (seen.size === 2) resolve();
      });
    });
    await gw.start();
    stops.push(() => gw.stop());
    await both;
    // modbus-serial is CommonJS: under NodeNext its class is the default export's `default`.
    const client = new Modbus.default();
    await client.connectTCP('127.0.0.1', { port });
    stops.push(() => new Promise<void>((r) => client.close(() => r())));
    for (const [unit, id] of [
      [1, 's/b/2'],
      [2, 's/b/3'],
    ] as const) {
      client.setID(unit);
      const { data } = await client.readHoldingRegisters(0, 36);
      const snap = gw.pack(id)!.snapshot!;
      expect(data[0]).toBe(Math.round(snap.soc_pct!)); // SOC, %
      expect(data[35]).toBe(snap.cell_mv!.length); // number of cells
      expect(data[18]).toBe(snap.cell_mv![0]); // cell 1, mV
    }
    const text = await gw.metrics!.render();
    expect(text).toMatch(/^# TYPE /m);
    expect(text).toContain('pack="s/b/2"');
  });
});

describe('gateway with the UART tunnel configured', () => {
  it('lends the bus to a raw TCP client and resumes polling after it leaves', async () => {
    const { connect } = await import('node:net');
    const { getProtocol } = await import('@openbms/protocols');
    const storage = await openSqliteStorage({});
    stops.push(() => storage.close());
    const config = validateConfig({
      version: 1,
      tunnel: { enabled: true, bus: 's/b', port: 0, timeout_s: 30 },
      sites: [
        {
          id: 's',
          buses: [
            {
              id: 'b',
              port: 'sim',
              protocol: 'daly',
              poll_interval_s: 0.3,
              simulator: { speed: 0 },
              packs: [{ address: 64 }],
            },
          ],
        },
      ],
    });
    const sims = simulatedBuses();
    const gw = new Gateway({ config, storage, busFactory: sims.busFactory });
    await gw.start();
    stops.push(() => gw.stop());
    await until(gw, (e) => e.type === 'snapshot');
    const { port } = gw.tunnelStatus()!;
    const def = getProtocol('daly');
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const reply = new Promise<Uint8Array>((resolve) => {
      const framer = def.createFramer();
      socket.on('data', (chunk) => {
        for (const ev of framer.push(new Uint8Array(chunk)))
          if (ev.type === 'frame') resolve(ev.bytes);
      });
    });
    socket.write(def.encode({ command: 'pack_status', address: 0x40 }));
    const r = def.decode(await reply);
    expect(r.voltage_v).toBeCloseTo(gw.pack('s/b/64')!.snapshot!.voltage_v!, 0);
    expect(gw.tunnelStatus()!.client?.leased).toBe(true);
    socket.end();
    await until(gw, (e) => e.type === 'snapshot'); // polling resumes
    expect(gw.tunnelStatus()!.client).toBeUndefined();
  });
});
