// The tracker pages' pure helpers: playback interpolation and clock, graticule spacing,
// distances and navigation links.
import { describe, expect, it } from 'vitest';
import {
  advance,
  fixIndexAt,
  graticuleStep,
  haversineM,
  navigationLinks,
  positionAt,
  PLAYBACK_BASE,
  type Fix,
} from './geo';

const track: Fix[] = [
  { t: 1000, lat: 53.5, lon: 10.0 },
  { t: 11_000, lat: 53.6, lon: 10.2 },
  { t: 21_000, lat: 53.6, lon: 10.4 },
];

describe('playback', () => {
  it('finds the fix at or before a time', () => {
    expect(fixIndexAt(track, 999)).toBe(-1);
    expect(fixIndexAt(track, 1000)).toBe(0);
    expect(fixIndexAt(track, 10_999)).toBe(0);
    expect(fixIndexAt(track, 11_000)).toBe(1);
    expect(fixIndexAt(track, 99_000)).toBe(2);
    expect(fixIndexAt([], 5)).toBe(-1);
  });

  it('puts the marker between two fixes in proportion to time, and on the ends outside them', () => {
    expect(positionAt([], 5)).toBeUndefined();
    expect(positionAt(track, 0)).toEqual({ lat: 53.5, lon: 10.0, index: 0 });
    const mid = positionAt(track, 6000)!;
    expect(mid.index).toBe(0);
    expect(mid.lat).toBeCloseTo(53.55, 9);
    expect(mid.lon).toBeCloseTo(10.1, 9);
    const quarter = positionAt(track, 13_500)!;
    expect(quarter).toMatchObject({ index: 1, lat: 53.6 });
    expect(quarter.lon).toBeCloseTo(10.25, 9);
    expect(positionAt(track, 21_000)).toEqual({ lat: 53.6, lon: 10.4, index: 2 });
    expect(positionAt(track, 50_000)).toEqual({ lat: 53.6, lon: 10.4, index: 2 });
    // Two fixes at one time (never stored, but harmless): the later one is taken.
    expect(positionAt([track[0]!, { ...track[0]!, lat: 1 }], 1000)!.index).toBe(1);
  });

  it('advances track time by real time x speed x the base rate, stopping at the end', () => {
    expect(advance(0, 1000, 1, 1e9)).toBe(1000 * PLAYBACK_BASE);
    expect(advance(0, 500, 8, 1e9)).toBe(500 * 8 * PLAYBACK_BASE);
    expect(advance(0, 1000, 64, 30_000)).toBe(30_000);
  });
});

describe('map helpers', () => {
  it('spaces the graticule for 4-10 lines across any view', () => {
    for (const span of [0.003, 0.04, 0.7, 3, 25, 170, 360]) {
      const step = graticuleStep(span);
      expect(span / step, String(span)).toBeLessThanOrEqual(10);
      expect(span / step, String(span)).toBeGreaterThanOrEqual(span >= 360 ? 4 : 2);
    }
    expect(graticuleStep(0)).toBe(0.0005);
  });

  it('measures great-circle distances', () => {
    // One degree of latitude is about 111.2 km.
    expect(haversineM({ lat: 0, lon: 0 }, { lat: 1, lon: 0 })).toBeCloseTo(111_195, -1);
    expect(haversineM({ lat: 53.55, lon: 9.99 }, { lat: 53.55, lon: 9.99 })).toBe(0);
  });

  it('links to the point for phones and the web maps', () => {
    const l = navigationLinks(53.5511, 9.99371234);
    expect(l.geo).toBe('geo:53.551100,9.993712?q=53.551100,9.993712');
    expect(l.google).toBe('https://www.google.com/maps/dir/?api=1&destination=53.551100,9.993712');
    expect(l.apple).toBe('https://maps.apple.com/?daddr=53.551100,9.993712');
    expect(l.osm).toContain('mlat=53.551100&mlon=9.993712');
  });
});
