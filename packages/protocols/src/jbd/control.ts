/**
 * JBD control operations: only the 0xE1 MOSFET write. JBD has no documented SOC or clock
 * write, and the EEPROM parameter registers (0x10..) are not implemented (see README.md).
 */
import { BmsError, ensure, isBmsError, type Reading } from '@openbms/core';
import type { ControlOps, ControlStep, ControlTarget } from '../types.js';
import { decodeReply } from './decode.js';
import { encodeRequest } from './encode.js';
import { REG } from './fields.js';
import { STATUS_OK } from './frame.js';

type Mos = 'charge' | 'discharge';

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');
const state = (on: boolean): string => (on ? 'on' : 'off');

/**
 * The current state of the MOSFET this operation does not change. 0xE1 always carries both
 * switches, so without it the request would silently switch the other one.
 */
function otherState(t: ControlTarget, other: Mos): boolean {
  const key = other === 'charge' ? 'charge_mos' : 'discharge_mos';
  const v = t.snapshot?.[key];
  if (typeof v !== 'boolean') {
    throw new BmsError(
      'INVALID_ARGUMENT',
      `JBD 0xE1 sets both MOSFETs at once: the current ${other} MOSFET state (${key} of the ` +
        `pack's latest snapshot) is needed so it is not changed; read the pack first`,
      { missing: key },
    );
  }
  return v;
}

/** The 0xE1 write of both switches, with its reply handling. */
function mosStep(charge: boolean, discharge: boolean): ControlStep {
  const request = encodeRequest({ command: 'mos_control', args: { charge, discharge } });
  const what = `charge ${state(charge)}, discharge ${state(discharge)}`;
  return {
    name: 'mos_control',
    request,
    // The reply echoes the register in byte 1; a refusal (status 0x80) is still the answer.
    accepts: (frame) => frame.length >= 7 && frame[1] === REG.MOS_CONTROL,
    complete: (frames) => frames.length >= 1,
    result(frames: Uint8Array[]) {
      const frame = frames[frames.length - 1];
      ensure(frame !== undefined, 'FRAME_TRUNCATED', 'no reply frame to the JBD 0xE1 MOS write');
      const status = frame[2];
      if (frame.length >= 7 && frame[1] === REG.MOS_CONTROL && status !== STATUS_OK) {
        throw new BmsError(
          'COMMAND_REFUSED',
          `JBD BMS refused the MOSFET write 0xE1 (${what}) with status 0x${hex2(status ?? 0)}; ` +
            'the reply carries no reason (usually the interlock: current flows through the ' +
            'other MOSFET, or an active protection); nothing was changed',
          { register: REG.MOS_CONTROL, status, charge, discharge },
        );
      }
      let reading: Reading;
      try {
        reading = decodeReply(frame, { request });
      } catch (e) {
        // A status other than 0x00 is handled above; this is a defensive second net.
        if (isBmsError(e) && e.code === 'DEVICE_ERROR_REPLY') {
          throw new BmsError('COMMAND_REFUSED', `JBD BMS refused the MOSFET write 0xE1 (${what})`, {
            ...e.details,
          });
        }
        throw e;
      }
      // The acknowledgement is empty: it confirms the write, not the MOSFET state (the
      // caller reads the pack back). Its raw part is {status, register, payload_hex}.
      return { reading };
    },
  };
}

export const control: ControlOps = {
  setMos(t: ControlTarget, which: Mos, on: boolean): ControlStep[] {
    ensure(
      which === 'charge' || which === 'discharge',
      'INVALID_ARGUMENT',
      `MOSFET must be "charge" or "discharge" (got ${String(which)})`,
    );
    ensure(typeof on === 'boolean', 'INVALID_ARGUMENT', `MOSFET state must be a boolean`);
    const charge = which === 'charge' ? on : otherState(t, 'charge');
    const discharge = which === 'discharge' ? on : otherState(t, 'discharge');
    return [mosStep(charge, discharge)];
  },
};
