/**
 * The TelemetryStore contract: behaviour every adapter (SQLite now, PostgreSQL later) must
 * show. An adapter's test calls `telemetryContract('sqlite', open)` where `open` gives a
 * fresh, empty store. Times are fixed instants, so nothing depends on the clock.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reading } from '@openbms/core';
import type {
  HistoryResult,
  RetentionPolicy,
  Sample,
  Series,
  TelemetryStore,
  Tier,
} from '../../index.js';

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

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code';
  }
  return undefined;
}

const series = (r: HistoryResult, f: string): Series => {
  const s = r.series[f];
  expect(s, `series ${f}`).toBeDefined();
  return s!;
};

export function telemetryContract(
  name: string,
  open: () => { telemetry: TelemetryStore; close(): void },
): void {
  describe(`TelemetryStore contract (${name})`, () => {
    let handle: { telemetry: TelemetryStore; close(): void };
    let store: TelemetryStore;
    beforeEach(() => {
      handle = open();
      store = handle.telemetry;
    });
    afterEach(() => handle.close());

    const writeSeries = (
      packId: string,
      from: number,
      n: number,
      every: number,
      at = (i: number) => i,
    ): Sample[] => {
      const batch = Array.from({ length: n }, (_, i) =>
        sample(packId, from + i * every, contractSnapshot(at(i))),
      );
      store.writeSamples(batch);
      return batch;
    };
    const raw = (
      packId: string,
      from: number,
      to: number,
      fields: string[],
      maxPoints?: number,
    ): HistoryResult =>
      store.history({
        packId,
        from,
        to,
        fields,
        resolution: 'raw',
        ...(maxPoints ? { maxPoints } : {}),
      });

    it('reads back every series of written samples exactly at raw resolution', () => {
      const batch = writeSeries('s/b/1', T0, 10, 5 * SEC);
      const fields = [
        'voltage_v',
        'current_a',
        'soc_pct',
        'charge_mos',
        ...CELLS,
        'temps_c.0',
        'temps_c.3',
      ];
      const r = raw('s/b/1', T0, T0 + HOUR, fields);
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

    it('keeps packs apart and ignores a sample written twice', () => {
      writeSeries('s/b/1', T0, 5, 5 * SEC);
      writeSeries('s/b/1', T0, 5, 5 * SEC);
      writeSeries('s/b/2', T0, 3, 5 * SEC, (i) => i + 100);
      expect(series(raw('s/b/1', T0, T0 + HOUR, ['soc_pct']), 'soc_pct').t).toHaveLength(5);
      expect(series(raw('s/b/2', T0, T0 + HOUR, ['soc_pct']), 'soc_pct').avg).toEqual([
        40 + (100 % 60),
        41 + (100 % 60),
        42 + (100 % 60),
      ]);
      expect(series(raw('nope', T0, T0 + HOUR, ['soc_pct']), 'soc_pct').t).toEqual([]);
      expect(store.dailyFiles('s/b/1')[0]!.samples).toBe(5);
    });

    it('rolls raw samples up into 1m, 15m and 1h buckets with min, max and avg', () => {
      // Two hours at 10 s; soc_pct = 40 + (i % 60) is a known sawtooth.
      const batch = writeSeries('p', T0, 720, 10 * SEC);
      store.rollup(T0 + 2 * HOUR);
      store.rollup(T0 + 2 * HOUR); // idempotent
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
        const r = store.history({
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
      store.writeSamples([
        sample('p', T0 + 30 * MIN + 5 * SEC, { ...contractSnapshot(0), soc_pct: 100 }),
      ]);
      store.rollup(T0 + 2 * HOUR);
      const h = store.history({
        packId: 'p',
        from: T0,
        to: T0 + 2 * HOUR - 1,
        fields: ['soc_pct'],
        resolution: '1h',
      });
      expect(series(h, 'soc_pct').max).toEqual([100, 99]);
      const m = store.history({
        packId: 'p',
        from: T0 + 30 * MIN,
        to: T0 + 31 * MIN - 1,
        fields: ['soc_pct'],
        resolution: '1m',
      });
      expect(series(m, 'soc_pct').max).toEqual([100]);
    });

    it('shows samples newer than the last rollup in rollup tiers', () => {
      writeSeries('p', T0, 30, 10 * SEC); // 5 minutes, never rolled up
      const r = store.history({
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

    it('picks the tier from the range and falls back when raw is past retention', () => {
      // 40 days, one sample every 10 minutes.
      const n = (40 * DAY) / (10 * MIN);
      writeSeries('p', T0, n, 10 * MIN);
      const end = T0 + 40 * DAY;
      store.rollup(end);
      const auto = (from: number, to: number): Tier =>
        store.history({ packId: 'p', from, to, fields: ['voltage_v'] }).resolution;
      expect(auto(end - HOUR, end)).toBe('raw');
      expect(auto(end - DAY, end)).toBe('raw');
      expect(auto(end - 3 * DAY, end)).toBe('1m');
      expect(auto(end - 30 * DAY, end)).toBe('15m');
      expect(auto(end - 365 * DAY, end)).toBe('1h');
      store.applyRetention(end, { raw: 30, '1m': 365, '15m': 730, '1h': Infinity });
      expect(auto(T0 + 2 * DAY, T0 + 3 * DAY)).toBe('1m');
      expect(auto(end - 2 * DAY, end - DAY)).toBe('raw');
    });

    it('answers a young store from raw, not from a coarse bucket stamped before its data', () => {
      // Ten minutes of data, rolled up: an hour or six is still best shown raw.
      writeSeries('p', T0 + 50 * MIN, 60, 10 * SEC);
      const end = T0 + HOUR;
      store.rollup(end);
      const auto = (from: number, to: number): Tier =>
        store.history({ packId: 'p', from, to, fields: ['voltage_v'] }).resolution;
      expect(auto(end - HOUR, end)).toBe('raw');
      expect(auto(end - 6 * HOUR, end)).toBe('raw');
      expect(auto(end - 7 * DAY, end)).toBe('1m');
    });

    it('returns at most maxPoints points per series and keeps the extremes', () => {
      const batch = writeSeries('p', T0, 5000, SEC);
      store.writeSamples([
        sample('p', T0 + 1234 * SEC + 500, { ...contractSnapshot(1), voltage_v: 58.4 }),
        sample('p', T0 + 3210 * SEC + 500, { ...contractSnapshot(1), voltage_v: 40.1 }),
      ]);
      const r = raw('p', T0, T0 + 5000 * SEC, ['voltage_v', 'cell_mv.0'], 100);
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
      store.rollup(T0 + 5000 * SEC);
      const m = store.history({
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

    it('applies retention per tier and keeps the rest', () => {
      const now = T0 + 10 * DAY;
      const ages = [4 * DAY, 2.5 * DAY, 1.5 * DAY, 0.5 * DAY];
      store.writeSamples(ages.map((a, i) => sample('p', now - a, contractSnapshot(i))));
      store.rollup(now);
      const policy: RetentionPolicy = { raw: 1, '1m': 2, '15m': 3, '1h': Infinity };
      store.applyRetention(now, policy);
      store.applyRetention(now, policy);
      const kept = (tier: Tier): number =>
        series(
          store.history({
            packId: 'p',
            from: now - 5 * DAY,
            to: now,
            fields: ['soc_pct'],
            resolution: tier,
          }),
          'soc_pct',
        ).t.length;
      expect(kept('raw')).toBe(1);
      expect(kept('1m')).toBe(2);
      expect(kept('15m')).toBe(3);
      expect(kept('1h')).toBe(4);
      expect(store.dailyFiles('p').map((f) => f.samples)).toEqual([1]);
      store.applyRetention(now + 1000 * DAY);
      expect(kept('1h')).toBe(4);
      expect(kept('raw')).toBe(0);
      expect(codeOf(() => store.applyRetention(now, { ...policy, raw: -1 }))).toBe(
        'CONFIG_INVALID',
      );
    });

    it('returns the latest full snapshot of a pack', () => {
      expect(store.latest('p')).toBeUndefined();
      writeSeries('p', T0, 3, 5 * SEC);
      store.writeSamples([sample('p', T0 - HOUR, contractSnapshot(99))]); // older: not the latest
      const l = store.latest('p');
      expect(l).toEqual({ packId: 'p', ts: T0 + 10 * SEC, snapshot: contractSnapshot(2) });
    });

    it('lists daily files per pack and UTC day with their CSV size, and deletes one', () => {
      writeSeries('a', T0 + DAY - 10 * MIN, 200, 5 * SEC); // spans midnight
      writeSeries('b', T0, 10, 5 * SEC);
      const files = store.dailyFiles();
      expect(files.map((f) => [f.packId, f.date, f.samples])).toEqual([
        ['a', '2024-01-10', 120],
        ['a', '2024-01-11', 80],
        ['b', '2024-01-10', 10],
      ]);
      for (const f of files) {
        const from = Date.parse(`${f.date}T00:00:00Z`);
        const csv = store.exportCsv(f.packId, from, from + DAY - 1);
        expect(Math.abs(f.bytes - csv.length) / csv.length).toBeLessThan(0.1);
      }
      expect(store.dailyFiles('b')).toHaveLength(1);
      expect(store.deleteDay('a', '2024-01-10')).toBe(120);
      expect(store.dailyFiles('a').map((f) => f.date)).toEqual(['2024-01-11']);
      expect(raw('a', T0, T0 + 2 * DAY, ['soc_pct']).series.soc_pct!.t).toHaveLength(80);
      expect(store.deleteDay('nope', '2024-01-10')).toBe(0);
      expect(codeOf(() => store.deleteDay('a', '2024-13-45'))).toBe('REQUEST_INVALID');
    });

    it('exports CSV: header, ISO time, one row per raw sample, chosen or all fields', () => {
      writeSeries('p', T0, 3, 5 * SEC);
      store.writeSamples([sample('p', T0 + 15 * SEC, { voltage_v: 50.5, temps_c: [20] })]);
      const csv = store.exportCsv('p', T0, T0 + MIN, ['voltage_v', 'cell_mv.5', 'charge_mos']);
      expect(csv.trimEnd().split('\n')).toEqual([
        'time,voltage_v,cell_mv.5,charge_mos',
        '2024-01-10T00:00:00.000Z,51.2,3272,1',
        '2024-01-10T00:00:05.000Z,51.21,3273,0',
        '2024-01-10T00:00:10.000Z,51.22,3274,1',
        '2024-01-10T00:00:15.000Z,50.5,,',
      ]);
      const all = store
        .exportCsv('p', T0, T0 + MIN)
        .trimEnd()
        .split('\n');
      const head = all[0]!.split(',');
      expect(head[0]).toBe('time');
      expect(head).toEqual(
        expect.arrayContaining(['voltage_v', 'soc_pct', 'charge_mos', ...CELLS, 'temps_c.3']),
      );
      expect(all).toHaveLength(5);
      expect(all.slice(1).every((l) => l.split(',').length === head.length)).toBe(true);
      expect(store.exportCsv('p', T0 + HOUR, T0 + 2 * HOUR, ['soc_pct'])).toBe('time,soc_pct\n');
    });

    it('rejects malformed input with REQUEST_INVALID and stores nothing of a bad batch', () => {
      const q = { packId: 'p', from: T0, to: T0 + HOUR, fields: ['voltage_v'] };
      expect(codeOf(() => store.history({ ...q, fields: ['bogus'] }))).toBe('REQUEST_INVALID');
      expect(codeOf(() => store.history({ ...q, from: T0 + 2 * HOUR }))).toBe('REQUEST_INVALID');
      expect(codeOf(() => store.history({ ...q, maxPoints: 0 }))).toBe('REQUEST_INVALID');
      expect(codeOf(() => store.history({ ...q, resolution: '5m' as Tier }))).toBe(
        'REQUEST_INVALID',
      );
      expect(codeOf(() => store.exportCsv('p', T0, T0 + HOUR, ['cell_mv.x']))).toBe(
        'REQUEST_INVALID',
      );
      const bad = [
        sample('p', T0, contractSnapshot(0)),
        sample('p', Number.NaN, contractSnapshot(1)),
      ];
      expect(codeOf(() => store.writeSamples(bad))).toBe('REQUEST_INVALID');
      expect(store.latest('p')).toBeUndefined();
    });
  });
}
