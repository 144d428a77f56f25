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
];

const BY_ID = new Map(COMMANDS.map((c) => [c.id, c]));
const READ_BY_REGISTER = new Map(
  COMMANDS.filter((c) => c.kind === 'read').map((c) => [c.register, c.id]),
);

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
  if (dir === READ) {
    ensure(len === 0, 'FRAME_MALFORMED', `JBD read request carries ${len} data bytes`);
    const id = READ_BY_REGISTER.get(register);
    if (!id)
      throw new BmsError(
        'COMMAND_UNSUPPORTED',
        `JBD read of register 0x${hex} is not a known command`,
      );
    return { command: id };
  }
  ensure(
    len === 2,
    'COMMAND_UNSUPPORTED',
    `JBD write to register 0x${hex} with ${len} data bytes is not a known command`,
  );
  const word = (bytes[4]! << 8) | bytes[5]!;
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
      ensure(
        word === FACTORY_UNLOCK,
        'COMMAND_UNSUPPORTED',
        `JBD 0x00 data 0x${word.toString(16)} is not the 0x5678 unlock word`,
      );
      return { command: 'factory_mode_enter' };
    case REG.FACTORY_EXIT:
      ensure(
        word === FACTORY_EXIT_SAVE || word === FACTORY_EXIT_DISCARD,
        'COMMAND_UNSUPPORTED',
        `JBD 0x01 data 0x${word.toString(16)} is neither 0x2828 (save) nor 0x0000 (discard)`,
      );
      return { command: 'factory_mode_exit', args: { save: word === FACTORY_EXIT_SAVE } };
    default:
      throw new BmsError(
        'COMMAND_UNSUPPORTED',
        `JBD write to register 0x${hex} is not a known command`,
      );
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
];
