/** Decoders of JBD replies (device -> host). Pure; throws only BmsError. */
import { BmsError, ensure, makeAlarm, type Alarm, type Reading } from '@openbms/core';
import { ByteReader, bytesToHex } from '../util/bytes.js';
import type { DecodeOptions } from '../types.js';
import { checkFrame, READ, START, STATUS_OK, WRITE } from './frame.js';
import { fieldValue, fieldsOf, registerRaw } from './eeprom.js';
import {
  BALANCE_BITS,
  BASIC,
  ERROR_COUNTERS,
  MAX_CELLS,
  MAX_NTC,
  PROTECTION_BITS,
  REG,
} from './fields.js';

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');
const pad2 = (v: number): string => (v < 10 ? '0' : '') + v;

/** Validates and decodes one whole reply frame. */
export function decodeReply(bytes: Uint8Array, opts: DecodeOptions = {}): Reading {
  const len = checkFrame(bytes, 'reply');
  const register = bytes[1]!;
  const status = bytes[2]!;
  ensure(
    register !== READ && register !== WRITE,
    'FRAME_MALFORMED',
    'this is a JBD request (0xa5/0x5a), not a reply',
  );
  const req = opts.request;
  if (req && req.length >= 4 && req[0] === START && (req[1] === READ || req[1] === WRITE)) {
    ensure(
      req[2] === register,
      'FRAME_UNEXPECTED',
      `reply to register 0x${hex2(register)} does not answer the request for register 0x${hex2(req[2]!)}`,
    );
  }
  if (status !== STATUS_OK) {
    throw new BmsError(
      'DEVICE_ERROR_REPLY',
      `JBD device refused register 0x${hex2(register)} (status 0x${hex2(status)})`,
      {
        register,
        status,
      },
    );
  }
  const data = new ByteReader(bytes.subarray(4, 4 + len));
  switch (register) {
    case REG.BASIC_INFO:
      return decodeBasicInfo(data, opts);
    case REG.CELL_VOLTAGES:
      return decodeCellVoltages(data, opts);
    case REG.HARDWARE_VERSION:
      return decodeHardwareVersion(data);
    case REG.ERROR_COUNTERS:
      return decodeErrorCounters(data);
    case REG.PARAM_BLOCK:
      return decodeParamBlock(data);
  }
  const raw: Record<string, unknown> = { status, register, payload_hex: bytesToHex(data.bytes) };
  // Write acknowledgements: an empty OK reply of the register written.
  if (data.length === 0) return { raw };
  if (fieldsOf(register).length > 0) {
    ensure(
      data.length === 2,
      'FRAME_MALFORMED',
      `JBD EEPROM register 0x${hex2(register)} reply carries ${data.length} bytes, not 2`,
    );
    Object.assign(raw, registerRaw(register, data.u16be(0)));
    return { raw };
  }
  if (register >= 0xa0 && register <= 0xa2) {
    // Length-prefixed ASCII; bytes after the string may be stale.
    const n = Math.min(data.u8(0), data.length - 1);
    raw.text = data.ascii(1, n);
    return { raw };
  }
  throw new BmsError('DECODE_UNSUPPORTED', `JBD register 0x${hex2(register)} has no decoder`, {
    register,
  });
}

/** 0xFA: start parameter number, count, count x uint16 (numbers 0..39 = registers 0x10..). */
function decodeParamBlock(d: ByteReader): Reading {
  const start = d.u16be(0);
  const count = d.u8(2);
  const raw: Record<string, unknown> = {
    status: 0,
    register: REG.PARAM_BLOCK,
    param_start: start,
    param_count: count,
  };
  // A write acknowledgement repeats only the number and the count.
  if (d.length === 3) return { raw };
  ensure(
    d.length === 3 + 2 * count,
    'FRAME_MALFORMED',
    `JBD 0xFA reply announces ${count} values in ${d.length - 3} bytes`,
  );
  const values = Array.from({ length: count }, (_, i) => d.u16be(3 + 2 * i));
  raw.param_values = values;
  values.forEach((word, i) => {
    const n = start + i;
    // Numbers 0..39 carry the quantities of registers 0x10..0x37 (jbd.md 7.6, uncertain).
    if (n < 40) {
      for (const f of fieldsOf(0x10 + n))
        if (f.kind === 'u16' || f.kind === 'i16') raw[f.key] = fieldValue(f, word);
    }
  });
  return { raw };
}

/** "YYYY-MM-DD" from the packed date word. */
export function formatDate(word: number): { text: string; valid: boolean } {
  const day = word & 0x1f;
  const month = (word >> 5) & 0x0f;
  const year = 2000 + (word >> 9);
  return {
    text: `${year}-${pad2(month)}-${pad2(day)}`,
    valid: month >= 1 && month <= 12 && day >= 1,
  };
}

/** Protection bits -> protocol identifiers (bit order) and taxonomy alarms. */
export function protectionAlarms(bits: number): { ids: string[]; alarms: Alarm[] } {
  const ids: string[] = [];
  const alarms: Alarm[] = [];
  for (let b = 0; bits !== 0 && b < PROTECTION_BITS.length; b++) {
    if (!(bits & (1 << b))) continue;
    const p = PROTECTION_BITS[b]!;
    ids.push(p.id);
    if (p.alarm) alarms.push(makeAlarm(p.alarm, { source: p.id }));
  }
  return { ids, alarms };
}

function decodeBasicInfo(d: ByteReader, opts: DecodeOptions): Reading {
  ensure(
    d.length >= BASIC.fixedLength,
    'FRAME_TRUNCATED',
    `JBD 0x03 record of ${d.length} bytes is shorter than ${BASIC.fixedLength}`,
  );
  const cells = d.u8(BASIC.cells);
  const ntc = d.u8(BASIC.ntcCount);
  ensure(
    cells <= MAX_CELLS,
    'FRAME_MALFORMED',
    `JBD 0x03 cell count ${cells} exceeds ${MAX_CELLS}`,
  );
  ensure(ntc <= MAX_NTC, 'FRAME_MALFORMED', `JBD 0x03 NTC count ${ntc} exceeds ${MAX_NTC}`);
  const tempsEnd = BASIC.temps + 2 * ntc;
  ensure(
    d.length >= tempsEnd,
    'FRAME_TRUNCATED',
    `JBD 0x03 record announces ${ntc} NTC values but has room for ${Math.floor((d.length - BASIC.temps) / 2)}`,
  );

  const voltage = d.u16be(BASIC.voltage) / 100;
  let current = d.i16be(BASIC.current) / 100;
  if (opts.invertCurrent && current !== 0) current = -current;
  const nominal = d.u16be(BASIC.nominal) / 100;
  const date = formatDate(d.u16be(BASIC.date));
  const balLow = d.u16be(BASIC.balanceLow);
  const balHigh = d.u16be(BASIC.balanceHigh);
  const protection = d.u16be(BASIC.protection);
  const sw = d.u8(BASIC.software);
  const fet = d.u8(BASIC.fet);
  const software = `${sw >> 4}.${sw & 0x0f}`;

  const balancing: boolean[] = new Array<boolean>(Math.min(cells, BALANCE_BITS));
  for (let i = 0; i < balancing.length; i++) {
    balancing[i] = i < 16 ? (balLow & (1 << i)) !== 0 : (balHigh & (1 << (i - 16))) !== 0;
  }
  const temps: number[] = new Array<number>(ntc);
  for (let i = 0; i < ntc; i++) temps[i] = (d.u16be(BASIC.temps + 2 * i) - 2731) / 10;

  const { ids, alarms } = protectionAlarms(protection);
  const power = Math.round(voltage * current * 100) / 100;

  const raw: Record<string, unknown> = {
    status: 0,
    register: REG.BASIC_INFO,
    nominal_capacity_ah: nominal,
    production_date: date.text,
    balance_bits_low: balLow,
    balance_bits_high: balHigh,
    protection_bits: protection,
    alarms: ids,
    software_version: software,
    fet_bits: fet,
    ntc_count: ntc,
  };
  if (d.length > tempsEnd) raw.extra_bytes_hex = bytesToHex(d.bytes.subarray(tempsEnd));

  const info: Reading['info'] = { sw_version: software };
  if (date.valid) info.manufacture_date = date.text;

  return {
    voltage_v: voltage,
    current_a: current,
    power_w: power === 0 ? 0 : power,
    remaining_ah: d.u16be(BASIC.remaining) / 100,
    design_ah: nominal,
    cycles: d.u16be(BASIC.cycles),
    soc_pct: d.u8(BASIC.soc),
    cell_count: cells,
    cell_balancing: balancing,
    balancing: (balLow | balHigh) !== 0,
    temp_sensor_count: ntc,
    temps_c: temps,
    charge_mos: (fet & 0x01) !== 0,
    discharge_mos: (fet & 0x02) !== 0,
    alarms,
    info,
    raw,
  };
}

function decodeCellVoltages(d: ByteReader, opts: DecodeOptions): Reading {
  ensure(d.length % 2 === 0, 'FRAME_MALFORMED', `JBD 0x04 record has an odd length (${d.length})`);
  let count = d.length / 2;
  ensure(
    count <= MAX_CELLS,
    'FRAME_MALFORMED',
    `JBD 0x04 record carries ${count} cells, more than ${MAX_CELLS}`,
  );
  // Unconnected cells read 0: the count of record 0x03 decides, when known.
  if (opts.cells !== undefined && opts.cells >= 0 && opts.cells < count) count = opts.cells;
  const cells: number[] = new Array<number>(count);
  for (let i = 0; i < count; i++) cells[i] = d.u16be(2 * i);
  return { cell_mv: cells, raw: { status: 0, register: REG.CELL_VOLTAGES } };
}

function decodeHardwareVersion(d: ByteReader): Reading {
  const text = d.ascii(0, d.length);
  const r: Reading = { raw: { status: 0, register: REG.HARDWARE_VERSION, hardware_version: text } };
  // The vendor calls the register "hardware version"; what it holds is the model string.
  if (text) r.info = { model: text, hw_version: text };
  return r;
}

function decodeErrorCounters(d: ByteReader): Reading {
  const need = 2 * ERROR_COUNTERS.length;
  ensure(
    d.length >= need,
    'FRAME_TRUNCATED',
    `JBD 0xAA record of ${d.length} bytes is shorter than ${need}`,
  );
  const counters: number[] = [];
  const byName: Record<string, number> = {};
  for (let i = 0; i < ERROR_COUNTERS.length; i++) {
    const v = d.u16be(2 * i);
    counters.push(v);
    byName[ERROR_COUNTERS[i]!] = v;
  }
  return {
    raw: {
      status: 0,
      register: REG.ERROR_COUNTERS,
      error_counters: counters,
      error_counts: byName,
      trailing_hex: bytesToHex(d.bytes.subarray(need)),
    },
  };
}
