/**
 * The JK-B* `4E 57` protocol, device side: the read-all reply with the data items, single
 * item reads, and item writes (MOS switches and the protection parameters of NW_PARAMS).
 */
import { BmsError, type Reading } from '@openbms/core';
import { sum16 } from '@openbms/protocols';
import {
  NW_ALARM_BITS,
  NW_CMD,
  NW_END_FLAG,
  NW_ITEMS,
  NW_PARAMS,
  NW_START0,
  NW_START1,
  type NwItem,
} from '@openbms/protocols/jk';
import type { CommandResult, SimPackApi } from '../../types.js';
import { paramValue } from './settings.js';
import { beBytes, clamp, fit, readBe, tidy, writeAscii } from './wire.js';

const PARAM_OF = new Map<number, string>(NW_PARAMS);
/** 4E57 carries at most 48 cells (the 0x79 length byte). */
const MAX_CELLS = 48;
/** Protocol version 1: current as sign bit 15 + 0.01 A magnitude. */
const PROTOCOL_VERSION = 1;

/** Whole degrees; below zero sent as 100 + |t|. */
function nwTemp(t: number): number {
  const r = Math.round(clamp(t, -40, 100));
  return r < 0 ? 100 - r : r;
}

function nwCurrent(a: number): number {
  const mag = Math.min(0x7fff, Math.round(Math.abs(a) * 100));
  return mag === 0 ? 0 : a > 0 ? 0x8000 | mag : mag;
}

function alarmWord(s: Reading): number {
  let word = 0;
  for (const a of s.alarms ?? []) {
    const bit = NW_ALARM_BITS.findIndex((d) => d[1] === a.code);
    if (bit >= 0) word |= 1 << bit;
  }
  return word;
}

interface Ctx {
  pack: SimPackApi;
  s: Reading;
  params: Record<string, number>;
}

/** Numeric value (before the item's scale) of every item the simulated BMS answers. */
function itemValue(id: number, item: NwItem, c: Ctx): number | string | undefined {
  const { s, pack } = c;
  const param = PARAM_OF.get(id);
  if (param) {
    if (param === 'charge_enabled' || param === 'discharge_enabled') {
      return paramValue(param, pack, s, c.params);
    }
    return paramValue(param, pack, s, c.params) / (item.scale ?? 1);
  }
  switch (id) {
    case 0x80:
      return s.mos_temp_c === undefined ? undefined : nwTemp(s.mos_temp_c);
    case 0x81:
    case 0x82: {
      const t = s.temps_c?.[id - 0x81];
      return t === undefined ? undefined : nwTemp(t);
    }
    case 0x83:
      return (s.voltage_v ?? 0) / 0.01;
    case 0x84:
      return nwCurrent(s.current_a ?? 0);
    case 0x85:
      return clamp(s.soc_pct ?? 0, 0, 100);
    case 0x86:
      return Math.min(2, s.temps_c?.length ?? 0);
    case 0x87:
      return s.cycles ?? 0;
    case 0x89:
      return s.cycle_ah ?? (s.cycles ?? 0) * (s.full_ah ?? 0);
    case 0x8a:
      return Math.min(MAX_CELLS, s.cell_mv?.length ?? 0);
    case 0x8b:
      return alarmWord(s);
    case 0x8c:
      return (s.charge_mos ? 1 : 0) | (s.discharge_mos ? 2 : 0) | (s.balancing ? 4 : 0) | 8;
    case 0xa0:
      return 70; // box over-temperature protection, degC
    case 0xa1:
      return 65;
    case 0xa2:
      return 20; // battery temperature difference, degC
    case 0xad:
      return 1000; // current calibration, mA
    case 0xae:
      return pack.address;
    case 0xaf:
      return pack.chemistry === 'lfp' ? 0 : 1;
    case 0xb3:
    case 0xb8:
      return 0;
    case 0xb4:
      return pack.info.serial.slice(-8);
    case 0xb6:
      return Math.floor((s.runtime_s ?? 0) / 60);
    case 0xb7:
      return pack.info.sw_version;
    case 0xb9:
      return s.full_ah ?? 0;
    case 0xba:
      return pack.info.manufacturer;
    case 0xc0:
      return PROTOCOL_VERSION;
    default:
      return undefined;
  }
}

function cellsItem(s: Reading): number[] {
  const cells = (s.cell_mv ?? []).slice(0, MAX_CELLS);
  const out = [0x79, cells.length * 3];
  cells.forEach((mv, i) => out.push(i + 1, ...beBytes(fit(mv, 2, false), 2)));
  return out;
}

function encodeItem(id: number, c: Ctx): number[] {
  if (id === 0x79) return cellsItem(c.s);
  const item = NW_ITEMS.get(id);
  if (!item || !item.key) return [];
  const v = itemValue(id, item, c);
  if (v === undefined) return [];
  if (typeof v === 'string') {
    const buf = new Uint8Array(item.size);
    writeAscii(buf, 0, item.size, v);
    return [id, ...buf];
  }
  return [id, ...beBytes(fit(v, item.size, item.kind === 's'), item.size)];
}

/** Builds a 4E57 reply frame (transport type 1, source 0 = BMS). */
function frame(cmd: number, terminal: number, data: number[], record: number): Uint8Array {
  const total = 11 + data.length + 4 + 1 + 2 + 2;
  const out = new Uint8Array(total);
  out.set([NW_START0, NW_START1, ...beBytes(total - 2, 2), ...beBytes(terminal, 4), cmd, 0, 1]);
  out.set(data, 11);
  out.set([...beBytes(record, 4), NW_END_FLAG, 0, 0], 11 + data.length);
  out.set(beBytes(sum16(out, 0, total - 2), 2), total - 2);
  return out;
}

/** Item ids of the read-all reply, in ascending order as the BMS sends them. */
const ALL_ITEMS = [0x79, ...[...NW_ITEMS.keys()].filter((k) => k !== 0x79)].sort((a, b) => a - b);

function applyWrite(pack: SimPackApi, id: number, value: number): CommandResult {
  if (id === 0xab) return pack.setMos('charge', value !== 0);
  if (id === 0xac) return pack.setMos('discharge', value !== 0);
  const param = PARAM_OF.get(id);
  const item = NW_ITEMS.get(id);
  if (!param || !item) return { ok: false, reason: `4E57 item 0x${id.toString(16)} is read-only` };
  return pack.writeParameters({ [param]: tidy(value * (item.scale ?? 1)) });
}

/**
 * Answers one 4E57 request (already checked by the request framer's rule). Writes answer
 * with the item as it now stands, so a refused write reads back unchanged.
 */
export function handleNw(b: Uint8Array, pack: SimPackApi): Uint8Array | undefined {
  if (b[10] !== 0) return undefined; // not a request
  const cmd = b[8]!;
  const terminal = readBe(b, 4, 4, false);
  const record = readBe(b, b.length - 9, 4, false);
  const data = b.subarray(11, b.length - 9);
  const ctx = (): Ctx => ({ pack, s: pack.snapshot(), params: pack.parameters() });
  if (cmd === NW_CMD.read_all) {
    const c = ctx();
    return frame(
      cmd,
      terminal,
      ALL_ITEMS.flatMap((id) => encodeItem(id, c)),
      record,
    );
  }
  if (cmd === NW_CMD.read && data.length === 1) {
    const item = encodeItem(data[0]!, ctx());
    if (item.length === 0) throw new BmsError('COMMAND_UNSUPPORTED', '4E57 item not available');
    return frame(cmd, terminal, item, record);
  }
  if (cmd === NW_CMD.write && data.length >= 2) {
    const id = data[0]!;
    const item = NW_ITEMS.get(id);
    if (!item || item.kind === 'ascii' || item.kind === 'cells' || data.length !== 1 + item.size) {
      throw new BmsError('FRAME_MALFORMED', `4E57 write of item 0x${id.toString(16)}`);
    }
    applyWrite(pack, id, readBe(data, 1, item.size, item.kind === 's'));
    return frame(cmd, terminal, encodeItem(id, ctx()), record);
  }
  if (cmd === NW_CMD.activate || cmd === NW_CMD.password) return frame(cmd, terminal, [0], record);
  throw new BmsError('COMMAND_UNSUPPORTED', `4E57 command 0x${cmd.toString(16)}`);
}
