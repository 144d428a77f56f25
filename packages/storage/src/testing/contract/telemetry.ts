/**
 * The TelemetryStore contract: behaviour every adapter (SQLite, PostgreSQL) must
 * show. An adapter's test calls `telemetryContract('sqlite', open)` where `open` gives a
 * fresh, empty store. Times are fixed instants, so nothing depends on the clock. Samples are
 * written for TEST_ORIGIN and read in its local scope; the identity tests add another gateway
 * and another organisation. Exports are read chunk by chunk: no chunk may hold more than
 * MAX_EXPORT_CHUNK_ROWS rows, and a long export must let a write and a small read through
 * while it is being read.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reading } from '@openbms/core';
import {
  MAX_EXPORT_CHUNK_ROWS,
  dayZones,
  localScope,
  type ExportQuery,
  type HistoryQuery,
  type HistoryResult,
  type Origin,
  type RetentionPolicy,
  type Sample,
  type Scope,
  type Series,
  type TelemetryStore,
  type Tier,
} from '../../index.js';
import { TEST_ORIGIN } from '../memory.js';

const O1 = TEST_ORIGIN;
const S1 = localScope(O1);
const O2: Origin = { orgId: O1.orgId, gatewayId: '01JD000000000000000000GW02' };
const O3: Origin = { orgId: '01JD0000000000000000000RG2', gatewayId: '01JD000000000000000000GW03' };

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Midnight UTC, 2024-01-10. */
const T0 = Date.UTC(2024, 0, 10);
const CELLS = Array.from({ length: 16 }, (_, i) => `cell_mv.${i}`);

/** A full snapshot whose values follow `i` (16 cells, 4 temperatures, scalars, booleans). */
export function contractSnapshot(i: number): Reading {
  const cells = Array.from(
    { length: 16 },
    (_, c) => 3300 + ((i + c * 7) % 23) - (c === 5 ? 40 : 0),
  );
  return {
    voltage_v: Math.round((51.2 + (i % 50) / 100) * 100) / 100,
    current_a: Math.round((((i % 41) - 20) / 4) * 100) / 100,
    soc_pct: 40 + (i % 60),
    soh_pct: 98,
    remaining_ah: Math.round((40 + (i % 60) * 0.5) * 10) / 10,
    full_ah: 100,
    cycles: 120 + Math.floor(i / 1000),
    cell_mv: cells,
    temps_c: [21.5 + (i % 7) / 10, 22, 23.1, i % 3 === 0 ? 0 : -(i % 3) / 10],
    mos_temp_c: 30.5,
    charge_mos: i % 2 === 0,
    discharge_mos: true,
    balancing: false,
    state: 'charging',
    alarms: [{ code: 'cell_diff', severity: 'warning' }],
    info: { model: 'SIM-16S', serial: 'X1' },
  };
}

const sample = (packId: string, ts: number, snapshot: Reading): Sample => ({
  packId,
  ts,
  snapshot,
});

async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code';
  }
  return undefined;
}

/** The chunks of an export, read one after the other. */
export async function chunksOf<T>(it: AsyncIterable<T> | Promise<AsyncIterable<T>>): Promise<T[]> {
  const out: T[] = [];
  for await (const c of await it) out.push(c);
  return out;
}

/** A CSV export as one text (for comparing; the store hands it out in chunks). */
export async function csvText(
  store: TelemetryStore,
  scope: Scope,
  q: ExportQuery,
): Promise<string> {
  return (await chunksOf(store.exportCsv(scope, q))).join('');
}

const series = (r: HistoryResult, f: string): Series => {
  const s = r.series[f];
  expect(s, `series ${f}`).toBeDefined();
  return s!;
};

type Handle = { telemetry: TelemetryStore; close(): unknown };

export function telemetryContract(name: string, open: () => Handle | Promise<Handle>): void {
  describe(`TelemetryStore contract (${name})`, () => {
    let handle: Handle;
    let store: TelemetryStore;
    beforeEach(async () => {
      handle = await open();
      store = handle.telemetry;
    });
    afterEach(async () => {
      await handle.close();
    });

    const write = (samples: readonly Sample[], o: Origin = O1): Promise<void> =>
      store.writeSamples(o, samples);
    const writeSeries = async (
      packId: string,
      from: number,
      n: number,
      every: number,
      at = (i: number) => i,
      o: Origin = O1,
    ): Promise<Sample[]> => {
      const batch = Array.from({ length: n }, (_, i) =>
        sample(packId, from + i * every, contractSnapshot(at(i))),
      );
      await write(batch, o);
      return batch;
    };
    const history = (q: HistoryQuery, scope: Scope = S1): Promise<HistoryResult> =>
      store.history(scope, q);
    const raw = (
      packId: string,
      from: number,
      to: number,
      fields: string[],
      maxPoints?: number,
    ): Promise<HistoryResult> =>
      history({
        packId,
        from,
        to,
        fields,
        resolution: 'raw',
        ...(maxPoints ? { maxPoints } : {}),
      });
    const csv = (packId: string, from: number, to: number, fields?: string[]): Promise<string> =>
      csvText(store, S1, { packId, from, to, ...(fields ? { fields } : {}) });

    it('reads back every series of written samples exactly at raw resolution', async () => {
      const batch = await writeSeries('s/b/1', T0, 10, 5 * SEC);
      const fields = [
        'voltage_v',
        'current_a',
        'soc_pct',
        'charge_mos',
        ...CELLS,
        'temps_c.0',
        'temps_c.3',
      ];
      const r = await raw('s/b/1', T0, T0 + HOUR, fields);
      expect(r.resolution).toBe('raw');
      const get = (s: Sample, f: string): number => {
        const [k, i] = f.split('.');
        const v = (s.snapshot as Record<string, unknown>)[k!];
        if (i !== undefined) return (v as number[])[Number(i)]!;
        return typeof v === 'boolean' ? (v ? 1 : 0) : (v as number);
      };
      for (const f of fields) {
        const s = series(r, f);
        expect(s.t).toEqual(batch.map((b) => b.ts));
        expect(s.avg, f).toEqual(batch.map((b) => get(b, f)));
        expect(s.min).toEqual(s.avg);
        expect(s.max).toEqual(s.avg);
      }
    });

    it('keeps packs apart and ignores a sample written twice', async () => {
      await writeSeries('s/b/1', T0, 5, 5 * SEC);
      await writeSeries('s/b/1', T0, 5, 5 * SEC);
      await writeSeries('s/b/2', T0, 3, 5 * SEC, (i) => i + 100);
      expect(series(await raw('s/b/1', T0, T0 + HOUR, ['soc_pct']), 'soc_pct').t).toHaveLength(5);
      expect(series(await raw('s/b/2', T0, T0 + HOUR, ['soc_pct']), 'soc_pct').avg).toEqual([
        40 + (100 % 60),
        41 + (100 % 60),
        42 + (100 % 60),
      ]);
      expect(series(await raw('nope', T0, T0 + HOUR, ['soc_pct']), 'soc_pct').t).toEqual([]);
      expect((await store.dailyFiles(S1, 's/b/1'))[0]!.samples).toBe(5);
    });

    it('rolls raw samples up into 1m, 15m and 1h buckets with min, max and avg', async () => {
      // Two hours at 10 s; soc_pct = 40 + (i % 60) is a known sawtooth.
      const batch = await writeSeries('p', T0, 720, 10 * SEC);
      await store.rollup(T0 + 2 * HOUR);
      await store.rollup(T0 + 2 * HOUR); // idempotent
      const expected = (step: number) => {
        const buckets = new Map<number, number[]>();
        for (const s of batch) {
          const b = Math.floor(s.ts / step) * step;
          buckets.set(b, [...(buckets.get(b) ?? []), s.snapshot.soc_pct!]);
        }
        return [...buckets].map(([t, v]) => ({
          t,
          min: Math.min(...v),
          max: Math.max(...v),
          avg: v.reduce((a, b) => a + b, 0) / v.length,
        }));
      };
      for (const [tier, step] of [
        ['1m', MIN],
        ['15m', 15 * MIN],
        ['1h', HOUR],
      ] as [Tier, number][]) {
        const r = await history({
          packId: 'p',
          from: T0,
          to: T0 + 2 * HOUR - 1,
          fields: ['soc_pct', 'cell_mv.5'],
          resolution: tier,
        });
        expect(r.resolution).toBe(tier);
        const s = series(r, 'soc_pct');
        const e = expected(step);
        expect(s.t).toEqual(e.map((x) => x.t));
        expect(s.min).toEqual(e.map((x) => x.min));
        expect(s.max).toEqual(e.map((x) => x.max));
        s.avg.forEach((a, i) => expect(a).toBeCloseTo(e[i]!.avg, 2));
        expect(series(r, 'cell_mv.5').t).toHaveLength(e.length);
      }
      // A late sample with a spike lands in an already folded bucket: the next rollup refolds it.
      await write([sample('p', T0 + 30 * MIN + 5 * SEC, { ...contractSnapshot(0), soc_pct: 100 })]);
      await store.rollup(T0 + 2 * HOUR);
      const h = await history({
        packId: 'p',
        from: T0,
        to: T0 + 2 * HOUR - 1,
        fields: ['soc_pct'],
        resolution: '1h',
      });
      expect(series(h, 'soc_pct').max).toEqual([100, 99]);
      const m = await history({
        packId: 'p',
        from: T0 + 30 * MIN,
        to: T0 + 31 * MIN - 1,
        fields: ['soc_pct'],
        resolution: '1m',
      });
      expect(series(m, 'soc_pct').max).toEqual([100]);
    });

    it('shows samples newer than the last rollup in rollup tiers', async () => {
      await writeSeries('p', T0, 30, 10 * SEC); // 5 minutes, never rolled up
      const r = await history({
        packId: 'p',
        from: T0,
        to: T0 + 5 * MIN,
        fields: ['soc_pct'],
        resolution: '1m',
      });
      expect(series(r, 'soc_pct').t).toEqual([
        T0,
        T0 + MIN,
        T0 + 2 * MIN,
        T0 + 3 * MIN,
        T0 + 4 * MIN,
      ]);
      expect(series(r, 'soc_pct').min[0]).toBe(40);
      expect(series(r, 'soc_pct').max[0]).toBe(45);
    });

    it('picks the tier from the range and falls back when raw is past retention', async () => {
      // 40 days, one sample every 10 minutes.
      const n = (40 * DAY) / (10 * MIN);
      await writeSeries('p', T0, n, 10 * MIN);
      const end = T0 + 40 * DAY;
      await store.rollup(end);
      const auto = async (from: number, to: number): Promise<Tier> =>
        (await history({ packId: 'p', from, to, fields: ['voltage_v'] })).resolution;
      expect(await auto(end - HOUR, end)).toBe('raw');
      expect(await auto(end - DAY, end)).toBe('raw');
      expect(await auto(end - 3 * DAY, end)).toBe('1m');
      expect(await auto(end - 30 * DAY, end)).toBe('15m');
      expect(await auto(end - 365 * DAY, end)).toBe('1h');
      await store.applyRetention(end, { raw: 30, '1m': 365, '15m': 730, '1h': Infinity });
      expect(await auto(T0 + 2 * DAY, T0 + 3 * DAY)).toBe('1m');
      expect(await auto(end - 2 * DAY, end - DAY)).toBe('raw');
    });

    it('answers a young store from raw, not from a coarse bucket stamped before its data', async () => {
      // Ten minutes of data, rolled up: an hour or six is still best shown raw.
      await writeSeries('p', T0 + 50 * MIN, 60, 10 * SEC);
      const end = T0 + HOUR;
      await store.rollup(end);
      const auto = async (from: number, to: number): Promise<Tier> =>
        (await history({ packId: 'p', from, to, fields: ['voltage_v'] })).resolution;
      expect(await auto(end - HOUR, end)).toBe('raw');
      expect(await auto(end - 6 * HOUR, end)).toBe('raw');
      expect(await auto(end - 7 * DAY, end)).toBe('1m');
    });

    it('returns at most maxPoints points per series and keeps the extremes', async () => {
      const batch = await writeSeries('p', T0, 5000, SEC);
      await write([
        sample('p', T0 + 1234 * SEC + 500, { ...contractSnapshot(1), voltage_v: 58.4 }),
        sample('p', T0 + 3210 * SEC + 500, { ...contractSnapshot(1), voltage_v: 40.1 }),
      ]);
      const r = await raw('p', T0, T0 + 5000 * SEC, ['voltage_v', 'cell_mv.0'], 100);
      const s = series(r, 'voltage_v');
      expect(s.t.length).toBeLessThanOrEqual(100);
      expect(s.t.length).toBeGreaterThan(90);
      expect(Math.max(...s.max)).toBe(58.4);
      expect(Math.min(...s.min)).toBe(40.1);
      const spike = s.max.indexOf(58.4);
      expect(s.t[spike]!).toBeLessThanOrEqual(T0 + 1234 * SEC + 500);
      expect(s.t[spike]! + 60 * SEC).toBeGreaterThan(T0 + 1234 * SEC);
      const mean = (batch.reduce((a, b) => a + b.snapshot.voltage_v!, 0) + 58.4 + 40.1) / 5002;
      expect(s.avg.reduce((a, b) => a + b, 0) / s.avg.length).toBeCloseTo(mean, 1);
      for (let i = 1; i < s.t.length; i++) expect(s.t[i]!).toBeGreaterThan(s.t[i - 1]!);
      expect(series(r, 'cell_mv.0').t.length).toBeLessThanOrEqual(100);
      // Rollup tiers are bounded too.
      await store.rollup(T0 + 5000 * SEC);
      const m = await history({
        packId: 'p',
        from: T0,
        to: T0 + 5000 * SEC,
        fields: ['voltage_v'],
        resolution: '1m',
        maxPoints: 10,
      });
      expect(series(m, 'voltage_v').t.length).toBeLessThanOrEqual(10);
      expect(Math.max(...series(m, 'voltage_v').max)).toBe(58.4);
    });

    it('applies retention per tier and keeps the rest', async () => {
      const now = T0 + 10 * DAY;
      const ages = [4 * DAY, 2.5 * DAY, 1.5 * DAY, 0.5 * DAY];
      await write(ages.map((a, i) => sample('p', now - a, contractSnapshot(i))));
      await store.rollup(now);
      const policy: RetentionPolicy = { raw: 1, '1m': 2, '15m': 3, '1h': Infinity };
      await store.applyRetention(now, policy);
      await store.applyRetention(now, policy);
      const kept = async (tier: Tier): Promise<number> =>
        series(
          await history({
            packId: 'p',
            from: now - 5 * DAY,
            to: now,
            fields: ['soc_pct'],
            resolution: tier,
          }),
          'soc_pct',
        ).t.length;
      expect(await kept('raw')).toBe(1);
      expect(await kept('1m')).toBe(2);
      expect(await kept('15m')).toBe(3);
      expect(await kept('1h')).toBe(4);
      expect((await store.dailyFiles(S1, 'p')).map((f) => f.samples)).toEqual([1]);
      await store.applyRetention(now + 1000 * DAY);
      expect(await kept('1h')).toBe(4);
      expect(await kept('raw')).toBe(0);
      expect(await codeOf(() => store.applyRetention(now, { ...policy, raw: -1 }))).toBe(
        'CONFIG_INVALID',
      );
    });

    it('returns the latest full snapshot of a pack', async () => {
      expect(await store.latest(S1, 'p')).toBeUndefined();
      await writeSeries('p', T0, 3, 5 * SEC);
      await write([sample('p', T0 - HOUR, contractSnapshot(99))]); // older: not the latest
      const l = await store.latest(S1, 'p');
      expect(l).toEqual({ packId: 'p', ts: T0 + 10 * SEC, snapshot: contractSnapshot(2) });
    });

    it('lists daily files per pack and UTC day with their CSV size, and deletes one', async () => {
      await writeSeries('a', T0 + DAY - 10 * MIN, 200, 5 * SEC); // spans midnight
      await writeSeries('b', T0, 10, 5 * SEC);
      const files = await store.dailyFiles(S1);
      expect(files.map((f) => [f.gatewayId, f.packId, f.date, f.samples])).toEqual([
        [O1.gatewayId, 'a', '2024-01-10', 120],
        [O1.gatewayId, 'a', '2024-01-11', 80],
        [O1.gatewayId, 'b', '2024-01-10', 10],
      ]);
      for (const f of files) {
        const from = Date.parse(`${f.date}T00:00:00Z`);
        const text = await csv(f.packId, from, from + DAY - 1);
        expect(Math.abs(f.bytes - text.length) / text.length).toBeLessThan(0.1);
      }
      expect(await store.dailyFiles(S1, 'b')).toHaveLength(1);
      expect(await store.deleteDay(S1, 'a', '2024-01-10')).toBe(120);
      expect((await store.dailyFiles(S1, 'a')).map((f) => f.date)).toEqual(['2024-01-11']);
      expect((await raw('a', T0, T0 + 2 * DAY, ['soc_pct'])).series.soc_pct!.t).toHaveLength(80);
      expect(await store.deleteDay(S1, 'nope', '2024-01-10')).toBe(0);
      expect(await codeOf(() => store.deleteDay(S1, 'a', '2024-13-45'))).toBe('REQUEST_INVALID');
    });

    /** A day's CSV as a person downloads it: the header with cells numbered from 1. */
    const download = async (packId: string, from: number, to: number): Promise<string> => {
      const text = await csv(packId, from, to);
      const nl = text.indexOf('\n');
      return text.slice(0, nl).split(',').map(dayZones.columnHeading).join(',') + text.slice(nl);
    };
    /** The instants of a local day, as the server's download route reads them. */
    const dayOf = (date: string, timeZone: string): [number, number] => {
      const r = dayZones.dayRanges(Date.parse(`${date}T00:00:00Z`) / DAY, timeZone);
      return [r[0]![0], r[r.length - 1]![1] - 1];
    };
    const listed = async (timeZone?: string, packId?: string) =>
      (await store.dailyFiles(S1, packId, timeZone === undefined ? undefined : { timeZone })).map(
        (f) => [f.packId, f.date, f.samples],
      );

    it('gives a daily file the exact size of its download, 16 cells numbered from 1', async () => {
      // cell_mv.10 .. cell_mv.16 in the header: one character more than cell_mv.9 .. cell_mv.15
      await writeSeries('p', T0 + 3 * HOUR, 300, 7 * SEC);
      const [f] = await store.dailyFiles(S1, 'p');
      const text = await download('p', T0, T0 + DAY - 1);
      expect(text.split('\n')[0]).toContain(',cell_mv.16');
      expect(f!.bytes).toBe(text.length);
    });

    it('cuts daily files at local midnight of the zone asked for, 23 h and 25 h days too', async () => {
      // Europe/Berlin goes to summer time on 2024-03-31 (01:00 UTC: a 23 h day) and back on
      // 2024-10-27 (01:00 UTC: a 25 h day); Asia/Shanghai is UTC+8 all year.
      const Z0 = Date.UTC(2024, 2, 30, 20); // 21:00 in Berlin, 04:00 next day in Shanghai
      await writeSeries('z', Z0, 180, 10 * MIN); // to 2024-04-01T01:50Z
      const F0 = Date.UTC(2024, 9, 26, 21); // 23:00 in Berlin (summer time)
      await writeSeries('f', F0, 54, 30 * MIN); // to 2024-10-27T23:30Z
      expect(await listed(undefined, 'z')).toEqual([
        ['z', '2024-03-30', 24],
        ['z', '2024-03-31', 144],
        ['z', '2024-04-01', 12],
      ]);
      expect(await listed('UTC', 'z')).toEqual(await listed(undefined, 'z'));
      expect(await listed('Europe/Berlin')).toEqual([
        ['f', '2024-10-26', 2], // 23:00, 23:30 local
        ['f', '2024-10-27', 50], // 25 h of half hours
        ['f', '2024-10-28', 2], // 00:00, 00:30 local
        ['z', '2024-03-30', 18], // 21:00 to 23:50 local
        ['z', '2024-03-31', 138], // 23 h of 10 minutes, from the sample at local midnight
        ['z', '2024-04-01', 24],
      ]);
      expect(await listed('Asia/Shanghai', 'z')).toEqual([
        ['z', '2024-03-31', 120],
        ['z', '2024-04-01', 60],
      ]);
      for (const tz of ['Europe/Berlin', 'Asia/Shanghai']) {
        for (const f of await store.dailyFiles(S1, undefined, { timeZone: tz })) {
          const text = await download(f.packId, ...dayOf(f.date, tz));
          expect(text.split('\n').length - 2, `${tz} ${f.packId} ${f.date}`).toBe(f.samples);
          expect(f.bytes, `${tz} ${f.packId} ${f.date}`).toBe(text.length);
        }
      }

      // Deleting Berlin's 2024-03-31 removes exactly its 138 samples: 2024-03-30T23:00Z up to
      // 2024-03-31T22:00Z; the days around it and the other pack keep theirs.
      const before = (await raw('z', Z0, Z0 + 2 * DAY, ['soc_pct'])).series.soc_pct!.t;
      expect(await store.deleteDay(S1, 'z', '2024-03-31', { timeZone: 'Europe/Berlin' })).toBe(138);
      const start = Date.UTC(2024, 2, 30, 23);
      const end = Date.UTC(2024, 2, 31, 22);
      expect((await raw('z', Z0, Z0 + 2 * DAY, ['soc_pct'])).series.soc_pct!.t).toEqual(
        before.filter((t) => t < start || t >= end),
      );
      expect(await listed('Europe/Berlin')).toEqual([
        ['f', '2024-10-26', 2],
        ['f', '2024-10-27', 50],
        ['f', '2024-10-28', 2],
        ['z', '2024-03-30', 18],
        ['z', '2024-04-01', 24],
      ]);
      expect(await listed('UTC', 'z')).toEqual([
        ['z', '2024-03-30', 18],
        ['z', '2024-03-31', 12], // 22:00 to 23:50 UTC
        ['z', '2024-04-01', 12],
      ]);
      // The 25 h day: all 50 of its samples.
      expect(await store.deleteDay(S1, 'f', '2024-10-27', { timeZone: 'Europe/Berlin' })).toBe(50);
      expect(await listed('Europe/Berlin', 'f')).toEqual([
        ['f', '2024-10-26', 2],
        ['f', '2024-10-28', 2],
      ]);
      expect(await codeOf(() => store.dailyFiles(S1, 'z', { timeZone: 'Mars/Olympus' }))).toBe(
        'REQUEST_INVALID',
      );
      expect(await codeOf(() => store.deleteDay(S1, 'z', '2024-04-01', { timeZone: '' }))).toBe(
        'REQUEST_INVALID',
      );
      expect(await listed('Europe/Berlin', 'z')).toEqual([
        ['z', '2024-03-30', 18],
        ['z', '2024-04-01', 24],
      ]);
    });

    it('exports CSV: header, ISO time, one row per raw sample, chosen or all fields', async () => {
      await writeSeries('p', T0, 3, 5 * SEC);
      await write([sample('p', T0 + 15 * SEC, { voltage_v: 50.5, temps_c: [20] })]);
      const text = await csv('p', T0, T0 + MIN, ['voltage_v', 'cell_mv.5', 'charge_mos']);
      expect(text.trimEnd().split('\n')).toEqual([
        'time,voltage_v,cell_mv.5,charge_mos',
        '2024-01-10T00:00:00.000Z,51.2,3272,1',
        '2024-01-10T00:00:05.000Z,51.21,3273,0',
        '2024-01-10T00:00:10.000Z,51.22,3274,1',
        '2024-01-10T00:00:15.000Z,50.5,,',
      ]);
      const all = (await csv('p', T0, T0 + MIN)).trimEnd().split('\n');
      const head = all[0]!.split(',');
      expect(head[0]).toBe('time');
      expect(head).toEqual(
        expect.arrayContaining(['voltage_v', 'soc_pct', 'charge_mos', ...CELLS, 'temps_c.3']),
      );
      expect(all).toHaveLength(5);
      expect(all.slice(1).every((l) => l.split(',').length === head.length)).toBe(true);
      expect(await csv('p', T0 + HOUR, T0 + 2 * HOUR, ['soc_pct'])).toBe('time,soc_pct\n');
    });

    it('exports the same rows as numbers in batches (NaN where a sample lacks a series)', async () => {
      await writeSeries('p', T0, 3, 5 * SEC);
      await write([sample('p', T0 + 15 * SEC, { voltage_v: 50.5, temps_c: [20] })]);
      const q = { packId: 'p', from: T0, to: T0 + MIN, fields: ['voltage_v', 'cell_mv.5'] };
      const rows = await store.exportRows(S1, q);
      expect(rows.fields).toEqual(['voltage_v', 'cell_mv.5']);
      const batches = await chunksOf(rows.batches);
      const times = batches.flatMap((b) => [...b.times]);
      const values = batches.flatMap((b) => [...b.values]);
      expect(times).toEqual([T0, T0 + 5 * SEC, T0 + 10 * SEC, T0 + 15 * SEC]);
      expect(values).toEqual([51.2, 3272, 51.21, 3273, 51.22, 3274, 50.5, Number.NaN]);
      const all = await store.exportRows(S1, { packId: 'p', from: T0, to: T0 + MIN });
      expect(all.fields).toEqual(
        (await csv('p', T0, T0 + MIN)).split('\n')[0]!.split(',').slice(1),
      );
      expect(
        await chunksOf((await store.exportRows(S1, { ...q, packId: 'nope' })).batches),
      ).toEqual([]);
    });

    it('streams a long export in chunks of at most MAX_EXPORT_CHUNK_ROWS rows, never all at once', async () => {
      const n = 2 * MAX_EXPORT_CHUNK_ROWS + 1234;
      const batch: Sample[] = [];
      for (let i = 0; i < n; i++) batch.push(sample('p', T0 + i * SEC, contractSnapshot(i)));
      await write(batch);
      const q = { packId: 'p', from: T0, to: T0 + n * SEC, fields: ['soc_pct', 'cell_mv.3'] };
      const chunks = await chunksOf(store.exportCsv(S1, q));
      const lines = chunks.map((c) => c.split('\n').length - 1);
      expect(chunks.length).toBeGreaterThanOrEqual(3);
      for (const l of lines) expect(l).toBeLessThanOrEqual(MAX_EXPORT_CHUNK_ROWS);
      for (const c of chunks) expect(c.endsWith('\n')).toBe(true); // whole lines only
      expect(lines.reduce((a, b) => a + b, 0)).toBe(n + 1); // the header, then every sample
      const text = chunks.join('').split('\n');
      expect(text[1]).toBe(`2024-01-10T00:00:00.000Z,40,${contractSnapshot(0).cell_mv![3]}`);
      expect(text[n]).toBe(
        `${new Date(T0 + (n - 1) * SEC).toISOString()},${contractSnapshot(n - 1).soc_pct},${contractSnapshot(n - 1).cell_mv![3]}`,
      );
      const batches = await chunksOf((await store.exportRows(S1, q)).batches);
      expect(batches.length).toBeGreaterThanOrEqual(3);
      for (const b of batches) {
        expect(b.times.length).toBeLessThanOrEqual(MAX_EXPORT_CHUNK_ROWS);
        expect(b.values.length).toBe(b.times.length * 2);
      }
      expect(batches.reduce((a, b) => a + b.times.length, 0)).toBe(n);
    });

    it('lets a write and a small read through while a long export is being read', async () => {
      const n = 6 * MAX_EXPORT_CHUNK_ROWS;
      const batch: Sample[] = [];
      for (let i = 0; i < n; i++) batch.push(sample('p', T0 + i * SEC, contractSnapshot(i)));
      for (let i = 0; i < n; i += 10_000) await write(batch.slice(i, i + 10_000));
      const it = (await store.exportCsv(S1, { packId: 'p', from: T0, to: T0 + n * SEC }))[
        Symbol.asyncIterator
      ]();
      expect((await it.next()).done).toBe(false);
      // The export goes on being read while the write and the read below are made.
      let chunks = 1;
      let finished = false;
      const reading = (async () => {
        for (let r = await it.next(); !r.done; r = await it.next()) chunks++;
        finished = true;
      })();
      await write([sample('q', T0, contractSnapshot(1))]);
      const latest = await store.latest(S1, 'q');
      const seen = { chunks, finished };
      await reading;
      expect(latest?.ts).toBe(T0);
      expect(seen.finished, `the export was read to its end (${chunks} chunks) first`).toBe(false);
      expect(seen.chunks).toBeLessThan(chunks);
    });

    it('keeps the same pack id of two gateways apart, and reads only what the scope may see', async () => {
      await writeSeries('s/b/1', T0, 4, 5 * SEC, (i) => i, O1);
      await writeSeries('s/b/1', T0, 2, 5 * SEC, (i) => i + 10, O2);
      await writeSeries('s/b/1', T0, 3, 5 * SEC, (i) => i + 20, O3);
      const soc = async (o: Origin): Promise<number[]> =>
        series(
          await history(
            { packId: 's/b/1', from: T0, to: T0 + HOUR, fields: ['soc_pct'], resolution: 'raw' },
            localScope(o),
          ),
          'soc_pct',
        ).avg;
      expect(await soc(O1)).toEqual([40, 41, 42, 43]);
      expect(await soc(O2)).toEqual([50, 51]);
      expect(await soc(O3)).toEqual([60, 61, 62]);
      expect((await store.latest(localScope(O2), 's/b/1'))?.snapshot).toEqual(contractSnapshot(11));
      // A gateway of another organisation is not seen, even when named.
      expect(await store.latest({ orgIds: [O1.orgId], gatewayId: O3.gatewayId }, 's/b/1')).toBe(
        undefined,
      );
      const files = async (s: Scope) =>
        (await store.dailyFiles(s)).map((f) => [f.gatewayId, f.samples]);
      expect(await files({ orgIds: [O1.orgId] })).toEqual(
        [
          [O1.gatewayId, 4],
          [O2.gatewayId, 2],
        ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
      expect(await files(localScope(O3))).toEqual([[O3.gatewayId, 3]]);
      expect(await store.deleteDay(localScope(O2), 's/b/1', '2024-01-10')).toBe(2);
      expect(await soc(O1)).toHaveLength(4);
      expect(
        (await csv('s/b/1', T0, T0 + HOUR, ['soc_pct'])).trimEnd().split('\n').slice(1),
      ).toHaveLength(4);
      await store.rollup(T0 + DAY);
      expect(await store.dailyFiles(localScope(O2))).toEqual([]);
    });

    it('needs a gateway in the scope of a query that names a pack', async () => {
      await writeSeries('p', T0, 2, SEC);
      const org = { orgIds: [O1.orgId] };
      const q = { packId: 'p', from: T0, to: T0 + HOUR, fields: ['soc_pct'] };
      for (const call of [
        () => store.history(org, q),
        () => store.latest(org, 'p'),
        () => store.deleteDay(org, 'p', '2024-01-10'),
        () => store.exportCsv(org, q),
        () => store.exportRows(org, q),
      ]) {
        expect(await codeOf(call)).toBe('REQUEST_INVALID');
      }
      expect(await codeOf(() => store.writeSamples({ orgId: O1.orgId } as Origin, []))).toBe(
        'REQUEST_INVALID',
      );
      expect(await store.latest(S1, 'p')).toBeDefined();
    });

    it('rejects malformed input with REQUEST_INVALID and stores nothing of a bad batch', async () => {
      const q = { packId: 'p', from: T0, to: T0 + HOUR, fields: ['voltage_v'] };
      expect(await codeOf(() => history({ ...q, fields: ['bogus'] }))).toBe('REQUEST_INVALID');
      expect(await codeOf(() => history({ ...q, from: T0 + 2 * HOUR }))).toBe('REQUEST_INVALID');
      expect(await codeOf(() => history({ ...q, maxPoints: 0 }))).toBe('REQUEST_INVALID');
      expect(await codeOf(() => history({ ...q, resolution: '5m' as Tier }))).toBe(
        'REQUEST_INVALID',
      );
      expect(await codeOf(() => csv('p', T0, T0 + HOUR, ['cell_mv.x']))).toBe('REQUEST_INVALID');
      expect(
        await codeOf(() => store.exportRows(S1, { packId: 'p', from: T0 + HOUR, to: T0 })),
      ).toBe('REQUEST_INVALID');
      const bad = [
        sample('p', T0, contractSnapshot(0)),
        sample('p', Number.NaN, contractSnapshot(1)),
      ];
      expect(await codeOf(() => write(bad))).toBe('REQUEST_INVALID');
      expect(await store.latest(S1, 'p')).toBeUndefined();
    });
    // ------------------------------------------------------------ daily energy (issue 12)

    /** Samples every 5 min for 2 days from T0; the meters grow 0.05 / 0.02 kWh a sample. */
    const writeMeters = async (
      packId: string,
      meter: (i: number) => { c: number; d: number } = (i) => ({ c: i * 5, d: i * 2 }),
    ): Promise<void> => {
      const batch = Array.from({ length: 576 }, (_, i) => {
        const m = meter(i);
        return sample(packId, T0 + i * 5 * MIN, {
          ...contractSnapshot(i),
          // Whole hundredths, divided once: the stored values are exact.
          energy_charged_kwh: m.c / 100,
          energy_discharged_kwh: m.d / 100,
        });
      });
      await write(batch);
    };
    const energyOf = (r: { period: string; charged_kwh: number; discharged_kwh: number }[]) =>
      r.map((x) => [x.period, x.charged_kwh, x.discharged_kwh]);

    it('gives charged and discharged kWh per day, cut in the site time zone', async () => {
      await writeMeters('e');
      // Asia/Kolkata is UTC+05:30: its days start at 18:30 UTC. T0 is 05:30 there on the 10th.
      const tz = 'Asia/Kolkata';
      const from = Date.UTC(2024, 0, 9, 18, 30);
      const to = Date.UTC(2024, 0, 12, 18, 30);
      const r = await store.energy(S1, { packIds: ['e'], from, to, period: 'day', timeZone: tz });
      // A step goes to the day of the sample that ends it: 221, 288 and 66 steps.
      expect(energyOf(r.total)).toEqual([
        ['2024-01-10', 11.05, 4.42],
        ['2024-01-11', 14.4, 5.76],
        ['2024-01-12', 3.3, 1.32],
      ]);
      expect(r.total.map((x) => x.start)).toEqual([from, from + DAY, from + 2 * DAY]);
      expect(energyOf(r.packs['e']!)).toEqual(energyOf(r.total));
      expect(r).toMatchObject({ period: 'day', timeZone: tz });
      // The same samples in UTC days: 287 and 288 steps.
      const utc = await store.energy(S1, {
        packIds: ['e'],
        from: T0,
        to: T0 + 2 * DAY,
        period: 'day',
        timeZone: 'UTC',
      });
      expect(energyOf(utc.total)).toEqual([
        ['2024-01-10', 14.35, 5.74],
        ['2024-01-11', 14.4, 5.76],
      ]);
    });

    it('sums packs, fills empty days with 0, and counts a meter reset as no energy (never negative)', async () => {
      await writeMeters('e');
      // Pack r's meter restarts from 0 at sample 300 (a lost store): 25 h in, a bucket start.
      await writeMeters('r', (i) =>
        i < 300 ? { c: i * 5, d: i * 2 } : { c: (i - 300) * 5, d: 0 },
      );
      const r = await store.energy(S1, {
        packIds: ['e', 'r', 'none'],
        from: T0 - DAY,
        to: T0 + 3 * DAY,
        period: 'day',
        timeZone: 'UTC',
      });
      expect(energyOf(r.packs['none']!)).toEqual([
        ['2024-01-09', 0, 0],
        ['2024-01-10', 0, 0],
        ['2024-01-11', 0, 0],
        ['2024-01-12', 0, 0],
      ]);
      // r on the 11th: 12 steps before the reset, none for the drop, 275 after it.
      expect(energyOf(r.packs['r']!)).toEqual([
        ['2024-01-09', 0, 0],
        ['2024-01-10', 14.35, 5.74],
        ['2024-01-11', 14.35, 0.24],
        ['2024-01-12', 0, 0],
      ]);
      expect(energyOf(r.total)).toEqual([
        ['2024-01-09', 0, 0],
        ['2024-01-10', 28.7, 11.48],
        ['2024-01-11', 28.75, 6],
        ['2024-01-12', 0, 0],
      ]);
      for (const row of [...r.total, ...Object.values(r.packs).flat()]) {
        expect(row.charged_kwh).toBeGreaterThanOrEqual(0);
        expect(row.discharged_kwh).toBeGreaterThanOrEqual(0);
      }
    });

    it('gives the same days and months from the rollups once the raw samples are gone', async () => {
      await writeMeters('e');
      const q = {
        packIds: ['e'],
        // Berlin's January and February (UTC+1).
        from: Date.UTC(2023, 11, 31, 23),
        to: Date.UTC(2024, 1, 29, 23),
        timeZone: 'Europe/Berlin',
      };
      const daysBefore = await store.energy(S1, { ...q, period: 'day' });
      const now = T0 + 10 * DAY;
      await store.rollup(now);
      await store.applyRetention(now, { raw: 1, '1m': 365, '15m': 730, '1h': Infinity });
      expect(
        series(
          await history({ packId: 'e', from: T0, to: now, fields: ['soc_pct'], resolution: 'raw' }),
          'soc_pct',
        ).t,
      ).toEqual([]);
      const days = await store.energy(S1, { ...q, period: 'day' });
      expect(days).toEqual(daysBefore);
      expect(days.total.length).toBe(60); // every day of January and February 2024
      const months = await store.energy(S1, { ...q, period: 'month' });
      // Every step is in January in Berlin (UTC+1); the month starts at 23:00 UTC on Dec 31.
      expect(energyOf(months.total)).toEqual([
        ['2024-01', 28.75, 11.5],
        ['2024-02', 0, 0],
      ]);
      expect(months.total[0]!.start).toBe(Date.UTC(2023, 11, 31, 23));
    });

    it('refuses a malformed energy query with REQUEST_INVALID', async () => {
      const q = { packIds: ['e'], from: T0, to: T0 + DAY, period: 'day' as const, timeZone: 'UTC' };
      const bad = async (over: Record<string, unknown>) =>
        codeOf(() => store.energy(S1, { ...q, ...over } as never));
      expect(await bad({ timeZone: 'Mars/Olympus' })).toBe('REQUEST_INVALID');
      expect(await bad({ from: T0 + DAY })).toBe('REQUEST_INVALID');
      expect(await bad({ period: 'week' })).toBe('REQUEST_INVALID');
      expect(await bad({ packIds: [] })).toBe('REQUEST_INVALID');
      expect(await bad({ from: '0' })).toBe('REQUEST_INVALID');
      expect(await bad({ to: T0 + 800 * DAY })).toBe('REQUEST_INVALID');
    });
  });
}
