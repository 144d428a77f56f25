/**
 * Seplos BMS, both generations: V2 (EMU10xx/11xx, "BMS 2.0"): the Pylontech-style ASCII
 * envelope with Seplos' own layouts; V3 (XZH BMS48100/48200, "BMS 3.0"): Modbus RTU over
 * named register blocks. Variants `v2` (default) and `v3`. See README.md in this folder.
 */
import type { ProtocolDefinition, ProtocolParameter, Request } from '../types.js';
import {
  RAW_REQUEST,
  V2_COMMANDS,
  V2_REQUEST_EXAMPLES,
  encodeV2,
  parseV2Request,
  v2CommandById,
} from './ascii.js';
import { control, controlV3 } from './control.js';
import { BLOCK_FIELDS, NEVER_WRITTEN, SWITCH_FIELDS, blockOffset } from './fields.js';
import { V3_COMMANDS, V3_REQUEST_EXAMPLES, encodeV3, parseV3Request } from './modbus.js';
import { SPA } from './registers.js';
import { VARIANTS, createReadSession, createSeplosFramer, decodeSeplos } from './session.js';
import { SOI } from '../pylontech/frame.js';

const hex = (v: number, d: number): string => `0x${v.toString(16).toUpperCase().padStart(d, '0')}`;

/** One entry per catalog id: where V2 and V3 keep it. */
function parameterList(): ProtocolParameter[] {
  const where = new Map<string, string[]>();
  const add = (id: string, text: string): void => {
    const list = where.get(id) ?? [];
    list.push(text);
    where.set(id, list);
  };
  for (const f of BLOCK_FIELDS) {
    if (f.param)
      add(
        f.param,
        `v2 0x47/0xA1 parameter ${hex(f.index, 2)} at byte ${blockOffset(f)} (${f.key})`,
      );
  }
  for (const s of SWITCH_FIELDS) {
    if (s.param)
      add(s.param, `v2 0x47/0xA1 function switch byte ${s.byte} bit ${s.bit} (${s.key})`);
  }
  for (const f of SPA) {
    if (f.param) add(f.param, `v3 SPA ${hex(f.reg, 4)} (${f.key})`);
  }
  return [...where].map(([id, texts]) => ({
    id,
    wire: texts.join('; '),
    // What V2's whole-block write carries (V3 writes are documented only: control.ts).
    access:
      !NEVER_WRITTEN.has(id) &&
      (BLOCK_FIELDS.some((f) => f.param === id) || SWITCH_FIELDS.some((s) => s.param === id))
        ? ('rw' as const)
        : ('r' as const),
  }));
}

function encode(req: Request): Uint8Array {
  return v2CommandById(req.command) || req.command === RAW_REQUEST.id
    ? encodeV2(req)
    : encodeV3(req);
}

function parseRequest(bytes: Uint8Array): Request {
  return bytes.length > 0 && bytes[0] === SOI ? parseV2Request(bytes) : parseV3Request(bytes);
}

export const definition: ProtocolDefinition = {
  id: 'seplos',
  aliases: ['seplos-bms', 'seplos-v2', 'seplos-v3'],
  title:
    'Seplos BMS: V2 ASCII (EMU10xx/11xx, 0x42/0x44/0x47/0xA1) and V3 Modbus RTU (XZH PIA/PIB/PIC/SPA), up to 16 packs',
  link: {
    // The captured V2 host ports and every V3 unit run at 19200 (the V2 document says 9600).
    baud: 19200,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    defaultAddress: 0,
    timeoutMs: 1000,
  },
  variants: VARIANTS,
  commands: [
    ...V2_COMMANDS.map(({ id, description, kind }) => ({ id, description, kind })),
    RAW_REQUEST,
    ...V3_COMMANDS,
  ],
  parameters: parameterList(),
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
    'mos_temp_c',
    'env_temp_c',
    'charge_mos',
    'discharge_mos',
    'heater',
    'charge_current_limit_a',
    'discharge_current_limit_a',
    'alarms',
    'info',
  ],
  capabilities: {
    mosControl: false,
    setSoc: false,
    parameterRead: true,
    parameterWrite: true,
    setClock: true,
    records: false,
    multiDrop: true,
  },
  createFramer: createSeplosFramer,
  decode: decodeSeplos,
  encode,
  parseRequest,
  requestExamples: [...V2_REQUEST_EXAMPLES, ...V3_REQUEST_EXAMPLES],
  readSession: createReadSession,
  control,
  variantControl: { v3: controlV3 },
};

// Building blocks for the device side (the simulator answers with the family's own tables).
export {
  BLOCK,
  BLOCK_FIELDS,
  CID2,
  KELVIN_OFFSET,
  SWITCH_FIELDS,
  ALARM_EVENTS,
  EVENT8_BITS,
  SIGNAL_TAIL,
  SIGNAL_CUSTOM_COUNT,
  TELEMETRY_CUSTOM_COUNT,
  blockOffset,
  type AlarmBit,
  type BlockField,
} from './fields.js';
export {
  EIA,
  EIB,
  PCT,
  PIA,
  PIB,
  PIC,
  SCA,
  SPA,
  SPA_FIRST,
  SPA_LAST,
  TB02,
  TB03,
  TB04,
  TB05,
  TB06,
  TB07,
  TB15,
  TB16,
  VIA,
  fieldWidth,
  type RegField,
} from './registers.js';
export { CONTROL_ITEMS, CONTROL_OFF, CONTROL_ON, V2_COMMANDS, parseV2Request } from './ascii.js';
export { V3_BLOCKS, parseV3Request } from './modbus.js';
export { createSeplosFramer, decodeSeplos } from './session.js';
export { V2_CAN_PROTOCOLS, canProtocolOf, scaDateMs, scaDateRegisters } from './control.js';
