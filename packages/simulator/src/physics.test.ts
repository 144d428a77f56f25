/**
 * Physics and firmware behaviour of a simulated pack, on a manual clock (no test sleeps:
 * simulated hours pass by advancing the clock).
 */
import { describe, expect, it } from 'vitest';
import { PARAMETERS, checkConsistency, validateParameterValue } from '@openbms/core';
import { ManualClock } from './clock.js';
import { Firmware, factoryDefaults, type Measurements } from './firmware.js';
import { SimPack, type PackOptions } from './pack.js';
import { profileByName, type LoadProfile } from './profiles.js';
import { createSimulation } from './simulation.js';

const HOUR = 3_600_000;

function pack(o: Partial<PackOptions> & { profile: LoadProfile }): {
  p: SimPack;
  clock: ManualClock;
} {
  const clock = new ManualClock(Date.UTC(2026, 5, 21, 0, 0, 0));
  const p = new SimPack({
    address: 1,
    index: 0,
    chemistry: 'lfp',
    cells: 16,
    capacityAh: 100,
    seed: 7,
    start: clock.now(),
    ...o,
  });
  return { p, clock };
}

const constant = (a: number): LoadProfile => profileByName(`constant:${a}`, { start: 0 });

describe('coulomb counting and state of charge', () => {
  it('charge in (Ah) matches the SOC rise within 1 %', () => {
    const { p, clock } = pack({ profile: constant(20), initialSocPct: 30 });
    const before = p.snapshot();
    clock.advance(2 * HOUR);
    p.advanceTo(clock.now());
    const after = p.snapshot();
    const chargedAh = 20 * 2;
    const socRiseAh = ((after.soc_pct! - before.soc_pct!) / 100) * after.full_ah!;
    expect(Math.abs(socRiseAh - chargedAh) / chargedAh).toBeLessThan(0.01);
    expect(after.remaining_ah! - before.remaining_ah!).toBeCloseTo(chargedAh, 1);
    // The cells themselves took the charge (mean true SOC rose the same, within the spread).
    const cellRise = p.physics.cells.reduce((s, c) => s + c.socPct, 0) / 16 - 30;
    expect(Math.abs(cellRise - (chargedAh / 100) * 100) / 40).toBeLessThan(0.05);
  });

  it('sags under load (I·R) and recovers at rest', () => {
    const { p, clock } = pack({ profile: constant(-60), initialSocPct: 50 });
    clock.advance(10_000);
    p.advanceTo(clock.now());
    const loaded = p.snapshot().voltage_v!;
    p.profile = constant(0);
    clock.advance(2_000);
    p.advanceTo(clock.now());
    const rest = p.snapshot().voltage_v!;
    expect(rest - loaded).toBeGreaterThan(0.4); // 60 A through ~11 mΩ
  });

  it('counts cycles and fades capacity as charge is cycled', () => {
    const { p, clock } = pack({ profile: constant(-50), capacityAh: 10, initialSocPct: 100 });
    const full0 = p.snapshot().full_ah!;
    // Alternate discharge and charge for 40 simulated hours.
    for (let i = 0; i < 20; i++) {
      p.profile = constant(i % 2 === 0 ? -4 : 4); // 0.4 C, below the over-current alarms
      clock.advance(HOUR);
      p.advanceTo(clock.now());
    }
    const s = p.snapshot();
    expect(s.cycles).toBe(4); // 10 discharges of 4 Ah on a 10 Ah pack
    // 4 cycles at 0.01 %/cycle (LFP): 0.04 % of capacity gone.
    expect(p.physics.sohPct).toBeCloseTo(100 - 4 * 0.01, 3);
    expect(p.physics.fullAh).toBeLessThan(full0);
  });
});

describe('thermal model', () => {
  it('heats up under load and cools down at rest', () => {
    const { p, clock } = pack({ profile: constant(-90), initialSocPct: 95 });
    const t0 = p.snapshot();
    clock.advance(HOUR);
    p.advanceTo(clock.now());
    const hot = p.snapshot();
    expect(hot.max_temp_c! - t0.max_temp_c!).toBeGreaterThan(2);
    expect(hot.mos_temp_c!).toBeGreaterThan(t0.mos_temp_c! + 2);
    p.profile = constant(0);
    clock.advance(3 * HOUR);
    p.advanceTo(clock.now());
    const cool = p.snapshot();
    expect(cool.max_temp_c!).toBeLessThan(hot.max_temp_c! - 1);
    expect(cool.mos_temp_c!).toBeLessThan(hot.mos_temp_c!);
  });
});

describe('passive balancing', () => {
  it('bleeds the high cells above the start voltage and narrows the spread', () => {
    const { p, clock } = pack({ profile: constant(0), capacityAh: 10, initialSocPct: 99 });
    p.physics.cells.forEach((c, i) => (c.socPct = 98 + (i % 4) * 0.6));
    p.advanceTo(clock.now() + 1000);
    const before = p.snapshot();
    expect(before.balancing).toBe(true);
    expect(before.cell_balancing!.filter(Boolean).length).toBeGreaterThan(0);
    clock.advance(12 * HOUR);
    p.advanceTo(clock.now());
    const after = p.snapshot();
    expect(after.delta_cell_mv!).toBeLessThan(before.delta_cell_mv! * 0.6);
  });

  it('does not balance below the start voltage', () => {
    const { p, clock } = pack({ profile: constant(0), initialSocPct: 50 });
    clock.advance(60_000);
    p.advanceTo(clock.now());
    expect(p.snapshot().balancing).toBe(false);
  });
});

// Each rule of the firmware trips exactly at its threshold after its delay and releases at
// its recovery value (or, for over-current, after its recovery delay).
const RULE_INPUTS: [string, keyof Measurements, 'high' | 'low', string][] = [
  ['cell_ov', 'maxCellMv', 'high', '_mv'],
  ['cell_uv', 'minCellMv', 'low', '_mv'],
  ['pack_ov', 'packV', 'high', '_v'],
  ['pack_uv', 'packV', 'low', '_v'],
  ['cell_diff', 'deltaMv', 'high', '_mv'],
  ['chg_ot', 'maxCellTempC', 'high', '_c'],
  ['chg_ut', 'minCellTempC', 'low', '_c'],
  ['dsg_ot', 'maxCellTempC', 'high', '_c'],
  ['dsg_ut', 'minCellTempC', 'low', '_c'],
  ['mos_ot', 'mosTempC', 'high', '_c'],
];

function normal(): Measurements {
  return {
    maxCellMv: 3300,
    minCellMv: 3290,
    deltaMv: 10,
    packV: 52.8,
    currentA: 0,
    maxCellTempC: 25,
    minCellTempC: 24,
    mosTempC: 30,
    envTempC: 25,
    socPct: 50,
    openSensors: 0,
  };
}

describe('protections', () => {
  const params = factoryDefaults('lfp', 16, 100);

  it('ships factory defaults that pass their own validation', () => {
    for (const [id, v] of Object.entries(params)) {
      expect(
        PARAMETERS.some((p) => p.id === id),
        id,
      ).toBe(true);
      expect(
        () => validateParameterValue(id, v, { chemistry: 'lfp', cellCount: 16 }),
        id,
      ).not.toThrow();
    }
    expect(checkConsistency(params)).toEqual([]);
    const nmc = factoryDefaults('nmc', 20, 50);
    for (const [id, v] of Object.entries(nmc)) {
      expect(
        () => validateParameterValue(id, v, { chemistry: 'nmc', cellCount: 20 }),
        id,
      ).not.toThrow();
    }
  });

  it.each(RULE_INPUTS)(
    '%s trips at its threshold after its delay and recovers at its recovery value',
    (code, input, dir, suffix) => {
      for (const level of [1, 2]) {
        const fw = new Firmware(() => params);
        const threshold = params[`${code}_l${level}${suffix}`]!;
        const recover = params[`${code}_l${level}_recover${suffix}`]!;
        const delayMs = params[`${code}_l${level}_delay_s`]! * 1000;
        const eps = suffix === '_v' ? 0.01 : 1;
        const m = normal();
        const at = (value: number, t: number): void => {
          m[input] = value as never;
          fw.evaluate(m, t);
        };
        const active = (): boolean => fw.isActive(code, level);
        // Just short of the threshold for a long time: nothing.
        at(dir === 'high' ? threshold - eps : threshold + eps, 0);
        at(dir === 'high' ? threshold - eps : threshold + eps, delayMs + 10_000);
        expect(active()).toBe(false);
        // At the threshold: not before the delay, then tripped.
        const t0 = 20_000;
        at(threshold, t0);
        if (delayMs > 0) {
          at(threshold, t0 + delayMs - 100);
          expect(active(), `${code} L${level} before its delay`).toBe(false);
        }
        at(threshold, t0 + delayMs);
        expect(active(), `${code} L${level} after its delay`).toBe(true);
        // Between threshold and recovery: still active (hysteresis).
        const between = (threshold + recover) / 2;
        at(between, t0 + delayMs + 1000);
        expect(active()).toBe(true);
        // At the recovery value: still active; past it: released.
        at(recover, t0 + delayMs + 2000);
        expect(active()).toBe(true);
        at(dir === 'high' ? recover - eps : recover + eps, t0 + delayMs + 3000);
        expect(active(), `${code} L${level} released past recovery`).toBe(false);
        const log = fw.alarmLog.filter((r) => r.code === code && r.level === level);
        expect(log.map((r) => r.event)).toEqual(['raised', 'cleared']);
        expect(fw.counters[code] ?? 0).toBe(level >= 2 ? 1 : 0);
      }
    },
  );

  it.each(['chg_oc', 'dsg_oc'])(
    '%s trips after its delay and releases after its recovery delay',
    (code) => {
      const fw = new Firmware(() => params);
      const sign = code === 'chg_oc' ? 1 : -1;
      const threshold = params[`${code}_l2_a`]!;
      const delayMs = params[`${code}_l2_delay_s`]! * 1000;
      const recoverMs = params[`${code}_l2_recover_delay_s`]! * 1000;
      const m = normal();
      m.currentA = sign * threshold;
      fw.evaluate(m, 0);
      fw.evaluate(m, delayMs - 100);
      expect(fw.isActive(code, 2)).toBe(false);
      fw.evaluate(m, delayMs);
      expect(fw.isActive(code, 2)).toBe(true);
      expect(fw.cuts()).toEqual({ charge: code === 'chg_oc', discharge: code === 'dsg_oc' });
      m.currentA = 0; // the MOSFET opened
      fw.evaluate(m, delayMs + recoverMs - 100);
      expect(fw.isActive(code, 2)).toBe(true);
      fw.evaluate(m, delayMs + recoverMs);
      expect(fw.isActive(code, 2)).toBe(false);
    },
  );

  it('level 1 is an alarm only; level 2 opens the MOSFET the seeds name', () => {
    const fw = new Firmware(() => params);
    const m = normal();
    m.maxCellMv = params.cell_ov_l1_mv!;
    fw.evaluate(m, 0);
    fw.evaluate(m, 10_000);
    expect(fw.alarms(50)).toEqual([{ code: 'cell_ov', severity: 'warning', level: 1 }]);
    expect(fw.cuts()).toEqual({ charge: false, discharge: false });
    m.maxCellMv = params.cell_ov_l2_mv!;
    fw.evaluate(m, 20_000);
    fw.evaluate(m, 30_000);
    expect(fw.alarms(50)).toEqual([{ code: 'cell_ov', severity: 'protection', level: 2 }]);
    expect(fw.cuts()).toEqual({ charge: true, discharge: false });
  });

  it('a charging pack stops at cell over-voltage, recalibrates to 100 %, and discharges again', () => {
    const { p, clock } = pack({ profile: constant(20), initialSocPct: 96, capacityAh: 50 });
    let tripped = false;
    for (let i = 0; i < 6 * 60 && !tripped; i++) {
      clock.advance(10_000);
      p.advanceTo(clock.now());
      tripped = !p.snapshot().charge_mos;
    }
    const s = p.snapshot();
    expect(tripped).toBe(true);
    expect(s.alarms!.some((a) => a.code === 'cell_ov' && a.level === 2)).toBe(true);
    expect(s.current_a).toBe(0);
    expect(s.soc_pct).toBe(100);
    expect(s.discharge_mos).toBe(true);
    expect(p.counters().cell_ov).toBe(1);
    expect(
      p.alarmRecords().some((r) => r.code === 'cell_ov' && r.event === 'raised' && r.level === 2),
    ).toBe(true);
    // A load pulls the cells below the recovery value: the charge MOSFET closes again.
    p.profile = constant(-20);
    clock.advance(30 * 60_000);
    p.advanceTo(clock.now());
    const later = p.snapshot();
    expect(later.charge_mos).toBe(true);
    expect(later.alarms!.some((a) => a.code === 'cell_ov' && a.level === 2)).toBe(false);
  });

  it('a short circuit opens the discharge MOSFET within the step and recovers after its delay', () => {
    const { p, clock } = pack({ profile: constant(0) });
    p.faults.overcurrentA = 400;
    clock.advance(2000);
    p.advanceTo(clock.now());
    const s = p.snapshot();
    expect(s.discharge_mos).toBe(false);
    expect(s.alarms!.map((a) => a.code)).toContain('short_circuit');
    p.faults.overcurrentA = 0;
    clock.advance(61_000);
    p.advanceTo(clock.now());
    expect(p.snapshot().discharge_mos).toBe(true);
  });
});

describe('commands', () => {
  it('refuses to switch the charge MOSFET off while discharge current flows (seed 004 interlock)', () => {
    const { p, clock } = pack({ profile: constant(-20) });
    clock.advance(2000);
    p.advanceTo(clock.now());
    const r = p.setMos('charge', false);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/discharge current flows/);
    expect(p.snapshot().charge_mos).toBe(true);
    expect(p.setMos('discharge', false).ok).toBe(true);
    clock.advance(2000);
    p.advanceTo(clock.now());
    const s = p.snapshot();
    expect(s.discharge_mos).toBe(false);
    expect(s.current_a).toBe(0);
    expect(p.setMos('charge', false).ok).toBe(true);
  });

  it('validates parameter writes, stores them, and restores factory defaults', () => {
    const { p } = pack({ profile: constant(0) });
    expect(p.writeParameters({ cell_ov_l2_mv: 3600 })).toEqual({ ok: true });
    expect(p.parameters().cell_ov_l2_mv).toBe(3600);
    const bad = p.writeParameters({ cell_ov_l2_mv: 4200 });
    expect(bad).toMatchObject({ ok: false, code: 'PARAM_UNSAFE_FOR_CHEMISTRY' });
    expect(p.parameters().cell_ov_l2_mv).toBe(3600);
    expect(p.writeParameters({ cell_ov_l2_recover_mv: 3700 })).toMatchObject({
      ok: false,
      code: 'PARAM_INCONSISTENT',
    });
    p.restoreDefaults();
    expect(p.parameters()).toEqual(p.defaults());
  });

  it('sets SOC and the clock, keeps data records at its storage interval', () => {
    const { p, clock } = pack({ profile: constant(-10), recordIntervalS: 60 });
    expect(p.setSoc(80)).toEqual({ ok: true });
    expect(p.snapshot().soc_pct).toBe(80);
    expect(p.setSoc(120).ok).toBe(false);
    p.setClock(Date.UTC(2030, 0, 1));
    clock.advance(10 * 60_000);
    p.advanceTo(clock.now());
    expect(p.clock()).toBe(Date.UTC(2030, 0, 1) + 10 * 60_000);
    expect(p.dataRecords()).toHaveLength(10);
    expect(p.dataRecords()[0]!.current_a).toBeCloseTo(-10, 1);
    p.clearRecords('data');
    expect(p.dataRecords()).toHaveLength(0);
  });

  it('an open temperature sensor reads -40 °C, raises a fault and stops charging', () => {
    const { p, clock } = pack({ profile: constant(5) });
    p.faults.openSensors.add(1);
    clock.advance(2000);
    p.advanceTo(clock.now());
    const s = p.snapshot();
    expect(s.temps_c![1]).toBe(-40);
    expect(s.raw).toEqual({ open_sensors: [1] });
    expect(s.alarms!.map((a) => a.code)).toContain('temp_sensor_fault');
    expect(s.min_temp_c!).toBeGreaterThan(0); // the open sensor does not count as a reading
    expect(s.charge_mos).toBe(false);
  });
});

describe('reproducibility', () => {
  const series = (seed: number, profile = 'ebike'): unknown[] => {
    const clock = new ManualClock(Date.UTC(2026, 5, 21, 0, 0, 0));
    const sim = createSimulation({ protocol: 'jbd', profile, seed, clock, packs: 1 });
    const out: unknown[] = [];
    for (let i = 0; i < 48; i++) {
      clock.advance(30 * 60_000);
      sim.bus.advance();
      out.push(sim.packs[0]!.snapshot());
    }
    return out;
  };

  it('two runs with the same seed give the same series; another seed differs', () => {
    expect(series(42)).toEqual(series(42));
    expect(series(42)).not.toEqual(series(43));
  });

  it('the solar profile charges by day and discharges by night', () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 21, 0, 0, 0));
    const sim = createSimulation({
      protocol: 'jbd',
      profile: 'solar',
      seed: 1,
      clock,
      initialSocPct: 40,
    });
    const at = (h: number): number => {
      clock.set(Date.UTC(2026, 5, 21, h, 0, 0));
      sim.bus.advance();
      return sim.packs[0]!.snapshot().current_a!;
    };
    expect(at(3)).toBeLessThan(0);
    expect(at(12)).toBeGreaterThan(0);
    expect(at(20)).toBeLessThan(0);
  });
});
