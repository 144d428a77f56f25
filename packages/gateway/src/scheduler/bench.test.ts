/** The bench figure, checked against its target. Slow (~15 s), so only with OPENBMS_BENCH=1. */
import { describe, expect, it } from 'vitest';
import { bench } from '../testing/bench/scheduler.js';

describe.skipIf(process.env.OPENBMS_BENCH !== '1')('scheduler bench', () => {
  it('poll_wire_ratio <= 1.25', async () => {
    const r = await bench();
    console.log(JSON.stringify(r));
    expect(r.poll_wire_ratio).toBeLessThanOrEqual(1.25);
  }, 60_000);
});
