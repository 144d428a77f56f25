/**
 * The site's time zone from its coordinates (offline lookup table): known places on several
 * continents, and the config filling it in only when `location:` gives none.
 */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config.js';
import { zoneAt } from './zone.js';

describe('time zone from coordinates', () => {
  it.each([
    ['Berlin', 52.52, 13.405, 'Europe/Berlin'],
    ['New York', 40.7128, -74.006, 'America/New_York'],
    ['Tokyo', 35.6762, 139.6503, 'Asia/Tokyo'],
    ['Sydney', -33.8688, 151.2093, 'Australia/Sydney'],
    ['Shanghai', 31.2304, 121.4737, 'Asia/Shanghai'],
    ['Cape Town', -33.9249, 18.4241, 'Africa/Johannesburg'],
    ['São Paulo', -23.5505, -46.6333, 'America/Sao_Paulo'],
  ])('%s', (_name, lat, lon, zone) => {
    expect(zoneAt(lat, lon)).toBe(zone);
  });

  it('fills location.timezone from the coordinates when none is given, keeps a given one', () => {
    const filled = validateConfig({ version: 1, location: { latitude: 35.68, longitude: 139.69 } });
    expect(filled.location).toEqual({ latitude: 35.68, longitude: 139.69, timezone: 'Asia/Tokyo' });
    const given = validateConfig({
      version: 1,
      location: { latitude: 35.68, longitude: 139.69, timezone: 'UTC' },
    });
    expect(given.location?.timezone).toBe('UTC');
    expect(() => validateConfig({ version: 1, location: { latitude: 95, longitude: 0 } })).toThrow(
      /latitude must be -90\.\.90/,
    );
  });
});
