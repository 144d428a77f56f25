/**
 * JBD control operations (see README.md, "Control and parameters"):
 *
 * - setMos: the 0xE1 MOSFET write.
 * - readParameters / writeParameters: the EEPROM registers 0x10..0x3F, only reachable in
 *   factory mode. Every session enters it (0x00 = 0x5678) and always leaves it: a read exits
 *   discarding (0x01 = 0x0000); a write is enter -> write -> read back -> exit saving
 *   (0x01 = 0x2828), and every one of those steps carries the discard exit as its cleanup
 *   (ReadStep.cleanup), so a failure at any step leaves factory mode without saving.
 *
 * JBD has no documented SOC, clock or default-set command.
 */
import { BmsError, ensure, isBmsError, type Reading } from '@openbms/core';
import type { ControlOps, ControlStep, ControlTarget, ReadSession, ReadStep } from '../types.js';
import { sequentialSession } from '../util/session.js';
import { decodeReply } from './decode.js';
import {
  EEPROM_REGISTERS,
  REG_FUNC_CONFIG,
  UNIT_X10_BIT,
  WRITABLE_IDS,
  fieldOfParam,
  fieldsOf,
  registerValues,
  registerWord,
} from './eeprom.js';
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

// ---------------------------------------------------------------- EEPROM parameters

const hex = (v: number): string => `0x${v.toString(16).padStart(2, '0')}`;

/** A step whose reply is the frame echoing `register` in byte 1 (an error status included). */
function frameStep(name: string, request: Uint8Array, cleanup?: readonly ReadStep[]): ReadStep {
  const register = request[2]!;
  const s: ReadStep = {
    name,
    request,
    accepts: (frame) => frame.length >= 7 && frame[1] === register,
    complete: (frames) => frames.length >= 1,
  };
  if (cleanup) s.cleanup = cleanup;
  return s;
}

/** Leaving factory mode without saving: the cleanup of every factory-mode step. */
const exitDiscard = (): ReadStep =>
  frameStep(
    'factory_mode_exit_discard',
    encodeRequest({ command: 'factory_mode_exit', args: { save: false } }),
  );

/** The last frame of a step's reply, refused (COMMAND_REFUSED) when its status is not OK. */
function okFrame(frames: Uint8Array[], what: string): Uint8Array {
  const frame = frames[frames.length - 1];
  ensure(frame !== undefined, 'FRAME_TRUNCATED', `no reply to ${what}`);
  if (frame.length >= 7 && frame[2] !== STATUS_OK) {
    throw new BmsError(
      'COMMAND_REFUSED',
      `JBD BMS refused ${what} with status ${hex(frame[2]!)}` +
        (frame[2] === 0x81 ? ' (not in factory mode, or the PIN is needed)' : ''),
      { register: frame[1], status: frame[2] },
    );
  }
  return frame;
}

/** A control step (write, acknowledged by an empty OK reply of the same register). */
function ackStep(
  name: string,
  request: Uint8Array,
  what: string,
  cleanup: readonly ReadStep[],
): ControlStep {
  return {
    ...frameStep(name, request, cleanup),
    result(frames) {
      return { reading: decodeReply(okFrame(frames, what), { request }) };
    },
  };
}

const enterStep = (cleanup: readonly ReadStep[]): ControlStep =>
  ackStep(
    'factory_mode_enter',
    encodeRequest({ command: 'factory_mode_enter' }),
    'entering factory mode (0x00 = 0x5678)',
    cleanup,
  );

/**
 * The parameter read: enter factory mode, read 0x2D then 0x10..0x3F, leave discarding.
 * Result: `raw.registers` (register -> word) and `raw.parameters` (catalog values; 0x2D bit 12
 * scales capacities and currents by 10).
 */
function readParameters(): ReadSession {
  const cleanup = [exitDiscard()];
  const steps: ReadStep[] = [
    enterStep(cleanup),
    ...EEPROM_REGISTERS.map((reg) =>
      frameStep(
        `read_${hex(reg)}`,
        encodeRequest({ command: 'read_register', args: { register: reg } }),
        cleanup,
      ),
    ),
    { ...exitDiscard(), cleanup },
  ];
  return sequentialSession({
    steps,
    decode(step, bytes, soFar): Reading {
      const frame = okFrame([bytes], step.name);
      const part = decodeReply(frame, { request: step.request });
      const register = frame[1]!;
      const before = (soFar.raw?.['registers'] ?? {}) as Record<number, number>;
      const registers =
        fieldsOf(register).length > 0 && frame[3] === 2
          ? { ...before, [register]: (frame[4]! << 8) | frame[5]! }
          : before;
      return { raw: { ...part.raw, registers } };
    },
    finish(r: Reading): Reading {
      const registers = (r.raw?.['registers'] ?? {}) as Record<number, number>;
      const x10 = ((registers[REG_FUNC_CONFIG] ?? 0) >> UNIT_X10_BIT) & 1;
      const parameters: Record<string, number> = {};
      for (const [reg, word] of Object.entries(registers)) {
        Object.assign(parameters, registerValues(Number(reg), word, x10 === 1));
      }
      r.raw = { ...r.raw, parameters, unit_x10: x10 === 1 };
      return r;
    },
  });
}

/**
 * Writes catalog parameters, one register after the other inside one factory-mode session:
 * each register is written and read back (compared word for word) before the exit that saves.
 * Packed registers (two delays in one word, the function bits of 0x2D) are read-modify-write:
 * the other fields come from what the pack holds (`t.snapshot.raw.parameters`, which the
 * gateway fills with the values read and those this write already sent) over the words read
 * (`raw.registers`).
 */
function writeParameters(t: ControlTarget, values: Record<string, number>): ControlStep[] {
  const ids = Object.keys(values);
  ensure(ids.length > 0, 'INVALID_ARGUMENT', 'no parameters to write');
  const raw = t.snapshot?.raw ?? {};
  const registers = (raw['registers'] ?? {}) as Record<number, number>;
  const held = (raw['parameters'] ?? {}) as Record<string, number>;
  const x10 = ((registers[REG_FUNC_CONFIG] ?? 0) >> UNIT_X10_BIT) & 1;
  const byReg = new Map<number, Record<string, number>>();
  for (const id of ids) {
    const f = fieldOfParam(id);
    if (!f || f.readOnly) {
      throw new BmsError(
        'PARAM_UNKNOWN',
        `jbd cannot write "${id}" (${f ? 'read only' : 'not an EEPROM parameter'})`,
        { id },
      );
    }
    byReg.set(f.reg, { ...(byReg.get(f.reg) ?? {}), [id]: values[id]! });
  }
  const cleanup = [exitDiscard()];
  const steps: ControlStep[] = [enterStep(cleanup)];
  for (const [reg, changes] of byReg) {
    const fields = fieldsOf(reg);
    const packed = fields.length > 1;
    if (packed && registers[reg] === undefined) {
      throw new BmsError(
        'INVALID_ARGUMENT',
        `JBD register ${hex(reg)} holds several fields: read the parameters first (its other fields are kept)`,
      );
    }
    // The other fields of the register at what the pack holds now.
    const others = Object.fromEntries(
      fields
        .filter((f) => f.param && held[f.param] !== undefined && changes[f.param] === undefined)
        .map((f) => [f.param!, held[f.param!]!]),
    );
    const word = registerWord(reg, { ...others, ...changes }, registers[reg] ?? 0, x10 === 1);
    const what = `${Object.keys(changes).join(', ')} (register ${hex(reg)} = 0x${word.toString(16).padStart(4, '0')})`;
    steps.push(
      ackStep(
        `write_${hex(reg)}`,
        encodeRequest({ command: 'write_register', args: { register: reg, value: word } }),
        `the write of ${what}`,
        cleanup,
      ),
    );
    const readRequest = encodeRequest({ command: 'read_register', args: { register: reg } });
    steps.push({
      ...frameStep(`read_back_${hex(reg)}`, readRequest, cleanup),
      result(frames) {
        const frame = okFrame(
          frames,
          `reading back ${what} (acknowledged, but the firmware may not have this register)`,
        );
        ensure(
          frame[3] === 2,
          'FRAME_MALFORMED',
          `read-back of ${hex(reg)} carries ${frame[3]} bytes`,
        );
        const got = (frame[4]! << 8) | frame[5]!;
        if (got !== word) {
          throw new BmsError(
            'READBACK_MISMATCH',
            `JBD register ${hex(reg)} reads 0x${got.toString(16).padStart(4, '0')} after writing ${what}`,
            { register: reg, written: word, read: got },
          );
        }
        return { reading: decodeReply(frame, { request: readRequest }) };
      },
    });
  }
  steps.push(
    ackStep(
      'factory_mode_exit_save',
      encodeRequest({ command: 'factory_mode_exit', args: { save: true } }),
      'leaving factory mode with save (0x01 = 0x2828)',
      cleanup,
    ),
  );
  return steps;
}

export const control: ControlOps = {
  readParameters,
  writableParameters: WRITABLE_IDS,
  writeParameters,
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
