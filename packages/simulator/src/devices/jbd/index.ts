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
  STATUS_OK,
  WRITE,
} from '@openbms/protocols/jbd';
import type { BusView, DeviceProtocol, SimPackApi } from '../../types.js';
import { basicInfo, cellVoltages, errorCounters, hardwareVersion } from './records.js';

/** Firmware state the pack model does not hold: 0xE1 locks and the factory-mode flag. */
interface JbdState {
  chargeLock: boolean;
  dischargeLock: boolean;
  factoryMode: boolean;
}

const states = new WeakMap<SimPackApi, JbdState>();

function stateOf(pack: SimPackApi): JbdState {
  let s = states.get(pack);
  if (!s) {
    s = { chargeLock: false, dischargeLock: false, factoryMode: false };
    states.set(pack, s);
  }
  return s;
}

/** True when the factory (parameter) mode was entered with 0x00 and not left yet. */
export function inFactoryMode(pack: SimPackApi): boolean {
  return stateOf(pack).factoryMode;
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
      st.factoryMode = true;
      return ack(REG.FACTORY_ENTER);
    case 'factory_mode_exit':
      // No EEPROM register is simulated, so "save" has nothing to write.
      st.factoryMode = false;
      return ack(REG.FACTORY_EXIT);
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
