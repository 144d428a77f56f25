/**
 * `openbms sim --tracker jt808|gt06 --server tcp://HOST:PORT [--count N] [--interval S]
 * [--seed N] [--bms FAMILY [--bms-chemistry lfp|nmc]]`: N simulated e-bike batteries with GPS trackers (packages/simulator tracker.ts)
 * riding generated routes and reporting every S seconds to a tracker server, each on its own
 * connection, until Ctrl-C. For demos and load (docs/trackers.md).
 */
import { parseArgs } from 'node:util';
import { BmsError } from '@openbms/core';
import { createSimulation, ride, TrackerSim } from '@openbms/simulator';
import type { Io } from './main.js';

const whole = (name: string, v: string | undefined, min: number, max: number, dflt: number) => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new BmsError(
      'CONFIG_INVALID',
      `--${name} must be a whole number ${min}..${max} (got "${v}")`,
    );
  return n;
};

export async function cmdSimTracker(
  io: Io,
  args: string[],
  printError: (e: unknown) => number,
): Promise<number> {
  const sims: TrackerSim[] = [];
  let stopped = false;
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        tracker: { type: 'string' },
        server: { type: 'string' },
        count: { type: 'string' },
        interval: { type: 'string' },
        seed: { type: 'string' },
        bms: { type: 'string' },
        'bms-chemistry': { type: 'string' },
      },
    });
    const protocol = values.tracker;
    if (protocol !== 'jt808' && protocol !== 'gt06')
      throw new BmsError('CONFIG_INVALID', `--tracker must be jt808 or gt06 (got "${protocol}")`);
    const m = /^tcp:\/\/([^:/]+):(\d{1,5})$/.exec(values.server ?? '');
    if (!m || Number(m[2]) > 65535)
      throw new BmsError('CONFIG_INVALID', '--server must be tcp://HOST:PORT');
    const count = whole('count', values.count, 1, 10_000, 1);
    const interval = whole('interval', values.interval, 1, 3600, 5);
    const seed = whole('seed', values.seed, 0, 1_000_000, 1);
    const chemistry = values['bms-chemistry'] ?? 'lfp';
    if (chemistry !== 'lfp' && chemistry !== 'nmc')
      throw new BmsError(
        'CONFIG_INVALID',
        `--bms-chemistry must be lfp or nmc (got "${chemistry}")`,
      );
    if (values.bms !== undefined && protocol !== 'jt808')
      throw new BmsError(
        'CONFIG_INVALID',
        '--bms needs --tracker jt808 (its pass-through carries the BMS)',
      );
    // Each battery's BMS: an e-bike pack (20 Ah) of the family, riding the e-bike load profile.
    const bmsOf = (n: number) =>
      values.bms === undefined
        ? undefined
        : createSimulation({
            protocol: values.bms,
            chemistry,
            cells: chemistry === 'lfp' ? 16 : 13,
            capacityAh: 20,
            profile: 'ebike',
            seed: seed + n,
            initialSocPct: 40 + ((seed + n) % 50),
          }).bus;
    const stop = io.stopSignal ?? new Promise<void>(() => undefined);
    void stop.then(() => (stopped = true));
    // Connections are opened 50 at a time (each registers and authenticates first).
    for (let i = 0; i < count && !stopped; i += 50) {
      const batch = Array.from({ length: Math.min(50, count - i) }, (_, k) => {
        const n = i + k;
        const id =
          protocol === 'jt808' ? String(13_800_000_000 + n) : `35${String(n).padStart(13, '0')}`;
        const bms = bmsOf(n);
        return new TrackerSim({
          protocol,
          host: m[1]!,
          port: Number(m[2]),
          id,
          ...(bms ? { bms } : {}),
        });
      });
      sims.push(...batch);
      await Promise.all(batch.map((s) => s.connect()));
    }
    io.out(
      `${count} ${protocol} tracker${count > 1 ? 's' : ''} connected to ${values.server}, reporting every ${interval} s; Ctrl-C stops\n`,
    );
    const t0 = Date.now();
    const rides = sims.map(async (sim, i) => {
      for (const p of ride({ seed: seed + i, t0, stepS: interval })) {
        const wait = p.t - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (stopped) return;
        await sim.report(p);
      }
    });
    await Promise.race([stop, Promise.all(rides)]);
    return 0;
  } catch (e) {
    return printError(e);
  } finally {
    stopped = true;
    for (const s of sims) s.close();
  }
}
