/**
 * Device side of the DALY classic "0xA5" protocol: answers the 13-byte requests of
 * `@openbms/protocols/daly` from a simulated pack. See README.md in this folder.
 */
import { BmsError } from '@openbms/core';
import type { Framer } from '@openbms/protocols';
import {
  BMS_ADDRESS,
  createDalyFramer,
  DEFAULT_HOST_ADDRESS,
  FRAME_LEN,
  ID,
} from '@openbms/protocols/daly';
import type { DeviceProtocol, SimPackApi } from '../../types.js';
import * as reads from './reads.js';
import { restart, setMos, setSoc } from './writes.js';

/** Host bytes of the other DALY host types (Bluetooth app, GPRS): they talk to board 1. */
const OTHER_HOSTS = new Set([0x80, 0x20]);
const MAX_BOARDS = 16;

/** True when `b` is a whole, well-formed A5 frame (marker, length byte, sum8 checksum). */
function isFrame(b: Uint8Array): boolean {
  if (b.length !== FRAME_LEN || b[0] !== 0xa5 || b[3] !== 0x08) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += b[i]!;
  return (sum & 0xff) === b[12];
}

function handle(request: Uint8Array, pack: SimPackApi): Uint8Array | undefined {
  // A broken frame, or another BMS's reply (address 0x01) on the bus: a device stays silent.
  if (!isFrame(request) || request[1] === BMS_ADDRESS) return undefined;
  const id = request[2]!;
  const data = request.subarray(4, 12);
  switch (id) {
    case ID.PACK:
      return reads.packStatus(pack.snapshot());
    case ID.CELL_RANGE:
      return reads.cellRange(pack.snapshot());
    case ID.TEMP_RANGE:
      return reads.tempRange(pack.snapshot());
    case ID.MOS:
      return reads.mosStatus(pack.snapshot(), pack);
    case ID.STATUS:
      return reads.statusInfo(pack.snapshot());
    case ID.CELLS:
      return reads.cellVoltages(pack.snapshot());
    case ID.TEMPS:
      return reads.temperatures(pack.snapshot());
    case ID.BALANCE:
      return reads.balanceState(pack.snapshot());
    case ID.FAULTS:
      return reads.failureStatus(pack.snapshot(), pack);
    case ID.DSG_MOS:
    case ID.CHG_MOS:
      return setMos(id, data, pack);
    case ID.SET_SOC:
      return setSoc(data, pack);
    case ID.RESTART:
      return restart(pack);
    default:
      throw new BmsError(
        'COMMAND_UNSUPPORTED',
        `simulated DALY A5 BMS does not answer data id 0x${id.toString(16).padStart(2, '0')}`,
      );
  }
}

export const device: DeviceProtocol = {
  id: 'daly',
  createRequestFramer(): Framer {
    // Requests have the reply's shape: the family framer serves both directions.
    return createDalyFramer();
  },
  addressOf(request: Uint8Array): number | undefined {
    if (request.length < 2 || request[0] !== 0xa5) return undefined;
    const host = request[1]!;
    return OTHER_HOSTS.has(host) ? DEFAULT_HOST_ADDRESS : host;
  },
  addresses(n: number): number[] {
    if (!Number.isInteger(n) || n < 0 || n > MAX_BOARDS) {
      throw new BmsError(
        'INVALID_ARGUMENT',
        `DALY A5 buses hold 0..${MAX_BOARDS} boards, got ${n}`,
      );
    }
    // Simulator convention (dbus-serialbattery's board numbers): board k answers host byte 0x40 + k - 1.
    return Array.from({ length: n }, (_, i) => DEFAULT_HOST_ADDRESS + i);
  },
  handle: (request, pack) => handle(request, pack),
};
