/**
 * The site's time zone from its coordinates, when `location:` gives none. The lookup is
 * @photostructure/tz-lookup (the maintained fork of tz-lookup, CC0): a ~70 KB table of the
 * time-zone boundaries inside the package, answered offline with nothing downloaded at run
 * time; near borders it may pick the neighbour (its grid is coarse), so a given zone wins.
 */
import tzLookup from '@photostructure/tz-lookup';
import type { LocationConfig } from './schema.js';

/** The IANA zone at these coordinates (e.g. 52.52, 13.40 -> "Europe/Berlin"). */
export function zoneAt(latitude: number, longitude: number): string {
  return tzLookup(latitude, longitude);
}

/** The location with its time zone: the given one, else the one at its coordinates. */
export function withZone(l: LocationConfig): LocationConfig & { timezone: string } {
  return { ...l, timezone: l.timezone ?? zoneAt(l.latitude, l.longitude) };
}
