/**
 * Control operations of the DALY classic "0xA5" protocol: the ones its wire really has.
 *
 * - setMos: 0xDA (charge) / 0xD9 (discharge), data byte 0 = 1 on / 0 off. The reply's byte 0
 *   is the MOSFET state after the command; a state other than the requested one is the BMS's
 *   refusal (the protocol has no NAK and no reason code).
 * - setSoc: 0x21 with the six clock bytes zero (= SOC only, clock left alone) and SOC x 10.
 *   Reply byte 0 = 1 taken, 0 refused.
 * - restart: 0x00. No reply is documented (see `restart` below).
 *
 * Deliberately absent: setClock (0x21 carries the clock only together with a SOC: there is
 * no clock-only write, and writing the clock would overwrite the coulomb counter with a SOC
 * we only know from an earlier read), readParameters / writeParameters (the PC tool's
 * parameter ids are not publicly documented), restoreDefaults, factoryReset.
 */
import { BmsError, type Reading } from '@openbms/core';
import type { ControlOps, ControlOutcome, ControlStep, ControlTarget } from '../types.js';
import { ID } from './commands.js';
import { decodeDaly } from './decode.js';
import { encodeDaly } from './encode.js';
import { DATA, FRAME_LEN, hex2 } from './frame.js';

/** SOC resolution on the wire: 0x21 carries SOC x 10. */
const SOC_STEP_PCT = 0.1;

/**
 * A frame is the reply to a request of `dataId` sent with host byte `host`: same data id, and
 * not carrying our own host byte (a half-duplex adapter echoing the request is not the reply).
 */
function acceptsReplyTo(dataId: number, host: number): (frame: Uint8Array) => boolean {
  return (frame) => frame.length === FRAME_LEN && frame[2] === dataId && frame[1] !== host;
}

/** The single reply frame of a control step, decoded; throws when there is none or it is foreign. */
function decodeReply(name: string, dataId: number, frames: Uint8Array[]): Reading {
  const frame = frames[0];
  if (!frame) throw new BmsError('FRAME_TRUNCATED', `${name}: no reply frame`);
  if (frame[2] !== dataId) {
    throw new BmsError(
      'FRAME_UNEXPECTED',
      `reply to ${name} carries data id 0x${hex2(frame[2] ?? 0)}, expected 0x${hex2(dataId)}`,
    );
  }
  const r = decodeDaly(frame);
  if (r.raw) delete r.raw.data_id;
  return r;
}

function setMos(t: ControlTarget, which: 'charge' | 'discharge', on: boolean): ControlStep[] {
  const dataId = which === 'charge' ? ID.CHG_MOS : ID.DSG_MOS;
  const name = which === 'charge' ? 'set_charge_mos' : 'set_discharge_mos';
  const request = encodeDaly({ command: name, address: t.address, args: { on } });
  return [
    {
      name,
      request,
      accepts: acceptsReplyTo(dataId, t.address),
      complete: (frames) => frames.length >= 1,
      result(frames): ControlOutcome {
        const reading = decodeReply(name, dataId, frames);
        const state = frames[0]![DATA]!;
        if (state !== 0 && state !== 1) {
          throw new BmsError(
            'FRAME_MALFORMED',
            `${name}: reply byte 0 = 0x${hex2(state)} is not a MOSFET state (0 off / 1 on)`,
          );
        }
        if ((state === 1) !== on) {
          const now = state === 1 ? 'on' : 'off';
          throw new BmsError(
            'COMMAND_REFUSED',
            `DALY BMS refused to switch the ${which} MOSFET ${on ? 'on' : 'off'}: its reply says the ${which} MOSFET is still ${now} ` +
              `(the protocol gives no reason; typically current flowing through the other MOSFET, or an active protection)`,
            { which, requested: on, state: state === 1 },
          );
        }
        return { reading };
      },
    },
  ];
}

function setSoc(t: ControlTarget, pct: number): ControlStep[] {
  if (!(Number.isFinite(pct) && pct >= 0 && pct <= 100)) {
    throw new BmsError('INVALID_ARGUMENT', `SOC must be 0..100 %, got ${String(pct)}`);
  }
  const tenths = Math.round(pct / SOC_STEP_PCT);
  if (Math.abs(tenths * SOC_STEP_PCT - pct) > 1e-9) {
    throw new BmsError(
      'PARAM_STEP',
      `soc_pct: ${pct} % cannot be sent to a DALY BMS exactly; the wire resolution is ${SOC_STEP_PCT} %`,
      { id: 'soc_pct', value: pct, step: SOC_STEP_PCT },
    );
  }
  // No clock fields: the six clock bytes stay zero, which means "SOC only".
  const request = encodeDaly({
    command: 'set_soc',
    address: t.address,
    args: { soc_pct: tenths / 10 },
  });
  return [
    {
      name: 'set_soc',
      request,
      accepts: acceptsReplyTo(ID.SET_SOC, t.address),
      complete: (frames) => frames.length >= 1,
      result(frames): ControlOutcome {
        const reading = decodeReply('set_soc', ID.SET_SOC, frames);
        const ack = frames[0]![DATA]!;
        if (ack === 0) {
          throw new BmsError(
            'COMMAND_REFUSED',
            `DALY BMS refused to set the SOC to ${tenths / 10} %: its 0x21 reply byte 0 is 0 (not taken; the protocol gives no reason)`,
            { soc_pct: tenths / 10 },
          );
        }
        if (ack !== 1) {
          throw new BmsError(
            'FRAME_MALFORMED',
            `set_soc: reply byte 0 = 0x${hex2(ack)} is neither 1 (taken) nor 0 (refused)`,
          );
        }
        return { reading };
      },
    },
  ];
}

function restart(t: ControlTarget): ControlStep[] {
  return [
    {
      name: 'restart',
      request: encodeDaly({ command: 'restart', address: t.address }),
      accepts: acceptsReplyTo(ID.RESTART, t.address),
      complete: (frames) => frames.length >= 1,
      // No acknowledgement is documented: a BMS that restarts may well stay silent, so a
      // missing reply does not fail the operation (the gateway's read-back tells).
      optional: true,
      result(frames): ControlOutcome {
        return { reading: decodeReply('restart', ID.RESTART, frames) };
      },
    },
  ];
}

export const control: ControlOps = { setMos, setSoc, restart };
