/**
 * The product-wide capabilities through the one write path, on the PACE family against the
 * real simulator over TCP, polled by a BusPoller: every writable parameter written and read
 * back, records read and exported, the clock set and read back, the inverter protocol changed
 * and read back, calibration refused without the unverified switch and done with it,
 * shut-down, restore of the saved profile.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parameter, writeProblems, type PackContext } from '@openbms/core';
import { localScope } from '@openbms/storage';
import { MemoryAudit, TEST_ORIGIN } from '@openbms/storage/testing';
import { controlRig, type Rig, type RigOptions } from '../testing/control.js';
import { packContextOf } from './parameters.js';

const S = localScope(TEST_ORIGIN);
const rigs: Rig[] = [];
afterEach(async () => {
  while (rigs.length) await rigs.pop()!.close();
});

async function rig(
  o: Partial<Omit<RigOptions, 'audit'>> = {},
): Promise<Rig & { memory: MemoryAudit; id: string }> {
  const memory = new MemoryAudit();
  const r = await controlRig({ protocol: 'pace', audit: memory, ...o });
  rigs.push(r);
  return { ...r, memory, id: r.refs[0]!.id };
}

async function rejection(
  p: Promise<unknown>,
): Promise<{ code?: string; message: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error('expected a rejection');
}

/** A change of each parameter its PACE field carries exactly (wire resolution, catalog unit). */
const DELTA: Record<string, number> = {
  mV: 10,
  V: 0.1,
  A: 1,
  '°C': 1,
  '%': 1,
  µs: 25,
};
function deltaOf(id: string): number {
  if (id === 'sleep_delay_s') return 60;
  if (id.endsWith('_delay_s')) return id.includes('_l3_') ? 0.1 : 0.5;
  if (id === 'full_charge_current_a') return 0.1;
  return DELTA[parameter(id)!.unit]!;
}

/** A new value for `id` the whole set accepts (up or down), or undefined. */
function nextValue(
  id: string,
  current: Record<string, number>,
  ctx: PackContext,
): number | undefined {
  const def = parameter(id)!;
  const d = deltaOf(id);
  for (const k of [1, -1, 2, -2, 3, -3]) {
    const v = Math.round((current[id]! + k * d) * 1000) / 1000;
    if (v < def.min || v > def.max) continue;
    if (writeProblems({ [id]: v }, current, ctx).length === 0) return v;
  }
  return undefined;
}

describe('PACE through the one write path', () => {
  it('writes every writable parameter and reads each back equal', async () => {
    const r = await rig({ allowUnverified: true });
    const caps = r.service.capabilities(r.id);
    const writable = caps.parameters.map((p) => p.id);
    expect(writable.length).toBeGreaterThanOrEqual(45);
    const ctx = packContextOf(r.refs[0]!, r.poller.statusOf(r.id)?.snapshot);
    const done: string[] = [];
    const { values } = await r.service.readParameters(r.id);
    for (const id of writable) {
      const v = nextValue(id, values, ctx);
      expect(v, `a valid new value for ${id}`).toBeDefined();
      const res = await r.service.writeParameters(r.id, { [id]: v! }, 'otto');
      expect(res.results, id).toEqual([
        { id, old: values[id], requested: v, readback: v, ok: true },
      ]);
      expect(r.sim.packs[0]!.parameters()[id], id).toBeCloseTo(v!, 6);
      values[id] = v!;
      done.push(id);
    }
    expect(done).toEqual(writable);
    expect((await r.memory.list(S, { packId: r.id })).every((e) => e.result === 'ok')).toBe(true);
  }, 60_000);

  it('a write across blocks never puts back a value it already sent (each block carries what the pack holds by then)', async () => {
    const r = await rig();
    const before = r.sim.packs[0]!.parameters();
    // Two members of D0 and one of D4: three single-parameter units, two of them D0 frames.
    const values = { cell_ov_l1_mv: 3580, cell_ov_l2_mv: 3680, pack_ov_l1_v: 57.3 };
    const res = await r.service.writeParameters(r.id, values, 'otto');
    expect(res.results.every((x) => x.ok)).toBe(true);
    expect(r.writes().filter((w) => w === 'set_cell_ov')).toHaveLength(2);
    const after = r.sim.packs[0]!.parameters();
    expect(after).toMatchObject(values);
    expect(after['cell_ov_l2_recover_mv']).toBe(before['cell_ov_l2_recover_mv']);
  });

  it('refuses the charge limiter start current (one document) unless the pack allows unverified commands', async () => {
    const r = await rig();
    const caps = r.service.capabilities(r.id);
    expect(caps.unverified['param:charge_limit_start_a']).toMatch(/ED\/EE/);
    const e = await rejection(
      r.service.writeParameters(r.id, { charge_limit_start_a: 90 }, 'otto'),
    );
    expect(e.code).toBe('COMMAND_REFUSED');
    expect(e.message).toContain('allow_unverified is off');
    expect(r.writes()).toEqual([]);
  });

  it('reads the records in pages, newest first, with an alarm record once a protection tripped, and exports CSV', async () => {
    const r = await rig();
    // 2.5 C extra discharge for a while: the discharge over-current protection trips.
    r.sim.bus.addFault({ kind: 'overcurrent', arg: 250 });
    r.clock.advance(20_000);
    r.sim.bus.clearFaults('overcurrent');
    r.clock.advance(20 * 60_000);
    r.sim.bus.advance();
    const held = r.sim.packs[0]!.dataRecords();
    const page = await r.service.readRecords(r.id, 0, 10);
    expect(page.records.map((x) => x.index)).toEqual(
      Array.from({ length: Math.min(10, held.length) }, (_, i) => i),
    );
    expect(page.records[0]!.wall_ms).toBe(Math.floor(held.at(-1)!.time / 1000) * 1000);
    expect(page.timeZone).toBe('UTC');
    expect(page.records[0]!.ms).toBe(page.records[0]!.wall_ms);
    const all = [...page.records];
    for (let next = page.next; next !== null;) {
      const more = await r.service.readRecords(r.id, next, 10);
      all.push(...more.records);
      next = more.next;
    }
    expect(all).toHaveLength(held.length);
    const trip = all.find((x) => x.alarms?.some((a) => a.code === 'dsg_oc' && a.level === 2));
    expect(trip?.kind).toBe('alarm');
    expect(trip?.event).toBeUndefined(); // the protection state is in its flags
    const { csv, count } = await r.service.exportRecords(r.id, 100);
    expect(count).toBe(held.length);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(held.length + 1);
    expect(lines[0]).toMatch(/^index,kind,bms_time,event,voltage_v,current_a/);
    expect(lines.some((l) => l.includes(',alarm,') && l.includes('dsg_oc:2'))).toBe(true);
    // Reading changes nothing and is not audited.
    expect(r.writes()).toEqual([]);
    expect(await r.memory.list(S, { packId: r.id })).toEqual([]);
    const bad = await rejection(r.service.readRecords(r.id, 0, 11));
    expect(bad).toMatchObject({ code: 'REQUEST_INVALID' });
  });

  it('erases the records only with the switch and a confirmation', async () => {
    const r = await rig({ allowUnverified: true });
    r.clock.advance(25 * 60_000);
    r.sim.bus.advance();
    expect(r.sim.packs[0]!.dataRecords().length).toBeGreaterThan(0);
    const unconfirmed = await rejection(r.service.clearRecords(r.id, 'all', 'nope', 'otto'));
    expect(unconfirmed.code).toBe('REQUEST_INVALID');
    const onlyAll = await rejection(r.service.clearRecords(r.id, 'alarm', r.refs[0]!.name, 'otto'));
    expect(onlyAll.code).toBe('COMMAND_REFUSED');
    expect(r.writes()).toEqual([]);
    await r.service.clearRecords(r.id, 'all', r.refs[0]!.name, 'otto');
    expect(r.sim.packs[0]!.dataRecords()).toHaveLength(0);
    expect((await r.service.readRecords(r.id, 0, 5)).records).toEqual([]);
  });

  it('sets the clock to the wall time of the site zone and reads it back', async () => {
    const r = await rig({ timeZone: 'Asia/Shanghai' });
    const at = Date.UTC(2026, 0, 31, 20, 30, 0); // 04:30 the next day in Shanghai (UTC+8)
    const out = await r.service.setClock(r.id, at, 'otto');
    expect(out.readback).toMatchObject({ bms_time: '2026-02-01 04:30:00' });
    // The BMS keeps the fields: the simulated pack's RTC holds the wall time.
    expect(r.sim.packs[0]!.clock()).toBe(Date.UTC(2026, 1, 1, 4, 30, 0));
    const clock = await r.service.readClock(r.id);
    expect(clock).toMatchObject({
      bmsTime: '2026-02-01 04:30:00',
      ms: at,
      timeZone: 'Asia/Shanghai',
    });
    expect(clock.driftMs).toBe(at - r.clock.now());
    expect((await r.memory.list(S, { packId: r.id }))[0]).toMatchObject({
      action: 'clock.set',
      result: 'ok',
      new: { clock_ms: at, bms_time: '2026-02-01 04:30:00', time_zone: 'Asia/Shanghai' },
    });
  });

  it('reports READBACK_MISMATCH when the BMS acknowledges a clock set but keeps its old time', async () => {
    const r = await rig();
    const pack = r.sim.packs[0]!;
    pack.setClock = () => undefined; // firmware that answers RTN 00 and ignores the fields
    const e = await rejection(r.service.setClock(r.id, Date.UTC(2030, 4, 6, 7, 8, 9), 'otto'));
    expect(e.code).toBe('READBACK_MISMATCH');
    expect(e.message).toContain('clock set to 2030-05-06 07:08:09, but the BMS reads back');
    expect((await r.memory.list(S, { packId: r.id }))[0]).toMatchObject({
      action: 'clock.set',
      result: 'failed',
    });
  });

  it('changes the inverter protocol within the family list and reads it back', async () => {
    const r = await rig();
    const before = await r.service.readInverterProtocol(r.id);
    expect(before.setting).toEqual({ can: 1, rs485: 1, mode: 'auto' });
    expect(before.list.can?.find((x) => x.code === 0x13)?.name).toBe('Afore');
    const out = await r.service.setInverterProtocol(r.id, { can: 0x02, rs485: 0x03 }, 'otto');
    expect(out.readback).toEqual({ inverter_protocol: { can: 2, rs485: 3, mode: 'manual' } });
    expect((await r.service.readInverterProtocol(r.id)).setting).toEqual({
      can: 2,
      rs485: 3,
      mode: 'manual',
    });
    const sent = r.writes().length;
    const bad = await rejection(r.service.setInverterProtocol(r.id, { can: 0x40 }, 'otto'));
    expect(bad).toMatchObject({ code: 'REQUEST_INVALID', details: { field: 'setting.can' } });
    const typo = await rejection(r.service.setInverterProtocol(r.id, { can: '2' }, 'otto'));
    expect(typo.code).toBe('REQUEST_INVALID');
    expect(r.writes()).toHaveLength(sent);
    expect((await r.memory.list(S, { packId: r.id })).map((e) => [e.action, e.result])).toEqual([
      ['inverter_protocol.set', 'refused'],
      ['inverter_protocol.set', 'refused'],
      ['inverter_protocol.set', 'ok'],
    ]);
  });
});

describe('calibration and the unverified switch', () => {
  it('refuses calibration without the switch, naming it, and sends nothing', async () => {
    const r = await rig();
    const caps = r.service.capabilities(r.id);
    expect(caps.operations.calibrate).toBe(true);
    expect(caps.allowUnverified).toBe(false);
    expect(caps.unverified.calibrate).toMatch(/PACEex V3\.1/);
    expect(caps.calibrations.map((c) => c.kind)).toContain('cycles');
    const e = await rejection(r.service.calibrate(r.id, 'cycles', 250, 'otto'));
    expect(e.code).toBe('COMMAND_REFUSED');
    expect(e.message).toContain('allow_unverified is off');
    expect(e.details).toMatchObject({ setting: 'allow_unverified' });
    expect(r.writes()).toEqual([]);
    expect((await r.memory.list(S, { packId: r.id }))[0]).toMatchObject({
      action: 'calibrate.cycles',
      result: 'refused',
    });
    const restore = await rejection(r.service.restoreDefaults(r.id, r.refs[0]!.name, 'otto'));
    expect(restore.message).toContain('allow_unverified');
  });

  it('calibrates with the switch: cycles and capacities read back, the voltage reported as set', async () => {
    const r = await rig({ allowUnverified: true });
    expect((await r.service.calibrate(r.id, 'cycles', 250, 'otto')).readback).toEqual({
      cycles: 250,
    });
    const v = r.poller.statusOf(r.id)!.snapshot!.voltage_v!;
    const target = Math.round((v + 0.2) * 1000) / 1000;
    const volt = await r.service.calibrate(r.id, 'total_voltage', target, 'otto');
    expect(volt.readback?.['voltage_v']).toBeCloseTo(target, 2);
    const full = await r.service.calibrate(r.id, 'full_capacity', 95.5, 'otto');
    expect(full.readback).toEqual({ full_ah: 95.5 });
    // Out of the wire's range, off its 1 mV step, and a value the device refuses (20 % off).
    expect((await rejection(r.service.calibrate(r.id, 'cycles', 70000, 'otto'))).code).toBe(
      'PARAM_OUT_OF_RANGE',
    );
    expect(
      (await rejection(r.service.calibrate(r.id, 'total_voltage', v + 0.0005, 'otto'))).code,
    ).toBe('PARAM_STEP');
    const far = await rejection(
      r.service.calibrate(r.id, 'total_voltage', Math.round(v * 1200) / 1000, 'otto'),
    );
    expect(far.code).toBe('COMMAND_REFUSED');
  });

  it('interlocks the current calibrations with the current that flows', async () => {
    const r = await rig({ allowUnverified: true, profile: 'constant:-5' });
    const zero = await rejection(r.service.calibrate(r.id, 'current_zero', undefined, 'otto'));
    expect(zero.code).toBe('COMMAND_REFUSED');
    expect(zero.message).toContain('no current flowing');
    const charge = await rejection(r.service.calibrate(r.id, 'charge_current', 10, 'otto'));
    expect(charge.message).toContain('not charging');
    expect(r.writes()).toEqual([]);
    // [DOC24]'s low range: 0.5..6 A; the pack now reports the reference meter's 5.2 A.
    const ok = await r.service.calibrate(r.id, 'discharge_current', 5.2, 'otto');
    expect(ok.readback?.['current_a']).toBeCloseTo(-5.2, 1);
  });
});

describe('shut-down, restore and the EG4 variant', () => {
  it('shuts down only with the confirmation; the pack then stops answering', async () => {
    const r = await rig();
    expect((await rejection(r.service.shutdown(r.id, 'Rack', 'otto'))).code).toBe(
      'REQUEST_INVALID',
    );
    const out = await r.service.shutdown(r.id, r.refs[0]!.name, 'otto');
    expect(out.command.detail).toContain('shut-down sent');
    expect(r.sim.packs[0]!.asleep()).toBe(true);
    expect((await r.memory.list(S, { packId: r.id }))[0]).toMatchObject({
      action: 'pack.shutdown',
      result: 'ok',
    });
  });

  it('restores the saved profile (the last export) through the write path', async () => {
    const r = await rig();
    expect(r.service.capabilities(r.id).operations.restore_profile).toBe(false);
    const none = await rejection(r.service.restoreProfile(r.id, r.refs[0]!.name, 'otto'));
    expect(none.code).toBe('CAPABILITY_MISSING');
    const file = await r.service.exportParameters(r.id);
    expect(r.service.capabilities(r.id).operations.restore_profile).toBe(true);
    await r.service.writeParameters(r.id, { balance_start_mv: 3420, chg_ot_l1_c: 52 }, 'otto');
    const out = await r.service.restoreProfile(r.id, r.refs[0]!.name, 'otto');
    expect(out.readback).toEqual({
      balance_start_mv: file.values['balance_start_mv'],
      chg_ot_l1_c: file.values['chg_ot_l1_c'],
    });
    expect(r.sim.packs[0]!.parameters()['balance_start_mv']).toBe(file.values['balance_start_mv']);
    expect((await r.memory.list(S, { packId: r.id })).map((e) => e.action)).toEqual([
      'parameters.restore_profile',
      'parameter.write',
      'parameter.write',
      'parameters.restore_profile',
    ]);
  });

  it('offers an EG4 pack only what its variant has: the clock and shut-down', async () => {
    const r = await rig({ variant: 'v20-eg4' });
    const caps = r.service.capabilities(r.id);
    expect(caps.variant).toBe('v20-eg4');
    expect(
      Object.entries(caps.operations)
        .filter(([, on]) => on)
        .map(([op]) => op)
        .sort(),
    ).toEqual(['read_clock', 'set_clock', 'shutdown']);
    expect(caps.unverified).toEqual({ shutdown: expect.stringContaining('0x95') });
    await r.service.setClock(r.id, Date.UTC(2027, 3, 4, 5, 6, 7), 'otto');
    expect((await r.service.readClock(r.id)).bmsTime).toBe('2027-04-04 05:06:07');
    const p = await rejection(r.service.readParameters(r.id));
    expect(p.code).toBe('CAPABILITY_MISSING');
  });
});
