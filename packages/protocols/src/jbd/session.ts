/** The JBD read cycle: 0x03 basic info, 0x04 cell voltages, 0x05 model string (optional). */
import type { Reading } from '@openbms/core';
import { sequentialSession } from '../util/session.js';
import type { ReadOptions, ReadSession, ReadStep } from '../types.js';
import { decodeReply } from './decode.js';
import { encodeRequest } from './encode.js';

function step(name: string, command: string, optional = false): ReadStep {
  const request = encodeRequest({ command });
  const register = request[2]!;
  const s: ReadStep = {
    name,
    request,
    // Replies echo the register in byte 1; an error reply (status 0x80) is still the answer.
    accepts: (frame) => frame.length >= 7 && frame[1] === register,
    complete: (frames) => frames.length >= 1,
  };
  if (optional) s.optional = true;
  return s;
}

export function jbdReadSession(opts: ReadOptions = {}): ReadSession {
  const invert = opts.invertCurrent === true;
  return sequentialSession({
    steps: [
      step('basic_info', 'read_basic_info'),
      step('cell_voltages', 'read_cell_voltages'),
      step('hardware_version', 'read_hardware_version', true),
    ],
    decode(s: ReadStep, bytes: Uint8Array, soFar: Reading): Reading {
      return decodeReply(bytes, {
        request: s.request,
        invertCurrent: invert,
        ...(soFar.cell_count !== undefined ? { cells: soFar.cell_count } : {}),
      });
    },
  });
}
