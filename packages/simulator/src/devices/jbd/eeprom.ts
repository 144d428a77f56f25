/**
 * The simulated JBD EEPROM: parameter registers 0x10..0x3F built from the pack's parameters
 * (catalog fields) and the device's own words (identity, calibration, AFE codes), reachable
 * only in factory mode. Writes of a session are pending until the exit: `28 28` saves them
 * (through pack.writeParameters, refused whole: then nothing is stored), `00 00` drops them.
 * Tests can make any step fail (`eepromOf(pack).faults`).
 */
import {
  EEPROM,
  EEPROM_REGISTERS,
  fieldsOf,
  registerValues,
  registerWord,
} from '@openbms/protocols/jbd';
import type { CommandResult, SimPackApi } from '../../types.js';
import { dateWord } from './records.js';

/** How a step of a factory-mode session fails, for tests. */
export type EepromFault = 'refuse' | 'silent' | 'ignore';

export interface EepromState {
  factoryMode: boolean;
  /** Words written in the open session, by register. */
  pending: Map<number, number>;
  /** Words of registers without catalog fields (and the other bits of packed ones). */
  words: Map<number, number>;
  /**
   * Test faults: `enter` / `exitSave` / `exitDiscard` refuse (status 0x80) or stay silent;
   * `write` refuses, stays silent or acknowledges without storing (`ignore`); `read` refuses
   * or stays silent (every EEPROM read); `readBack` only for a register written in the open
   * session (the read-back of a write).
   */
  faults: {
    enter?: 'refuse' | 'silent';
    /** Enters to let through before `enter` applies (1: the next session's enter fails). */
    enterSkip?: number;
    write?: EepromFault;
    read?: 'refuse' | 'silent';
    readBack?: 'refuse' | 'silent';
    exitSave?: 'refuse' | 'silent';
  };
  /** Every session's end, for tests: 'save', 'discard' or 'save_refused'. */
  exits: string[];
}

const states = new WeakMap<SimPackApi, EepromState>();

/** Words of a fresh JBD (the non-catalog registers). */
function initialWords(pack: SimPackApi): Map<number, number> {
  const s = pack.snapshot();
  const ntc = s.temp_sensor_count ?? 0;
  return new Map<number, number>([
    [0x14, 0], // self-discharge rate / consumption: uncertain meaning
    [0x15, dateWord(s.info?.manufacture_date)],
    [0x16, 1],
    [0x2c, 10], // shunt 1.0 mOhm (0.1 mOhm units)
    // func_config: balancing, LED display; bits 6+ as a newer board ships (RTC on)
    [0x2d, 0x0080 | 0x0010 | 0x0004],
    [0x2e, (1 << ntc) - 1],
    [0x30, 10],
    [0x31, 5],
    [0x32, pack.chemistry === 'lfp' ? 3300 : 3900],
    [0x33, pack.chemistry === 'lfp' ? 3280 : 3800],
    [0x34, pack.chemistry === 'lfp' ? 3260 : 3700],
    [0x35, pack.chemistry === 'lfp' ? 3220 : 3600],
    // 0x38 (TI bq769x0 codes): short circuit 200 us (2 << 3) at 89 mV (6); secondary
    // discharge over-current 320 ms (5 << 4) at 50 mV (15).
    [0x38, (((2 << 3) | 6) << 8) | ((5 << 4) | 15)],
    [0x39, 5], // short-circuit release 5 s (the delay codes come from the pack)
  ]);
}

export function eepromOf(pack: SimPackApi): EepromState {
  let s = states.get(pack);
  if (!s) {
    s = {
      factoryMode: false,
      pending: new Map(),
      words: initialWords(pack),
      faults: {},
      exits: [],
    };
    states.set(pack, s);
  }
  return s;
}

/** The register's word as the EEPROM holds it now (outside any pending write). */
export function storedWord(pack: SimPackApi, reg: number): number | undefined {
  const st = eepromOf(pack);
  const fields = fieldsOf(reg);
  if (fields.length === 0) return undefined;
  if (reg === 0x17) return Math.min(0xffff, pack.snapshot().cycles ?? 0);
  if (reg === 0x2f) return pack.snapshot().cell_count ?? 0;
  const params = pack.parameters();
  const catalog = Object.fromEntries(
    fields
      .filter((f) => f.param && params[f.param] !== undefined)
      .map((f) => [f.param!, params[f.param!]!]),
  );
  return registerWord(reg, catalog, st.words.get(reg) ?? 0, false, true);
}

/** The word a read in factory mode returns: the session's pending write, else the EEPROM's. */
export function readWord(pack: SimPackApi, reg: number): number | undefined {
  const st = eepromOf(pack);
  return st.pending.get(reg) ?? storedWord(pack, reg);
}

/**
 * Exit with save: the pending words' catalog values that differ from the pack's go to
 * writeParameters in one call; the other bits are kept by the device. Refused: nothing.
 */
export function save(pack: SimPackApi): CommandResult {
  const st = eepromOf(pack);
  const params = pack.parameters();
  const changes: Record<string, number> = {};
  for (const [reg, word] of st.pending) {
    for (const [id, v] of Object.entries(registerValues(reg, word))) {
      const f = EEPROM.find((x) => x.param === id)!;
      if (f.readOnly) continue;
      if (params[id] === undefined || Math.abs(params[id]! - v) > 1e-6) changes[id] = v;
    }
  }
  if (Object.keys(changes).length > 0) {
    const r = pack.writeParameters(changes);
    if (!r.ok) return r;
  }
  for (const [reg, word] of st.pending) st.words.set(reg, word);
  return { ok: true };
}

/** Registers the simulated EEPROM answers. */
export const SIM_REGISTERS: ReadonlySet<number> = new Set(EEPROM_REGISTERS);
