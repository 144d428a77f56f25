/**
 * Simulated Seplos V3 (XZH) pack: Modbus RTU at its unit, FC 04 reads of PIA / PIB / SPA /
 * VIA / PCT / the SCA date, FC 01 reads of PIC / SFA, FC 10 writes to SPA and SCA. Built with
 * the family's register tables, so the real decoder reads it back. See README.md.
 */
import { BmsError, isBmsError, type Reading } from '@openbms/core';
import { crc16Modbus, modbus } from '@openbms/protocols';
import {
  PCT,
  PIA,
  PIB,
  SCA,
  SPA,
  SPA_FIRST,
  SPA_LAST,
  TB02,
  TB03,
  TB04,
  TB05,
  TB06,
  TB15,
  VIA,
  scaDateMs,
  scaDateRegisters,
  type RegField,
} from '@openbms/protocols/seplos';
import type { AlarmBit } from '@openbms/protocols/seplos';
import type { CommandResult, DeviceProtocol, SimPackApi } from '../../types.js';
import { seplosDefaults } from './defaults.js';

const EX = { FUNCTION: 1, ADDRESS: 2, VALUE: 3, FAILURE: 4 } as const;

const fail = (exception: number, message: string): BmsError =>
  new BmsError(exception === EX.FUNCTION ? 'COMMAND_UNSUPPORTED' : 'INVALID_ARGUMENT', message, {
    exception_code: exception,
  });

/** SPA registers without a catalog id, as the captured SG16S200A holds them. */
const SPA_RAW: Readonly<Record<number, number>> = {
  0x1300: 4, // NTCs
  0x1314: 500,
  0x1323: 600, // over-current recovery delay, 0.1 s
  0x1324: 5,
  0x1325: 0,
  0x1326: 0,
  0x1327: 0,
  0x1328: 0x0bb8,
  0x1329: 0x00cd,
  0x132a: 0x000a,
  0x132b: 0x0dac,
  0x132c: 0x0d48,
  0x132d: 0x05dc,
  0x132e: 0x03e8,
  0x134d: 2731 + 500, // balancing inhibited above 50 °C
  0x134e: 2731, // and below 0 °C
  0x134f: 10, // static balancing time, h
  0x1353: 960, // SOC full release, 0.1 %
  0x1354: 80,
  0x1356: 50,
  0x135b: 48, // standby to sleep, h
  0x135c: 0,
  0x135d: 0,
  0x135e: 0,
  0x135f: 0,
  0x1360: 0,
  0x1361: 0,
  0x1362: 0,
  0x1368: 5,
  0x1369: 8,
};

interface V3State {
  spaRaw: Record<number, number>;
}
const states = new WeakMap<SimPackApi, V3State>();
function stateOf(pack: SimPackApi): V3State {
  let s = states.get(pack);
  if (!s) {
    s = { spaRaw: { ...SPA_RAW } };
    states.set(pack, s);
  }
  return s;
}

const clamp = (v: number, lo: number, hi: number): number =>
  Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : 0;

/** A value in the field's key unit to its register(s). */
function encode(f: RegField, v: number | string | readonly number[]): number[] {
  if (f.enc === 'ascii' || f.enc === 'version') {
    const text = String(v);
    const regs = f.enc === 'version' ? 1 : (f.regs ?? 1);
    const bytes = new Array<number>(regs * 2).fill(0);
    for (let i = 0; i < Math.min(text.length, regs * 2); i++) {
      const c = text.charCodeAt(i);
      bytes[i] = c >= 0x20 && c < 0x7f ? c : 0x3f;
    }
    return Array.from({ length: regs }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  }
  const one = (x: number): number => {
    const raw = x / (f.scale ?? 1) + (f.offset ?? 0);
    return f.enc === 'i16' ? clamp(raw, -0x8000, 0x7fff) & 0xffff : clamp(raw, 0, 0xffff);
  };
  if (Array.isArray(v))
    return Array.from({ length: f.count ?? v.length }, (_, i) => one(v[i] ?? 0));
  return [one(Number(v))];
}

/** A register written to a field back to the field's key unit. */
function decode(f: RegField, raw: number): number {
  const x = f.enc === 'i16' ? (raw << 16) >> 16 : raw;
  return (x - (f.offset ?? 0)) * (f.scale ?? 1);
}

function catalogOf(f: RegField, raw: number): number {
  const v = Math.round(decode(f, raw) * (f.toParam ?? 1) * 1e6) / 1e6;
  return f.negative ? Math.abs(v) : v;
}

function values(pack: SimPackApi, s: Reading): Record<string, number> {
  const extras = seplosDefaults(
    {},
    { chemistry: pack.chemistry, cells: s.cell_count ?? 16, capacityAh: s.design_ah ?? 100 },
  );
  return { ...extras, ...pack.parameters() };
}

const avg = (xs: readonly number[]): number =>
  xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;

/** The FC 04 register image of the pack now. */
function image(pack: SimPackApi): Map<number, number> {
  const s = pack.snapshot();
  const p = values(pack, s);
  const temps = s.temps_c ?? [];
  const keys: Record<string, number | string | readonly number[]> = {
    pack_voltage_v: s.voltage_v ?? 0,
    current_a: s.current_a ?? 0,
    remaining_capacity_ah: s.remaining_ah ?? 0,
    total_capacity_ah: s.full_ah ?? 0,
    total_discharge_ah: 0,
    soc_pct: s.soc_pct ?? 0,
    soh_pct: s.soh_pct ?? 100,
    cycles: s.cycles ?? 0,
    avg_cell_mv: Math.round(s.avg_cell_mv ?? 0),
    avg_cell_temp_c: Math.round(avg(temps) * 10) / 10,
    max_cell_mv: s.max_cell_mv ?? 0,
    min_cell_mv: s.min_cell_mv ?? 0,
    max_cell_temp_c: s.max_temp_c ?? 0,
    min_cell_temp_c: s.min_temp_c ?? 0,
    max_discharge_current_a: p.discharge_current_limit_a ?? 0,
    max_charge_current_a: p.charge_current_limit_a ?? 0,
    cell_mv: s.cell_mv ?? [],
    cell_temps_c: temps,
    env_temp_c: s.env_temp_c ?? 25,
    power_temp_c: s.mos_temp_c ?? 25,
    factory_name: pack.info.manufacturer,
    device_name: pack.info.model,
    firmware_version: (pack.info.sw_version.match(/\d/g) ?? ['1', '0']).slice(0, 2).join(''),
    bms_serial: pack.info.serial,
    pack_serial: pack.info.barcode,
    pcs_protocol_type: 0,
    pcs_baud_rate: 500,
    pcs_name: '',
    protocol_name: 'Pylon CAN Protocol',
    protocol_version: '20',
    pcs_protocol_pre_switch: 0,
  };
  const regs = new Map<number, number>();
  for (const f of [...PIA, ...PIB, ...VIA, ...PCT]) {
    const v = keys[f.key];
    if (v === undefined) continue;
    encode(f, v).forEach((w, i) => regs.set(f.reg + i, w));
  }
  // PIA 0x100E and PIB's four unused sensor slots (read as 0x0AAB = 0.0 °C).
  regs.set(0x100e, 0);
  for (let r = 0x1114; r <= 0x1117; r++) regs.set(r, 0x0aab);
  // VIA's and PCT's unused tails are NUL.
  for (let r = 0x1700; r < 0x1733; r++) if (!regs.has(r)) regs.set(r, 0);
  for (let r = 0x1800; r < 0x1824; r++) if (!regs.has(r)) regs.set(r, 0);
  // SPA: catalog values from the pack, the rest from the device.
  const st = stateOf(pack);
  for (let r = SPA_FIRST; r <= SPA_LAST; r++) regs.set(r, st.spaRaw[r] ?? 0);
  for (const f of SPA) {
    if (f.key === 'cell_count') regs.set(f.reg, s.cell_count ?? 0);
    else if (f.key === 'remaining_capacity_ah') regs.set(f.reg, encode(f, s.remaining_ah ?? 0)[0]!);
    else if (f.param && p[f.param] !== undefined) {
      const v = p[f.param]! / (f.toParam ?? 1);
      regs.set(f.reg, encode(f, f.negative ? -v : v)[0]!);
    }
  }
  scaDateRegisters(pack.clock()).forEach((w, i) => regs.set(SCA.DATE + i, w));
  return regs;
}

/** The byte of a coil group from an alarm table: bits whose code (and level) is active. */
function bitsOf(table: readonly AlarmBit[], pack: SimPackApi): number {
  let byte = 0;
  for (const a of pack.activeAlarms()) {
    const level = a.level ?? (a.severity === 'warning' ? 1 : 2);
    const bit =
      table.find((b) => b.code === a.code && b.level === level) ??
      table.find((b) => b.code === a.code && b.level === undefined) ??
      (level >= 2 ? table.find((b) => b.code === a.code && b.level === 2) : undefined);
    if (bit) byte |= 1 << bit.bit;
  }
  return byte;
}

/** PIC (0x1200, 18 bytes) and SFA (0x1400, 10 bytes) by first coil. */
function coils(pack: SimPackApi): Map<number, number> {
  const s = pack.snapshot();
  const p = values(pack, s);
  const out = new Map<number, number>();
  const cells = s.cell_mv ?? [];
  const cellBits = (test: (mv: number) => boolean, from: number): number =>
    cells.slice(from, from + 8).reduce((b, mv, i) => (test(mv) ? b | (1 << i) : b), 0);
  const low = (mv: number): boolean => mv < (p.cell_uv_l1_mv ?? 0);
  const high = (mv: number): boolean => mv > (p.cell_ov_l1_mv ?? Infinity);
  out.set(0x1200, cellBits(low, 0));
  out.set(0x1208, cellBits(low, 8));
  out.set(0x1210, cellBits(high, 0));
  out.set(0x1218, cellBits(high, 8));
  out.set(0x1220, 0);
  out.set(0x1228, 0);
  const bal = s.cell_balancing ?? [];
  const balBits = (from: number): number =>
    bal.slice(from, from + 8).reduce((b, on, i) => (on ? b | (1 << i) : b), 0);
  out.set(0x1230, balBits(0));
  out.set(0x1238, balBits(8));
  const current = s.current_a ?? 0;
  out.set(
    0x1240,
    current < -0.05 ? 0x01 : current > 0.05 ? 0x02 : (s.soc_pct ?? 0) >= 100 ? 0x08 : 0x10,
  );
  out.set(0x1248, bitsOf(TB02, pack));
  out.set(0x1250, bitsOf(TB03, pack));
  out.set(0x1258, bitsOf(TB04, pack) | (s.heater ? 0x40 : 0));
  out.set(0x1260, bitsOf(TB05, pack));
  // TB16 holds latched states the simulated firmware does not model: only short circuits.
  out.set(0x1268, pack.activeAlarms().some((a) => a.code === 'short_circuit') ? 0x01 : 0);
  out.set(0x1270, bitsOf(TB06, pack));
  out.set(0x1278, (s.discharge_mos ? 0x01 : 0) | (s.charge_mos ? 0x02 : 0) | (s.heater ? 0x08 : 0));
  out.set(0x1280, 0);
  out.set(0x1288, bitsOf(TB15, pack));
  for (let g = 0; g < 10; g++) out.set(0x1400 + 8 * g, 0xff);
  return out;
}

function withCrc(body: number[]): Uint8Array {
  const out = new Uint8Array(body.length + 2);
  out.set(body);
  const crc = crc16Modbus(out, 0, body.length);
  out[body.length] = crc & 0xff;
  out[body.length + 1] = crc >> 8;
  return out;
}

/** FC 10 to SPA: the catalog registers go to writeParameters in one call (refused whole). */
function writeSpa(pack: SimPackApi, start: number, values: readonly number[]): CommandResult {
  const changes: Record<string, number> = {};
  const raw: Record<number, number> = {};
  for (let i = 0; i < values.length; i++) {
    const reg = start + i;
    const f = SPA.find((x) => x.reg === reg);
    if (f?.key === 'cell_count' || f?.key === 'remaining_capacity_ah') {
      throw fail(EX.VALUE, `register 0x${reg.toString(16)} (${f.key}) is read only`);
    }
    if (f?.param) changes[f.param] = catalogOf(f, values[i]!);
    else raw[reg] = values[i]!;
  }
  if (Object.keys(changes).length > 0) {
    const r = pack.writeParameters(changes);
    if (!r.ok) return r;
  }
  Object.assign(stateOf(pack).spaRaw, raw);
  return { ok: true };
}

const ACK_WORD = SCA.ACK;

function writeSca(pack: SimPackApi, start: number, values: readonly number[]): CommandResult {
  if (start === SCA.DATE && values.length === 4) {
    const ms = scaDateMs(values);
    if (ms === undefined) throw fail(EX.VALUE, 'not a date');
    pack.setClock(ms);
    return { ok: true };
  }
  if (values.length !== 1)
    throw fail(EX.ADDRESS, `no SCA command at 0x${start.toString(16)} x ${values.length}`);
  const v = values[0]!;
  const needs = (word: number): void => {
    if (v !== word) throw fail(EX.VALUE, `0x${start.toString(16)} takes 0x${word.toString(16)}`);
  };
  switch (start) {
    case 0x150d:
    case 0x150e:
    case 0x150f:
      // Calibration of the simulated sensors: nothing to correct, acknowledged.
      return { ok: true };
    case 0x1510:
      needs(ACK_WORD);
      return pack.setMos('discharge', false);
    case 0x1511:
      needs(ACK_WORD);
      return pack.setMos('charge', false);
    case 0x1515:
      needs(0xaa55);
      return pack.setMos('charge', true);
    case SCA.PARAMETER_RESET:
      needs(ACK_WORD);
      pack.restoreDefaults();
      stateOf(pack).spaRaw = { ...SPA_RAW };
      return { ok: true };
    case SCA.POWER_OFF: {
      needs(ACK_WORD);
      const d = pack.setMos('discharge', false);
      if (!d.ok) return d;
      const c = pack.setMos('charge', false);
      if (!c.ok) pack.setMos('discharge', true);
      return c;
    }
    case SCA.SYSTEM_RESET:
      needs(ACK_WORD);
      pack.restart();
      return { ok: true };
    default:
      throw fail(EX.ADDRESS, `no SCA command at 0x${start.toString(16)}`);
  }
}

function handle(request: Uint8Array, pack: SimPackApi): Uint8Array | undefined {
  if (request.length < 8 || request[0] !== pack.address) return undefined;
  let r: ReturnType<typeof modbus.parseModbusRequest>;
  try {
    r = modbus.parseModbusRequest(request);
  } catch (e) {
    // A bad CRC or shape: silence, like any Modbus slave.
    if (isBmsError(e)) return undefined;
    throw e;
  }
  const unit = pack.address;
  if (r.fn === 0x04) {
    const count = r.count ?? 0;
    if (count < 1 || count > 125) throw fail(EX.VALUE, `cannot read ${count} registers`);
    const img = image(pack);
    const regs: number[] = [];
    for (let a = r.start; a < r.start + count; a++) {
      const w = img.get(a);
      if (w === undefined) throw fail(EX.ADDRESS, `register 0x${a.toString(16)} is not readable`);
      regs.push(w);
    }
    return withCrc([unit, 0x04, regs.length * 2, ...regs.flatMap((w) => [w >> 8, w & 0xff])]);
  }
  if (r.fn === 0x01) {
    const count = r.count ?? 0;
    const c = coils(pack);
    if (count % 8 !== 0 || r.start % 8 !== 0) throw fail(EX.VALUE, 'coils are read in groups of 8');
    const bytes: number[] = [];
    for (let g = r.start; g < r.start + count; g += 8) {
      const b = c.get(g);
      if (b === undefined) throw fail(EX.ADDRESS, `coil 0x${g.toString(16)} is not readable`);
      bytes.push(b);
    }
    return withCrc([unit, 0x01, bytes.length, ...bytes]);
  }
  if (r.fn === 0x10) {
    const values = r.values ?? [];
    const inSpa = r.start >= SPA_FIRST && r.start + values.length - 1 <= SPA_LAST;
    const inSca = r.start >= SCA.DATE && r.start <= SCA.SYSTEM_RESET + 1;
    if (!inSpa && !inSca)
      throw fail(EX.ADDRESS, `registers 0x${r.start.toString(16)} are not writable`);
    const res = inSpa ? writeSpa(pack, r.start, values) : writeSca(pack, r.start, values);
    if (!res.ok) throw fail(EX.FAILURE, res.reason);
    return withCrc([
      unit,
      0x10,
      r.start >> 8,
      r.start & 0xff,
      values.length >> 8,
      values.length & 0xff,
    ]);
  }
  throw fail(EX.FUNCTION, `function 0x${r.fn.toString(16)} is not supported`);
}

export const deviceV3: DeviceProtocol = {
  id: 'seplos',
  createRequestFramer: () => modbus.createModbusFramer('request'),
  addressOf: (request) => (request.length > 0 ? request[0] : undefined),
  addresses(n: number): number[] {
    if (!(Number.isInteger(n) && n >= 0 && n <= 16)) {
      throw new BmsError('INVALID_ARGUMENT', 'a Seplos V3 bus has 0..16 packs (units 0..15)');
    }
    return Array.from({ length: n }, (_, i) => i);
  },
  handle,
  errorReply(request, err) {
    if (request.length < 4 || !isBmsError(err)) return undefined;
    const code = err.details?.exception_code;
    return withCrc([
      request[0]!,
      (request[1]! | 0x80) & 0xff,
      typeof code === 'number' ? code : EX.FAILURE,
    ]);
  },
  tempSensors: 4,
  factoryDefaults: seplosDefaults,
  // The BMS has only the parameters its protocol carries (no invisible level-1 set).
  ownParameters: true,
};
