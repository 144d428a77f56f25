/**
 * Home Assistant's own rules (`testing/ha-rules.ts`: device_class <-> unit, state_class <->
 * device_class, required keys, template keys present in the state payload, unique ids) on
 * every retained discovery config of the demo site, read back from the real Mosquitto; and
 * every control HA is offered is one the pack's family can carry out (no CAPABILITY_MISSING).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { validateConfig } from '../../config.js';
import { Gateway } from '../../gateway.js';
import { checkConfig, type Finding } from '../../testing/ha-rules.js';
import { BROKER, Watcher, namespace } from '../../testing/mqtt.js';
import { simulatedBuses } from '../../testing/sim-buses.js';
import { MQTT_INTEGRATION } from './descriptor.js';

const json = (s: string): Record<string, unknown> => JSON.parse(s) as Record<string, unknown>;

describe('Home Assistant discovery of the demo site, judged by HA rules', () => {
  const { base, prefix } = namespace();
  let gateway: Gateway;
  let watch: Watcher;
  let closeStorage: () => void = () => undefined;

  beforeAll(async () => {
    const storage = await openSqliteStorage({});
    closeStorage = () => storage.close?.();
    const config = validateConfig({
      version: 1,
      demo: true,
      mqtt: {
        url: BROKER,
        base_topic: base,
        interval_s: 1,
        homeassistant: { discovery_prefix: prefix },
        commands: { enabled: true, mos: true, soc: true },
      },
    });
    watch = await Watcher.open([`${base}/#`, `${prefix}/#`]);
    gateway = new Gateway({ config, storage, busFactory: simulatedBuses().busFactory });
    await gateway.start();
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    closeStorage();
    if (watch) {
      await watch.clear(new Set(watch.seen.filter((m) => m.retain).map((m) => m.topic)));
      await watch.clear(
        new Set(watch.seen.filter((m) => m.topic.startsWith(prefix)).map((m) => m.topic)),
      );
      await watch.close();
    }
  });

  it('every retained config passes, and every offered control is one the family has', async () => {
    const packs = gateway.packs();
    expect(packs.length).toBe(7);
    // Discovery is complete once each pack's state carries the energy meters (two snapshots)
    // and the index lists every pack.
    expect(gateway.integration(MQTT_INTEGRATION)?.publisher()).toBeDefined();
    await watch.next((m) => {
      if (m.topic !== `${base}/discovery`) return false;
      const index = json(m.payload);
      return packs.every((p) => Array.isArray(index[p.id]));
    }, 60_000);
    for (const p of packs) {
      await watch.next(
        (m) =>
          m.topic === `${base}/${p.id.replaceAll('/', '_')}/state` &&
          m.payload.includes('energy_charged_kwh'),
        60_000,
      );
    }
    await watch.next(
      (m) =>
        m.topic === `${base}/discovery` &&
        Object.entries(json(m.payload)).every(
          ([owner, list]) =>
            !packs.some((p) => p.id === owner) ||
            (list as string[]).some((t) => t.endsWith('/energy_charged_kwh/config')),
        ),
      60_000,
    );

    // Read back what the broker keeps: retained configs, and a marker to know they are all in.
    const reader = await Watcher.open([`${prefix}/#`, `${base}/#`]);
    const marker = `${prefix}/zz-marker-${Date.now()}`;
    await reader.publish(marker, 'end');
    await reader.on(marker);
    const configs = reader.seen.filter((m) => m.retain && m.topic.endsWith('/config') && m.payload);
    const states = new Map<string, unknown>();
    for (const m of watch.seen) {
      if (m.payload.startsWith('{')) states.set(m.topic, json(m.payload));
    }
    await reader.close();

    const findings: Finding[] = [];
    const ids = new Map<string, string>();
    for (const c of configs) {
      findings.push(...checkConfig(prefix, c.topic, json(c.payload), states, ids));
    }
    const invalid = new Set(findings.map((f) => f.topic)).size;
    console.log(
      `HA rules: ${configs.length} configs, ${configs.length - invalid} valid, ${invalid} invalid`,
    );
    expect(findings).toEqual([]);
    expect(configs.length).toBeGreaterThan(200);

    // The energy meters HA's Energy dashboard takes, on every pack.
    for (const p of packs) {
      const uid = (k: string) => (c: { payload: string }) =>
        (json(c.payload)['unique_id'] as string).endsWith(k) &&
        c.payload.includes(`"state_topic":"${base}/${p.id.replaceAll('/', '_')}/state"`);
      for (const k of ['energy_charged_kwh', 'energy_discharged_kwh']) {
        const cfg = configs.find(uid(k));
        expect(cfg, `${p.id} ${k}`).toBeDefined();
        expect(json(cfg!.payload)).toMatchObject({
          device_class: 'energy',
          state_class: 'total_increasing',
          unit_of_measurement: 'kWh',
        });
      }
    }

    // Controls: each switch / number is an operation the pack's family has.
    const controls = configs.filter((c) => /\/(switch|number)\//.test(c.topic));
    expect(controls.length).toBeGreaterThan(0);
    let offered = 0;
    for (const c of controls) {
      const cfg = json(c.payload);
      const cmd = cfg['command_topic'] as string;
      const name = cmd.split('/')[1]!;
      const pack = packs.find((p) => p.id.replaceAll('/', '_') === name)!;
      const caps = gateway.control.capabilities(pack.id);
      const op = cmd.endsWith('/soc') ? 'set_soc' : 'set_mos';
      expect(caps.operations[op as 'set_mos'], `${pack.id} ${op}`).toBe(true);
      offered++;
    }
    // And the families that lack them get none (Pylontech has no MOS or SOC command here).
    for (const p of packs) {
      const caps = gateway.control.capabilities(p.id);
      const mine = controls.filter((c) => c.topic.includes(`_${p.id.replaceAll('/', '_')}/`));
      const expected =
        (caps.operations.set_mos && !(caps.unverified['set_mos'] && !caps.allowUnverified)
          ? 2
          : 0) +
        (caps.operations.set_soc && !(caps.unverified['set_soc'] && !caps.allowUnverified) ? 1 : 0);
      expect(mine.length, p.id).toBe(expected);
    }
    // And each one, used as HA would (sending the state it shows), is carried out: no
    // CAPABILITY_MISSING (13 of 18 controls answered that before discovery followed the family).
    const outcomes: Record<string, number> = {};
    for (const c of controls) {
      const cfg = json(c.payload);
      const cmd = cfg['command_topic'] as string;
      const state = states.get(cfg['state_topic'] as string) as Record<string, unknown>;
      const key = cmd.split('/').at(-1)!;
      const payload =
        key === 'soc' ? String(Math.round(state['soc_pct'] as number)) : state[key] ? 'ON' : 'OFF';
      const from = watch.seen.length;
      await watch.publish(cmd, payload);
      const result = json(
        (await watch.on(cmd.replace(/\/set\/[^/]+$/, '/result'), () => true, 30_000, from)).payload,
      );
      const outcome = result['ok'] ? 'ok' : String(result['code']);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      expect(result['code'], `${cmd} ${payload}: ${String(result['error'])}`).not.toBe(
        'CAPABILITY_MISSING',
      );
    }
    console.log(`HA controls offered: ${offered}; sent: ${JSON.stringify(outcomes)}`);
  }, 240_000);
});

describe('the HA rules checker', () => {
  it('finds what HA would refuse', () => {
    const states = new Map<string, unknown>([['b/p/state', { voltage_v: 52.1, cell_mv: [3300] }]]);
    const device = { identifiers: ['x'] };
    const origin = { name: 'OpenBMS' };
    const ok = {
      unique_id: 'u1',
      state_topic: 'b/p/state',
      value_template: '{{ value_json.voltage_v }}',
      device_class: 'voltage',
      state_class: 'measurement',
      unit_of_measurement: 'V',
      device,
      origin,
    };
    const ids = new Map<string, string>();
    expect(checkConfig('ha', 'ha/sensor/n/v/config', ok, states, ids)).toEqual([]);
    const rules = (cfg: Record<string, unknown>, topic = 'ha/sensor/n/w/config'): string[] =>
      checkConfig('ha', topic, cfg, states, new Map()).map((f) => f.rule);
    expect(rules({ ...ok, unit_of_measurement: 'Ah' })).toEqual([
      'unit Ah not allowed for device_class voltage',
    ]);
    expect(rules({ ...ok, device_class: 'energy', unit_of_measurement: 'kWh' })).toEqual([
      'state_class measurement not allowed for device_class energy',
    ]);
    expect(rules({ ...ok, value_template: '{{ value_json.cell_mv[1] }}' })).toEqual([
      'value_template reads value_json.cell_mv[1], out of the array',
    ]);
    expect(rules({ ...ok, value_template: '{{ value_json.soc_pct }}' })).toEqual([
      'value_template reads value_json.soc_pct, absent from b/p/state',
    ]);
    expect(rules({ ...ok, origin: undefined, state_topic: undefined })).toContain(
      'missing state_topic',
    );
    expect(rules(ok, 'ha/sensor/n.x/v/config')[0]).toMatch(/^topic is not/);
    expect(checkConfig('ha', 'ha/sensor/n/v2/config', ok, states, ids)[0]?.rule).toMatch(
      /^unique_id u1 also used/,
    );
  });
});
