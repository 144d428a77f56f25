/**
 * `modbus-rtu`: the generic Modbus RTU family. It knows framing, CRC and function codes, not
 * any register map: replies decode to the unit id plus the raw registers. It is a building
 * block (the DALY and JK families use codec.ts for their own maps) and a diagnostic tool.
 */
import { BmsError, ensure, type Reading } from '@openbms/core';
import type {
  DecodeOptions,
  ProtocolDefinition,
  ReadOptions,
  ReadStep,
  Request,
} from '../types.js';
import { sequentialSession } from '../util/session.js';
import { createModbusFramer, FC, parseModbusReply } from './codec.js';
import {
  encodeModbusRequestLoose,
  parseModbusRequestLoose,
  u16Arg,
  unitArg,
  encodeWriteMultipleArgs,
  type LooseModbusRequest,
} from './requests.js';

/** Registers the read session asks for: holding registers 0..9 of the unit. */
export const SESSION_START = 0;
export const SESSION_COUNT = 10;
const DEFAULT_UNIT = 1;

/**
 * Decodes one reply frame. Exceptions are decoded values (raw.exception = true), not errors.
 * With opts.request the reply is checked against it and the start register is reported.
 */
export function decodeModbusRtu(bytes: Uint8Array, opts: DecodeOptions = {}): Reading {
  const rep = parseModbusReply(bytes);
  const raw: Record<string, unknown> = { address: rep.unit, crc_ok: true };
  let req: LooseModbusRequest | undefined;
  if (opts.request) {
    req = parseModbusRequestLoose(opts.request);
    ensure(
      req.unit === rep.unit,
      'FRAME_UNEXPECTED',
      `reply from unit ${rep.unit} does not answer a request to unit ${req.unit}`,
    );
    ensure(
      req.fn === rep.fn,
      'FRAME_UNEXPECTED',
      `reply function 0x${rep.fn.toString(16)} does not answer function 0x${req.fn.toString(16)}`,
    );
  }
  switch (rep.kind) {
    case 'exception':
      raw.function = rep.fn | 0x80;
      raw.exception = true;
      raw.exception_code = rep.exceptionCode;
      raw.exception_name = rep.exception;
      break;
    case 'registers':
      raw.function = rep.fn;
      raw.exception = false;
      raw.byte_count = rep.byteCount;
      ensure(
        rep.byteCount % 2 === 0,
        'FRAME_MALFORMED',
        `register reply byte count ${rep.byteCount} is odd`,
      );
      raw.registers_u16 = rep.registers;
      if (req) {
        ensure(
          req.count === rep.registers.length,
          'FRAME_UNEXPECTED',
          `reply has ${rep.registers.length} registers, the request asked for ${String(req.count)}`,
        );
        raw.start_register = req.start;
        raw.register_count = req.count;
      }
      break;
    case 'write_single':
      raw.function = rep.fn;
      raw.exception = false;
      raw.start_register = rep.start;
      raw.register_count = 1;
      raw.registers_u16 = [rep.value];
      break;
    case 'write_multiple':
      raw.function = rep.fn;
      raw.exception = false;
      raw.start_register = rep.start;
      raw.register_count = rep.count;
      break;
  }
  return { address: rep.unit, raw };
}

export function encodeModbusRtu(req: Request): Uint8Array {
  const unit = unitArg(req.address, DEFAULT_UNIT);
  const a = req.args;
  switch (req.command) {
    case 'read_holding':
      return encodeModbusRequestLoose({
        unit,
        fn: FC.READ_HOLDING,
        start: u16Arg(a, 'start'),
        count: u16Arg(a, 'count'),
      });
    case 'read_input':
      return encodeModbusRequestLoose({
        unit,
        fn: FC.READ_INPUT,
        start: u16Arg(a, 'start'),
        count: u16Arg(a, 'count'),
      });
    case 'write_single':
      return encodeModbusRequestLoose({
        unit,
        fn: FC.WRITE_SINGLE,
        start: u16Arg(a, 'start'),
        value: u16Arg(a, 'value'),
      });
    case 'write_multiple':
      return encodeWriteMultipleArgs(unit, a);
    default:
      throw new BmsError('COMMAND_UNSUPPORTED', `modbus-rtu has no command "${req.command}"`);
  }
}

export function parseModbusRtuRequest(bytes: Uint8Array): Request {
  const r = parseModbusRequestLoose(bytes);
  switch (r.fn) {
    case FC.READ_HOLDING:
      return {
        command: 'read_holding',
        address: r.unit,
        args: { start: r.start, count: r.count! },
      };
    case FC.READ_INPUT:
      return { command: 'read_input', address: r.unit, args: { start: r.start, count: r.count! } };
    case FC.WRITE_SINGLE:
      return {
        command: 'write_single',
        address: r.unit,
        args: { start: r.start, value: r.value! },
      };
    case FC.WRITE_MULTIPLE: {
      const args: Record<string, number | number[] | boolean> = {
        start: r.start,
        values: r.values!,
      };
      if (r.byteCountField === false) args.byte_count_field = false;
      return { command: 'write_multiple', address: r.unit, args };
    }
    default:
      throw new BmsError(
        'COMMAND_UNSUPPORTED',
        `Modbus function 0x${r.fn.toString(16)} is not a command of this family`,
      );
  }
}

function sessionStep(unit: number): ReadStep {
  const request = encodeModbusRtu({
    command: 'read_holding',
    address: unit,
    args: { start: SESSION_START, count: SESSION_COUNT },
  });
  return {
    name: 'holding_registers',
    request,
    accepts: (f) =>
      f.length >= 3 &&
      f[0] === unit &&
      (f[1] === FC.READ_HOLDING || f[1] === (FC.READ_HOLDING | 0x80)),
    complete: (frames) => frames.length >= 1,
  };
}

export const definition: ProtocolDefinition = {
  id: 'modbus-rtu',
  aliases: ['modbus'],
  title: 'Generic Modbus RTU (FC 03/04/06/10, raw registers; a building block, no register map)',
  link: {
    baud: 9600,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    // The Modbus serial line specification (V1.02, 2.5.1) makes even parity the default every
    // device supports and allows odd and none (none with 2 stop bits recommended); meters and
    // inverters ship set to any of them, so a generic Modbus bus may use any.
    lineOptions: { parity: ['none', 'even', 'odd'], stopBits: [1, 2] },
    defaultAddress: DEFAULT_UNIT,
    timeoutMs: 1000,
  },
  variants: [],
  commands: [
    {
      id: 'read_holding',
      description: 'FC 0x03: read holding registers {start, count}',
      kind: 'read',
    },
    { id: 'read_input', description: 'FC 0x04: read input registers {start, count}', kind: 'read' },
    {
      id: 'write_single',
      description: 'FC 0x06: write one register {start, value}',
      kind: 'write',
    },
    {
      id: 'write_multiple',
      description:
        'FC 0x10: write registers {start, values} (byte_count_field: false = DALY vendor form)',
      kind: 'write',
    },
  ],
  parameters: [],
  metrics: ['address'],
  capabilities: {
    mosControl: false,
    setSoc: false,
    parameterRead: false,
    parameterWrite: false,
    setClock: false,
    records: false,
    multiDrop: false,
  },
  createFramer: () => createModbusFramer('reply'),
  decode: decodeModbusRtu,
  encode: encodeModbusRtu,
  parseRequest: parseModbusRtuRequest,
  requestExamples: [
    { command: 'read_holding', address: 1, args: { start: 0x1016, count: 13 } },
    { command: 'read_input', address: 2, args: { start: 0, count: 10 } },
    { command: 'write_single', address: 0xd2, args: { start: 0xcf, value: 1 } },
    { command: 'write_multiple', address: 3, args: { start: 0x1620, values: [0] } },
    {
      command: 'write_multiple',
      address: 0xd2,
      args: { start: 0x0c, values: [1, 2], byte_count_field: false },
    },
  ],
  readSession(opts: ReadOptions) {
    const unit = unitArg(opts.address, DEFAULT_UNIT);
    const step = sessionStep(unit);
    return sequentialSession({
      steps: [step],
      decode(s, bytes) {
        const r = decodeModbusRtu(bytes, { request: s.request });
        if (r.raw?.exception === true) {
          throw new BmsError(
            'DEVICE_ERROR_REPLY',
            `unit ${unit} answered with Modbus exception ${String(r.raw.exception_code)} (${String(r.raw.exception_name)})`,
            { exception_code: r.raw.exception_code },
          );
        }
        return r;
      },
    });
  },
};
