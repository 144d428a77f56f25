/**
 * `daly-modbus`: DALY H/K/M/S "new" protocol (Modbus RTU framing, vendor register maps).
 * Variants: d2 (unit 0xD2 both ways, BLE modules) and p81 (request 0x80+board, reply
 * 0x50+board; RS485 and newer BLE units). The default is d2 / 0xD2; see README.md.
 */
import { BmsError, ensure, type Reading } from '@openbms/core';
import type {
  Framer,
  ProtocolDefinition,
  ProtocolParameter,
  ReadOptions,
  ReadStep,
} from '../types.js';
import { sequentialSession, type StepPlan } from '../util/session.js';
import { createModbusFramer } from '../modbus-rtu/codec.js';
import { BLOCKS, D2_UNIT, isD2, replyUnitOf, variantOfUnit } from './blocks.js';
import { control } from './control.js';
import { decodeDalyModbus } from './decode.js';
import { DEFAULT_UNIT, encodeDaly, paramRegister, parseDalyRequest } from './requests.js';
import { PARAM_MAP, SWITCH_REGS, VARIANTS, type Variant } from './registers.js';

const REPLY_UNITS = [D2_UNIT, ...Array.from({ length: 15 }, (_, i) => 0x51 + i)];
const REQUEST_UNITS = [D2_UNIT, ...Array.from({ length: 15 }, (_, i) => 0x81 + i)];

/** Framer for replies (device -> host): units 0xD2 and 0x51..0x5F, Modbus length rule + CRC. */
export function createDalyFramer(): Framer {
  return createModbusFramer('reply', { units: REPLY_UNITS });
}

/** Framer for requests (host -> device), for simulators. */
export function createDalyRequestFramer(): Framer {
  return createModbusFramer('request', { units: REQUEST_UNITS });
}

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
const UNITS_OF: Record<string, string> = {
  u: '',
  x10: 'x0.1',
  temp: 'raw-40 degC',
  cur_mag: '|raw-30000| x0.1 A',
};

const PARAMETERS: ProtocolParameter[] = [
  ...PARAM_MAP.map((p) => ({
    id: p.id,
    wire: `holding ${hex4(paramRegister('d2', p))} (p81 ${hex4(paramRegister('p81', p))}) ${UNITS_OF[p.conv] ?? p.conv} -> raw.${p.rawKey}`.replace(
      /\s+->/,
      ' ->',
    ),
    access: p.writable ? ('rw' as const) : ('r' as const),
  })),
  // The MOS switch registers are written by control.setMos (interlocked), not as parameters.
  {
    id: 'charge_enabled',
    wire: `holding ${hex4(SWITCH_REGS.d2.charge)} (p81 ${hex4(SWITCH_REGS.p81.charge)}) 0/1 -> raw.charge_mos_switch (write: setMos)`,
    access: 'r',
  },
  {
    id: 'discharge_enabled',
    wire: `holding ${hex4(SWITCH_REGS.d2.discharge)} (p81 ${hex4(SWITCH_REGS.p81.discharge)}) 0/1 -> raw.discharge_mos_switch (write: setMos)`,
    access: 'r',
  },
  {
    id: 'balance_enabled',
    wire: `holding ${hex4(SWITCH_REGS.d2.balancer)} 0/1 -> raw.balancer_enabled`,
    access: 'rw',
  },
];

function readStep(name: string, unit: number, command: string, optional: boolean): ReadStep {
  const request = encodeDaly({ command, address: unit });
  const variant = variantOfUnit(unit);
  const block = BLOCKS[variant].find((b) => b.command === command)!;
  const replyUnit = replyUnitOf(unit);
  const bytes = block.count * 2;
  const step: ReadStep = {
    name,
    request,
    // A reply of this read: same unit, FC 0x03 with the right byte count, or an FC 0x83 exception.
    accepts: (f) =>
      f.length >= 3 && f[0] === replyUnit && ((f[1] === 0x03 && f[2] === bytes) || f[1] === 0x83),
    complete: (frames) => frames.length >= 1,
  };
  if (optional) step.optional = true;
  return step;
}

function resolveUnit(opts: ReadOptions): { unit: number; variant: Variant } {
  if (opts.address !== undefined) {
    const variant = variantOfUnit(opts.address);
    if (opts.variant !== undefined) {
      ensure(
        variantFrom(opts.variant) === variant,
        'INVALID_ARGUMENT',
        `unit 0x${opts.address.toString(16)} belongs to the ${variant} variant, not ${opts.variant}`,
      );
    }
    return { unit: opts.address, variant };
  }
  const variant = opts.variant !== undefined ? variantFrom(opts.variant) : 'd2';
  return { unit: variant === 'd2' ? D2_UNIT : 0x81, variant };
}

function variantFrom(v: string): Variant {
  if ((VARIANTS as readonly string[]).includes(v)) return v as Variant;
  throw new BmsError(
    'VARIANT_UNKNOWN',
    `unknown DALY Modbus variant "${v}" (known: ${VARIANTS.join(', ')})`,
  );
}

export const definition: ProtocolDefinition = {
  id: 'daly-modbus',
  aliases: ['daly-hkms', 'daly-d2'],
  title: 'DALY H/K/M/S "new" protocol: Modbus RTU with unit 0xD2 (BLE) or 0x80+n / 0x50+n (RS485)',
  link: {
    baud: 9600,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    defaultAddress: DEFAULT_UNIT,
    timeoutMs: 1000,
  },
  variants: VARIANTS,
  commands: [
    {
      id: 'read_status',
      description: 'Real-time block 1 (d2: 0x0000 x 62; p81: 0x0000 x 64)',
      kind: 'read',
    },
    {
      id: 'read_status_ext',
      description: 'Real-time block 2 (d2: 0x003E x 9, MOS/board temperature; p81: 0x0041 x 62)',
      kind: 'read',
    },
    {
      id: 'read_settings',
      description: 'Settings (d2: 0x0080 x 41; p81: 0x0100 x 41)',
      kind: 'read',
    },
    {
      id: 'read_version',
      description: 'Software/hardware version strings (d2: 0x00A9 x 32; p81: 0x0178 x 74)',
      kind: 'read',
    },
    { id: 'read_balancer_switch', description: 'Balancer switch register 0x00CF', kind: 'read' },
    {
      id: 'read_registers',
      description: 'FC 0x03 read of any window {start, count}',
      kind: 'read',
    },
    { id: 'write_register', description: 'FC 0x06 write {register, value}', kind: 'write' },
    {
      id: 'write_registers',
      description: 'FC 0x10 write {start, values} (byte_count_field: false = vendor-sheet form)',
      kind: 'write',
    },
    {
      id: 'write_parameter',
      description: 'FC 0x06 write of a catalog parameter {id, value}',
      kind: 'write',
    },
    {
      id: 'set_charge_mos',
      description: 'Charge MOSFET switch {on} (d2 0x00A5, p81 0x0121)',
      kind: 'control',
    },
    {
      id: 'set_discharge_mos',
      description: 'Discharge MOSFET switch {on} (d2 0x00A6, p81 0x0122)',
      kind: 'control',
    },
    { id: 'set_balancer', description: 'Balancer switch {on} (0x00CF)', kind: 'control' },
    {
      id: 'set_soc',
      description: 'Set SOC {soc_pct} (d2 0x00A7, p81 0x0127; 0.1 %)',
      kind: 'control',
    },
  ],
  parameters: PARAMETERS,
  metrics: [
    'address',
    'voltage_v',
    'current_a',
    'power_w',
    'soc_pct',
    'remaining_ah',
    'design_ah',
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
    'mos_temp_c',
    'board_temp_c',
    'charge_mos',
    'discharge_mos',
    'balancing',
    'balance_current_a',
    'heater',
    'alarms',
    'info',
  ],
  capabilities: {
    mosControl: true,
    setSoc: true,
    parameterRead: true,
    parameterWrite: true,
    setClock: false,
    records: false,
    multiDrop: true,
  },
  createFramer: createDalyFramer,
  decode: decodeDalyModbus,
  encode: encodeDaly,
  parseRequest: parseDalyRequest,
  requestExamples: [
    { command: 'read_status', address: 0xd2 },
    { command: 'read_status_ext', address: 0xd2 },
    { command: 'read_settings', address: 0xd2 },
    { command: 'read_version', address: 0xd2 },
    { command: 'read_balancer_switch', address: 0xd2 },
    { command: 'read_status', address: 0x81 },
    { command: 'read_status_ext', address: 0x81 },
    { command: 'read_settings', address: 0x82 },
    { command: 'read_version', address: 0x81 },
    { command: 'read_registers', address: 0xd2, args: { start: 0, count: 80 } },
    { command: 'write_register', address: 0xd2, args: { register: 0xf2, value: 1 } },
    {
      command: 'write_registers',
      address: 0xd2,
      args: { start: 0x0c, values: [1, 2], byte_count_field: false },
    },
    { command: 'write_registers', address: 0x81, args: { start: 0x0121, values: [1, 1] } },
    { command: 'write_parameter', address: 0xd2, args: { id: 'cell_ov_l1_mv', value: 3550 } },
    { command: 'write_parameter', address: 0xd2, args: { id: 'pack_uv_l2_v', value: 41.6 } },
    { command: 'write_parameter', address: 0x81, args: { id: 'chg_ut_l1_c', value: -5 } },
    { command: 'set_charge_mos', address: 0xd2, args: { on: false } },
    { command: 'set_discharge_mos', address: 0x81, args: { on: true } },
    { command: 'set_balancer', address: 0xd2, args: { on: true } },
    { command: 'set_soc', address: 0xd2, args: { soc_pct: 68 } },
  ],
  readSession(opts: ReadOptions) {
    const { unit, variant } = resolveUnit(opts);
    const d2 = isD2(unit);
    const steps: StepPlan[] = [
      readStep('status', unit, 'read_status', false),
      // d2: MOS/board temperature and balance current (older firmware may not answer);
      // p81: state, capacity, MOSFETs, power, temperatures - needed for a full snapshot.
      readStep('status_ext', unit, 'read_status_ext', d2),
      readStep('settings', unit, 'read_settings', true),
      readStep('version', unit, 'read_version', true),
      readStep('balancer_switch', unit, 'read_balancer_switch', true),
    ];
    return sequentialSession({
      steps,
      decode: (step, bytes): Reading => {
        const r = decodeDalyModbus(bytes, {
          request: step.request,
          variant,
          ...(opts.invertCurrent ? { invertCurrent: true } : {}),
        });
        // Read windows of a cycle are reported per step, not as the last step's registers.
        if (r.raw) {
          delete r.raw.register_start;
          delete r.raw.registers_u16;
        }
        return r;
      },
    });
  },
  control,
};

// Register maps and request parsing, for the simulator's device side (packages/simulator).
export { BLOCKS, D2_UNIT, isP81Request, replyUnitOf, variantOfUnit } from './blocks.js';
export {
  BALANCER_SWITCH_REG,
  FAULT_BITS,
  MAPS,
  PARAM_MAP,
  SWITCH_REGS,
  type Conv,
  type ParamMap,
  type StatusMap,
  type Variant,
} from './registers.js';
export { paramRegister } from './requests.js';
export { parseModbusRequestLoose, type LooseModbusRequest } from '../modbus-rtu/requests.js';
