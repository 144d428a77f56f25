/**
 * The full read cycle for one pack: 0x90, 0x91, 0x92, 0x93, 0x94, then 0x95 / 0x96 with
 * as many frames as 0x94's counts need, then 0x97 (optional) and 0x98.
 */
import { BmsError, type Reading } from '@openbms/core';
import { sequentialSession, type StepPlan } from '../util/session.js';
import type { ReadOptions, ReadSession, ReadStep } from '../types.js';
import { DATA, FRAME_LEN, hex2 } from './frame.js';
import { COMMAND_BY_DATA_ID, ID } from './commands.js';
import { CELLS_PER_FRAME, decodeDaly, MAX_CELLS, MAX_TEMPS, TEMPS_PER_FRAME } from './decode.js';
import { encodeDaly } from './encode.js';

/** A step whose reply is `frameCount` frames numbered 1..frameCount (1 = single-frame reply). */
function step(dataId: number, host: number, frameCount: number, optional = false): ReadStep {
  const cmd = COMMAND_BY_DATA_ID[dataId]!;
  const request = encodeDaly({ command: cmd.id, address: host });
  const s: ReadStep = {
    name: cmd.id,
    request,
    // The data id must match; a frame carrying our own host address is an echo of the
    // request (half-duplex adapters), not the reply.
    accepts: (frame) => frame.length === FRAME_LEN && frame[2] === dataId && frame[1] !== host,
    complete:
      frameCount <= 1
        ? (frames) => frames.length >= 1
        : (frames) => {
            let seen = 0;
            for (const f of frames) {
              const n = f[DATA]!;
              if (n >= 1 && n <= frameCount) seen |= 1 << n;
            }
            // Bits 1..frameCount all set.
            return seen === (1 << (frameCount + 1)) - 2;
          },
  };
  if (optional) s.optional = true;
  return s;
}

export function readDalySession(opts: ReadOptions): ReadSession {
  const host = opts.address ?? 0x40;
  // Validates the address once, with the encoder's coded error.
  encodeDaly({ command: 'pack_status', address: host });
  const steps: StepPlan[] = [
    step(ID.PACK, host, 1),
    step(ID.CELL_RANGE, host, 1),
    step(ID.TEMP_RANGE, host, 1),
    step(ID.MOS, host, 1),
    step(ID.STATUS, host, 1),
    (soFar) => {
      const cells = soFar.cell_count;
      if (cells === undefined || cells === 0 || cells > MAX_CELLS) return undefined;
      return step(ID.CELLS, host, Math.ceil(cells / CELLS_PER_FRAME));
    },
    (soFar) => {
      const sensors = soFar.temp_sensor_count;
      if (sensors === undefined || sensors === 0 || sensors > MAX_TEMPS) return undefined;
      return step(ID.TEMPS, host, Math.ceil(sensors / TEMPS_PER_FRAME));
    },
    step(ID.BALANCE, host, 1, true),
    step(ID.FAULTS, host, 1),
  ];
  return sequentialSession({
    steps,
    decode(st: ReadStep, bytes: Uint8Array, soFar: Reading): Reading {
      const want = st.request[2]!;
      if (bytes[2] !== want) {
        throw new BmsError(
          'FRAME_UNEXPECTED',
          `reply to ${st.name} carries data id 0x${hex2(bytes[2] ?? 0)}, expected 0x${hex2(want)}`,
        );
      }
      const r = decodeDaly(bytes, {
        cells: soFar.cell_count,
        tempSensors: soFar.temp_sensor_count,
        invertCurrent: opts.invertCurrent,
      });
      if (r.raw) delete r.raw.data_id;
      if (r.raw && 'frame_numbers' in r.raw) {
        r.raw[want === ID.CELLS ? 'cell_frame_numbers' : 'temp_frame_numbers'] =
          r.raw.frame_numbers;
        delete r.raw.frame_numbers;
      }
      return r;
    },
  });
}
