/**
 * Seplos V3 requests: Modbus RTU (framing, CRC and function codes from `modbus-rtu/codec.ts`)
 * on the XZH register blocks. `Request.address` is the unit id (the pack's DIP address; the
 * system blocks EIA/EIB/EIC answer at 0x00 on the captured BLE links).
 *
 * Normal form: a read of a named block is `read_<block>`; any other window is `read_input`
 * / `read_coils` with `{start, count}`; writes are `write_registers` with `{start, values}`.
 */
import { BmsError, ensure } from '@openbms/core';
import type { CommandInfo, Request } from '../types.js';
import { encodeModbusRequest, FC, parseModbusRequest } from '../modbus-rtu/codec.js';
import { u16Arg, unitArg, valuesArg } from '../modbus-rtu/requests.js';
import {
  EIA_BLOCK,
  EIB_BLOCK,
  EIC_BLOCK,
  PCT_BLOCK,
  PIA_BLOCK,
  PIB_BLOCK,
  PIC_BLOCK,
  SFA_BLOCK,
  SPA_BLOCKS,
  VIA_BLOCK,
} from './registers.js';

export interface BlockCommand extends CommandInfo {
  fn: number;
  start: number;
  count: number;
}

const block = (
  id: string,
  fn: number,
  b: { start: number; count: number },
  description: string,
): BlockCommand => ({ id, fn, start: b.start, count: b.count, kind: 'read', description });

export const V3_BLOCKS: readonly BlockCommand[] = [
  block(
    'read_pia',
    FC.READ_INPUT,
    PIA_BLOCK,
    'V3: PIA pack voltage, current, capacities, SOC, SOH, cycles (FC 04 0x1000 x 17)',
  ),
  block(
    'read_pib',
    FC.READ_INPUT,
    PIB_BLOCK,
    'V3: PIB cell voltages and temperatures (FC 04 0x1100 x 26)',
  ),
  block(
    'read_pic',
    FC.READ_COILS,
    PIC_BLOCK,
    'V3: PIC pack alarms, states, balancing, FETs (FC 01 0x1200 x 144)',
  ),
  block(
    'read_spa_a',
    FC.READ_INPUT,
    SPA_BLOCKS[0],
    'V3: SPA parameters, first window (FC 04 0x1300 x 53)',
  ),
  block(
    'read_spa_b',
    FC.READ_INPUT,
    SPA_BLOCKS[1],
    'V3: SPA parameters, second window (FC 04 0x1335 x 53)',
  ),
  block('read_sfa', FC.READ_COILS, SFA_BLOCK, 'V3: SFA function switches (FC 01 0x1400 x 80)'),
  block(
    'read_via',
    FC.READ_INPUT,
    VIA_BLOCK,
    'V3: VIA factory, device name, firmware, serials (FC 04 0x1700 x 51)',
  ),
  block('read_pct', FC.READ_INPUT, PCT_BLOCK, 'V3: PCT inverter protocol (FC 04 0x1800 x 36)'),
  block('read_eia', FC.READ_INPUT, EIA_BLOCK, 'V3: EIA system summary (FC 04 0x2000 x 26, unit 0)'),
  block(
    'read_eib',
    FC.READ_INPUT,
    EIB_BLOCK,
    'V3: EIB system extremes (FC 04 0x2100 x 22, unit 0)',
  ),
  block('read_eic', FC.READ_COILS, EIC_BLOCK, 'V3: EIC system coils (FC 01 0x2200 x 80, unit 0)'),
];

export const V3_COMMANDS: readonly CommandInfo[] = [
  ...V3_BLOCKS.map(({ id, kind, description }) => ({ id, kind, description })),
  {
    id: 'read_input',
    kind: 'read',
    description: 'V3: FC 04 read of any window (args start, count)',
  },
  {
    id: 'read_coils',
    kind: 'read',
    description: 'V3: FC 01 read of any coils (args start, count)',
  },
  {
    id: 'write_registers',
    kind: 'write',
    description: 'V3: FC 10 write (args start, values); documented, never captured',
  },
];

const BLOCK_BY_ID = new Map(V3_BLOCKS.map((b) => [b.id, b]));
export const V3_COMMAND_IDS: ReadonlySet<string> = new Set(V3_COMMANDS.map((c) => c.id));

/** Unit of a single pack: its DIP address; 0 when the user gives none. */
export const DEFAULT_UNIT = 0;

export function encodeV3(req: Request): Uint8Array {
  const unit = unitArg(req.address, DEFAULT_UNIT);
  const a = req.args as Record<string, unknown> | undefined;
  const b = BLOCK_BY_ID.get(req.command);
  if (b) {
    ensure(
      a === undefined || Object.keys(a).length === 0,
      'INVALID_ARGUMENT',
      `${b.id} takes no arguments`,
    );
    return encodeModbusRequest({ unit, fn: b.fn, start: b.start, count: b.count });
  }
  switch (req.command) {
    case 'read_input':
      return encodeModbusRequest({
        unit,
        fn: FC.READ_INPUT,
        start: u16Arg(a, 'start'),
        count: u16Arg(a, 'count'),
      });
    case 'read_coils':
      return encodeModbusRequest({
        unit,
        fn: FC.READ_COILS,
        start: u16Arg(a, 'start'),
        count: u16Arg(a, 'count'),
      });
    case 'write_registers':
      return encodeModbusRequest({
        unit,
        fn: FC.WRITE_MULTIPLE,
        start: u16Arg(a, 'start'),
        values: valuesArg(a),
      });
    default:
      throw new BmsError('COMMAND_UNSUPPORTED', `seplos v3 has no command "${req.command}"`);
  }
}

export function parseV3Request(bytes: Uint8Array): Request {
  const r = parseModbusRequest(bytes);
  const address = r.unit;
  if (r.fn === FC.READ_INPUT || r.fn === FC.READ_COILS) {
    const b = V3_BLOCKS.find((x) => x.fn === r.fn && x.start === r.start && x.count === r.count);
    if (b) return { command: b.id, address };
    return {
      command: r.fn === FC.READ_INPUT ? 'read_input' : 'read_coils',
      address,
      args: { start: r.start, count: r.count! },
    };
  }
  if (r.fn === FC.WRITE_MULTIPLE) {
    return { command: 'write_registers', address, args: { start: r.start, values: r.values! } };
  }
  throw new BmsError(
    'COMMAND_UNSUPPORTED',
    `Modbus function 0x${r.fn.toString(16)} is not a Seplos V3 request`,
  );
}

export const V3_REQUEST_EXAMPLES: readonly Request[] = [
  ...V3_BLOCKS.map((b) => ({ command: b.id, address: b.id.startsWith('read_ei') ? 0 : 1 })),
  { command: 'read_input', address: 0, args: { start: 0x2100, count: 26 } },
  { command: 'read_coils', address: 1, args: { start: 0x1240, count: 8 } },
  { command: 'write_registers', address: 1, args: { start: 0x130d, values: [3650] } },
];
