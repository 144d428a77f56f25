/**
 * The one write path against the real simulator over TCP, polled by a BusPoller: refusals
 * never reach the device, valid writes are read back and audited, MOSFET interlocks refuse
 * with the reason, dangerous commands need a confirmation, missing capabilities say so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { localScope } from '@openbms/storage';
import { MemoryAudit, TEST_ORIGIN } from '@openbms/storage/testing';
import { controlRig, type Rig } from '../testing/control.js';

const S = localScope(TEST_ORIGIN);
const rigs: Rig[] = [];
afterEach(async () => {
  while (rigs.length) await rigs.pop()!.close();
});

async function rig(protocol: string, profile = 'idle'): Promise<Rig & { memory: MemoryAudit }> {
  const memory = new MemoryAudit();
  const r = await controlRig({ protocol, profile, audit: memory });
  rigs.push(r);
  return { ...r, memory };
}

async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

describe('parameter writes (daly-modbus, LiFePO4)', () => {
  it('refuses an out-of-range value with a clear error and never sends anything', async () => {
    const r = await rig('daly-modbus');
    const id = r.refs[0]!.id;
    const before = r.sim.packs[0]!.parameters();
    const requestsBefore = r.requests.length;
    const e = await rejection(r.service.writeParameters(id, { cell_ov_l1_mv: 1000 }, 'otto'));
    expect(e.code).toBe('PARAM_OUT_OF_RANGE');
    expect(e.message).toBe('Cell over-voltage level 1: 1000 mV is outside 2000..3750 mV');
    expect(r.writes()).toEqual([]);
    expect(r.sim.packs[0]!.parameters()).toEqual(before);
    // Range checks need no traffic at all: only the poller's reads went out meanwhile.
    expect(r.requests.length).toBeGreaterThanOrEqual(requestsBefore);
    const [entry] = await r.memory.list(S, { packId: id });
    expect(entry).toMatchObject({
      user: 'otto',
      action: 'parameter.write',
      result: 'refused',
      new: { cell_ov_l1_mv: 1000 },
      detail: e.message,
    });
    expect(r.service.commands(id)[0]).toMatchObject({
      packId: id,
      action: 'parameter.write',
      user: 'otto',
      status: 'refused',
    });
  });

  it('refuses a value unsafe for the chemistry (4200 mV cell over-voltage on LFP)', async () => {
    const r = await rig('daly-modbus');
    const id = r.refs[0]!.id;
    const before = r.sim.packs[0]!.parameters();
    const e = await rejection(r.service.writeParameters(id, { cell_ov_l2_mv: 4200 }, 'otto'));
    expect(e.code).toBe('PARAM_UNSAFE_FOR_CHEMISTRY');
    expect(e.message).toMatch(/4200 mV is above the LiFePO4 safe limit 3750 mV/);
    expect(r.writes()).toEqual([]);
    expect(r.sim.packs[0]!.parameters()).toEqual(before);
  });

  it('refuses a set inconsistent with what the device holds (level 2 below level 1)', async () => {
    const r = await rig('daly-modbus');
    const id = r.refs[0]!.id;
    const before = r.sim.packs[0]!.parameters();
    expect(before['cell_ov_l1_mv']).toBe(3550);
    const e = await rejection(r.service.writeParameters(id, { cell_ov_l2_mv: 3500 }, 'otto'));
    expect(e.code).toBe('PARAM_INCONSISTENT');
    expect(e.message).toMatch(
      /level 2 \(3500 mV\) must be at least Cell over-voltage level 1 \(3550 mV\)/,
    );
    expect(r.writes()).toEqual([]);
    expect(r.sim.packs[0]!.parameters()).toEqual(before);
    expect((await r.memory.list(S, { packId: id }))[0]).toMatchObject({
      result: 'refused',
      old: { cell_ov_l2_mv: 3650 },
      new: { cell_ov_l2_mv: 3500 },
    });
  });

  it('writes a valid change, reads it back and audits old and new', async () => {
    const r = await rig('daly-modbus');
    const id = r.refs[0]!.id;
    const res = await r.service.writeParameters(
      id,
      { cell_ov_l1_mv: 3500, pack_ov_l1_v: 56.5, balance_start_mv: 3400 },
      'otto',
    );
    expect(res.dryRun).toBe(false);
    // balance_start_mv already holds 3400: not sent.
    expect(res.changed).toEqual(['cell_ov_l1_mv', 'pack_ov_l1_v']);
    expect(res.results).toEqual([
      { id: 'cell_ov_l1_mv', old: 3550, requested: 3500, readback: 3500, ok: true },
      { id: 'pack_ov_l1_v', old: 56.8, requested: 56.5, readback: 56.5, ok: true },
      { id: 'balance_start_mv', old: 3400, requested: 3400, readback: 3400, ok: true },
    ]);
    expect(r.sim.packs[0]!.parameters()).toMatchObject({
      cell_ov_l1_mv: 3500,
      pack_ov_l1_v: 56.5,
    });
    expect(r.writes()).toHaveLength(2);
    const [entry] = await r.memory.list(S, { packId: id });
    expect(entry).toMatchObject({
      user: 'otto',
      packId: id,
      action: 'parameter.write',
      result: 'ok',
      old: { cell_ov_l1_mv: 3550, pack_ov_l1_v: 56.8, balance_start_mv: 3400 },
      new: { cell_ov_l1_mv: 3500, pack_ov_l1_v: 56.5, balance_start_mv: 3400 },
    });
    expect(entry!.detail).toMatch(/read back equal/);
    expect(r.service.commands()[0]).toMatchObject({ status: 'done', action: 'parameter.write' });
  });

  it('a dry run returns the diff and writes nothing; it is not a command', async () => {
    const r = await rig('daly-modbus');
    const id = r.refs[0]!.id;
    const res = await r.service.writeParameters(id, { cell_ov_l1_mv: 3500 }, 'otto', {
      dryRun: true,
    });
    expect(res).toEqual({
      dryRun: true,
      changed: ['cell_ov_l1_mv'],
      results: [{ id: 'cell_ov_l1_mv', old: 3550, requested: 3500, readback: undefined, ok: true }],
    });
    expect(r.writes()).toEqual([]);
    expect(r.sim.packs[0]!.parameters()['cell_ov_l1_mv']).toBe(3550);
    expect(await r.memory.list(S, {})).toEqual([]);
    expect(r.service.commands()).toEqual([]);
  });

  it('refuses unknown ids and ids the family cannot write, before any traffic', async () => {
    const r = await rig('daly-modbus');
    const id = r.refs[0]!.id;
    expect(await rejection(r.service.writeParameters(id, { nope_mv: 1 }, 'otto'))).toMatchObject({
      code: 'PARAM_UNKNOWN',
    });
    const e = await rejection(r.service.writeParameters(id, { chg_oc_l1_a: 40 }, 'otto'));
    expect(e.code).toBe('CAPABILITY_MISSING');
    expect(e.message).toMatch(/daly-modbus cannot write Charge over-current level 1/);
    expect(r.writes()).toEqual([]);
  });

  it('reads, exports and diffs parameter files without writing', async () => {
    const r = await rig('daly-modbus');
    const id = r.refs[0]!.id;
    const { values } = await r.service.readParameters(id);
    expect(values['cell_ov_l1_mv']).toBe(3550);
    const file = await r.service.exportParameters(id);
    expect(file).toMatchObject({
      format: 'openbms-parameters',
      version: 1,
      pack: { id, name: r.refs[0]!.name, protocol: 'daly-modbus', chemistry: 'lfp' },
      exported_at: r.clock.now(),
      values,
    });
    const edited = {
      ...file,
      values: { ...file.values, cell_ov_l1_mv: 3500, cell_uv_l2_mv: 1800, chg_oc_l1_a: 40, x: 1 },
    };
    const diff = await r.service.diffParameters(id, edited);
    expect(diff.changed).toEqual([
      { id: 'cell_ov_l1_mv', current: 3550, file: 3500 },
      { id: 'cell_uv_l2_mv', current: 2600, file: 1800 },
    ]);
    expect(diff.unknown).toEqual([
      { id: 'chg_oc_l1_a', reason: 'daly-modbus cannot write it' },
      { id: 'x', reason: 'not a parameter of the catalog' },
    ]);
    expect(diff.unchanged).toContain('cell_ov_l2_mv');
    expect(diff.valid).toBe(false);
    expect(diff.errors).toEqual([
      expect.objectContaining({ ids: ['cell_uv_l2_mv'], code: 'PARAM_UNSAFE_FOR_CHEMISTRY' }),
    ]);
    expect(r.writes()).toEqual([]);
    await expect(r.service.diffParameters(id, { format: 'x' })).rejects.toMatchObject({
      code: 'REQUEST_INVALID',
    });
  });

  it('lists capabilities with the catalog definitions and chemistry limits', async () => {
    const r = await rig('daly-modbus');
    const caps = r.service.capabilities(r.refs[0]!.id);
    expect(caps.operations).toEqual({
      set_mos: true,
      set_soc: true,
      set_clock: false,
      read_parameters: true,
      write_parameters: true,
      restore_defaults: true,
      restart: true,
      factory_reset: false,
      shutdown: false,
      read_clock: false,
      records: false,
      clear_records: false,
      read_inverter_protocol: false,
      set_inverter_protocol: false,
      calibrate: false,
      restore_profile: false,
    });
    expect(caps.unverified).toEqual({});
    expect(caps.calibrations).toEqual([]);
    const ov = caps.parameters.find((p) => p.id === 'cell_ov_l2_mv');
    expect(ov).toEqual({
      id: 'cell_ov_l2_mv',
      label: 'Cell over-voltage level 2',
      unit: 'mV',
      min: 2000,
      max: 4500,
      step: 1,
      group: 'voltage',
      kind: 'threshold',
      level: 2,
      safeMax: 3750,
    });
    // 16 cells of LFP: 16 x 3.75 V.
    expect(caps.parameters.find((p) => p.id === 'pack_ov_l1_v')?.safeMax).toBe(60);
  });
});

describe('MOSFET switching', () => {
  it('refuses switching the charge MOSFET off while discharging, with the reason; nothing sent', async () => {
    const r = await rig('daly-modbus', 'constant:-10');
    const id = r.refs[0]!.id;
    expect(r.poller.statusOf(id)?.snapshot?.current_a).toBeCloseTo(-10, 0);
    const e = await rejection(r.service.setMos(id, 'charge', false, 'otto'));
    expect(e.code).toBe('COMMAND_REFUSED');
    expect(e.message).toMatch(
      /^discharge current flows \(-10 A, limit 0.5 A\): the charge MOSFET cannot be switched off now/,
    );
    expect(r.writes()).toEqual([]);
    expect(r.sim.packs[0]!.snapshot().charge_mos).toBe(true);
    expect((await r.memory.list(S, { packId: id }))[0]).toMatchObject({
      action: 'mos.charge',
      result: 'refused',
      old: { charge_mos: true },
      new: { charge_mos: false },
    });
    expect(r.service.commands(id)[0]?.status).toBe('refused');
    // The refusal as a key the console translates (the Chinese UI showed this in English).
    expect(r.service.commands(id)[0]?.text).toMatchObject({ key: 'interlock.charge_mos_off' });
  });

  it('switches the charge MOSFET off and on, each confirmed by a fresh read cycle', async () => {
    const r = await rig('daly-modbus');
    const id = r.refs[0]!.id;
    const off = await r.service.setMos(id, 'charge', false, 'otto');
    expect(off.readback).toEqual({ charge_mos: false });
    expect(off.command).toMatchObject({
      status: 'done',
      action: 'mos.charge',
      text: { key: 'result.mos_charge_off' },
    });
    expect(r.sim.packs[0]!.snapshot().charge_mos).toBe(false);
    expect(r.writes()).toEqual(['set_charge_mos']);
    const on = await r.service.setMos(id, 'charge', true, 'otto');
    expect(on.readback).toEqual({ charge_mos: true });
    expect(
      (await r.memory.list(S, { packId: id })).map((e) => [e.action, e.result, e.new]),
    ).toEqual([
      ['mos.charge', 'ok', { charge_mos: true }],
      ['mos.charge', 'ok', { charge_mos: false }],
    ]);
  });

  it('switches the discharge MOSFET off while discharging (the interlock only guards the other way)', async () => {
    const r = await rig('daly', 'constant:-10');
    const out = await r.service.setMos(r.refs[0]!.id, 'discharge', false, 'otto');
    expect(out.readback).toEqual({ discharge_mos: false });
  });
});

describe('commands', () => {
  it('sets the SOC on DALY and reads it back', async () => {
    const r = await rig('daly');
    const id = r.refs[0]!.id;
    const out = await r.service.setSoc(id, 80, 'otto');
    expect(out.readback?.['soc_pct']).toBeCloseTo(80, 0);
    expect(r.sim.packs[0]!.snapshot().soc_pct).toBeCloseTo(80, 0);
    expect((await r.memory.list(S, { packId: id }))[0]).toMatchObject({
      action: 'soc.set',
      result: 'ok',
      new: { soc_pct: 80 },
    });
    const e = await rejection(r.service.setSoc(id, 120, 'otto'));
    expect(e.code).toBe('PARAM_OUT_OF_RANGE');
  });

  it('restart needs the pack name as confirmation', async () => {
    const r = await rig('daly-modbus');
    const ref = r.refs[0]!;
    for (const confirm of [undefined, '', 'yes']) {
      const e = await rejection(r.service.restart(ref.id, confirm, 'otto'));
      expect(e.code).toBe('REQUEST_INVALID');
      expect(e.message).toBe(
        `confirm with the pack name "${ref.name}" (or its id "${ref.id}") to restart it`,
      );
    }
    expect(r.writes()).toEqual([]);
    expect((await r.memory.list(S, { packId: ref.id })).every((e) => e.result === 'refused')).toBe(
      true,
    );
    const out = await r.service.restart(ref.id, ref.name, 'otto');
    expect(out.command).toMatchObject({ status: 'done', action: 'pack.restart' });
    expect(r.writes()).toEqual(['write_register']);
  });

  it('restores defaults (confirmed) and records the parameters before and after', async () => {
    const r = await rig('daly-modbus');
    const ref = r.refs[0]!;
    await r.service.writeParameters(ref.id, { cell_ov_l1_mv: 3500 }, 'otto');
    const out = await r.service.restoreDefaults(ref.id, ref.id, 'otto');
    expect(out.command.detail).toMatch(/cell_ov_l1_mv/);
    expect(r.sim.packs[0]!.parameters()['cell_ov_l1_mv']).toBe(3550);
    const [entry] = await r.memory.list(S, { packId: ref.id });
    expect(entry).toMatchObject({ action: 'parameters.restore_defaults', result: 'ok' });
    expect((entry!.old as Record<string, number>)['cell_ov_l1_mv']).toBe(3500);
    expect((entry!.new as Record<string, number>)['cell_ov_l1_mv']).toBe(3550);
  });

  it('says CAPABILITY_MISSING, naming the family and the operation, for what a family cannot do', async () => {
    const r = await rig('daly-modbus');
    const ref = r.refs[0]!;
    const clock = await rejection(r.service.setClock(ref.id, undefined, 'otto'));
    expect(clock).toMatchObject({
      code: 'CAPABILITY_MISSING',
      message: 'daly-modbus cannot set the BMS clock (its protocol has no such command)',
    });
    const reset = await rejection(r.service.factoryReset(ref.id, ref.name, 'otto'));
    expect(reset.code).toBe('CAPABILITY_MISSING');
    expect(reset.message).toMatch(/^daly-modbus cannot factory-reset/);
    const records = await rejection(r.service.readRecords(ref.id, 0, 10));
    expect(records.message).toMatch(/^daly-modbus cannot read on-board data/);
    expect(r.writes()).toEqual([]);
    expect((await r.memory.list(S, { packId: ref.id })).map((e) => [e.action, e.result])).toEqual([
      ['pack.factory_reset', 'refused'],
      ['clock.set', 'refused'],
    ]);

    const daly = await rig('daly');
    const p = await rejection(daly.service.readParameters(daly.refs[0]!.id));
    expect(p.message).toBe('daly cannot read parameters (its protocol has no such command)');
    expect(daly.service.capabilities(daly.refs[0]!.id).parameters).toEqual([]);
  });

  it('unknown packs are NOT_FOUND', async () => {
    const r = await rig('daly');
    await expect(r.service.setSoc('nope', 50, 'otto')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('dry runs refuse what the write would refuse', () => {
  it('a parameter this JK link has no field for is refused by the dry run, not only by the write', async () => {
    const r = await rig('jk');
    const id = r.refs[0]!.id;
    const dry = await rejection(
      r.service.writeParameters(id, { pack_ov_l2_v: 57.6 }, 'otto', { dryRun: true }),
    );
    const real = await rejection(r.service.writeParameters(id, { pack_ov_l2_v: 57.6 }, 'otto'));
    expect(real.code).toBe('PARAM_UNKNOWN');
    expect(dry).toMatchObject({ code: real.code, message: real.message });
    expect(r.writes()).toEqual([]);
  });
});
