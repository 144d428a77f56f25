/**
 * Simulated Seplos V2 pack (ASCII): answers 0x42 / 0x44 / 0x47 / 0xA1 / 0x4D / 0x4E / 0x51 /
 * 0x4F and the commands the protocol module declares unverified (0x45, 0xA0, 0xA6), with the
 * family's own tables. See README.md.
 */
import { BmsError, isBmsError, type Alarm, type Reading } from '@openbms/core';
import {
  ALARM_EVENTS,
  BLOCK,
  BLOCK_FIELDS,
  CID2,
  CONTROL_ITEMS,
  CONTROL_OFF,
  CONTROL_ON,
  EVENT8_BITS,
  KELVIN_OFFSET,
  SIGNAL_CUSTOM_COUNT,
  SWITCH_FIELDS,
  TELEMETRY_CUSTOM_COUNT,
  V2_CAN_PROTOCOLS,
  blockOffset,
  decodeSeplos,
  parseV2Request,
  type BlockField,
} from '@openbms/protocols/seplos';
import type { BusView, CommandResult, DeviceProtocol, SimPackApi } from '../../types.js';
import { createRequestFramer } from '../pylontech/index.js';
import {
  REPLY_CODES,
  RTN,
  RtnError,
  asciiField,
  put16,
  readHeader,
  readRequest,
  versionBytes,
} from '../pylontech/wire.js';
import { buildFrame } from '@openbms/protocols/pylontech';
import { seplosDefaults } from './defaults.js';

/** Seplos return codes beyond Pylontech's. */
const RTN_CID1 = 0xe1;

/** What the pack model does not hold: raw-only block fields, switches, the CAN protocol. */
interface V2State {
  /** Raw block bytes of the fields without a catalog id, and the unmapped switch bits. */
  block: number[];
  canProtocol: number;
}

const states = new WeakMap<SimPackApi, V2State>();

/** The block of a factory-fresh Seplos (the captured 16S LFP unit's raw-only values). */
function initialBlock(pack: SimPackApi): number[] {
  const b = new Array<number>(BLOCK.length).fill(0);
  b[BLOCK.wordCount] = BLOCK.wordsN;
  b[BLOCK.byteCountAt] = BLOCK.bytesN;
  b[BLOCK.switchCountAt] = BLOCK.switchesN;
  const put = (index: number, v: number): void => {
    const o = blockOffset({ index });
    if (index < BLOCK.wordsN) {
      b[o] = (v >> 8) & 0xff;
      b[o + 1] = v & 0xff;
    } else b[o] = v & 0xff;
  };
  put(0x39, 2000); // output soft-start delay, ms
  const bytes: readonly (readonly [number, number])[] = [
    [0x40, 10], // static balancing time, h
    [0x45, 60], // over-current recovery delay, s
    [0x46, 5], // over-current recovery attempts
    [0x47, 5], // charge current-limit delay, min
    [0x48, 1], // charge activation delay, min
    [0x49, 10], // charge activation interval, h
    [0x4a, 10], // charge activation attempts
    [0x4b, 30], // record interval while working, min
    [0x4c, 240], // record interval in standby, min
    [0x4d, 48], // standby shut-down delay, h
    [0x50, 96], // intermittent-charge SOC, %
    [0x51, 80], // capacity counted as one cycle, %
    [0x52, 100], // connection-fault impedance, 0.1 mOhm
    [0x53, 9], // compensation point 1 cell
    [0x55, 13], // compensation point 2 cell
  ];
  for (const [i, v] of bytes) put(i, v);
  // The captured unit's function switches (FFFFFF3FBF9FAF1E); the catalog switches are
  // filled from the pack's parameters when the block is sent.
  const switches = [0xff, 0xff, 0xff, 0x3f, 0xbf, 0x9f, 0xaf, 0x1e];
  switches.forEach((v, i) => (b[BLOCK.switches + i] = v));
  const model = asciiField(pack.info.model, BLOCK.modelLength, 0x20);
  model.forEach((c, i) => (b[BLOCK.model + i] = c));
  return b;
}

function stateOf(pack: SimPackApi): V2State {
  let s = states.get(pack);
  if (!s) {
    s = { block: initialBlock(pack), canProtocol: 1 };
    states.set(pack, s);
  }
  return s;
}

/** The CAN protocol selected on a simulated V2 pack (0xA6), for tests. */
export function canProtocolOfPack(pack: SimPackApi): number {
  return stateOf(pack).canProtocol;
}

const clamp = (v: number, lo: number, hi: number): number =>
  Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : 0;
const u16 = (v: number): number => clamp(v, 0, 0xffff);
const i16 = (v: number): number => clamp(v, -0x8000, 0x7fff) & 0xffff;
const dk = (c: number): number => u16(c * 10 + KELVIN_OFFSET);

/** The pack's catalog values, with the Seplos defaults for ids it lacks. */
function values(pack: SimPackApi, s: Reading): Record<string, number> {
  const cells = s.cell_count ?? s.cell_mv?.length ?? 16;
  const all = seplosDefaults(
    {},
    { chemistry: pack.chemistry, cells, capacityAh: s.design_ah ?? 100 },
  );
  return { ...all, ...pack.parameters() };
}

/** A block field's wire integer from its catalog value. */
function fieldRaw(f: BlockField, v: number): number {
  const key = (f.negative ? -v : v) / (f.toParam ?? 1);
  const raw = key / f.scale + (f.offset ?? 0);
  return f.enc === 'u8' ? clamp(raw, 0, 0xff) : f.enc === 'i16' ? i16(raw) : u16(raw);
}

/** 0x47: the block from the pack's parameters, raw-only fields from the device state. */
function block(pack: SimPackApi): number[] {
  const s = pack.snapshot();
  const st = stateOf(pack);
  const b = st.block.slice();
  b[BLOCK.index] = 0;
  const p = values(pack, s);
  const put = (f: BlockField, raw: number): void => {
    const o = blockOffset(f);
    if (f.enc === 'u8') b[o] = raw;
    else {
      b[o] = (raw >> 8) & 0xff;
      b[o + 1] = raw & 0xff;
    }
  };
  for (const f of BLOCK_FIELDS) {
    if (f.param && p[f.param] !== undefined) put(f, fieldRaw(f, p[f.param]!));
  }
  const remaining = BLOCK_FIELDS.find((f) => f.key === 'remaining_capacity_ah')!;
  put(remaining, u16((s.remaining_ah ?? 0) * 100));
  const cells = BLOCK_FIELDS.find((f) => f.param === 'cell_count')!;
  put(cells, s.cell_count ?? 0);
  for (const sw of SWITCH_FIELDS) {
    if (!sw.param || p[sw.param] === undefined) continue;
    const at = BLOCK.switches + sw.byte;
    b[at] = p[sw.param]! >= 1 ? b[at]! | (1 << sw.bit) : b[at]! & ~(1 << sw.bit);
  }
  return b;
}

/**
 * 0xA1: the catalog values that differ from what the pack holds go to writeParameters (one
 * call, refused whole); the raw-only bytes are kept by the device. Counts other than
 * 60/27/8 are invalid data.
 */
function writeBlock(pack: SimPackApi, info: Uint8Array): CommandResult {
  if (
    info.length !== BLOCK.length ||
    info[BLOCK.wordCount] !== BLOCK.wordsN ||
    info[BLOCK.byteCountAt] !== BLOCK.bytesN ||
    info[BLOCK.switchCountAt] !== BLOCK.switchesN
  ) {
    return { ok: false, reason: 'not a 169-byte 60/27/8 parameter block' };
  }
  const frame = buildFrame(0x20, pack.address, 0x46, 0, info);
  const decoded = decodeSeplos(frame, { request: Uint8Array.of(CID2.PARAMETERS) });
  const next = decoded.raw?.parameters as Record<string, number>;
  const now = values(pack, pack.snapshot());
  const changes: Record<string, number> = {};
  for (const [id, v] of Object.entries(next)) {
    if (id === 'cell_count') {
      if (v !== pack.snapshot().cell_count) {
        return { ok: false, reason: 'the series cell count cannot be changed' };
      }
      continue;
    }
    const cur = now[id];
    if (cur === undefined || Math.abs(cur - v) > 1e-6) changes[id] = v;
  }
  if (Object.keys(changes).length > 0) {
    const r = pack.writeParameters(changes);
    if (!r.ok) return r;
  }
  // Raw-only fields and switch bits the catalog does not cover are kept as sent.
  stateOf(pack).block = Array.from(info);
  return { ok: true };
}

/** Event bits of the active alarms (code and level), reverse of the decoder's tables. */
function eventBytes(alarms: readonly Alarm[]): number[] {
  const out = [0, 0, 0, 0, 0, 0];
  for (const a of alarms) {
    const level = a.level ?? (a.severity === 'warning' ? 1 : 2);
    for (const ev of ALARM_EVENTS) {
      const bit =
        ev.bits.find((b) => b.code === a.code && b.level === level) ??
        ev.bits.find((b) => b.code === a.code && b.level === undefined) ??
        (level >= 2 ? ev.bits.find((b) => b.code === a.code && b.level === 2) : undefined);
      if (bit) {
        out[ev.offset]! |= 1 << bit.bit;
        break;
      }
    }
  }
  return out;
}

/** 0x42 INFO of one pack. */
function telemetry(pack: SimPackApi, s: Reading, group: number): number[] {
  const cells = (s.cell_mv ?? []).slice(0, 48);
  const temps = [...(s.temps_c ?? []), s.env_temp_c ?? 25, s.mos_temp_c ?? 25];
  const out = [0x00, group, cells.length];
  for (const mv of cells) put16(out, u16(mv));
  out.push(temps.length);
  for (const t of temps) put16(out, dk(t));
  put16(out, i16((s.current_a ?? 0) * 100));
  put16(out, u16((s.voltage_v ?? 0) * 100));
  put16(out, u16((s.remaining_ah ?? 0) * 100));
  out.push(TELEMETRY_CUSTOM_COUNT);
  put16(out, u16((s.full_ah ?? 0) * 100));
  put16(out, u16((s.soc_pct ?? 0) * 10));
  put16(out, u16((s.design_ah ?? 0) * 100));
  put16(out, u16(s.cycles ?? 0));
  put16(out, u16((s.soh_pct ?? 100) * 10));
  put16(out, u16((s.voltage_v ?? 0) * 100)); // port voltage: the pack's own terminals
  for (let i = 0; i < TELEMETRY_CUSTOM_COUNT - 6; i++) put16(out, 0);
  return out;
}

/** 0x44 INFO of one pack. */
function signals(pack: SimPackApi, s: Reading, group: number): number[] {
  const p = values(pack, s);
  const cells = (s.cell_mv ?? []).slice(0, 48);
  const temps = [...(s.temps_c ?? []), s.env_temp_c ?? 25, s.mos_temp_c ?? 25];
  const open = new Set((s.raw?.open_sensors as number[] | undefined) ?? []);
  const alarms = pack.activeAlarms();
  const has = (code: string): boolean => alarms.some((a) => a.code === code);
  const out = [0x00, group, cells.length];
  for (const mv of cells) {
    out.push(mv > (p.cell_ov_l1_mv ?? Infinity) ? 0x02 : mv < (p.cell_uv_l1_mv ?? 0) ? 0x01 : 0);
  }
  out.push(temps.length);
  temps.forEach((_, i) => out.push(open.has(i) ? 0xf0 : 0));
  out.push(has('chg_oc') || has('dsg_oc') ? 0x02 : 0);
  out.push(has('pack_ov') ? 0x02 : has('pack_uv') ? 0x01 : 0);
  out.push(SIGNAL_CUSTOM_COUNT);
  out.push(...eventBytes(alarms));
  const sw = (s.discharge_mos ? 0x01 : 0) | (s.charge_mos ? 0x02 : 0) | (s.heater ? 0x08 : 0);
  out.push(sw);
  let bal1 = 0;
  let bal2 = 0;
  (s.cell_balancing ?? []).slice(0, 16).forEach((on, i) => {
    if (on) {
      if (i < 8) bal1 |= 1 << i;
      else bal2 |= 1 << (i - 8);
    }
  });
  out.push(bal1, bal2);
  const current = s.current_a ?? 0;
  const sys =
    current < -0.05 ? 0x01 : current > 0.05 ? 0x02 : (s.soc_pct ?? 0) >= 100 ? 0x08 : 0x10;
  out.push(sys, 0, 0, 0);
  let ev8 = 0;
  for (const b of EVENT8_BITS) if (b.code && has(b.code)) ev8 |= 1 << b.bit;
  out.push(ev8);
  // Five reserved bytes, then the operating mode again (as every capture shows).
  out.push(0, 0, 0, 0, 0, sys);
  return out;
}

/** The 0x51 text for the selected CAN protocol (the names current firmware shows). */
const CAN_TEXT: Readonly<Record<number, string>> = {
  1: 'CAN:PNG_DYE_Luxp_TBB',
  2: 'CANProtocol:Growatt',
  3: 'CANProtocol:Victron',
  4: 'CANProtocol:Sofar',
  5: 'CANProtocol:Solis',
  6: 'CANProtocol:Studer',
  7: 'CANProtocol:MUST',
};

function clockInfo(pack: SimPackApi): number[] {
  const d = new Date(pack.clock());
  const y = d.getUTCFullYear();
  return [
    y >> 8,
    y & 0xff,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ];
}

function control(pack: SimPackApi, item: number, action: number): CommandResult {
  switch (item) {
    case CONTROL_ITEMS.discharge_switch:
    case CONTROL_ITEMS.charge_switch: {
      if (action !== CONTROL_ON && action !== CONTROL_OFF) {
        return { ok: false, reason: `action 0x${action.toString(16)} is neither on nor off` };
      }
      return pack.setMos(
        item === CONTROL_ITEMS.charge_switch ? 'charge' : 'discharge',
        action === CONTROL_ON,
      );
    }
    case CONTROL_ITEMS.heater:
      return pack.writeParameters({ heater_enabled: action === CONTROL_ON ? 1 : 0 });
    case CONTROL_ITEMS.shutdown: {
      // Both switches open (the pack sleeps until woken); refused while current flows.
      const d = pack.setMos('discharge', false);
      if (!d.ok) return d;
      const c = pack.setMos('charge', false);
      if (!c.ok) pack.setMos('discharge', true);
      return c;
    }
    case CONTROL_ITEMS.restore_factory_settings:
      pack.restoreDefaults();
      stateOf(pack).block = initialBlock(pack);
      return { ok: true };
    default:
      return { ok: false, reason: `switch item ${item} is not one the pack has` };
  }
}

function handle(request: Uint8Array, pack: SimPackApi, _bus: BusView): Uint8Array | undefined {
  const h = readHeader(request);
  if (!h || REPLY_CODES.has(h.cid2) || h.adr !== pack.address) return undefined;
  let req: ReturnType<typeof parseV2Request>;
  try {
    req = parseV2Request(request);
  } catch (e) {
    // The precise return code for a damaged envelope, as readRequest judges it.
    readRequest(request);
    throw isBmsError(e) ? new RtnError(RTN.FORMAT, e.message) : e;
  }
  if (h.cid1 !== 0x46) throw new RtnError(RTN_CID1, 'CID1 is not battery data');
  const adr = pack.address;
  const ok = (info: readonly number[] = []): Uint8Array =>
    buildFrame(0x20, adr, 0x46, RTN.OK, info);
  const a = (req.args ?? {}) as Record<string, unknown>;
  const refuse = (r: CommandResult): Uint8Array => {
    if (!r.ok) throw new RtnError(RTN.DATA, r.reason);
    return ok();
  };
  const group = (): number => {
    const g = a.group === undefined ? adr : Number(a.group);
    if (g !== adr)
      throw new RtnError(RTN.ADR, `command group 0x${g.toString(16)} is not this pack`);
    return g;
  };
  switch (req.command) {
    case 'protocol_version':
      return ok();
    case 'device_info': {
      const st = stateOf(pack);
      return ok([
        ...asciiField(pack.info.model, 10, 0x20),
        ...versionBytes(pack.info.sw_version, 2),
        ...asciiField(CAN_TEXT[st.canProtocol] ?? '', 20, 0x20),
      ]);
    }
    case 'telemetry':
      return ok(telemetry(pack, pack.snapshot(), group()));
    case 'telesignalling':
      return ok(signals(pack, pack.snapshot(), group()));
    case 'parameters':
      return ok(block(pack));
    case 'write_parameters':
      return refuse(writeBlock(pack, Uint8Array.from(a.block as number[])));
    case 'read_clock':
      return ok(clockInfo(pack));
    case 'set_clock':
      pack.setClock(
        Date.UTC(
          Number(a.year),
          Number(a.month) - 1,
          Number(a.day),
          Number(a.hour),
          Number(a.minute),
          Number(a.second),
        ),
      );
      return ok();
    case 'control':
      return refuse(control(pack, Number(a.item), Number(a.action)));
    case 'calibrate': {
      // The simulated sensors need no calibration: an index the unit has is acknowledged.
      const index = Number(a.index);
      if (index > 2)
        throw new RtnError(RTN.DATA, `calibration index ${index} is not one the unit has`);
      return ok();
    }
    case 'set_can_protocol': {
      const code = Number(a.protocol);
      if (!V2_CAN_PROTOCOLS.some((p) => p.code === code)) {
        throw new RtnError(RTN.DATA, `CAN protocol ${code} is not in the list`);
      }
      stateOf(pack).canProtocol = code;
      return ok();
    }
    default:
      throw new RtnError(RTN.CID2, `CID2 0x${h.cid2.toString(16)} is not a Seplos command`);
  }
}

function errorReply(request: Uint8Array, err: unknown): Uint8Array | undefined {
  const h = readHeader(request);
  if (!h || REPLY_CODES.has(h.cid2) || !isBmsError(err)) return undefined;
  const rtn =
    err instanceof RtnError ? err.rtn : err.code === 'FRAME_CHECKSUM' ? RTN.CHKSUM : RTN.DATA;
  return buildFrame(0x20, h.adr, 0x46, rtn, []);
}

export const deviceV2: DeviceProtocol = {
  id: 'seplos',
  createRequestFramer,
  addressOf: (request) => readHeader(request)?.adr,
  addresses(n: number): number[] {
    if (!(Number.isInteger(n) && n >= 0 && n <= 16)) {
      throw new BmsError('INVALID_ARGUMENT', 'a Seplos V2 bus has 0..16 packs (ADR 0..15)');
    }
    return Array.from({ length: n }, (_, i) => i);
  },
  handle,
  errorReply,
  tempSensors: 4,
  factoryDefaults: seplosDefaults,
  // The BMS has only the parameters its protocol carries (no invisible level-1 set).
  ownParameters: true,
};
