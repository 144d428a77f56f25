/**
 * What a PACE board keeps besides the pack's physics and parameters: the inverter protocol
 * selection, the control status byte (buzzer, limiter gear, LED and limiter switches) and the
 * function-enable bytes of the parameter blocks. Kept per pack in a WeakMap (the device side
 * is stateless otherwise), lost with the pack.
 */
import type { SimPackApi } from '../../types.js';

export interface PaceState {
  inverter: { can: number; rs485: number; mode: number };
  /** Control status ("status 4"): bit 0 buzzer, bit 3 limiter low gear, bits 4 / 5 switches. */
  control: number;
  /** Function-enable byte of each parameter block, by block name (01 = on). */
  enables: Record<string, boolean>;
}

const STATES = new WeakMap<SimPackApi, PaceState>();

export function stateOf(pack: SimPackApi): PaceState {
  let s = STATES.get(pack);
  if (!s) {
    // Factory: CAN and RS485 "Pylon", detected automatically; buzzer on.
    s = { inverter: { can: 0x01, rs485: 0x01, mode: 0x00 }, control: 0x01, enables: {} };
    STATES.set(pack, s);
  }
  return s;
}
