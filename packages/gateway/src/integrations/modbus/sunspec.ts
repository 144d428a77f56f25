/**
 * A SunSpec map of each pack, beside seed 001's block, so inverters, evcc and SunSpec tools
 * can read it: "SunS" at register 40000, model 1 (common: who made the pack), model 802
 * (battery base: nameplate, SOC, SOH, cycles, state, events, voltage, cell voltages,
 * current, power), model 804 (lithium-ion string) and the end model. Layout and lengths are
 * the SunSpec model definitions (sunspec/models `model_1.json`, `model_802.json`,
 * `model_804.json`): 66, 62 and 46 + 16 x modules registers after each model's ID and L.
 * Read-only (the RW points are not writable here: control goes through the seed block's MOS
 * registers or the API).
 *
 * Why 804 and not 803: one pack is one BMS over one series string of cells. Model 803
 * (lithium-ion bank) describes parallel strings, each a repeating block, and would say
 * nothing 802 does not; 804 describes one string as a series of modules, with the index of
 * the cell at the extremes per module. A pack is served as a string of one module holding
 * all its cells (the BMS does not report its cells' grouping into modules).
 *
 * SunSpec encodings: big-endian words, uint32 high word first; a point the pack does not
 * report holds the "not implemented" value (uint16/enum16 0xFFFF, int16 0x8000, uint32 and
 * bitfield32 0xFFFFFFFF); scale factors (sunssf) are constants here: value = register x
 * 10^sf. Current and power are positive while the pack DISCHARGES (energy flows to the
 * inverter: the storage models' view), the opposite of the canonical `current_a`.
 */
import { CHEMISTRY_LIMITS, type Alarm, type Reading } from '@openbms/core';
import type { PackStatus } from '../../types.js';

/** Where the map starts (the SunSpec base address most tools probe first). */
export const SUNSPEC_BASE = 40000;

const COMMON_LEN = 66;
const BATTERY_LEN = 62;
/** Model 804's fixed block and its repeating module block (lithium_ion_string_module). */
const STRING_FIXED_LEN = 46;
const STRING_MODULE_LEN = 16;
/** Modules per string as served: the whole pack is one module. */
const MODULES = 1;
const STRING_LEN = STRING_FIXED_LEN + STRING_MODULE_LEN * MODULES;
/** "SunS", model 1 (ID, L, 66), model 802 (ID, L, 62), model 804 (ID, L, 62), end (0xFFFF, 0). */
export const SUNSPEC_SIZE = 2 + 2 + COMMON_LEN + 2 + BATTERY_LEN + 2 + STRING_LEN + 2;

const NI16 = 0xffff;
const NI_S16 = 0x8000;

/** Scale factors of model 802 (10^sf). */
export const SF = {
  AHRtg: -1,
  WHRtg: 1,
  WChaDisChaMax: 0,
  SoC: -1,
  DoD: -1,
  SoH: -1,
  V: -2,
  CellV: -3,
  A: -1,
  AMax: -1,
  W: 0,
} as const;

/** Scale factors of model 804 (10^sf); ModTmp is every temperature of the model. */
export const SF_STRING = {
  SoC: -1,
  SoH: -1,
  DoD: -1,
  A: -1,
  V: -2,
  CellV: -3,
  ModTmp: -1,
} as const;

export interface SunSpecContext {
  status: PackStatus;
  snap: Reading;
  /** The unit id the client reads (common model DA). */
  unit: number;
  /** Seconds since the server started (battery heartbeat). */
  uptimeS: number;
  /** The gateway's alarms of the pack (comm_lost, rules) besides the BMS's own. */
  alarms: readonly Pick<Alarm, 'code' | 'severity'>[];
}

const str = (s: string, regs: number): number[] => {
  const b = Buffer.alloc(regs * 2); // NUL-padded, as SunSpec strings are
  b.write(s.slice(0, regs * 2), 'latin1');
  return Array.from({ length: regs }, (_, i) => b.readUInt16BE(i * 2));
};

const u16 = (v: number | undefined, sf = 0): number =>
  v === undefined || !Number.isFinite(v)
    ? NI16
    : Math.max(0, Math.min(0xfffe, Math.round(v / 10 ** sf)));
const s16 = (v: number | undefined, sf = 0): number =>
  v === undefined || !Number.isFinite(v)
    ? NI_S16
    : Math.max(-0x7fff, Math.min(0x7fff, Math.round(v / 10 ** sf))) & 0xffff;
const u32 = (v: number | undefined): number[] => {
  if (v === undefined || !Number.isFinite(v)) return [0xffff, 0xffff];
  const n = Math.max(0, Math.min(0xfffffffe, Math.round(v)));
  return [Math.floor(n / 0x10000), n % 0x10000];
};
const sf = (n: number): number => n & 0xffff;
const bits32 = (n: number | undefined): number[] =>
  n === undefined ? [0xffff, 0xffff] : [Math.floor(n / 0x10000), n % 0x10000];
const mv = (x: number | undefined): number | undefined => (x === undefined ? undefined : x / 1000);

/** Model 802 Evt1 bits, by alarm code: [bit for protection/fault, bit for warning]. */
const EVT1: Record<string, [number, number]> = {
  comm_lost: [0, 0],
  chg_ot: [1, 2],
  dsg_ot: [1, 2],
  mos_ot: [1, 2],
  env_ot: [1, 2],
  chg_ut: [3, 4],
  dsg_ut: [3, 4],
  env_ut: [3, 4],
  chg_oc: [5, 6],
  dsg_oc: [7, 8],
  short_circuit: [7, 7],
  cell_ov: [9, 10],
  pack_ov: [9, 10],
  cell_uv: [11, 12],
  pack_uv: [11, 12],
  soc_low: [13, 14],
  cell_diff: [17, 17],
  insulation: [22, 22],
};
const OTHER_ALARM = 25;
const OTHER_WARNING = 26;

export function evt1(alarms: readonly Pick<Alarm, 'code' | 'severity'>[]): number {
  let bits = 0;
  for (const a of alarms) {
    const warn = a.severity === 'warning';
    const pair = EVT1[a.code];
    const bit = pair ? pair[warn ? 1 : 0] : warn ? OTHER_WARNING : OTHER_ALARM;
    bits |= 2 ** bit;
  }
  return bits >>> 0;
}

/** Model 802 ChaSt: 1 off, 2 empty, 3 discharging, 4 charging, 5 full, 6 holding. */
function chargeStatus(s: Reading): number {
  if (s.charge_mos === false && s.discharge_mos === false) return 1;
  if (s.state === 'charging' || (s.current_a ?? 0) > 0.05) return 4;
  if (s.state === 'discharging' || (s.current_a ?? 0) < -0.05) return 3;
  if (s.soc_pct !== undefined && s.soc_pct >= 100) return 5;
  if (s.soc_pct !== undefined && s.soc_pct <= 0) return 2;
  return s.current_a === undefined && s.state === undefined ? NI16 : 6;
}

/** Model 802 State: 1 disconnected, 3 connected, 4 standby, 99 fault. */
function bankState(p: PackStatus, s: Reading, alarms: readonly { severity: string }[]): number {
  if (!p.online) return 1;
  if (s.state === 'fault' || alarms.some((a) => a.severity === 'fault')) return 99;
  if (s.charge_mos === false && s.discharge_mos === false) return 4;
  return 3;
}

/** The map of one pack: SUNSPEC_SIZE registers from SUNSPEC_BASE. */
export function sunspecBlock(c: SunSpecContext): number[] {
  const { status: p, snap: s } = c;
  const info = s.info;
  const common = [
    ...str(info?.manufacturer ?? `${p.protocol.toUpperCase()} BMS`, 16), // Mn
    ...str(info?.model ?? `${p.protocol} pack`, 16), // Md
    ...str(`OpenBMS ${p.protocol}`, 8), // Opt
    ...str(info?.sw_version ?? '', 8), // Vr
    ...str(info?.serial ?? p.id, 16), // SN
    c.unit & 0xffff, // DA
    0x8000, // Pad
  ];
  const ah = s.design_ah ?? s.full_ah;
  const cells = s.cell_count ?? s.cell_mv?.length;
  const nominalV =
    cells !== undefined
      ? (cells * CHEMISTRY_LIMITS[p.chemistry].nominal_cell_mv) / 1000
      : undefined;
  const wh = ah !== undefined && nominalV !== undefined ? ah * nominalV : undefined;
  const v = s.voltage_v;
  const wLimit = (a: number | undefined): number | undefined =>
    a !== undefined && v !== undefined ? Math.abs(a) * v : undefined;
  const alarms = [...(s.alarms ?? []), ...c.alarms];
  const out = (x: number | undefined): number | undefined => (x === undefined ? undefined : -x);
  // The pack is string 1, module 1: where 802 asks which string/module holds an extreme.
  const inString = (x: number | undefined): number => (x === undefined ? NI16 : 1);
  const battery = [
    u16(ah, SF.AHRtg), // AHRtg
    u16(wh, SF.WHRtg), // WHRtg
    u16(wLimit(s.charge_current_limit_a), SF.WChaDisChaMax), // WChaRteMax
    u16(wLimit(s.discharge_current_limit_a), SF.WChaDisChaMax), // WDisChaRteMax
    NI16, // DisChaRte
    NI16, // SoCMax
    NI16, // SoCMin
    NI16, // SoCRsvMax
    NI16, // SoCRsvMin
    u16(s.soc_pct, SF.SoC), // SoC
    u16(s.soc_pct === undefined ? undefined : 100 - s.soc_pct, SF.DoD), // DoD
    u16(s.soh_pct, SF.SoH), // SoH
    ...u32(s.cycles), // NCyc
    chargeStatus(s), // ChaSt
    1, // LocRemCtl: local (no remote control through SunSpec)
    Math.floor(c.uptimeS) % 0x10000, // Hb
    NI16, // CtrlHb
    0, // AlmRst
    4, // Typ: lithium-ion
    bankState(p, s, alarms), // State
    NI16, // StateVnd
    0xffff, // WarrDt (hi)
    0xffff, // WarrDt (lo)
    ...(() => {
      const e = evt1(alarms);
      return [Math.floor(e / 0x10000), e % 0x10000];
    })(), // Evt1
    0, // Evt2 (hi)
    0, // Evt2 (lo)
    0, // EvtVnd1 (hi)
    0, // EvtVnd1 (lo)
    0, // EvtVnd2 (hi)
    0, // EvtVnd2 (lo)
    u16(v, SF.V), // V
    NI16, // VMax
    NI16, // VMin
    u16(s.max_cell_mv === undefined ? undefined : s.max_cell_mv / 1000, SF.CellV), // CellVMax
    inString(s.max_cell_mv), // CellVMaxStr
    inString(s.max_cell_mv), // CellVMaxMod
    u16(s.min_cell_mv === undefined ? undefined : s.min_cell_mv / 1000, SF.CellV), // CellVMin
    inString(s.min_cell_mv), // CellVMinStr
    inString(s.min_cell_mv), // CellVMinMod
    u16(s.avg_cell_mv === undefined ? undefined : s.avg_cell_mv / 1000, SF.CellV), // CellVAvg
    s16(out(s.current_a), SF.A), // A: + discharging
    u16(
      s.charge_current_limit_a === undefined ? undefined : Math.abs(s.charge_current_limit_a),
      SF.AMax,
    ), // AChaMax
    u16(
      s.discharge_current_limit_a === undefined ? undefined : Math.abs(s.discharge_current_limit_a),
      SF.AMax,
    ), // ADisChaMax
    s16(
      out(
        s.power_w ?? (v !== undefined && s.current_a !== undefined ? v * s.current_a : undefined),
      ),
      SF.W,
    ), // W: + discharging
    NI16, // ReqInvState
    NI_S16, // ReqW
    NI16, // SetOp
    NI16, // SetInvState
    sf(SF.AHRtg),
    sf(SF.WHRtg),
    sf(SF.WChaDisChaMax),
    NI_S16, // DisChaRte_SF
    sf(SF.SoC),
    sf(SF.DoD),
    sf(SF.SoH),
    sf(SF.V),
    sf(SF.CellV),
    sf(SF.A),
    sf(SF.AMax),
    sf(SF.W),
  ];
  const string = stringModel(p, s, alarms, inString);
  if (
    common.length !== COMMON_LEN ||
    battery.length !== BATTERY_LEN ||
    string.length !== STRING_LEN
  ) {
    throw new Error(`SunSpec map miscounted: ${common.length}/${battery.length}/${string.length}`);
  }
  return [
    0x5375,
    0x6e53, // "SunS"
    1,
    COMMON_LEN,
    ...common,
    802,
    BATTERY_LEN,
    ...battery,
    804,
    STRING_LEN,
    ...string,
    0xffff,
    0, // end model
  ];
}

/**
 * Model 804 of one pack: the string (fixed block) and its one module (repeating block).
 * Temperatures are the cell sensors (`temps_c`, with the pack's min/max); the BMS does not
 * say which cell a sensor sits on, so the ...Cell points of temperatures are not implemented.
 */
function stringModel(
  p: PackStatus,
  s: Reading,
  alarms: readonly Pick<Alarm, 'code' | 'severity'>[],
  inString: (x: number | undefined) => number,
): number[] {
  const cellCount = s.cell_count ?? s.cell_mv?.length;
  const temps = s.temps_c?.filter((t) => Number.isFinite(t)) ?? [];
  const tMax = s.max_temp_c ?? (temps.length ? Math.max(...temps) : undefined);
  const tMin = s.min_temp_c ?? (temps.length ? Math.min(...temps) : undefined);
  const tAvg = temps.length ? temps.reduce((a, b) => a + b, 0) / temps.length : undefined;
  const mosKnown = s.charge_mos !== undefined && s.discharge_mos !== undefined;
  const closed = s.charge_mos === true && s.discharge_mos === true;
  // St: bit 0 string enabled (the gateway hears the pack), bit 1 contactor status (every
  // contactor closed: both MOSFETs on).
  const st = mosKnown || p.online ? (p.online ? 1 : 0) | (closed ? 2 : 0) : undefined;
  // ConFail: 8 string fault while a fault is active, 0 while connected, else unknown.
  const fault = s.state === 'fault' || alarms.some((a) => a.severity === 'fault');
  const conFail = fault ? 8 : closed ? 0 : NI16;
  // ConSt: the pack's two "contactors", bit 0 the charge MOSFET, bit 1 the discharge one.
  const conSt = mosKnown ? (s.charge_mos ? 1 : 0) | (s.discharge_mos ? 2 : 0) : undefined;
  const balancing = s.cell_balancing?.filter(Boolean).length;
  const out = (x: number | undefined): number | undefined => (x === undefined ? undefined : -x);
  const tmp = (t: number | undefined): number => s16(t, SF_STRING.ModTmp);
  const e = evt1(alarms);
  const fixed = [
    1, // Idx: string 1 (indices are 1-based)
    MODULES, // NMod
    ...bits32(st), // St
    conFail, // ConFail
    balancing ?? NI16, // NCellBal
    u16(s.soc_pct, SF_STRING.SoC), // SoC
    u16(s.soc_pct === undefined ? undefined : 100 - s.soc_pct, SF_STRING.DoD), // DoD
    ...u32(s.cycles), // NCyc
    u16(s.soh_pct, SF_STRING.SoH), // SoH
    s16(out(s.current_a), SF_STRING.A), // A: + discharging, as in 802
    u16(s.voltage_v, SF_STRING.V), // V
    u16(mv(s.max_cell_mv), SF_STRING.CellV), // CellVMax
    inString(s.max_cell_mv), // CellVMaxMod
    u16(mv(s.min_cell_mv), SF_STRING.CellV), // CellVMin
    inString(s.min_cell_mv), // CellVMinMod
    u16(mv(s.avg_cell_mv), SF_STRING.CellV), // CellVAvg
    tmp(tMax), // ModTmpMax
    inString(tMax), // ModTmpMaxMod
    tmp(tMin), // ModTmpMin
    inString(tMin), // ModTmpMinMod
    tmp(tAvg), // ModTmpAvg
    NI_S16, // Pad1
    ...bits32(conSt), // ConSt
    Math.floor(e / 0x10000), // Evt1 (hi)
    e % 0x10000, // Evt1 (lo)
    0, // Evt2 (hi)
    0, // Evt2 (lo)
    0, // EvtVnd1 (hi)
    0, // EvtVnd1 (lo)
    0, // EvtVnd2 (hi)
    0, // EvtVnd2 (lo)
    NI16, // SetEna (RW: not writable here)
    NI16, // SetCon (RW: not writable here)
    sf(SF_STRING.SoC),
    sf(SF_STRING.SoH),
    sf(SF_STRING.DoD),
    sf(SF_STRING.A),
    sf(SF_STRING.V),
    sf(SF_STRING.CellV),
    sf(SF_STRING.ModTmp),
    NI_S16, // Pad2
    NI_S16, // Pad3
    NI_S16, // Pad4
  ];
  const module = [
    cellCount ?? NI16, // ModNCell
    u16(s.soc_pct, SF_STRING.SoC), // ModSoC
    u16(s.soh_pct, SF_STRING.SoH), // ModSoH
    u16(mv(s.max_cell_mv), SF_STRING.CellV), // ModCellVMax
    s.max_cell_index ?? NI16, // ModCellVMaxCell (1-based, as the snapshot counts cells)
    u16(mv(s.min_cell_mv), SF_STRING.CellV), // ModCellVMin
    s.min_cell_index ?? NI16, // ModCellVMinCell (1-based)
    u16(mv(s.avg_cell_mv), SF_STRING.CellV), // ModCellVAvg
    tmp(tMax), // ModCellTmpMax
    NI16, // ModCellTmpMaxCell
    tmp(tMin), // ModCellTmpMin
    NI16, // ModCellTmpMinCell
    tmp(tAvg), // ModCellTmpAvg
    NI_S16, // Pad5
    NI_S16, // Pad6
    NI_S16, // Pad7
  ];
  return [...fixed, ...module];
}
