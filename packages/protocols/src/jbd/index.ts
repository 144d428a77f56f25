/**
 * JBD / Jiabaida ("Xiaoxiang" app) smart BMS, `DD ... 77` protocol over UART, RS485, RS232
 * and BLE. Wire format and sources: README.md in this folder.
 */
import type { ProtocolDefinition } from '../types.js';
import { control } from './control.js';
import { decodeReply } from './decode.js';
import { COMMANDS, encodeRequest, parseRequest, REQUEST_EXAMPLES } from './encode.js';
import { createReplyFramer } from './frame.js';
import { jbdReadSession } from './session.js';

export { createReplyFramer, createRequestFramer, jbdChecksum, buildFrame } from './frame.js';
export { decodeReply } from './decode.js';
export { control } from './control.js';
export { encodeRequest, parseRequest } from './encode.js';
export { FACTORY_UNLOCK, FACTORY_EXIT_SAVE, FACTORY_EXIT_DISCARD } from './encode.js';
export { START, END, READ, WRITE, STATUS_OK, STATUS_ERROR } from './frame.js';
export {
  REG,
  BASIC,
  BALANCE_BITS,
  MAX_CELLS,
  MAX_NTC,
  PROTECTION_BITS,
  ERROR_COUNTERS,
} from './fields.js';

export const definition: ProtocolDefinition = {
  id: 'jbd',
  aliases: ['xiaoxiang', 'jbd-bms'],
  title: 'JBD / Jiabaida (Xiaoxiang app) smart BMS, DD..77 frames (UART/RS485/BLE)',
  link: {
    baud: 9600,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    // JBD frames carry no address: one BMS per link. The value is unused.
    defaultAddress: 0,
    timeoutMs: 1000,
  },
  variants: [],
  commands: COMMANDS.map(({ id, description, kind }) => ({ id, description, kind })),
  // EEPROM parameter registers (0x10..) are not documented in our sources.
  parameters: [],
  metrics: [
    'voltage_v',
    'current_a',
    'power_w',
    'soc_pct',
    'remaining_ah',
    'design_ah',
    'cycles',
    'cell_count',
    'cell_mv',
    'cell_balancing',
    'balancing',
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
    'alarms',
    'info',
  ],
  // Only 0xE1 (MOSFETs): no SOC, clock or parameter writes (README "Control and parameters").
  capabilities: {
    mosControl: true,
    setSoc: false,
    parameterRead: false,
    parameterWrite: false,
    setClock: false,
    records: false,
    multiDrop: false,
  },
  createFramer: createReplyFramer,
  decode: decodeReply,
  encode: encodeRequest,
  parseRequest,
  requestExamples: REQUEST_EXAMPLES,
  readSession: jbdReadSession,
  control,
};
