/**
 * Control and parameter operations of `daly-modbus` (see README.md, "Control and parameters").
 * Every write is one FC 0x06 (write single register) per register: the vendor sheet's FC 0x10
 * form has no byte-count byte and is unverified on devices, so it is not used. A device that
 * refuses a write answers a Modbus exception (FC 0x86); that becomes COMMAND_REFUSED.
 */
import { BmsError, checkConsistency, isBmsError, parameter, type Reading } from '@openbms/core';
import type {
  ControlOps,
  ControlStep,
  ControlTarget,
  ReadSession,
  ReadStep,
  Request,
} from '../types.js';
import { FC } from '../modbus-rtu/codec.js';
import { sequentialSession } from '../util/session.js';
import { BLOCKS, isD2, replyUnitOf, variantOfUnit } from './blocks.js';
import { decodeDalyModbus } from './decode.js';
import { encodeDaly, paramRegister, parametersFromReading } from './requests.js';
import {
  PARAM_MAP,
  SWITCH_REGS,
  VARIANTS,
  type Conv,
  type ParamMap,
  type Variant,
} from './registers.js';

/** d2 command registers from the vendor sheet (write-only; untested on hardware). */
export const D2_RESTART_REG = 0x00f0;
export const D2_RESET_REG = 0x00f3;

/** Largest register value a setting may take: 0xFFFF reads back as "not supported". */
const WIRE_MAX = 0xfffe;

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

/** Ids writable through the settings block (FC 0x06), plus the balancer switch 0x00CF. */
const WRITABLE_MAP: readonly ParamMap[] = PARAM_MAP.filter((p) => p.writable);
export const WRITABLE_PARAMETERS: readonly string[] = [
  ...WRITABLE_MAP.map((p) => p.id),
  'balance_enabled',
];

interface Resolved {
  unit: number;
  variant: Variant;
  replyUnit: number;
}

function resolve(t: ControlTarget): Resolved {
  const variant = variantOfUnit(t.address);
  if (t.variant !== undefined) {
    if (!(VARIANTS as readonly string[]).includes(t.variant)) {
      throw new BmsError(
        'VARIANT_UNKNOWN',
        `unknown DALY Modbus variant "${t.variant}" (known: ${VARIANTS.join(', ')})`,
      );
    }
    if (t.variant !== variant) {
      throw new BmsError(
        'INVALID_ARGUMENT',
        `unit ${hex4(t.address)} belongs to the ${variant} variant, not ${t.variant}`,
      );
    }
  }
  return { unit: t.address, variant, replyUnit: replyUnitOf(t.address) };
}

/** Why a Modbus exception code refused `what` (the device sends only the code). */
function exceptionReason(code: number, what: string, register: number): string {
  const reg = hex4(register);
  switch (code) {
    case 1:
      return `the BMS refused to ${what}: Modbus exception 1 (illegal function) - it does not accept register writes (FC 0x06)`;
    case 2:
      return `the BMS refused to ${what}: Modbus exception 2 (illegal data address) - register ${reg} is not writable on this firmware`;
    case 3:
      return `the BMS refused to ${what}: Modbus exception 3 (illegal data value) - the value is outside its range or inconsistent with its other settings`;
    case 4:
      return `the BMS refused to ${what}: Modbus exception 4 (server device failure) - it could not carry it out now (e.g. the MOSFET interlock while current flows)`;
    default:
      return `the BMS refused to ${what}: Modbus exception ${code}`;
  }
}

/**
 * One FC 0x06 transaction: the request comes from the family's encoder; the reply is the
 * echo (same register and value) from the reply unit, or an exception (FC 0x86).
 */
function writeStep(
  name: string,
  r: Resolved,
  req: Request,
  register: number,
  value: number,
  what: string,
  outcome?: (reading: Reading) => void,
): ControlStep {
  const request = encodeDaly({ ...req, address: r.unit });
  const exceptionFn = FC.WRITE_SINGLE | 0x80;
  return {
    name,
    request,
    accepts: (f) =>
      f.length >= 4 &&
      f[0] === r.replyUnit &&
      ((f[1] === FC.WRITE_SINGLE && f.length >= 8 && ((f[2]! << 8) | f[3]!) === register) ||
        f[1] === exceptionFn),
    complete: (frames) => frames.length >= 1,
    result(frames) {
      const frame = frames[0];
      if (!frame) throw new BmsError('FRAME_TRUNCATED', `no reply to "${name}"`);
      let reading: Reading;
      try {
        reading = decodeDalyModbus(frame, { request, variant: r.variant });
      } catch (e) {
        if (isBmsError(e) && e.code === 'DEVICE_ERROR_REPLY') {
          const code = Number(e.details?.exception_code);
          throw new BmsError('COMMAND_REFUSED', exceptionReason(code, what, register), {
            exception_code: code,
            register,
            value,
          });
        }
        throw e;
      }
      const echo = reading.raw ?? {};
      if (echo.register_start !== register) {
        throw new BmsError(
          'FRAME_UNEXPECTED',
          `the reply to "${name}" echoes register ${hex4(Number(echo.register_start))}, not ${hex4(register)}`,
        );
      }
      if (echo.value !== value) {
        throw new BmsError(
          'COMMAND_REFUSED',
          `the BMS refused to ${what}: it echoed ${String(echo.value)} instead of ${value} for register ${hex4(register)}`,
          { register, value, echoed: echo.value },
        );
      }
      outcome?.(reading);
      return { reading };
    },
  };
}

/** Wire scaling of a settings register: raw = value * scale + offset. */
const SCALE: Partial<Record<Conv, { scale: number; offset: number; resolution: string }>> = {
  u: { scale: 1, offset: 0, resolution: '1' },
  x10: { scale: 10, offset: 0, resolution: '0.1' },
  temp: { scale: 1, offset: 40, resolution: '1' },
};

/** A catalog value as its register value; PARAM_STEP when the wire cannot hold it exactly. */
function toRegister(id: string, value: number, conv: Conv): number {
  const s = SCALE[conv];
  if (!s) {
    throw new BmsError('PARAM_UNKNOWN', `DALY Modbus cannot write ${id}: no established encoding`);
  }
  const u = parameter(id)?.unit ?? (id === 'soc_pct' ? '%' : '');
  const unit = u ? ` ${u}` : '';
  const raw = value * s.scale + s.offset;
  const rounded = Math.round(raw);
  if (!Number.isFinite(raw) || Math.abs(raw - rounded) > 1e-6) {
    throw new BmsError(
      'PARAM_STEP',
      `${id}: ${value}${unit} cannot be sent to a DALY BMS: its register resolution is ${s.resolution}${unit}`,
      { id, value, step: Number(s.resolution) },
    );
  }
  if (rounded < 0 || rounded > WIRE_MAX) {
    const lo = (0 - s.offset) / s.scale;
    const hi = (WIRE_MAX - s.offset) / s.scale;
    throw new BmsError(
      'PARAM_OUT_OF_RANGE',
      `${id}: ${value}${unit} does not fit the DALY register (${lo}..${hi}${unit})`,
      { id, value, min: lo, max: hi },
    );
  }
  return rounded;
}

/**
 * The order of single-register writes: each write keeps the device's set consistent (level 2
 * at least as extreme as level 1) when the current values are known from the snapshot, so a
 * device that checks every write on its own does not refuse an intermediate state.
 */
function writeOrder(
  values: Record<string, number>,
  current: Record<string, number>,
): [string, number][] {
  const pending = Object.entries(values);
  const state = { ...current };
  const out: [string, number][] = [];
  while (pending.length > 0) {
    let i = pending.findIndex(([id, v]) =>
      checkConsistency({ ...state, [id]: v }).every((issue) => !issue.ids.includes(id)),
    );
    if (i < 0) i = 0;
    const [entry] = pending.splice(i, 1);
    state[entry![0]] = entry![1];
    out.push(entry!);
  }
  return out;
}

function readStep(name: string, r: Resolved, command: string, optional: boolean): ReadStep {
  const block = BLOCKS[r.variant].find((b) => b.command === command)!;
  const bytes = block.count * 2;
  const step: ReadStep = {
    name,
    request: encodeDaly({ command, address: r.unit }),
    accepts: (f) =>
      f.length >= 3 &&
      f[0] === r.replyUnit &&
      ((f[1] === FC.READ_HOLDING && f[2] === bytes) || f[1] === (FC.READ_HOLDING | 0x80)),
    complete: (frames) => frames.length >= 1,
  };
  if (optional) step.optional = true;
  return step;
}

function d2Only(r: Resolved, what: string): void {
  if (!isD2(r.unit)) {
    throw new BmsError(
      'CAPABILITY_MISSING',
      `${what} is only known for the d2 map (register 0x00F0..0x00F3); the p81 map has no documented command register`,
    );
  }
}

export const control: ControlOps = {
  setMos(t, which, on) {
    const r = resolve(t);
    const register = SWITCH_REGS[r.variant][which];
    const key = which === 'charge' ? 'charge_mos_switch' : 'discharge_mos_switch';
    return [
      writeStep(
        `set_${which}_mos`,
        r,
        { command: which === 'charge' ? 'set_charge_mos' : 'set_discharge_mos', args: { on } },
        register,
        on ? 1 : 0,
        `switch the ${which} MOSFET ${on ? 'on' : 'off'}`,
        (reading) => {
          // The echo says the switch register holds the value; the MOSFET state itself is
          // what the next status read reports (a protection may still hold it off).
          reading.raw = { ...reading.raw, [key]: on };
        },
      ),
    ];
  },

  setSoc(t, pct) {
    const r = resolve(t);
    if (!(Number.isFinite(pct) && pct >= 0 && pct <= 100)) {
      throw new BmsError('INVALID_ARGUMENT', `SOC ${pct} % is outside 0..100 %`);
    }
    const raw = toRegister('soc_pct', pct, 'x10');
    return [
      writeStep(
        'set_soc',
        r,
        { command: 'set_soc', args: { soc_pct: raw / 10 } },
        SWITCH_REGS[r.variant].soc,
        raw,
        `set the SOC to ${raw / 10} %`,
      ),
    ];
  },

  readParameters(t): ReadSession {
    const r = resolve(t);
    return sequentialSession({
      steps: [
        readStep('settings', r, 'read_settings', false),
        // Some firmware answers 0xFFFF or nothing for the balancer switch.
        readStep('balancer_switch', r, 'read_balancer_switch', true),
      ],
      decode: (step, bytes): Reading => {
        const reading = decodeDalyModbus(bytes, { request: step.request, variant: r.variant });
        if (reading.raw) {
          delete reading.raw.register_start;
          delete reading.raw.registers_u16;
        }
        return reading;
      },
      finish: (reading) => {
        reading.raw = { ...reading.raw, parameters: parametersFromReading(reading) };
        return reading;
      },
    });
  },

  writableParameters: WRITABLE_PARAMETERS,

  writeParameters(t, values) {
    const r = resolve(t);
    // Check every id and value before building any step: nothing is half-sent on a bad id.
    const encoded = new Map<string, { register: number; raw: number; req: Request }>();
    for (const [id, value] of Object.entries(values)) {
      if (id === 'balance_enabled') {
        if (value !== 0 && value !== 1) {
          throw new BmsError('PARAM_STEP', `balance_enabled: ${value} is not 0 or 1`, {
            id,
            value,
            step: 1,
          });
        }
        encoded.set(id, {
          register: SWITCH_REGS[r.variant].balancer,
          raw: value,
          req: { command: 'set_balancer', args: { on: value === 1 } },
        });
        continue;
      }
      const p = WRITABLE_MAP.find((m) => m.id === id);
      if (!p) {
        const known = parameter(id) !== undefined;
        const readOnly = PARAM_MAP.some((m) => m.id === id);
        throw new BmsError(
          'PARAM_UNKNOWN',
          !known
            ? `unknown parameter "${id}"`
            : readOnly
              ? `DALY Modbus cannot write ${id}: the sign convention of its register is not established on devices (read-only)`
              : id === 'charge_enabled' || id === 'discharge_enabled'
                ? `DALY Modbus does not write ${id} as a parameter: switch the MOSFET with setMos`
                : `DALY Modbus has no register for ${id}`,
          { id },
        );
      }
      const raw = toRegister(id, value, p.conv);
      const wireValue = p.conv === 'x10' ? raw / 10 : p.conv === 'temp' ? raw - 40 : raw;
      encoded.set(id, {
        register: paramRegister(r.variant, p),
        raw,
        req: { command: 'write_parameter', args: { id, value: wireValue } },
      });
    }
    const current = t.snapshot ? parametersFromReading(t.snapshot) : {};
    return writeOrder(values, current).map(([id, value]) => {
      const e = encoded.get(id)!;
      return writeStep(
        `write_${id}`,
        r,
        e.req,
        e.register,
        e.raw,
        `set ${id} to ${value} (register ${hex4(e.register)} = ${e.raw})`,
      );
    });
  },

  restoreDefaults(t) {
    const r = resolve(t);
    d2Only(r, 'restoring the defaults');
    return [
      writeStep(
        'restore_defaults',
        r,
        { command: 'write_register', args: { register: D2_RESET_REG, value: 1 } },
        D2_RESET_REG,
        1,
        'restore its default settings (register 0x00f3)',
      ),
    ];
  },

  restart(t) {
    const r = resolve(t);
    d2Only(r, 'a restart');
    return [
      writeStep(
        'restart',
        r,
        { command: 'write_register', args: { register: D2_RESTART_REG, value: 1 } },
        D2_RESTART_REG,
        1,
        'restart (register 0x00f0)',
      ),
    ];
  },
};
