/**
 * The daily files as one zip and the data directory's free space, against a real SQLite
 * store in a temp directory holding a few days of samples of three packs: the archive holds
 * exactly the files of the filter, byte for byte the single downloads; who may fetch it;
 * the 400s (nothing matches, bad range) and the cap on the days one archive covers.
 */
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import type { Sample } from '@openbms/storage';
import { unzipSync } from 'fflate';
import { TEST_ORIGIN } from '@openbms/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueNames } from './daily-zip.js';
import { ZIP_MAX_DAYS } from './routes/exports.js';
import { startHarness, type Harness } from './testing/harness.js';

const DAY = 24 * 3600 * 1000;
const T0 = Date.UTC(2030, 0, 1);
const P1 = 'home/bus1/1';
const P2 = 'home/bus1/2';
// Two ids that make the same file name once their slashes are replaced.
const P3 = 'x/y';
const P4 = 'x_y';

let dir: string;
let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let h: Harness;
let viewer: string;
let operator: string;

interface DailyFile {
  pack_id: string;
  date: string;
  samples: number;
  bytes: number;
  url: string;
}

/** `n` samples of a pack during one day, values varying with the time. */
function day(packId: string, d: number, n: number, extra = false): Sample[] {
  return Array.from({ length: n }, (_, i) => {
    // The first at midnight exactly: it belongs to this day's file, not the previous one.
    const ts = T0 + d * DAY + i * 7 * 60_000;
    return {
      packId,
      ts,
      snapshot: {
        voltage_v: 52 + i / 100,
        current_a: i % 2 === 0 ? 3.5 : -1.25,
        soc_pct: 50 + d + i,
        cell_mv: [3300 + i, 3301, 3299 - d, 3302],
        ...(extra ? { mos_temp_c: 30 + i } : {}),
      },
    };
  });
}

async function get(path: string, token?: string): Promise<Response> {
  return fetch(h.url + path, token ? { headers: { authorization: `Bearer ${token}` } } : {});
}

async function bytes(path: string, token: string): Promise<Uint8Array> {
  const r = await get(path, token);
  expect(r.status, path).toBe(200);
  return new Uint8Array(await r.arrayBuffer());
}

async function list(query = ''): Promise<DailyFile[]> {
  return (await h.call('GET', `/api/v1/exports/daily${query}`, { token: viewer }))
    .body as DailyFile[];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbms-zip-'));
  storage = await openSqliteStorage({ dataDir: dir, identity: TEST_ORIGIN });
  await storage.telemetry.writeSamples(TEST_ORIGIN, [
    ...day(P1, 0, 5),
    ...day(P1, 1, 7, true),
    ...day(P1, 2, 3),
    ...day(P1, 3, 9),
    ...day(P2, 1, 4),
    ...day(P2, 2, 6),
    ...day(P3, 0, 2),
    ...day(P4, 0, 3),
  ]);
  const { alarms, audit, users, telemetry } = storage;
  h = await startHarness({ storage: { alarms, audit, users, telemetry }, dataDir: dir });
  const admin = await h.setupAdmin();
  viewer = await h.addUser(admin, 'vera', 'viewer');
  operator = await h.addUser(admin, 'otto', 'operator');
});

afterAll(async () => {
  await h?.close();
  await storage?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /exports/daily.zip', () => {
  it('holds exactly the files of one pack and range, each the same bytes as its single download', async () => {
    const q = `pack=${encodeURIComponent(P1)}&from=2030-01-02&to=2030-01-03`;
    const r = await get(`/api/v1/exports/daily.zip?${q}`, viewer);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/zip');
    expect(r.headers.get('content-disposition')).toBe(
      'attachment; filename="openbms_daily_home_bus1_1_2030-01-02_2030-01-03.zip"',
    );
    expect(r.headers.get('x-file-count')).toBe('2');
    const zip = unzipSync(new Uint8Array(await r.arrayBuffer()));
    expect(Object.keys(zip).sort()).toEqual([
      'home_bus1_1_2030-01-02.csv',
      'home_bus1_1_2030-01-03.csv',
    ]);
    const files = (await list(`?pack=${encodeURIComponent(P1)}`)).filter(
      (f) => f.date === '2030-01-02' || f.date === '2030-01-03',
    );
    expect(files).toHaveLength(2);
    for (const f of files) {
      const single = await bytes(f.url, viewer);
      const entry = zip[`home_bus1_1_${f.date}.csv`]!;
      expect(Buffer.from(entry).equals(Buffer.from(single))).toBe(true);
      // Real content: the header and one row per stored sample of that day.
      const lines = Buffer.from(entry).toString('utf8').trim().split('\n');
      expect(lines[0]!.startsWith('time,')).toBe(true);
      expect(lines).toHaveLength(f.samples + 1);
      for (const line of lines.slice(1)) expect(line.slice(0, 10)).toBe(f.date);
    }
    // The day with the extra sensor has its column; the other does not.
    expect(Buffer.from(zip['home_bus1_1_2030-01-02.csv']!).toString()).toContain('mos_temp_c');
    expect(Buffer.from(zip['home_bus1_1_2030-01-03.csv']!).toString()).not.toContain('mos_temp_c');
  });

  it('without a filter holds every listed file once, names kept apart when two packs collide', async () => {
    const zip = unzipSync(await bytes('/api/v1/exports/daily.zip', operator));
    const all = await list();
    expect(all).toHaveLength(8);
    expect(Object.keys(zip)).toHaveLength(all.length);
    // x/y and x_y both make "x_y_2030-01-01.csv": the later one gets a suffix.
    expect(Object.keys(zip)).toEqual(
      expect.arrayContaining(['x_y_2030-01-01.csv', 'x_y_2030-01-01-2.csv']),
    );
    const contents = Object.values(zip).map((u) => Buffer.from(u).toString('utf8'));
    for (const f of all) {
      const single = Buffer.from(await bytes(f.url, viewer)).toString('utf8');
      expect(
        contents.filter((c) => c === single),
        `${f.pack_id} ${f.date}`,
      ).toHaveLength(1);
    }
  });

  it('an open-ended range takes every day on its side', async () => {
    const from = unzipSync(await bytes('/api/v1/exports/daily.zip?from=2030-01-03', viewer));
    expect(Object.keys(from).sort()).toEqual([
      'home_bus1_1_2030-01-03.csv',
      'home_bus1_1_2030-01-04.csv',
      'home_bus1_2_2030-01-03.csv',
    ]);
    const to = unzipSync(
      await bytes(`/api/v1/exports/daily.zip?pack=${encodeURIComponent(P2)}&to=2030-01-02`, viewer),
    );
    expect(Object.keys(to)).toEqual(['home_bus1_2_2030-01-02.csv']);
  });

  it('needs a login: 401 without or with a bad token, any role may download', async () => {
    const none = await get('/api/v1/exports/daily.zip');
    expect(none.status).toBe(401);
    expect(((await none.json()) as { code: string }).code).toBe('AUTH_REQUIRED');
    expect((await get('/api/v1/exports/daily.zip', 'not-a-token')).status).toBe(401);
    expect((await get('/api/v1/exports/daily.zip?to=2030-01-01', viewer)).status).toBe(200);
  });

  it('answers a clear 400 when nothing matches or the request is malformed', async () => {
    const cases: [string, string, RegExp][] = [
      ['pack=nope', 'pack', /no daily file matches \(pack "nope"\)/],
      ['from=2031-01-01', 'from', /no daily file matches \(any pack, days 2031-01-01 to …\)/],
      [
        `pack=${encodeURIComponent(P2)}&from=2030-01-04&to=2030-01-04`,
        'pack',
        /no daily file matches/,
      ],
      ['from=2030-01-03&to=2030-01-02', 'to', /"to" \(2030-01-02\) is before "from"/],
      ['from=2030-02-30', 'from', /"2030-02-30" is not a calendar date/],
      ['to=yesterday', 'to', /to/],
      ['month=2030-01', 'month', /month/],
    ];
    for (const [q, field, message] of cases) {
      const r = await h.call('GET', `/api/v1/exports/daily.zip?${q}`, { token: viewer });
      expect(r.status, q).toBe(400);
      expect(r.body.code, q).toBe('REQUEST_INVALID');
      expect(r.body.field, q).toBe(field);
      expect(r.body.error, q).toMatch(message);
    }
  });

  it(`refuses a range of more than ${ZIP_MAX_DAYS} days, counted in days, not in files`, async () => {
    // daily.zip?from=1970-01-01&to=2070-01-01 used to answer 200: only 4 files matched.
    const cases: [string, string][] = [
      ['from=1970-01-01&to=2070-01-01', '1970-01-01 to 2070-01-01 are 36526 days'],
      [`pack=${encodeURIComponent(P1)}&from=2029-01-01&to=2030-12-31`, 'are 730 days'],
      ['from=2030-01-01&to=2031-01-02', `are ${ZIP_MAX_DAYS + 1} days`],
    ];
    for (const [q, words] of cases) {
      const r = await h.call('GET', `/api/v1/exports/daily.zip?${q}`, { token: viewer });
      expect(r.status, q).toBe(400);
      expect(r.body, q).toMatchObject({ code: 'REQUEST_INVALID', field: 'to' });
      expect(r.body.error, q).toContain(words);
      expect(r.body.error, q).toContain(`at most ${ZIP_MAX_DAYS}`);
    }
    // Exactly a leap year's worth of days is accepted.
    const year = await get(
      `/api/v1/exports/daily.zip?pack=${encodeURIComponent(P1)}&from=2029-01-02&to=2030-01-02`,
      viewer,
    );
    expect(year.status).toBe(200);
    expect(Object.keys(unzipSync(new Uint8Array(await year.arrayBuffer())))).toEqual([
      'home_bus1_1_2030-01-01.csv',
      'home_bus1_1_2030-01-02.csv',
    ]);
  });

  it(`refuses open ranges whose files span more than ${ZIP_MAX_DAYS} days, takes exactly that many`, async () => {
    const many = 'cap/bus/1';
    await storage.telemetry.writeSamples(
      TEST_ORIGIN,
      Array.from({ length: ZIP_MAX_DAYS + 1 }, (_, d) => day(many, d, 1)).flat(),
    );
    const pack = `pack=${encodeURIComponent(many)}`;
    const r = await h.call('GET', `/api/v1/exports/daily.zip?${pack}`, { token: viewer });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('REQUEST_INVALID');
    expect(r.body.field).toBe('from');
    const end = new Date(T0 + ZIP_MAX_DAYS * DAY).toISOString().slice(0, 10);
    expect(r.body.error).toBe(
      `the matching daily files (pack "cap/bus/1") span ${ZIP_MAX_DAYS + 1} days, 2030-01-01 to ${end}; one zip covers at most ${ZIP_MAX_DAYS}: give "from" and "to" with fewer days`,
    );
    const last = new Date(T0 + (ZIP_MAX_DAYS - 1) * DAY).toISOString().slice(0, 10);
    const zip = unzipSync(await bytes(`/api/v1/exports/daily.zip?${pack}&to=${last}`, viewer));
    const names = Object.keys(zip);
    expect(names).toHaveLength(ZIP_MAX_DAYS);
    expect(names).toContain(`cap_bus_1_${last}.csv`);
    expect(names).not.toContain(`cap_bus_1_${end}.csv`);
  });
});

describe('range exports (CSV, XLSX): dates are whole days of the site zone, cells from 1', () => {
  const csv = async (q: string): Promise<string[]> => {
    const r = await get(`/api/v1/exports/csv?pack=${encodeURIComponent(P1)}&${q}`, viewer);
    expect(r.status, q).toBe(200);
    return (await r.text()).trim().split('\n');
  };

  it('from=to=<date> is that one day (UTC without a site zone), its last instant included', async () => {
    const lines = await csv('from=2030-01-02&to=2030-01-02');
    expect(lines).toHaveLength(1 + 7);
    for (const l of lines.slice(1)) expect(l.slice(0, 10)).toBe('2030-01-02');
    // `to` as a date means the same as the zip's `to`: the whole day.
    expect(await csv('from=2030-01-02&to=2030-01-03')).toHaveLength(1 + 7 + 3);
    const xlsx = await get(
      `/api/v1/exports/xlsx?pack=${encodeURIComponent(P1)}&from=2030-01-02&to=2030-01-02`,
      viewer,
    );
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get('content-disposition')).toContain('home_bus1_1_2030-01-02_2030-01-02');
    const before = await get(
      `/api/v1/exports/csv?pack=${encodeURIComponent(P1)}&from=2030-01-03&to=2030-01-02`,
      viewer,
    );
    expect(before.status).toBe(400);
  });

  it('numbers the cells from 1 in the CSV headings (range and daily files); rows keep ISO 8601 UTC times', async () => {
    const lines = await csv('from=2030-01-02&to=2030-01-02');
    const heads = lines[0]!.split(',');
    expect(heads[0]).toBe('time');
    expect(heads.filter((c) => c.startsWith('cell_mv.'))).toEqual([
      'cell_mv.1',
      'cell_mv.2',
      'cell_mv.3',
      'cell_mv.4',
    ]);
    expect(lines[0]).toContain('cell_mv.1');
    expect(lines[0]).not.toContain('cell_mv.0');
    expect(lines[1]).toMatch(/^2030-01-02T00:00:00\.000Z,/);
    const daily = await get(
      `/api/v1/exports/daily/${encodeURIComponent(P1)}/2030-01-02.csv`,
      viewer,
    );
    const head = (await daily.text()).split('\n')[0]!;
    expect(head).toContain('cell_mv.4');
    expect(head).not.toContain('cell_mv.0');
  });

  it("cuts the days in the site's zone when the gateway has one", async () => {
    const box = h.gateway as { timeZone?: () => string };
    box.timeZone = () => 'America/New_York';
    try {
      // 2030-01-02 in New York is 05:00 UTC that day to 04:59:59.999 UTC the next: the
      // samples of 2030-01-03 00:00..00:14 UTC (3), none of 2030-01-02 00:00..00:42 UTC.
      const lines = await csv('from=2030-01-02&to=2030-01-02');
      expect(lines).toHaveLength(1 + 3);
      for (const l of lines.slice(1)) expect(l.slice(0, 10)).toBe('2030-01-03');
    } finally {
      delete box.timeZone;
    }
  });
});

describe("daily files in the site's time zone", () => {
  it('lists, downloads, zips and deletes local days of Asia/Shanghai; sizes are the downloads, 16 cells', async () => {
    const pack = 'tz/bus/1';
    // Every 20 minutes from 2030-03-01T12:00Z (20:00 in Shanghai, UTC+8) for 24 h.
    const S0 = Date.UTC(2030, 2, 1, 12);
    await storage.telemetry.writeSamples(
      TEST_ORIGIN,
      Array.from({ length: 72 }, (_, i) => ({
        packId: pack,
        ts: S0 + i * 20 * 60_000,
        snapshot: {
          voltage_v: 52 + i / 100,
          soc_pct: 40 + i,
          cell_mv: Array.from({ length: 16 }, (_, c) => 3290 + ((i + c) % 13)),
        },
      })),
    );
    const q = `?pack=${encodeURIComponent(pack)}`;
    const box = h.gateway as { timeZone?: () => string };
    const localDay = (t: string): string =>
      new Date(t).toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
    box.timeZone = () => 'Asia/Shanghai';
    try {
      const files = await list(q);
      // Local midnight is 16:00 UTC: 20:00..23:40 on the 1st, then 60 up to 19:40 on the 2nd.
      expect(files.map((f) => [f.date, f.samples])).toEqual([
        ['2030-03-01', 12],
        ['2030-03-02', 60],
      ]);
      for (const f of files) {
        const text = Buffer.from(await bytes(f.url, viewer)).toString('utf8');
        const lines = text.trim().split('\n');
        expect(lines[0]).toContain(',cell_mv.16');
        expect(lines).toHaveLength(1 + f.samples);
        for (const l of lines.slice(1)) expect(localDay(l.split(',')[0]!)).toBe(f.date);
        // `bytes` is what the download weighs, to the byte.
        expect(f.bytes).toBe(Buffer.byteLength(text));
      }
      const zip = unzipSync(await bytes(`/api/v1/exports/daily.zip${q}`, viewer));
      expect(Object.keys(zip)).toEqual(['tz_bus_1_2030-03-01.csv', 'tz_bus_1_2030-03-02.csv']);
      expect(Buffer.from(zip['tz_bus_1_2030-03-01.csv']!).toString()).toBe(
        Buffer.from(await bytes(files[0]!.url, viewer)).toString(),
      );
      const del = await h.call('DELETE', files[0]!.url, { token: operator });
      expect(del.status).toBe(200);
      expect(del.body).toEqual({ ok: true, deleted: 12 });
      expect((await list(q)).map((f) => [f.date, f.samples])).toEqual([['2030-03-02', 60]]);
    } finally {
      delete box.timeZone;
    }
    // Without a zone: UTC days, the 12 samples of Shanghai's 1 March gone from the 1st.
    expect((await list(q)).map((f) => [f.date, f.samples])).toEqual([
      ['2030-03-01', 24],
      ['2030-03-02', 36],
    ]);
  });
});

describe('daily files of sites in different zones', () => {
  it("cuts each pack's files in its own site's zone, the box's zone for a site without one", async () => {
    const pack = 'tz/bus/1';
    const gw = h.gateway as unknown as { sites: () => unknown[] };
    const sites = gw.sites;
    // Site "tz" says Asia/Shanghai; "home" is not listed: the box's zone (none here: UTC).
    gw.sites = () => [{ id: 'tz', name: 'Site tz', time_zone: 'Asia/Shanghai' }];
    try {
      const all = await list();
      expect(all.filter((f) => f.pack_id === pack).map((f) => [f.date, f.samples])).toEqual([
        ['2030-03-02', 60],
      ]);
      expect(all.filter((f) => f.pack_id === P2).map((f) => [f.date, f.samples])).toEqual([
        ['2030-01-02', 4],
        ['2030-01-03', 6],
      ]);
      const f = all.find((x) => x.pack_id === pack)!;
      const text = Buffer.from(await bytes(f.url, viewer)).toString('utf8');
      expect(text.trim().split('\n')).toHaveLength(1 + 60);
      expect(f.bytes).toBe(Buffer.byteLength(text));
    } finally {
      gw.sites = sites;
    }
  });
});

describe('GET /exports/disk', () => {
  it('gives the free and total bytes of the data directory', async () => {
    const r = await h.call('GET', '/api/v1/exports/disk', { token: viewer });
    expect(r.status).toBe(200);
    expect(r.body.available).toBe(true);
    const { free_bytes: free, total_bytes: total } = r.body as {
      free_bytes: number;
      total_bytes: number;
    };
    expect(Number.isInteger(free)).toBe(true);
    expect(free).toBeGreaterThan(0);
    expect(total).toBeGreaterThanOrEqual(free);
    // The file system the database is on, as the test sees it.
    const fsInfo = statfsSync(dir);
    expect(total).toBe(fsInfo.blocks * fsInfo.bsize);
    expect(total).toBeGreaterThan(1024 * 1024);
    expect((await get('/api/v1/exports/disk')).status).toBe(401);
  });

  it('says "not available" when the server was not given a data directory', async () => {
    const bare = await startHarness();
    try {
      const token = await bare.setupAdmin();
      const r = await bare.call('GET', '/api/v1/exports/disk', { token });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ available: false });
    } finally {
      await bare.close();
    }
  });

  it('says "not available" when the directory cannot be read', async () => {
    const gone = mkdtempSync(join(tmpdir(), 'openbms-gone-'));
    rmSync(gone, { recursive: true });
    const other = await startHarness({ dataDir: gone });
    try {
      const token = await other.setupAdmin();
      const r = await other.call('GET', '/api/v1/exports/disk', { token });
      expect(r.body).toEqual({ available: false });
    } finally {
      await other.close();
    }
  });
});

describe('uniqueNames', () => {
  it('suffixes repeats before the extension and keeps the first as is', () => {
    expect(uniqueNames(['a.csv', 'a.csv', 'b', 'a.csv', 'b', 'v1.5_x.csv', 'v1.5_x.csv'])).toEqual([
      'a.csv',
      'a-2.csv',
      'b',
      'a-3.csv',
      'b-2',
      'v1.5_x.csv',
      'v1.5_x-2.csv',
    ]);
  });
});

describe('range exports on the real store (streamed)', () => {
  const long = 'long/bus/1';
  const n = 12_000;
  beforeAll(async () => {
    const samples: Sample[] = Array.from({ length: n }, (_, i) => ({
      packId: long,
      ts: T0 + i * 1000,
      snapshot: { voltage_v: 52 + (i % 100) / 100, soc_pct: i % 100 },
    }));
    for (let i = 0; i < n; i += 4000)
      await storage.telemetry.writeSamples(TEST_ORIGIN, samples.slice(i, i + 4000));
  });
  const range = `pack=${encodeURIComponent(long)}&from=${T0}&to=${T0 + n * 1000}`;

  it('streams a CSV of 12,000 samples: chunked, no length known ahead, every row there', async () => {
    const r = await get(`/api/v1/exports/csv?${range}&fields=soc_pct,voltage_v`, viewer);
    expect(r.status).toBe(200);
    expect(r.headers.get('transfer-encoding')).toBe('chunked');
    expect(r.headers.get('content-length')).toBeNull();
    const lines = (await r.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(n + 1);
    expect(lines[0]).toBe('time,soc_pct,voltage_v');
    expect(lines[n]).toBe(`${new Date(T0 + (n - 1) * 1000).toISOString()},${(n - 1) % 100},52.99`);
  });

  it('streams the XLSX of the same rows; a bad query is a 400 before any byte', async () => {
    const r = await get(`/api/v1/exports/xlsx?${range}&fields=soc_pct`, viewer);
    expect(r.status).toBe(200);
    expect(r.headers.get('transfer-encoding')).toBe('chunked');
    const files = unzipSync(new Uint8Array(await r.arrayBuffer()));
    const sheet = new TextDecoder().decode(files['xl/worksheets/sheet1.xml']!);
    expect(sheet.match(/<row /g)).toHaveLength(n + 1);
    expect(sheet).toContain(`<row r="${n + 1}">`);
    const bad = await get(
      `/api/v1/exports/xlsx?pack=${encodeURIComponent(long)}&fields=nope`,
      viewer,
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('REQUEST_INVALID');
  });
});
