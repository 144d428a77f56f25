/**
 * Load profiles: the current a pack's surroundings ask for (+ = charging) at a simulated
 * instant. The pack then limits it by its MOSFETs; chargers taper near full (constant
 * voltage) so a solar day ends in a full battery, not in a string of over-voltage trips.
 */
import { BmsError } from '@openbms/core';

export interface ProfileContext {
  /** Simulated time, ms since the epoch (UTC). */
  t: number;
  /** Seeded PRNG of this pack, consumed once per step. */
  rand: () => number;
  capacityAh: number;
  socPct: number;
  /** Highest cell voltage and the chemistry's constant-voltage level, for charger taper. */
  maxCellMv: number;
  cvMv: number;
}

export interface LoadProfile {
  name: string;
  /** Requested current, A (+ charging). */
  current(ctx: ProfileContext): number;
}

const HOUR = 3_600_000;

/** A CC/CV charger: full current until the highest cell reaches CV, then tapering to zero. */
export function taper(current: number, ctx: ProfileContext): number {
  if (current <= 0) return current;
  const over = ctx.maxCellMv - ctx.cvMv;
  if (over <= 0) return current;
  return current * Math.max(0, 1 - over / 40);
}

const hourOfDay = (t: number): number => (((t % (24 * HOUR)) + 24 * HOUR) % (24 * HOUR)) / HOUR;

/** Charge from PV by day (bell-shaped), house load by night with an evening peak. */
const solar: LoadProfile = {
  name: 'solar',
  current(ctx) {
    const h = hourOfDay(ctx.t);
    const c = ctx.capacityAh;
    const pv = h > 6 && h < 19 ? 0.45 * c * Math.sin((Math.PI * (h - 6)) / 13) ** 1.5 : 0;
    const house = (h >= 18 && h < 22 ? 0.15 : h >= 7 && h < 9 ? 0.1 : 0.05) * c;
    const noise = (ctx.rand() - 0.5) * 0.02 * c;
    return taper(pv - house + noise, ctx);
  },
};

/** Two rides a day with bursts and regenerative braking; charged in the evening. */
const ebike: LoadProfile = {
  name: 'ebike',
  current(ctx) {
    const h = hourOfDay(ctx.t);
    const c = ctx.capacityAh;
    const riding = (h >= 8 && h < 8.6) || (h >= 17.5 && h < 18.25);
    if (riding) {
      const r = ctx.rand();
      if (r < 0.05) return 0.15 * c; // regen while braking
      if (r < 0.15) return -1.2 * c; // hill or acceleration burst
      return -(0.3 + 0.1 * ctx.rand()) * c;
    }
    if (h >= 20 && h < 24) return taper(0.3 * c, ctx);
    return 0;
  },
};

/** Float-charged standby with one 20-minute outage a day at noon. */
const ups: LoadProfile = {
  name: 'ups',
  current(ctx) {
    const h = hourOfDay(ctx.t);
    if (h >= 12 && h < 12 + 1 / 3) return -0.5 * ctx.capacityAh;
    return ctx.socPct < 99.5 ? taper(0.1 * ctx.capacityAh, ctx) : 0;
  },
};

const idle: LoadProfile = { name: 'idle', current: () => 0 };

function constant(amps: number): LoadProfile {
  return { name: `constant:${amps}`, current: () => amps };
}

/**
 * A scripted profile: rows of `seconds,amps` (header line allowed), linearly interpolated,
 * repeating after the last row. Time counts from the profile's start.
 */
export function csvProfile(text: string, start: number, name = 'csv'): LoadProfile {
  const rows: [number, number][] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const l = line.trim();
    if (!l || l.startsWith('#')) return;
    const [a, b] = l.split(/[,;\t]/).map((x) => x.trim());
    const t = Number(a);
    const v = Number(b);
    if (!Number.isFinite(t) || !Number.isFinite(v)) {
      if (rows.length === 0 && i === 0) return; // header
      throw new BmsError(
        'CONFIG_INVALID',
        `profile CSV line ${i + 1}: expected "seconds,amps", got "${l}"`,
      );
    }
    if (rows.length && t <= rows[rows.length - 1]![0]) {
      throw new BmsError('CONFIG_INVALID', `profile CSV line ${i + 1}: time must increase`);
    }
    rows.push([t, v]);
  });
  if (rows.length < 2)
    throw new BmsError('CONFIG_INVALID', 'profile CSV needs at least two rows of "seconds,amps"');
  const period = rows[rows.length - 1]![0] - rows[0]![0];
  return {
    name,
    current(ctx) {
      const s = rows[0]![0] + (((((ctx.t - start) / 1000) % period) + period) % period);
      for (let i = 1; i < rows.length; i++) {
        const [t1, v1] = rows[i]!;
        if (s <= t1) {
          const [t0, v0] = rows[i - 1]!;
          return v0 + ((s - t0) * (v1 - v0)) / (t1 - t0);
        }
      }
      return rows[rows.length - 1]![1];
    },
  };
}

export const PROFILE_NAMES = [
  'solar',
  'ebike',
  'ups',
  'idle',
  'constant:<A>',
  'csv:<file>',
] as const;

/**
 * Profile by name. `csv:<file>` needs the file's text, which the caller reads (`readText`),
 * so this module stays free of file I/O.
 */
export function profileByName(
  name: string,
  opts: { start: number; readText?: (path: string) => string },
): LoadProfile {
  if (name === 'solar') return solar;
  if (name === 'ebike') return ebike;
  if (name === 'ups') return ups;
  if (name === 'idle') return idle;
  const c = /^constant:(-?\d+(\.\d+)?)$/.exec(name);
  if (c) return constant(Number(c[1]));
  if (name.startsWith('csv:') && opts.readText)
    return csvProfile(opts.readText(name.slice(4)), opts.start, name);
  throw new BmsError(
    'CONFIG_INVALID',
    `unknown profile "${name}"; use one of: ${PROFILE_NAMES.join(', ')}`,
  );
}
