/** The bench figure (about a second); the full figure is reported by scripts/bench.mjs. */
import { describe, expect, it } from 'vitest';
import { bench } from '../../testing/bench/modbus.js';

describe('modbus bench', () => {
  it('serves at least 200 block reads per second (loaded CI machines included)', async () => {
    const r = await bench(300);
    expect(r.modbus_requests_per_s).toBeGreaterThan(200);
  });
});
