/**
 * Control and parameter operations of the JK family (see README.md, "Control and
 * parameters"). Pure builders, no I/O. ControlTarget.variant selects the link like the
 * read session does:
 *  - 'JK02_32S' (default) / 'JK02_24S': JK-PB RS485. Parameters are read with the settings
 *    trigger (0x161E -> settings record) and written with Modbus FC 0x10 to the official
 *    map's settings block (0x1000 + record offset - 6), one 4-byte field (two registers,
 *    big-endian) per step; the unit answers with the FC 0x10 ACK or a Modbus exception.
 *    The MOSFETs are the charge / discharge switch fields (0x1070 / 0x1074).
 *  - '4E57': 4E57 item writes (command 0x02); the BMS answers with the item as it now
 *    stands, so an echo of another value is a refusal.
 * There is no SOC or clock write on either link, so setSoc / setClock are absent.
 */
import { BmsError, ensure, parameter, type ParameterDef, type Reading } from '@openbms/core';
import type { ControlOps, ControlStep, ControlTarget, ReadSession } from '../types.js';
import { EXCEPTION_NAMES, FC, parseModbusReply, type ModbusReply } from '../modbus-rtu/codec.js';
import { sequentialSession } from '../util/session.js';
import {
  CELL_INFO,
  NW_CMD,
  NW_ITEMS,
  NW_PARAMS,
  NW_VARIANT,
  SETTINGS,
  type Layout,
  type SettingField,
} from './fields.js';
import { decodeNw, isNwStart } from './nw.js';
import { decodeRecord, isRecordHeader, layoutOf } from './record.js';
import { encodeRequest } from './requests.js';
import { nwStep, pbReply, pbStep } from './session.js';

/** Official JK-PB Modbus map: settings block base; register = base + record offset - 6. */
const SETTINGS_BASE = 0x1000;
const RECORD_DATA_START = 6;

type Link = { kind: 'pb'; unit: number; layout: Layout } | { kind: 'nw' };

function linkOf(t: ControlTarget): Link {
  if (t.variant !== undefined && t.variant.toUpperCase() === NW_VARIANT) return { kind: 'nw' };
  const layout = t.variant === undefined ? 'JK02_32S' : layoutOf(t.variant);
  if (!layout) {
    throw new BmsError(
      'VARIANT_UNKNOWN',
      `unknown JK variant "${String(t.variant)}" (known: JK02_32S, JK02_24S, 4E57)`,
    );
  }
  // Unit 0 is the bus master / broadcast: a write to it would never be acknowledged.
  ensure(
    Number.isInteger(t.address) && t.address >= 1 && t.address <= 247,
    'INVALID_ARGUMENT',
    `JK-PB address must be 1..247 (got ${t.address})`,
  );
  return { kind: 'pb', unit: t.address, layout };
}

const hex = (v: number, digits: number): string =>
  `0x${v.toString(16).toUpperCase().padStart(digits, '0')}`;

// ---- parameter tables ----

/**
 * Settings fields the JK-PB takes FC 0x10 writes for: the whole 4-byte fields with a catalog
 * id. The one-byte JK02_32S fields (discharge under-temperature at 296/297) cannot be
 * written as whole registers, so they are read-only on this link.
 */
/**
 * Never written remotely: a wrong cell count leaves cells unprotected (the BMS stops
 * watching them), and there is no read-back that could catch a miscount. Set it on the
 * device itself.
 */
const NEVER_WRITTEN = new Set(['cell_count']);

const PB_WRITABLE: ReadonlyMap<string, SettingField> = new Map(
  SETTINGS.filter(
    (f) =>
      f.param !== undefined &&
      !NEVER_WRITTEN.has(f.param) &&
      !f.only32 &&
      (f.kind === 'u32' || f.kind === 'i32' || f.kind === 'bool'),
  ).map((f) => [f.param!, f]),
);

/** 4E57 item of each catalog id. */
const NW_ITEM_OF: ReadonlyMap<string, number> = new Map(
  NW_PARAMS.filter(([, id]) => !NEVER_WRITTEN.has(id)).map(([item, id]) => [id, item]),
);

/** Every catalog id one of the links can write (the union; each link rejects the others). */
export const WRITABLE_PARAMETERS: readonly string[] = [
  ...new Set([...PB_WRITABLE.keys(), ...NW_ITEM_OF.keys()]),
];

/** Resolution of a settings field in catalog units (mV, A, degC, s...). */
function fieldResolution(f: SettingField): number {
  return f.kind === 'bool' ? 1 : tidy(f.scale * (f.paramScale ?? 1));
}

function nwResolution(item: number): number {
  return NW_ITEMS.get(item)?.scale ?? 1;
}

function decimalsOf(res: number): number {
  return Math.max(0, Math.round(-Math.log10(res)));
}

function tidy(x: number): number {
  const r = Math.round(x * 1e9) / 1e9;
  return r === 0 ? 0 : r;
}

/** Rounds a decoded value to the wire resolution (drops float noise of the scaling). */
function roundTo(v: number, res: number): number {
  const r = Number((Math.round(v / res) * res).toFixed(decimalsOf(res)));
  return r === 0 ? 0 : r;
}

function defOf(id: string): ParameterDef {
  const def = parameter(id);
  if (!def) throw new BmsError('PARAM_UNKNOWN', `unknown parameter "${id}"`, { id });
  return def;
}

/**
 * Catalog value -> wire integer. Throws PARAM_STEP when the value is not a whole number of
 * wire steps, PARAM_OUT_OF_RANGE when the integer does not fit the wire field.
 */
function toWire(def: ParameterDef, value: number, res: number, lo: number, hi: number): number {
  if (def.kind === 'switch') {
    ensure(value === 0 || value === 1, 'PARAM_OUT_OF_RANGE', `${def.id}: a switch is 0 or 1`, {
      id: def.id,
      value,
    });
    return value;
  }
  const w = value / res;
  const r = Math.round(w);
  if (!Number.isFinite(w) || Math.abs(w - r) > 1e-6) {
    throw new BmsError(
      'PARAM_STEP',
      `${def.id}: ${value} ${def.unit} cannot be sent exactly; the JK wire resolution is ${res} ${def.unit}`,
      { id: def.id, value, step: res },
    );
  }
  if (r < lo || r > hi) {
    throw new BmsError(
      'PARAM_OUT_OF_RANGE',
      `${def.id}: ${value} ${def.unit} does not fit the JK wire field (${tidy(lo * res)}..${tidy(hi * res)} ${def.unit})`,
      { id: def.id, value, min: tidy(lo * res), max: tidy(hi * res) },
    );
  }
  return r === 0 ? 0 : r;
}

// ---- JK-PB RS485 (Modbus FC 0x10 on the settings block) ----

/** A Modbus reply frame (bare, or behind the 0x00 a JK-PB puts after a record), if `f` is one. */
function modbusOf(f: Uint8Array): ModbusReply | undefined {
  if (f.length < 5 || isRecordHeader(f) || isNwStart(f)) return undefined;
  const body = f[0] === 0 && (f.length === 9 || f.length === 6) ? f.subarray(1) : f;
  try {
    return parseModbusReply(body);
  } catch {
    return undefined;
  }
}

const EXCEPTION_MEANING: Record<number, string> = {
  1: 'the unit does not take this function',
  2: 'the register is not a writable settings field on this unit or firmware',
  3: "the value is outside the BMS's range or inconsistent with its other settings",
  4: 'the BMS could not carry it out now (e.g. its MOSFET interlock while current flows)',
};

function pbRegister(f: SettingField): number {
  return SETTINGS_BASE + f.offset - RECORD_DATA_START;
}

/** One FC 0x10 write of a whole 4-byte settings field (two registers, high word first). */
function pbWriteStep(
  name: string,
  unit: number,
  field: SettingField,
  wire: number,
  what: string,
): ControlStep {
  const register = pbRegister(field);
  const u = wire < 0 ? wire + 2 ** 32 : wire;
  const values = [Math.floor(u / 0x10000), u % 0x10000];
  return {
    name,
    request: encodeRequest({ command: 'modbus_write', address: unit, args: { register, values } }),
    accepts(f: Uint8Array): boolean {
      const m = modbusOf(f);
      if (!m || m.unit !== unit || m.fn !== FC.WRITE_MULTIPLE) return false;
      return m.kind === 'exception' || (m.kind === 'write_multiple' && m.start === register);
    },
    complete: (frames) => frames.length > 0,
    result(frames: Uint8Array[]) {
      const last = frames[frames.length - 1];
      const m = last ? modbusOf(last) : undefined;
      if (!m || m.unit !== unit) {
        throw new BmsError('FRAME_UNEXPECTED', `no FC 0x10 reply of JK-PB unit ${unit} to ${what}`);
      }
      if (m.kind === 'exception') {
        const meaning = EXCEPTION_MEANING[m.exceptionCode] ?? m.exception;
        throw new BmsError(
          'COMMAND_REFUSED',
          `JK-PB unit ${unit} refused ${what}: Modbus exception ${m.exceptionCode} (${EXCEPTION_NAMES[m.exceptionCode] ?? 'unknown'}): ${meaning}`,
          { exception: m.exceptionCode, register },
        );
      }
      if (m.kind !== 'write_multiple' || m.start !== register || m.count !== 2) {
        throw new BmsError(
          'FRAME_UNEXPECTED',
          `JK-PB unit ${unit} acknowledged another write than ${what}`,
        );
      }
      const reading: Reading = {
        address: unit,
        raw: { ack_register: m.start, ack_count: m.count },
      };
      return { reading };
    },
  };
}

function settingByKey(key: string): SettingField {
  const f = SETTINGS.find((s) => s.key === key);
  if (!f) throw new BmsError('INTERNAL', `JK settings table has no ${key}`);
  return f;
}

/** Catalog parameters of a decoded settings record (decodeSettings' reading and raw keys). */
function pbParameters(r: Reading, layout: Layout): Record<string, number> {
  const raw = r.raw ?? {};
  const out: Record<string, number> = {};
  for (const f of SETTINGS) {
    if (!f.param || (f.only32 && layout !== 'JK02_32S')) continue;
    // decodeSettings reports the configured cell count as the reading's cell_count.
    const v = f.key === 'cell_count' ? (r.cell_count ?? raw.cell_count_setting) : raw[f.key];
    if (typeof v === 'boolean') out[f.param] = v ? 1 : 0;
    else if (typeof v === 'number') {
      out[f.param] = roundTo(v * (f.paramScale ?? 1), fieldResolution(f));
    }
  }
  if (layout === 'JK02_32S' && Array.isArray(raw.features)) {
    out.heater_enabled = raw.features.includes('heating') ? 1 : 0;
  }
  return out;
}

// ---- 4E57 item writes ----

function nwWriteStep(name: string, item: number, wire: number, what: string): ControlStep {
  const def = NW_ITEMS.get(item)!;
  const scale = def.scale ?? 1;
  return {
    name,
    request: encodeRequest({ command: 'nw_write', args: { item, value: wire } }),
    accepts: (f) =>
      isNwStart(f) && f.length > 11 && f[10] !== 0 && f[8] === NW_CMD.write && f[11] === item,
    complete: (frames) => frames.length > 0,
    result(frames: Uint8Array[]) {
      const last = frames[frames.length - 1];
      if (!last) throw new BmsError('FRAME_UNEXPECTED', `no 4E57 reply to ${what}`);
      const r = decodeNw(last);
      const got = r.raw?.[def.key];
      if (typeof got !== 'number') {
        throw new BmsError(
          'FRAME_UNEXPECTED',
          `the 4E57 reply to ${what} does not carry item ${hex(item, 2)}`,
        );
      }
      const want = tidy(wire * scale);
      if (Math.abs(got - want) > scale / 2) {
        throw new BmsError(
          'COMMAND_REFUSED',
          `the JK BMS refused ${what}: it answered item ${hex(item, 2)} (${def.key}) = ${got}, not ${want}`,
          { item, value: got, requested: want },
        );
      }
      const reading: Reading = { raw: { [def.key]: got } };
      if (item === 0xab) reading.charge_mos = got !== 0;
      if (item === 0xac) reading.discharge_mos = got !== 0;
      return { reading };
    },
  };
}

function nwParameters(raw: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [item, id] of NW_PARAMS) {
    const v = raw[NW_ITEMS.get(item)?.key ?? ''];
    if (typeof v !== 'number') continue;
    out[id] = parameter(id)?.kind === 'switch' ? (v !== 0 ? 1 : 0) : roundTo(v, nwResolution(item));
  }
  return out;
}

// ---- write planning ----

interface PlannedWrite {
  id: string;
  def: ParameterDef;
  value: number;
  /** Position in the link's field order (record offset or item id). */
  pos: number;
  build(name: string): ControlStep;
}

/** The value the BMS holds now, from the snapshot the gateway passes (if it has it). */
function currentValue(t: ControlTarget, link: Link, id: string): number | undefined {
  const raw = t.snapshot?.raw;
  if (!raw) return undefined;
  const params = raw.parameters as Record<string, unknown> | undefined;
  const p = params?.[id];
  if (typeof p === 'number') return p;
  if (link.kind === 'pb') {
    const f = PB_WRITABLE.get(id);
    const v = f ? raw[f.key] : undefined;
    return typeof v === 'number' ? tidy(v * (f?.paramScale ?? 1)) : undefined;
  }
  const item = NW_ITEM_OF.get(id);
  const v = item === undefined ? undefined : raw[NW_ITEMS.get(item)?.key ?? ''];
  return typeof v === 'number' ? v : undefined;
}

/**
 * Orders single-field writes so each one leaves the BMS with a consistent set (the BMS
 * checks every write against what it holds):
 *  - switches turned off go first, switches turned on last;
 *  - a recovery goes before its threshold when the new threshold would otherwise cross the
 *    recovery the BMS still holds (e.g. lowering both cell OV values).
 */
function order(t: ControlTarget, link: Link, plan: PlannedWrite[]): PlannedWrite[] {
  const key = new Map<PlannedWrite, number>();
  const byId = new Map(plan.map((w) => [w.id, w]));
  for (const w of plan) {
    let k = w.pos;
    if (w.def.kind === 'switch') k = w.value === 0 ? -1e6 + w.pos : 1e6 + w.pos;
    if (w.def.kind === 'recovery') {
      const thr = byId.get(w.id.replace('_recover', ''));
      const cur = currentValue(t, link, w.id);
      if (thr && cur !== undefined) {
        const crosses = w.def.direction === 'high' ? thr.value <= cur : thr.value >= cur;
        if (crosses) k = thr.pos - 0.5;
      }
    }
    key.set(w, k);
  }
  return [...plan].sort((a, b) => key.get(a)! - key.get(b)!);
}

function describe(def: ParameterDef, value: number): string {
  return `${def.id} = ${value}${def.unit ? ` ${def.unit}` : ''}`;
}

function planPb(unit: number, layout: Layout, id: string, value: number): PlannedWrite {
  const def = defOf(id);
  const f = PB_WRITABLE.get(id);
  if (!f) {
    throw new BmsError(
      'PARAM_UNKNOWN',
      `JK-PB RS485 cannot write "${id}" (writable: ${[...PB_WRITABLE.keys()].join(', ')})`,
      { id },
    );
  }
  const signed = f.kind === 'i32';
  // The record's cell mask holds 24 (JK02_24S) or 32 (JK02_32S) cells: no more can be set.
  const hi = id === 'cell_count' ? CELL_INFO[layout].maxCells : signed ? 2 ** 31 - 1 : 2 ** 32 - 1;
  const wire = toWire(def, value, fieldResolution(f), signed ? -(2 ** 31) : 0, hi);
  const what = `${describe(def, value)} (register ${hex(pbRegister(f), 4)} = ${wire})`;
  return { id, def, value, pos: f.offset, build: (name) => pbWriteStep(name, unit, f, wire, what) };
}

function planNw(id: string, value: number): PlannedWrite {
  const def = defOf(id);
  const item = NW_ITEM_OF.get(id);
  const info = item === undefined ? undefined : NW_ITEMS.get(item);
  if (item === undefined || !info) {
    throw new BmsError(
      'PARAM_UNKNOWN',
      `JK 4E57 cannot write "${id}" (writable: ${[...NW_ITEM_OF.keys()].join(', ')})`,
      { id },
    );
  }
  const span = 2 ** (8 * info.size);
  const signed = info.kind === 's';
  const wire = toWire(
    def,
    value,
    nwResolution(item),
    signed ? -span / 2 : 0,
    signed ? span / 2 - 1 : span - 1,
  );
  const what = `${describe(def, value)} (item ${hex(item, 2)} = ${wire})`;
  return { id, def, value, pos: item, build: (name) => nwWriteStep(name, item, wire, what) };
}

// ---- the operations ----

function setMos(t: ControlTarget, which: 'charge' | 'discharge', on: boolean): ControlStep[] {
  const link = linkOf(t);
  const what = `switching the ${which} MOSFET ${on ? 'on' : 'off'}`;
  const name = `${which}_mos_${on ? 'on' : 'off'}`;
  if (link.kind === 'nw')
    return [nwWriteStep(name, which === 'charge' ? 0xab : 0xac, on ? 1 : 0, what)];
  const field = settingByKey(which === 'charge' ? 'charge_switch' : 'discharge_switch');
  return [
    pbWriteStep(
      name,
      link.unit,
      field,
      on ? 1 : 0,
      `${what} (register ${hex(pbRegister(field), 4)})`,
    ),
  ];
}

function readParameters(t: ControlTarget): ReadSession {
  const link = linkOf(t);
  if (link.kind === 'nw') {
    return sequentialSession({
      steps: [nwStep()],
      decode: (_step, bytes): Reading => {
        const r = decodeNw(bytes);
        r.raw = { ...r.raw, parameters: nwParameters(r.raw ?? {}) };
        return r;
      },
    });
  }
  const { unit, layout } = link;
  return sequentialSession({
    steps: [pbStep('settings', 'pb_read_settings', unit, false)],
    decode: (_step, bytes): Reading => {
      const r = decodeRecord(pbReply(bytes, unit), layout);
      r.raw = { ...r.raw, parameters: pbParameters(r, layout) };
      return r;
    },
  });
}

function writeParameters(t: ControlTarget, values: Record<string, number>): ControlStep[] {
  const link = linkOf(t);
  // Every value is checked before any step exists: a bad value never leaves a half write.
  const plan = Object.entries(values).map(([id, v]) =>
    link.kind === 'nw' ? planNw(id, v) : planPb(link.unit, link.layout, id, v),
  );
  return order(t, link, plan).map((w) => w.build(`write_${w.id}`));
}

export const control: ControlOps = {
  setMos,
  readParameters,
  writableParameters: WRITABLE_PARAMETERS,
  writeParameters,
};
