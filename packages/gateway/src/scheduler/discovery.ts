/**
 * Discovery (seed 002's automatic addressing, `openbms scan --port ...`): tries a short
 * read, the first required step of the family's read cycle, at each candidate address and
 * returns the addresses that answered, with what they said.
 */
import { BmsError, isBmsError, type Reading } from '@openbms/core';
import { getProtocol, type ProtocolDefinition, type ReadSession } from '@openbms/protocols';
import { Exchanger, createTransport, type LinkSettings, type Transport } from '@openbms/transport';
import { messageOf, requiredSteps } from './cycle.js';
import { busTiming, linkOf } from './timing.js';

export interface ScanHit {
  address: number;
  /** The decoded short read (one step: values of the family's first required reply). */
  reading: Reading;
}

export type ProbeOutcome = 'found' | 'silent' | 'invalid';

export interface ScanOptions {
  /** Reply timeout per address, ms (default: from the family's baud, see timing.ts). */
  timeoutMs?: number;
  gapMs?: number;
  /** Tries after the first per address (default 0: a bus scan is repeated, not retried). */
  retries?: number;
  variant?: string;
  /** Line settings (default: the family's link defaults); the baud sets the timing. */
  link?: Partial<LinkSettings>;
  /** Reuse a link's Exchanger (a BusPoller's, inside `exclusive`). */
  exchanger?: Exchanger;
  /** Progress per address; `invalid` = something answered but not with a valid reply. */
  onProbe?: (address: number, outcome: ProbeOutcome, detail?: string) => void;
}

/**
 * Where each family's packs usually sit. The ranges are facts about the families; they
 * belong in the protocol definitions (`LinkDefaults`), which this part may not edit.
 */
const SCAN_RANGES: Record<string, () => number[]> = {
  pylontech: () => range(2, 17),
  jk: () => range(1, 15),
  daly: () => range(0x40, 0x4f),
  'daly-modbus': () => [...range(0x81, 0x8f), 0xd2],
  seplos: () => range(0, 15),
};

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * Default candidate addresses: the family's usual range; for another family 1..16 when it
 * declares several packs per bus, else its default address alone (JBD frames carry none).
 */
export function defaultScanAddresses(def: ProtocolDefinition): number[] {
  const known = SCAN_RANGES[def.id];
  if (known) return known();
  return def.capabilities.multiDrop ? range(1, 16) : [def.link.defaultAddress];
}

function sessionFor(def: ProtocolDefinition, address: number, variant?: string): ReadSession {
  try {
    return def.readSession(variant !== undefined ? { address, variant } : { address });
  } catch (e) {
    throw new BmsError(
      'CONFIG_INVALID',
      `address ${address} (0x${address.toString(16)}) is not a ${def.id} address: ${messageOf(e)}`,
    );
  }
}

/**
 * Scans `addresses` one at a time on an open transport. Silent addresses are absent from the
 * result; a closed link throws (TRANSPORT_CLOSED); an address the family cannot have throws
 * CONFIG_INVALID before anything is sent.
 */
export async function scanBus(
  transport: Transport,
  def: ProtocolDefinition,
  addresses: readonly number[],
  opts: ScanOptions = {},
): Promise<ScanHit[]> {
  // Validate every address before the first byte goes out.
  for (const a of addresses) sessionFor(def, a, opts.variant);
  const timing = busTiming(linkOf(def, opts.link), {
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.gapMs !== undefined ? { gapMs: opts.gapMs } : {}),
  });
  const ex = opts.exchanger ?? new Exchanger(transport, def.createFramer());
  const hits: ScanHit[] = [];
  try {
    for (const address of addresses) {
      const session = requiredSteps(sessionFor(def, address, opts.variant));
      const step = session.next();
      if (!step) continue;
      try {
        await ex.transact(
          step,
          { timeoutMs: timing.timeoutMs, gapMs: timing.gapMs, retries: opts.retries ?? 0, address },
          (frames) => session.accept(step, frames),
        );
      } catch (e) {
        if (!isBmsError(e) || e.code === 'TRANSPORT_CLOSED' || e.code === 'TRANSPORT_WRITE_FAILED')
          throw e;
        opts.onProbe?.(address, e.code === 'TRANSPORT_TIMEOUT' ? 'silent' : 'invalid', e.message);
        continue;
      }
      const reading = session.result();
      reading.protocol = def.id;
      reading.address ??= address;
      hits.push({ address, reading });
      opts.onProbe?.(address, 'found');
    }
  } finally {
    if (!opts.exchanger) ex.dispose();
  }
  return hits;
}

export interface ScanPortOptions extends ScanOptions {
  endpoint: string;
  protocol: string;
  /** Candidates (default: defaultScanAddresses). */
  addresses?: readonly number[];
  openTransport?: (endpoint: string, settings: LinkSettings) => Transport;
}

/** `openbms scan --port ...`: opens the port, scans it, closes it. */
export async function scanPort(o: ScanPortOptions): Promise<ScanHit[]> {
  const def = getProtocol(o.protocol);
  const transport = (o.openTransport ?? createTransport)(o.endpoint, linkOf(def, o.link));
  await transport.open();
  try {
    return await scanBus(transport, def, o.addresses ?? defaultScanAddresses(def), o);
  } finally {
    await transport.close().catch(() => undefined);
  }
}
