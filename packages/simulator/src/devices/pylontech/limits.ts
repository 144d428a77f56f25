/**
 * Limits of the simulated pack: 0x47 system parameters (from pack.parameters()), 0x92
 * charge/discharge management (derived from parameters and state) and the 0x94 write.
 */
import type { Reading } from '@openbms/core';
import {
  MANAGEMENT_FIELDS,
  SYSTEM_PARAMETER_FIELDS,
  type Field16,
} from '@openbms/protocols/pylontech';
import type { CommandResult, SimPackApi } from '../../types.js';
import { decikelvin, deciamp, i16, put16, u16 } from './wire.js';

/**
 * Used only when a pack has none of the levels of a 0x47 limit (values of a real US2000's
 * 0x47 reply, rounded).
 */
const LAST_RESORT: Readonly<Record<string, number>> = {
  cell_ov_l1_mv: 3650,
  cell_uv_l1_mv: 3050,
  cell_uv_l2_mv: 2900,
  chg_ot_l1_c: 50,
  chg_ut_l1_c: 0,
  chg_oc_l1_a: 100,
  pack_ov_l1_v: 54,
  pack_uv_l1_v: 46,
  pack_uv_l2_v: 44.5,
  dsg_ot_l1_c: 55,
  dsg_ut_l1_c: -20,
  dsg_oc_l1_a: 100,
  mos_ot_l1_c: 90,
};

/**
 * A threshold by canonical id; when the pack does not have that level, the nearest level
 * it has (a pack with only level-2 protections reports those as its limits).
 */
export function limit(params: Record<string, number>, id: string): number {
  const own = params[id];
  if (own !== undefined) return own;
  const m = /_l([123])_/.exec(id);
  if (m) {
    const order = m[1] === '1' ? [2, 3] : m[1] === '2' ? [1, 3] : [2, 1];
    for (const level of order) {
      const v = params[id.replace(/_l[123]_/, `_l${level}_`)];
      if (v !== undefined) return v;
    }
  }
  return LAST_RESORT[id] ?? 0;
}

/** A 0x47 field's wire value from the limit in the parameter's own unit. */
function systemField(f: Field16, v: number): number {
  switch (f.kind) {
    case 'mv_as_v':
      return u16(f.paramFrom === 'v_to_mv' ? v : v * 1000);
    case 'mv':
      return u16(v);
    case 'decikelvin':
      return decikelvin(v);
    case 'deciamp':
      // The discharge current limit travels negative.
      return deciamp(f.key.startsWith('discharge') ? -Math.abs(v) : Math.abs(v));
  }
}

/** 0x47: INFOFLAG + the twelve limits, in the decoder's field order. */
export function systemParameters(pack: SimPackApi, infoFlag: number): number[] {
  const params = pack.parameters();
  const out = [infoFlag];
  for (const f of SYSTEM_PARAMETER_FIELDS) {
    put16(out, f.param ? systemField(f, limit(params, f.param)) : 0);
  }
  return out;
}

/** What the pack asks the inverter for (0x92). */
export interface Management {
  charge_voltage_limit_v: number;
  discharge_voltage_limit_v: number;
  charge_current_limit_a: number;
  /** Negative, as on the wire. */
  discharge_current_limit_a: number;
  status: number;
}

/** Discharge voltage limits set by 0x94 (the catalog has no parameter for it). */
const dischargeVoltage = new WeakMap<SimPackApi, number>();

/**
 * 0x92 values: the configured request (charge_voltage_limit_v, charge/discharge_current
 * _limit_a) when the pack has one, else derived from the protection limits; a current limit
 * is 0 while its MOSFET is off. Status: bit 7/6 charge/discharge enable (= MOS states),
 * bit 5 "charge immediately" at SOC <= 9 %, bit 4 at 9..13 %.
 */
export function management(pack: SimPackApi, r: Reading): Management {
  const p = pack.parameters();
  const n = r.cell_count ?? r.cell_mv?.length ?? 0;
  const cv =
    p.charge_voltage_limit_v ??
    Math.min((n * (limit(p, 'cell_ov_l1_mv') - 50)) / 1000, limit(p, 'pack_ov_l1_v'));
  const dv =
    dischargeVoltage.get(pack) ??
    Math.max((n * limit(p, 'cell_uv_l1_mv')) / 1000, limit(p, 'pack_uv_l1_v'));
  const cc = p.charge_current_limit_a ?? limit(p, 'chg_oc_l1_a');
  const dc = p.discharge_current_limit_a ?? limit(p, 'dsg_oc_l1_a');
  const soc = r.soc_pct ?? 50;
  let status = 0;
  if (r.charge_mos) status |= 0x80;
  if (r.discharge_mos) status |= 0x40;
  if (soc <= 9) status |= 0x20;
  else if (soc <= 13) status |= 0x10;
  return {
    charge_voltage_limit_v: cv,
    discharge_voltage_limit_v: dv,
    charge_current_limit_a: r.charge_mos ? cc : 0,
    discharge_current_limit_a: r.discharge_mos ? -Math.abs(dc) : 0,
    status,
  };
}

/** 0x92 INFO: ADR, the four limits (MANAGEMENT_FIELDS order), status. */
export function managementInfo(pack: SimPackApi, adr: number): number[] {
  const m = management(pack, pack.snapshot());
  const out = [adr];
  for (const f of MANAGEMENT_FIELDS) {
    const v = m[f.key as keyof Management];
    put16(out, f.kind === 'deciamp' ? deciamp(v) : u16(v * 1000));
  }
  out.push(m.status);
  return out;
}

const round = (v: number, step: number): number => Math.round(v / step) * step;

/**
 * 0x94: stores the requested limits. The charge voltage and both current limits are
 * catalog parameters (written through writeParameters, rounded to their step, refused as a
 * whole when invalid); the discharge voltage limit is kept by the device. A negative charge
 * limit or a positive discharge limit is invalid data.
 */
export function setManagement(pack: SimPackApi, info: Uint8Array): CommandResult {
  const word = (o: number): number => (info[o]! << 8) | info[o + 1]!;
  const cv = word(1) / 1000;
  const dv = word(3) / 1000;
  const cc = i16((word(5) << 16) >> 16) / 10;
  const dc = i16((word(7) << 16) >> 16) / 10;
  if (cc < 0 || dc > 0) {
    return { ok: false, reason: 'charge limit must be >= 0 and discharge limit <= 0' };
  }
  if (dv >= cv) return { ok: false, reason: 'discharge voltage limit must be below charge limit' };
  const result = pack.writeParameters({
    charge_voltage_limit_v: Number(round(cv, 0.01).toFixed(2)),
    charge_current_limit_a: Number(round(cc, 0.1).toFixed(1)),
    discharge_current_limit_a: Number(round(-dc, 0.1).toFixed(1)),
  });
  if (result.ok) dischargeVoltage.set(pack, dv);
  return result;
}
