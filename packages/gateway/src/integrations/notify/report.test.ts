/**
 * The sunrise/sunset report from a real SQLite telemetry store fed with a day of samples:
 * SOC range, energy in/out, worst cell delta over exactly the report's period, the message
 * text, the scheduler firing at sunrise and sunset (injected clock), and the numbers still
 * right once raw samples are gone (1-minute rollups).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reading } from '@openbms/core';
import { localScope, type HistoryQuery, type Sample } from '@openbms/storage';
import { openSqliteStorage } from '@openbms/storage-sqlite';
import { EventBus } from '../../types.js';
import { dailyReportMessage } from './messages.js';
import { integrateEnergy } from './report.js';
import { channelSchema } from './schema.js';
import { NotificationService } from './service.js';
import { sunEvents } from './sun.js';
import { HttpReceiver, ManualTimers, waitFor } from '../../testing/notify.js';

const BERLIN = { latitude: 52.52, longitude: 13.4, timezone: 'Europe/Berlin' };
const H = 3_600_000;
const DAY = Date.UTC(2026, 5, 21); // 2026-06-21 00:00 UTC
const STEP = 30_000;

const PACKS = [
  { id: 'home/rack/2', name: 'Rack 1' },
  { id: 'home/rack/3', name: 'Rack 2' },
  { id: 'home/rack/4', name: 'Rack 3' },
];

/** Rack 1: power_w profile (UTC hours of DAY), SOC, cell delta with spikes. */
function rack1(t: number): Reading {
  const h = (t - DAY) / H;
  let power = 0;
  if (h >= 0 && h < 1) power = 2000; // at night: charge 2 kWh (before sunrise)
  if (h >= 8 && h < 12) power = 1000; // by day: 4 kWh in
  if (h >= 14 && h < 16) power = -500; // by day: 1 kWh out
  let soc = 40;
  if (h < 2) soc = 35;
  else if (h >= 8 && h < 12) soc = 40 + Math.round(((h - 8) / 4) * 60);
  else if (h >= 12) soc = h >= 14 ? 90 : 100;
  let delta = 10;
  if (t === DAY + 1 * H) delta = 80; // night spike
  if (t === DAY + 12 * H) delta = 45; // day spike
  return { soc_pct: soc, power_w: power, voltage_v: 53.2, delta_cell_mv: delta };
}

/** Rack 2 reports voltage and current only: 10 A at 50 V from 08:00 to 10:00 UTC = 1 kWh. */
function rack2(t: number): Reading {
  const h = (t - DAY) / H;
  return { soc_pct: 60, voltage_v: 50, current_a: h >= 8 && h < 10 ? 10 : 0 };
}

let storage: Awaited<ReturnType<typeof openSqliteStorage>>;
let rx: HttpReceiver;

beforeEach(async () => {
  storage = await openSqliteStorage({});
  const samples: Sample[] = [];
  for (let t = DAY - 6 * H; t < DAY + 24 * H; t += STEP) {
    samples.push({ packId: PACKS[0]!.id, ts: t, snapshot: rack1(t) });
    samples.push({ packId: PACKS[1]!.id, ts: t, snapshot: rack2(t) });
  }
  await storage.telemetry.writeSamples(storage.identity, samples);
  rx = await new HttpReceiver().start();
});

afterEach(async () => {
  await storage.close();
  await rx.close();
});

/** The gateway's own history (its scope applied), as the gateway hands it to integrations. */
const history = () => ({
  history: (q: HistoryQuery) => storage.telemetry.history(localScope(storage.identity), q),
});

function makeService(timers: ManualTimers): NotificationService {
  const svc = new NotificationService({
    config: [
      channelSchema.parse({
        id: 'hook',
        type: 'webhook',
        url: `${rx.url}/report`,
        events: ['daily_report'],
      }),
    ],
    location: BERLIN,
    events: new EventBus(),
    packs: () => PACKS,
    telemetry: history(),
    clock: timers,
    timers,
  });
  svc.start();
  return svc;
}

describe('daily report', () => {
  it('fires at sunrise and at sunset with the period since the previous one', async () => {
    const [sunrise, sunset] = sunEvents(DAY, DAY + 24 * H, BERLIN);
    expect(sunrise!.kind).toBe('sunrise');
    expect(sunset!.kind).toBe('sunset');
    const timers = new ManualTimers(DAY);
    const svc = makeService(timers);
    try {
      expect(svc.status().next_report).toEqual({ kind: 'sunrise', at: sunrise!.at });
      timers.advanceTo(sunrise!.at - 1);
      expect(rx.requests).toHaveLength(0);
      timers.advanceTo(sunrise!.at);
      await rx.received(1);
      timers.advanceTo(DAY + 24 * H);
      await rx.received(2);
      expect(rx.requests).toHaveLength(2);

      const [night, day] = rx.requests.map((r) => JSON.parse(r.body));
      expect(night.event).toBe('daily_report');
      expect(night.title).toBe('OpenBMS sunrise report');
      expect(night.data.kind).toBe('sunrise');
      expect(night.data.to).toBe(sunrise!.at);
      // From the previous evening's sunset.
      const prevSunset = sunEvents(DAY - 24 * H, DAY, BERLIN).at(-1)!;
      expect(night.data.from).toBe(prevSunset.at);
      expect(night.data.packs[0]).toMatchObject({
        id: 'home/rack/2',
        soc_min_pct: 35,
        soc_max_pct: 40,
        energy_in_kwh: 2,
        energy_out_kwh: 0,
        worst_delta_mv: 80,
        resolution: 'raw',
      });

      expect(day.title).toBe('OpenBMS sunset report');
      expect(day.data).toMatchObject({ kind: 'sunset', from: sunrise!.at, to: sunset!.at });
      expect(day.data.packs[0]).toMatchObject({
        soc_min_pct: 40,
        soc_max_pct: 100,
        energy_in_kwh: 4,
        energy_out_kwh: 1,
        worst_delta_mv: 45,
      });
      expect(day.data.packs[1]).toMatchObject({
        id: 'home/rack/3',
        soc_min_pct: 60,
        soc_max_pct: 60,
        energy_in_kwh: 1,
        energy_out_kwh: 0,
      });
      expect(day.data.packs[2]).toEqual({ id: 'home/rack/4', name: 'Rack 3', samples: 0 });
      const lines = day.message.split('\n');
      expect(lines[0]).toMatch(
        /^Sunset report: the day 2026-06-21 04:4\d - 21:3\d \(Europe\/Berlin\)$/,
      );
      expect(lines.slice(1)).toEqual([
        'Rack 1: SOC 40-100 %, in 4.00 kWh, out 1.00 kWh, worst cell delta 45 mV',
        'Rack 2: SOC 60-60 %, in 1.00 kWh, out 0.00 kWh',
        'Rack 3: no data',
      ]);
      await waitFor(() => svc.deliveries.list().every((e) => e.status === 'sent'));
    } finally {
      await svc.stop();
    }
  });

  it('gives the same numbers from the 1-minute rollups once raw samples are gone', async () => {
    const [sunrise, sunset] = sunEvents(DAY, DAY + 24 * H, BERLIN);
    const now = DAY + 24 * H;
    await storage.telemetry.rollup(now);
    await storage.telemetry.applyRetention(now, {
      raw: 1 / 86_400,
      '1m': 365,
      '15m': 730,
      '1h': Infinity,
    });
    const timers = new ManualTimers(now);
    const svc = makeService(timers);
    try {
      const r = (await svc.report('sunset', sunset!.at))!;
      expect(r.from).toBe(sunrise!.at);
      const p = r.packs[0]!;
      expect(p.resolution).toBe('1m');
      expect(p.energy_in_kwh).toBeCloseTo(4, 2);
      expect(p.energy_out_kwh).toBeCloseTo(1, 2);
      expect(p.soc_max_pct).toBe(100);
      expect(p.worst_delta_mv).toBe(45);
      await rx.received(1);
      expect(JSON.parse(rx.requests[0]!.body).data.packs[0].resolution).toBe('1m');
    } finally {
      await svc.stop();
    }
  });

  it('reports no data without samples and has no report without channels that want it', () => {
    const msg = dailyReportMessage(
      { kind: 'sunrise', from: DAY, to: DAY + H, packs: [] },
      'Europe/Berlin',
    );
    expect(msg.body).toBe(
      'Sunrise report: the night 2026-06-21 02:00 - 03:00 (Europe/Berlin)\nNo packs configured.',
    );
    const timers = new ManualTimers(DAY);
    const svc = new NotificationService({
      config: [channelSchema.parse({ id: 'a', type: 'webhook', url: rx.url, events: ['offline'] })],
      location: BERLIN,
      events: new EventBus(),
      packs: () => PACKS,
      telemetry: history(),
      clock: timers,
      timers,
    });
    svc.start();
    expect(svc.status().next_report).toBeUndefined();
    expect(timers.size).toBe(0);
    void svc.stop();
  });
});

describe('send the daily report now', () => {
  it('sends the running period so far through the chosen channels at once, quiet hours or not', async () => {
    const [sunrise] = sunEvents(DAY, DAY + 24 * H, BERLIN);
    const prevSunset = sunEvents(DAY - 24 * H, DAY, BERLIN).at(-1)!;
    const dead = await new HttpReceiver().start();
    const deadUrl = dead.url;
    await dead.close();
    // 03:30 in Berlin, before sunrise. Channel a takes only "offline"; quiet 15:00-17:00.
    const timers = new ManualTimers(DAY + 1.5 * H);
    const svc = new NotificationService({
      config: [
        channelSchema.parse({
          id: 'a',
          type: 'webhook',
          url: `${rx.url}/a`,
          events: ['offline'],
          quiet_hours: { from: '15:00', to: '17:00', mode: 'drop' },
        }),
        channelSchema.parse({ id: 'b', type: 'webhook', url: `${deadUrl}/b`, events: ['online'] }),
      ],
      location: BERLIN,
      events: new EventBus(),
      packs: () => PACKS,
      telemetry: history(),
      clock: timers,
      timers,
    });
    svc.start();
    try {
      // Before sunrise: the night so far, through both channels; one failing says why.
      const night = await svc.reportNow(['b', 'a']);
      expect(night.kind).toBe('sunrise');
      expect(night.from).toBe(prevSunset.at);
      expect(night.results.map((x) => [x.channel, x.ok])).toEqual([
        ['b', false],
        ['a', true],
      ]);
      expect(night.results[0]!.error).toMatch(
        /^cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/,
      );
      const sent = JSON.parse(rx.requests.find((x) => x.url === '/a')!.body);
      expect(sent.title).toBe('OpenBMS sunrise report so far');
      expect(sent.data.packs[0]).toMatchObject({ energy_in_kwh: 2, worst_delta_mv: 80 });

      // 16:00 in Berlin: the day is running, channel a is in its quiet hours.
      timers.advanceTo(DAY + 14 * H);
      expect(svc.status().channels[0]!.quiet_hours?.active).toBe(true);
      const r = await svc.reportNow(['a']);
      expect(r).toEqual({
        kind: 'sunset',
        from: sunrise!.at,
        to: DAY + 14 * H,
        results: [{ ok: true, channel: 'a', status: 'sent', attempts: 1 }],
      });
      expect(rx.requests.map((x) => x.url)).toEqual(['/a', '/a']);
      const day = JSON.parse(rx.requests[1]!.body);
      expect(day.title).toBe('OpenBMS sunset report so far');
      expect(day.data).toMatchObject({ kind: 'sunset', preview: true, to: DAY + 14 * H });
      // 08-12 h: 4 kWh in; the 1 kWh out (14-16 h) has not happened yet.
      expect(day.data.packs[0]).toMatchObject({
        soc_min_pct: 40,
        soc_max_pct: 100,
        energy_in_kwh: 4,
        energy_out_kwh: 0,
      });
      expect(day.message.split('\n')[0]).toMatch(
        /^Sunset report so far: the day 2026-06-21 04:4\d - 16:00 \(Europe\/Berlin\)$/,
      );
      expect(svc.deliveries.list('a')[0]).toMatchObject({ event: 'daily_report', status: 'sent' });

      await expect(svc.reportNow(['nope'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(svc.reportNow([])).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
    } finally {
      await svc.stop();
    }
  });

  it('needs the site location', async () => {
    const svc = new NotificationService({
      config: [channelSchema.parse({ id: 'a', type: 'webhook', url: rx.url })],
      events: new EventBus(),
      packs: () => PACKS,
      telemetry: history(),
    });
    await expect(svc.reportNow(['a'])).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('location'),
    });
    expect(rx.requests).toHaveLength(0);
  });
});

describe('energy integration', () => {
  it('holds each raw sample until the next, skips gaps over 15 min, clips to the period', () => {
    const t = [0, 60_000, 120_000, 120_000 + 16 * 60_000, 120_000 + 17 * 60_000];
    const w = [3600, -1800, 7200, 3600, 3600];
    // 1 min at 3600 W = 60 Wh; 1 min at -1800 W = 30 Wh out; 7200 W across a 16 min gap: 0;
    // 3600 W for 1 min = 60 Wh; the last sample holds one interval = 60 Wh.
    expect(integrateEnergy(t, w, 0, 10 * H)).toEqual({ inWh: 180, outWh: 30 });
    // Clipped to the first 30 s.
    expect(integrateEnergy(t, w, 0, 30_000)).toEqual({ inWh: 30, outWh: 0 });
    // Buckets: each average over its width.
    expect(integrateEnergy([0, 60_000], [600, -600], 0, H, 60_000)).toEqual({
      inWh: 10,
      outWh: 10,
    });
  });
});
