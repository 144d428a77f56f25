import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, createSimulation, serveTcp } from '@openbms/simulator';
import { run } from './main.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    stdin: async () => '',
  });
  return { code, out, err };
}

describe('openbms scan', () => {
  it('finds exactly the packs that answer on a bus (seed 002 automatic addressing)', async () => {
    const sim = createSimulation({
      protocol: 'pylontech',
      packs: 4,
      clock: new ManualClock(),
      profile: 'idle',
    });
    sim.bus.addFault({ kind: 'offline', address: 4 });
    const l = await serveTcp(sim.bus);
    cleanups.push(l.close);
    const r = await cli([
      'scan',
      '--port',
      l.endpoint,
      '--protocol',
      'pylontech',
      '--addresses',
      '2-6',
      '--timeout',
      '150',
      '--json',
    ]);
    expect(r.code, r.err + r.out).toBe(0);
    const hits = JSON.parse(r.out) as { address: number; cell_mv?: number[] }[];
    expect(hits.map((h) => h.address)).toEqual([2, 3, 5]);
    expect(hits[0]!.cell_mv).toHaveLength(16);
  });

  it('rejects a bad address range with a clear message', async () => {
    const r = await cli([
      'scan',
      '--port',
      'tcp://127.0.0.1:9',
      '--protocol',
      'jk',
      '--addresses',
      '5-x',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('--addresses: "5-x" is not an address or a range like 2-17');
  });
});
