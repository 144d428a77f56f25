/**
 * Run by the last-will test as a separate process (bundled by esbuild): starts an
 * MqttIntegration on fake packs and waits to be killed.
 */
import { EventBus, type PackStatus } from '../types.js';
import { MqttIntegration } from '../integrations/mqtt/integration.js';
import { parseMqttConfig } from '../integrations/mqtt/schema.js';

const arg = JSON.parse(process.argv[2] ?? '{}') as { url: string; base: string; prefix: string };
const pack: PackStatus = {
  id: 'k/b/1',
  name: 'Killed pack',
  site: 'k',
  bus: 'b',
  address: 1,
  protocol: 'daly',
  chemistry: 'lfp',
  online: true,
  snapshot: { voltage_v: 52.1, current_a: 0, soc_pct: 50, cell_mv: [3300, 3301] },
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
const mqtt = new MqttIntegration({
  config: parseMqttConfig({
    url: arg.url,
    base_topic: arg.base,
    homeassistant: { discovery_prefix: arg.prefix },
  }),
  events: new EventBus(),
  packs: () => [pack],
});
mqtt.start();
setInterval(() => undefined, 60_000);
