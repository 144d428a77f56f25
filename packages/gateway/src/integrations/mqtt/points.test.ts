/**
 * `mqtt.points_as`: the bridge publishes as one role of the gateway's organisation, under its
 * point groups (the server's rule, `visiblePoints` in storage). Against the real Mosquitto on
 * 127.0.0.1:1883 and a real Gateway (SQLite storage, the simulator): with `cycles` removed
 * from the End User Group, `points_as: end_user` publishes no state, discovery or JSON payload
 * with `cycles` while `soc_pct` is published; a change to the groups is followed; without
 * `points_as` `cycles` is published. And the key is checked strictly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BmsError } from '@openbms/core';
import { POINTS, type Storage } from '@openbms/storage';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { validateConfig } from '../../config.js';
import { Gateway } from '../../gateway.js';
import { simulatedBuses } from '../../testing/sim-buses.js';
import { BROKER, Watcher, namespace } from '../../testing/mqtt.js';
import { type MqttConfigInput } from './schema.js';

interface Rig {
  storage: Storage;
  orgId: string;
  watch: Watcher;
  base: string;
  prefix: string;
  close(): Promise<void>;
}

/** Every point but `cycles`, for any device model. */
const withoutCycles = (orgId: string, storage: Storage, show: string[]): Promise<unknown> =>
  storage.points!.replace(
    orgId,
    [{ name: 'End User Group', kind: 'end_user', roles: ['end_user'], points: { '*': show } }],
    Date.now(),
  );

async function rig(extra: Partial<MqttConfigInput>): Promise<Rig> {
  const { base, prefix } = namespace();
  const storage = await openSqliteStorage({});
  const orgId = storage.identity!.orgId;
  await withoutCycles(
    orgId,
    storage,
    POINTS.filter((k) => k !== 'cycles'),
  );
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
            simulator: { speed: 1, profile: 'idle' },
            packs: [{ address: 64, name: 'Rack A' }],
          },
        ],
      },
    ],
    mqtt: {
      url: BROKER,
      base_topic: base,
      interval_s: 1,
      homeassistant: { discovery_prefix: prefix },
      compat: { heartbeat: true, daily_max: true, pack: 'bat' },
      ...extra,
    },
  });
  const sims = simulatedBuses();
  const watch = await Watcher.open([`${base}/#`, `${prefix}/#`]);
  const gateway = new Gateway({ config, storage, busFactory: sims.busFactory });
  await gateway.start();
  return {
    storage,
    orgId,
    watch,
    base,
    prefix,
    async close() {
      await gateway.stop();
      storage.close?.();
      const retained = new Set(
        watch.seen.filter((m) => m.retain || m.payload !== '').map((m) => m.topic),
      );
      await watch.clear(retained);
      await watch.close();
    },
  };
}

const node = (r: Rig): string => `${r.base}_s_b_64`;
const cyclesIn = (r: Rig, from = 0): string[] =>
  r.watch.seen
    .slice(from)
    .filter((m) => m.topic.includes('cycles') || m.payload.includes('cycles'))
    .map((m) => m.topic);

describe('MQTT points_as: end_user, cycles not in the End User Group', () => {
  let r: Rig;
  beforeAll(async () => {
    r = await rig({ points_as: 'end_user' });
  });
  afterAll(async () => {
    await r?.close();
  });

  it('publishes soc_pct but never cycles: state, discovery, seed 001 payloads, system', async () => {
    const state = await r.watch.on(`${r.base}/s_b_64/state`, (p) => p.includes('"soc_pct"'));
    expect(JSON.parse(state.payload)).not.toHaveProperty('cycles');
    await r.watch.on(`${r.prefix}/sensor/${node(r)}/soc_pct/config`);
    // The last config of the pack's discovery, then a second state: every message of the first
    // full publish (states, compat payloads, discovery, system) has been seen.
    const last = await r.watch.on(`${r.prefix}/sensor/${node(r)}/alarms_text/config`);
    await r.watch.next(
      (m) => m.topic === `${r.base}/s_b_64/state` && m.at >= last.at,
      15_000,
      r.watch.seen.indexOf(last) + 1,
    );
    await r.watch.on(`${r.base}/s_b_64/compat/pack`, (p) => p.includes('"SOC"'));
    await r.watch.on(`${r.base}/s_b_64/compat/daily_max`, (p) => p.includes('"SCM"'));
    await r.watch.next(
      (m) =>
        m.topic.startsWith(`${r.base}/system/`) &&
        m.topic.endsWith('/state') &&
        m.payload.includes('"soc_pct"'),
    );
    expect(r.watch.seen.length).toBeGreaterThan(10);
    expect(cyclesIn(r)).toEqual([]);
  });

  it('follows a change of the groups: cycles shown again is published with its entity', async () => {
    const from = r.watch.seen.length;
    await withoutCycles(r.orgId, r.storage, [...POINTS]);
    const state = await r.watch.on(
      `${r.base}/s_b_64/state`,
      (p) => p.includes('"cycles"'),
      15_000,
      from,
    );
    expect(JSON.parse(state.payload)).toHaveProperty('soc_pct');
    await r.watch.on(`${r.prefix}/sensor/${node(r)}/cycles/config`, (p) => p !== '', 15_000, from);
    // Hidden again: its entity is removed (an empty retained config) and states lack it.
    const again = r.watch.seen.length;
    await withoutCycles(
      r.orgId,
      r.storage,
      POINTS.filter((k) => k !== 'cycles'),
    );
    await r.watch.on(`${r.prefix}/sensor/${node(r)}/cycles/config`, (p) => p === '', 15_000, again);
    const removed = r.watch.seen.findIndex(
      (m, i) => i >= again && m.topic === `${r.prefix}/sensor/${node(r)}/cycles/config`,
    );
    const next = await r.watch.on(`${r.base}/s_b_64/state`, () => true, 15_000, removed + 1);
    expect(JSON.parse(next.payload)).not.toHaveProperty('cycles');
    expect(JSON.parse(next.payload)).toHaveProperty('soc_pct');
  });
});

describe('MQTT without points_as', () => {
  let r: Rig;
  beforeAll(async () => {
    r = await rig({});
  });
  afterAll(async () => {
    await r?.close();
  });

  it('publishes every point, cycles included, whatever the groups', async () => {
    const state = await r.watch.on(`${r.base}/s_b_64/state`, (p) => p.includes('"cycles"'));
    expect(JSON.parse(state.payload)).toHaveProperty('soc_pct');
    await r.watch.on(`${r.prefix}/sensor/${node(r)}/cycles/config`);
  });
});

describe('mqtt.points_as is checked', () => {
  const errorOf = (fn: () => unknown): BmsError => {
    try {
      fn();
    } catch (e) {
      return e as BmsError;
    }
    throw new Error('did not throw');
  };

  it('takes one of seed 000 roles and refuses anything else, naming mqtt.points_as', () => {
    const c = validateConfig({ version: 1, mqtt: { points_as: 'installer' } });
    expect(c.mqtt?.points_as).toBe('installer');
    for (const bad of ['boss', 'End_User', '', 3, null, ['end_user']]) {
      const e = errorOf(() => validateConfig({ version: 1, mqtt: { points_as: bad } }));
      expect(e).toBeInstanceOf(BmsError);
      expect(e.message).toContain('mqtt.points_as');
    }
  });
});
