/**
 * Request encoders and their inverse. Request.address is the HOST address byte (frame
 * byte 1: 0x40 for UART/RS485 tools, 0x80 used by some Bluetooth tools), not a bus address
 * of the BMS; it defaults to 0x40.
 */
import { BmsError, ensure } from '@openbms/core';
import type { Request } from '../types.js';
import { buildFrame, checkFrame, DATA, FRAME_LEN, hex2, BMS_ADDRESS } from './frame.js';
import { COMMAND_BY_DATA_ID, COMMAND_BY_ID, ID } from './commands.js';

export const DEFAULT_HOST_ADDRESS = 0x40;
/** Read requests carry 8 filler bytes: zeros (spec), or 0xAA (what dbus-serialbattery sends). */
const FILLERS = [0x00, 0xaa];
const CLOCK_FIELDS = ['year', 'month', 'day', 'hour', 'minute', 'second'] as const;
/** Valid range of each clock field (year is the full year; the wire carries year - 2000). */
const CLOCK_RANGE: Record<(typeof CLOCK_FIELDS)[number], [number, number]> = {
  year: [2000, 2255],
  month: [1, 12],
  day: [1, 31],
  hour: [0, 23],
  minute: [0, 59],
  second: [0, 59],
};

function hostAddress(address: number | undefined): number {
  const a = address ?? DEFAULT_HOST_ADDRESS;
  ensure(
    Number.isInteger(a) && a >= 0 && a <= 255 && a !== BMS_ADDRESS,
    'INVALID_ARGUMENT',
    `DALY host address must be a byte other than 0x01 (the BMS's own); got ${String(a)}`,
  );
  return a;
}

function intArg(args: Request['args'], name: string, min: number, max: number): number {
  const v = args?.[name];
  ensure(
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max,
    'INVALID_ARGUMENT',
    `argument ${name} must be an integer ${min}..${max} (got ${JSON.stringify(v)})`,
  );
  return v;
}

export function encodeDaly(req: Request): Uint8Array {
  const cmd = COMMAND_BY_ID.get(req.command);
  if (!cmd) {
    throw new BmsError(
      'COMMAND_UNSUPPORTED',
      `DALY A5 has no command "${req.command}"; known: ${[...COMMAND_BY_ID.keys()].join(', ')}`,
    );
  }
  const addr = hostAddress(req.address);
  const args = req.args;
  switch (cmd.dataId) {
    case ID.DSG_MOS:
    case ID.CHG_MOS: {
      const on = args?.on;
      ensure(typeof on === 'boolean', 'INVALID_ARGUMENT', `${cmd.id} needs args.on (boolean)`);
      return buildFrame(addr, cmd.dataId, [on ? 1 : 0]);
    }
    case ID.SET_SOC:
      return buildFrame(addr, cmd.dataId, socData(args));
    default: {
      // Reads and restart: only the filler byte is configurable.
      const fill = args?.fill ?? 0;
      ensure(
        typeof fill === 'number' && FILLERS.includes(fill),
        'INVALID_ARGUMENT',
        `args.fill must be 0 or 0xaa (170); got ${JSON.stringify(fill)}`,
      );
      return buildFrame(addr, cmd.dataId, new Array<number>(8).fill(fill));
    }
  }
}

/** 0x21 data: year - 2000, month, day, hour, minute, second, SOC x 10 (u16). */
function socData(args: Request['args']): number[] {
  const soc = args?.soc_pct;
  ensure(
    typeof soc === 'number' && Number.isFinite(soc) && soc >= 0 && soc <= 100,
    'INVALID_ARGUMENT',
    `set_soc needs args.soc_pct 0..100 (got ${JSON.stringify(soc)})`,
  );
  const tenths = Math.round(soc * 10);
  const data = [0, 0, 0, 0, 0, 0, tenths >> 8, tenths & 0xff];
  const given = CLOCK_FIELDS.filter((k) => args?.[k] !== undefined);
  if (given.length > 0) {
    ensure(
      given.length === CLOCK_FIELDS.length,
      'INVALID_ARGUMENT',
      `set_soc: give all of ${CLOCK_FIELDS.join(', ')} to set the clock, or none (missing: ${CLOCK_FIELDS.filter((k) => !given.includes(k)).join(', ')})`,
    );
    CLOCK_FIELDS.forEach((k, i) => {
      const [min, max] = CLOCK_RANGE[k];
      const v = intArg(args, k, min, max);
      data[i] = k === 'year' ? v - 2000 : v;
    });
  }
  return data;
}

export function parseDalyRequest(bytes: Uint8Array): Request {
  ensure(
    bytes.length === FRAME_LEN,
    bytes.length < FRAME_LEN ? 'FRAME_TRUNCATED' : 'FRAME_MALFORMED',
    `a DALY A5 request is ${FRAME_LEN} bytes, got ${bytes.length}`,
  );
  checkFrame(bytes, 0, 1);
  const address = bytes[1]!;
  ensure(
    address !== BMS_ADDRESS,
    'FRAME_MALFORMED',
    'address 0x01 is the BMS (a reply), not a host request',
  );
  const id = bytes[2]!;
  const cmd = COMMAND_BY_DATA_ID[id];
  if (!cmd)
    throw new BmsError('DECODE_UNSUPPORTED', `DALY A5 request with unknown data id 0x${hex2(id)}`);
  const d = (i: number): number => bytes[DATA + i]!;
  switch (id) {
    case ID.DSG_MOS:
    case ID.CHG_MOS: {
      ensure(d(0) <= 1, 'FRAME_MALFORMED', `${cmd.id}: data byte 0 must be 0 or 1, got ${d(0)}`);
      for (let i = 1; i < 8; i++)
        ensure(d(i) === 0, 'FRAME_MALFORMED', `${cmd.id}: data byte ${i} is not 0`);
      return { command: cmd.id, address, args: { on: d(0) === 1 } };
    }
    case ID.SET_SOC: {
      const tenths = (d(6) << 8) | d(7);
      ensure(tenths <= 1000, 'FRAME_MALFORMED', `set_soc: SOC ${tenths / 10} % is above 100`);
      const args: NonNullable<Request['args']> = { soc_pct: tenths / 10 };
      if (d(0) | d(1) | d(2) | d(3) | d(4) | d(5)) {
        CLOCK_FIELDS.forEach((k, i) => {
          const v = k === 'year' ? d(i) + 2000 : d(i);
          const [min, max] = CLOCK_RANGE[k];
          ensure(
            v >= min && v <= max,
            'FRAME_MALFORMED',
            `set_soc: clock field ${k} = ${v} is out of ${min}..${max}`,
          );
          args[k] = v;
        });
      }
      return { command: cmd.id, address, args };
    }
    default: {
      const fill = d(0);
      ensure(
        FILLERS.includes(fill),
        'FRAME_MALFORMED',
        `${cmd.id}: unexpected data byte 0x${hex2(fill)}`,
      );
      for (let i = 1; i < 8; i++) {
        ensure(d(i) === fill, 'FRAME_MALFORMED', `${cmd.id}: data bytes are not a uniform filler`);
      }
      return fill === 0
        ? { command: cmd.id, address }
        : { command: cmd.id, address, args: { fill } };
    }
  }
}
