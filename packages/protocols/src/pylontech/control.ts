/**
 * Control and parameter operations of the Pylontech RS485 protocol (see README.md, "Control
 * and parameters").
 *
 * - readParameters: 0x47 system parameters (the twelve limits, read only) + 0x92
 *   charge/discharge management (the three limits the pack requests from the inverter).
 * - writeParameters: 0x94 set charge/discharge management, which always carries all four
 *   limits (charge / discharge voltage, charge / discharge current). What the caller does not
 *   change is taken from the pack's latest snapshot (its 0x92 values).
 *
 * Not offered: MOSFET switching (0x95 "turn off" shuts the module down, it is not a MOS
 * switch), SOC, clock, restore defaults, restart: the protocol has no such commands.
 */
import { BmsError, ensure, round, type Reading } from '@openbms/core';
import type { ControlOps, ControlStep, ControlTarget, ReadSession, ReadStep } from '../types.js';
import { concatBytes } from '../util/bytes.js';
import { sequentialSession } from '../util/session.js';
import { commandById, encodeRequest } from './commands.js';
import { decodeReply } from './decode.js';
import { RTN_MEANINGS } from './fields.js';
import { peekHeader } from './frame.js';
import { acceptsReply } from './session.js';

/** Catalog ids 0x94 writes, with their wire resolution (catalog unit per LSB). */
const WRITABLE = {
  charge_voltage_limit_v: { resolution: 0.001, unit: 'V', max: 0xffff * 0.001 },
  charge_current_limit_a: { resolution: 0.1, unit: 'A', max: 0x7fff * 0.1 },
  discharge_current_limit_a: { resolution: 0.1, unit: 'A', max: 0x8000 * 0.1 },
} as const;
type WritableId = keyof typeof WRITABLE;

const WRITABLE_IDS = Object.keys(WRITABLE) as WritableId[];

const isWritable = (id: string): id is WritableId => Object.hasOwn(WRITABLE, id);

function checkAddress(t: ControlTarget): number {
  const adr = t.address;
  ensure(
    Number.isInteger(adr) && adr >= 0 && adr <= 0xfe,
    'INVALID_ARGUMENT',
    `ADR must be 0..254 (got ${adr})`,
  );
  return adr;
}

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');

function rtnText(rtn: number): string {
  return `RTN 0x${hex2(rtn)} (${RTN_MEANINGS[rtn] ?? 'unknown return code'})`;
}

/** A step of readParameters: accepts a reply from ADR with the shape of `command`'s reply. */
function readStep(command: string, adr: number): ReadStep {
  const c = commandById(command)!;
  return {
    name: command,
    request: encodeRequest({ command, address: adr }),
    accepts: (frame) => acceptsReply(frame, c.cid2, adr),
    complete: (frames) => frames.length >= 1,
  };
}

/** Catalog values of the 0x92 reply (what the pack asks the inverter for). */
function managementParameters(part: Reading): Record<string, number> {
  const out: Record<string, number> = {};
  const raw = part.raw ?? {};
  if (part.charge_voltage_limit_v !== undefined) {
    out.charge_voltage_limit_v = round(part.charge_voltage_limit_v, 3);
  }
  // With charge / discharge disabled the pack requests 0 A whatever its limit is: that 0 is
  // not the parameter's value, so it is left out rather than reported.
  if (part.charge_current_limit_a !== undefined && raw.charge_enable !== false) {
    out.charge_current_limit_a = round(part.charge_current_limit_a, 1);
  }
  if (part.discharge_current_limit_a !== undefined && raw.discharge_enable !== false) {
    out.discharge_current_limit_a = round(Math.abs(part.discharge_current_limit_a), 1);
  }
  return out;
}

function readParameters(t: ControlTarget): ReadSession {
  const adr = checkAddress(t);
  return sequentialSession({
    steps: [readStep('system_parameters', adr), readStep('management_info', adr)],
    decode(step, bytes, soFar): Reading {
      const part = decodeReply(bytes, { request: step.request });
      const raw = part.raw ?? {};
      if (raw.error_response === true) {
        throw new BmsError(
          'DEVICE_ERROR_REPLY',
          `${step.name}: device returned ${rtnText(Number(raw.rtn))}`,
          { rtn: raw.rtn },
        );
      }
      const before = (soFar.raw?.parameters ?? {}) as Record<string, number>;
      let params: Record<string, number>;
      if (step.name === 'system_parameters') {
        // 0x47 current limits are the configured maxima (chg_oc_l1_a / dsg_oc_l1_a), not
        // the requested limits of the snapshot (those come from 0x92).
        delete part.charge_current_limit_a;
        delete part.discharge_current_limit_a;
        params = (raw.parameters ?? {}) as Record<string, number>;
      } else {
        params = managementParameters(part);
      }
      // mergeReading merges `raw` one level deep only: keep the parameters of both steps.
      part.raw = { ...raw, parameters: { ...before, ...params } };
      return part;
    },
  });
}

/** Wire integer of a catalog value; PARAM_STEP when the wire cannot carry it exactly. */
function toWire(id: WritableId, value: number): number {
  const w = WRITABLE[id];
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= w.max)) {
    throw new BmsError(
      'PARAM_OUT_OF_RANGE',
      `${id}: ${String(value)} ${w.unit} does not fit the 0x94 field (0..${round(w.max, 3)} ${w.unit})`,
      { id },
    );
  }
  const scaled = value / w.resolution;
  const n = Math.round(scaled);
  if (Math.abs(scaled - n) > 1e-6) {
    throw new BmsError(
      'PARAM_STEP',
      `${id}: ${value} ${w.unit} is not a multiple of the wire resolution ${w.resolution} ${w.unit}`,
      { id, resolution: w.resolution },
    );
  }
  return n;
}

/**
 * The value 0x94 must carry for `id` when the caller does not change it: the pack's current
 * request from the latest snapshot (0x92). A current limit the pack reports as 0 A because
 * that direction is disabled is not its limit, so it is not copied.
 */
function fromSnapshot(id: WritableId, s: Reading | undefined): number {
  const missing = (why: string): BmsError =>
    new BmsError(
      'INVALID_ARGUMENT',
      `0x94 always carries all four limits: give ${id} too (${why})`,
      { id },
    );
  if (!s) throw missing("no snapshot of the pack to take the pack's current value from");
  const raw = s.raw ?? {};
  if (id === 'charge_voltage_limit_v') {
    if (s.charge_voltage_limit_v === undefined) throw missing('the snapshot has no 0x92 values');
    return round(s.charge_voltage_limit_v, 3);
  }
  const charge = id === 'charge_current_limit_a';
  const v = charge ? s.charge_current_limit_a : s.discharge_current_limit_a;
  if (v === undefined) throw missing('the snapshot has no 0x92 values');
  const disabled = charge
    ? raw.charge_enable === false || s.charge_mos === false
    : raw.discharge_enable === false || s.discharge_mos === false;
  if (disabled) {
    throw missing(
      `${charge ? 'charging' : 'discharging'} is disabled, so the pack reports 0 A instead of its limit`,
    );
  }
  return round(Math.abs(v), 1);
}

function writeParameters(t: ControlTarget, values: Record<string, number>): ControlStep[] {
  const adr = checkAddress(t);
  const ids = Object.keys(values);
  ensure(ids.length > 0, 'INVALID_ARGUMENT', 'no parameters to write');
  for (const id of ids) {
    if (!isWritable(id)) {
      throw new BmsError(
        'PARAM_UNKNOWN',
        `pylontech cannot write "${id}": 0x94 carries only ${WRITABLE_IDS.join(', ')}` +
          ' (the 0x47 limits are read only)',
        { id },
      );
    }
  }
  const value = (id: WritableId): number => {
    const v = values[id];
    return v !== undefined ? v : fromSnapshot(id, t.snapshot);
  };
  // Converted (and checked) first, so a value the wire cannot carry fails before anything
  // else is looked at.
  const wire = {} as Record<WritableId, number>;
  for (const id of WRITABLE_IDS) wire[id] = toWire(id, value(id));

  // The discharge voltage limit has no catalog parameter: it is sent back unchanged.
  const dv = t.snapshot?.discharge_voltage_limit_v;
  if (dv === undefined) {
    throw new BmsError(
      'INVALID_ARGUMENT',
      "0x94 also carries the discharge voltage limit, which is taken from the pack's latest" +
        ' snapshot (0x92): read the pack first',
    );
  }
  const dvMv = Math.round(dv * 1000);
  ensure(
    dvMv >= 0 && dvMv <= 0xffff,
    'INVALID_ARGUMENT',
    `snapshot discharge voltage limit ${dv} V does not fit 0x94`,
  );
  if (wire.charge_voltage_limit_v <= dvMv) {
    throw new BmsError(
      'PARAM_INCONSISTENT',
      `charge_voltage_limit_v ${wire.charge_voltage_limit_v / 1000} V must be above the pack's` +
        ` discharge voltage limit ${dvMv / 1000} V`,
      { ids: ['charge_voltage_limit_v'] },
    );
  }

  const args = {
    charge_voltage_limit_v: wire.charge_voltage_limit_v / 1000,
    discharge_voltage_limit_v: dvMv / 1000,
    charge_current_limit_a: wire.charge_current_limit_a / 10,
    discharge_current_limit_a: -wire.discharge_current_limit_a / 10,
  };
  const request = encodeRequest({ command: 'set_management_info', address: adr, args });
  const name = 'set_management_info';
  return [
    {
      name,
      request,
      // Replies do not name their command: a 0x94 ack is an RTN 0 reply with empty INFO
      // from ADR, a refusal any RTN != 0 reply from ADR (request echoes are ignored).
      accepts(frame): boolean {
        if (!acceptsReply(frame, 0x94, adr)) return false;
        const h = peekHeader(frame)!;
        return h.cid2 !== 0 || h.lenid === 0;
      },
      complete: (frames) => frames.length >= 1,
      result(frames) {
        ensure(frames.length > 0, 'FRAME_TRUNCATED', `${name}: no reply frame`);
        const reading = decodeReply(concatBytes(frames.slice(-1)), { request });
        const raw = reading.raw ?? {};
        if (raw.error_response === true) {
          const rtn = Number(raw.rtn);
          throw new BmsError(
            'COMMAND_REFUSED',
            `pack at ADR ${adr} refused 0x94 set charge/discharge management: ${rtnText(rtn)}`,
            { rtn, request: args },
          );
        }
        return { reading };
      },
    },
  ];
}

export const control: ControlOps = {
  readParameters,
  writableParameters: WRITABLE_IDS,
  writeParameters,
};
