/**
 * The parity and stop bits a family allows (its `link.lineOptions`, else only its defaults),
 * and the one check the config schema, the bus setup and the web's choices share.
 */
import type { Parity, ProtocolDefinition, StopBits } from './types.js';

export const PARITIES: readonly Parity[] = ['none', 'even', 'odd'];
export const STOP_BITS: readonly StopBits[] = [1, 2];

export interface LineChoices {
  parity: readonly Parity[];
  stopBits: readonly StopBits[];
}

export function lineChoices(def: ProtocolDefinition): LineChoices {
  return {
    parity: def.link.lineOptions?.parity ?? [def.link.parity],
    stopBits: def.link.lineOptions?.stopBits ?? [def.link.stopBits],
  };
}

/** What is wrong with a parity / stop bits for a family, by field; empty when both fit. */
export function lineIssues(
  def: ProtocolDefinition,
  line: { parity?: Parity | undefined; stopBits?: StopBits | undefined },
): { field: 'parity' | 'stop_bits'; message: string }[] {
  const c = lineChoices(def);
  const fixed = `${def.link.dataBits}${def.link.parity[0]!.toUpperCase()}${def.link.stopBits}`;
  const out: { field: 'parity' | 'stop_bits'; message: string }[] = [];
  if (line.parity !== undefined && !c.parity.includes(line.parity))
    out.push({
      field: 'parity',
      message: `parity "${line.parity}" is not used by ${def.id} (${def.link.lineOptions ? `accepted: ${c.parity.join(', ')}` : `its line is ${fixed}`})`,
    });
  if (line.stopBits !== undefined && !c.stopBits.includes(line.stopBits))
    out.push({
      field: 'stop_bits',
      message: `stop bits ${line.stopBits} are not used by ${def.id} (${def.link.lineOptions ? `accepted: ${c.stopBits.join(', ')}` : `its line is ${fixed}`})`,
    });
  return out;
}
