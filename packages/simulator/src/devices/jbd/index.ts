/**
 * Simulated JBD / Jiabaida smart BMS (`DD ... 77` frames). One BMS per link: the frames carry
 * no address, so a "bus" of n JBD packs is n separate links (index 0..n-1). See README.md.
 */
import { BmsError, isBmsError } from '@openbms/core';
import type { Framer } from '@openbms/protocols';
import {
  buildFrame,
  createRequestFramer,
  jbdChecksum,
  parseRequest,
  END,
  READ,
  REG,
  START,
  STATUS_ERROR,
  STATUS_NOT_FACTORY,
  STATUS_OK,
  WRITE,
} from '@openbms/protocols/jbd';
import type { Request } from '@openbms/protocols';
import { eepromOf, readWord, save, SIM_REGISTERS } from './eeprom.js';
import type { BusView, DeviceProtocol, SimPackApi } from '../../types.js';
import { basicInfo, cellVoltages, errorCounters, hardwareVersion } from './records.js';

/** Firmware state the pack model does not hold: the 0xE1 locks (the EEPROM: eeprom.ts). */
interface JbdState {
  chargeLock: boolean;
  dischargeLock: boolean;
}

const states = new WeakMap<SimPackApi, JbdState>();

function stateOf(pack: SimPackApi): JbdState {
  let s = states.get(pack);
  if (!s) {
    s = { chargeLock: false, dischargeLock: false };
    states.set(pack, s);
  }
  return s;
}

/** True when the factory (parameter) mode was entered with 0x00 and not left yet. */
export function inFactoryMode(pack: SimPackApi): boolean {
  return eepromOf(pack).factoryMode;
}

/** JBD's factory settings beyond the generic ones: the capacity model and the AFE levels. */
export function jbdDefaults(
  base: Record<string, number>,
  pack: { chemistry: 'lfp' | 'nmc'; cells: number; capacityAh: number },
): Record<string, number> {
  const lfp = pack.chemistry === 'lfp';
  return {
    ...base,
    cycle_capacity_ah: pack.capacityAh,
    cell_full_mv: lfp ? 3600 : 4150,
    cell_empty_mv: lfp ? 2500 : 3000,
    balance_charge_only: 0,
    // The AFE's secondary (hardware) cell protection, level 3.
    cell_ov_l3_mv: lfp ? 3700 : 4250,
    cell_uv_l3_mv: lfp ? 2000 : 2500,
    cell_ov_l3_delay_s: 2,
    cell_uv_l3_delay_s: 4,
  };
}

const refuseWith = (register: number, status: number): Uint8Array => buildFrame(register, status);

/** EEPROM reads and writes: factory mode only (status 0x81 outside), a session's writes pending. */
function eeprom(req: Request, pack: SimPackApi): Uint8Array | undefined {
  const st = eepromOf(pack);
  const register = Number(req.args?.register);
  if (!SIM_REGISTERS.has(register)) return refuseWith(register, STATUS_ERROR);
  if (!st.factoryMode) return refuseWith(register, STATUS_NOT_FACTORY);
  if (req.command === 'read_register') {
    const fault = st.pending.has(register)
      ? (st.faults.readBack ?? st.faults.read)
      : st.faults.read;
    if (fault === 'silent') return undefined;
    if (fault === 'refuse') return refuseWith(register, STATUS_ERROR);
    const word = readWord(pack, register)!;
    return buildFrame(register, STATUS_OK, [word >> 8, word & 0xff]);
  }
  if (st.faults.write === 'silent') return undefined;
  if (st.faults.write === 'refuse') return refuseWith(register, STATUS_ERROR);
  // The cell count is fixed by the hardware: acknowledged, not stored (reads back unchanged).
  if (st.faults.write !== 'ignore' && register !== 0x2f) {
    st.pending.set(register, Number(req.args?.value) & 0xffff);
  }
  return ack(register);
}

function enter(pack: SimPackApi): Uint8Array | undefined {
  const st = eepromOf(pack);
  if (st.faults.enter && (st.faults.enterSkip ?? 0) > 0) st.faults.enterSkip!--;
  else if (st.faults.enter === 'silent') return undefined;
  else if (st.faults.enter === 'refuse') return refuseWith(REG.FACTORY_ENTER, STATUS_ERROR);
  st.factoryMode = true;
  st.pending.clear();
  return ack(REG.FACTORY_ENTER);
}

function exit(pack: SimPackApi, saveIt: boolean): Uint8Array | undefined {
  const st = eepromOf(pack);
  if (saveIt && st.faults.exitSave === 'silent') return undefined;
  if (saveIt && st.faults.exitSave === 'refuse') return refuseWith(REG.FACTORY_EXIT, STATUS_ERROR);
  let refused = false;
  if (saveIt && st.factoryMode) refused = !save(pack).ok;
  st.exits.push(saveIt ? (refused ? 'save_refused' : 'save') : 'discard');
  st.factoryMode = false;
  st.pending.clear();
  // A set the firmware will not take: nothing is stored and the BMS says so.
  return refused ? refuseWith(REG.FACTORY_EXIT, STATUS_ERROR) : ack(REG.FACTORY_EXIT);
}

const ack = (register: number): Uint8Array => buildFrame(register, STATUS_OK);
const refuse = (register: number): Uint8Array => buildFrame(register, STATUS_ERROR);

/** True when `bytes` is one whole, checksum-valid JBD request frame. */
function isRequestFrame(bytes: Uint8Array): boolean {
  if (bytes.length < 7 || bytes[0] !== START) return false;
  if (bytes[1] !== READ && bytes[1] !== WRITE) return false;
  const len = bytes[3]!;
  if (bytes.length !== 7 + len || bytes[6 + len] !== END) return false;
  return jbdChecksum(bytes, 2, 4 + len) === ((bytes[4 + len]! << 8) | bytes[5 + len]!);
}

/**
 * 0xE1: bit 0 = charge off, bit 1 = discharge off. Both switches are applied or neither:
 * when the second is refused the first is put back, and the device answers status 0x80.
 */
function mosControl(pack: SimPackApi, charge: boolean, discharge: boolean): Uint8Array {
  const before = pack.snapshot();
  const c = pack.setMos('charge', charge);
  if (!c.ok) return refuse(REG.MOS_CONTROL);
  const d = pack.setMos('discharge', discharge);
  if (!d.ok) {
    if (before.charge_mos !== undefined) pack.setMos('charge', before.charge_mos);
    return refuse(REG.MOS_CONTROL);
  }
  const st = stateOf(pack);
  st.chargeLock = !charge;
  st.dischargeLock = !discharge;
  return ack(REG.MOS_CONTROL);
}

function reply(request: Uint8Array, pack: SimPackApi): Uint8Array | undefined {
  const req = parseRequest(request);
  const st = stateOf(pack);
  switch (req.command) {
    case 'read_basic_info': {
      const s = pack.snapshot();
      // A lock ends when the MOSFET is back on (host command, restart).
      if (s.charge_mos) st.chargeLock = false;
      if (s.discharge_mos) st.dischargeLock = false;
      const locked = st.chargeLock || st.dischargeLock;
      return buildFrame(REG.BASIC_INFO, STATUS_OK, basicInfo(pack, s, locked));
    }
    case 'read_cell_voltages':
      return buildFrame(REG.CELL_VOLTAGES, STATUS_OK, cellVoltages(pack.snapshot()));
    case 'read_hardware_version':
      return buildFrame(REG.HARDWARE_VERSION, STATUS_OK, hardwareVersion(pack));
    case 'read_error_counters':
      return buildFrame(REG.ERROR_COUNTERS, STATUS_OK, errorCounters(pack));
    case 'mos_control':
      return mosControl(pack, req.args?.charge === true, req.args?.discharge === true);
    case 'factory_mode_enter':
      return enter(pack);
    case 'factory_mode_exit':
      return exit(pack, req.args?.save === true);
    case 'read_register':
    case 'write_register':
      return eeprom(req, pack);
    default:
      throw new BmsError('COMMAND_UNSUPPORTED', `JBD device does not handle ${req.command}`);
  }
}

export const device: DeviceProtocol = {
  id: 'jbd',
  createRequestFramer(): Framer {
    return createRequestFramer();
  },
  addressOf(): number | undefined {
    return undefined;
  },
  addresses(n: number): number[] {
    if (!Number.isInteger(n) || n < 0 || n > 16) {
      throw new BmsError('INVALID_ARGUMENT', `JBD link count must be 0..16 (got ${n})`);
    }
    // Link indexes: JBD frames carry no address, each pack has its own link.
    return Array.from({ length: n }, (_, i) => i);
  },
  factoryDefaults: jbdDefaults,
  // The BMS has only the parameters its protocol carries (no invisible level-1 set).
  ownParameters: true,
  handle(request: Uint8Array, pack: SimPackApi, _bus: BusView): Uint8Array | undefined {
    try {
      return reply(request, pack);
    } catch (e) {
      if (isBmsError(e)) throw e;
      throw new BmsError(
        'FRAME_MALFORMED',
        `JBD device could not handle the request: ${String(e)}`,
      );
    }
  },
  errorReply(request: Uint8Array): Uint8Array | undefined {
    // A valid frame for a register the device does not serve gets status 0x80; a frame with
    // a bad checksum or shape is ignored, as the firmware does.
    return isRequestFrame(request) ? refuse(request[2]!) : undefined;
  },
};
