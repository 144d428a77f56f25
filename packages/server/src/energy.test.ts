/**
 * Daily and monthly energy over the API (issue 12), against a real SQLite store holding a day
 * and a half of two packs' samples with their energy meters: a pack's days and months, a
 * site's packs summed, the CSV and Excel downloads in the site's zone, who may ask, and the
 * 400s and 404s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import type { Sample } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './testing/harness.js';

const T0 = Date.UTC(2030, 0, 2);
const P1 = 'home/bus1/1';
const P2 = 'home/bus1/2';
const enc = encodeURIComponent;

let dir: string;
let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let h: Harness;
let viewer: string;

/** Samples every 5 min from T0 for 36 h; the meters grow by `c` / `d` hundredths of a kWh each. */
function meters(packId: string, c: number, d: number): Sample[] {
  return Array.from({ length: 432 }, (_, i) => ({
    packId,
    ts: T0 + i * 5 * 60_000,
    snapshot: {
      voltage_v: 52,
      soc_pct: 50,
      energy_charged_kwh: (i * c) / 100,
      energy_discharged_kwh: (i * d) / 100,
    },
  }));
}

interface Row {
  period: string;
  start: number;
  charged_kwh: number;
  discharged_kwh: number;
}
const last2 = (rows: Row[]) =>
  rows.slice(-2).map((r) => [r.period, r.charged_kwh, r.discharged_kwh]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-energy-'));
  storage = await openSqliteStorage({ dataDir: dir, identity: TEST_ORIGIN });
  await storage.telemetry.writeSamples(TEST_ORIGIN, [...meters(P1, 5, 2), ...meters(P2, 1, 3)]);
  const { alarms, audit, users, telemetry } = storage;
  h = await startHarness({ storage: { alarms, audit, users, telemetry }, dataDir: dir });
  h.clock.set(Date.UTC(2030, 0, 3, 12));
  const admin = await h.setupAdmin();
  viewer = await h.addUser(admin, 'vera', 'viewer');
});

afterAll(async () => {
  await h?.close();
  await storage?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /packs/:id/energy and /sites/:id/energy', () => {
  it("gives a pack's last 30 days (UTC without a site zone), today so far last", async () => {
    const r = await h.call('GET', `/api/v1/packs/${enc(P1)}/energy`, { token: viewer });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ period: 'day', time_zone: 'UTC' });
    expect(r.body.total).toHaveLength(30);
    expect(r.body.total[0]).toMatchObject({ period: '2029-12-05', start: Date.UTC(2029, 11, 5) });
    // 287 steps of 0.05 / 0.02 kWh end on the 2nd, 144 on the 3rd (until 11:55).
    expect(last2(r.body.total)).toEqual([
      ['2030-01-02', 14.35, 5.74],
      ['2030-01-03', 7.2, 2.88],
    ]);
    expect(r.body.packs).toEqual([{ pack_id: P1, rows: r.body.total }]);
  });

  it("sums a site's packs, each listed too; months", async () => {
    const r = await h.call('GET', '/api/v1/sites/home/energy', { token: viewer });
    expect(r.status).toBe(200);
    expect(last2(r.body.total)).toEqual([
      ['2030-01-02', 17.22, 14.35],
      ['2030-01-03', 8.64, 7.2],
    ]);
    expect(r.body.packs.map((p: { pack_id: string }) => p.pack_id)).toEqual([P1, P2]);
    const m = await h.call('GET', '/api/v1/sites/home/energy?period=month', { token: viewer });
    expect(m.body.total).toHaveLength(12);
    expect(m.body.total[0].period).toBe('2029-02');
    expect(last2(m.body.total)).toEqual([
      ['2029-12', 0, 0],
      ['2030-01', 25.86, 21.55],
    ]);
    // One bus of the site (a parallel system); a bus it does not have is 404.
    const bus = await h.call('GET', '/api/v1/sites/home/energy?bus=bus1&count=1', {
      token: viewer,
    });
    expect(bus.body.packs).toHaveLength(2);
    const nobus = await h.call('GET', '/api/v1/sites/home/energy?bus=bus9', { token: viewer });
    expect(nobus.body).toEqual({ error: 'no bus "bus9" on site "home"', code: 'NOT_FOUND' });
    const three = await h.call('GET', `/api/v1/packs/${enc(P2)}/energy?count=3`, { token: viewer });
    expect(three.body.total.map((x: Row) => x.period)).toEqual([
      '2030-01-01',
      '2030-01-02',
      '2030-01-03',
    ]);
  });

  it('cuts the days in the site zone when the gateway has one', async () => {
    const box = h.gateway as { timeZone?: () => string };
    box.timeZone = () => 'Asia/Kolkata';
    try {
      const r = await h.call('GET', `/api/v1/packs/${enc(P1)}/energy?count=3`, { token: viewer });
      expect(r.body.time_zone).toBe('Asia/Kolkata');
      // Kolkata's 2nd runs from 18:30 UTC on the 1st: the 221 steps up to 18:25 UTC on the
      // 2nd; its 3rd takes the rest (210 steps, until 11:55 UTC = 17:25 there).
      expect(r.body.total.map((x: Row) => [x.period, x.start, x.charged_kwh])).toEqual([
        ['2030-01-01', Date.UTC(2029, 11, 31, 18, 30), 0],
        ['2030-01-02', Date.UTC(2030, 0, 1, 18, 30), 11.05],
        ['2030-01-03', Date.UTC(2030, 0, 2, 18, 30), 10.5],
      ]);
      const csv = await h.call('GET', `/api/v1/exports/energy/csv?pack=${enc(P1)}&count=3`, {
        token: viewer,
      });
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(csv.headers.get('content-disposition')).toBe(
        'attachment; filename="home_bus1_1_energy_day_2030-01-01_2030-01-03.csv"',
      );
      expect(csv.text.trimEnd().split('\n')).toEqual([
        'period,start,charged_kwh,discharged_kwh',
        '2030-01-01,2030-01-01T00:00:00+05:30,0,0',
        '2030-01-02,2030-01-02T00:00:00+05:30,11.05,4.42',
        '2030-01-03,2030-01-03T00:00:00+05:30,10.5,4.2',
      ]);
    } finally {
      delete box.timeZone;
    }
  });

  it("exports a site's days as CSV (totals, then each pack) and as an Excel workbook", async () => {
    const csv = await h.call('GET', '/api/v1/exports/energy/csv?site=home&count=2', {
      token: viewer,
    });
    expect(csv.text.trimEnd().split('\n')).toEqual([
      `period,start,charged_kwh,discharged_kwh,${P1} charged_kwh,${P1} discharged_kwh,${P2} charged_kwh,${P2} discharged_kwh`,
      '2030-01-02,2030-01-02T00:00:00+00:00,17.22,14.35,14.35,5.74,2.87,8.61',
      '2030-01-03,2030-01-03T00:00:00+00:00,8.64,7.2,7.2,2.88,1.44,4.32',
    ]);
    const x = await fetch(`${h.url}/api/v1/exports/energy/xlsx?site=home&count=2`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(x.status).toBe(200);
    expect(x.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    const files = unzipSync(new Uint8Array(await x.arrayBuffer()));
    const sheet = Buffer.from(files['xl/worksheets/sheet1.xml']!).toString('utf8');
    expect(sheet).toContain('<v>17.22</v>');
    expect(sheet).toContain('<v>8.61</v>');
    expect(sheet).toContain(`${P2} discharged_kwh`);
  });

  it('needs a login; 404 for an unknown pack or site; 400 for a bad period, count or target', async () => {
    expect((await h.call('GET', `/api/v1/packs/${enc(P1)}/energy`)).status).toBe(401);
    expect((await h.call('GET', '/api/v1/exports/energy/csv?site=home')).status).toBe(401);
    const nope = await h.call('GET', '/api/v1/packs/nope/energy', { token: viewer });
    expect(nope.status).toBe(404);
    const site = await h.call('GET', '/api/v1/sites/nowhere/energy', { token: viewer });
    expect(site.body).toEqual({ error: 'no site "nowhere"', code: 'NOT_FOUND' });
    const bad = async (path: string) => {
      const r = await h.call('GET', path, { token: viewer });
      expect(r.status, path).toBe(400);
      expect(r.body.code).toBe('REQUEST_INVALID');
      return r.body.error as string;
    };
    await bad(`/api/v1/packs/${enc(P1)}/energy?period=week`);
    await bad(`/api/v1/packs/${enc(P1)}/energy?count=0`);
    await bad(`/api/v1/packs/${enc(P1)}/energy?count=367`);
    expect(await bad(`/api/v1/packs/${enc(P1)}/energy?period=month&count=25`)).toContain('"count"');
    expect(await bad('/api/v1/exports/energy/csv')).toContain('"pack" or "site"');
    await bad(`/api/v1/exports/energy/csv?site=home&pack=${enc(P1)}`);
  });
});
