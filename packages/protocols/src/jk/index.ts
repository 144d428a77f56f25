/**
 * JK (Jikong) BMS: 55AA records (BLE and JK-PB RS485 payloads), the JK-PB RS485 bus-master
 * and Modbus requests, and the 4E57 RS485/TTL protocol. See README.md for the wire format.
 */
import { BmsError, type Reading } from '@openbms/core';
import type { DecodeOptions, ProtocolDefinition, ProtocolParameter } from '../types.js';
import { parseModbusReply } from '../modbus-rtu/codec.js';
import { BALANCE_START_REG, LAYOUTS, NW_PARAMS, NW_VARIANT, SETTINGS } from './fields.js';
import { createJkFramer } from './framer.js';
import { decodeNw, isNwStart } from './nw.js';
import { decodeRecord, isRecordHeader } from './record.js';
import { encodeRequest, parseRequest } from './requests.js';
import { createReadSession } from './session.js';
import { control } from './control.js';

// Field tables and frame helpers, for the simulator's device side (no behaviour here).
export * from './fields.js';
export { isNwStart, nwLength, nwProblem } from './nw.js';
export { COMMAND_LENGTH } from './requests.js';

/**
 * The catalog parameters of both links. Access is 'rw' exactly for control.writableParameters
 * (JK-PB: FC 0x10 to the settings block; 4E57: item writes). The 55AA BLE write registers
 * are listed for reference; control does not use the BLE link.
 */
function buildParameters(): ProtocolParameter[] {
  const wires = new Map<string, string[]>();
  const add = (id: string, wire: string): void => {
    wires.set(id, [...(wires.get(id) ?? []), wire]);
  };
  const writable = new Set(control.writableParameters);
  for (const f of SETTINGS) {
    if (!f.param) continue;
    const parts: string[] = [];
    if (f.only32) parts.push('JK02_32S');
    if (f.kind === 'u8' || f.kind === 'i8') parts.push('no JK-PB write');
    if (writable.has(f.param) && !f.only32 && f.kind !== 'u8' && f.kind !== 'i8') {
      parts.push(`JK-PB write reg 0x${(0x1000 + f.offset - 6).toString(16)} (FC 0x10, 2 regs BE)`);
    }
    if (f.param === 'balance_start_mv') {
      parts.push(
        `BLE reg 0x${BALANCE_START_REG.JK02_32S.toString(16)} (32S) / 0x${BALANCE_START_REG.JK02_24S.toString(16)} (24S)`,
      );
    } else if (f.reg !== undefined) {
      parts.push(`BLE reg 0x${f.reg.toString(16).padStart(2, '0')}`);
    }
    const extra = parts.length > 0 ? ` (${parts.join('; ')})` : '';
    add(f.param, `55AA settings record @${f.offset} ${f.kind}${extra}`);
  }
  add('heater_enabled', '55AA settings record @282 bit0 (JK02_32S)');
  for (const [item, id] of NW_PARAMS) add(id, `4E57 item 0x${item.toString(16)}`);
  return [...wires].map(([id, wire]) => ({
    id,
    wire: wire.join('; '),
    access: writable.has(id) ? 'rw' : 'r',
  }));
}

function decodeModbus(bytes: Uint8Array): Reading {
  const body = bytes[0] === 0 && bytes.length > 5 ? bytes.subarray(1) : bytes;
  const m = parseModbusReply(body);
  if (m.kind === 'exception') {
    throw new BmsError(
      'DEVICE_ERROR_REPLY',
      `JK-PB unit ${m.unit} answered with Modbus exception ${m.exceptionCode} (${m.exception})`,
      {
        exception: m.exceptionCode,
      },
    );
  }
  const raw: Record<string, unknown> = { function: m.fn };
  if (m.kind === 'write_multiple') {
    raw.ack_register = m.start;
    raw.ack_count = m.count;
  } else if (m.kind === 'write_single') {
    raw.ack_register = m.start;
    raw.ack_value = m.value;
  } else {
    raw.registers = m.registers;
  }
  return { address: m.unit, raw };
}

function decode(bytes: Uint8Array, opts: DecodeOptions = {}): Reading {
  if (bytes.length < 4)
    throw new BmsError('FRAME_TRUNCATED', `a JK reply has at least 4 bytes, not ${bytes.length}`);
  if (isRecordHeader(bytes)) {
    const r = decodeRecord(bytes, opts.variant, opts.invertCurrent === true);
    const req = opts.request;
    // JK-PB: the ACK after the record names the unit that answered.
    if (r.address !== undefined && req && req.length === 11 && req[1] === 0x10) {
      if (r.address !== req[0])
        throw new BmsError(
          'FRAME_UNEXPECTED',
          `reply from unit ${r.address}, request was for unit ${req[0]}`,
        );
    }
    return r;
  }
  if (isNwStart(bytes)) return decodeNw(bytes, opts.invertCurrent === true);
  return decodeModbus(bytes);
}

export const definition: ProtocolDefinition = {
  id: 'jk',
  aliases: ['jikong', 'jk-bms', 'jk-pb'],
  title: 'JK (Jikong) BMS: 55AA records (BLE / JK-PB RS485 115200) and 4E57 RS485/TTL',
  link: {
    baud: 115200,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    defaultAddress: 1,
    timeoutMs: 1000,
  },
  variants: [...LAYOUTS, NW_VARIANT],
  commands: [
    {
      id: 'ble_cell_info',
      description: '55AA 0x96: settings record, then cell-info records streamed every second',
      kind: 'read',
    },
    {
      id: 'ble_device_info',
      description: '55AA 0x97: device info record (type 0x03)',
      kind: 'read',
    },
    {
      id: 'ble_logbook',
      description: '55AA 0xA1: logbook records (type 0x05, not decoded)',
      kind: 'read',
    },
    {
      id: 'set_charge_mos',
      description: '55AA write 0x1D: charge switch on/off (args.on)',
      kind: 'control',
    },
    {
      id: 'set_discharge_mos',
      description: '55AA write 0x1E: discharge switch on/off (args.on)',
      kind: 'control',
    },
    {
      id: 'set_balancer',
      description: '55AA write 0x1F: balancer switch on/off (args.on)',
      kind: 'control',
    },
    {
      id: 'ble_write',
      description:
        '55AA settings write: args.register, args.value (settings scaling), args.length (default 4)',
      kind: 'write',
    },
    {
      id: 'pb_read_status',
      description: 'JK-PB RS485 FC 0x10 trigger 0x1620: cell-info record + ACK',
      kind: 'read',
    },
    {
      id: 'pb_read_settings',
      description: 'JK-PB RS485 FC 0x10 trigger 0x161E: settings record + ACK',
      kind: 'read',
    },
    {
      id: 'pb_read_about',
      description: 'JK-PB RS485 FC 0x10 trigger 0x161C: device info record + ACK',
      kind: 'read',
    },
    {
      id: 'modbus_read',
      description: 'JK-PB official map, FC 0x03: args.register, args.count',
      kind: 'read',
    },
    {
      id: 'modbus_write',
      description: 'JK-PB official map, FC 0x10: args.register, args.values',
      kind: 'write',
    },
    {
      id: 'modbus_write_single',
      description: 'JK-PB official map, FC 0x06: args.register, args.value',
      kind: 'write',
    },
    { id: 'nw_read_all', description: '4E57 command 0x06: every data item', kind: 'read' },
    { id: 'nw_read', description: '4E57 command 0x03: one data item (args.item)', kind: 'read' },
    {
      id: 'nw_write',
      description: '4E57 command 0x02: write a numeric data item (args.item, args.value)',
      kind: 'write',
    },
  ],
  parameters: buildParameters(),
  metrics: [
    'address',
    'voltage_v',
    'current_a',
    'power_w',
    'soc_pct',
    'soh_pct',
    'remaining_ah',
    'full_ah',
    'design_ah',
    'cycle_ah',
    'cycles',
    'runtime_s',
    'cell_count',
    'cell_mv',
    'avg_cell_mv',
    'delta_cell_mv',
    'max_cell_mv',
    'min_cell_mv',
    'max_cell_index',
    'min_cell_index',
    'cell_resistance_mohm',
    'temp_sensor_count',
    'temps_c',
    'max_temp_c',
    'min_temp_c',
    'mos_temp_c',
    'charge_mos',
    'discharge_mos',
    'balancing',
    'balance_current_a',
    'heater',
    'charger_connected',
    'alarms',
    'info',
  ],
  capabilities: {
    mosControl: true,
    setSoc: false,
    parameterRead: true,
    parameterWrite: true,
    setClock: false,
    records: false,
    multiDrop: true,
  },
  createFramer: createJkFramer,
  decode,
  encode: encodeRequest,
  parseRequest,
  requestExamples: [
    { command: 'ble_cell_info' },
    { command: 'ble_device_info' },
    { command: 'ble_logbook' },
    { command: 'set_charge_mos', args: { on: true } },
    { command: 'set_discharge_mos', args: { on: false } },
    { command: 'set_balancer', args: { on: true } },
    { command: 'ble_write', args: { register: 0x04, value: 3650 } },
    { command: 'ble_write', args: { register: 0x18, value: -50 } },
    { command: 'pb_read_status', address: 3 },
    { command: 'pb_read_settings', address: 3 },
    { command: 'pb_read_about', address: 3 },
    { command: 'modbus_read', address: 1, args: { register: 0x1200, count: 32 } },
    { command: 'modbus_write', address: 1, args: { register: 0x1070, values: [0, 1] } },
    { command: 'modbus_write_single', address: 1, args: { register: 0x1600, value: 1 } },
    { command: 'nw_read_all' },
    { command: 'nw_read', args: { item: 0x85 } },
    { command: 'nw_write', args: { item: 0xab, value: 1 } },
    { command: 'nw_write', args: { item: 0xa5, value: -5 } },
  ],
  readSession: createReadSession,
  control,
};
