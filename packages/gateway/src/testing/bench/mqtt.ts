/**
 * Bench: MQTT state publishes per second to the real broker for 100 packs (16 cells each),
 * counted as delivered to a subscriber. 100 packs at a 1 s interval need 100/s (200/s with
 * the alarm topic); the figure shows the headroom.
 */
import { EventBus, type PackStatus } from '../../types.js';
import { topics } from '../../integrations/mqtt/discovery.js';
import { MqttIntegration } from '../../integrations/mqtt/integration.js';
import { parseMqttConfig } from '../../integrations/mqtt/schema.js';
import { BROKER, Watcher, namespace } from '../mqtt.js';

const PACKS = 100;
const ROUNDS = 50;

function packs(): PackStatus[] {
  return Array.from({ length: PACKS }, (_, i) => ({
    id: `bench/b${Math.floor(i / 16)}/${i % 16}`,
    name: `Pack ${i}`,
    site: 'bench',
    bus: `b${Math.floor(i / 16)}`,
    address: i % 16,
    protocol: 'daly',
    chemistry: 'lfp' as const,
    online: true,
    snapshot: {
      voltage_v: 52.8,
      current_a: -3.2,
      power_w: -169,
      soc_pct: 64,
      cell_mv: Array.from({ length: 16 }, (_, c) => 3300 + c),
      temps_c: [24, 25],
      charge_mos: true,
      discharge_mos: true,
      alarms: [],
    },
    link: {
      requests: 0,
      replies: 0,
      retries: 0,
      timeouts: 0,
      checksum_errors: 0,
      polls: 0,
      failures: 0,
    },
  }));
}

export async function bench(): Promise<Record<string, number>> {
  const { base, prefix } = namespace();
  const list = packs();
  const watch = await Watcher.open([`${base}/+/state`, `${base}/status`]);
  const mqtt = new MqttIntegration({
    config: parseMqttConfig({
      url: BROKER,
      base_topic: base,
      interval_s: 3600,
      homeassistant: { enabled: false, discovery_prefix: prefix },
    }),
    events: new EventBus(),
    packs: () => list,
  });
  let received = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((r) => (done = r));
  watch.client.on('message', (topic) => {
    if (!topic.endsWith('/state')) return;
    if (++received === PACKS * (ROUNDS + 1)) done();
  });
  mqtt.start();
  // The first round is published on connect.
  await watch.on(`${base}/status`, (p) => p === 'online');
  const t0 = performance.now();
  for (let i = 0; i < ROUNDS; i++) await mqtt.flush();
  await all;
  const s = (performance.now() - t0) / 1000;
  await mqtt.stop();
  await watch.clear([`${base}/status`, ...list.map((p) => topics(base).availability(p.id))]);
  await watch.close();
  return { mqtt_publish_per_s: Math.round((PACKS * ROUNDS) / s) };
}
