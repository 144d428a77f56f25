/**
 * JBD / Jiabaida ("Xiaoxiang" app) smart BMS, `DD ... 77` protocol over UART, RS485, RS232
 * and BLE. Wire format and sources: README.md in this folder.
 */
import type { ProtocolDefinition } from '../types.js';
import { control } from './control.js';
import { EEPROM } from './eeprom.js';
import { decodeReply } from './decode.js';
import { COMMANDS, encodeRequest, parseRequest, REQUEST_EXAMPLES } from './encode.js';
import { createReplyFramer } from './frame.js';
import { jbdReadSession } from './session.js';

export { createReplyFramer, createRequestFramer, jbdChecksum, buildFrame } from './frame.js';
export { decodeReply } from './decode.js';
export { control } from './control.js';
export { encodeRequest, parseRequest, CLEAR_PASSWORD_TEXT } from './encode.js';
export {
  EEPROM,
  EEPROM_REGISTERS,
  REG_FUNC_CONFIG,
  fieldOfParam,
  fieldsOf,
  registerValues,
  registerWord,
  type EepromField,
} from './eeprom.js';
export { FACTORY_UNLOCK, FACTORY_EXIT_SAVE, FACTORY_EXIT_DISCARD } from './encode.js';
export { START, END, READ, WRITE, STATUS_OK, STATUS_ERROR, STATUS_NOT_FACTORY } from './frame.js';
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
  // EEPROM registers 0x10..0x3F, in factory mode (README "Control and parameters").
  parameters: EEPROM.filter((f) => f.param).map((f) => ({
    id: f.param!,
    wire: `EEPROM register 0x${f.reg.toString(16)} ${f.kind === 'hi' ? 'byte 0' : f.kind === 'lo' ? 'byte 1' : f.kind === 'bit' ? `bit ${f.bit}` : f.kind === 'code' ? `bits ${f.shift! + f.bits! - 1}-${f.shift}` : f.kind} (${f.key})`,
    access: f.readOnly ? ('r' as const) : ('rw' as const),
  })),
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
  // 0xE1 (MOSFETs) and the EEPROM parameters; no SOC or clock (README "Control and parameters").
  capabilities: {
    mosControl: true,
    setSoc: false,
    parameterRead: true,
    parameterWrite: true,
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
