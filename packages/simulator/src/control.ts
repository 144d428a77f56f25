/**
 * The simulator's control console: one command per line (stdin of `openbms sim`), so faults
 * can be injected and cleared while it runs, and its true state inspected.
 */
import { isBmsError } from '@openbms/core';
import { FAULT_KINDS, formatFault, parseFault, type FaultKind, type SimBus } from './bus.js';

export const CONTROL_HELP = `commands:
  fault <kind[:arg][@address]>   inject a fault (${FAULT_KINDS.join(', ')})
  clear [kind]                   clear every fault, or those of one kind
  faults                         list active faults
  status [address]               the simulated packs' true state as JSON (one line)
  stats                          requests, replies, unanswered and faulted replies
  help                           this text`;

/** Executes one control line; returns the text to print (one line for status/stats). */
export function executeControl(bus: SimBus, line: string): string {
  const [cmd, ...args] = line.trim().split(/\s+/);
  try {
    switch (cmd) {
      case undefined:
      case '':
        return '';
      case 'fault': {
        if (!args[0]) return 'error: fault needs a spec, e.g. fault silent@2';
        const f = parseFault(args[0]);
        bus.addFault(f);
        return `fault ${formatFault(f)} active`;
      }
      case 'clear': {
        const kind = args[0] as FaultKind | undefined;
        if (kind !== undefined && !FAULT_KINDS.includes(kind))
          return `error: unknown fault kind "${kind}"`;
        bus.clearFaults(kind);
        return kind ? `${kind} faults cleared` : 'all faults cleared';
      }
      case 'faults':
        return bus.faults.length ? bus.faults.map(formatFault).join(' ') : 'no faults';
      case 'status': {
        bus.advance();
        const only = args[0] !== undefined ? Number(args[0]) : undefined;
        const packs = bus.packs.filter((p) => only === undefined || p.address === only);
        return JSON.stringify(
          packs.map((p) => ({
            address: p.address,
            time: new Date(p.time).toISOString(),
            ...p.snapshot(),
          })),
        );
      }
      case 'stats':
        return JSON.stringify(bus.stats);
      case 'help':
        return CONTROL_HELP;
      default:
        return `error: unknown command "${cmd}"\n${CONTROL_HELP}`;
    }
  } catch (e) {
    if (isBmsError(e)) return `error: ${e.message}`;
    throw e;
  }
}
