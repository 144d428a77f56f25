/**
 * The `trackers` config section (docs/trackers.md) and the mileage filter: bad keys refused
 * naming the key path; standing still adds no kilometres, a ride is counted whole, a jump no
 * e-bike makes is skipped.
 */
import { describe, expect, it } from 'vitest';
import { prng } from '@openbms/core';
import { validateConfig } from '../config.js';
import { haversineM, mileageKm } from './mileage.js';

const refusal = (trackers: unknown): string => {
  try {
    validateConfig({ version: 1, trackers });
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
};

describe('trackers config', () => {
  it('takes the four servers with defaults for host and limits', () => {
    const c = validateConfig({
      version: 1,
      trackers: { jt808: { port: 7808 }, osmand: { port: 5055, host: '127.0.0.1' } },
    });
    expect(c.trackers).toEqual({
      jt808: { port: 7808, host: '0.0.0.0' },
      osmand: { port: 5055, host: '127.0.0.1' },
      limits: { max_connections: 20_000, max_per_ip: 100, idle_s: 600 },
    });
  });

  it('refuses bad keys and values naming the key path', () => {
    expect(refusal({ jt808: { prot: 1 } })).toContain('trackers.jt808: unknown key "prot"');
    expect(refusal({ jt808: { port: '7808' } })).toContain('trackers.jt808.port');
    expect(refusal({ gt06: { port: 70000 } })).toContain('trackers.gt06.port');
    expect(refusal({ osmand: { port: 1, tz_offset_minutes: 60 } })).toContain(
      'trackers.osmand: unknown key "tz_offset_minutes"',
    );
    expect(refusal({ limits: { max_per_ip: 0 } })).toContain('trackers.limits.max_per_ip');
    expect(refusal({ traccar: { port: 1 } })).toContain('trackers: unknown key "traccar"');
  });

  it('takes the tracker BMS with its defaults; the chemistry must be named, the family known', () => {
    const c = validateConfig({
      version: 1,
      trackers: { bms: { protocol: 'jbd', chemistry: 'nmc' } },
    });
    expect(c.trackers?.bms).toEqual({
      protocol: 'jbd',
      chemistry: 'nmc',
      address: 0,
      poll_interval_s: 30,
      timeout_ms: 5000,
      retries: 1,
    });
    expect(refusal({ bms: { protocol: 'jbd' } })).toContain('trackers.bms.chemistry');
    expect(refusal({ bms: { protocol: 'nope', chemistry: 'lfp' } })).toContain(
      'trackers.bms.protocol',
    );
    expect(refusal({ bms: { protocol: 'jbd', chemistry: 'lfp', port: 1 } })).toContain(
      'trackers.bms: unknown key "port"',
    );
  });
});

describe('mileage', () => {
  const T = Date.UTC(2030, 0, 1);

  it('adds nothing for an hour of fixes wandering around a standing battery', () => {
    const rand = prng(11);
    const fixes = Array.from({ length: 720 }, (_, i) => ({
      t: T + i * 5000,
      lat: 22.5 + (rand() - 0.5) * 1e-4, // ±5.5 m
      lon: 114 + (rand() - 0.5) * 1e-4,
    }));
    expect(mileageKm(fixes)).toBe(0);
  });

  it('counts a slow straight ride whole, and skips a fix no e-bike could reach', () => {
    // 1 km north in 100 fixes 10 m apart, 2 s apart (18 km/h)
    const ride = Array.from({ length: 101 }, (_, i) => ({
      t: T + i * 2000,
      lat: 22.5 + (i * 10) / 111_195,
      lon: 114,
    }));
    const whole = haversineM(22.5, 114, ride[100]!.lat, 114);
    expect(mileageKm(ride) * 1000).toBeCloseTo(whole, 3);
    const withJump = [
      ...ride.slice(0, 50),
      { t: ride[49]!.t + 1000, lat: 23.5, lon: 114 },
      ...ride.slice(50),
    ];
    expect(mileageKm(withJump) * 1000).toBeCloseTo(whole, 3);
  });
});
