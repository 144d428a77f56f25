/**
 * PACE BMS "paceic" ASCII protocol (most 48 V / 51.2 V wall and rack packs: Jakiper, SOK,
 * Hubble, EG4 ...): the Pylontech envelope `~VER ADR CID1 CID2 LENGTH INFO CHKSUM\r` with
 * PACE's own command set. Variants: `v25` (PbmsTools generation) and `v20-eg4` (EG4
 * LifePower4). See README.md in this folder for the wire format.
 */
import type { ProtocolDefinition, ProtocolParameter, Request } from '../types.js';
import { createPylonFramer } from '../pylontech/frame.js';
import { COMMANDS, encodeRequest, parseRequest } from './commands.js';
import { control, controlEg4 } from './control.js';
import { decodeReply } from './decode.js';
import { PARAM_BLOCKS, VARIANTS } from './fields.js';
import { createReadSession } from './session.js';

const parameters: ProtocolParameter[] = PARAM_BLOCKS.flatMap((b) =>
  b.fields.flatMap((f) =>
    f.param
      ? [
          {
            id: f.param,
            wire: `0x${b.read.toString(16).toUpperCase()} / 0x${b.write.toString(16).toUpperCase()} ${f.key} (${f.kind})`,
            access: 'rw' as const,
          },
        ]
      : [],
  ),
);

const requestExamples: Request[] = [
  { command: 'analog', address: 1 },
  { command: 'analog', address: 0, args: { all: true } },
  { command: 'status', address: 2 },
  { command: 'analog', address: 1, args: { variant: 'v20-eg4' } },
  { command: 'software_version', address: 0 },
  { command: 'read_clock', address: 0 },
  { command: 'set_clock', address: 0, args: { time: '2024-08-20T14:15:37' } },
  { command: 'read_history', address: 0, args: { index: 399 } },
  { command: 'charge_mos', address: 0, args: { on: false } },
  { command: 'control', address: 0, args: { code: 13 } },
  { command: 'shutdown', address: 1 },
  { command: 'shutdown', address: 1, args: { info: [] } },
  {
    command: 'set_cell_ov',
    address: 0,
    args: {
      cell_ov_enabled: true,
      cell_ov_alarm_v: 3.6,
      cell_ov_protect_v: 3.7,
      cell_ov_release_v: 3.38,
      cell_ov_delay_s: 1,
    },
  },
  {
    command: 'set_full_charge',
    address: 0,
    args: { full_charge_voltage_v: 56, full_charge_current_a: 2 },
  },
  {
    command: 'set_inverter_protocol',
    address: 0,
    args: { can_protocol: 19, rs485_protocol: 20, protocol_mode: 'auto' },
  },
  {
    command: 'set_capacity',
    address: 1,
    args: { remaining_ah: 48.19, full_ah: 103.46, design_ah: 100 },
  },
  { command: 'calibrate_current_zero', address: 1 },
  { command: 'calibrate_total_voltage', address: 1, args: { voltage_v: 53.2 } },
  {
    command: 'eg4_set_clock',
    address: 1,
    args: { variant: 'v20-eg4', time: '2024-09-17T11:59:31' },
  },
  { command: 'eg4_shutdown', address: 1, args: { variant: 'v20-eg4' } },
  { command: 'analog', address: 1, args: { ver: 0x12 } },
];

export const definition: ProtocolDefinition = {
  id: 'pace',
  aliases: ['paceic', 'pace-bms', 'pbmstools'],
  title:
    'PACE BMS ASCII protocol (PbmsTools v25 and EG4 v20: Jakiper, SOK, Hubble, EG4 and other 48 V wall and rack packs)',
  link: {
    baud: 9600,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    defaultAddress: 1,
    // [NK]: 1 s works; the slow EG4 boards need 2 s.
    timeoutMs: 1000,
  },
  variants: VARIANTS,
  commands: COMMANDS.map(({ id, description, kind }) => ({ id, description, kind })),
  parameters,
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
    'mos_temp_c',
    'env_temp_c',
    'charge_mos',
    'discharge_mos',
    'balancing',
    'heater',
    'charger_connected',
    'alarms',
    'info',
    'packs',
  ],
  capabilities: {
    mosControl: true,
    setSoc: true,
    parameterRead: true,
    parameterWrite: true,
    setClock: true,
    records: true,
    multiDrop: true,
  },
  createFramer: createPylonFramer,
  decode: decodeReply,
  encode: encodeRequest,
  parseRequest,
  requestExamples,
  readSession: createReadSession,
  control,
  variantControl: { 'v20-eg4': controlEg4 },
};

// Building blocks for the device side (the simulator builds replies with these tables).
export * from './fields.js';
export { COMMANDS, commandByCid2, variantOf, inverterName } from './commands.js';
export { paramWire, putParam, readParam, wallIso, wallMsOf } from './wire.js';
export { RECORDS_PER_READ, WRITABLE } from './control.js';
