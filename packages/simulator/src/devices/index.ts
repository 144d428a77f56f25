import { BmsError } from '@openbms/core';
import { getProtocol } from '@openbms/protocols';
import type { DeviceProtocol } from '../types.js';
import { device as daly } from './daly/index.js';
import { device as dalyModbus } from './daly-modbus/index.js';
import { device as jk, deviceJk02_24s } from './jk/index.js';
import { device as pylontech } from './pylontech/index.js';
import { device as jbd } from './jbd/index.js';
import { device as pace, deviceEg4 as paceEg4 } from './pace/index.js';
import { device as seplos, deviceV3 as seplosV3 } from './seplos/index.js';

/** The families the simulator can speak, by protocol id. */
export const DEVICES: readonly DeviceProtocol[] = [
  daly,
  dalyModbus,
  jk,
  pylontech,
  pace,
  jbd,
  seplos,
];

/**
 * Device side of a family by id or alias (and record variant where the family has several
 * device layouts: JK02_24S units are older JK boards, Seplos v3 speaks Modbus); names the
 * families it serves.
 */
export function deviceFor(name: string, variant?: string): DeviceProtocol {
  const id = getProtocol(name).id;
  if (id === 'jk' && variant?.toUpperCase() === 'JK02_24S') return deviceJk02_24s;
  if (id === 'seplos' && variant !== undefined) {
    const v = variant.toLowerCase();
    if (v === 'v3') return seplosV3;
    if (v !== 'v2') {
      throw new BmsError('VARIANT_UNKNOWN', `seplos variants: v2, v3 (got "${variant}")`);
    }
  }
  if (id === 'pace' && variant !== undefined) {
    const v = variant.toLowerCase();
    if (v === 'v20-eg4') return paceEg4;
    if (v !== 'v25') {
      throw new BmsError('VARIANT_UNKNOWN', `pace variants: v25, v20-eg4 (got "${variant}")`);
    }
  }
  const d = DEVICES.find((x) => x.id === id);
  if (!d) {
    throw new BmsError(
      'PROTOCOL_UNKNOWN',
      `the simulator does not serve ${id}; it serves ${DEVICES.map((x) => x.id).join(', ')}`,
    );
  }
  return d;
}
