import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { executeControl } from './control.js';
import { csvProfile, profileByName } from './profiles.js';
import { createSimulation } from './simulation.js';

describe('control console', () => {
  const sim = () =>
    createSimulation({ protocol: 'daly', packs: 2, clock: new ManualClock(), profile: 'idle' });

  it('injects, lists and clears faults, and reports the true state', () => {
    const s = sim();
    expect(executeControl(s.bus, 'fault silent@65')).toBe('fault silent@65 active');
    expect(executeControl(s.bus, 'fault sensor-open:2@64')).toBe('fault sensor-open:2@64 active');
    expect(executeControl(s.bus, 'faults')).toBe('silent@65 sensor-open:2@64');
    const status = JSON.parse(executeControl(s.bus, 'status 64')) as {
      address: number;
      temps_c: number[];
    }[];
    expect(status).toHaveLength(1);
    expect(status[0]!.temps_c[1]).toBe(-40);
    expect(executeControl(s.bus, 'clear sensor-open')).toBe('sensor-open faults cleared');
    expect(executeControl(s.bus, 'faults')).toBe('silent@65');
    expect(executeControl(s.bus, 'clear')).toBe('all faults cleared');
    expect(executeControl(s.bus, 'faults')).toBe('no faults');
  });

  it('answers bad input with a clear message and changes nothing', () => {
    const s = sim();
    expect(executeControl(s.bus, 'fault explode')).toMatch(/^error: bad fault "explode"/);
    expect(executeControl(s.bus, 'fault drift@64')).toMatch(/needs the cell number/);
    expect(executeControl(s.bus, 'fault drift:99@64')).toBe('error: pack 64 has no cell 99');
    expect(executeControl(s.bus, 'fault silent@9')).toBe('error: no pack at address 9 on this bus');
    expect(executeControl(s.bus, 'dance')).toMatch(/^error: unknown command "dance"/);
    expect(executeControl(s.bus, 'faults')).toBe('no faults');
    expect(JSON.parse(executeControl(s.bus, 'stats'))).toEqual({
      requests: 0,
      replies: 0,
      unanswered: 0,
      faulted: 0,
    });
  });
});

describe('load profiles', () => {
  it('plays a scripted CSV of current against time, interpolating and repeating', () => {
    const p = csvProfile('seconds,amps\n0,0\n10,-20\n20,10\n', 1_000_000);
    const at = (s: number): number =>
      p.current({
        t: 1_000_000 + s * 1000,
        rand: () => 0.5,
        capacityAh: 100,
        socPct: 50,
        maxCellMv: 3300,
        cvMv: 3450,
      });
    expect(at(0)).toBe(0);
    expect(at(5)).toBe(-10);
    expect(at(15)).toBe(-5);
    expect(at(25)).toBe(-10); // repeats after 20 s
  });

  it('rejects a malformed CSV and unknown names with the accepted ones', () => {
    expect(() => csvProfile('0,1\n0,2\n', 0)).toThrow(/time must increase/);
    expect(() => csvProfile('0,1\nx,y\n', 0)).toThrow(/line 2/);
    expect(() => profileByName('wind', { start: 0 })).toThrow(
      /solar, ebike, ups, idle, constant:<A>, csv:<file>/,
    );
    expect(
      profileByName('constant:-12.5', { start: 0 }).current({
        t: 0,
        rand: Math.random,
        capacityAh: 1,
        socPct: 1,
        maxCellMv: 1,
        cvMv: 1,
      }),
    ).toBe(-12.5);
  });

  it('tapers a charger at the constant-voltage level', () => {
    const ups = profileByName('ups', { start: 0 });
    const base = {
      t: Date.UTC(2026, 0, 1, 3),
      rand: () => 0.5,
      capacityAh: 100,
      socPct: 90,
      cvMv: 3450,
    };
    expect(ups.current({ ...base, maxCellMv: 3300 })).toBe(10);
    expect(ups.current({ ...base, maxCellMv: 3470 })).toBe(5);
    expect(ups.current({ ...base, maxCellMv: 3500 })).toBe(0);
  });
});
