/**
 * The JK settings (type 0x01 record fields) of a simulated pack: what each field reads, and
 * how a write to it changes the pack. Field values are in the settings field's own scaling
 * (the `raw` integer on the wire: mV, mA, 0.1 degC, s...).
 */
import type { Reading } from '@openbms/core';
import { SETTINGS, type SettingField } from '@openbms/protocols/jk';
import type { CommandResult, SimPackApi } from '../../types.js';
import { tidy } from './wire.js';

/**
 * Settings without a catalog parameter (smart sleep, SOC-100 % / 0 % voltages...) are kept
 * here per pack so a write reads back; until written they show chemistry defaults.
 */
const extras = new WeakMap<SimPackApi, Map<number, number>>();

/** Factory values of the fields without a catalog id, per chemistry (field scaling). */
const EXTRA_DEFAULTS: Record<'lfp' | 'nmc', Record<string, number>> = {
  lfp: {
    smart_sleep_v: 3300,
    soc100_v: 3450,
    soc0_v: 2900,
    request_charge_v: 3450,
    float_v: 3350,
    power_off_v: 2500,
    scp_recovery_s: 5,
    precharge_time_s: 5,
    heating_start_c: 0,
    heating_stop_c: 5,
    smart_sleep_h: 24,
  },
  nmc: {
    smart_sleep_v: 3700,
    soc100_v: 4150,
    soc0_v: 3100,
    request_charge_v: 4150,
    float_v: 4050,
    power_off_v: 2800,
    scp_recovery_s: 5,
    precharge_time_s: 5,
    heating_start_c: 0,
    heating_stop_c: 5,
    smart_sleep_h: 24,
  },
};

/** Catalog parameters some packs may not hold: what the device shows for them. */
const PARAM_FALLBACKS: Record<string, number> = {
  balance_enabled: 1,
  balance_current_a: 2,
  heater_enabled: 0,
  cell_diff_l2_mv: 500,
  sleep_delay_s: 3600,
  soc_low_alarm_pct: 10,
};

function fallbackParam(id: string, pack: SimPackApi, snap: Reading): number {
  if (id === 'cell_count') return snap.cell_count ?? snap.cell_mv?.length ?? 0;
  return pack.defaults()[id] ?? PARAM_FALLBACKS[id] ?? 0;
}

/** Current value of a catalog parameter as the device reports it. */
export function paramValue(
  id: string,
  pack: SimPackApi,
  snap: Reading,
  params: Record<string, number>,
): number {
  // The MOS switches are what set_charge_mos / set_discharge_mos (setMos) change.
  if (id === 'charge_enabled') return snap.charge_mos === false ? 0 : 1;
  if (id === 'discharge_enabled') return snap.discharge_mos === false ? 0 : 1;
  return params[id] ?? fallbackParam(id, pack, snap);
}

/** Wire value (field scaling) of one settings field. */
export function fieldValue(
  f: SettingField,
  pack: SimPackApi,
  snap: Reading,
  params: Record<string, number>,
): number {
  if (f.param) {
    const v = paramValue(f.param, pack, snap, params);
    if (f.kind === 'bool') return v ? 1 : 0;
    return Math.round(v / (f.paramScale ?? 1) / f.scale);
  }
  const stored = extras.get(pack)?.get(f.offset);
  if (stored !== undefined) return stored;
  return EXTRA_DEFAULTS[pack.chemistry][f.key] ?? 0;
}

export function fieldAt(offset: number): SettingField | undefined {
  return SETTINGS.find((f) => f.offset === offset);
}

/** The field a 55AA write register addresses (balance start differs per layout). */
export function fieldForRegister(
  register: number,
  balanceStartReg: number,
): SettingField | undefined {
  if (register === balanceStartReg) return SETTINGS.find((f) => f.param === 'balance_start_mv');
  return SETTINGS.find((f) => f.reg === register);
}

/**
 * Applies writes of settings fields (wire values, field scaling) to the pack: catalog
 * parameters in one validated writeParameters call, then the MOS switches through setMos.
 * Nothing is stored when the parameter write is refused.
 */
export function applyFields(
  pack: SimPackApi,
  writes: readonly { field: SettingField; value: number }[],
): CommandResult {
  const changes: Record<string, number> = {};
  const switches: ['charge' | 'discharge', boolean][] = [];
  const other: [number, number][] = [];
  for (const { field, value } of writes) {
    if (field.param === 'charge_enabled') switches.push(['charge', value !== 0]);
    else if (field.param === 'discharge_enabled') switches.push(['discharge', value !== 0]);
    else if (field.param) {
      const v = field.kind === 'bool' ? (value ? 1 : 0) : value * field.scale;
      changes[field.param] = tidy(v * (field.paramScale ?? 1));
    } else other.push([field.offset, value]);
  }
  if (Object.keys(changes).length > 0) {
    const r = pack.writeParameters(changes);
    if (!r.ok) return r;
  }
  for (const [which, on] of switches) {
    const r = pack.setMos(which, on);
    if (!r.ok) return r;
  }
  if (other.length > 0) {
    const m = extras.get(pack) ?? new Map<number, number>();
    for (const [o, v] of other) m.set(o, v);
    extras.set(pack, m);
  }
  return { ok: true };
}
