/** Reply decoding: Modbus validation, then the register window through the variant's map. */
import { BmsError, makeAlarm, type Alarm, type Reading, type RunState } from '@openbms/core';
import type { DecodeOptions } from '../types.js';
import { parseModbusReply } from '../modbus-rtu/codec.js';
import { parseModbusRequestLoose } from '../modbus-rtu/requests.js';
import { isD2, isP81Reply, P81_REPLY_OFFSET } from './blocks.js';
import {
  FAULT_BITS,
  MAPS,
  P81_FAULT_WORDS,
  VARIANTS,
  type Conv,
  type Field,
  type StatusMap,
  type Variant,
} from './registers.js';

export const SOURCE = 'daly-modbus';
const STATES: readonly RunState[] = ['idle', 'charging', 'discharging'];
const HEX = '0123456789abcdef';
/** Reads of at most this many registers also report raw.register_start / raw.registers_u16. */
const SHORT_READ = 16;

function within(reg: number, start: number, end: number): boolean {
  return reg >= start && reg < end;
}

function convert(v: number, c: Conv): number | boolean {
  switch (c) {
    case 'u':
      return v;
    case 'x10':
      return v / 10;
    case 'temp':
      return v - 40;
    case 'cur':
      return (v - 30000) / 10;
    case 'cur_mag':
      return Math.abs(v - 30000) / 10;
    case 'milli_off':
      return (v - 30000) / 1000;
    case 'bool':
      return v !== 0;
  }
}

function put(r: Reading, raw: Record<string, unknown>, fd: Field, v: number): void {
  const x = convert(v, fd.conv);
  if (fd.raw) raw[fd.key] = x;
  else (r as Record<string, unknown>)[fd.key] = x;
}

function hexWords(regs: readonly number[], from: number, n: number): string {
  let s = '';
  for (let i = from; i < from + n; i++) {
    const w = regs[i]!;
    s += HEX[(w >> 12) & 15]! + HEX[(w >> 8) & 15]! + HEX[(w >> 4) & 15]! + HEX[w & 15]!;
  }
  return s;
}

/** The four D2 alarm registers: fault byte 2k is the low half of register k, 2k+1 the high half. */
function decodeFaults(regs: readonly number[], i: number, raw: Record<string, unknown>): Alarm[] {
  const faults: string[] = [];
  const alarms: Alarm[] = [];
  for (let byte = 0; byte < 7; byte++) {
    const w = regs[i + (byte >> 1)]!;
    const b = byte & 1 ? w >> 8 : w & 0xff;
    if (b === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if (!(b & (1 << bit))) continue;
      const def = FAULT_BITS[byte * 8 + bit];
      if (!def) {
        faults.push(`reserved_${byte}_${bit}`);
        continue;
      }
      faults.push(def[0]);
      alarms.push(
        makeAlarm(
          def[1],
          def[2] === undefined ? { source: def[0] } : { level: def[2], source: def[0] },
        ),
      );
    }
  }
  const code = regs[i + 3]! >> 8;
  if (code !== 0) {
    raw.fault_code = code;
    alarms.push(makeAlarm('fault_other', { source: `fault_code_${code}` }));
  }
  raw.alarm_registers_hex = hexWords(regs, i, 4);
  raw.faults = faults;
  return alarms;
}

/** NUL- or 0xFF-separated printable ASCII strings of a version block. */
function asciiStrings(data: Uint8Array): string[] {
  const out: string[] = [];
  let s = '';
  for (const c of data) {
    if (c === 0 || c === 0xff) {
      if (s.trim()) out.push(s.trim());
      s = '';
    } else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
  }
  if (s.trim()) out.push(s.trim());
  return out;
}

/**
 * Decodes registers start..start+regs.length-1 through a variant's map: every field whose
 * register lies in the window is reported, 0xFFFF ("not supported") is skipped.
 */
export function decodeWindow(
  variant: Variant,
  start: number,
  regs: readonly number[],
  data: Uint8Array,
  opts: DecodeOptions,
): Reading {
  const map: StatusMap = MAPS[variant];
  const end = start + regs.length;
  const r: Reading = {};
  const raw: Record<string, unknown> = {};

  for (const fd of map.fields) {
    if (fd.reg < start || fd.reg >= end) continue;
    const v = regs[fd.reg - start]!;
    if (v === 0xffff && !fd.keepFfff) continue;
    put(r, raw, fd, v);
  }

  let current: number | undefined;
  if (within(map.currentReg, start, end) && regs[map.currentReg - start] !== 0xffff) {
    const c = (regs[map.currentReg - start]! - 30000) / 10;
    current = opts.invertCurrent ? -c : c;
    if (current === 0) current = 0; // no -0
    r.current_a = current;
  }
  if (within(map.powerReg, start, end) && regs[map.powerReg - start] !== 0xffff) {
    const p = regs[map.powerReg - start]!;
    raw.power_w = p;
    // The register is a magnitude; the sign comes from the current (+ = charging).
    if (current !== undefined) r.power_w = current < 0 && p !== 0 ? -p : p;
  }
  if (within(map.stateReg, start, end)) {
    const s = regs[map.stateReg - start]!;
    raw.state_code = s;
    const st = STATES[s];
    if (st) r.state = st;
  }
  if (within(map.balancerStateReg, start, end) && regs[map.balancerStateReg - start] !== 0xffff) {
    const b = regs[map.balancerStateReg - start]!;
    raw.balancer_state = b;
    r.balancing = b !== 0;
  }

  // Cells and temperatures: counts from the count registers (or the caller), never guessed.
  const cellCount = within(map.cellCountReg, start, end)
    ? regs[map.cellCountReg - start]!
    : opts.cells;
  if (
    cellCount !== undefined &&
    cellCount >= 1 &&
    cellCount <= map.cellSlots &&
    within(map.cellBase, start, end) &&
    within(map.cellBase + cellCount - 1, start, end)
  ) {
    const cells = new Array<number>(cellCount);
    for (let i = 0; i < cellCount; i++) cells[i] = regs[map.cellBase + i - start]!;
    r.cell_mv = cells;
  }
  const tempCount = within(map.tempCountReg, start, end)
    ? regs[map.tempCountReg - start]!
    : opts.tempSensors;
  if (
    tempCount !== undefined &&
    tempCount >= 1 &&
    tempCount <= map.tempSlots &&
    within(map.tempBase, start, end) &&
    within(map.tempBase + tempCount - 1, start, end)
  ) {
    const temps = new Array<number>(tempCount);
    for (let i = 0; i < tempCount; i++) temps[i] = regs[map.tempBase + i - start]! - 40;
    r.temps_c = temps;
  }

  if (
    map.alarmReg !== undefined &&
    within(map.alarmReg, start, end) &&
    within(map.alarmReg + 3, start, end)
  ) {
    r.alarms = decodeFaults(regs, map.alarmReg - start, raw);
  }
  if (variant === 'p81') {
    for (const w of P81_FAULT_WORDS) {
      if (within(w.reg, start, end) && within(w.reg + w.count - 1, start, end))
        raw[w.key] = hexWords(regs, w.reg - start, w.count);
    }
  }

  // Settings block.
  if (end > map.settingsBase && start < map.settingsBase + 0x29) {
    for (const fd of map.settings) {
      if (fd.reg < start || fd.reg >= end) continue;
      const v = regs[fd.reg - start]!;
      if (v === 0xffff) continue;
      put(r, raw, fd, v);
    }
    if (typeof raw.rated_capacity_ah === 'number') r.design_ah = raw.rated_capacity_ah;
    const bt = raw.battery_type_code;
    if (typeof bt === 'number' && bt <= 2) raw.battery_type = (['lfp', 'nmc', 'lto'] as const)[bt];
  }

  // Version strings (whole block only: the field widths differ between firmware).
  if (start === map.versionReg && regs.length >= map.versionCount) {
    const strings = asciiStrings(data);
    raw.version_strings = strings;
    const info: NonNullable<Reading['info']> = {};
    if (strings[0]) info.sw_version = strings[0];
    if (strings[1]) info.hw_version = strings[1];
    if (variant === 'p81') {
      if (strings[2]) info.serial = strings[2];
      if (strings[3]) info.manufacture_date = strings[3];
    }
    r.info = info;
  }

  if (regs.length <= SHORT_READ) {
    raw.register_start = start;
    raw.registers_u16 = regs.slice();
  }
  r.raw = raw;
  return r;
}

function fail(
  code:
    | 'FRAME_MALFORMED'
    | 'FRAME_UNEXPECTED'
    | 'FRAME_TRUNCATED'
    | 'DECODE_CONTEXT_MISSING'
    | 'DECODE_UNSUPPORTED'
    | 'VARIANT_UNKNOWN',
  message: string,
): never {
  throw new BmsError(code, message);
}

const hx = (n: number): string => `0x${n.toString(16)}`;

/** Validates one reply frame and decodes it. Exceptions throw DEVICE_ERROR_REPLY. */
export function decodeDalyModbus(bytes: Uint8Array, opts: DecodeOptions = {}): Reading {
  // Checks are written as `if (!ok) fail(...)` so no message string is built on the hot path.
  if (bytes.length < 5)
    fail('FRAME_TRUNCATED', `DALY Modbus reply of ${bytes.length} bytes is too short`);
  const unit = bytes[0]!;
  if (!isD2(unit) && !isP81Reply(unit))
    fail('FRAME_MALFORMED', `${hx(unit)} is not a DALY reply unit (0xD2 or 0x51..0x5F)`);
  const rep = parseModbusReply(bytes);
  let variant: Variant = isD2(unit) ? 'd2' : 'p81';
  if (opts.variant !== undefined) {
    if (opts.variant !== 'd2' && opts.variant !== 'p81')
      fail(
        'VARIANT_UNKNOWN',
        `unknown DALY Modbus variant "${opts.variant}" (${VARIANTS.join(', ')})`,
      );
    variant = opts.variant;
  }
  const address = isD2(unit) ? unit : unit + P81_REPLY_OFFSET;
  if (rep.kind === 'exception') {
    throw new BmsError(
      'DEVICE_ERROR_REPLY',
      `DALY BMS ${hx(address)} answered function ${hx(rep.fn)} with Modbus exception ${rep.exceptionCode} (${rep.exception})`,
      {
        exception_code: rep.exceptionCode,
      },
    );
  }
  let reqStart: number | undefined;
  if (opts.request) {
    const req = parseModbusRequestLoose(opts.request);
    if (req.unit !== address)
      fail(
        'FRAME_UNEXPECTED',
        `reply from unit ${hx(unit)} does not answer a request to ${hx(req.unit)}`,
      );
    if (req.fn !== rep.fn)
      fail(
        'FRAME_UNEXPECTED',
        `reply function ${hx(rep.fn)} does not answer function ${hx(req.fn)}`,
      );
    if (rep.kind === 'registers' && req.count !== rep.registers.length) {
      fail(
        'FRAME_UNEXPECTED',
        `reply has ${rep.registers.length} registers, the request asked for ${String(req.count)}`,
      );
    }
    reqStart = req.start;
  }
  if (rep.kind === 'write_single') {
    return { address, raw: { write_ack: true, register_start: rep.start, value: rep.value } };
  }
  if (rep.kind === 'write_multiple') {
    return {
      address,
      raw: { write_ack: true, register_start: rep.start, register_count: rep.count },
    };
  }
  if (rep.fn !== 0x03)
    fail('DECODE_UNSUPPORTED', `DALY replies use function 0x03, not ${hx(rep.fn)}`);
  if (rep.byteCount % 2 !== 0)
    fail('FRAME_MALFORMED', `register reply byte count ${rep.byteCount} is odd`);
  let start = reqStart;
  if (start === undefined) {
    const n = rep.registers.length;
    const full = variant === 'd2' ? n === 62 || n === 80 : n === 64;
    if (!full)
      fail(
        'DECODE_CONTEXT_MISSING',
        `a ${n}-register DALY reply needs the request to know its start register`,
      );
    start = 0;
  }
  const r = decodeWindow(variant, start, rep.registers, rep.data, opts);
  r.address = address;
  return r;
}
