/**
 * DALY classic "0xA5" protocol (UART / RS485 / many BLE modules): fixed 13-byte frames,
 * sum8 checksum, one data id per request, 0x95/0x96 answered with several frames.
 * See README.md in this folder for the wire format and its sources.
 */
import type { ProtocolDefinition, Request } from '../types.js';
import { COMMANDS } from './commands.js';
import { control } from './control.js';
import { decodeDaly } from './decode.js';
import { DEFAULT_HOST_ADDRESS, encodeDaly, parseDalyRequest } from './encode.js';
import { createDalyFramer } from './frame.js';
import { readDalySession } from './session.js';

export { createDalyFramer, FRAME_RULE, buildFrame, BMS_ADDRESS, FRAME_LEN } from './frame.js';
export { ID } from './commands.js';
export { MAX_CELLS, MAX_TEMPS, CELLS_PER_FRAME, TEMPS_PER_FRAME } from './decode.js';
export { decodeDaly } from './decode.js';
export { encodeDaly, parseDalyRequest, DEFAULT_HOST_ADDRESS } from './encode.js';
export { FAULT_BITS } from './faults.js';
export { control } from './control.js';

const H = DEFAULT_HOST_ADDRESS;

const requestExamples: readonly Request[] = [
  ...COMMANDS.filter((c) => c.kind === 'read').map((c) => ({ command: c.id, address: H })),
  { command: 'pack_status', address: 0x80 },
  { command: 'cell_voltages', address: H, args: { fill: 0xaa } },
  { command: 'set_discharge_mos', address: H, args: { on: false } },
  { command: 'set_discharge_mos', address: H, args: { on: true } },
  { command: 'set_charge_mos', address: H, args: { on: true } },
  { command: 'set_charge_mos', address: 0x80, args: { on: false } },
  { command: 'set_soc', address: H, args: { soc_pct: 80.5 } },
  {
    command: 'set_soc',
    address: H,
    args: { soc_pct: 100, year: 2024, month: 5, day: 17, hour: 13, minute: 45, second: 9 },
  },
  { command: 'restart', address: H },
];

export const definition: ProtocolDefinition = {
  id: 'daly',
  aliases: ['daly-uart', 'daly-a5'],
  title: 'DALY classic 0xA5 13-byte protocol (UART, RS485, BLE modules)',
  link: {
    baud: 9600,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    defaultAddress: DEFAULT_HOST_ADDRESS,
    timeoutMs: 500,
  },
  variants: [],
  commands: COMMANDS.map(({ id, description, kind }) => ({ id, description, kind })),
  // The parameter ids of the PC tool (0x5A.. 0x63) are not publicly documented: no
  // parameter can be read or written.
  parameters: [],
  metrics: [
    'voltage_v',
    'current_a',
    'power_w',
    'soc_pct',
    'remaining_ah',
    'cycles',
    'state',
    'cell_count',
    'cell_mv',
    'cell_balancing',
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
    'charge_mos',
    'discharge_mos',
    'balancing',
    'charger_connected',
    'load_connected',
    'alarms',
  ],
  capabilities: {
    mosControl: true,
    setSoc: true,
    parameterRead: false,
    parameterWrite: false,
    // 0x21 carries the RTC only together with a SOC: there is no clock-only write.
    setClock: false,
    records: false,
    multiDrop: false,
  },
  createFramer: createDalyFramer,
  decode: decodeDaly,
  encode: encodeDaly,
  parseRequest: parseDalyRequest,
  requestExamples,
  readSession: readDalySession,
  control,
};
