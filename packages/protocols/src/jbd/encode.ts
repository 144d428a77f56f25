/** JBD requests (host -> device): encoder and its inverse. Pure; throws only BmsError. */
import { BmsError, ensure } from '@openbms/core';
import type { CommandInfo, Request } from '../types.js';
import { buildFrame, checkFrame, READ, WRITE } from './frame.js';
import { REG } from './fields.js';

/** Unlock word of 0x00 and the two exit words of 0x01 (community values, see README). */
export const FACTORY_UNLOCK = 0x5678;
export const FACTORY_EXIT_SAVE = 0x2828;
export const FACTORY_EXIT_DISCARD = 0x0000;

/** 0xE1 data low byte: bit 0 = charge MOSFET off, bit 1 = discharge MOSFET off. */
const MOS_CHARGE_OFF = 0x01;
const MOS_DISCHARGE_OFF = 0x02;

interface CommandDef extends CommandInfo {
  register: number;
}

export const COMMANDS: readonly CommandDef[] = [
  {
    id: 'read_basic_info',
    register: REG.BASIC_INFO,
    kind: 'read',
    description: 'Read 0x03: voltage, current, capacity, SOC, MOSFETs, protections, temperatures',
  },
  {
    id: 'read_cell_voltages',
    register: REG.CELL_VOLTAGES,
    kind: 'read',
    description: 'Read 0x04: cell voltages',
  },
  {
    id: 'read_hardware_version',
    register: REG.HARDWARE_VERSION,
    kind: 'read',
    description: 'Read 0x05: hardware version (model string)',
  },
  {
    id: 'read_error_counters',
    register: REG.ERROR_COUNTERS,
    kind: 'read',
    description: 'Read 0xAA: protection event counters (vendor-app feature)',
  },
  {
    id: 'mos_control',
    register: REG.MOS_CONTROL,
    kind: 'control',
    description:
      'Write 0xE1: allow or force off the charge/discharge MOSFETs (args charge, discharge: true = allowed)',
  },
  {
    id: 'factory_mode_enter',
    register: REG.FACTORY_ENTER,
    kind: 'control',
    description: 'Write 0x00 = 0x5678: enter factory (parameter) mode',
  },
  {
    id: 'factory_mode_exit',
    register: REG.FACTORY_EXIT,
    kind: 'control',
    description:
      'Write 0x01: leave factory mode (arg save: true writes the EEPROM, 0x2828; false discards, 0x0000)',
  },
  {
    id: 'read_register',
    register: -1,
    kind: 'read',
    description:
      'Read any other register (args register): EEPROM parameters 0x10..0x47, names 0xA0..0xA2 (factory mode)',
  },
  {
    id: 'write_register',
    register: -1,
    kind: 'write',
    description:
      'Write a 16-bit value to a register (args register, value): EEPROM parameters (factory mode)',
  },
  {
    id: 'write_data',
    register: -1,
    kind: 'write',
    description:
      'Write other data to a register (args register, data: bytes), e.g. length-prefixed names',
  },
  {
    id: 'use_password',
    register: REG.USE_PASSWORD,
    kind: 'control',
    description: 'Write 0x06: the PIN before factory mode (args password: 6 bytes)',
  },
  {
    id: 'clear_password',
    register: REG.CLEAR_PASSWORD,
    kind: 'control',
    description: "Write 0x09: clear the PIN with the fixed string 'J1B2D4'",
  },
  {
    id: 'control_command',
    register: REG.CONTROL,
    kind: 'control',
    description:
      'Write 0x0A: control function (args function: 1 reset capacity, 2 clear history, 4 clear protections ...)',
  },
  {
    id: 'mcu_reset',
    register: REG.MCU_RESET,
    kind: 'control',
    description: 'Write 0xE3 = 0x4321: MCU reset (one tool; refused in its own capture)',
  },
  {
    id: 'read_param_block',
    register: REG.PARAM_BLOCK,
    kind: 'read',
    description: 'Read 0xFA: parameters by number on newer firmware (args start, count)',
  },
];

/** The fixed string 0x09 takes to clear the PIN. */
export const CLEAR_PASSWORD_TEXT = 'J1B2D4';
const MCU_RESET_WORD = 0x4321;

const BY_ID = new Map(COMMANDS.map((c) => [c.id, c]));
const READ_BY_REGISTER = new Map(
  COMMANDS.filter(
    (c) => c.kind === 'read' && c.register >= 0 && c.register !== REG.PARAM_BLOCK,
  ).map((c) => [c.register, c.id]),
);

function byteArg(req: Request, name: string, max = 0xff): number {
  const v = req.args?.[name];
  ensure(
    typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max,
    'INVALID_ARGUMENT',
    `${req.command} needs an integer argument "${name}" 0..${max} (got ${JSON.stringify(v)})`,
  );
  return v;
}

function bytesArg(req: Request, name: string, length?: number): number[] {
  const v = req.args?.[name];
  ensure(
    Array.isArray(v) &&
      (length === undefined || v.length === length) &&
      v.length <= 255 &&
      v.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255),
    'INVALID_ARGUMENT',
    `${req.command} needs "${name}": ${length ?? 'a list of'} bytes 0..255`,
  );
  return v as number[];
}

export function commandFor(id: string): CommandDef {
  const c = BY_ID.get(id);
  if (!c)
    throw new BmsError(
      'COMMAND_UNSUPPORTED',
      `JBD has no command "${id}"; known: ${COMMANDS.map((x) => x.id).join(', ')}`,
    );
  return c;
}

function boolArg(req: Request, name: string): boolean {
  const v = req.args?.[name];
  ensure(
    typeof v === 'boolean',
    'INVALID_ARGUMENT',
    `${req.command} needs a boolean argument "${name}"`,
  );
  return v;
}

/**
 * Encodes a request. JBD has no bus address: `address` is ignored (one BMS per link).
 */
export function encodeRequest(req: Request): Uint8Array {
  const c = commandFor(req.command);
  switch (c.id) {
    case 'mos_control': {
      const charge = boolArg(req, 'charge');
      const discharge = boolArg(req, 'discharge');
      const bits = (charge ? 0 : MOS_CHARGE_OFF) | (discharge ? 0 : MOS_DISCHARGE_OFF);
      return buildFrame(WRITE, c.register, [0x00, bits]);
    }
    case 'factory_mode_enter':
      return buildFrame(WRITE, c.register, [FACTORY_UNLOCK >> 8, FACTORY_UNLOCK & 0xff]);
    case 'factory_mode_exit': {
      const word = boolArg(req, 'save') ? FACTORY_EXIT_SAVE : FACTORY_EXIT_DISCARD;
      return buildFrame(WRITE, c.register, [word >> 8, word & 0xff]);
    }
    case 'read_register':
      return buildFrame(READ, byteArg(req, 'register'));
    case 'write_register': {
      const value = byteArg(req, 'value', 0xffff);
      return buildFrame(WRITE, byteArg(req, 'register'), [value >> 8, value & 0xff]);
    }
    case 'write_data':
      return buildFrame(WRITE, byteArg(req, 'register'), bytesArg(req, 'data'));
    case 'use_password':
      return buildFrame(WRITE, c.register, [6, ...bytesArg(req, 'password', 6)]);
    case 'clear_password':
      return buildFrame(WRITE, c.register, [
        6,
        ...Array.from(CLEAR_PASSWORD_TEXT, (x) => x.charCodeAt(0)),
      ]);
    case 'control_command':
      return buildFrame(WRITE, c.register, [byteArg(req, 'function'), 0x00]);
    case 'mcu_reset':
      return buildFrame(WRITE, c.register, [MCU_RESET_WORD >> 8, MCU_RESET_WORD & 0xff]);
    case 'read_param_block': {
      const start = byteArg(req, 'start', 0xffff);
      return buildFrame(READ, c.register, [start >> 8, start & 0xff, byteArg(req, 'count', 95)]);
    }
    default:
      return buildFrame(READ, c.register);
  }
}

/** The inverse of encodeRequest. */
export function parseRequest(bytes: Uint8Array): Request {
  const len = checkFrame(bytes, 'request');
  const dir = bytes[1]!;
  const register = bytes[2]!;
  ensure(
    dir === READ || dir === WRITE,
    'FRAME_MALFORMED',
    `JBD request direction byte must be 0xa5 or 0x5a (got 0x${dir.toString(16)})`,
  );
  const hex = register.toString(16).padStart(2, '0');
  const data = Array.from(bytes.subarray(4, 4 + len));
  if (dir === READ) {
    if (register === REG.PARAM_BLOCK && len === 3) {
      return {
        command: 'read_param_block',
        args: { start: (data[0]! << 8) | data[1]!, count: data[2]! },
      };
    }
    ensure(len === 0, 'FRAME_MALFORMED', `JBD read request of 0x${hex} carries ${len} data bytes`);
    const id = READ_BY_REGISTER.get(register);
    return id ? { command: id } : { command: 'read_register', args: { register } };
  }
  const generic = (): Request =>
    len === 2
      ? { command: 'write_register', args: { register, value: (data[0]! << 8) | data[1]! } }
      : { command: 'write_data', args: { register, data } };
  if (len === 7 && data[0] === 6) {
    if (register === REG.USE_PASSWORD) {
      return { command: 'use_password', args: { password: data.slice(1) } };
    }
    if (
      register === REG.CLEAR_PASSWORD &&
      String.fromCharCode(...data.slice(1)) === CLEAR_PASSWORD_TEXT
    ) {
      return { command: 'clear_password' };
    }
  }
  if (len !== 2) return generic();
  const word = (data[0]! << 8) | data[1]!;
  switch (register) {
    case REG.MOS_CONTROL:
      ensure(word <= 3, 'FRAME_MALFORMED', `JBD 0xE1 data 0x${word.toString(16)} is not 0..3`);
      return {
        command: 'mos_control',
        args: {
          charge: (word & MOS_CHARGE_OFF) === 0,
          discharge: (word & MOS_DISCHARGE_OFF) === 0,
        },
      };
    case REG.FACTORY_ENTER:
      return word === FACTORY_UNLOCK ? { command: 'factory_mode_enter' } : generic();
    case REG.FACTORY_EXIT:
      return word === FACTORY_EXIT_SAVE || word === FACTORY_EXIT_DISCARD
        ? { command: 'factory_mode_exit', args: { save: word === FACTORY_EXIT_SAVE } }
        : generic();
    case REG.CONTROL:
      return data[1] === 0
        ? { command: 'control_command', args: { function: data[0]! } }
        : generic();
    case REG.MCU_RESET:
      return word === MCU_RESET_WORD ? { command: 'mcu_reset' } : generic();
    default:
      return generic();
  }
}

export const REQUEST_EXAMPLES: readonly Request[] = [
  { command: 'read_basic_info' },
  { command: 'read_cell_voltages' },
  { command: 'read_hardware_version' },
  { command: 'read_error_counters' },
  { command: 'mos_control', args: { charge: true, discharge: true } },
  { command: 'mos_control', args: { charge: false, discharge: true } },
  { command: 'mos_control', args: { charge: true, discharge: false } },
  { command: 'mos_control', args: { charge: false, discharge: false } },
  { command: 'factory_mode_enter' },
  { command: 'factory_mode_exit', args: { save: false } },
  { command: 'factory_mode_exit', args: { save: true } },
  { command: 'read_register', args: { register: 0x24 } },
  { command: 'read_register', args: { register: 0xa1 } },
  { command: 'write_register', args: { register: 0x24, value: 3650 } },
  { command: 'write_register', args: { register: 0x00, value: 0x1234 } },
  { command: 'write_data', args: { register: 0xa2, data: [3, 0x41, 0x42, 0x43] } },
  { command: 'use_password', args: { password: [0, 0, 0, 0, 0, 0] } },
  { command: 'clear_password' },
  { command: 'control_command', args: { function: 1 } },
  { command: 'mcu_reset' },
  { command: 'read_param_block', args: { start: 1, count: 2 } },
];
