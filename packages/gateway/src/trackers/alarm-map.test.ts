// The tracker alarm maps (alarm-map.ts) and the fence geometry (geofence.ts) on their own:
// each protocol's bits land on the catalogue codes of docs/trackers.md, the vendor bits per
// model, and points inside, outside and on the edge of circles and polygons.
import { isTrackerAlarmCode, TRACKER_ALARM_CODES } from '@openbms/core';
import { describe, expect, it } from 'vitest';
import {
  gb32960AlarmCodes,
  GT06_ALARMS,
  gt06TerminalAlarm,
  jt808AlarmCodes,
  JT808_MODELS,
} from './alarm-map.js';
import { insideFence, pointInPolygon } from './geofence.js';

const bit = (n: number) => 2 ** n;

describe('tracker alarm maps', () => {
  it('reads JT/T 808 standard bits, vendor bits per model and vendor items', () => {
    expect([...jt808AlarmCodes(bit(8) | bit(7), [])].sort()).toEqual([
      'power_cut',
      'under_voltage',
    ]);
    expect([...jt808AlarmCodes(bit(15) | bit(16) | bit(17), [])].sort()).toEqual([
      'low_capacity',
      'removal',
      'vibration',
    ]);
    expect([...jt808AlarmCodes(bit(15), [], 'traccar')]).toEqual(['vibration']);
    expect([...jt808AlarmCodes(bit(16), [], 'unknown-model')]).toEqual(['vibration']); // default map
    expect([...jt808AlarmCodes(0, ['vibration', 'removing', 'power_off'])].sort()).toEqual([
      'power_cut',
      'removal',
      'vibration',
    ]);
    // car-only bits (fatigue 2, door 31) are not tracker alarms
    expect(jt808AlarmCodes(bit(2) | bit(31), []).size).toBe(0);
  });

  it('reads GT06 alarm codes and terminal-info bits 5-3', () => {
    expect(GT06_ALARMS[0x02]).toBe('power_cut');
    expect(GT06_ALARMS[0x03]).toBe('vibration');
    expect(GT06_ALARMS[0x04]).toBeUndefined(); // the device's own fences: ours raise those
    expect(gt06TerminalAlarm(0b00_001_000)).toBe('vibration');
    expect(gt06TerminalAlarm(0b01_010_001)).toBe('power_cut'); // GPS and armed bits ignored
    expect(gt06TerminalAlarm(0b00_011_000)).toBe('low_capacity');
    expect(gt06TerminalAlarm(0b01_000_111)).toBeUndefined();
  });

  it('reads GB/T 32960 general alarm flags', () => {
    expect([...gb32960AlarmCodes(bit(1) | bit(2) | bit(4) | bit(6))].sort()).toEqual([
      'high_temperature',
      'low_capacity',
      'over_voltage',
      'under_voltage',
    ]);
    expect(gb32960AlarmCodes(bit(13)).size).toBe(0); // brake system: a car alarm
  });

  it('maps only to catalogue codes, each with a severity and both names', () => {
    const mapped = [
      ...Object.values(GT06_ALARMS),
      ...Object.values(JT808_MODELS).flatMap((m) => Object.values(m)),
      ...jt808AlarmCodes(0xffffffff, ['vibration', 'removing', 'power_off']),
      ...gb32960AlarmCodes(0xffffffff),
    ];
    for (const c of mapped) expect(isTrackerAlarmCode(c), c).toBe(true);
    const codes = TRACKER_ALARM_CODES.map((a) => a.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const a of TRACKER_ALARM_CODES) {
      expect(a.label.length).toBeGreaterThan(0);
      expect(a.labelZh.length).toBeGreaterThan(0);
    }
  });
});

describe('fence geometry', () => {
  const square = [
    [22.5, 113.9],
    [22.5, 114.0],
    [22.6, 114.0],
    [22.6, 113.9],
  ];
  it('tests points against a polygon (inside, outside, on an edge, a concave notch)', () => {
    expect(pointInPolygon(22.55, 113.95, square)).toBe(true);
    expect(pointInPolygon(22.65, 113.95, square)).toBe(false);
    expect(pointInPolygon(22.5, 113.95, square)).toBe(true); // on the south edge
    // a U: the notch between its arms is outside
    const u = [
      [0, 0],
      [0, 3],
      [3, 3],
      [3, 2],
      [1, 2],
      [1, 1],
      [3, 1],
      [3, 0],
    ];
    expect(pointInPolygon(2, 1.5, u)).toBe(false);
    expect(pointInPolygon(2, 0.5, u)).toBe(true);
    expect(pointInPolygon(0.5, 1.5, u)).toBe(true);
  });
  it('tests points against a circle by great-circle distance', () => {
    const c = { kind: 'circle' as const, lat: 22.5, lon: 113.9, radiusM: 100 };
    // 0.0008° of latitude is about 89 m; 0.001° about 111 m
    expect(insideFence(c, 22.5008, 113.9)).toBe(true);
    expect(insideFence(c, 22.501, 113.9)).toBe(false);
  });
});
