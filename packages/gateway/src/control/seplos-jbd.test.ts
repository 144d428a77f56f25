/**
 * Seplos (V2 and V3) and JBD through the one write path, against their simulators over TCP
 * polled by a BusPoller: every writable parameter written and read back, the JBD factory
 * mode never left open whatever step fails, the clock set and read back, and the commands
 * that rest on one source refused unless the pack allows unverified commands.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  isBmsError,
  parameter,
  validateParameterValue,
  validateParameterWrite,
  type PackContext,
  type Reading,
} from '@openbms/core';
import { controlOf, type ControlOps, type ReadSession } from '@openbms/protocols';
import { localScope } from '@openbms/storage';
import { MemoryAudit, TEST_ORIGIN } from '@openbms/storage/testing';
import { jbdEeprom, jbdInFactoryMode, seplosCanProtocol } from '@openbms/simulator/testing';
import { controlRig, type Rig, type RigOptions } from '../testing/control.js';

const S = localScope(TEST_ORIGIN);
const rigs: Rig[] = [];
afterEach(async () => {
  while (rigs.length) await rigs.pop()!.close();
});

async function rig(
  protocol: string,
  o: Partial<RigOptions> = {},
): Promise<Rig & { memory: MemoryAudit; id: string; ops: ControlOps }> {
  const memory = new MemoryAudit();
  const r = await controlRig({ protocol, audit: memory, ...o });
  rigs.push(r);
  return { ...r, memory, id: r.refs[0]!.id, ops: controlOf(r.def, o.variant)! };
}

async function rejection(
  p: Promise<unknown>,
): Promise<{ code?: string; message: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

/** The family's parameter read run in memory on the simulated bus (for the builders' check). */
function readInMemory(r: Rig, session: ReadSession): Reading {
  for (let step = session.next(); step; step = session.next()) {
    const reply = r.sim.bus.respond(step.request)!;
    const framer = r.def.createFramer();
    const frames = reply.pieces
      .flatMap((p) => framer.push(p))
      .filter((e) => e.type === 'frame')
      .map((e) => e.bytes)
      .filter((f) => step!.accepts(f));
    session.accept(step, frames);
  }
  return session.result();
}

/** How far a parameter is moved from its value: the safe direction first. */
function candidates(id: string, current: number): number[] {
  const def = parameter(id)!;
  if (def.kind === 'switch') return [current >= 1 ? 0 : 1];
  const delta: Record<string, number> = {
    mV: 10,
    V: 0.1,
    A: 1,
    '°C': 1,
    s: 1,
    '%': 1,
    Ah: 1,
    µs: 10,
  };
  const d = delta[def.unit] ?? def.step;
  // Protections move to the safe side (a high one down, a low one up), delays up, settings down.
  const sign =
    def.kind === 'delay' || def.kind === 'recovery_delay' ? 1 : def.direction === 'low' ? 1 : -1;
  const round = (x: number): number => Math.round(x * 1e6) / 1e6;
  const out = [1, 2, 3, -1, -2, -3].map((k) => round(current + sign * k * d));
  // Values on the catalog grid near the current one (a 30 ms delay: 0.1 s, 0.2 s).
  for (const k of [1, 2, -1]) out.push(round((Math.floor(current / def.step) + k) * def.step));
  return out.filter((v) => v !== current);
}

/**
 * A new value for every writable parameter: valid alone (range, step, chemistry), accepted by
 * the family's builder (the wire carries it exactly) and consistent with everything chosen so
 * far, so the whole change is one valid write.
 */
function newValues(
  r: Rig & { ops: ControlOps },
  current: Record<string, number>,
  snapshot: Reading,
  address: number,
): Record<string, number> {
  const ctx: PackContext = { chemistry: 'lfp', cellCount: 16, designAh: 100 };
  const chosen: Record<string, number> = {};
  for (const id of r.ops.writableParameters!) {
    const cur = current[id];
    if (cur === undefined) continue;
    for (const v of candidates(id, cur)) {
      try {
        validateParameterValue(id, v, ctx);
        validateParameterWrite({ ...chosen, [id]: v }, current, ctx);
        r.ops.writeParameters!({ address, snapshot }, { [id]: v });
      } catch (e) {
        if (isBmsError(e)) continue;
        throw e;
      }
      chosen[id] = v;
      break;
    }
  }
  return chosen;
}

describe.each([
  { protocol: 'seplos', variant: 'v2', allowUnverified: false },
  { protocol: 'seplos', variant: 'v3', allowUnverified: true },
  { protocol: 'jbd', variant: undefined, allowUnverified: false },
])('$protocol $variant: every writable parameter through ControlService', (c) => {
  it('is written, read back equal, and audited', async () => {
    const r = await rig(c.protocol, {
      ...(c.variant ? { variant: c.variant } : {}),
      allowUnverified: c.allowUnverified,
    });
    const pack = r.sim.packs[0]!;
    const { values: current } = await r.service.readParameters(r.id);
    const snapshot = readInMemory(r, r.ops.readParameters!({ address: pack.address }));
    const changes = newValues(r, current, snapshot, pack.address);
    // Every writable parameter found a new value.
    expect(Object.keys(changes).sort()).toEqual([...r.ops.writableParameters!].sort());
    const result = await r.service.writeParameters(r.id, changes, 'otto');
    expect(result.results.filter((x) => !x.ok)).toEqual([]);
    for (const [id, v] of Object.entries(changes)) {
      expect(result.results.find((x) => x.id === id)?.readback, id).toBeCloseTo(v, 6);
      expect(pack.parameters()[id], id).toBeCloseTo(v, 6);
    }
    expect((await r.memory.list(S, { packId: r.id }))[0]).toMatchObject({
      action: 'parameter.write',
      result: 'ok',
    });
    if (c.protocol === 'jbd') {
      // One factory-mode session per parameter (the gateway orders them), each saved; every
      // read left discarding; never left open.
      const exits = jbdEeprom(pack).exits;
      expect(exits.filter((x) => x === 'save')).toHaveLength(Object.keys(changes).length);
      expect(exits.filter((x) => x !== 'save' && x !== 'discard')).toEqual([]);
      expect(jbdInFactoryMode(pack)).toBe(false);
    }
  });
});

describe('jbd: a failed parameter write never leaves the BMS in factory mode', () => {
  const cases = [
    // The first enter (the parameter read before the write) passes; the write's fails.
    ['the enter is refused', { enter: 'refuse', enterSkip: 1 }],
    ['the enter gets no answer', { enter: 'silent', enterSkip: 1 }],
    ['the write is refused', { write: 'refuse' }],
    ['the write gets no answer', { write: 'silent' }],
    ['the write is acknowledged but not stored', { write: 'ignore' }],
    ['the read-back is refused', { readBack: 'refuse' }],
    ['the read-back gets no answer', { readBack: 'silent' }],
    ['the exit with save is refused', { exitSave: 'refuse' }],
    ['the exit with save gets no answer', { exitSave: 'silent' }],
  ] as const;

  it.each(cases)('when %s', async (_what, faults) => {
    const r = await rig('jbd');
    const pack = r.sim.packs[0]!;
    const before = pack.parameters();
    const eeprom = jbdEeprom(pack);
    Object.assign(eeprom.faults, faults);
    const e = await rejection(r.service.writeParameters(r.id, { cell_ov_l2_mv: 3600 }, 'otto'));
    expect(['COMMAND_REFUSED', 'TRANSPORT_TIMEOUT', 'READBACK_MISMATCH']).toContain(e.code);
    expect(jbdInFactoryMode(pack)).toBe(false);
    expect(pack.parameters()).toEqual(before);
    // The parameter read before the write left discarding, so did the failed write session
    // (its cleanup), and so did the last read; a rollback session may save the old value.
    expect(eeprom.exits[0]).toBe('discard');
    expect(eeprom.exits[1]).toBe('discard');
    expect(eeprom.exits.at(-1)).toBe('discard');
    const status = r.service.commands(r.id)[0]!.status;
    expect(['refused', 'failed']).toContain(status);
  });

  it.each([
    ['a register read is refused', { read: 'refuse' }],
    ['a register read gets no answer', { read: 'silent' }],
    ['the enter is refused', { enter: 'refuse' }],
  ] as const)('a parameter read leaves discarding when %s', async (_what, faults) => {
    const r = await rig('jbd');
    const pack = r.sim.packs[0]!;
    Object.assign(jbdEeprom(pack).faults, faults);
    const e = await rejection(r.service.readParameters(r.id));
    expect(['COMMAND_REFUSED', 'TRANSPORT_TIMEOUT']).toContain(e.code);
    expect(jbdInFactoryMode(pack)).toBe(false);
    expect(jbdEeprom(pack).exits).toEqual(['discard']);
    // The only writes on the bus: the enter (a refused enter is tried again, as JBD tools
    // do for a waking BMS), then one discard exit, the cleanup.
    const writes = r.writes();
    expect(writes.at(-1)).toBe('factory_mode_exit');
    expect(writes.slice(0, -1).every((w) => w === 'factory_mode_enter')).toBe(true);
  });
});

describe('seplos clock', () => {
  it.each([
    ['v2', false],
    ['v3', true],
  ] as const)('%s: set and read back', async (variant, allowUnverified) => {
    const r = await rig('seplos', { variant, allowUnverified });
    const at = Date.UTC(2027, 2, 4, 5, 6, 7);
    const out = await r.service.setClock(r.id, at, 'otto');
    expect(out.command.status).toBe('done');
    const view = await r.service.readClock(r.id);
    expect(view.ms).toBe(at);
    expect(Math.abs(view.driftMs - (at - r.clock.now()))).toBeLessThan(1000);
  });
});

describe('seplos: commands that rest on one source', () => {
  it('v2 refuses the 0x45 MOSFET switch without allow_unverified, nothing sent; with it, switches', async () => {
    const off = await rig('seplos', { variant: 'v2' });
    const e = await rejection(off.service.setMos(off.id, 'discharge', false, 'otto'));
    expect(e.code).toBe('COMMAND_REFUSED');
    expect(e.details).toMatchObject({ setting: 'allow_unverified' });
    expect(off.writes()).toEqual([]);
    const caps = off.service.capabilities(off.id);
    expect(caps.unverified).toMatchObject({
      set_mos: expect.stringMatching(/one Seplos-compatible clone/),
    });
    expect(caps.operations).toMatchObject({
      set_clock: true,
      read_clock: true,
      write_parameters: true,
    });
    expect(caps.unverified['set_clock']).toBeUndefined();

    const on = await rig('seplos', { variant: 'v2', allowUnverified: true });
    await on.service.setMos(on.id, 'discharge', false, 'otto');
    expect(on.sim.packs[0]!.snapshot().discharge_mos).toBe(false);
  });

  it('v2 selects the CAN inverter protocol (0xA6) and reads it back with the switch on', async () => {
    const r = await rig('seplos', { variant: 'v2', allowUnverified: true });
    await r.service.setInverterProtocol(r.id, { can: 5 }, 'otto');
    expect(seplosCanProtocol(r.sim.packs[0]!)).toBe(5);
    expect((await r.service.readInverterProtocol(r.id)).setting).toEqual({ can: 5 });
  });

  it('v3 refuses every write without the switch: parameters, clock', async () => {
    const r = await rig('seplos', { variant: 'v3' });
    const before = r.sim.packs[0]!.parameters();
    const e = await rejection(r.service.writeParameters(r.id, { cell_ov_l1_mv: 3520 }, 'otto'));
    expect(e.code).toBe('COMMAND_REFUSED');
    expect(e.message).toMatch(/XZH/);
    const c = await rejection(r.service.setClock(r.id, Date.UTC(2027, 0, 1), 'otto'));
    expect(c.code).toBe('COMMAND_REFUSED');
    expect(r.writes()).toEqual([]);
    expect(r.sim.packs[0]!.parameters()).toEqual(before);
  });
});

describe('parameter files and restore', () => {
  it('jbd: export, diff an edited file, import the change, restore the saved profile', async () => {
    const r = await rig('jbd');
    const pack = r.sim.packs[0]!;
    const file = await r.service.exportParameters(r.id);
    expect(file.values['cell_ov_l2_mv']).toBe(3650);
    const edited = { ...file, values: { ...file.values, cell_ov_l2_mv: 3600, cell_count: 15 } };
    const diff = await r.service.diffParameters(r.id, edited);
    expect(diff.changed.map((c) => c.id)).toEqual(['cell_ov_l2_mv']);
    // The cell count is read only: a different value is reported, not applied.
    expect(diff.unknown.map((u) => u.id)).toEqual(['cell_count']);
    const changes = Object.fromEntries(diff.changed.map((c) => [c.id, c.file]));
    await r.service.writeParameters(r.id, changes, 'otto');
    expect(pack.parameters()['cell_ov_l2_mv']).toBe(3600);
    // No documented default set on JBD: the saved profile (the export above) restores.
    const caps = r.service.capabilities(r.id);
    expect(caps.operations).toMatchObject({ restore_defaults: false, restore_profile: true });
    await r.service.restoreProfile(r.id, r.refs[0]!.name, 'otto');
    expect(pack.parameters()['cell_ov_l2_mv']).toBe(3650);
    expect(jbdInFactoryMode(pack)).toBe(false);
  });

  it.each(['v2', 'v3'] as const)(
    'seplos %s restores its defaults (unverified: with allow_unverified) and reads before and after',
    async (variant) => {
      const r = await rig('seplos', { variant, allowUnverified: true });
      const pack = r.sim.packs[0]!;
      pack.writeParameters({ balance_start_mv: 3390 });
      const out = await r.service.restoreDefaults(r.id, r.refs[0]!.name, 'otto');
      expect(out.command.status).toBe('done');
      expect(pack.parameters()['balance_start_mv']).toBe(pack.defaults()['balance_start_mv']);
      const entry = (await r.memory.list(S, { packId: r.id }))[0]!;
      expect(entry).toMatchObject({ action: 'parameters.restore_defaults', result: 'ok' });
      expect((entry.old as Record<string, number>)['balance_start_mv']).toBe(3390);
    },
  );
});
