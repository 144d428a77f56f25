/**
 * Decoders of the 300-byte `55 AA EB 90` records (cell info, settings, device info), and of
 * the JK-PB RS485 reply shape: record + 0x00 + the Modbus FC 0x10 ACK of the addressed unit.
 */
import { BmsError, ensure, makeAlarm, type Alarm, type Reading } from '@openbms/core';
import { ByteReader } from '../util/bytes.js';
import { crc16Modbus, sum8 } from '../util/checksum.js';
import {
  ALARM_BITS,
  BATTERY_TYPES,
  CELL_INFO,
  CHARGE_STATUS,
  DEVICE_INFO_TEXT,
  FEATURE_BITS,
  LAYOUTS,
  PB_TRIGGERS,
  RECORD_CELL_INFO,
  RECORD_DEVICE_INFO,
  RECORD_LENGTH,
  RECORD_LENGTH_PADDED,
  RECORD_SETTINGS,
  SETTINGS,
  type Layout,
} from './fields.js';

/** Rounds to `d` decimals (scaled integers only need it to drop float noise). */
function rnd(x: number, d: number): number {
  const f = 10 ** d;
  const r = Math.round(x * f) / f;
  return r === 0 ? 0 : r;
}

const HEX8 = '00000000';
function hex(v: number, digits: number): string {
  const s = (v >>> 0).toString(16);
  return s.length >= digits ? s : HEX8.slice(0, digits - s.length) + s;
}

export function isRecordHeader(b: Uint8Array, i = 0): boolean {
  return b[i] === 0x55 && b[i + 1] === 0xaa && b[i + 2] === 0xeb && b[i + 3] === 0x90;
}

/** Resolves opts.variant to a record layout; undefined when none was given. */
export function layoutOf(variant: string | undefined): Layout | undefined {
  if (variant === undefined) return undefined;
  const v = variant.toUpperCase();
  for (const l of LAYOUTS) if (l === v) return l;
  return undefined;
}

/** The FC 0x10 ACK a JK-PB unit sends after a triggered record, if `b[o..o+8)` is one. */
export function parseAck(b: Uint8Array, o: number): { unit: number; register: number } | undefined {
  if (o + 8 > b.length || b[o + 1] !== 0x10) return undefined;
  const crc = crc16Modbus(b, o, o + 6);
  if ((b[o + 6]! | (b[o + 7]! << 8)) !== crc) return undefined;
  if (b[o + 4] !== 0 || b[o + 5] !== 1) return undefined;
  return { unit: b[o]!, register: (b[o + 2]! << 8) | b[o + 3]! };
}

/**
 * Checks the envelope of one record reply and returns the RS485 ACK if the bytes carry
 * one. Accepted shapes: 300 bytes (BLE / payload only), 320 (padded BLE record), 308
 * (record + ACK), 309 (record + 0x00 + ACK, as on the wire) and 310 (+ trailing 0x00).
 */
export function checkRecord(b: Uint8Array): { unit: number; register: number } | undefined {
  ensure(
    b.length >= 4 && isRecordHeader(b),
    'FRAME_MALFORMED',
    'not a JK record: header 55 AA EB 90 missing',
  );
  if (!(b.length >= RECORD_LENGTH))
    throw new BmsError(
      'FRAME_TRUNCATED',
      `JK record needs ${RECORD_LENGTH} bytes, has ${b.length}`,
    );
  const want = sum8(b, 0, RECORD_LENGTH - 1);
  if (want !== b[RECORD_LENGTH - 1]) {
    throw new BmsError(
      'FRAME_CHECKSUM',
      `JK record checksum mismatch: byte 299 is 0x${hex(b[RECORD_LENGTH - 1]!, 2)}, sum8 is 0x${hex(want, 2)}`,
    );
  }
  const n = b.length;
  if (n === RECORD_LENGTH || n === RECORD_LENGTH_PADDED) return undefined;
  let ackAt = -1;
  if (n === 308) ackAt = 300;
  else if ((n === 309 || n === 310) && b[300] === 0) ackAt = 301;
  if (!(ackAt > 0 && (n !== 310 || b[309] === 0)))
    throw new BmsError(
      'FRAME_MALFORMED',
      `JK record followed by ${n - RECORD_LENGTH} unexpected bytes`,
    );
  const ack = parseAck(b, ackAt);
  ensure(ack, 'FRAME_MALFORMED', 'bytes after the JK record are not a valid Modbus FC 0x10 ACK');
  return ack;
}

/** Decodes a record reply (see checkRecord for the accepted shapes). */
export function decodeRecord(
  b: Uint8Array,
  variant: string | undefined,
  invertCurrent = false,
): Reading {
  const ack = checkRecord(b);
  const type = b[4]!;
  let r: Reading;
  if (type === RECORD_CELL_INFO) r = decodeCellInfo(b, variant, invertCurrent);
  else if (type === RECORD_SETTINGS) r = decodeSettings(b, layoutOf(variant));
  else if (type === RECORD_DEVICE_INFO) r = decodeDeviceInfo(b, layoutOf(variant));
  else throw new BmsError('DECODE_UNSUPPORTED', `JK record type 0x${hex(type, 2)} has no decoder`);
  if (ack) {
    let expected = -1;
    for (const t of Object.values(PB_TRIGGERS)) if (t.record === type) expected = t.register;
    if (ack.register !== expected)
      throw new BmsError(
        'FRAME_UNEXPECTED',
        `record type 0x${hex(type, 2)} came with the ACK of trigger 0x${hex(ack.register, 4)}`,
      );
    r.address = ack.unit;
    r.raw!.trigger_register = ack.register;
  }
  return r;
}

function requireLayout(variant: string | undefined): Layout {
  ensure(
    variant !== undefined,
    'DECODE_CONTEXT_MISSING',
    'a JK cell-info record does not say its layout: give the variant (JK02_32S for firmware 11.x and later and all JK-PB, JK02_24S up to 10.x)',
  );
  const l = layoutOf(variant);
  if (!l) {
    ensure(
      variant.toUpperCase() !== '4E57',
      'DECODE_CONTEXT_MISSING',
      'variant 4E57 names the 4E57 link, not a 55AA record layout: give JK02_32S or JK02_24S',
    );
    throw new BmsError(
      'VARIANT_UNKNOWN',
      `unknown JK record variant "${variant}" (known: ${LAYOUTS.join(', ')})`,
    );
  }
  return l;
}

function pushAlarms(bits: number, count: number, names: string[], alarms: Alarm[]): void {
  for (let i = 0; i < count; i++) {
    if (((bits >>> i) & 1) === 0) continue;
    const def = ALARM_BITS[i];
    if (!def) {
      names.push(`bit${i}`);
      continue;
    }
    names.push(def[0]);
    if (def[1]) {
      alarms.push(
        def[2] === undefined
          ? makeAlarm(def[1], { source: def[0] })
          : makeAlarm(def[1], { level: def[2], source: def[0] }),
      );
    }
  }
}

export function decodeCellInfo(
  b: Uint8Array,
  variant: string | undefined,
  invertCurrent = false,
): Reading {
  const L = CELL_INFO[requireLayout(variant)];
  const rd = new ByteReader(b.length === RECORD_LENGTH ? b : b.subarray(0, RECORD_LENGTH));

  // Cells: only those the enabled-cell mask marks present (never guessed from values).
  const mask = rd.u32le(L.cellMask);
  const cells: number[] = [];
  const wires: number[] = [];
  for (let i = 0; i < L.maxCells; i++) {
    if (((mask >>> i) & 1) === 0) continue;
    cells.push(rd.u16le(6 + 2 * i));
    wires.push(rd.u16le(L.wireRes + 2 * i));
  }

  const voltage = rd.u32le(L.voltage) / 1000;
  let current = rd.i32le(L.current) / 1000;
  if (invertCurrent) current = -current;
  current = current === 0 ? 0 : current;

  const tempPresent = rd.u8(L.tempPresent);
  const temps: number[] = [];
  if (tempPresent & 0x02) temps.push(rnd(rd.i16le(L.t1) / 10, 1));
  if (tempPresent & 0x04) temps.push(rnd(rd.i16le(L.t2) / 10, 1));

  const alarmBits = L.alarmBits === 32 ? rd.u32le(L.alarm) : rd.u16le(L.alarm);
  const alarmNames: string[] = [];
  const alarms: Alarm[] = [];
  pushAlarms(alarmBits, L.alarmBits, alarmNames, alarms);

  const balanceAction = rd.u8(L.balanceAction);
  const heating = rd.u8(L.heating) !== 0;
  const cycleCapacity = rd.u32le(L.cycleCapacity) / 1000;

  const raw: Record<string, unknown> = {
    record_type: RECORD_CELL_INFO,
    layout: variant,
    cell_mask_hex: hex(mask, 8),
    alarm_bitmask_hex: hex(alarmBits, L.alarmBits / 4),
    alarms: alarmNames,
    wire_resistance_mohm: wires,
    wire_alarm_bitmask_hex: hex(rd.u32le(L.wireAlarm), 8),
    cycle_capacity_ah: cycleCapacity,
    heating_on: heating,
    balancing_action:
      balanceAction === 1
        ? 'charge'
        : balanceAction === 2
          ? 'discharge'
          : balanceAction === 0
            ? 'off'
            : balanceAction,
    temp_present_bitmask: tempPresent,
    precharge_state: rd.u8(L.prechargeState),
    device_power_w: rd.u32le(L.power) / 1000,
  };

  const r: Reading = {
    voltage_v: voltage,
    current_a: current,
    power_w: rnd(voltage * current, 2),
    soc_pct: rd.u8(L.soc),
    soh_pct: rd.u8(L.soh),
    remaining_ah: rd.i32le(L.remaining) / 1000,
    full_ah: rd.u32le(L.full) / 1000,
    cycle_ah: cycleCapacity,
    cycles: rd.u32le(L.cycles),
    runtime_s: rd.u32le(L.runtime),
    cell_count: cells.length,
    cell_mv: cells,
    avg_cell_mv: rd.u16le(L.avgCell),
    delta_cell_mv: rd.u16le(L.deltaCell),
    cell_resistance_mohm: wires,
    temp_sensor_count: temps.length,
    temps_c: temps,
    charge_mos: rd.u8(L.chargeMos) === 1,
    discharge_mos: rd.u8(L.dischargeMos) === 1,
    balancing: balanceAction !== 0,
    balance_current_a: rd.i16le(L.balanceCurrent) / 1000,
    heater: heating,
    charger_connected: rd.u8(L.charger) !== 0,
    alarms,
    raw,
  };
  if (tempPresent & 0x01) r.mos_temp_c = rnd(rd.i16le(L.mosTemp) / 10, 1);
  if (temps.length === 0) {
    delete r.temps_c;
    delete r.temp_sensor_count;
  }
  if (cells.length === 0) {
    delete r.cell_count;
    delete r.cell_mv;
    delete r.avg_cell_mv;
    delete r.delta_cell_mv;
    delete r.cell_resistance_mohm;
  }

  if (L.userAlarm >= 0) raw.user_alarm = rd.u16le(L.userAlarm);
  if (L.prechargeMos >= 0) raw.precharge_mos_on = rd.u8(L.prechargeMos) === 1;
  if (L.balancerRunning >= 0) raw.balancer_running = rd.u8(L.balancerRunning) === 1;
  if (L.emergencyTime >= 0) raw.emergency_time_s = rd.u16le(L.emergencyTime);
  if (L.heatingCurrent >= 0) raw.heating_current_a = rd.i16le(L.heatingCurrent) / 1000;
  if (L.temp254 >= 0) {
    // Disputed offsets (README): 254 repeated the MOSFET temperature in every capture we
    // have; 256 / 258 are the third and fourth battery sensors per dbus-serialbattery.
    raw.temp_254_c = rnd(rd.i16le(L.temp254) / 10, 1);
    if (tempPresent & 0x08) raw.t3_c = rnd(rd.i16le(L.temp256) / 10, 1);
    if (tempPresent & 0x10) raw.t4_c = rnd(rd.i16le(L.temp258) / 10, 1);
    const bt = rd.u8(L.batteryType);
    raw.battery_type = BATTERY_TYPES[bt] ?? bt;
    const cs = rd.u8(L.chargeStatus);
    raw.charge_status = CHARGE_STATUS[cs] ?? cs;
    raw.dry_contacts = rd.u8(L.dryContacts);
  }
  return r;
}

export function decodeSettings(b: Uint8Array, layout: Layout | undefined): Reading {
  const rd = new ByteReader(b.subarray(0, RECORD_LENGTH));
  const raw: Record<string, unknown> = { record_type: RECORD_SETTINGS };
  const is32 = layout === 'JK02_32S';
  for (const f of SETTINGS) {
    if (f.only32 && !is32) continue;
    let v: number | boolean;
    switch (f.kind) {
      case 'u32':
        v = rd.u32le(f.offset) * f.scale;
        break;
      case 'i32':
        v = rd.i32le(f.offset) * f.scale;
        break;
      case 'u8':
        v = rd.u8(f.offset) * f.scale;
        break;
      case 'i8':
        v = rd.i8(f.offset) * f.scale;
        break;
      default:
        v = rd.u32le(f.offset) !== 0;
    }
    raw[f.key] = typeof v === 'number' ? rnd(v, 3) : v;
  }
  if (is32) {
    const word = rd.u16le(282);
    raw.feature_bitmask_hex = hex(word, 4);
    const on: string[] = [];
    for (let i = 0; i < FEATURE_BITS.length; i++) if ((word >>> i) & 1) on.push(FEATURE_BITS[i]!);
    raw.features = on;
  }
  const cellCount = raw.cell_count as number;
  delete raw.cell_count;
  const r: Reading = { design_ah: raw.nominal_capacity_ah as number, raw };
  // The configured cell count (the vectors read it as the canonical cell_count).
  if (cellCount >= 1 && cellCount <= 32) r.cell_count = cellCount;
  else raw.cell_count_setting = cellCount;
  return r;
}

/** "YYMMDD" -> "20YY-MM-DD" (left as sent when it is not six digits). */
function isoDate(s: string): string {
  if (!/^\d{6}$/.test(s)) return s;
  return `20${s.slice(0, 2)}-${s.slice(2, 4)}-${s.slice(4, 6)}`;
}

/** "10.07" -> JK02_24S, 11.x and later -> JK02_32S (jk.md 1.4); undefined when unparsable. */
export function layoutForFirmware(sw: string): Layout | undefined {
  const m = /^(\d+)\./.exec(sw);
  if (!m) return undefined;
  return Number(m[1]) >= 11 ? 'JK02_32S' : 'JK02_24S';
}

export function decodeDeviceInfo(b: Uint8Array, layout: Layout | undefined): Reading {
  const rd = new ByteReader(b.subarray(0, RECORD_LENGTH));
  const raw: Record<string, unknown> = { record_type: RECORD_DEVICE_INFO };
  for (const [o, n, key] of DEVICE_INFO_TEXT) raw[key] = rd.ascii(o, n);
  raw.uptime_s = rd.u32le(38);
  raw.power_on_count = rd.u32le(42);
  if (layout === 'JK02_32S') {
    raw.rs485_protocol = rd.u8(184);
    raw.can_protocol = rd.u8(185);
  }
  const sw = raw.software_version as string;
  const suggested = layoutForFirmware(sw);
  if (suggested) raw.suggested_variant = suggested;
  const info: NonNullable<Reading['info']> = {};
  if (raw.vendor_id) info.model = raw.vendor_id as string;
  if (raw.hardware_version) info.hw_version = raw.hardware_version as string;
  if (sw) info.sw_version = sw;
  if (raw.serial_number) info.serial = raw.serial_number as string;
  if (raw.manufacturing_date) info.manufacture_date = isoDate(raw.manufacturing_date as string);
  if (raw.device_name) info.device_name = raw.device_name as string;
  return { info, raw };
}
