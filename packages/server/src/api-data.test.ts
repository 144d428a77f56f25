import { BmsError } from '@openbms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './testing/harness.js';
import { localScope } from '@openbms/storage';
import { TEST_ORIGIN } from '@openbms/storage/testing';

const S = localScope(TEST_ORIGIN);

let h: Harness;
let viewer: string;
let operator: string;
const P1 = encodeURIComponent('home/bus1/1');

beforeAll(async () => {
  h = await startHarness();
  const admin = await h.setupAdmin();
  viewer = await h.addUser(admin, 'vera', 'viewer');
  operator = await h.addUser(admin, 'otto', 'operator');
});
afterAll(() => h.close());

describe('packs', () => {
  it('lists every pack with id, name, site, bus, address, protocol, online, last_seen, snapshot', async () => {
    const r = await h.call('GET', '/api/v1/packs', { token: viewer });
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(3);
    expect(r.body[0]).toMatchObject({
      id: 'home/bus1/1',
      name: 'Pack 1',
      site: 'home',
      bus: 'bus1',
      address: 1,
      protocol: 'pylontech',
      online: true,
      last_seen: 1000,
      snapshot: { voltage_v: 52.1, soc_pct: 81, cell_mv: [3300, 3301, 3302, 3299] },
    });
    expect(r.body[1].online).toBe(false);
    expect(r.body[2]).toMatchObject({ id: 'shed/bus2/1', last_seen: null, snapshot: null });
  });

  it('serves one pack by its URL-encoded id, 404 for an unknown one', async () => {
    expect((await h.call('GET', `/api/v1/packs/${P1}`, { token: viewer })).body.id).toBe(
      'home/bus1/1',
    );
    const r = await h.call('GET', '/api/v1/packs/nope', { token: viewer });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: 'no pack "nope"', code: 'NOT_FOUND' });
  });

  it('sites and buses', async () => {
    expect(
      (await h.call('GET', '/api/v1/sites', { token: viewer })).body.map(
        (s: { id: string }) => s.id,
      ),
    ).toEqual(['home', 'shed']);
    const buses = (await h.call('GET', '/api/v1/buses', { token: viewer })).body;
    expect(buses[0]).toEqual({
      id: 'bus1',
      site: 'home',
      port: 'tcp://127.0.0.1:9000',
      protocol: 'pylontech',
      packs: ['home/bus1/1', 'home/bus1/2'],
    });
  });
});

describe('history', () => {
  it('passes range, fields and resolution to telemetry.history and returns its series', async () => {
    h.telemetry.queries.length = 0;
    const r = await h.call(
      'GET',
      `/api/v1/packs/${P1}/history?from=2029-12-31T00:00:00Z&to=1893456000000&fields=soc_pct,cell_mv.3&resolution=1m`,
      {
        token: viewer,
      },
    );
    expect(r.status).toBe(200);
    expect(h.telemetry.queries).toEqual([
      {
        packId: 'home/bus1/1',
        from: Date.UTC(2029, 11, 31),
        to: 1893456000000,
        fields: ['soc_pct', 'cell_mv.3'],
        resolution: '1m',
      },
    ]);
    expect(r.body).toEqual({
      pack_id: 'home/bus1/1',
      resolution: '1m',
      from: Date.UTC(2029, 11, 31),
      to: 1893456000000,
      series: {
        soc_pct: {
          t: [Date.UTC(2029, 11, 31), 1893456000000],
          avg: [1, 2],
          min: [0.5, 1.5],
          max: [1.5, 2.5],
        },
        'cell_mv.3': {
          t: [Date.UTC(2029, 11, 31), 1893456000000],
          avg: [1, 2],
          min: [0.5, 1.5],
          max: [1.5, 2.5],
        },
      },
    });
  });

  it('defaults to the last 24 h, auto resolution, and expands cell_mv to every cell', async () => {
    h.telemetry.queries.length = 0;
    await h.call('GET', `/api/v1/packs/${P1}/history?fields=cell_mv`, { token: viewer });
    expect(h.telemetry.queries[0]).toEqual({
      packId: 'home/bus1/1',
      from: h.clock.now() - 86_400_000,
      to: h.clock.now(),
      fields: ['cell_mv.0', 'cell_mv.1', 'cell_mv.2', 'cell_mv.3'],
      resolution: 'auto',
    });
  });

  it.each([
    ['from=5000&to=1000', 'to', /after "from"/],
    ['from=yesterday', 'from', /must match pattern/],
    ['from=2030-02-31T00:00:00Z', 'from', /not a valid time/],
    ['fields=soc_pct,Cell%20MV', 'fields', /not a series name/],
    ['fields=soc_pct;drop', 'fields', /not a series name/],
    ['fields=banana', 'fields', /unknown metric "banana"/],
    ['fields=soc_pct.2', 'fields', /not an array metric/],
    ['resolution=5m', 'resolution', /must be equal to one of the allowed values/],
    ['colour=red', 'colour', /is not a known field/],
  ])('400 for ?%s naming %s', async (qs, field, message) => {
    const r = await h.call('GET', `/api/v1/packs/${P1}/history?${qs}`, { token: viewer });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('REQUEST_INVALID');
    expect(r.body.field).toBe(field);
    expect(r.body.error).toMatch(message);
  });

  it('404 for history of an unknown pack', async () => {
    expect((await h.call('GET', '/api/v1/packs/zzz/history', { token: viewer })).status).toBe(404);
  });

  it('a storage failure is a 500 with its code and message, no stack', async () => {
    const orig = h.telemetry.history.bind(h.telemetry);
    h.telemetry.history = () => {
      throw new BmsError('STORAGE_FAILED', 'database disk image is malformed');
    };
    try {
      const r = await h.call('GET', `/api/v1/packs/${P1}/history`, { token: viewer });
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: 'database disk image is malformed', code: 'STORAGE_FAILED' });
      h.telemetry.history = () => {
        throw new TypeError('x is undefined');
      };
      const u = await h.call('GET', `/api/v1/packs/${P1}/history`, { token: viewer });
      expect(u.status).toBe(500);
      expect(u.text).not.toMatch(/TypeError|at /);
    } finally {
      h.telemetry.history = orig;
    }
  });
});

describe('alarms', () => {
  it('lists stored events, active ones, counts; validates the query', async () => {
    const t = h.clock.now();
    const a = await h.gateway.raise({
      packId: 'home/bus1/1',
      code: 'cell_ov',
      severity: 'protection',
      level: 2,
      origin: 'bms',
      raisedAt: t - 5000,
      message: 'cell over-voltage',
    });
    const b = await h.gateway.raise({
      packId: 'home/bus1/2',
      code: 'comm_lost',
      severity: 'fault',
      origin: 'gateway',
      raisedAt: t - 4000,
      message: 'no answer',
    });
    await h.gateway.clear(a, t - 1000);

    const all = (await h.call('GET', '/api/v1/alarms', { token: viewer })).body;
    // The API names events by their gateway's number, as it always did.
    expect(all.map((x: { id: number }) => x.id).sort()).toEqual([a.localId, b.localId].sort());
    expect(all.find((x: { id: number }) => x.id === a.localId)).toMatchObject({
      pack_id: 'home/bus1/1',
      code: 'cell_ov',
      level: 2,
      origin: 'bms',
      raised_at: t - 5000,
      cleared_at: t - 1000,
    });

    const active = (await h.call('GET', '/api/v1/alarms?active=true', { token: viewer })).body;
    expect(active.map((x: { id: number }) => x.id)).toEqual([b.localId]);
    const forPack = (await h.call('GET', `/api/v1/alarms?pack=${P1}`, { token: viewer })).body;
    expect(forPack.map((x: { id: number }) => x.id)).toEqual([a.localId]);

    const counts = await h.call('GET', '/api/v1/alarms/counts', { token: viewer });
    expect(counts.body).toEqual(await h.stores.alarms.counts(S));
    expect(counts.body.cell_ov).toBe(1);

    const bad = await h.call('GET', '/api/v1/alarms?limit=0', { token: viewer });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('limit');
    expect((await h.call('POST', '/api/v1/alarms/abc/ack', { token: operator })).body.field).toBe(
      'id',
    );
  });
});

describe('exports', () => {
  beforeAll(() => {
    h.telemetry.files = [
      {
        gatewayId: TEST_ORIGIN.gatewayId,
        packId: 'home/bus1/1',
        date: '2029-12-31',
        samples: 8640,
        bytes: 900_000,
      },
      {
        gatewayId: TEST_ORIGIN.gatewayId,
        packId: 'home/bus1/2',
        date: '2029-12-31',
        samples: 10,
        bytes: 1000,
      },
    ];
  });

  it('lists daily files with download urls', async () => {
    const r = await h.call('GET', `/api/v1/exports/daily?pack=${P1}`, { token: viewer });
    expect(r.body).toEqual([
      {
        pack_id: 'home/bus1/1',
        date: '2029-12-31',
        samples: 8640,
        bytes: 900_000,
        url: `/api/v1/exports/daily/${P1}/2029-12-31.csv`,
      },
    ]);
  });

  it('downloads a day as CSV; 404 for a missing day; 400 for an impossible date', async () => {
    const r = await h.call('GET', `/api/v1/exports/daily/${P1}/2029-12-31.csv`, { token: viewer });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(r.headers.get('content-disposition')).toBe(
      'attachment; filename="home_bus1_1_2029-12-31.csv"',
    );
    expect(r.text).toBe(`ts,voltage_v\n${Date.UTC(2029, 11, 31)},52.1\n`);
    expect(h.telemetry.exports.at(-1)).toEqual({
      packId: 'home/bus1/1',
      from: Date.UTC(2029, 11, 31),
      to: Date.UTC(2030, 0, 1) - 1,
    });
    expect(
      (await h.call('GET', `/api/v1/exports/daily/${P1}/2029-12-30.csv`, { token: viewer })).status,
    ).toBe(404);
    const bad = await h.call('GET', `/api/v1/exports/daily/${P1}/2029-02-30.csv`, {
      token: viewer,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('date');
  });

  it('an operator deletes a daily file (audited)', async () => {
    const r = await h.call(
      'DELETE',
      `/api/v1/exports/daily/${encodeURIComponent('home/bus1/2')}/2029-12-31.csv`,
      { token: operator },
    );
    expect(r.body).toEqual({ ok: true, deleted: 10 });
    expect(h.telemetry.deleted).toEqual([{ packId: 'home/bus1/2', date: '2029-12-31' }]);
    expect(
      (await h.stores.audit.list(S, { user: 'otto' })).some(
        (e) => e.action === 'export.delete' && e.packId === 'home/bus1/2',
      ),
    ).toBe(true);
  });

  it('exports a range as CSV with chosen fields; pack is required', async () => {
    const r = await h.call(
      'GET',
      `/api/v1/exports/csv?pack=${P1}&from=0&to=1000&fields=voltage_v,temps_c.1`,
      { token: viewer },
    );
    expect(r.status).toBe(200);
    expect(h.telemetry.exports.at(-1)).toEqual({
      packId: 'home/bus1/1',
      from: 0,
      to: 1000,
      fields: ['voltage_v', 'temps_c.1'],
    });
    const missing = await h.call('GET', '/api/v1/exports/csv', { token: viewer });
    expect(missing.status).toBe(400);
    expect(missing.body.field).toBe('pack');
  });

  it('exports the same range as an Excel workbook', async () => {
    const r = await h.call('GET', `/api/v1/exports/xlsx?pack=${P1}&from=0&to=1000`, {
      token: viewer,
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(r.headers.get('content-disposition')).toMatch(/filename=".*\.xlsx"/);
    expect((await h.call('GET', '/api/v1/exports/xlsx', { token: viewer })).status).toBe(400);
  });
});

describe('health and malformed requests', () => {
  it('health needs no login and counts packs', async () => {
    h.clock.advance(90_000);
    const r = await h.call('GET', '/api/v1/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', packs_online: 2, packs_total: 3 });
    expect(r.body.uptime_s).toBeGreaterThanOrEqual(90);
    // A stale or odd credential never locks anyone out of public routes.
    expect(
      (await h.call('GET', '/api/v1/health', { headers: { authorization: 'Basic eDp5' } })).status,
    ).toBe(200);
    expect((await h.call('GET', '/api/v1/health', { token: 'expired-or-forged' })).status).toBe(
      200,
    );
  });

  it('bad JSON, unknown body keys and wrong types are 400 REQUEST_INVALID', async () => {
    const json = await h.call('POST', '/api/v1/auth/login', { body: '{"username":' });
    expect(json.status).toBe(400);
    expect(json.body.code).toBe('REQUEST_INVALID');
    const extra = await h.call('POST', '/api/v1/auth/login', {
      body: { username: 'a', password: 'b', admin: true },
    });
    expect(extra.body).toMatchObject({ code: 'REQUEST_INVALID', field: 'admin' });
    const type = await h.call('POST', '/api/v1/tokens', { token: viewer, body: { name: ['x'] } });
    expect(type.body).toMatchObject({ code: 'REQUEST_INVALID', field: 'name' });
    const missing = await h.call('POST', '/api/v1/auth/login', { body: { username: 'a' } });
    expect(missing.body).toMatchObject({ code: 'REQUEST_INVALID', field: 'password' });
    expect(missing.body.error).toBe('body field "password" is required');
  });

  it('unknown routes are 404 NOT_FOUND', async () => {
    const r = await h.call('GET', '/api/v1/nothing-here', { token: viewer });
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('NOT_FOUND');
  });
});

describe('scope', () => {
  it("reads every pack's data in the server's own scope (its organisation and gateway)", async () => {
    const before = h.telemetry.scopes.length;
    await h.call('GET', `/api/v1/packs/${P1}/history`, { token: viewer });
    await h.call('GET', '/api/v1/exports/daily', { token: viewer });
    await h.call('GET', `/api/v1/exports/csv?pack=${P1}`, { token: viewer });
    const seen = h.telemetry.scopes.slice(before);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const s of seen) expect(s).toEqual(S);
  });
});
