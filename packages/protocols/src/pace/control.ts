/**
 * Control and parameter operations of PACE (see README.md, "Control and parameters").
 *
 * v25: MOSFETs (0x9A / 0x9B), clock (0xB1 / 0xB2), every protection parameter block of
 * pace.md section 6 (read with the odd CID2, written whole with the even one), history
 * records (0xA1), inverter protocol (0xEB / 0xEC), shut-down (0x9C); and, resting on the
 * PACEex V3.1 document alone (so behind the pack's `allow_unverified`): calibration (0xA9..0xAD,
 * 0xA7, 0xBD), SOC through the remaining capacity (0xA7), erasing the history (0xB3),
 * restoring the defaults (0xA4) and the charge limiter start current (0xED / 0xEE).
 *
 * EG4 v20: the clock (0x4D / 0x4E); shut-down (0x95) rests on the ESPHome code alone.
 */
import { BmsError, calibration, ensure, type BmsRecord, type Reading } from '@openbms/core';
import type {
  CalibrationKind,
  CalibrationSpec,
  ControlOps,
  ControlStep,
  ControlTarget,
  InverterProtocolList,
  InverterProtocolSetting,
  ReadSession,
  ReadStep,
  RecordQuery,
} from '../types.js';
import { concatBytes } from '../util/bytes.js';
import { sequentialSession } from '../util/session.js';
import { DEFAULT_ADDRESS, encodeRequest } from './commands.js';
import { decodeReply } from './decode.js';
import {
  CAN_PROTOCOLS,
  CODE_UNCHANGED,
  PARAM_BLOCKS,
  RS485_PROTOCOLS,
  RTN_MEANINGS,
  type ParamBlock,
  type ParamField,
  type Variant,
} from './fields.js';
import { acceptsReply, checkAddress, checkVariant, rtnError, single } from './session.js';
import { fromParam, paramWire, wallIso } from './wire.js';

/** Why each single-source command is behind the unverified switch (pace.md section 3). */
const DOC24_ONLY = 'only the PACEex V3.1 document describes it; no capture confirms it';
const UNVERIFIED_V25 = {
  calibrate: `calibration (0xA9..0xAD, 0xA7, 0xBD): ${DOC24_ONLY}, and it gives no units`,
  setSoc: `SOC is set through the remaining capacity (0xA7): ${DOC24_ONLY}`,
  clearRecords: `erasing the history (0xB3): ${DOC24_ONLY}`,
  restoreDefaults: `restoring the defaults (0xA4): ${DOC24_ONLY}`,
} as const;

const hex2 = (v: number): string => v.toString(16).toUpperCase().padStart(2, '0');

const rtnText = (rtn: number): string =>
  `RTN 0x${hex2(rtn)} (${RTN_MEANINGS[rtn] ?? 'unknown return code'})`;

function target(t: ControlTarget): { adr: number; variant: Variant } {
  return { adr: checkAddress(t.address ?? DEFAULT_ADDRESS), variant: checkVariant(t.variant) };
}

const variantArgs = (variant: Variant): Record<string, string> =>
  variant === 'v25' ? {} : { variant };

/** One command transaction: its reply is an RTN 0 frame from the pack, or a refusal. */
function commandStep(
  name: string,
  adr: number,
  variant: Variant,
  args: Record<string, number | boolean | string> = {},
  what = name,
  optional = false,
): ControlStep {
  const all = { ...args, ...variantArgs(variant) };
  const request = encodeRequest({
    command: name,
    address: adr,
    ...(Object.keys(all).length ? { args: all } : {}),
  });
  const s: ControlStep = {
    name,
    request,
    accepts: (frame) => acceptsReply(frame, name, adr, variant),
    complete: single,
    result(frames) {
      ensure(frames.length > 0, 'FRAME_TRUNCATED', `${name}: no reply frame`);
      const reading = decodeReply(concatBytes(frames.slice(-1)), { request, variant });
      const raw = reading.raw ?? {};
      if (raw.error_response === true) {
        const rtn = Number(raw.rtn);
        throw new BmsError(
          'COMMAND_REFUSED',
          `pack at ADR ${adr} refused ${what}: ${rtnText(rtn)}`,
          { rtn, ...(raw.info_hex !== undefined ? { info_hex: raw.info_hex } : {}) },
        );
      }
      return { reading };
    },
  };
  if (optional) s.optional = true;
  return s;
}

/** A read step of a control session (parameters, clock, inverter protocol, records). */
function readStep(
  name: string,
  adr: number,
  variant: Variant,
  args: Record<string, number> = {},
  optional = false,
): ReadStep {
  const all = { ...args, ...variantArgs(variant) };
  const s: ReadStep = {
    name,
    request: encodeRequest({
      command: name,
      address: adr,
      ...(Object.keys(all).length ? { args: all } : {}),
    }),
    accepts: (frame) => acceptsReply(frame, name, adr, variant),
    complete: single,
  };
  if (optional) s.optional = true;
  return s;
}

// ---------------------------------------------------------------- MOSFETs, clock, shut-down

function setMos(t: ControlTarget, which: 'charge' | 'discharge', on: boolean): ControlStep[] {
  const { adr, variant } = target(t);
  return [
    commandStep(
      `${which}_mos`,
      adr,
      variant,
      { on },
      `to switch the ${which} MOSFET ${on ? 'on' : 'off'}`,
    ),
  ];
}

function setClock(t: ControlTarget, wallMs: number): ControlStep[] {
  const { adr, variant } = target(t);
  const name = variant === 'v25' ? 'set_clock' : 'eg4_set_clock';
  return [commandStep(name, adr, variant, { time: wallIso(wallMs) }, 'the clock')];
}

function readClock(t: ControlTarget): ReadSession {
  const { adr, variant } = target(t);
  const name = variant === 'v25' ? 'read_clock' : 'eg4_read_clock';
  return sequentialSession({
    steps: [readStep(name, adr, variant)],
    decode(s, bytes): Reading {
      const part = decodeReply(bytes, { request: s.request, variant });
      if (part.raw?.error_response === true) throw rtnError(s.name, part.raw);
      if (typeof part.raw?.clock_wall_ms !== 'number') {
        throw new BmsError(
          'DECODE_UNSUPPORTED',
          `the BMS clock holds no valid date (${String(part.raw?.clock_invalid_hex)})`,
        );
      }
      return part;
    },
  });
}

function shutdown(t: ControlTarget): ControlStep[] {
  const { adr, variant } = target(t);
  // The BMS may go to sleep before it answers: the step is optional (silence counts as sent).
  return [
    commandStep(
      variant === 'v25' ? 'shutdown' : 'eg4_shutdown',
      adr,
      variant,
      {},
      'to shut down',
      true,
    ),
  ];
}

function restoreDefaults(t: ControlTarget): ControlStep[] {
  const { adr, variant } = target(t);
  return [commandStep('restore_defaults', adr, variant, {}, 'to restore the default parameters')];
}

// ---------------------------------------------------------------- parameters

/** Catalog id -> the block and field that carry it. */
const WHERE = new Map<string, { block: ParamBlock; field: ParamField }>();
for (const block of PARAM_BLOCKS) {
  for (const field of block.fields) if (field.param) WHERE.set(field.param, { block, field });
}

export const WRITABLE: readonly string[] = [...WHERE.keys()];

/** Parameters whose block rests on one source, with why. */
const UNVERIFIED_PARAMETERS: Record<string, string> = Object.fromEntries(
  PARAM_BLOCKS.filter((b) => b.uncertain).flatMap((b) =>
    b.fields.flatMap((f) => (f.param ? [[f.param, b.uncertain!]] : [])),
  ),
);

function readParameters(t: ControlTarget): ReadSession {
  const { adr, variant } = target(t);
  ensure(variant === 'v25', 'COMMAND_UNSUPPORTED', 'PACE v20 parameters are not documented');
  return sequentialSession({
    // Blocks only one document describes may be missing on a firmware: optional.
    steps: PARAM_BLOCKS.map((b) =>
      readStep(`read_${b.name}`, adr, variant, {}, b.uncertain !== undefined),
    ),
    decode(step, bytes, soFar): Reading {
      const part = decodeReply(bytes, { request: step.request, variant });
      const raw = part.raw ?? {};
      if (raw.error_response === true) throw rtnError(step.name, raw);
      const before = soFar.raw ?? {};
      // mergeReading merges raw one level deep: keep the parameters and blocks of every step.
      part.raw = {
        parameters: { ...(before.parameters as object), ...(raw.parameters as object) },
        blocks: { ...(before.blocks as object), ...(raw.blocks as object) },
      };
      return part;
    },
  });
}

/**
 * The block's write INFO as arguments: the values written, else what the pack holds by now
 * (`target.snapshot.raw.parameters`, which the write path keeps current), else (fields that
 * are no catalog parameter: the function-enable bytes) the block as last read.
 */
function blockArgs(
  block: ParamBlock,
  values: Record<string, number>,
  t: ControlTarget,
): Record<string, number | boolean> {
  const raw = t.snapshot?.raw ?? {};
  const held = (raw.parameters ?? {}) as Record<string, number>;
  const blocks = (raw.blocks ?? {}) as Record<string, Record<string, number | boolean>>;
  const read = blocks[block.name];
  const args: Record<string, number | boolean> = {};
  for (const field of block.fields) {
    if (field.param) {
      const v = values[field.param] ?? held[field.param];
      if (v === undefined) {
        if (field.optional && read?.[field.key] === undefined) break;
        throw new BmsError(
          'INVALID_ARGUMENT',
          `0x${hex2(block.write)} carries ${field.param} too, and the pack's value is not known: read the parameters first`,
          { id: field.param },
        );
      }
      const rawValue = fromParam(field, v);
      // Carry the check in the catalog's terms: the field's range and resolution.
      paramWire(
        field.param,
        field.kind,
        rawValue,
        { range: 'PARAM_OUT_OF_RANGE', step: 'PARAM_STEP' },
        { id: field.param },
      );
      args[field.key] = rawValue;
    } else {
      const v = read?.[field.key];
      if (v === undefined) {
        throw new BmsError(
          'INVALID_ARGUMENT',
          `0x${hex2(block.write)} carries ${field.key}, which only a parameter read gives: read the parameters first`,
        );
      }
      args[field.key] = v;
    }
  }
  return args;
}

function writeParameters(t: ControlTarget, values: Record<string, number>): ControlStep[] {
  const { adr, variant } = target(t);
  const ids = Object.keys(values);
  ensure(ids.length > 0, 'INVALID_ARGUMENT', 'no parameters to write');
  const blocks: ParamBlock[] = [];
  for (const id of ids) {
    const at = WHERE.get(id);
    if (!at) throw new BmsError('PARAM_UNKNOWN', `pace cannot write "${id}"`, { id });
    if (!blocks.includes(at.block)) blocks.push(at.block);
  }
  // Every value is checked against its field before any frame exists.
  for (const id of ids) {
    const { field } = WHERE.get(id)!;
    paramWire(
      id,
      field.kind,
      fromParam(field, values[id]!),
      { range: 'PARAM_OUT_OF_RANGE', step: 'PARAM_STEP' },
      { id },
    );
  }
  return blocks.map((block) =>
    commandStep(
      `set_${block.name}`,
      adr,
      variant,
      blockArgs(block, values, t),
      `the ${block.name.replace(/_/g, ' ')} parameters`,
    ),
  );
}

// ---------------------------------------------------------------- records

export const RECORDS_PER_READ = 10;

function readRecords(t: ControlTarget, q: RecordQuery): ReadSession {
  const { adr, variant } = target(t);
  ensure(
    Number.isInteger(q.start) &&
      q.start >= 0 &&
      Number.isInteger(q.count) &&
      q.count >= 1 &&
      q.count <= RECORDS_PER_READ &&
      q.start + q.count - 1 <= 0xffff,
    'INVALID_ARGUMENT',
    `records ${q.start}..${q.start + q.count - 1}: start 0..65535, count 1..${RECORDS_PER_READ}`,
  );
  let ended = false;
  return sequentialSession({
    steps: Array.from(
      { length: q.count },
      (_, k) => () =>
        ended ? undefined : readStep('read_history', adr, variant, { index: q.start + k }),
    ),
    decode(step, bytes, soFar): Reading {
      const part = decodeReply(bytes, { request: step.request, variant });
      const raw = part.raw ?? {};
      if (raw.error_response === true) throw rtnError(step.name, raw);
      const records = [...((soFar.raw?.records ?? []) as BmsRecord[])];
      if (raw.record_empty === true) ended = true;
      else records.push(raw.record as BmsRecord);
      // Only the list goes into the result: a record is not the pack's state now.
      return { raw: { records, records_end: ended } };
    },
  });
}

function clearRecords(t: ControlTarget, kind: 'data' | 'alarm' | 'all'): ControlStep[] {
  const { adr, variant } = target(t);
  ensure(
    kind === 'all',
    'INVALID_ARGUMENT',
    'PACE erases all history records at once (0xB3): kind must be "all"',
  );
  return [commandStep('clear_history', adr, variant, {}, 'to erase the history records')];
}

// ---------------------------------------------------------------- inverter protocol

const option = ({
  code,
  name,
}: {
  code: number;
  name: string;
}): { code: number; name: string } => ({ code, name });

export const INVERTER_PROTOCOLS: InverterProtocolList = {
  can: CAN_PROTOCOLS.map(option),
  rs485: RS485_PROTOCOLS.map(option),
  auto: true,
};

function readInverterProtocol(t: ControlTarget): ReadSession {
  const { adr, variant } = target(t);
  return sequentialSession({
    steps: [readStep('read_inverter_protocol', adr, variant)],
    decode(s, bytes): Reading {
      const part = decodeReply(bytes, { request: s.request, variant });
      if (part.raw?.error_response === true) throw rtnError(s.name, part.raw);
      return part;
    },
  });
}

/**
 * 0xEC: CAN code, RS485 code, mode; a link not named is sent as 0xFF ("leave unchanged",
 * [DOC24]). Naming a protocol selects it (mode manual) unless the mode is given.
 */
function setInverterProtocol(t: ControlTarget, s: InverterProtocolSetting): ControlStep[] {
  const { adr, variant } = target(t);
  const mode = s.mode ?? (s.can !== undefined || s.rs485 !== undefined ? 'manual' : 'auto');
  return [
    commandStep(
      'set_inverter_protocol',
      adr,
      variant,
      {
        can_protocol: s.can ?? CODE_UNCHANGED,
        rs485_protocol: s.rs485 ?? CODE_UNCHANGED,
        protocol_mode: mode,
      },
      'the inverter protocol',
    ),
  ];
}

// ---------------------------------------------------------------- calibration

export const CALIBRATIONS: readonly CalibrationSpec[] = [
  { kind: 'total_voltage', min: 1, max: 65, step: 0.001 },
  { kind: 'current_zero', min: 0, max: 0, step: 1 },
  // [DOC24]: "(50, 15000)" and "(50, 600)" in the current's unit, 10 mA.
  { kind: 'charge_current', min: 0.5, max: 150, step: 0.01 },
  { kind: 'discharge_current', min: 0.5, max: 6, step: 0.01 },
  { kind: 'remaining_capacity', min: 0, max: 655.35, step: 0.01 },
  { kind: 'full_capacity', min: 1, max: 655.35, step: 0.01 },
  { kind: 'design_capacity', min: 1, max: 655.35, step: 0.01 },
  { kind: 'soc', min: 0, max: 100, step: 1 },
  { kind: 'cycles', min: 0, max: 65535, step: 1 },
];

/** 0xA7 carries remaining, full and design capacity at once: the others from the snapshot. */
function capacityStep(
  adr: number,
  variant: Variant,
  t: ControlTarget,
  change: Partial<Record<'remaining_ah' | 'full_ah' | 'design_ah', number>>,
): ControlStep {
  const s = t.snapshot;
  const pick = (k: 'remaining_ah' | 'full_ah' | 'design_ah'): number => {
    const v = change[k] ?? s?.[k];
    if (v === undefined) {
      throw new BmsError(
        'INVALID_ARGUMENT',
        `0xA7 carries ${k} too, and the pack's value is not known yet: read the pack first`,
      );
    }
    return Math.round(v * 100) / 100;
  };
  const args = {
    remaining_ah: pick('remaining_ah'),
    full_ah: pick('full_ah'),
    design_ah: pick('design_ah'),
  };
  ensure(
    args.remaining_ah <= args.full_ah,
    'INVALID_ARGUMENT',
    `remaining ${args.remaining_ah} Ah is above the full-charge capacity ${args.full_ah} Ah`,
  );
  return commandStep('set_capacity', adr, variant, args, 'the capacities');
}

function calibrate(t: ControlTarget, c: { kind: CalibrationKind; value: number }): ControlStep[] {
  const { adr, variant } = target(t);
  const spec = CALIBRATIONS.find((x) => x.kind === c.kind);
  if (!spec) throw new BmsError('COMMAND_UNSUPPORTED', `PACE cannot calibrate ${c.kind}`);
  const label = calibration(c.kind)?.label ?? c.kind;
  switch (c.kind) {
    case 'total_voltage':
      return [
        commandStep(
          'calibrate_total_voltage',
          adr,
          variant,
          { voltage_v: c.value },
          `the ${label} calibration`,
        ),
      ];
    case 'current_zero':
      return [commandStep('calibrate_current_zero', adr, variant, {}, `the ${label} calibration`)];
    case 'charge_current':
      return [
        commandStep(
          'calibrate_charge_current',
          adr,
          variant,
          { current_a: c.value },
          `the ${label} calibration`,
        ),
      ];
    case 'discharge_current':
      return [
        commandStep(
          'calibrate_discharge_current',
          adr,
          variant,
          { current_a: c.value },
          `the ${label} calibration`,
        ),
      ];
    case 'remaining_capacity':
      return [capacityStep(adr, variant, t, { remaining_ah: c.value })];
    case 'full_capacity':
      return [capacityStep(adr, variant, t, { full_ah: c.value })];
    case 'design_capacity':
      return [capacityStep(adr, variant, t, { design_ah: c.value })];
    case 'soc': {
      const full = t.snapshot?.full_ah;
      if (full === undefined)
        throw new BmsError(
          'INVALID_ARGUMENT',
          'SOC is set through the remaining capacity: the full-charge capacity is not known yet',
        );
      return [capacityStep(adr, variant, t, { remaining_ah: Math.round(full * c.value) / 100 })];
    }
    case 'cycles':
      return [commandStep('set_cycles', adr, variant, { cycles: c.value }, 'the cycle count')];
    default:
      throw new BmsError('COMMAND_UNSUPPORTED', `PACE cannot calibrate ${c.kind}`);
  }
}

function setSoc(t: ControlTarget, pct: number): ControlStep[] {
  return calibrate(t, { kind: 'soc', value: pct });
}

export const control: ControlOps = {
  setMos,
  setSoc,
  setClock,
  readClock,
  readParameters,
  writableParameters: WRITABLE,
  writeParameters,
  restoreDefaults,
  shutdown,
  recordKinds: ['data', 'alarm'],
  recordsPerRead: RECORDS_PER_READ,
  readRecords,
  clearRecords,
  inverterProtocols: INVERTER_PROTOCOLS,
  readInverterProtocol,
  setInverterProtocol,
  calibrations: CALIBRATIONS,
  calibrate,
  unverified: UNVERIFIED_V25,
  unverifiedParameters: UNVERIFIED_PARAMETERS,
};

/** EG4 LifePower4: only the clock and shut-down are known (pace.md section 10). */
export const controlEg4: ControlOps = {
  setClock,
  readClock,
  shutdown,
  unverified: {
    shutdown: 'EG4 0x95 shut-down: only the ESPHome code has it, no captured reply',
  },
};
