import { expect, it } from 'vitest';
import { bench } from '../../testing/bench/mqtt.js';

it('sustains 100 packs at 1 s with headroom (bench)', async () => {
  const r = await bench();
  expect(r['mqtt_publish_per_s']).toBeGreaterThan(200);
});
