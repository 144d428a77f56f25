/**
 * Reply decoders. `decodeDaly` validates the whole reply (every 13-byte frame: marker,
 * length byte, checksum; one data id throughout) and dispatches on the data id. Offsets in
 * the field comments are within the 8-byte data field (frame offset = 4 + data offset).
 */
import { BmsError, ensure, round, type Reading, type RunState } from '@openbms/core';
import { ByteReader } from '../util/bytes.js';
import type { DecodeOptions } from '../types.js';
import { checkFrames, DATA, FRAME_LEN, hex2 } from './frame.js';
import { ID } from './commands.js';
import { decodeFaults } from './faults.js';

/** Hardware limits used to cap counts (the spec: 16 cell frames x 3, 3 sensor frames x 7). */
export const MAX_CELLS = 48;
export const MAX_CELL_FRAMES = 16;
export const MAX_TEMPS = 21;
export const MAX_TEMP_FRAMES = 3;
export const CELLS_PER_FRAME = 3;
export const TEMPS_PER_FRAME = 7;

const STATES: readonly RunState[] = ['idle', 'charging', 'discharging'];

/** Decodes one whole DALY A5 reply (one frame, or the frames of a 0x95/0x96 reply). */
export function decodeDaly(bytes: Uint8Array, opts: DecodeOptions = {}): Reading {
  const frames = checkFrames(bytes);
  const id = bytes[2]!;
  for (let f = 1; f < frames; f++) {
    const other = bytes[f * FRAME_LEN + 2]!;
    ensure(
      other === id,
      'FRAME_MALFORMED',
      `DALY A5 reply mixes data ids 0x${hex2(id)} and 0x${hex2(other)} (frame ${f + 1})`,
    );
  }
  if (id === ID.CELLS) return decodeCells(bytes, frames, opts);
  if (id === ID.TEMPS) return decodeTemps(bytes, frames, opts);
  ensure(
    frames === 1,
    'FRAME_MALFORMED',
    `DALY A5 reply to 0x${hex2(id)} is one frame, got ${frames}`,
  );
  const r = new ByteReader(bytes);
  switch (id) {
    case ID.PACK:
      return decodePack(r, opts);
    case ID.CELL_RANGE:
      return decodeCellRange(r);
    case ID.TEMP_RANGE:
      return decodeTempRange(r);
    case ID.MOS:
      return decodeMos(r);
    case ID.STATUS:
      return decodeStatus(r);
    case ID.BALANCE:
      return decodeBalance(r, opts);
    case ID.FAULTS:
      return decodeFaultFrame(bytes);
    case ID.DSG_MOS:
    case ID.CHG_MOS:
      return decodeMosAck(r, id);
    case ID.SET_SOC:
      return {
        raw: {
          data_id: id,
          command: 'set_soc',
          success: r.u8(DATA) === 1,
          ack_hex: dataHex(bytes, 0),
        },
      };
    case ID.RESTART:
      return { raw: { data_id: id, command: 'restart', ack_hex: dataHex(bytes, 0) } };
    default:
      throw new BmsError('DECODE_UNSUPPORTED', `DALY A5 data id 0x${hex2(id)} has no decoder`);
  }
}

/** 0x90: 0 u16 pack V (0.1 V), 2 u16 acquisition V (0.1 V), 4 u16 current (30000 offset, 0.1 A), 6 u16 SOC (0.1 %). */
function decodePack(r: ByteReader, opts: DecodeOptions): Reading {
  const voltage = r.u16be(DATA) / 10;
  const currentRaw = r.u16be(DATA + 4);
  // Raw above 30000 was observed while the BMS reported "discharging": + = charging is 30000 - raw.
  let current = round((30000 - currentRaw) / 10, 1);
  if (opts.invertCurrent && current !== 0) current = -current;
  return {
    voltage_v: voltage,
    current_a: current,
    power_w: round(voltage * current, 2),
    soc_pct: r.u16be(DATA + 6) / 10,
    raw: {
      data_id: ID.PACK,
      acquisition_voltage_v: r.u16be(DATA + 2) / 10,
      current_raw: currentRaw,
    },
  };
}

/** 0x91: 0 u16 max cell mV, 2 u8 its cell, 3 u16 min cell mV, 5 u8 its cell, 6..7 reserved. */
function decodeCellRange(r: ByteReader): Reading {
  return {
    max_cell_mv: r.u16be(DATA),
    max_cell_index: r.u8(DATA + 2),
    min_cell_mv: r.u16be(DATA + 3),
    min_cell_index: r.u8(DATA + 5),
    raw: { data_id: ID.CELL_RANGE },
  };
}

/** 0x92: 0 u8 max temp (raw - 40), 1 u8 its sensor, 2 u8 min temp, 3 u8 its sensor, 4..7 reserved. */
function decodeTempRange(r: ByteReader): Reading {
  return {
    max_temp_c: r.u8(DATA) - 40,
    min_temp_c: r.u8(DATA + 2) - 40,
    raw: { data_id: ID.TEMP_RANGE, max_temp_index: r.u8(DATA + 1), min_temp_index: r.u8(DATA + 3) },
  };
}

/** 0x93: 0 u8 state, 1 u8 charge MOS, 2 u8 discharge MOS, 3 u8 rolling "life" counter, 4 u32 remaining mAh. */
function decodeMos(r: ByteReader): Reading {
  const stateCode = r.u8(DATA);
  const out: Reading = {
    charge_mos: r.u8(DATA + 1) !== 0,
    discharge_mos: r.u8(DATA + 2) !== 0,
    remaining_ah: r.u32be(DATA + 4) / 1000,
    raw: { data_id: ID.MOS, state_code: stateCode, bms_life_cycles: r.u8(DATA + 3) },
  };
  const state = STATES[stateCode];
  if (state) out.state = state;
  return out;
}

/** 0x94: 0 u8 cells, 1 u8 sensors, 2 u8 charger, 3 u8 load, 4 u8 DIO bits, 5 u16 cycles, 7 reserved. */
function decodeStatus(r: ByteReader): Reading {
  const cells = r.u8(DATA);
  const sensors = r.u8(DATA + 1);
  ensure(
    cells <= MAX_CELLS,
    'FRAME_MALFORMED',
    `0x94 reports ${cells} cells; the protocol carries at most ${MAX_CELLS}`,
  );
  ensure(
    sensors <= MAX_TEMPS,
    'FRAME_MALFORMED',
    `0x94 reports ${sensors} temperature sensors; the protocol carries at most ${MAX_TEMPS}`,
  );
  return {
    cell_count: cells,
    temp_sensor_count: sensors,
    charger_connected: r.u8(DATA + 2) !== 0,
    load_connected: r.u8(DATA + 3) !== 0,
    cycles: r.u16be(DATA + 5),
    raw: { data_id: ID.STATUS, dio_bits: r.u8(DATA + 4) },
  };
}

function countOption(value: number | undefined, max: number, name: string): number | undefined {
  if (value === undefined) return undefined;
  ensure(
    Number.isInteger(value) && value >= 0 && value <= max,
    'INVALID_ARGUMENT',
    `${name} must be an integer 0..${max} (got ${String(value)})`,
  );
  return value;
}

/**
 * Collects the 1-based frame numbers of a multi-frame reply; rejects numbers out of
 * 1..maxFrames and duplicates. Returns the frame numbers in arrival order.
 */
function frameNumbers(
  bytes: Uint8Array,
  frames: number,
  maxFrames: number,
  what: string,
): number[] {
  ensure(
    frames <= maxFrames,
    'FRAME_MALFORMED',
    `${what} reply has ${frames} frames; the protocol sends at most ${maxFrames}`,
  );
  const numbers: number[] = [];
  let seen = 0;
  for (let f = 0; f < frames; f++) {
    const n = bytes[f * FRAME_LEN + DATA]!;
    ensure(
      n >= 1 && n <= maxFrames,
      'FRAME_MALFORMED',
      `${what} frame ${f + 1} has frame number ${n}; expected 1..${maxFrames} (numbering is 1-based on real devices)`,
    );
    ensure((seen & (1 << n)) === 0, 'FRAME_MALFORMED', `${what} reply repeats frame number ${n}`);
    seen |= 1 << n;
    numbers.push(n);
  }
  return numbers;
}

/** Index of the frame with number n, or -1. */
function findFrame(numbers: readonly number[], n: number): number {
  for (let i = 0; i < numbers.length; i++) if (numbers[i] === n) return i;
  return -1;
}

/**
 * 0x95: per frame 0 u8 frame number (1-based), 1/3/5 u16 cell mV (cells 3k+1..3k+3), 7 reserved.
 * With opts.cells the frames 1..ceil(cells/3) must all be present and slots beyond the
 * count are dropped. Without it only a reply of frame 1 alone decodes (its three cells
 * exist on every DALY pack, 3S being the smallest); anything else needs the count.
 */
function decodeCells(bytes: Uint8Array, frames: number, opts: DecodeOptions): Reading {
  const numbers = frameNumbers(bytes, frames, MAX_CELL_FRAMES, '0x95');
  const cellsOpt = countOption(opts.cells, MAX_CELLS, 'cells');
  let cells: number;
  if (cellsOpt === undefined) {
    ensure(
      frames === 1 && numbers[0] === 1,
      'DECODE_CONTEXT_MISSING',
      '0x95 cell voltages need the cell count from the 0x94 reply (decode option cells, CLI flag --cells)',
    );
    cells = CELLS_PER_FRAME;
  } else {
    cells = cellsOpt;
  }
  const mv = new Array<number>(cells);
  const needed = Math.ceil(cells / CELLS_PER_FRAME);
  for (let n = 1; n <= needed; n++) {
    const i = findFrame(numbers, n);
    ensure(
      i >= 0,
      'FRAME_TRUNCATED',
      `0x95 reply lacks frame ${n}: ${cells} cells need frames 1..${needed}`,
    );
    const o = i * FRAME_LEN + DATA + 1;
    for (let s = 0; s < CELLS_PER_FRAME; s++) {
      const cell = (n - 1) * CELLS_PER_FRAME + s;
      if (cell >= cells) break;
      mv[cell] = (bytes[o + 2 * s]! << 8) | bytes[o + 2 * s + 1]!;
    }
  }
  const raw: Record<string, unknown> = { data_id: ID.CELLS, frame_numbers: numbers };
  if (cellsOpt === undefined) raw.cell_count_unknown = true;
  const out: Reading = { cell_mv: mv, raw };
  if (cellsOpt !== undefined) out.cell_count = cells;
  return out;
}

/**
 * 0x96: per frame 0 u8 frame number (1-based), 1..7 u8 temperatures (raw - 40 degC).
 * Needs opts.tempSensors: unused slots read 0 (= -40 degC) and cannot be told from a real
 * sensor at -40 degC, so there is no context-free fallback.
 */
function decodeTemps(bytes: Uint8Array, frames: number, opts: DecodeOptions): Reading {
  const numbers = frameNumbers(bytes, frames, MAX_TEMP_FRAMES, '0x96');
  const sensors = countOption(opts.tempSensors, MAX_TEMPS, 'tempSensors');
  ensure(
    sensors !== undefined,
    'DECODE_CONTEXT_MISSING',
    '0x96 temperatures need the sensor count from the 0x94 reply (decode option tempSensors, CLI flag --temp-sensors)',
  );
  const temps = new Array<number>(sensors);
  const needed = Math.ceil(sensors / TEMPS_PER_FRAME);
  for (let n = 1; n <= needed; n++) {
    const i = findFrame(numbers, n);
    ensure(
      i >= 0,
      'FRAME_TRUNCATED',
      `0x96 reply lacks frame ${n}: ${sensors} sensors need frames 1..${needed}`,
    );
    const o = i * FRAME_LEN + DATA + 1;
    for (let s = 0; s < TEMPS_PER_FRAME; s++) {
      const t = (n - 1) * TEMPS_PER_FRAME + s;
      if (t >= sensors) break;
      temps[t] = bytes[o + s]! - 40;
    }
  }
  return {
    temps_c: temps,
    temp_sensor_count: sensors,
    raw: { data_id: ID.TEMPS, frame_numbers: numbers },
  };
}

/**
 * 0x97: 64 bits, cells 1..48 on bits 0..47. Read literally, like the 0x98 bitmap of the
 * same document: cell 1 = bit 0 (LSB) of data byte 0, cell 8 = bit 7 of byte 0, cell 9 =
 * bit 0 of byte 1... Unverified on hardware (see README); raw.balance_bits_hex keeps the
 * bytes for re-interpretation.
 */
function decodeBalance(r: ByteReader, opts: DecodeOptions): Reading {
  const cells = countOption(opts.cells, MAX_CELLS, 'cells');
  const limit = cells ?? MAX_CELLS;
  let any = false;
  for (let c = 0; c < limit; c++) {
    if (r.u8(DATA + (c >> 3)) & (1 << (c & 7))) {
      any = true;
      break;
    }
  }
  const out: Reading = {
    balancing: any,
    raw: { data_id: ID.BALANCE, balance_bits_hex: dataHex(r.bytes, 0) },
  };
  if (cells !== undefined) {
    const flags = new Array<boolean>(cells);
    for (let c = 0; c < cells; c++) flags[c] = (r.u8(DATA + (c >> 3)) & (1 << (c & 7))) !== 0;
    out.cell_balancing = flags;
  }
  return out;
}

/** 0x98: bytes 0..6 flags, byte 7 fault code. */
function decodeFaultFrame(bytes: Uint8Array): Reading {
  const d = decodeFaults(bytes, DATA);
  const raw: Record<string, unknown> = {
    data_id: ID.FAULTS,
    alarms: d.ids,
    fault_code: bytes[DATA + 7]!,
  };
  if (d.reserved.length > 0) raw.reserved_bits = d.reserved;
  return { alarms: d.alarms, raw };
}

/** 0xD9 / 0xDA acknowledgement: data byte 0 echoes the new MOSFET state. */
function decodeMosAck(r: ByteReader, id: number): Reading {
  const state = r.u8(DATA);
  const command = id === ID.DSG_MOS ? 'set_discharge_mos' : 'set_charge_mos';
  const out: Reading = { raw: { data_id: id, command, state, ack_hex: dataHex(r.bytes, 0) } };
  if (state === 0 || state === 1) {
    if (id === ID.DSG_MOS) out.discharge_mos = state === 1;
    else out.charge_mos = state === 1;
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => hex2(i));

/** The 8 data bytes of the frame at `start` as lowercase hex. */
function dataHex(bytes: Uint8Array, start: number): string {
  let s = '';
  for (let i = start + DATA; i < start + DATA + 8; i++) s += HEX[bytes[i]!];
  return s;
}
