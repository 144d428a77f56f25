// The map's frame: the plants' extent with a margin, never narrower than 20° × 10°, never
// beyond the globe; and the list's filter query.
import { describe, expect, it } from 'vitest';
import { filterQuery } from './DevicesPage';
import { refreshMs } from './FleetScreenPage';
import { frame } from './PlantMap';

describe('plant map frame', () => {
  it('widens one plant to at least 20° by 10° around it', () => {
    const f = frame([{ lat: 53.55, lon: 9.99 }]);
    expect(f.east - f.west).toBeCloseTo(20, 6);
    expect(f.north - f.south).toBeCloseTo(10, 6);
    expect((f.east + f.west) / 2).toBeCloseTo(9.99, 6);
  });

  it('pads a wide spread by 12 % and keeps it on the globe', () => {
    const f = frame([
      { lat: 51.51, lon: -0.13 },
      { lat: 31.23, lon: 121.47 },
      { lat: -85, lon: 179 },
    ]);
    expect(f.west).toBeCloseTo(-0.13 - 0.12 * (179 + 0.13), 6);
    expect(f.east).toBe(180);
    expect(f.south).toBe(-90);
    expect(f.north).toBeLessThanOrEqual(90);
    expect(f.north).toBeGreaterThan(51.51);
  });
});

describe('device filter query', () => {
  it('names the tab always and the search and organisation when given', () => {
    expect(filterQuery('all', '', '')).toBe('status=all');
    expect(filterQuery('expired', 'DEMO-4F 2', 'org1')).toBe('status=expired&q=DEMO-4F+2&org=org1');
  });
});

describe('fleet screen refresh', () => {
  it('takes ?refresh= in whole seconds from 5 to 3600, else 30 s', () => {
    expect(refreshMs('')).toBe(30_000);
    expect(refreshMs('?refresh=5')).toBe(5_000);
    expect(refreshMs('?refresh=4')).toBe(30_000);
    expect(refreshMs('?refresh=2.5')).toBe(30_000);
    expect(refreshMs('?refresh=x')).toBe(30_000);
  });
});
