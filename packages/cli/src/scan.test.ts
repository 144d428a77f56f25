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

  it('finds Seplos V3 packs by unit with --variant v3 (Modbus), none with the ASCII default', async () => {
    const sim = createSimulation({
      protocol: 'seplos',
      variant: 'v3',
      packs: 3,
      clock: new ManualClock(),
      profile: 'idle',
    });
    const l = await serveTcp(sim.bus);
    cleanups.push(l.close);
    const args = ['scan', '--port', l.endpoint, '--protocol', 'seplos', '--addresses', '0-4'];
    const r = await cli([...args, '--variant', 'v3', '--timeout', '150', '--json']);
    expect(r.code, r.err + r.out).toBe(0);
    const hits = JSON.parse(r.out) as { address: number; voltage_v?: number }[];
    expect(hits.map((h) => h.address)).toEqual([0, 1, 2]);
    expect(hits[0]!.voltage_v).toBeGreaterThan(40);
    // The V2 (ASCII) requests get no answer from Modbus boards.
    const none = await cli([...args, '--timeout', '100', '--json']);
    expect(JSON.parse(none.out)).toEqual([]);
  });

  it('finds the PACE packs of a rack at their DIP-switch addresses', async () => {
    const sim = createSimulation({
      protocol: 'pace',
      packs: 3,
      clock: new ManualClock(),
      profile: 'idle',
    });
    sim.bus.addFault({ kind: 'offline', address: 2 });
    const l = await serveTcp(sim.bus);
    cleanups.push(l.close);
    const r = await cli([
      'scan',
      '--port',
      l.endpoint,
      '--protocol',
      'pace',
      '--addresses',
      '1-4',
      '--timeout',
      '500',
      '--json',
    ]);
    expect(r.code, r.err + r.out).toBe(0);
    const hits = JSON.parse(r.out) as { address: number; soh_pct?: number }[];
    expect(hits.map((h) => h.address)).toEqual([1, 3]);
    expect(hits[0]!.soh_pct).toBeGreaterThan(0);
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

describe('openbms start with an unusable data directory', () => {
  it('stops with a clear storage error and touches nothing', async () => {
    const r = await cli(['start', '--data-dir', '/dev/null/openbms', '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^error \[STORAGE_(FAILED|READ_ONLY)\]: cannot create data directory \/dev\/null\/openbms/m,
    );
  });

  it('rejects a corrupt config naming the key before starting anything', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'openbms-cfg-'));
    const file = join(dir, 'openbms.yaml');
    writeFileSync(
      file,
      'version: 1\nsites:\n  - id: home\n    buses:\n      - { id: b, port: /dev/ttyUSB0, protocol: pylontech, baud: fast, packs: [{ address: 2 }] }\n',
    );
    const r = await cli(['start', '--config', file, '--data-dir', dir, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('sites[0].buses[0].baud');
  });
});
