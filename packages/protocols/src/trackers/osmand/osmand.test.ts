/**
 * OsmAnd conformance against the shared vectors (each one an HTTP request line, headers and
 * body), strict validation errors naming the field, and a round trip of the query builder.
 */
import { describe, expect, it } from 'vitest';
import { BmsError } from '@openbms/core';
import { differences, loadTrackerVectors } from '../../testing/trackers.js';
import {
  encodeOsmandQuery,
  parseOsmandQuery,
  parseOsmandRequest,
  type OsmandOptions,
} from './index.js';

const vectors = loadTrackerVectors('osmand');
const RECEIVED = Date.UTC(2026, 11, 7, 12, 0, 0);
const opts: OsmandOptions = { receivedAtMs: RECEIVED };

function errorOf(f: () => unknown): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    expect(e).toBeInstanceOf(BmsError);
    return `${(e as BmsError).code} ${String((e as BmsError).details?.field)}`;
  }
}

describe('osmand vectors', () => {
  it.each(vectors.map((v) => [v.id, v] as const))('%s', (_id, v) => {
    const [, target] = v.request!.split(' ');
    const contentType = Object.entries(v.headers ?? {}).find(
      ([k]) => k.toLowerCase() === 'content-type',
    )?.[1];
    const parse = (): ReturnType<typeof parseOsmandRequest> =>
      parseOsmandRequest({ target: target!, contentType, body: v.body }, opts);
    if (v.expected.error === true) {
      expect(v.expected_response?.status).toBe(400);
      expect(errorOf(parse)).toBe('REQUEST_INVALID id');
      return;
    }
    const p = parse();
    const expected = { ...v.expected };
    if (expected.time_utc === '<server receive time>') {
      expected.time_utc = new Date(RECEIVED).toISOString().replace('.000Z', 'Z');
      expect(p.time_from_receipt).toBe(true);
    }
    if (expected.speed_kmh_if_knots !== undefined) expected.speed_kmh = expected.speed_kmh_if_knots;
    expect(differences({ ...p }, expected, ['speed_kmh_if_knots'])).toEqual([]);
  });
});

describe('osmand validation', () => {
  it.each([
    ['id=1&lat=91&lon=0', 'REQUEST_INVALID lat'],
    ['id=1&lat=1e400&lon=0', 'REQUEST_INVALID lat'],
    ['id=1&lat=0x10&lon=0', 'REQUEST_INVALID lat'],
    ['id=1&lat=10', 'REQUEST_INVALID lon'],
    ['id=1&lat=10&lon=20&lat=11', 'REQUEST_INVALID lat'],
    ['id=1&deviceid=2&lat=1&lon=1', 'REQUEST_INVALID id'],
    ['id=a%20b&lat=1&lon=1', 'REQUEST_INVALID id'],
    ['id=1', 'REQUEST_INVALID lat'],
    ['id=1&lat=1&lon=1&timestamp=yesterday', 'REQUEST_INVALID timestamp'],
    ['id=1&lat=1&lon=1&timestamp=2026-02-30+10:00:00', 'REQUEST_INVALID timestamp'],
    ['id=1&lat=1&lon=1&valid=maybe', 'REQUEST_INVALID valid'],
    ['id=1&lat=1&lon=1&speed=-3', 'REQUEST_INVALID speed'],
    ['id=1&lat=1&lon=1&batt=101', 'REQUEST_INVALID batt'],
    ['id=1&cell=1,2,3', 'REQUEST_INVALID cell'],
    ['id=1&wifi=zz,1', 'REQUEST_INVALID wifi'],
    ['id=1&lat=1&lon=1&%zz=1', 'REQUEST_INVALID query'],
    ['id=1&lat=1&lon=1&driverUniqueId=' + 'x'.repeat(300), 'REQUEST_INVALID driver_unique_id'],
  ])('%s -> %s', (q, want) => {
    expect(errorOf(() => parseOsmandQuery(q, opts))).toBe(want);
  });

  it('refuses bad JSON bodies naming the field', () => {
    const json = (body: string): string =>
      errorOf(() =>
        parseOsmandRequest({ target: '/', contentType: 'application/json', body }, opts),
      );
    expect(json('{')).toBe('REQUEST_INVALID body');
    expect(json('{"device_id":"1","location":{"coords":{"latitude":"1","longitude":2}}}')).toBe(
      'REQUEST_INVALID location.coords.latitude',
    );
    expect(json('{"location":{"coords":{"latitude":1,"longitude":2}}}')).toBe(
      'REQUEST_INVALID device_id',
    );
    expect(
      errorOf(() => parseOsmandRequest({ target: '/', contentType: 'text/xml', body: '' }, opts)),
    ).toBe('REQUEST_INVALID content_type');
  });

  it('reads a form body when the URL has no query, and the speed unit option', () => {
    const p = parseOsmandRequest(
      {
        target: '/',
        contentType: 'application/x-www-form-urlencoded',
        body: 'id=7&lat=1&lon=2&speed=10',
      },
      { ...opts, speedUnit: 'mps' },
    );
    expect(p).toMatchObject({ device_id: '7', lat: 1, lon: 2, speed_kmh: 36 });
  });

  it('round-trips the query builder', () => {
    const q = encodeOsmandQuery({
      id: 'bike-1',
      time_ms: Date.UTC(2026, 0, 1),
      lat: -33.8651,
      lon: 151.2099,
      speed_knots: 10,
      bearing: 90,
      batt: 50,
    });
    expect(parseOsmandQuery(q, opts)).toMatchObject({
      device_id: 'bike-1',
      time_utc: '2026-01-01T00:00:00Z',
      lat: -33.8651,
      lon: 151.2099,
      speed_kmh: 18.52,
      course_deg: 90,
      battery_pct: 50,
    });
  });
});
