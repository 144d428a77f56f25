/**
 * Control and parameter operations of Seplos (see README.md, "Control and parameters").
 * Pure builders, no I/O.
 *
 * V2 (`control`): the parameter block is read whole (0x47) and written whole (0xA1, read-
 * modify-write of the block just read: one frame carries every change, so the pack never
 * holds an intermediate set); the clock is read (0x4D) and set (0x4E). Commands that rest on
 * one clone's traffic (0x45 switches, shut-down and factory settings, 0xA0 calibration,
 * 0xA6 inverter protocol) are declared `unverified`.
 *
 * V3 (`variantControl.v3`): SPA is read in the vendor tool's two windows; every write (FC 10
 * to SPA and SCA) is documented by the XZH document only, so all of them are `unverified`.
 */
import { BmsError, ensure, round, type Reading } from '@openbms/core';
import type {
  CalibrationKind,
  ControlOps,
  ControlStep,
  ControlTarget,
  InverterProtocolOption,
  InverterProtocolSetting,
  ReadSession,
  ReadStep,
} from '../types.js';
import { hexToBytes } from '../util/bytes.js';
import { sequentialSession } from '../util/session.js';
import { FC, parseModbusReply } from '../modbus-rtu/codec.js';
import {
  CONTROL_DO,
  CONTROL_ITEMS,
  CONTROL_OFF,
  CONTROL_ON,
  DEFAULT_ADR,
  encodeV2,
} from './ascii.js';
import { decodeV2 } from './ascii-decode.js';
import {
  BLOCK,
  BLOCK_FIELDS,
  CID2,
  NEVER_WRITTEN,
  RTN_MEANINGS,
  SWITCH_FIELDS,
  blockOffset,
  type BlockField,
} from './fields.js';
import { DEFAULT_UNIT, encodeV3 } from './modbus.js';
import { decodeV3 } from './modbus-decode.js';
import { SCA, SPA, type RegField } from './registers.js';
import { acceptsV2, acceptsV3, checkAdr, checked, v2Step, v3Step } from './session.js';

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');

// ---------------------------------------------------------------- shared

/** Catalog value -> wire integer of a scaled field; PARAM_STEP / PARAM_OUT_OF_RANGE. */
function toWire(
  id: string,
  value: number,
  f: { scale?: number; offset?: number; toParam?: number; negative?: boolean },
  min: number,
  max: number,
): number {
  ensure(
    typeof value === 'number' && Number.isFinite(value),
    'PARAM_OUT_OF_RANGE',
    `${id}: ${String(value)} is not a finite number`,
  );
  const key = (f.negative ? -value : value) / (f.toParam ?? 1);
  const exact = key / (f.scale ?? 1) + (f.offset ?? 0);
  const n = Math.round(exact);
  if (Math.abs(exact - n) > 1e-6) {
    throw new BmsError(
      'PARAM_STEP',
      `${id}: ${value} is not a multiple of the wire step (${round((f.scale ?? 1) * (f.toParam ?? 1), 6)})`,
      { id },
    );
  }
  if (n < min || n > max) {
    throw new BmsError('PARAM_OUT_OF_RANGE', `${id}: ${value} does not fit its wire field`, {
      id,
    });
  }
  return n;
}

/** The parameters the gateway read just before (plus what this write already sent). */
function heldParameters(t: ControlTarget): Record<string, number> {
  const p = t.snapshot?.raw?.['parameters'];
  return p !== null && typeof p === 'object' ? (p as Record<string, number>) : {};
}

/** A read session whose result carries `raw.parameters` of every step (merged). */
function parameterSession(
  steps: readonly ReadStep[],
  decode: (s: ReadStep, b: Uint8Array) => Reading,
): ReadSession {
  return sequentialSession({
    steps,
    decode(s, bytes, soFar): Reading {
      const part = decode(s, bytes);
      const before = (soFar.raw?.['parameters'] ?? {}) as Record<string, number>;
      const mine = (part.raw?.['parameters'] ?? {}) as Record<string, number>;
      // mergeReading merges raw one level deep: keep every step's parameters.
      part.raw = { ...part.raw, parameters: { ...before, ...mine } };
      return part;
    },
  });
}

const wallFields = (wallMs: number): number[] => {
  ensure(Number.isFinite(wallMs), 'INVALID_ARGUMENT', 'clock must be a finite time');
  const d = new Date(wallMs);
  const year = d.getUTCFullYear();
  ensure(
    year >= 2000 && year <= 2099,
    'INVALID_ARGUMENT',
    `clock year ${year} is outside 2000..2099`,
  );
  return [
    year,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ];
};

// ---------------------------------------------------------------- V2

const V2_WRITABLE: readonly string[] = [
  ...BLOCK_FIELDS.map((f) => f.param),
  ...SWITCH_FIELDS.map((s) => s.param),
].filter((id): id is string => id !== undefined && !NEVER_WRITTEN.has(id));

const FIELD_OF = new Map<string, BlockField>(
  BLOCK_FIELDS.filter((f) => f.param !== undefined).map((f) => [f.param!, f]),
);
const SWITCH_OF = new Map(SWITCH_FIELDS.filter((s) => s.param).map((s) => [s.param!, s]));

function v2Adr(t: ControlTarget): number {
  return checkAdr(t.address ?? DEFAULT_ADR);
}

function rtnText(rtn: number): string {
  return `RTN 0x${hex2(rtn)} (${RTN_MEANINGS[rtn] ?? 'unknown return code'})`;
}

/** A V2 write whose reply is an empty RTN 0 acknowledgement (any other RTN: refused). */
function v2WriteStep(
  name: string,
  request: Uint8Array,
  cid2: number,
  adr: number,
  what: string,
): ControlStep {
  return {
    name,
    request,
    accepts: (f) => acceptsV2(f, cid2, adr),
    complete: (frames) => frames.length >= 1,
    result(frames) {
      ensure(frames.length > 0, 'FRAME_TRUNCATED', `${name}: no reply frame`);
      const reading = decodeV2(frames[frames.length - 1]!, { request });
      const raw = reading.raw ?? {};
      if (raw.error_response === true) {
        const rtn = Number(raw.rtn);
        throw new BmsError(
          'COMMAND_REFUSED',
          `Seplos pack at ADR ${adr} refused ${what}: ${rtnText(rtn)}`,
          { rtn },
        );
      }
      return { reading };
    },
  };
}

/** The block to write: the one just read, with the held values and the changes put in. */
function buildBlock(t: ControlTarget, values: Record<string, number>): number[] {
  const hex = t.snapshot?.raw?.['param_block_hex'];
  if (typeof hex !== 'string' || hex.length !== 2 * BLOCK.length) {
    throw new BmsError(
      'INVALID_ARGUMENT',
      'Seplos 0xA1 writes the whole parameter block: read the parameters (0x47) first',
    );
  }
  const block = Array.from(hexToBytes(hex));
  // The vendor tool writes index 0 (the captured write); the reply's index byte varies.
  block[BLOCK.index] = 0;
  const held = heldParameters(t);
  const put = (id: string, v: number): void => {
    const f = FIELD_OF.get(id);
    if (f) {
      const o = blockOffset(f);
      if (f.enc === 'u8') {
        block[o] = toWire(id, v, f, 0, 0xff);
      } else {
        const w =
          toWire(id, v, f, f.enc === 'i16' ? -0x8000 : 0, f.enc === 'i16' ? 0x7fff : 0xffff) &
          0xffff;
        block[o] = w >> 8;
        block[o + 1] = w & 0xff;
      }
      return;
    }
    const s = SWITCH_OF.get(id)!;
    ensure(v === 0 || v === 1, 'PARAM_OUT_OF_RANGE', `${id}: a switch is 0 or 1 (got ${v})`);
    const at = BLOCK.switches + s.byte;
    block[at] = v === 1 ? block[at]! | (1 << s.bit) : block[at]! & ~(1 << s.bit);
  };
  // What the pack holds at this point of the write (values of earlier units included).
  for (const [id, v] of Object.entries(held)) {
    if (
      (FIELD_OF.has(id) || SWITCH_OF.has(id)) &&
      !NEVER_WRITTEN.has(id) &&
      values[id] === undefined
    ) {
      put(id, v);
    }
  }
  for (const [id, v] of Object.entries(values)) put(id, v);
  return block;
}

function v2WriteParameters(t: ControlTarget, values: Record<string, number>): ControlStep[] {
  const adr = v2Adr(t);
  const ids = Object.keys(values);
  ensure(ids.length > 0, 'INVALID_ARGUMENT', 'no parameters to write');
  for (const id of ids) {
    if (!V2_WRITABLE.includes(id)) {
      throw new BmsError(
        'PARAM_UNKNOWN',
        `seplos v2 cannot write "${id}" (not in the 0x47/0xA1 parameter block${NEVER_WRITTEN.has(id) ? ', or never written remotely' : ''})`,
        { id },
      );
    }
  }
  const block = buildBlock(t, values);
  const request = encodeV2({ command: 'write_parameters', address: adr, args: { block } });
  return [
    v2WriteStep(
      'write_parameters',
      request,
      CID2.WRITE_PARAMETERS,
      adr,
      `the parameter block write 0xA1 (${ids.join(', ')})`,
    ),
  ];
}

const v2Decode = (s: ReadStep, b: Uint8Array): Reading =>
  checked(s.name, decodeV2(b, { request: s.request }));

function v2ReadClock(t: ControlTarget): ReadSession {
  const adr = v2Adr(t);
  return sequentialSession({
    steps: [v2Step('read_clock', adr)],
    decode(s, bytes): Reading {
      const part = v2Decode(s, bytes);
      part.raw = { ...part.raw, clock_wall_ms: part.raw?.['clock_ms'] };
      return part;
    },
  });
}

function v2SetClock(t: ControlTarget, wallMs: number): ControlStep[] {
  const adr = v2Adr(t);
  const [year, month, day, hour, minute, second] = wallFields(wallMs);
  const request = encodeV2({
    command: 'set_clock',
    address: adr,
    args: { year: year!, month: month!, day: day!, hour: hour!, minute: minute!, second: second! },
  });
  return [v2WriteStep('set_clock', request, CID2.CLOCK_WRITE, adr, 'the clock write 0x4E')];
}

function controlStep(t: ControlTarget, item: number, action: number, what: string): ControlStep[] {
  const adr = v2Adr(t);
  const request = encodeV2({ command: 'control', address: adr, args: { item, action } });
  return [v2WriteStep('control', request, CID2.CONTROL, adr, what)];
}

/** CAN inverter protocols of 0xA6 (seplos.md A8: verified on one clone). */
export const V2_CAN_PROTOCOLS: readonly (InverterProtocolOption & { match: RegExp })[] = [
  {
    code: 1,
    name: 'PN-GDLT (Pylon, Deye, Luxpower, TBB, GoodWe)',
    match: /pylon|png|dye|deye|lux|tbb|goodwe/i,
  },
  { code: 2, name: 'Growatt', match: /growatt/i },
  { code: 3, name: 'Victron', match: /victron/i },
  { code: 4, name: 'SMA / Sofar', match: /sma|sofar/i },
  { code: 5, name: 'Solis / Ginlong', match: /solis|ginlong/i },
  { code: 6, name: 'Studer', match: /studer/i },
  { code: 7, name: 'MUST', match: /must/i },
];

/** The CAN protocol named in the 0x51 text (`CANProtocol:Sofar`, `CAN:PNG_DYE_Luxp_TBB`). */
export function canProtocolOf(text: string): number | undefined {
  const name = text.includes(':') ? text.slice(text.indexOf(':') + 1) : '';
  if (!name.trim()) return undefined;
  return V2_CAN_PROTOCOLS.find((p) => p.match.test(name))?.code;
}

function v2ReadInverterProtocol(t: ControlTarget): ReadSession {
  const adr = v2Adr(t);
  return sequentialSession({
    steps: [v2Step('device_info', adr)],
    decode(s, bytes): Reading {
      const part = v2Decode(s, bytes);
      const code = canProtocolOf(String(part.raw?.['manufacturer'] ?? ''));
      const setting: InverterProtocolSetting = code !== undefined ? { can: code } : {};
      part.raw = { ...part.raw, inverter_protocol: setting };
      return part;
    },
  });
}

function v2SetInverterProtocol(t: ControlTarget, s: InverterProtocolSetting): ControlStep[] {
  const adr = v2Adr(t);
  ensure(
    s.rs485 === undefined && s.mode === undefined,
    'INVALID_ARGUMENT',
    'seplos v2 selects only the CAN protocol (0xA6)',
  );
  ensure(
    s.can !== undefined && V2_CAN_PROTOCOLS.some((p) => p.code === s.can),
    'INVALID_ARGUMENT',
    `CAN protocol must be one of ${V2_CAN_PROTOCOLS.map((p) => p.code).join(', ')}`,
  );
  const request = encodeV2({
    command: 'set_can_protocol',
    address: adr,
    args: { protocol: s.can },
  });
  return [
    v2WriteStep(
      'set_can_protocol',
      request,
      CID2.CAN_PROTOCOL,
      adr,
      'the CAN protocol selection 0xA6',
    ),
  ];
}

/** 0xA0 calibration indexes (vendor XML `adjust_para`), 0.01 A values. */
const V2_CALIBRATIONS: Partial<Record<CalibrationKind, number>> = {
  current_zero: 0,
  charge_current: 1,
  discharge_current: 1,
};

function v2Calibrate(t: ControlTarget, c: { kind: CalibrationKind; value: number }): ControlStep[] {
  const adr = v2Adr(t);
  const index = V2_CALIBRATIONS[c.kind];
  ensure(index !== undefined, 'INVALID_ARGUMENT', `seplos v2 cannot calibrate ${c.kind}`);
  const amps = c.kind === 'current_zero' ? 0 : c.kind === 'discharge_current' ? -c.value : c.value;
  const value = toWire(`calibrate ${c.kind}`, amps, { scale: 0.01 }, -0x8000, 0x7fff);
  const request = encodeV2({ command: 'calibrate', address: adr, args: { index, value } });
  return [v2WriteStep('calibrate', request, CID2.CALIBRATE, adr, `the ${c.kind} calibration 0xA0`)];
}

const ONE_CLONE =
  'rests on the traffic of one Seplos-compatible clone (galiy/energyBms, seplos.md A8)';

export const control: ControlOps = {
  readParameters: (t) => parameterSession([v2Step('parameters', v2Adr(t))], v2Decode),
  writableParameters: V2_WRITABLE,
  writeParameters: v2WriteParameters,
  readClock: v2ReadClock,
  setClock: v2SetClock,
  setMos: (t, which, on) =>
    controlStep(
      t,
      which === 'charge' ? CONTROL_ITEMS.charge_switch : CONTROL_ITEMS.discharge_switch,
      on ? CONTROL_ON : CONTROL_OFF,
      `the ${which} switch ${on ? 'on' : 'off'} (0x45)`,
    ),
  shutdown: (t) => controlStep(t, CONTROL_ITEMS.shutdown, CONTROL_DO, 'the shut-down (0x45)'),
  restoreDefaults: (t) =>
    controlStep(
      t,
      CONTROL_ITEMS.restore_factory_settings,
      CONTROL_DO,
      'the factory settings (0x45)',
    ),
  calibrations: [
    { kind: 'current_zero', min: 0, max: 0, step: 0.01 },
    { kind: 'charge_current', min: 0.01, max: 327.67, step: 0.01 },
    { kind: 'discharge_current', min: 0.01, max: 327.68, step: 0.01 },
  ],
  calibrate: v2Calibrate,
  inverterProtocols: { can: V2_CAN_PROTOCOLS.map(({ code, name }) => ({ code, name })) },
  readInverterProtocol: v2ReadInverterProtocol,
  setInverterProtocol: v2SetInverterProtocol,
  unverified: {
    setMos: `0x45 switch control ${ONE_CLONE}; that clone refused it (RTN 04)`,
    shutdown: `0x45 shut-down ${ONE_CLONE}; that clone refused it (RTN 04)`,
    restoreDefaults: `0x45 "restore factory settings" ${ONE_CLONE}; never seen answered`,
    calibrate: `0xA0 calibration: the format ${ONE_CLONE}`,
    readInverterProtocol: `the CAN protocol name in 0x51 ${ONE_CLONE} and current firmware captures`,
    setInverterProtocol: `0xA6 CAN protocol selection ${ONE_CLONE}`,
  },
};

// ---------------------------------------------------------------- V3

const SPA_WRITABLE = new Map<string, RegField>(
  SPA.filter((f) => f.param !== undefined && !NEVER_WRITTEN.has(f.param)).map((f) => [f.param!, f]),
);

function v3Unit(t: ControlTarget): number {
  return checkAdr(t.address ?? DEFAULT_UNIT);
}

/** An FC 10 write of `values` at `start`, acknowledged by the unit (exception: refused). */
function fc10Step(
  name: string,
  unit: number,
  start: number,
  values: number[],
  what: string,
): ControlStep {
  const request = encodeV3({ command: 'write_registers', address: unit, args: { start, values } });
  return {
    name,
    request,
    accepts: (f) =>
      f.length >= 5 &&
      f[0] === unit &&
      (f[1] === FC.WRITE_MULTIPLE || f[1] === (FC.WRITE_MULTIPLE | 0x80)),
    complete: (frames) => frames.length >= 1,
    result(frames) {
      ensure(frames.length > 0, 'FRAME_TRUNCATED', `${name}: no reply frame`);
      const frame = frames[frames.length - 1]!;
      const rep = parseModbusReply(frame);
      if (rep.kind === 'exception') {
        throw new BmsError(
          'COMMAND_REFUSED',
          `Seplos V3 unit ${unit} refused ${what}: Modbus exception ${rep.exceptionCode} (${rep.exception})`,
          { exception_code: rep.exceptionCode },
        );
      }
      ensure(
        rep.kind === 'write_multiple' && rep.start === start && rep.count === values.length,
        'FRAME_UNEXPECTED',
        `${name}: the acknowledgement does not name ${values.length} register(s) at 0x${start.toString(16)}`,
      );
      return { reading: decodeV3(frame) };
    },
  };
}

function v3WriteParameters(t: ControlTarget, values: Record<string, number>): ControlStep[] {
  const unit = v3Unit(t);
  const ids = Object.keys(values);
  ensure(ids.length > 0, 'INVALID_ARGUMENT', 'no parameters to write');
  return ids.map((id) => {
    const f = SPA_WRITABLE.get(id);
    if (!f)
      throw new BmsError('PARAM_UNKNOWN', `seplos v3 cannot write "${id}" (not in SPA)`, { id });
    const signed = f.enc === 'i16';
    const w = toWire(id, values[id]!, f, signed ? -0x8000 : 0, signed ? 0x7fff : 0xffff) & 0xffff;
    return fc10Step(`write_${f.key}`, unit, f.reg, [w], `the SPA write of ${id}`);
  });
}

const v3Decode = (s: ReadStep, b: Uint8Array): Reading =>
  checked(s.name, decodeV3(b, { request: s.request }));

/** SCA 0x1500: year (uint16 little-endian), month, day, hour, minute, second, reserved. */
export function scaDateRegisters(wallMs: number): number[] {
  const [year, month, day, hour, minute, second] = wallFields(wallMs) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return [
    ((year & 0xff) << 8) | (year >> 8),
    (month << 8) | day,
    (hour << 8) | minute,
    second << 8,
  ];
}

/** The wall time of the SCA date registers (UTC fields), undefined when not a date. */
export function scaDateMs(regs: readonly number[]): number | undefined {
  if (regs.length < 4) return undefined;
  const year = ((regs[0]! & 0xff) << 8) | (regs[0]! >> 8);
  const month = regs[1]! >> 8;
  const day = regs[1]! & 0xff;
  const hour = regs[2]! >> 8;
  const minute = regs[2]! & 0xff;
  const second = regs[3]! >> 8;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

function v3ReadClock(t: ControlTarget): ReadSession {
  const unit = v3Unit(t);
  const request = encodeV3({
    command: 'read_input',
    address: unit,
    args: { start: SCA.DATE, count: 4 },
  });
  const step: ReadStep = {
    name: 'read_date',
    request,
    accepts: (f) => acceptsV3(f, unit, FC.READ_INPUT, 8),
    complete: (frames) => frames.length >= 1,
  };
  return sequentialSession({
    steps: [step],
    decode(s, bytes): Reading {
      const rep = parseModbusReply(bytes);
      if (rep.kind === 'exception') checked(s.name, decodeV3(bytes));
      ensure(rep.kind === 'registers', 'FRAME_UNEXPECTED', 'the date read got no registers');
      const ms = scaDateMs(rep.kind === 'registers' ? rep.registers : []);
      ensure(ms !== undefined, 'FRAME_MALFORMED', 'the SCA date registers hold no date');
      return { address: unit, raw: { clock_wall_ms: ms } };
    },
  });
}

const ack = (t: ControlTarget, reg: number, what: string): ControlStep[] => [
  fc10Step(what.replace(/\W+/g, '_'), v3Unit(t), reg, [SCA.ACK], what),
];

const XZH_ONLY =
  'is documented by the XZH Modbus document only; no capture of it exists (seplos.md B2)';

export const controlV3: ControlOps = {
  readParameters: (t) =>
    parameterSession([v3Step('read_spa_a', v3Unit(t)), v3Step('read_spa_b', v3Unit(t))], v3Decode),
  writableParameters: [...SPA_WRITABLE.keys()],
  writeParameters: v3WriteParameters,
  readClock: v3ReadClock,
  setClock: (t, wallMs) => [
    fc10Step('set_date', v3Unit(t), SCA.DATE, scaDateRegisters(wallMs), 'the SCA date write'),
  ],
  restoreDefaults: (t) => ack(t, SCA.PARAMETER_RESET, 'parameter reset'),
  shutdown: (t) => ack(t, SCA.POWER_OFF, 'system power off'),
  restart: (t) => ack(t, SCA.SYSTEM_RESET, 'system reset'),
  // The service gates parameter writes per parameter.
  unverifiedParameters: Object.fromEntries(
    [...SPA_WRITABLE.keys()].map((id) => [id, `the FC 10 write to SPA ${XZH_ONLY}`]),
  ),
  unverified: {
    writeParameters: `the FC 10 write to SPA ${XZH_ONLY}`,
    readClock: `reading the SCA date ${XZH_ONLY}`,
    setClock: `the SCA date write ${XZH_ONLY}`,
    restoreDefaults: `the SCA parameter reset ${XZH_ONLY}`,
    shutdown: `the SCA power-off ${XZH_ONLY}`,
    restart: `the SCA system reset ${XZH_ONLY}`,
  },
};
