/**
 * The readable register image of a simulated DALY unit, built from the pack at request time.
 * Areas (anything else answers exception 2, illegal data address):
 *   d2:  0x0000 x 80 status, 0x0080 x 41 settings, 0x00A9 x 32 versions, 0x00C9 x 6 password
 *        and production date, 0x00CF balancer switch.
 *   p81: 0x0000 x 128 status, 0x00CF balancer switch, 0x0100 x 81 settings, 0x0178 x 74 versions.
 */
import type { Reading } from '@openbms/core';
import { BALANCER_SWITCH_REG, MAPS, PARAM_MAP, type Variant } from '@openbms/protocols/daly-modbus';
import type { SimPackApi } from '../../types.js';
import { alarmRegisters } from './alarms.js';
import { ascii, bool, current, NA, OFFSET, temp, toRaw, u, x10 } from './wire.js';

export interface Ctx {
  variant: Variant;
  pack: SimPackApi;
  snap: Reading;
}

interface Area {
  start: number;
  count: number;
  build(c: Ctx): number[];
}

const STATE_CODES: Record<string, number> = { idle: 0, charging: 1, discharging: 2 };

/** What both status maps derive from the snapshot: cells and sensors that fit the slots. */
function stats(c: Ctx) {
  const s = c.snap;
  const map = MAPS[c.variant];
  const cells = (s.cell_mv ?? []).slice(0, map.cellSlots);
  const temps = (s.temps_c ?? []).slice(0, map.tempSlots).map((t) => Math.round(t));
  const ext = (xs: number[], pick: (a: number, b: number) => boolean) => {
    let idx = -1;
    xs.forEach((v, i) => {
      if (idx < 0 || pick(v, xs[idx]!)) idx = i;
    });
    return idx < 0 ? undefined : { v: xs[idx]!, i: idx + 1 };
  };
  const maxC = ext(cells, (a, b) => a > b);
  const minC = ext(cells, (a, b) => a < b);
  const maxT = ext(temps, (a, b) => a > b);
  const minT = ext(temps, (a, b) => a < b);
  const avg = cells.length ? cells.reduce((a, b) => a + b, 0) / cells.length : undefined;
  const power =
    s.power_w ??
    (s.voltage_v !== undefined && s.current_a !== undefined
      ? s.voltage_v * s.current_a
      : undefined);
  const masks = [0, 0, 0];
  (s.cell_balancing ?? []).slice(0, map.cellSlots).forEach((on, i) => {
    if (on) masks[i >> 4] = masks[i >> 4]! | (1 << (i & 15));
  });
  return {
    cells,
    temps,
    maxC,
    minC,
    maxT,
    minT,
    avg,
    masks,
    power: power === undefined ? NA : u(Math.abs(power)),
    soc: s.soc_pct === undefined ? NA : Math.min(1000, x10(s.soc_pct)),
    state: STATE_CODES[s.state ?? ''] ?? 0,
    alarms: alarmRegisters(c.pack.activeAlarms(), s.state),
  };
}

function d2Status(c: Ctx): number[] {
  const s = c.snap;
  const t = stats(c);
  const r = new Array<number>(0x50).fill(0);
  t.cells.forEach((v, i) => (r[i] = u(v)));
  t.temps.forEach((v, i) => (r[0x20 + i] = temp(v)));
  r[0x28] = x10(s.voltage_v);
  r[0x29] = current(s.current_a);
  r[0x2a] = t.soc;
  r[0x2b] = u(t.maxC?.v);
  r[0x2c] = u(t.minC?.v);
  r[0x2d] = temp(t.maxT?.v);
  r[0x2e] = temp(t.minT?.v);
  r[0x2f] = t.state;
  r[0x30] = x10(s.remaining_ah);
  r[0x31] = t.cells.length;
  r[0x32] = t.temps.length;
  r[0x33] = u(s.cycles);
  r[0x34] = bool(s.balancing);
  r[0x35] = bool(s.charge_mos);
  r[0x36] = bool(s.discharge_mos);
  r[0x37] = u(t.avg);
  r[0x38] = t.maxC && t.minC ? t.maxC.v - t.minC.v : NA;
  r[0x39] = t.power;
  t.alarms.forEach((w, i) => (r[0x3a + i] = w));
  r[0x3e] = t.masks[0]!;
  r[0x3f] = t.masks[1]!;
  r[0x40] = u(OFFSET + Math.round((s.balance_current_a ?? 0) * 1000));
  r[0x42] = temp(s.mos_temp_c);
  r[0x43] = temp(s.board_temp_c);
  return r;
}

function p81Status(c: Ctx): number[] {
  const s = c.snap;
  const t = stats(c);
  const r = new Array<number>(0x80).fill(0);
  t.cells.forEach((v, i) => (r[i] = u(v)));
  t.temps.forEach((v, i) => (r[0x30 + i] = temp(v)));
  r[0x38] = x10(s.voltage_v);
  r[0x39] = current(s.current_a);
  r[0x3a] = t.soc;
  // Rolling counter on real units (changes every poll); the BMS clock's seconds here.
  r[0x3b] = Math.floor(c.pack.clock() / 1000) & 0xff;
  r[0x3c] = t.cells.length;
  r[0x3d] = t.temps.length;
  r[0x3e] = u(t.maxC?.v);
  r[0x3f] = u(t.maxC?.i);
  r[0x40] = u(t.minC?.v);
  r[0x41] = u(t.minC?.i);
  r[0x42] = t.maxC && t.minC ? t.maxC.v - t.minC.v : NA;
  r[0x43] = temp(t.maxT?.v);
  r[0x44] = u(t.maxT?.i);
  r[0x45] = temp(t.minT?.v);
  r[0x46] = u(t.minT?.i);
  r[0x47] = t.maxT && t.minT ? t.maxT.v - t.minT.v : NA;
  r[0x48] = t.state;
  r[0x4b] = x10(s.remaining_ah);
  r[0x4c] = u(s.cycles);
  r[0x4d] = bool(s.balancing);
  r[0x4e] = u(Math.abs(s.balance_current_a ?? 0) * 10);
  r[0x4f] = t.masks[0]!;
  r[0x50] = t.masks[1]!;
  r[0x51] = t.masks[2]!;
  r[0x52] = bool(s.charge_mos);
  r[0x53] = bool(s.discharge_mos);
  r[0x55] = bool(s.heater ?? false);
  r[0x57] = u(t.avg);
  r[0x58] = t.power;
  r[0x59] =
    s.remaining_ah !== undefined && s.voltage_v !== undefined
      ? u(s.remaining_ah * s.voltage_v)
      : NA;
  r[0x5a] = temp(s.mos_temp_c);
  r[0x5b] = temp(s.board_temp_c);
  r[0x5c] = NA; // heater temperature: no sensor
  r[0x5e] = NA; // remaining mileage: not a vehicle
  const i = s.current_a ?? 0;
  r[0x64] =
    i > 0.05 && s.full_ah !== undefined && s.remaining_ah !== undefined
      ? u(((s.full_ah - s.remaining_ah) / i) * 60)
      : NA;
  // Fault words: layout not established; the simulator puts the D2 fault bytes in type 1.
  t.alarms.forEach((w, k) => (r[0x66 + k] = w));
  return r;
}

function settings(count: number) {
  return (c: Ctx): number[] => {
    const s = c.snap;
    const p = c.pack.parameters();
    const r = new Array<number>(count).fill(0);
    const map = MAPS[c.variant];
    r[0x01] = c.pack.chemistry === 'nmc' ? 3700 : 3200;
    r[0x02] = 1;
    r[0x03] = Math.min(s.cell_mv?.length ?? 0, map.cellSlots);
    r[0x06] = Math.min(s.temps_c?.length ?? 0, map.tempSlots);
    r[0x09] = c.pack.chemistry === 'nmc' ? 1 : 0;
    for (const m of PARAM_MAP) {
      const v = p[m.id] ?? (m.id === 'design_capacity_ah' ? s.design_ah : undefined);
      r[m.offset] = toRaw(v, m.conv, m.id.startsWith('dsg_') ? -1 : 1);
    }
    if (c.variant === 'd2') {
      r[0x21] = 10; // temperature difference level 1 / 2, °C (fixed: not in the catalog)
      r[0x22] = 15;
      r[0x25] = bool(s.charge_mos);
      r[0x26] = bool(s.discharge_mos);
    } else {
      r[0x21] = bool(s.charge_mos);
      r[0x22] = bool(s.discharge_mos);
    }
    r[0x27] = x10(s.soc_pct);
    return r;
  };
}

function versions(c: Ctx): number[] {
  const i = c.pack.info;
  if (c.variant === 'd2') return [...ascii(i.sw_version, 16), ...ascii(i.hw_version, 16)];
  // p81: software, hardware, serial, (production date: not known), padding.
  const r = [...ascii(i.sw_version, 16), ...ascii(i.hw_version, 16), ...ascii(i.serial, 16)];
  while (r.length < 74) r.push(0);
  return r;
}

const balancerSwitch = (c: Ctx): number[] => [(c.pack.parameters().balance_enabled ?? 1) ? 1 : 0];

const AREAS: Record<Variant, readonly Area[]> = {
  d2: [
    { start: 0x0000, count: 0x50, build: d2Status },
    { start: MAPS.d2.settingsBase, count: 41, build: settings(41) },
    { start: MAPS.d2.versionReg, count: 32, build: versions },
    // Parameter password "123456" (ASCII, no NUL), production date and 0xCE: not provided.
    { start: 0x00c9, count: 6, build: () => [0x3132, 0x3334, 0x3536, NA, NA, NA] },
    { start: BALANCER_SWITCH_REG, count: 1, build: balancerSwitch },
  ],
  p81: [
    { start: 0x0000, count: 0x80, build: p81Status },
    { start: BALANCER_SWITCH_REG, count: 1, build: balancerSwitch },
    { start: MAPS.p81.settingsBase, count: 81, build: settings(81) },
    { start: MAPS.p81.versionReg, count: 74, build: versions },
  ],
};

/** Registers start..start+count-1, or undefined when one of them is not in any area. */
export function readWindow(c: Ctx, start: number, count: number): number[] | undefined {
  const out: number[] = [];
  const built = new Map<Area, number[]>();
  for (let reg = start; reg < start + count; reg++) {
    const area = AREAS[c.variant].find((a) => reg >= a.start && reg < a.start + a.count);
    if (!area) return undefined;
    let regs = built.get(area);
    if (!regs) {
      regs = area.build(c);
      built.set(area, regs);
    }
    out.push(regs[reg - area.start]!);
  }
  return out;
}
