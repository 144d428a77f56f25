/**
 * The EG4 LifePower4 layout of PACE v20 (pace.md section 10): VER 0x20, CID1 0x4A, 0x42 / 0x44
 * without INFO, temperatures with the 2731 offset and ambient before MOSFET, pack voltage in
 * 10 mV, event bytes instead of PACE's status bytes, and a clock with a 16-bit year.
 */
import type { Alarm, Reading } from '@openbms/core';
import {
  EG4_CURRENT_EVENT,
  EG4_TEMPERATURE_EVENT,
  EG4_VOLTAGE_EVENT,
  type Eg4Bit,
} from '@openbms/protocols/pace';
import { buildFrame } from '@openbms/protocols/pylontech';
import type { BusView, SimPackApi } from '../../types.js';
import { RtnError, asciiField, put16, readHeader, readRequest, u16 } from '../pylontech/wire.js';

const VER = 0x20;
const CID1 = 0x4a;
const KELVIN = 2731;
const REPLY_CODES: ReadonlySet<number> = new Set([
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x09, 0x91,
]);

const dk = (c: number): number => u16(Math.round(c * 10) + KELVIN);
const i16 = (x: number): number => Math.min(0x7fff, Math.max(-0x8000, Math.round(x))) & 0xffff;
const put32 = (out: number[], v: number): void => {
  const n = Math.max(0, Math.min(0xffffffff, Math.round(v)));
  out.push((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
};

const reply = (pack: SimPackApi, info: readonly number[], rtn = 0): Uint8Array =>
  buildFrame(VER, pack.address, CID1, rtn, info);

/** Cells 1-4, ambient, MOSFET: EG4's order. */
function sensors(r: Reading): number[] {
  const cells = r.temps_c ?? [];
  const four = Array.from({ length: 4 }, (_, i) => cells[i] ?? cells[cells.length - 1] ?? 25);
  return [...four, r.env_temp_c ?? 25, r.mos_temp_c ?? 25];
}

function analog(pack: SimPackApi): number[] {
  const r = pack.snapshot();
  const cells = r.cell_mv ?? [];
  const out: number[] = [0x10, pack.address, cells.length];
  for (const v of cells) put16(out, u16(v));
  const temps = sensors(r);
  out.push(temps.length - 2);
  for (const t of temps) put16(out, dk(t));
  put16(out, i16((r.current_a ?? 0) * 100));
  put16(out, u16((r.voltage_v ?? 0) * 100));
  put16(out, u16((r.remaining_ah ?? 0) * 100));
  put16(out, u16((r.full_ah ?? 0) * 100));
  put16(out, u16(r.cycles ?? 0));
  out.push(15);
  put16(out, u16(r.soc_pct ?? 0));
  put16(out, u16(r.soh_pct ?? 100));
  put16(out, u16(r.max_cell_mv ?? 0));
  put16(out, u16(r.min_cell_mv ?? 0));
  put16(out, u16(r.delta_cell_mv ?? 0));
  put16(out, dk(r.max_temp_c ?? 25));
  put16(out, dk(r.min_temp_c ?? 25));
  // Cumulative counters: the simulator counts cycles only; these stay 0.
  for (let i = 0; i < 6; i++) put32(out, 0);
  put16(out, 0);
  put16(out, 0);
  return out;
}

function bits(alarms: readonly Alarm[], table: readonly Eg4Bit[]): number {
  let v = 0;
  table.forEach(([, code, level], i) => {
    if (!code) return;
    const want = level ?? 2;
    if (alarms.some((a) => a.code === code && (a.level ?? 2) === want)) v |= 1 << i;
  });
  return v;
}

function status(pack: SimPackApi): number[] {
  const r = pack.snapshot();
  const cells = r.cell_mv ?? [];
  const alarms = r.alarms ?? [];
  const out: number[] = [0x10, pack.address, cells.length, ...cells.map(() => 0)];
  const temps = sensors(r);
  out.push(temps.length - 2, ...temps.map(() => 0), 0, 0, 9);
  const balance =
    (r.balancing ? 0x01 : 0) | (alarms.some((a) => a.code === 'cell_diff') ? 0x10 : 0);
  out.push(balance, bits(alarms, EG4_VOLTAGE_EVENT));
  put16(out, bits(alarms, EG4_TEMPERATURE_EVENT));
  out.push(bits(alarms, EG4_CURRENT_EVENT), alarms.some((a) => a.code === 'soc_low') ? 1 : 0);
  out.push((r.discharge_mos ? 0x01 : 0) | (r.charge_mos ? 0x02 : 0) | (r.heater ? 0x08 : 0));
  const i = r.current_a ?? 0;
  out.push(i < -0.05 ? 0x01 : i > 0.05 ? 0x02 : 0x08);
  let bitmap = 0;
  (r.cell_balancing ?? []).forEach((on, k) => {
    if (on && k < 32) bitmap += 2 ** k;
  });
  put32(out, bitmap);
  out.push(0);
  return out;
}

export function eg4Handle(
  request: Uint8Array,
  pack: SimPackApi,
  bus: BusView,
): Uint8Array | undefined {
  void bus;
  const h = readHeader(request);
  if (!h || REPLY_CODES.has(h.cid2)) return undefined;
  if (pack.asleep()) return undefined;
  const req = readRequest(request, [CID1]);
  const info = req.info;
  switch (req.cid2) {
    case 0x42:
      return reply(pack, analog(pack));
    case 0x44:
      return reply(pack, status(pack));
    case 0x51:
      return reply(pack, asciiField(`EG4-LL ${pack.info.model}`, 32, 0x20));
    case 0x93:
      return reply(pack, [pack.address, ...asciiField(pack.info.serial, 16, 0x20)]);
    case 0x4d: {
      const d = new Date(pack.clock());
      const y = d.getUTCFullYear();
      return reply(pack, [
        y >> 8,
        y & 0xff,
        d.getUTCMonth() + 1,
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
      ]);
    }
    case 0x4e: {
      if (info.length !== 7) throw new RtnError(0x05, 'INFO must be 7 bytes');
      const ms = Date.UTC(
        (info[0]! << 8) | info[1]!,
        info[2]! - 1,
        info[3]!,
        info[4]!,
        info[5]!,
        info[6]!,
      );
      if (!Number.isFinite(ms) || info[2]! < 1 || info[2]! > 12)
        throw new RtnError(0x09, 'not a valid date');
      pack.setClock(ms);
      return reply(pack, []);
    }
    case 0x95: {
      const res = pack.shutdown();
      if (!res.ok) throw new RtnError(0x09, res.reason);
      return reply(pack, []);
    }
    default:
      throw new RtnError(0x04, `CID2 0x${req.cid2.toString(16)} is not an EG4 command`);
  }
}
