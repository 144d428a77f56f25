/**
 * The ingest's group commit (docs/trackers.md "Measured") on a real SQLite store: fixes of
 * many connections arriving together are written in fewer transactions than calls, each call
 * resolves only once its fixes are stored, and a fix the store refuses fails its own call
 * alone (the others of the same shared write are stored).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { TrackerIngest, type TrackerFix } from './ingest.js';

const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);
const fix = (i: number, lat = 22.5 + i * 1e-4): TrackerFix => ({
  t: T0 + i * 1000,
  lat,
  lon: 113.9,
  valid: true,
});

describe('TrackerIngest positions (group commit)', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('groups concurrent calls into fewer writes; a refused fix fails only its own call', async () => {
    dir = mkdtempSync(join(tmpdir(), 'openbms-ingest-'));
    const storage = await openSqliteStorage({ dataDir: dir });
    try {
      const org = await storage.orgs!.createRoot({ kind: 'platform', name: 'P', createdAt: T0 });
      const ingest = new TrackerIngest({
        storage,
        identity: { orgId: org.id, gatewayId: '01JD000000000000000000GW01' },
        clock: () => T0,
      });
      const devs = await Promise.all(
        Array.from({ length: 50 }, (_, i) => ingest.device(`1380000${1000 + i}`, 'jt808')),
      );
      const calls = devs.map((d, i) =>
        ingest.positions(d, i === 17 ? [fix(0, 91)] : [fix(0), fix(1)]),
      );
      const settled = await Promise.allSettled(calls);
      expect(settled.filter((r) => r.status === 'rejected')).toHaveLength(1);
      expect(settled[17]).toMatchObject({
        status: 'rejected',
        reason: { code: 'REQUEST_INVALID' },
      });
      expect(ingest.counts.positions).toBe(49 * 2);
      // the first call is written alone, the others wait and go together (then call by call
      // for the shared write that held the refused fix)
      expect(ingest.counts.writes).toBeLessThan(calls.length);
      for (const [i, d] of devs.entries()) {
        const got = await storage.positions!.list(d.id, { from: T0, to: T0 + 10_000 });
        expect(got.map((p) => p.t)).toEqual(i === 17 ? [] : [T0, T0 + 1000]);
      }
      // a duplicate is stored once and counted
      await ingest.positions(devs[0]!, [fix(0), fix(2)]);
      expect(ingest.counts).toMatchObject({ positions: 99, duplicates: 1 });
    } finally {
      await storage.close();
    }
  });
});
