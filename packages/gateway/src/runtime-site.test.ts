/**
 * Run-time sites (`Gateway.setRuntimeSite`, used for the tracker batteries' BMS): applied live
 * with the packs' own ids, listed with the sites, removed with their buses stopped; a
 * configured site's id is refused. Real Gateway, real SQLite, a simulated JBD bus over TCP.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig, type BusConfig } from './config.js';
import { Gateway } from './gateway.js';
import { simulatedBuses } from './testing/index.js';
import type { PackRef } from './types.js';

let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let gw: Gateway;
const buses = simulatedBuses();

const simBus = (id: string): BusConfig => ({
  id,
  port: 'sim',
  protocol: 'jbd',
  poll_interval_s: 0.2,
  retries: 1,
  simulator: {
    profile: 'idle',
    speed: 0,
    seed: 1,
    soc_pct: 55,
    cells: 16,
    capacity_ah: 20,
    faults: [],
  },
  packs: [{ address: 0, chemistry: 'lfp', allow_unverified: false }],
});
const ref = (id: string, bus: string): PackRef => ({
  id,
  name: bus,
  site: 'tracker',
  bus,
  address: 0,
  protocol: 'jbd',
  chemistry: 'lfp',
});

beforeAll(async () => {
  storage = await openSqliteStorage({ dataDir: mkdtempSync(join(tmpdir(), 'obt-runtime-')) });
  const config = validateConfig({
    version: 1,
    sites: [{ id: 'home', buses: [{ ...simBus('b1'), packs: [{ address: 0 }] }] }],
  });
  gw = new Gateway({ config, storage, busFactory: buses.busFactory });
  await gw.start();
});

afterAll(async () => {
  await gw?.stop();
  await storage?.close();
});

describe('run-time sites', () => {
  it('refuses the id of a configured site', async () => {
    await expect(
      gw.setRuntimeSite({ id: 'home', buses: [{ bus: simBus('x'), packs: [ref('x/1', 'x')] }] }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('polls a run-time bus under the pack id given, then stops it when removed', async () => {
    const snapshot = new Promise<void>((resolve) => {
      const off = gw.events.on((e) => {
        if (e.type === 'snapshot' && e.packId === 'tracker/abc') {
          off();
          resolve();
        }
      });
    });
    const r = await gw.setRuntimeSite({
      id: 'tracker',
      name: 'Trackers',
      buses: [{ bus: simBus('abc'), packs: [ref('tracker/abc', 'abc')] }],
    });
    expect(r.started).toEqual(['tracker/abc']);
    await snapshot;
    expect(gw.pack('tracker/abc')?.snapshot?.cell_mv).toHaveLength(16);
    expect(gw.sites().map((s) => s.id)).toEqual(['home', 'tracker']);
    expect(gw.buses().map((b) => `${b.site}/${b.id}`)).toEqual(['home/b1', 'tracker/abc']);
    // The configured bus goes on untouched when the run-time site changes.
    const again = await gw.setRuntimeSite({ id: 'tracker', buses: [] });
    expect(again).toEqual({ started: [], stopped: ['tracker/abc'] });
    expect(gw.pack('tracker/abc')).toBeUndefined();
    expect(gw.sites().map((s) => s.id)).toEqual(['home']);
    expect(gw.packs().map((p) => p.id)).toEqual(['home/b1/0']);
  });
});
