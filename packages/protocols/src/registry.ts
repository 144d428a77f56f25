import { BmsError } from '@openbms/core';
import type { ProtocolDefinition } from './types.js';
import { definition as daly } from './daly/index.js';
import { definition as dalyModbus } from './daly-modbus/index.js';
import { definition as jk } from './jk/index.js';
import { definition as pylontech } from './pylontech/index.js';
import { definition as pace } from './pace/index.js';
import { definition as jbd } from './jbd/index.js';
import { definition as modbusRtu } from './modbus-rtu/index.js';
import { definition as seplos } from './seplos/index.js';

/** Every protocol family, in the order `openbms protocols` lists them. */
export const PROTOCOLS: readonly ProtocolDefinition[] = [
  daly,
  dalyModbus,
  jk,
  pylontech,
  pace,
  jbd,
  seplos,
  modbusRtu,
];

const BY_NAME = new Map<string, ProtocolDefinition>();
for (const p of PROTOCOLS) {
  for (const name of [p.id, ...p.aliases]) BY_NAME.set(name.toLowerCase(), p);
}

/** Looks a family up by id or alias; throws PROTOCOL_UNKNOWN naming the accepted ids. */
export function getProtocol(name: string): ProtocolDefinition {
  const p = BY_NAME.get(name.toLowerCase());
  if (!p) {
    throw new BmsError(
      'PROTOCOL_UNKNOWN',
      `unknown protocol "${name}"; known: ${PROTOCOLS.map((x) => x.id).join(', ')}`,
    );
  }
  return p;
}
