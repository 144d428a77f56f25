/**
 * Pylontech low-voltage RS485 protocol (US2000/US3000/UP2500/Force-L and the many
 * "Pylontech-compatible" 48 V packs): ASCII-hex frames `~VER ADR CID1 CID2 LENGTH INFO CHKSUM\r`.
 * See README.md in this folder for the wire format.
 */
import type { ProtocolDefinition, ProtocolParameter, Request } from '../types.js';
import { COMMANDS, encodeRequest, parseRequest } from './commands.js';
import { control } from './control.js';
import { decodeReply } from './decode.js';
import { SYSTEM_PARAMETER_FIELDS } from './fields.js';
import { createPylonFramer } from './frame.js';
import { createReadSession } from './session.js';

const parameters: ProtocolParameter[] = [
  ...SYSTEM_PARAMETER_FIELDS.filter((f) => f.param).map((f) => ({
    id: f.param!,
    wire: `0x47 INFO offset ${f.offset} (${f.key})`,
    access: 'r' as const,
  })),
  // What the pack requests from the inverter: read in 0x92, written with 0x94 (same layout).
  {
    id: 'charge_voltage_limit_v',
    wire: '0x92 / 0x94 INFO offset 1 (uint16 mV)',
    access: 'rw',
  },
  {
    id: 'charge_current_limit_a',
    wire: '0x92 / 0x94 INFO offset 5 (int16 0.1 A)',
    access: 'rw',
  },
  {
    id: 'discharge_current_limit_a',
    wire: '0x92 / 0x94 INFO offset 7 (int16 0.1 A, negative on the wire)',
    access: 'rw',
  },
];

const requestExamples: Request[] = [
  { command: 'protocol_version', address: 2 },
  { command: 'manufacturer_info', address: 2 },
  { command: 'analog', address: 2 },
  { command: 'analog', address: 2, args: { all: true } },
  { command: 'analog', address: 0x13 },
  { command: 'alarm', address: 3 },
  { command: 'alarm', address: 2, args: { all: true } },
  { command: 'system_parameters', address: 2 },
  { command: 'system_parameters', address: 2, args: { info: [0, 0] } },
  { command: 'management_info', address: 2 },
  { command: 'management_info', address: 2, args: { info: [2, 1] } },
  { command: 'serial_number', address: 2 },
  {
    command: 'set_management_info',
    address: 2,
    args: {
      charge_voltage_limit_v: 53.25,
      discharge_voltage_limit_v: 47,
      charge_current_limit_a: 25,
      discharge_current_limit_a: -25,
    },
  },
  { command: 'turn_off', address: 4 },
  { command: 'software_version', address: 2 },
  { command: 'software_version', address: 2, args: { ver: 0x25 } },
];

export const definition: ProtocolDefinition = {
  id: 'pylontech',
  aliases: ['pylontech-rs485', 'pylon'],
  title:
    'Pylontech low-voltage RS485 ASCII protocol (US2000/US3000/UP2500 and compatible packs, up to 16 in parallel)',
  link: {
    baud: 115200,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    defaultAddress: 2,
    timeoutMs: 1000,
  },
  variants: [],
  commands: COMMANDS.map(({ id, description, kind }) => ({ id, description, kind })),
  parameters,
  metrics: [
    'address',
    'voltage_v',
    'current_a',
    'power_w',
    'soc_pct',
    'remaining_ah',
    'full_ah',
    'cycles',
    'state',
    'cell_count',
    'cell_mv',
    'max_cell_mv',
    'min_cell_mv',
    'max_cell_index',
    'min_cell_index',
    'delta_cell_mv',
    'avg_cell_mv',
    'temp_sensor_count',
    'temps_c',
    'max_temp_c',
    'min_temp_c',
    'board_temp_c',
    'charge_mos',
    'discharge_mos',
    'charge_voltage_limit_v',
    'discharge_voltage_limit_v',
    'charge_current_limit_a',
    'discharge_current_limit_a',
    'alarms',
    'info',
    'packs',
  ],
  capabilities: {
    mosControl: false,
    setSoc: false,
    parameterRead: true,
    parameterWrite: true,
    setClock: false,
    records: false,
    multiDrop: true,
  },
  createFramer: createPylonFramer,
  decode: decodeReply,
  encode: encodeRequest,
  parseRequest,
  requestExamples,
  readSession: createReadSession,
  control,
};

// Building blocks for the device side (the simulator builds replies with the family's own
// envelope and field tables).
export {
  CID1_BATTERY,
  DEFAULT_VER,
  ENVELOPE_CHARS,
  EOI,
  HEADER_CHARS,
  MAX_FRAME_CHARS,
  SOI,
  buildFrame,
  frameChecksum,
  hexByteAt,
  lengthChecksum,
} from './frame.js';
export {
  MANAGEMENT_FIELDS,
  STATE_HIGH,
  STATE_LOW,
  STATE_NORMAL,
  STATE_OTHER,
  STATUS1_BITS,
  SYSTEM_PARAMETER_FIELDS,
  type Field16,
} from './fields.js';
export { MAX_CELLS, MAX_MODULES, MAX_TEMPS } from './decode.js';
