/**
 * FC 0x06 / 0x10 writes of the simulated unit. Writable registers: the catalog parameters of
 * the settings block, the charge/discharge MOS switches, the SOC setting, the balancer switch
 * and (d2) the command registers 0xF0..0xF3. A write to any other register is not understood
 * (exception 2); a value the pack refuses answers exception 3, a MOS switch the pack refuses
 * (current interlock) exception 4.
 */
import {
  BALANCER_SWITCH_REG,
  MAPS,
  PARAM_MAP,
  SWITCH_REGS,
  type Conv,
  type Variant,
} from '@openbms/protocols/daly-modbus';
import type { SimPackApi } from '../../types.js';
import { EX, fromRaw, notUnderstood } from './wire.js';

type Target =
  | { kind: 'param'; id: string; conv: Conv }
  | { kind: 'mos'; which: 'charge' | 'discharge' }
  | { kind: 'soc' | 'balancer' | 'restart' | 'shutdown' | 'zero_current' | 'reset' };

/** d2 command registers (vendor sheet): restart, shutdown, zero-current calibration, reset. */
const D2_COMMANDS: Record<number, Target['kind']> = {
  0xf0: 'restart',
  0xf1: 'shutdown',
  0xf2: 'zero_current',
  0xf3: 'reset',
};

export function targetOf(variant: Variant, reg: number): Target | undefined {
  const sw = SWITCH_REGS[variant];
  if (reg === sw.charge) return { kind: 'mos', which: 'charge' };
  if (reg === sw.discharge) return { kind: 'mos', which: 'discharge' };
  if (reg === sw.soc) return { kind: 'soc' };
  if (reg === BALANCER_SWITCH_REG) return { kind: 'balancer' };
  const p = PARAM_MAP.find((m) => MAPS[variant].settingsBase + m.offset === reg);
  if (p) return { kind: 'param', id: p.id, conv: p.conv };
  const cmd = variant === 'd2' ? D2_COMMANDS[reg] : undefined;
  return cmd ? ({ kind: cmd } as Target) : undefined;
}

/** Applies a write of `values` from register `start`; returns a Modbus exception code or 0. */
export function applyWrite(
  variant: Variant,
  pack: SimPackApi,
  start: number,
  values: readonly number[],
): number {
  const items = values.map((value, i) => {
    const t = targetOf(variant, start + i);
    if (!t) {
      const reg = `0x${(start + i).toString(16).padStart(4, '0')}`;
      throw notUnderstood(
        'INVALID_ARGUMENT',
        EX.ILLEGAL_ADDRESS,
        `register ${reg} is not writable`,
      );
    }
    return { t, value };
  });

  // Check every value before anything changes.
  const params: Record<string, number> = {};
  for (const { t, value } of items) {
    if ((t.kind === 'mos' || t.kind === 'balancer') && value > 1) return EX.ILLEGAL_VALUE;
    if (t.kind === 'soc' && value > 1000) return EX.ILLEGAL_VALUE;
    if (t.kind === 'shutdown') return EX.DEVICE_FAILURE; // a simulated pack cannot power off
    if (t.kind === 'param') params[t.id] = fromRaw(value, t.conv);
    if (t.kind === 'balancer') params.balance_enabled = value;
  }
  if (Object.keys(params).length > 0 && !pack.writeParameters(params).ok) return EX.ILLEGAL_VALUE;

  for (const { t, value } of items) {
    switch (t.kind) {
      case 'soc':
        if (!pack.setSoc(value / 10).ok) return EX.ILLEGAL_VALUE;
        break;
      case 'mos':
        if (!pack.setMos(t.which, value === 1).ok) return EX.DEVICE_FAILURE;
        break;
      case 'restart':
        pack.restart();
        break;
      case 'reset':
        pack.restoreDefaults();
        break;
      default:
        // Parameters are stored above; the zero-current calibration has nothing to calibrate.
        break;
    }
  }
  return 0;
}
