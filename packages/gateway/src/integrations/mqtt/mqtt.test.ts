/**
 * The MQTT integration against the real Mosquitto on 127.0.0.1:1883 and a real Gateway
 * polling the simulator over TCP: retained discovery with the required keys, a sensor per
 * cell, states each interval, MOS switches through the safe write path with an
 * acknowledgement, an interlock refusal with its reason, entities removed with their pack,
 * and the last will when the process is killed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { validateConfig } from '../../config.js';
import { Gateway } from '../../gateway.js';
import { simulatedBuses, type SimulatedBuses } from '../../testing/sim-buses.js';
import { EventBus, type PackStatus } from '../../types.js';
import { MqttIntegration } from './integration.js';
import { parseMqttConfig, type MqttConfigInput } from './schema.js';
import { BROKER, Watcher, namespace } from '../../testing/mqtt.js';
import mqttClient from 'mqtt';

interface Rig {
  gateway: Gateway;
  /** The simulations behind the rig's `port: sim` bus. */
  sims: SimulatedBuses;
  mqtt: MqttIntegration;
  watch: Watcher;
  base: string;
  prefix: string;
  close(): Promise<void>;
}

async function rig(profile: string, extra: Partial<MqttConfigInput> = {}): Promise<Rig> {
  const { base, prefix } = namespace();
  const config = validateConfig({
    version: 1,
    sites: [
      {
        id: 's',
        buses: [
          {
            id: 'b',
            port: 'sim',
            protocol: 'daly',
            poll_interval_s: 0.5,
            simulator: { speed: 1, profile },
            packs: [{ address: 64, name: 'Rack A' }, { address: 65 }],
          },
        ],
      },
    ],
  });
  const storage = await openSqliteStorage({});
  const sims = simulatedBuses();
  const gateway = new Gateway({ config, storage, busFactory: sims.busFactory });
  const watch = await Watcher.open([`${base}/#`, `${prefix}/#`]);
  await gateway.start();
  const mqtt = new MqttIntegration({
    config: parseMqttConfig({
      url: BROKER,
      base_topic: base,
      interval_s: 1,
      homeassistant: { discovery_prefix: prefix },
      commands: { enabled: true, mos: true, soc: true },
      ...extra,
    }),
    events: gateway.events,
    packs: () => gateway.packs(),
    control: gateway.control,
  });
  mqtt.start();
  return {
    gateway,
    sims,
    mqtt,
    watch,
    base,
    prefix,
    async close() {
      await mqtt.stop();
      await gateway.stop();
      storage.close?.();
      // Leave nothing retained behind.
      const retained = new Set(
        watch.seen.filter((m) => m.retain || m.payload !== '').map((m) => m.topic),
      );
      await watch.clear(retained);
      await watch.close();
    },
  };
}

const json = (s: string): Record<string, unknown> => JSON.parse(s) as Record<string, unknown>;

describe('MQTT with Home Assistant discovery (idle packs)', () => {
  let r: Rig;
  beforeAll(async () => {
    r = await rig('idle');
  });
  afterAll(async () => {
    await r?.close();
  });

  it('publishes availability online, retained', async () => {
    await r.watch.on(`${r.base}/status`, (p) => p === 'online');
    expect(r.mqtt.status().connected).toBe(true);
    const late = await Watcher.open([`${r.base}/status`]);
    const m = await late.on(`${r.base}/status`);
    expect(m).toMatchObject({ payload: 'online', retain: true });
    await late.close();
  });

  it('publishes retained discovery configs with the required keys, one sensor per cell', async () => {
    const node = `${r.base}_s_b_64`;
    const soc = json((await r.watch.on(`${r.prefix}/sensor/${node}/soc_pct/config`)).payload);
    expect(soc).toMatchObject({
      unique_id: `openbms_${r.base}_s_b_64_soc_pct`,
      state_topic: `${r.base}/s_b_64/state`,
      device_class: 'battery',
      state_class: 'measurement',
      unit_of_measurement: '%',
      availability_mode: 'all',
      device: {
        identifiers: [`openbms_${r.base}_s_b_64`],
        name: 'Rack A',
        manufacturer: expect.any(String),
        model: expect.any(String),
        via_device: `openbms_${r.base}_gateway`,
      },
    });
    const volt = json((await r.watch.on(`${r.prefix}/sensor/${node}/voltage_v/config`)).payload);
    expect(volt).toMatchObject({ device_class: 'voltage', unit_of_measurement: 'V' });
    for (let i = 1; i <= 16; i++) {
      const c = json((await r.watch.on(`${r.prefix}/sensor/${node}/cell_mv_${i}/config`)).payload);
      expect(c).toMatchObject({
        unique_id: `openbms_${r.base}_s_b_64_cell_mv_${i}`,
        device_class: 'voltage',
        unit_of_measurement: 'mV',
        value_template: `{{ value_json.cell_mv[${i - 1}] }}`,
      });
    }
    for (const key of ['delta_cell_mv', 'min_cell_mv', 'max_cell_mv', 'cycles', 'temps_c_1']) {
      await r.watch.on(`${r.prefix}/sensor/${node}/${key}/config`);
    }
    const sw = json((await r.watch.on(`${r.prefix}/switch/${node}/discharge_mos/config`)).payload);
    expect(sw).toMatchObject({ command_topic: `${r.base}/s_b_64/set/discharge_mos` });
    await r.watch.on(`${r.prefix}/binary_sensor/${node}/alarm/config`);
    await r.watch.on(`${r.prefix}/sensor/${node}/alarms_text/config`);
    await r.watch.on(`${r.prefix}/sensor/${r.base}_system_s_b/power_w/config`);
    // Retained: a client that connects now gets them from the broker.
    const late = await Watcher.open([`${r.prefix}/sensor/${node}/cell_mv_16/config`]);
    expect((await late.next(() => true)).retain).toBe(true);
    await late.close();
    const text = await r.watch.on(`${r.base}/s_b_64/alarms`);
    expect(json(text.payload)).toMatchObject({ active: 0, text: 'none' });
  });

  it('re-sends discovery when Home Assistant comes online', async () => {
    const topic = `${r.prefix}/sensor/${r.base}_s_b_64/soc_pct/config`;
    await r.watch.on(topic);
    const from = r.watch.seen.length;
    await r.watch.publish(`${r.prefix}/status`, 'online');
    await r.watch.on(topic, () => true, 10_000, from);
  });

  it('updates the state each interval with the canonical JSON', async () => {
    const topic = `${r.base}/s_b_65/state`;
    const first = await r.watch.on(topic);
    const from = r.watch.seen.indexOf(first) + 1;
    const second = await r.watch.on(topic, () => true, 5000, from);
    const third = await r.watch.on(topic, () => true, 5000, r.watch.seen.indexOf(second) + 1);
    const s = json(third.payload);
    expect(s).toMatchObject({ protocol: 'daly', address: 65, soc_pct: expect.any(Number) });
    expect(s['cell_mv']).toHaveLength(16);
    expect(s).not.toHaveProperty('raw');
    // About one per interval (1 s), never a flood.
    expect(third.at - first.at).toBeGreaterThan(900);
    expect(third.at - first.at).toBeLessThan(4500);
  });

  it('switches the discharge MOSFET from MQTT and acknowledges', async () => {
    const sim = r.sims.simulations()[0]!.packs[0]!;
    expect(sim.snapshot().discharge_mos).toBe(true);
    const from = r.watch.seen.length;
    await r.watch.publish(`${r.base}/s_b_64/set/discharge_mos`, 'OFF');
    const ack = await r.watch.on(`${r.base}/s_b_64/result`, () => true, 15_000, from);
    expect(json(ack.payload)).toEqual({ command: 'discharge_mos', ok: true, value: 'OFF' });
    expect(sim.snapshot().discharge_mos).toBe(false);
    const on = r.watch.seen.length;
    await r.watch.publish(`${r.base}/s_b_64/set/discharge_mos`, 'ON');
    const ack2 = await r.watch.on(`${r.base}/s_b_64/result`, () => true, 15_000, on);
    expect(json(ack2.payload)).toMatchObject({ ok: true, value: 'ON' });
    expect(sim.snapshot().discharge_mos).toBe(true);
  });

  it('echoes the request id of a JSON command, and MQTT 5 correlation data to the response topic', async () => {
    const from = r.watch.seen.length;
    await r.watch.publish(`${r.base}/s_b_64/set/discharge_mos`, '{"value":"ON","id":"req-7"}');
    const ack = await r.watch.on(
      `${r.base}/s_b_64/result`,
      (p) => p.includes('req-7'),
      15_000,
      from,
    );
    expect(json(ack.payload)).toEqual({
      command: 'discharge_mos',
      ok: true,
      value: 'ON',
      id: 'req-7',
    });
    const bad = r.watch.seen.length;
    await r.watch.publish(`${r.base}/s_b_64/set/discharge_mos`, '{"value":"ON","id":""}');
    const refused = await r.watch.on(`${r.base}/s_b_64/result`, () => true, 5000, bad);
    expect(json(refused.payload)).toMatchObject({ ok: false, code: 'REQUEST_INVALID' });

    // An MQTT 5 client: correlation data and a response topic of its own.
    const v5 = await mqttClient.connectAsync(BROKER, { protocolVersion: 5, reconnectPeriod: 0 });
    try {
      const replyTopic = `${r.base}-replies/${Date.now()}`;
      await v5.subscribeAsync([replyTopic, `${r.base}/s_b_64/result`], { qos: 1 });
      const got = new Promise<{ topic: string; payload: string; corr?: string }[]>((resolve) => {
        const seen: { topic: string; payload: string; corr?: string }[] = [];
        v5.on('message', (topic, payload, packet) => {
          const c = packet.properties?.correlationData;
          seen.push({
            topic,
            payload: payload.toString(),
            ...(c ? { corr: c.toString('hex') } : {}),
          });
          if (seen.length === 2) resolve(seen);
        });
      });
      await v5.publishAsync(`${r.base}/s_b_64/set/discharge_mos`, 'ON', {
        qos: 1,
        properties: { correlationData: Buffer.from('c0ffee', 'hex'), responseTopic: replyTopic },
      });
      const msgs = await got;
      expect(msgs.map((m) => m.topic).sort()).toEqual(
        [`${r.base}/s_b_64/result`, replyTopic].sort(),
      );
      for (const m of msgs) {
        expect(m.corr).toBe('c0ffee');
        expect(json(m.payload)).toMatchObject({ command: 'discharge_mos', ok: true });
      }
    } finally {
      await v5.endAsync();
    }
  });

  it('answers a bad payload and an unknown pack with the reason', async () => {
    const from = r.watch.seen.length;
    await r.watch.publish(`${r.base}/s_b_64/set/charge_mos`, 'maybe');
    const bad = json((await r.watch.on(`${r.base}/s_b_64/result`, () => true, 5000, from)).payload);
    expect(bad).toMatchObject({ command: 'charge_mos', ok: false, code: 'REQUEST_INVALID' });
    await r.watch.publish(`${r.base}/nope/set/soc`, '50');
    const nf = json((await r.watch.on(`${r.base}/nope/result`, () => true, 5000, from)).payload);
    expect(nf).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });

  it('refuses payloads that are not exactly a command (1, 0, null, hex, exponent) and leaves the pack alone', async () => {
    const sim = r.sims.simulations()[0]!.packs[0]!;
    const before = sim.snapshot();
    const cases: [string, string][] = [
      ...['1', '0', 'null', 'on', 'off', '', ' ', '{}', '[]'].map((p): [string, string] => [
        'charge_mos',
        p,
      ]),
      ...['0x10', '1e3', 'null', 'true', '', '50%', '--5', 'Infinity'].map(
        (p): [string, string] => ['soc', p],
      ),
    ];
    for (const [what, payload] of cases) {
      const from = r.watch.seen.length;
      await r.watch.publish(`${r.base}/s_b_64/set/${what}`, payload);
      const res = json(
        (await r.watch.on(`${r.base}/s_b_64/result`, () => true, 5000, from)).payload,
      );
      expect(res, `${what} ${JSON.stringify(payload)}`).toMatchObject({
        command: what,
        ok: false,
        code: 'REQUEST_INVALID',
      });
    }
    const after = sim.snapshot();
    expect(after.charge_mos).toBe(before.charge_mos);
    // Not set to 0, 16 or 1000: only the slow drift of simulated time moves it.
    expect(after.soc_pct).toBeCloseTo(before.soc_pct!, 0);
  });
});

describe('MQTT commands under load', () => {
  it('refuses charge MOS off while discharging (interlock) with the reason', async () => {
    const r = await rig('constant:-10');
    try {
      const sim = r.sims.simulations()[0]!.packs[0]!;
      // Wait until the gateway has seen the discharge current.
      await r.watch.on(`${r.base}/s_b_64/state`, (p) => (json(p)['current_a'] as number) < -5);
      await r.watch.publish(`${r.base}/s_b_64/set/charge_mos`, 'OFF');
      const ack = json((await r.watch.on(`${r.base}/s_b_64/result`)).payload);
      expect(ack).toMatchObject({ command: 'charge_mos', ok: false, code: 'COMMAND_REFUSED' });
      expect(ack['error']).toMatch(/discharge current flows/);
      expect(sim.snapshot().charge_mos).toBe(true);
    } finally {
      await r.close();
    }
  });
});

function fakePack(id: string): PackStatus {
  const [site, bus, address] = id.split('/') as [string, string, string];
  return {
    id,
    name: `Pack ${id}`,
    site,
    bus,
    address: Number(address),
    protocol: 'daly',
    chemistry: 'lfp',
    online: true,
    snapshot: { voltage_v: 52, current_a: 1, soc_pct: 70, cell_mv: [3300, 3310, 3305, 3302] },
    link: {
      requests: 0,
      replies: 0,
      retries: 0,
      timeouts: 0,
      checksum_errors: 0,
      polls: 0,
      failures: 0,
    },
  };
}

describe('entities of removed packs', () => {
  it('empties the retained configs of a pack no longer configured (via the discovery index)', async () => {
    const { base, prefix } = namespace();
    const watch = await Watcher.open([`${base}/#`, `${prefix}/#`]);
    const cfg = parseMqttConfig({
      url: BROKER,
      base_topic: base,
      homeassistant: { discovery_prefix: prefix },
    });
    let packs = [fakePack('s/b/1'), fakePack('s/b/2')];
    const one = new MqttIntegration({ config: cfg, events: new EventBus(), packs: () => packs });
    one.start();
    const gone = `${prefix}/sensor/${base}_s_b_2/cell_mv_4/config`;
    await watch.on(gone, (p) => p !== '');
    await watch.on(`${base}/discovery`, (p) => p.includes(gone));
    await one.stop();
    packs = [fakePack('s/b/1')];
    const from = watch.seen.length;
    const two = new MqttIntegration({ config: cfg, events: new EventBus(), packs: () => packs });
    two.start();
    await watch.on(gone, (p) => p === '', 10_000, from);
    const index = await watch.on(
      `${base}/discovery`,
      (p) => p.includes('s_b_1') && !p.includes('s_b_2'),
      10_000,
      from,
    );
    expect(Object.keys(json(index.payload))).toContain('s/b/1');
    await two.stop();
    await watch.clear(new Set(watch.seen.map((m) => m.topic)));
    await watch.close();
  });
});

describe('entities of commands a family does not have', () => {
  it('offers a MOS switch and a SOC number only where the family has the command and may send it', async () => {
    const { base, prefix } = namespace();
    const watch = await Watcher.open([`${prefix}/#`]);
    const cfg = parseMqttConfig({
      url: BROKER,
      base_topic: base,
      homeassistant: { discovery_prefix: prefix },
      commands: { enabled: true, mos: true, soc: true },
    });
    const withMos = (id: string): PackStatus => {
      const p = fakePack(id);
      p.snapshot = { ...p.snapshot, charge_mos: true, discharge_mos: true };
      return p;
    };
    const packs = [withMos('s/b/1'), withMos('s/b/2')];
    // Pack 1: a family without MOS or SOC commands (Pylontech); pack 2: MOS, and SOC behind
    // the unverified switch that is off (PACE).
    const caps: Record<
      string,
      { operations: Record<string, boolean>; unverified: Record<string, string> }
    > = {
      's/b/1': { operations: { set_mos: false, set_soc: false }, unverified: {} },
      's/b/2': {
        operations: { set_mos: true, set_soc: true },
        unverified: { set_soc: 'one document' },
      },
    };
    const control = {
      setMos: () => Promise.resolve(undefined),
      setSoc: () => Promise.resolve(undefined),
      capabilities: (id: string) => ({ ...caps[id]!, allowUnverified: false }),
    };
    const m = new MqttIntegration({
      config: cfg,
      events: new EventBus(),
      packs: () => packs,
      control,
    });
    m.start();
    const n1 = `${base}_s_b_1`;
    const n2 = `${base}_s_b_2`;
    await watch.on(`${prefix}/binary_sensor/${n1}/charge_mos/config`, (p) => p !== '');
    await watch.on(`${prefix}/switch/${n2}/charge_mos/config`, (p) => p !== '');
    await watch.on(`${prefix}/sensor/${n2}/soc_pct/config`, (p) => p !== '');
    const topics = new Set(watch.seen.filter((x) => x.payload !== '').map((x) => x.topic));
    expect(topics.has(`${prefix}/switch/${n1}/charge_mos/config`)).toBe(false);
    expect(topics.has(`${prefix}/number/${n1}/set_soc/config`)).toBe(false);
    expect(topics.has(`${prefix}/number/${n2}/set_soc/config`)).toBe(false);
    await m.stop();
    await watch.clear(new Set(watch.seen.map((x) => x.topic)));
    await watch.close();
  });
});

describe('last will', () => {
  it('goes offline (retained) when the process is killed', async () => {
    const { base, prefix } = namespace();
    const dir = mkdtempSync(join(tmpdir(), 'obt-mqtt-'));
    const out = join(dir, 'child.cjs');
    const core = fileURLToPath(new URL('../../../../core/src/index.ts', import.meta.url));
    await build({
      entryPoints: [fileURLToPath(new URL('../../testing/mqtt-child.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: out,
      external: ['mqtt'],
      alias: { '@openbms/core': core },
      logLevel: 'silent',
    });
    const watch = await Watcher.open([`${base}/status`]);
    const child = spawn(process.execPath, [out, JSON.stringify({ url: BROKER, base, prefix })], {
      env: {
        ...process.env,
        NODE_PATH: fileURLToPath(new URL('../../../../../node_modules', import.meta.url)),
      },
      stdio: 'ignore',
    });
    try {
      await watch.on(`${base}/status`, (p) => p === 'online');
      const from = watch.seen.length;
      child.kill('SIGKILL');
      await watch.on(`${base}/status`, (p) => p === 'offline', 15_000, from);
      const late = await Watcher.open([`${base}/status`]);
      expect(await late.on(`${base}/status`)).toMatchObject({ payload: 'offline', retain: true });
      await late.close();
    } finally {
      child.kill('SIGKILL');
      const all = await Watcher.open([`${base}/#`, `${prefix}/#`]);
      await all.clear([`${base}/status`]);
      // Retained leftovers of the child (discovery, availability).
      await new Promise<void>((res) => setImmediate(res));
      await all.clear(new Set(all.seen.map((m) => m.topic)));
      await all.close();
      await watch.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
