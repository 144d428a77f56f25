import { BmsError } from '@openbms/core';
import { getProtocol } from '@openbms/protocols';
import type { DeviceProtocol } from '../types.js';
import { device as daly } from './daly/index.js';
import { device as dalyModbus } from './daly-modbus/index.js';
import { device as jk } from './jk/index.js';
import { device as pylontech } from './pylontech/index.js';
import { device as jbd } from './jbd/index.js';

/** The families the simulator can speak, by protocol id. */
export const DEVICES: readonly DeviceProtocol[] = [daly, dalyModbus, jk, pylontech, jbd];

/** Device side of a family by id or alias; names the families the simulator serves. */
export function deviceFor(name: string): DeviceProtocol {
  const id = getProtocol(name).id;
  const d = DEVICES.find((x) => x.id === id);
  if (!d) {
    throw new BmsError(
      'PROTOCOL_UNKNOWN',
      `the simulator does not serve ${id}; it serves ${DEVICES.map((x) => x.id).join(', ')}`,
    );
  }
  return d;
}
